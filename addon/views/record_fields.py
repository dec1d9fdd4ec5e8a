"""A record's fields as last sent to NetSuite next to what an export would send now."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from addon.billing import BillingError
from addon.netsuite import NetSuiteError
from addon.sync import record_actions
from addon.sync.context import SyncContext

MAX_FIELDS = 200


@dataclass
class FieldRow:
    path: str
    sent: str | None
    now: str | None

    @property
    def changed(self) -> bool:
        return self.sent != self.now


def flatten(value: Any, prefix: str = "") -> dict[str, str]:
    """{'item.items[0].amount': '10', ...}: nested bodies as one line per leaf."""
    out: dict[str, str] = {}
    if isinstance(value, dict):
        for key in sorted(value):
            out.update(flatten(value[key], f"{prefix}.{key}" if prefix else str(key)))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            out.update(flatten(item, f"{prefix}[{index}]"))
    else:
        out[prefix] = "" if value is None else str(value)
    return out


@dataclass
class Fields:
    rows: list[FieldRow]
    sent_known: bool
    now_error: str | None

    @property
    def changes(self) -> list[FieldRow]:
        return [row for row in self.rows if row.changed]


def sent_and_now(entity: str, billing_id: str, item, link) -> Fields:
    sent = flatten(link.sent_fields) if link is not None and link.sent_fields else {}
    now, error = {}, None
    try:
        payload, skipped = record_actions.preview(SyncContext.from_settings(), entity, item)
    except (BillingError, NetSuiteError, LookupError, ValueError) as exc:
        payload, skipped = None, f"could not be prepared: {exc}"
    if payload is not None:
        now = flatten(payload)
    else:
        error = skipped
    paths = sorted(set(sent) | set(now))[:MAX_FIELDS]
    rows = [FieldRow(path, sent.get(path), now.get(path) if payload is not None else None) for path in paths]
    return Fields(rows, bool(sent), error)
