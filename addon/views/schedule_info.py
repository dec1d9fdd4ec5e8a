"""What the dashboard says about time: last runs and next runs.

A card's last run is the newer of the operation's own run and the full sync that ran it as a
phase. A cron schedule is standard cron evaluated in UTC (how RQ's cron computes due times);
the page says it in words and shows the next due time in the ISP's time zone and in UTC.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from sqlalchemy import select

from addon.extension import session
from addon.models import SyncRun, utcnow

# The key of each operation's counts in a full sync's result (addon/sync/full.py).
FULL_SYNC_PARTS = {
    "export_customers": "customers",
    "export_invoices": "invoices",
    "export_credit_notes": "credit_notes",
    "export_payments": "payments",
    "import_payments": "payment_import",
}
TRIGGER_WORDS = {"manual": "started by hand", "cron": "from cron", "cli": "from the command line",
                 "webhook": "live, from a Splynx webhook", "live": "live"}  # fmt: skip


@dataclass
class LastRun:
    run: SyncRun
    via_full_sync: bool
    counts: dict | None

    @property
    def how(self) -> str:
        trigger = TRIGGER_WORDS.get(self.run.trigger, self.run.trigger)
        return f"as part of full sync run {self.run.id}, {trigger}" if self.via_full_sync else trigger


def last_runs(operations) -> dict[str, LastRun]:
    """Per operation, its latest run whether it ran alone or as a phase of a full sync."""
    from addon.views.helpers import last_runs as own_runs

    own = own_runs(operations)
    full = (
        session()
        .scalars(select(SyncRun).where(SyncRun.operation == "sync").order_by(SyncRun.id.desc()).limit(1))
        .first()
    )
    found: dict[str, LastRun] = {}
    for name in operations:
        run = own.get(name)
        part = FULL_SYNC_PARTS.get(name)
        if full is not None and part and (run is None or full.id > run.id):
            result = (full.result or {}).get(part)
            if result is not None or full.status in ("queued", "running", "failed"):
                found[name] = LastRun(full, True, result if isinstance(result, dict) else None)
                continue
        if run is not None:
            found[name] = LastRun(run, False, run.counts)
    return found


# --------------------------------------------------------------------------- schedules


def isp_zone() -> tuple[ZoneInfo, str]:
    from addon import settings

    name = (settings.get("display_timezone") or "UTC").strip() or "UTC"
    try:
        return ZoneInfo(name), name
    except (ZoneInfoNotFoundError, ValueError):
        return ZoneInfo("UTC"), "UTC"


@dataclass
class NextRun:
    expression: str
    words: str
    enabled: bool
    at_utc: datetime | None = None
    at_local: datetime | None = None
    zone: str = "UTC"


def describe_cron(expression: str) -> str:
    from cron_descriptor import ExpressionDescriptor, FormatException, Options

    options = Options()
    options.use_24hour_time_format = True
    try:
        return ExpressionDescriptor(expression, options).get_description() + " UTC"
    except (FormatException, ValueError, IndexError):
        return f"cron “{expression}” (UTC)"


def next_run(operation: str, now: datetime | None = None) -> NextRun | None:
    """The operation's schedule, or None when it has no cron expression at all."""
    from croniter import CroniterError, croniter

    from addon import settings
    from addon.extension import cron_expression

    if f"cron_{operation}" not in settings.SPEC_BY_KEY:
        return None
    expression = cron_expression(operation)
    if not expression:
        return None
    enabled = bool(settings.get(f"cron_{operation}"))
    zone, zone_name = isp_zone()
    info = NextRun(expression, describe_cron(expression), enabled, zone=zone_name)
    if enabled:
        start = (now or utcnow()).replace(tzinfo=UTC)
        try:
            info.at_utc = croniter(expression, start).get_next(datetime)
        except (CroniterError, ValueError, KeyError):
            info.words = f"cron “{expression}” is not a valid schedule"
            return info
        info.at_local = info.at_utc.astimezone(zone)
    return info
