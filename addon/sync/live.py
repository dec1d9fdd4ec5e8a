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
from collections import deque
from collections.abc import Collection
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime
from typing import Any, cast
from urllib.parse import parse_qsl

from sqlalchemy import ColumnElement, Table, and_, func, insert, or_, select, update

from addon import settings
from addon.extension import session
from addon.models import HookEvent, LogEntry, SyncRun, utcnow
from addon.sync import entities
from addon.sync.exporter import (
    IDS_PER_LOOKUP,
    PAGE_SIZE,
    PAGES_AHEAD,
    ExportRun,
    IdFeed,
    report_deleted,
)
from addon.sync.ledger import RunLedger

# The entity types live sync covers, each with the operation that exports its waiting events.
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
# How often a live run looks for new events while its writes are in flight: a fraction of one
# NetSuite request, so a slot freed by a finished write is refilled before it idles for long.
POLL_SECONDS = 0.02
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
        return _deletes(self.action)


def _deletes(action: str | None) -> bool:
    return any(word in (action or "").lower() for word in DELETE_WORDS)


@dataclass(frozen=True)
class Claimed:
    """What a live run needs of one event it took."""

    id: int
    billing_id: str
    received_at: datetime
    is_delete: bool


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


@dataclass(frozen=True)
class Stored:
    """What became of a stored event: its entity and status."""

    entity: str | None
    status: str


def record_event(payload: dict[str, Any]) -> Stored:
    """Store an event (committed before the caller acknowledges it) and say what becomes of it.

    One INSERT and its commit, nothing read back: during a billing run's burst this is all the
    receiver does per event besides checking the signature.
    """
    event = interpret(payload)
    if event.entity is None:
        status = "unknown"
    elif not event.succeeded:
        status = "refused"
    elif not settings.get(f"live_{event.entity}"):
        status = "ignored"
    else:
        status = "waiting"
    session().execute(
        insert(cast(Table, HookEvent.__table__)).values(
            received_at=utcnow(),
            entity=event.entity,
            billing_id=event.billing_id,
            model=event.model or None,
            action=event.action or None,
            status=status,
            payload=payload,
        )
    )
    session().commit()
    return Stored(event.entity, status)


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


def claim(entity: str, run_id: int, *, own: bool = False, limit: int = PAGE_SIZE) -> list[Claimed]:
    """Give up to ``limit`` takeable events of ``entity`` to run ``run_id``, committed.

    ``own``: also those this run claimed in an earlier attempt (its first claim after an RQ
    retry). Selected, then updated by id: live runs of one entity never overlap (their lock),
    and the receiver only inserts, so nothing else changes these rows in between.
    """
    rows = session().execute(
        select(HookEvent.id, HookEvent.billing_id, HookEvent.action, HookEvent.received_at)
        .where(_takeable(entity, run_id if own else None))
        .order_by(HookEvent.id)
        .limit(limit)
    )
    claimed = [Claimed(row.id, row.billing_id, row.received_at, _deletes(row.action)) for row in rows]
    if claimed:
        session().execute(
            update(HookEvent)
            .where(HookEvent.id.in_([c.id for c in claimed]))
            .values(status="claimed", run_id=run_id)
            .execution_options(synchronize_session=False)
        )
        session().commit()
    return claimed


# --------------------------------------------------------------------------- the live run


def _gone(run: ExportRun, entity: str, billing_id: str) -> bool:
    """Whether billing confirms the record is deleted (a delete event is not taken on trust)."""
    return entities.get(entity).gone(run.ctx.billing, int(billing_id))


def export_targeted(run: ExportRun, entity: str, ids: Collection[str]) -> dict:
    """Export just the records ``ids`` of ``entity``, the way a full sync exports them."""
    return entities.get(entity).export_records(run, ids)


def _merge(total: dict, counts: dict) -> None:
    for key, value in counts.items():
        if isinstance(value, int):
            total[key] = total.get(key, 0) + value
        else:
            total[key] = value


def _read(lister, ids: list[str]) -> list:
    """The billing records of ``ids``, a lookup of IDS_PER_LOOKUP at a time (helper thread)."""
    page: list = []
    for start in range(0, len(ids), IDS_PER_LOOKUP):
        page += lister([int(i) for i in ids[start : start + IDS_PER_LOOKUP]])
    return page


