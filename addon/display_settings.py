"""Parsers of the display settings: each refuses a value the pages could not use, in words."""

from __future__ import annotations

from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from babel import Locale, UnknownLocaleError

from addon.money import valid_currency


def currency(raw: str) -> str:
    text = raw.strip().upper()
    if text and valid_currency(text) is None:
        raise ValueError(f"“{raw.strip()}” is not a currency code, e.g. USD, EUR or GBP")
    return text


def locale(raw: str) -> str:
    text = raw.strip().replace("-", "_") or "en_US"
    try:
        return str(Locale.parse(text))
    except (UnknownLocaleError, ValueError):
        raise ValueError(f"“{raw.strip()}” is not a locale, e.g. en_US, en_GB or de_DE") from None


def timezone(raw: str) -> str:
    text = raw.strip() or "UTC"
    try:
        ZoneInfo(text)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValueError(
            f"“{raw.strip()}” is not a time zone, e.g. Europe/London or America/New_York"
        ) from None
    return text


def link_template(raw: str) -> str:
    text = raw.strip()
    if text and "{id}" not in text:
        raise ValueError(
            "the link needs {id} where the record's id goes, e.g. {host}/admin/customers/view?id={id}"
        )
    if text and not (text.startswith(("http://", "https://", "{host}"))):
        raise ValueError("the link must start with https://, http:// or {host}")
    try:
        text.format(host="", id="")
    except (KeyError, IndexError, ValueError):
        raise ValueError("only {host} and {id} can be used in a link") from None
    return text
