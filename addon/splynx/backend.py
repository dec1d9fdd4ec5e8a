"""Splynx registered as a billing backend: its settings and how a client is built from them.

The setting keys keep their ``splynx_`` names, so values saved before the registry existed
are read as they are.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from typing import Any
from urllib.parse import urlsplit

from addon import settings
from addon.billing_backends import BillingBackend, register_backend
from addon.settings import SettingError, SettingSpec

from .billing import SplynxBilling
from .client import SplynxClient
from .config import SplynxConfig
from .errors import SplynxConfigError

_URL_PATH = re.compile(r"^[A-Za-z0-9._~/%-]*$")
ACCOUNTING_ID_SETTING = "splynx_accounting_id_attribute"


def parse_url(raw: str) -> str:
    """``scheme://host[:port][/prefix]``: nothing a request could be steered or authenticated by."""
    text = raw.strip()
    if not text:
        return ""
    parts = urlsplit(text)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ValueError(
            "enter the address starting with https://, e.g. https://isp.splynx.app (host, port and path only)"
        )
    if parts.username or parts.password or "@" in parts.netloc:
        raise ValueError("may not carry a user name or password")
    if parts.query or parts.fragment or "?" in text or "#" in text:
        raise ValueError("may not carry a query (?…) or fragment (#…)")
    try:
        parts.port  # noqa: B018 - raises ValueError for a non-numeric port
    except ValueError:
        raise ValueError("has an invalid port") from None
    if not _URL_PATH.match(parts.path):
        raise ValueError("has a path with characters a path prefix does not use")
    return f"{parts.scheme}://{parts.netloc}{parts.path.rstrip('/')}"


def check_transport(url: str, allow_http: bool) -> None:
    """Plain http sends the API secret's signature and every customer in clear: only on
    loopback, or where an operator said so for a lab (``splynx_allow_http``)."""
    parts = urlsplit(url or "")
    if parts.scheme == "http" and not allow_http and not settings.is_loopback(parts.hostname):
        raise SettingError(
            "Splynx URL: use https:// (plain http is allowed only on this machine, "
            "or with 'Allow plain http to Splynx' switched on for a lab)"
        )


def _check(value_of: Callable[[str], Any]) -> None:
    check_transport(value_of("splynx_url"), value_of("splynx_allow_http"))


def build(values: Mapping[str, Any]) -> SplynxBilling:
    """A Splynx billing system from a settings snapshot; raises SplynxConfigError with the reason."""
    try:
        check_transport(values["splynx_url"], values.get("splynx_allow_http", False))
    except SettingError as exc:
        raise SplynxConfigError(str(exc)) from None
    config = SplynxConfig(
        base_url=values["splynx_url"],
        api_key=values["splynx_api_key"],
        api_secret=values["splynx_api_secret"],
    )
    return SplynxBilling(SplynxClient(config))


S = SettingSpec
SETTINGS = (
    S(
        "splynx_url",
        "Splynx URL",
        parse_url,
        "",
        "SPLYNX_URL",
        group="billing",
        help="https://host[:port] with an optional path prefix; no query, fragment or credentials",
    ),
    S(
        "splynx_allow_http",
        "Allow plain http to Splynx",
        settings.parse_bool,
        False,
        "SPLYNX_ALLOW_HTTP",
        group="billing",
        help="Only for a lab: the API key's signature and customer data then travel unencrypted",
    ),
    S("splynx_api_key", "Splynx API key", settings.parse_str, "", "SPLYNX_API_KEY", group="billing"),
    S(
        "splynx_api_secret",
        "Splynx API secret",
        settings.parse_str,
        "",
        "SPLYNX_API_SECRET",
        secret=True,
        group="billing",
    ),
    S(
        ACCOUNTING_ID_SETTING,
        "Splynx additional field for the NetSuite ID",
        settings.parse_str,
        "",
        group="billing",
        help="Name of an additional field you created in Splynx (optional). Customers, invoices, credit "
        "notes and payments whose module has a field of that name get the NetSuite internal ID in it",
    ),
)

SPLYNX = register_backend(
    BillingBackend(
        name="splynx",
        label="Splynx",
        settings=SETTINGS,
        build=build,
        external_id_prefix="splynx",
        credential_keys=("splynx_url", "splynx_api_key", "splynx_api_secret"),
        destination_keys=("splynx_url",),
        check=_check,
        accounting_id_setting=ACCOUNTING_ID_SETTING,
    )
)
