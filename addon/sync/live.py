"""Live sync: Splynx webhook events become targeted, coalesced exports.

What Splynx sends, and which parts of it are confirmed or assumed, is in
docs/splynx-webhooks.md. An event names a record (model + id); the receiver stores it
(:func:`record_event`) and a live run of its entity type later takes every waiting event of
that type at once (:func:`live_export`): the records named are read from billing by id and go
through the same export as a full sync, so the payment direction, ignored partners, the
export-from date, the echo guard and the content-hash upsert all apply unchanged. A record
named by several events is exported once; an event delivered twice finds its record
unchanged. Plain Python: no HTTP, no job queue.
"""

from __future__ import annotations

import json
import re
import statistics
import time
from collections.abc import Collection
from dataclasses import dataclass
from datetime import datetime
from typing import Any, cast
from urllib.parse import parse_qsl

from sqlalchemy import ColumnElement, and_, func, or_, select, update

from addon import settings
from addon.billing import BillingNotFound, DocumentKind
from addon.extension import session
from addon.models import HookEvent, SyncRun, utcnow
from addon.sync.customers import customer_export
from addon.sync.documents import export_documents
from addon.sync.exporter import ExportRun, by_ids, report_deleted, run_export
from addon.sync.ledger import RunLedger
from addon.sync.payment_export import export_payment_records

ENTITIES = ("customer", "invoice", "credit_note", "payment")
OPERATIONS = {
    "customer": "live_customers",
    "invoice": "live_invoices",
    "credit_note": "live_credit_notes",
    "payment": "live_payments",
}
ENTITY_OF_OPERATION = {operation: entity for entity, operation in OPERATIONS.items()}
# The last part of a model's class name, lower-cased with separators dropped (docs/splynx-webhooks.md).
MODEL_WORDS = {
    "customer": "customer",
    "customers": "customer",
    "invoice": "invoice",
    "invoices": "invoice",
    "creditnote": "credit_note",
    "creditnotes": "credit_note",
    "payment": "payment",
    "payments": "payment",
}
DELETE_WORDS = ("delete", "remove", "destroy")
# A live run keeps taking the events that arrive while it works, but hands over after this long
# so a steady stream never keeps a full sync from starting.
RUN_FOR_AT_MOST = 120.0
# Events whose run ended without finishing them wait again; these statuses mean it ended.
ENDED = ("succeeded", "partial", "failed", "cancelled")


class BadPayload(ValueError):
    """A signed body that is neither a JSON object nor a form."""


# --------------------------------------------------------------------------- reading an event


def parse_body(raw: bytes, content_type: str) -> dict[str, Any]:
    """The JSON or form-encoded body as nested dicts (form keys like ``data[attributes][id]``)."""
    text = raw.decode("utf-8", errors="replace")
    if content_type == "application/json":
        try:
            payload = json.loads(text or "{}")
        except ValueError as exc:
            raise BadPayload(f"the body is not JSON: {exc}") from None
        if not isinstance(payload, dict):
            raise BadPayload("the body is not a JSON object")
        return payload
    payload = {}
    for key, value in parse_qsl(text, keep_blank_values=True):
        parts = [part for part in re.split(r"[\[\]]", key) if part]
        if not parts:
            continue
        node = payload
        for part in parts[:-1]:
            child = node.get(part)
            if not isinstance(child, dict):
                child = node[part] = {}
            node = child
        node[parts[-1]] = value
    return payload


def entity_of_model(model: Any) -> str | None:
    """The entity a Splynx model names, from the last part of its class name; None: not ours."""
    if not isinstance(model, str) or not model.strip():
        return None
    last = re.split(r"[\\/.:]", model.strip())[-1]
    return MODEL_WORDS.get(re.sub(r"[^a-z]", "", last.lower()))


@dataclass(frozen=True)
class Event:
    """What the add-on takes from one webhook."""

    entity: str | None
    billing_id: str | None
    model: str
    action: str
    succeeded: bool

    @property
    def is_delete(self) -> bool:
        return any(word in self.action.lower() for word in DELETE_WORDS)


