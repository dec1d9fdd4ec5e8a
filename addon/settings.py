"""Typed module settings: one table of specs, values from the database over the environment.

A value saved on the module config page (or with ``flask netsuite config set``)
overrides the environment variable named in its spec; secrets are stored
encrypted with a key derived from ``SECRET_KEY`` and never leave this module
except to build a client.
"""

from __future__ import annotations

import ipaddress
import os
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import date
from decimal import Decimal, InvalidOperation
from typing import Any
from urllib.parse import urlsplit

from flask import current_app

from addon import crypto, validation
from addon.extension import session
from addon.models import Setting


class SettingError(ValueError):
    """A value that does not fit its setting; the message names the setting."""


class SecretUnreadable(SettingError):
    """A stored secret the current ``SECRET_KEY`` cannot decrypt: it must be entered again."""


UNREADABLE_TEXT = "unreadable: enter it again"
_URL_PATH = re.compile(r"^[A-Za-z0-9._~/%-]*$")


class _Unreadable:
    """Stands in a snapshot for a secret that cannot be decrypted; the client builders refuse it."""

    def __repr__(self) -> str:
        return "<unreadable secret>"

    def __bool__(self) -> bool:
        return True


UNREADABLE = _Unreadable()


def _parse_bool(raw: str) -> bool:
    lowered = raw.strip().lower()
    if lowered in {"1", "true", "yes", "on", "y", "t"}:
        return True
    if lowered in {"0", "false", "no", "off", "n", "f", ""}:
        return False
    raise ValueError(f"answer yes or no (not {raw[:20]!r})")


_parse_int = validation.parse_int
_parse_date = validation.parse_date


def _parse_list(raw: str) -> list[str]:
    return [part.strip() for part in raw.split(",") if part.strip()]


def _parse_str(raw: str) -> str:
    return raw.strip()


def _parse_splynx_url(raw: str) -> str:
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


def is_loopback(host: str | None) -> bool:
    if not host:
        return False
    if host.lower() == "localhost" or host.lower().endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def check_splynx_transport(url: str, allow_http: bool) -> None:
    """Plain http sends the API secret's signature and every customer in clear: only on
    loopback, or where an operator said so for a lab (``splynx_allow_http``)."""
    parts = urlsplit(url or "")
    if parts.scheme == "http" and not allow_http and not is_loopback(parts.hostname):
        raise SettingError(
            "Splynx URL: use https:// (plain http is allowed only on this machine, "
            "or with 'Allow plain http to Splynx' switched on for a lab)"
        )


def _parse_decimal(raw: str) -> Decimal:
    try:
        return Decimal(raw.strip())
    except InvalidOperation as exc:
        raise ValueError(f"enter a number, e.g. 100 (not {raw.strip()[:20]!r})") from exc


LIVE_WINDOW_DEFAULT = Decimal("0.1")


def _parse_window(raw: str) -> Decimal:
    """Seconds between 0 and 60; blank means the default."""
    if not raw.strip():
        return LIVE_WINDOW_DEFAULT
    seconds = _parse_decimal(raw)
    if not Decimal("0") <= seconds <= Decimal("60"):
        raise ValueError("must be between 0 and 60 seconds")
    return seconds


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
    # Computes the default from other settings (given ``get``) when nothing is saved or set.
    derive: Callable[[Callable[[str], Any]], Any] | None = None
    # What the value must also satisfy (addon.validation): refused on saving, never on reading.
    check: Callable[[Any], None] | None = None
    # The billing list the values are chosen from ('partners', 'payment_methods'), see ``validate``.
    options: str | None = None

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

    def validate(self, raw: Any, options: list[tuple[str, str]] | None = None) -> Any:
        """``coerce`` plus the spec's check; ``options`` ((id, name) pairs loaded from billing)
        restrict a list setting to the values billing offers. Used by the form and the CLI."""
        value = self.coerce(raw)
        try:
            if self.check is not None:
                self.check(value)
            if options is not None and self.options:
                value = validation.among(value, options, OPTION_WORDS[self.options])
        except ValueError as exc:
            raise SettingError(f"{self.label}: {exc}") from exc
        return value


OPTION_WORDS = {"partners": "partner", "payment_methods": "payment method"}


S = SettingSpec
LIVE_ENTITIES = (
    ("customer", "customer"),
    ("invoice", "invoice"),
    ("credit_note", "credit note"),
    ("payment", "payment"),
)
PAYMENT_DIRECTIONS = ("splynx_to_netsuite", "netsuite_to_splynx", "bidirectional")
AUTH_MODES = ("tba", "oauth2")


