"""Typed module settings: one table of specs, values from the database over the environment.

A value saved on the module config page (or with ``flask netsuite config set``)
overrides the environment variable named in its spec; secrets are stored
encrypted with a key derived from ``SECRET_KEY`` and never leave this module
except to build a client.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import date
from typing import Any

from flask import current_app

from addon import crypto
from addon.extension import session
from addon.models import Setting


class SettingError(ValueError):
    """A value that does not fit its setting; the message names the setting."""


def _parse_bool(raw: str) -> bool:
    lowered = raw.strip().lower()
    if lowered in {"1", "true", "yes", "on", "y", "t"}:
        return True
    if lowered in {"0", "false", "no", "off", "n", "f", ""}:
        return False
    raise ValueError(f"{raw!r} is not yes/no")


def _parse_int(raw: str) -> int:
    return int(raw.strip())


def _parse_date(raw: str) -> date | None:
    raw = raw.strip()
    return date.fromisoformat(raw) if raw else None


def _parse_list(raw: str) -> list[str]:
    return [part.strip() for part in raw.split(",") if part.strip()]


def _parse_str(raw: str) -> str:
    return raw.strip()


def _format(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "1" if value else "0"
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, list | tuple | set):
        return ",".join(str(v) for v in value)
    return str(value)


@dataclass(frozen=True)
class SettingSpec:
    key: str
    label: str
    parse: Callable[[str], Any]
    default: Any = None
    env: str | None = None
    secret: bool = False
    choices: tuple[str, ...] | None = None
    group: str = "sync"
    help: str = ""

    def coerce(self, raw: Any) -> Any:
        """Parse ``raw`` (text or an already-typed value) into this setting's type."""
        text = raw if isinstance(raw, str) else _format(raw)
        try:
            value = self.parse(text)
        except (ValueError, TypeError) as exc:
            raise SettingError(f"{self.label}: {exc}") from exc
        if self.choices and value not in self.choices:
            raise SettingError(f"{self.label}: must be one of {', '.join(self.choices)}")
        return value


S = SettingSpec
CRON_OPERATIONS = (
    "export_customers",
    "export_invoices",
    "export_credit_notes",
    "export_payments",
    "import_payments",
)
PAYMENT_DIRECTIONS = ("splynx_to_netsuite", "netsuite_to_splynx", "bidirectional")
AUTH_MODES = ("tba", "oauth2")