def _text(value: Any) -> str:
    return "" if value is None else str(value).strip()


def interpret(payload: dict[str, Any]) -> Event:
    """The record an event names; an unknown model or a missing id leaves ``entity`` None."""
    data: dict[str, Any] = payload["data"] if isinstance(payload.get("data"), dict) else {}
    model, action = _text(data.get("model")), _text(data.get("action"))
    entity = entity_of_model(model)
    attributes: dict[str, Any] = data["attributes"] if isinstance(data.get("attributes"), dict) else {}
    billing_id = _text(attributes.get("id"))
    if not billing_id and entity == "customer":
        billing_id = _text(data.get("customer_id"))
    if not billing_id.isdigit():
        billing_id = ""
    result = _text(data.get("result")).lower()
    return Event(
        entity=entity if billing_id else None,
        billing_id=billing_id or None,
        model=model[:200],
        action=action[:40],
        succeeded=result in ("", "success", "ok"),
    )


def record_event(payload: dict[str, Any]) -> HookEvent:
    """Store an event (committed before the caller acknowledges it) and say what becomes of it."""
    event = interpret(payload)
    if event.entity is None:
        status = "unknown"
    elif not event.succeeded:
        status = "refused"
    elif not settings.get(f"live_{event.entity}"):
        status = "ignored"
    else:
        status = "waiting"
    row = HookEvent(
        entity=event.entity,
        billing_id=event.billing_id,
        model=event.model or None,
        action=event.action or None,
        status=status,
        payload=payload,
    )
    session().add(row)
    session().commit()
    return row


# --------------------------------------------------------------------------- waiting events


def _takeable(entity: str | None, run_id: int | None = None):
    """Events a live run may take: waiting, or claimed by a run that ended without them."""
    ended = select(SyncRun.id).where(SyncRun.status.in_(ENDED))
    claimed_by: list[ColumnElement[bool]] = [HookEvent.run_id.in_(ended)]
    if run_id is not None:
        claimed_by.append(HookEvent.run_id == run_id)  # this run's own earlier attempt (an RQ retry)
    condition = or_(HookEvent.status == "waiting", and_(HookEvent.status == "claimed", or_(*claimed_by)))
    return condition if entity is None else and_(HookEvent.entity == entity, condition)


def entities_waiting() -> set[str]:
    """Entity types with events a live run should take now."""
    rows = session().scalars(select(HookEvent.entity).where(_takeable(None)).distinct())
    return {row for row in rows if row}


def claim(entity: str, run_id: int) -> list[HookEvent]:
    """Give every takeable event of ``entity`` to run ``run_id`` (one UPDATE, then committed)."""
    session().execute(
        update(HookEvent)
        .where(_takeable(entity, run_id))
        .values(status="claimed", run_id=run_id)
        .execution_options(synchronize_session=False)
    )
    session().commit()
    return list(
        session().scalars(
            select(HookEvent)
            .where(HookEvent.run_id == run_id, HookEvent.status == "claimed")
            .order_by(HookEvent.id)
            .execution_options(populate_existing=True)
        )
    )


# --------------------------------------------------------------------------- the live run


def _gone(run: ExportRun, entity: str, billing_id: str) -> bool:
    """Whether billing confirms the record is deleted (a delete event is not taken on trust)."""
    billing = run.ctx.billing
    try:
        if entity == "customer":
            billing.get_customer(int(billing_id))
            return False
        if entity == "payment":
            billing.get_payment(int(billing_id))
            return False
        return billing.get_document(cast(DocumentKind, entity), int(billing_id)).is_deleted
    except BillingNotFound:
        return True