def _default_auth_mode(value_of: Callable[[str], Any]) -> str:
    """OAuth 2.0 for new setups; token-based auth where only TBA credentials exist, so a setup
    that predates OAuth 2.0 as the default keeps working without naming its mode."""
    tba = value_of("netsuite_consumer_key") and value_of("netsuite_token_id")
    return "tba" if tba and not value_of("netsuite_client_id") else "oauth2"


def _display_specs() -> tuple[SettingSpec, ...]:
    from addon import display_settings as parse
    from addon.deep_links import DEFAULT_TEMPLATES, SYSTEMS, setting_key

    links = tuple(
        S(
            setting_key(system, entity),
            f"{SYSTEMS[system]} link: {entity.replace('_', ' ')}",
            parse.link_template,
            "",
            group="display",
            help=f"Empty: {template}",
        )
        for system, templates in DEFAULT_TEMPLATES.items()
        for entity, template in templates.items()
    )
    return (
        S("display_currency", "Currency of amounts", parse.currency, "", group="display",
          help="ISO code such as USD or EUR; empty: the NetSuite currency for new customers"),
        S("display_locale", "Number format (locale)", parse.locale, "en_US", group="display",
          help="en_US, en_GB, de_DE, ...: thousands separators and decimal mark"),
        S("display_timezone", "The ISP's time zone", parse.timezone, "UTC", group="display",
          help="IANA name such as Europe/London; schedules run in UTC and are shown in both"),
        *links,
    )  # fmt: skip


DISPLAY_SPECS = _display_specs()