SPECS: tuple[SettingSpec, ...] = (
    # NetSuite connection
    S("netsuite_account_id", "NetSuite account ID", _parse_str, "", "NETSUITE_ACCOUNT_ID", group="netsuite"),
    S(
        "netsuite_auth_mode",
        "Authentication",
        _parse_str,
        "tba",
        "NETSUITE_AUTH_MODE",
        choices=AUTH_MODES,
        group="netsuite",
        help="Token-based (OAuth 1.0a) or OAuth 2.0 client credentials",
    ),
    S("netsuite_consumer_key", "Consumer key", _parse_str, "", "NETSUITE_CONSUMER_KEY", group="netsuite"),
    S(
        "netsuite_consumer_secret",
        "Consumer secret",
        _parse_str,
        "",
        "NETSUITE_CONSUMER_SECRET",
        secret=True,
        group="netsuite",
    ),
    S("netsuite_token_id", "Token ID", _parse_str, "", "NETSUITE_TOKEN_ID", group="netsuite"),
    S(
        "netsuite_token_secret",
        "Token secret",
        _parse_str,
        "",
        "NETSUITE_TOKEN_SECRET",
        secret=True,
        group="netsuite",
    ),
    S("netsuite_client_id", "OAuth 2.0 client ID", _parse_str, "", "NETSUITE_CLIENT_ID", group="netsuite"),
    S(
        "netsuite_certificate_id",
        "OAuth 2.0 certificate ID",
        _parse_str,
        "",
        "NETSUITE_CERTIFICATE_ID",
        group="netsuite",
    ),
    S(
        "netsuite_private_key",
        "OAuth 2.0 private key (PEM)",
        _parse_str,
        "",
        "NETSUITE_PRIVATE_KEY",
        secret=True,
        group="netsuite",
    ),
    S(
        "netsuite_base_url",
        "REST host override",
        _parse_str,
        "",
        "NETSUITE_BASE_URL",
        group="netsuite",
        help="Only for a proxy or the sandbox; paths and signing stay NetSuite's",
    ),
    S(
        "netsuite_concurrency",
        "Concurrent NetSuite requests",
        _parse_int,
        4,
        "NETSUITE_CONCURRENCY",
        group="netsuite",
        help="The account's concurrency limit minus one slot for other integrations",
    ),
    # Splynx connection
    S("splynx_url", "Splynx URL", _parse_str, "", "SPLYNX_URL", group="splynx"),
    S("splynx_api_key", "Splynx API key", _parse_str, "", "SPLYNX_API_KEY", group="splynx"),
    S(
        "splynx_api_secret",
        "Splynx API secret",
        _parse_str,
        "",
        "SPLYNX_API_SECRET",
        secret=True,
        group="splynx",
    ),
    S(
        "splynx_accounting_id_attribute",
        "Customer attribute for the NetSuite ID",
        _parse_str,
        "",
        group="splynx",
        help="Additional attribute that shows the NetSuite internal ID in Splynx (optional)",
    ),
    # Sync behaviour
    S(
        "partners_ignore",
        "Partners ignore list",
        _parse_list,
        [],
        help="Customers, documents and payments of these partners are never synced",
    ),
    S(
        "payment_methods_push",
        "Payment methods pushed to NetSuite",
        _parse_list,
        [],
        help="Empty means every method",
    ),
    S(
        "payment_direction",
        "Payments synchronization direction",
        _parse_str,
        "splynx_to_netsuite",
        choices=PAYMENT_DIRECTIONS,
    ),
    S("payments_without_documents", "Create payments without invoices/credit notes", _parse_bool, False),
    S("statement_grouping", "Payment statement grouping", _parse_str, "month", choices=("month", "day")),
    S(
        "customer_name_pattern",
        "Customer name pattern",
        _parse_str,
        "{name}",
        help="Variables: {id}, {login}, {name}, {email}",
    ),
    S(
        "export_from",
        "Export from date",
        _parse_date,
        None,
        help="Documents and payments dated before it are never exported",
    ),
    S(
        "import_from",
        "Import from date",
        _parse_date,
        None,
        help="NetSuite payments dated before it are never imported",
    ),
    S("rounding_item", "Rounding item", _parse_str, ""),
    S("subsidiary", "Subsidiary for new customers", _parse_str, ""),
    S("currency", "Currency for new customers", _parse_str, ""),
    S(
        "mandatory_segments",
        "Mandatory segments",
        _parse_list,
        [],
        help="Any of class, department, location, terms",
    ),
    S(
        "customer_segments",
        "Per-customer class, department, location and terms",
        _parse_bool,
        False,
        help="Read NetSuite ids from the customer additional attributes netsuite_class, "
        "netsuite_department, netsuite_location and netsuite_terms; the defaults apply where one is empty",
    ),
    # Cron toggles: all off by default, as in the add-on accountants know.
    *(
        S(f"cron_{op}", f"Cron: {op.replace('_', ' ')}", _parse_bool, False, group="cron")
        for op in CRON_OPERATIONS
    ),
)
SPEC_BY_KEY = {spec.key: spec for spec in SPECS}


def spec(key: str) -> SettingSpec:
    try:
        return SPEC_BY_KEY[key]
    except KeyError:
        raise SettingError(f"unknown setting {key!r}") from None


def _secret_key() -> str:
    return current_app.config["SECRET_KEY"]


def get(key: str) -> Any:
    """The effective value: saved value, else environment, else default."""
    item = spec(key)
    row = session().get(Setting, key)
    if row is not None and row.value is not None:
        raw = crypto.decrypt(_secret_key(), row.value) if row.encrypted else row.value
        return item.coerce(raw)
    if item.env and os.environ.get(item.env):
        return item.coerce(os.environ[item.env])
    return item.coerce(_format(item.default))


def source(key: str) -> str:
    """Where the effective value comes from: 'saved', 'environment' or 'default'."""
    item = spec(key)
    if session().get(Setting, key) is not None:
        return "saved"
    if item.env and os.environ.get(item.env):
        return "environment"
    return "default"


def put(key: str, value: Any, *, commit: bool = True) -> None:
    """Validate and save ``value``; secrets are encrypted before they reach the row."""
    item = spec(key)
    typed = item.coerce(value)
    text = _format(typed)
    row = session().get(Setting, key) or Setting(key=key)
    row.encrypted = item.secret
    row.value = crypto.encrypt(_secret_key(), text) if item.secret else text
    session().add(row)
    if commit:
        session().commit()


def put_many(values: dict[str, Any]) -> None:
    """Save several settings atomically: all validate, or none is written."""
    for key, value in values.items():
        put(key, value, commit=False)
    session().commit()


def clear(key: str) -> None:
    """Forget the saved value so the environment or default applies again."""
    row = session().get(Setting, spec(key).key)
    if row is not None:
        session().delete(row)
        session().commit()


def snapshot(keys: Iterable[str] | None = None) -> dict[str, Any]:
    """Every effective value (secrets included): for building clients, never for display."""
    return {key: get(key) for key in (keys or SPEC_BY_KEY)}


def masked(value: Any) -> str:
    """How a secret is shown: that it is set, never what it is."""
    return "••••••••" if value else ""


def display_value(key: str) -> str:
    value = get(key)
    return masked(value) if spec(key).secret else _format(value)