def export_targeted(run: ExportRun, entity: str, ids: Collection[str]) -> dict:
    """Export just the records ``ids`` of ``entity``, the way a full sync exports them."""
    if entity == "customer":
        run.ledger.phase("Exporting customers")
        excluded = run.ignored_partners()
        records = by_ids(
            lambda chunk: run.ctx.billing.customers(partner_ids_excluded=excluded, ids=chunk), ids
        )
        return run_export(run, customer_export(run), records, only=ids)
    if entity == "payment":
        return export_payment_records(run, ids)
    return export_documents(run, entity, ids)


def _merge(total: dict, counts: dict) -> None:
    for key, value in counts.items():
        if isinstance(value, int):
            total[key] = total.get(key, 0) + value
        else:
            total[key] = value


def live_export(ctx, ledger: RunLedger, entity: str | None = None, **params) -> None:
    """Operation: export the records named by the waiting events of ``entity``.

    Events arriving while it works are taken too, batch after batch, so a billing run's
    burst keeps the NetSuite slots busy instead of waiting for the next run.
    """
    entity = entity or ENTITY_OF_OPERATION[ledger.run.operation]
    started = time.monotonic()
    exported: dict = {}
    delays: list[float] = []
    events = batches = deleted = 0
    while time.monotonic() - started < RUN_FOR_AT_MOST:
        claimed = claim(entity, ledger.run.id)
        if not claimed:
            break
        batches += 1
        events += len(claimed)
        # A fresh per-run state per batch: a record changed again since the last batch is
        # looked at again (its content hash decides whether NetSuite hears of it).
        run = ExportRun(ctx, ledger)
        removed = {cast(str, e.billing_id) for e in claimed if interpret(e.payload or {}).is_delete}
        named = {cast(str, e.billing_id) for e in claimed} - removed
        for billing_id in sorted(removed, key=int):
            if _gone(run, entity, billing_id):
                report_deleted(run, entity, billing_id)
                deleted += 1
            else:
                named.add(billing_id)  # deleted and restored, or not deleted after all: export it
        if named:
            _merge(exported, export_targeted(run, entity, named))
        now = utcnow()
        delays += [(now - e.received_at).total_seconds() for e in claimed]
        session().execute(
            update(HookEvent)
            .where(HookEvent.id.in_([e.id for e in claimed]))
            .values(status="done", processed_at=now)
            .execution_options(synchronize_session=False)
        )
        ledger.commit()
    result: dict[str, Any] = {"entity": entity, "events": events, "batches": batches, "exported": exported}
    if deleted:
        result["deleted_in_billing"] = deleted
    if delays:
        result["delay_median_s"] = round(statistics.median(delays), 3)
        result["delay_max_s"] = round(max(delays), 3)
    ledger.set_result(result)


# --------------------------------------------------------------------------- what the dashboard shows


@dataclass(frozen=True)
class LiveStatus:
    last_event_at: datetime | None
    waiting: dict[str, int]
    ignored: int
    unknown: int
    refused: int
    recent: list[SyncRun]
    enabled: dict[str, bool]


def live_status(recent_runs: int = 5) -> LiveStatus:
    """When the last event came, what waits, what was set aside, and the last live runs."""
    counts = dict(session().execute(select(HookEvent.status, func.count()).group_by(HookEvent.status)).all())
    waiting = dict(
        session()
        .execute(select(HookEvent.entity, func.count()).where(_takeable(None)).group_by(HookEvent.entity))
        .all()
    )
    recent = list(
        session().scalars(
            select(SyncRun)
            .where(SyncRun.operation.in_(OPERATIONS.values()))
            .order_by(SyncRun.id.desc())
            .limit(recent_runs)
        )
    )
    return LiveStatus(
        last_event_at=session().scalar(select(func.max(HookEvent.received_at))),
        waiting={entity: waiting.get(entity, 0) for entity in ENTITIES},
        ignored=counts.get("ignored", 0),
        unknown=counts.get("unknown", 0),
        refused=counts.get("refused", 0),
        recent=recent,
        enabled={entity: bool(settings.get(f"live_{entity}")) for entity in ENTITIES},
    )