SPECS: tuple[SettingSpec, ...] = (
    # NetSuite connection
    S(
        "netsuite_account_id",
        "NetSuite account ID",
        _parse_str,
        "",
        "NETSUITE_ACCOUNT_ID",
        group="netsuite",
        check=validation.account_id,
    ),
    S(
        "netsuite_auth_mode",
        "Authentication",
        _parse_str,
        "oauth2",
        "NETSUITE_AUTH_MODE",
        choices=AUTH_MODES,
        group="netsuite",
        help="OAuth 2.0 client credentials (machine to machine) for new integrations; "
        "token-based authentication (OAuth 1.0a) for existing ones",
        derive=_default_auth_mode,
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
        check=validation.url,
    ),
    S(
        "netsuite_concurrency",
        "Concurrent NetSuite requests",
        _parse_int,
        4,
        "NETSUITE_CONCURRENCY",
        group="netsuite",
        help="The account's concurrency limit minus one slot for other integrations",
        check=validation.concurrency,
    ),
    # Splynx connection
    S(
        "splynx_url",
        "Splynx URL",
        _parse_splynx_url,
        "",
        "SPLYNX_URL",
        group="splynx",
        help="https://host[:port] with an optional path prefix; no query, fragment or credentials",
    ),
    S(
        "splynx_allow_http",
        "Allow plain http to Splynx",
        _parse_bool,
        False,
        "SPLYNX_ALLOW_HTTP",
        group="splynx",
        help="Only for a lab: the API key's signature and customer data then travel unencrypted",
    ),
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
        "Splynx additional field for the NetSuite ID",
        _parse_str,
        "",
        group="splynx",
        help="Name of an additional field you created in Splynx (optional). Customers, invoices, credit "
        "notes and payments whose module has a field of that name get the NetSuite internal ID in it",
    ),
    # Sync behaviour
    S(
        "partners_ignore",
        "Partners ignore list",
        _parse_list,
        [],
        help="Customers, documents and payments of these partners are never synced",
        options="partners",
    ),
    S(
        "payment_methods_push",
        "Payment methods pushed to NetSuite",
        _parse_list,
        [],
        help="Empty means every method",
        options="payment_methods",
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
        check=validation.name_pattern,
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
    S(
        "tax_mode",
        "Tax mode",
        _parse_str,
        "suitetax_override",
        choices=("suitetax_override", "legacy"),
        help="SuiteTax with override books the billing system's own tax (REST needs SuiteTax); "
        "legacy sends per-line tax codes, for old accounts only (docs/netsuite-accounts.md)",
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
        check=validation.segments,
    ),
    S(
        "customer_segments",
        "Per-customer class, department, location and terms",
        _parse_bool,
        False,
        help="Read NetSuite ids from the customer additional attributes netsuite_class, "
        "netsuite_department, netsuite_location and netsuite_terms; the defaults apply where one is empty",
    ),
    # How pages, CSV exports and CLI summaries show money, times and links (addon/money.py,
    # addon/deep_links.py, docs/deep-links.md).
    *DISPLAY_SPECS,
    S(
        "amount_hold_factor",
        "Hold documents above (times the usual amount)",
        _parse_decimal,
        Decimal("100"),
        help="An invoice or credit note whose total is more than this many times the median of the "
        "last months waits for confirmation on the problems page; 0 turns the rule off",
        check=validation.hold_factor,
    ),
    S(
        "amount_hold_months",
        "Months that set the usual amount",
        _parse_int,
        3,
        check=validation.hold_months,
    ),
    S(
        "log_retention_days",
        "Keep the log for (days)",
        _parse_int,
        180,
        help="Runs and log rows older than this are deleted by the sweeper (the last run of each "
        "operation is always kept)",
        check=validation.retention_days,
    ),
    # Alerts (addon/alerts.py): by email, by a Slack-compatible webhook, or both.
    S(
        "alert_email_to",
        "Send alerts to (email addresses)",
        _parse_list,
        [],
        group="alerts",
        help="Comma-separated; a connection needing attention, a failed run and a daily digest of new problems",
        check=validation.email_list,
    ),
    S("smtp_host", "SMTP server", _parse_str, "", "NETSUITE_ADDON_SMTP_HOST", group="alerts"),
    S("smtp_port", "SMTP port", _parse_int, 587, group="alerts", check=validation.port),
    S(
        "smtp_security",
        "SMTP security",
        _parse_str,
        "starttls",
        choices=("starttls", "ssl", "none"),
        group="alerts",
    ),
    S("smtp_username", "SMTP user name", _parse_str, "", group="alerts"),
    S("smtp_password", "SMTP password", _parse_str, "", secret=True, group="alerts"),
    S(
        "smtp_from",
        "Alerts come from (email address)",
        _parse_str,
        "",
        group="alerts",
        check=validation.email,
    ),
    S(
        "alert_webhook_url",
        "Webhook URL (Slack-compatible)",
        _parse_str,
        "",
        secret=True,
        group="alerts",
        help='Receives {"text": ...} as JSON, as Slack\'s incoming webhooks do; kept encrypted, it holds a token',
        check=validation.url,
    ),
    # Live sync from Splynx webhooks (docs/splynx-webhooks.md): off by default like the cron toggles.
    S(
        "splynx_hook_secret",
        "Splynx webhook secret",
        _parse_str,
        "",
        "SPLYNX_HOOK_SECRET",
        secret=True,
        group="live",
        help="The secret of the webhook in Splynx (Config → Integrations → Hooks); "
        "requests not signed with it are refused",
    ),
    *(
        S(f"live_{entity}", f"Live: {word}s", _parse_bool, False, group="live")
        for entity, word in LIVE_ENTITIES
    ),
    S(
        "live_debounce",
        "Live: gathering window (seconds)",
        _parse_window,
        LIVE_WINDOW_DEFAULT,
        group="live",
        help="Events arriving within this window after the first become one run per record type",
    ),
)
SPEC_BY_KEY = {spec.key: spec for spec in SPECS}


def cron_toggle(operation: str) -> SettingSpec:
    """The switch of a scheduled operation (addon/sync/operations.py): off by default, as in
    the add-on accountants know."""
    return S(f"cron_{operation}", f"Cron: {operation.replace('_', ' ')}", _parse_bool, False, group="cron")


def add_specs(*added: SettingSpec) -> None:
    """Settings declared by another registry (a scheduled operation's toggle), once each."""
    global SPECS
    new = tuple(item for item in added if item.key not in SPEC_BY_KEY)
    SPECS = (*SPECS, *new)
    SPEC_BY_KEY.update({item.key: item for item in new})


def spec(key: str) -> SettingSpec:
    try:
        return SPEC_BY_KEY[key]
    except KeyError:
        raise SettingError(f"unknown setting {key!r}") from None


def _secret_key() -> str:
    return current_app.config["SECRET_KEY"]


