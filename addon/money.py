"""Amounts as an accountant reads them: in their currency, through Babel's CLDR data.

One place decides how money looks on every page, in CSV exports and in CLI summaries:
the currency's own number of decimals, the locale's grouping and symbol. Billing records
carry no currency of their own (Splynx keeps one per installation), so the currency is the
``display_currency`` setting, else the ISO code of the NetSuite currency chosen for new
customers, else the account's only currency; without any, amounts keep two decimals and
say no currency rather than guess one.
"""

from __future__ import annotations

from decimal import Decimal, InvalidOperation
from typing import Any

from babel import Locale, UnknownLocaleError
from babel.numbers import format_currency, format_decimal, get_currency_precision, is_currency

DEFAULT_LOCALE = "en_US"


def as_decimal(value: Any) -> Decimal | None:
    """``value`` as a Decimal (text, int or Decimal; floats through their shortest text)."""
    if value is None or value == "":
        return None
    if isinstance(value, Decimal):
        return value
    try:
        return Decimal(str(value))
    except (InvalidOperation, ValueError):
        return None


def valid_currency(code: str | None) -> str | None:
    """``code`` upper-cased when CLDR knows it as a currency, else None."""
    code = (code or "").strip().upper()
    return code if len(code) == 3 and is_currency(code) else None


def valid_locale(name: str | None) -> str:
    try:
        return str(Locale.parse((name or DEFAULT_LOCALE).strip().replace("-", "_")))
    except (UnknownLocaleError, ValueError, TypeError):
        return DEFAULT_LOCALE


def format_money(value: Any, currency: str | None = None, locale: str | None = None) -> str:
    """``value`` as money: '$1,200,053,765.48', '¥1,200', or '166.30' when no currency is known."""
    amount = as_decimal(value)
    if amount is None:
        return ""
    locale = valid_locale(locale)
    code = valid_currency(currency)
    if code is None:
        return format_decimal(amount, format="#,##0.00", locale=locale, decimal_quantization=True)
    # currency_digits: the currency's own decimals (JPY none, BHD three), rounded half-even.
    return format_currency(amount, code, locale=locale, currency_digits=True)


def precision(currency: str | None) -> int:
    code = valid_currency(currency)
    return get_currency_precision(code) if code else 2


def configured_currency() -> str | None:
    """The ISO code amounts are shown in (see the module docstring for the order)."""
    from sqlalchemy import select

    from addon import settings
    from addon.extension import session
    from addon.models import ListCache

    explicit = valid_currency(settings.get("display_currency"))
    if explicit:
        return explicit
    chosen = settings.get("currency")
    query = select(ListCache).where(ListCache.kind == "currency", ListCache.inactive.is_(False))
    rows = session().scalars(query).all()
    if chosen:
        rows = [row for row in rows if row.netsuite_id == str(chosen)]
    if len(rows) != 1:
        return None
    row = rows[0]
    return valid_currency((row.extra or {}).get("symbol")) or valid_currency(row.name)


def configured_locale() -> str:
    from addon import settings

    return valid_locale(settings.get("display_locale"))


class Formatter:
    """The currency and locale of one request or one CLI command, read once."""

    def __init__(self, currency: str | None = None, locale: str | None = None):
        self.currency = valid_currency(currency)
        self.locale = valid_locale(locale)

    @classmethod
    def from_settings(cls) -> Formatter:
        return cls(configured_currency(), configured_locale())

    def __call__(self, value: Any, currency: str | None = None) -> str:
        return format_money(value, currency or self.currency, self.locale)

    @property
    def label(self) -> str:
        return self.currency or "no currency set"
