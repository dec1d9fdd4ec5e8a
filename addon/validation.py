"""What a setting may hold, said in the accountant's words.

Each check raises ``ValueError`` with a sentence meant for the person typing the value;
the setting's label is added by ``SettingSpec.validate``. The module config form and
``flask netsuite config set`` both go through ``SettingSpec.validate``, so a value one of
them refuses the other refuses too. Nothing here shows Python's own parser messages.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from datetime import date, datetime
from urllib.parse import urlparse

# NetSuite account ids: digits, or letters then digits (TSTDRV..., 'developer' accounts), with a
# sandbox or release-preview suffix after an underscore (1234567_SB1, 1234567_RP); the URL
# form uses a hyphen instead (docs/settings.md).
_ACCOUNT_ID = re.compile(r"^[A-Za-z]*[0-9]+(?:[_-](?:SB|RP)[0-9]*)?$", re.IGNORECASE)
# The most NetSuite allows any account (Ultimate tier with its 12 SuiteCloud Plus licenses).
MAX_ACCOUNT_CONCURRENCY = 140
# Where a successful connection test leaves the account's own limit (not a user setting).
ACCOUNT_LIMIT_KEY = "_netsuite_account_concurrency_limit"
NAME_VARIABLES = ("id", "login", "name", "email")
SEGMENTS = ("class", "department", "location", "terms")
_BRACED = re.compile(r"\{([^{}]*)\}")


def account_id(value: str) -> None:
    if not value:
        raise ValueError("enter the NetSuite account ID, e.g. 1234567 or 1234567_SB1 for a sandbox")
    if not _ACCOUNT_ID.match(value):
        raise ValueError(
            "this is not a NetSuite account ID: it looks like 1234567, or 1234567_SB1 for a sandbox "
            "(Setup > Company > Company Information shows it)"
        )


def known_account_limit() -> int | None:
    """The concurrency limit the last connection test read from NetSuite (None: not known)."""
    from addon.extension import session
    from addon.models import Setting

    row = session().get(Setting, ACCOUNT_LIMIT_KEY)
    return int(row.value) if row is not None and (row.value or "").isdigit() else None


def remember_account_limit(limit: int | None) -> None:
    from addon.extension import session
    from addon.models import Setting

    row = session().get(Setting, ACCOUNT_LIMIT_KEY)
    if limit is None:
        if row is not None:
            session().delete(row)
    else:
        row = row or Setting(key=ACCOUNT_LIMIT_KEY)
        row.value, row.encrypted = str(int(limit)), False
        session().add(row)
    session().commit()


def concurrency(value: int) -> None:
    limit = known_account_limit()
    upper = limit or MAX_ACCOUNT_CONCURRENCY
    if value < 1:
        raise ValueError("at least 1: with 0 nothing would ever be sent to NetSuite")
    if value > upper:
        if limit:
            raise ValueError(f"at most {limit}: that is all NetSuite allows for this account")
        raise ValueError(
            f"at most {MAX_ACCOUNT_CONCURRENCY}, the most any NetSuite account allows; "
            "test the NetSuite connection to learn this account's own limit"
        )


def hold_factor(value) -> None:
    if value < 0:
        raise ValueError("0 or more (0 turns the rule off), e.g. 100")
    if 0 < value < 2:
        raise ValueError("at least 2: below that ordinary documents would wait for confirmation")


def hold_months(value: int) -> None:
    if not 1 <= value <= 24:
        raise ValueError("between 1 and 24 months")


def retention_days(value: int) -> None:
    if value < 1:
        raise ValueError("at least 1 day")
    if value > 3660:
        raise ValueError("at most 3660 days (ten years)")


def name_pattern(value: str) -> None:
    if not value:
        raise ValueError("enter a pattern, e.g. {name} or {name} ({id})")
    if "<" in value or ">" in value:
        raise ValueError("no < or > here: a customer name is plain text, not markup")
    unknown = [v for v in _BRACED.findall(value) if v not in NAME_VARIABLES]
    if unknown:
        shown = ", ".join("{" + v + "}" for v in unknown)
        raise ValueError(
            f"unknown variable {shown}; use only {', '.join('{' + v + '}' for v in NAME_VARIABLES)}"
        )
    if _BRACED.sub("", value).count("{") or _BRACED.sub("", value).count("}"):
        raise ValueError("a brace is not closed: variables are written {name}")
    if not _BRACED.search(value):
        raise ValueError(
            "use at least one variable, e.g. {name}: otherwise every customer gets the same name"
        )


def segments(value: list[str]) -> None:
    unknown = [v for v in value if v not in SEGMENTS]
    if unknown:
        raise ValueError(f"{', '.join(unknown)} is not a segment; choose from {', '.join(SEGMENTS)}")


_EMAIL = re.compile(r"^[^@\s<>]+@[^@\s.<>]+(?:\.[^@\s.<>]+)+$")


def email(value: str) -> None:
    if value and not _EMAIL.match(value):
        raise ValueError(f"{value[:80]!r} is not an email address, e.g. accounts@example.com")


def email_list(value: list[str]) -> None:
    for each in value:
        email(each)


def port(value: int) -> None:
    if not 1 <= value <= 65535:
        raise ValueError("a port between 1 and 65535, usually 587 (STARTTLS) or 465 (SSL)")


def url(value: str) -> None:
    if not value:
        return
    parts = urlparse(value)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise ValueError("enter the full address, starting with https://")


def parse_date(raw: str) -> date | None:
    """YYYY-MM-DD (what a date picker sends); anything else is refused in words."""
    text = raw.strip()
    if not text:
        return None
    if not re.fullmatch(r"\d{4}-\d{2}-\d{2}", text):
        raise ValueError(f"write the date as YYYY-MM-DD, e.g. 2024-03-31 (not {text[:20]!r})")
    try:
        return datetime.strptime(text, "%Y-%m-%d").date()
    except ValueError:
        raise ValueError(f"{text} is not a date in the calendar") from None


def parse_int(raw: str) -> int:
    text = raw.strip()
    if not re.fullmatch(r"[+-]?\d+", text):
        raise ValueError(
            f"enter a whole number, e.g. 4 (not {text[:20]!r})" if text else "enter a whole number"
        )
    return int(text)


def among(values: list[str], options: Iterable[tuple[str, str]], what: str) -> list[str]:
    """``values`` as ids of ``options`` ((id, name) pairs); a name is accepted for its id."""
    by_id = {str(option_id): str(option_id) for option_id, _ in options}
    by_name = {name.casefold(): str(option_id) for option_id, name in options}
    chosen, unknown = [], []
    for value in values:
        found = by_id.get(str(value)) or by_name.get(str(value).casefold())
        if found is None:
            unknown.append(str(value))
        elif found not in chosen:
            chosen.append(found)
    if unknown:
        raise ValueError(f"billing has no {what} {', '.join(unknown)}; choose from the list billing gives")
    return chosen


def cron_expression(value: str) -> None:
    """A standard cron expression (five fields, or six with seconds last), as the scheduler reads it."""
    from croniter import croniter

    if not value:
        return
    fields = value.split()
    if len(fields) not in (5, 6) or not croniter.is_valid(value):
        raise ValueError(
            f"{value!r} is not a cron schedule: five fields, minute hour day month weekday, e.g. '0 2 * * *'"
        )


class OptionsUnavailable(Exception):
    """A billing list could not be read, so the values chosen from it cannot be checked."""


def billing_options(list_name: str) -> list[tuple[str, str]]:
    """(id, name) of each value of a billing list ('partners', 'payment_methods'), read now."""
    from addon.billing import BillingError, Partner, PaymentMethod
    from addon.sync.context import SyncContext

    try:
        billing = SyncContext.from_settings().billing
        items: Iterable[Partner | PaymentMethod]
        if list_name == "partners":
            items = billing.partners()
        elif list_name == "payment_methods":
            items = billing.payment_methods()
        else:
            raise ValueError(f"no billing list named {list_name!r}")
        return [(str(item.id), item.name) for item in items]
    except BillingError as exc:
        raise OptionsUnavailable(f"billing could not be asked for it ({exc})") from exc