def get(key: str) -> Any:
    """The effective value: saved value, else environment, else default.

    Raises ``SecretUnreadable`` for a saved secret the current ``SECRET_KEY`` cannot decrypt."""
    item = spec(key)
    row = session().get(Setting, key)
    if row is not None and row.value is not None:
        if row.encrypted:
            try:
                raw = crypto.decrypt(_secret_key(), row.value)
            except crypto.SecretUnreadable:
                raise SecretUnreadable(f"{item.label}: {UNREADABLE_TEXT}") from None
        else:
            raw = row.value
        return item.coerce(raw)
    if item.env and os.environ.get(item.env):
        return item.coerce(os.environ[item.env])
    if item.derive is not None:
        return item.coerce(item.derive(get))
    return item.coerce(_format(item.default))


def source(key: str) -> str:
    """Where the effective value comes from: 'saved', 'environment' or 'default'."""
    item = spec(key)
    if session().get(Setting, key) is not None:
        return "saved"
    if item.env and os.environ.get(item.env):
        return "environment"
    return "default"


# Where each system's secrets were entered for: a secret is only ever sent to the destination
# it was saved with, so moving the destination forgets the secrets unless the same save
# re-enters them.
DESTINATIONS = {
    "splynx": ("splynx_url",),
    "netsuite": ("netsuite_account_id", "netsuite_base_url"),
}


def _secrets_of(group: str) -> list[str]:
    return [item.key for item in SPECS if item.secret and item.group == group]


def _moved_systems(typed: dict[str, Any]) -> list[str]:
    moved = []
    for group, keys in DESTINATIONS.items():
        if any(key in typed and _format(typed[key]) != _format(get(key)) for key in keys):
            moved.append(group)
    return moved


def _write(key: str, typed: Any) -> None:
    item = spec(key)
    text = _format(typed)
    row = session().get(Setting, key) or Setting(key=key)
    row.encrypted = item.secret
    row.value = crypto.encrypt(_secret_key(), text) if item.secret else text
    session().add(row)


def put(key: str, value: Any, *, commit: bool = True, options: list[tuple[str, str]] | None = None) -> None:
    """Validate and save ``value``; secrets are encrypted before they reach the row."""
    put_many({key: value}, commit=commit, options={key: options} if options is not None else None)


def put_many(
    values: dict[str, Any], *, commit: bool = True, options: dict[str, list[tuple[str, str]]] | None = None
) -> None:
    """Save several settings atomically: all validate, or none is written.

    A changed Splynx URL, NetSuite account id or REST host forgets that system's saved
    secrets not re-entered in the same call; one only the environment supplies must be."""
    typed = {key: spec(key).validate(value, (options or {}).get(key)) for key, value in values.items()}
    if "splynx_url" in typed or "splynx_allow_http" in typed:
        url = typed["splynx_url"] if "splynx_url" in typed else get("splynx_url")
        allow = typed["splynx_allow_http"] if "splynx_allow_http" in typed else get("splynx_allow_http")
        check_splynx_transport(url, allow)
    forget = []
    for group in _moved_systems(typed):
        for key in _secrets_of(group):
            if key in typed:
                continue
            if session().get(Setting, key) is not None:
                forget.append(key)
            elif os.environ.get(spec(key).env or ""):
                raise SettingError(
                    f"{spec(key).label}: enter it again with the new destination "
                    "(the one in the environment was given for the old one)"
                )
    for key, value in typed.items():
        _write(key, value)
    for key in forget:
        session().delete(session().get(Setting, key))
    if commit:
        session().commit()


def clear(key: str) -> None:
    """Forget the saved value so the environment or default applies again."""
    row = session().get(Setting, spec(key).key)
    if row is not None:
        session().delete(row)
        session().commit()


def snapshot(keys: Iterable[str] | None = None) -> dict[str, Any]:
    """Every effective value (secrets included): for building clients, never for display.

    An undecryptable secret is ``UNREADABLE`` here; the client builders refuse it by name."""
    values = {}
    for key in keys or SPEC_BY_KEY:
        try:
            values[key] = get(key)
        except SecretUnreadable:
            values[key] = UNREADABLE
    return values


def masked(value: Any) -> str:
    """How a secret is shown: that it is set, never what it is."""
    return "••••••••" if value else ""


def secret_state(key: str) -> str:
    """'set', 'not set' or 'unreadable: enter it again', for display next to a secret's input."""
    try:
        return "set" if get(key) else "not set"
    except SecretUnreadable:
        return UNREADABLE_TEXT


def display_value(key: str) -> str:
    try:
        value = get(key)
    except SecretUnreadable:
        return UNREADABLE_TEXT
    return masked(value) if spec(key).secret else _format(value)