class _Stream(IdFeed):
    """The events of one live run, streamed into its exports as they are claimed.

    A segment is one export (one :class:`ExportRun`, one bounded pool): while its writes are in
    flight it claims the events that arrive and feeds their records to the same pool, so a
    burst keeps every NetSuite slot busy. It ends once no event came for the gathering window.
    A record named again while its first export is in the segment waits for the next segment:
    its link is then written, so its content hash decides whether NetSuite hears of it again.
    An event is done when the segment that exported its record has committed.
    """

    def __init__(self, ledger: RunLedger, entity: str, window: float):
        self.ledger, self.entity, self.window = ledger, entity, window
        self.started = time.monotonic()
        self.own = True  # the first claim also takes this run's events of an earlier attempt
        self.later: list[Claimed] = []  # named again within a segment: for the next one
        self.events = self.deleted = 0
        self.backlog = False
        self.delays: list[float] = []

    # -- a segment

    def begin(self, run: ExportRun) -> bool:
        """Start a segment with the events held over and those waiting; False: nothing to do."""
        self.run = run
        self.named: set[str] = set()
        self.handled: set[str] = set()
        self.segment: list[Claimed] = []
        self.segment_started = utcnow()
        held, self.later = self.later, []
        self.fresh = self._sort(held + self._claim())
        return bool(self.segment)

    def finish(self) -> None:
        """The segment's export is over: its events are done, with their delays."""
        self.ledger.commit()
        logged = dict(
            session()
            .execute(
                select(LogEntry.billing_id, func.min(LogEntry.created_at))
                .where(
                    LogEntry.run_id == self.ledger.run.id,
                    LogEntry.entity == self.entity,
                    LogEntry.created_at >= self.segment_started,
                )
                .group_by(LogEntry.billing_id)
            )
            .all()
        )
        now = utcnow()
        self.delays += [
            ((logged.get(e.billing_id) or now) - e.received_at).total_seconds() for e in self.segment
        ]
        ids = [e.id for e in self.segment]
        for start in range(0, len(ids), PAGE_SIZE):
            session().execute(
                update(HookEvent)
                .where(HookEvent.id.in_(ids[start : start + PAGE_SIZE]))
                .values(status="done", processed_at=now)
                .execution_options(synchronize_session=False)
            )
        self.ledger.commit()

    # -- claiming

    def _claim(self) -> list[Claimed]:
        if time.monotonic() - self.started >= RUN_FOR_AT_MOST:
            return []
        claimed = claim(self.entity, self.ledger.run.id, own=self.own)
        self.own = False
        self.backlog = len(claimed) == PAGE_SIZE  # more are waiting: claim again without pausing
        self.events += len(claimed)
        return claimed

    def _sort(self, claimed: list[Claimed]) -> list[str]:
        """The ids to export now among ``claimed``; deletions Splynx confirms are reported."""
        now: dict[str, list[Claimed]] = {}
        for event in claimed:
            if event.billing_id in self.handled:
                self.later.append(event)
            else:
                now.setdefault(event.billing_id, []).append(event)
        fresh = []
        for billing_id in sorted(now, key=int):
            self.handled.add(billing_id)
            self.segment += now[billing_id]
            if any(e.is_delete for e in now[billing_id]) and _gone(self.run, self.entity, billing_id):
                report_deleted(self.run, self.entity, billing_id)
                self.deleted += 1
            else:
                fresh.append(billing_id)  # not deleted, or deleted and restored: export it
        self.named.update(fresh)
        return fresh

    # -- the feed

    def pages(self, lister):
        # Billing reads run a page or two ahead on a helper thread (billing HTTP only, no
        # database), as the full export's do: the pool never waits for Splynx's answer.
        reader = ThreadPoolExecutor(max_workers=1, thread_name_prefix="live-billing-read")
        ahead: deque[Future] = deque()
        quiet_since = time.monotonic()
        try:
            while True:
                fresh, self.fresh = self.fresh, []
                if fresh:
                    ahead.append(reader.submit(_read, lister, fresh))
                    quiet_since = time.monotonic()
                if ahead and (not fresh or ahead[0].done() or len(ahead) >= PAGES_AHEAD):
                    yield ahead.popleft().result()
                elif not ahead and time.monotonic() - quiet_since >= self.window:
                    return
                else:
                    yield []  # the export records what finished meanwhile
                if not self.backlog:
                    time.sleep(POLL_SECONDS)
                self.fresh = self._sort(self._claim())
        finally:
            reader.shutdown(wait=True, cancel_futures=True)

    def __contains__(self, billing_id: object) -> bool:
        return billing_id in self.named

    def __iter__(self):
        return iter(sorted(self.named, key=int))

    def __len__(self) -> int:
        return len(self.named)


def live_export(ctx, ledger: RunLedger, entity: str | None = None, **params) -> None:
    """Operation: export the records named by the waiting events of ``entity``, and those of
    the events that arrive while it works, streamed into the running export (:class:`_Stream`)."""
    entity = entity or ENTITY_OF_OPERATION[ledger.run.operation]
    stream = _Stream(ledger, entity, max(float(settings.get("live_debounce")), POLL_SECONDS))
    exported: dict = {}
    segments = 0
    while stream.begin(ExportRun(ctx, ledger)):
        segments += 1
        _merge(exported, export_targeted(stream.run, entity, stream))
        stream.finish()
    result: dict[str, Any] = {
        "entity": entity,
        "events": stream.events,
        "batches": segments,
        "exported": exported,
    }
    if stream.deleted:
        result["deleted_in_billing"] = stream.deleted
    if stream.delays:
        result["delay_median_s"] = round(statistics.median(stream.delays), 3)
        result["delay_max_s"] = round(max(stream.delays), 3)
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
        waiting={entity: waiting.get(entity, 0) for entity in OPERATIONS},
        ignored=counts.get("ignored", 0),
        unknown=counts.get("unknown", 0),
        refused=counts.get("refused", 0),
        recent=recent,
        enabled={entity: bool(settings.get(f"live_{entity}")) for entity in OPERATIONS},
    )
