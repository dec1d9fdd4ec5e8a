"""Records: every billing record with its NetSuite twin, and one page per record.

The list reads billing page by page (``after`` cursors, kept in ``trail`` so paging goes
both ways); a state filter reads the ledger instead, since states are ours, and fetches the
page's billing records by id. A text search looks for a number, name, login, email or id.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from itertools import islice
from math import ceil
from typing import Any

from flask import abort, flash, redirect, render_template, request, url_for
from sqlalchemy import func, or_, select

from addon.billing import BillingError, BillingNotFound
from addon.extension import session
from addon.forms import ActionForm
from addon.models import Link, LogEntry, ProblemRecord
from addon.netsuite import NetSuiteError
from addon.sync import entities, record_actions
from addon.sync.context import SyncContext
from addon.sync.entities import Words
from addon.views import blueprint

RECORDS_PER_PAGE = 50
# A text search reads billing records until it has a page of matches or has read this many.
SEARCH_SCAN_LIMIT = 5000
READ_ERRORS = (BillingError, NetSuiteError)
STATES = {
    "synced": "Synced",
    "failed": "Failed",
    "held_back": "Held back",
    "ignored": "Ignored",
}
LINKED = ("synced", "paired")
HISTORY_ROWS = 200


# --------------------------------------------------------------------------- what a record is


@dataclass
class Row:
    """One billing record as the list and the record page show it."""

    entity: str
    billing_id: str
    item: object | None
    link: Link | None
    last: LogEntry | None
    held: bool = False

    @property
    def state(self) -> str:
        link = self.link
        if link is not None and link.status == "ignored":
            return "ignored"
        if link is not None and link.netsuite_id and link.status in LINKED:
            return "synced"
        if link is not None and link.status == "deleted_in_billing":
            return "deleted_in_billing"
        if self.last is not None and self.last.outcome == "failed":
            return "failed"
        if self.held or (self.last is not None and self.last.outcome == "skipped"):
            return "held_back"
        return "not_synced"

    @property
    def state_label(self) -> str:
        return {**STATES, "deleted_in_billing": "Deleted in billing", "not_synced": "Not synced yet"}[
            self.state
        ]

    @property
    def reason(self) -> str:
        if self.state == "ignored":
            assert self.link is not None  # "ignored" is a link's status
            return self.link.last_error or ""
        if self.state in ("failed", "held_back", "deleted_in_billing"):
            return (
                (self.link.last_error if self.link and self.link.last_error else None)
                or (self.last.message if self.last else "")
                or ""
            )
        return ""

    @property
    def netsuite_id(self) -> str | None:
        return self.link.netsuite_id if self.link else None


def describe(entity: str, item) -> Words:
    """The words and the amount that identify a billing record."""
    if item is None:
        return Words(title="", detail="", amount=None, date=None, customer_id=None)
    return entities.get(entity).describe(item)


def _matches(entity: str, item, text: str) -> bool:
    words = describe(entity, item)
    haystack = [str(item.id), words["title"], words["detail"], *entities.get(entity).search_words(item)]
    return any(text in (value or "").casefold() for value in haystack)


# --------------------------------------------------------------------------- ledger lookups


def _last_entries(entity: str, ids: list[str]) -> dict[str, LogEntry]:
    """The latest export outcome of each record (local actions such as 'ignore' aside)."""
    if not ids:
        return {}
    latest = (
        select(func.max(LogEntry.id))
        .where(LogEntry.entity == entity, LogEntry.billing_id.in_(ids), LogEntry.direction != "local")
        .group_by(LogEntry.billing_id)
    )
    return {e.billing_id: e for e in session().scalars(select(LogEntry).where(LogEntry.id.in_(latest)))}


def _held(entity: str, ids: list[str]) -> set[str]:
    if not ids:
        return set()
    query = select(ProblemRecord.billing_id).where(
        ProblemRecord.entity == entity, ProblemRecord.billing_id.in_(ids)
    )
    return set(session().scalars(query))


def build_rows(entity: str, items_by_id: dict[str, object | None]) -> list[Row]:
    ids = list(items_by_id)
    links = {
        link.billing_id: link
        for link in session().scalars(select(Link).where(Link.entity == entity, Link.billing_id.in_(ids)))
    }
    last, held = _last_entries(entity, ids), _held(entity, ids)
    return [
        Row(entity, key, item, links.get(key), last.get(key), key in held)
        for key, item in items_by_id.items()
    ]


def _state_ids(entity: str, state: str):
    """SELECT of the billing ids in ``state`` (one column)."""
    linked = select(Link.billing_id).where(
        Link.entity == entity, Link.netsuite_id.is_not(None), Link.status.in_(LINKED)
    )
    ignored = select(Link.billing_id).where(Link.entity == entity, Link.status == "ignored")
    if state == "synced":
        return linked
    if state == "ignored":
        return ignored
    latest = (
        select(func.max(LogEntry.id).label("id"))
        .where(LogEntry.entity == entity, LogEntry.billing_id.is_not(None), LogEntry.direction != "local")
        .group_by(LogEntry.billing_id)
        .subquery()
    )
    last = select(LogEntry.billing_id, LogEntry.outcome).join(latest, LogEntry.id == latest.c.id).subquery()
    settled = or_(last.c.billing_id.in_(linked), last.c.billing_id.in_(ignored))
    if state == "failed":
        return select(last.c.billing_id).where(last.c.outcome == "failed", ~settled)
    held = select(ProblemRecord.billing_id).where(ProblemRecord.entity == entity)
    return select(last.c.billing_id).where(
        or_(last.c.outcome == "skipped", last.c.billing_id.in_(held)), last.c.outcome != "failed", ~settled
    )


# --------------------------------------------------------------------------- billing reads


def fetch_one(ctx: SyncContext, entity: str, billing_id: int):
    return entities.get(entity).fetch(ctx.billing, billing_id)


def _source(ctx: SyncContext, entity: str, after: int | None):
    return iter(entities.get(entity).list(ctx.billing, id_above=after))


def _fetch_many(ctx: SyncContext, entity: str, ids: list[str]) -> dict[str, object | None]:
    found: dict[str, object | None] = {key: None for key in ids}
    kind = entities.get(entity)
    if kind.bulk_fetch and ids:
        for item in kind.list(ctx.billing, ids=[int(i) for i in ids]):
            found[str(item.id)] = item
        return found
    for key in ids:
        try:
            found[key] = fetch_one(ctx, entity, int(key))
        except BillingNotFound:
            found[key] = None  # deleted in billing since: the row still shows our side
    return found


@dataclass
class Listing:
    rows: list[Row]
    total: int | None = None  # known for state filters
    page: int = 1
    pages: int = 1
    next_url: str | None = None
    prev_url: str | None = None
    scanned: int | None = None
    cut_off: bool = False


def _url(entity: str, **args) -> str:
    keep: dict[str, Any] = {k: v for k, v in request.args.items() if k in ("q", "state")}
    keep.update({k: v for k, v in args.items() if v not in (None, "")})
    return url_for("netsuite.records", entity=entity, **keep)


def _by_state(ctx: SyncContext, entity: str, state: str, text: str = "") -> Listing:
    ids_query = _state_ids(entity, state)
    if text.isdigit():  # an id: this record, or the one linked to that NetSuite id
        by_netsuite = select(Link.billing_id).where(Link.entity == entity, Link.netsuite_id == text)
        column = ids_query.selected_columns[0]
        ids_query = ids_query.where(or_(column == text, column.in_(by_netsuite)))
    ids_query = ids_query.subquery()
    total = session().scalar(select(func.count()).select_from(ids_query)) or 0
    pages = max(1, ceil(total / RECORDS_PER_PAGE))
    page = min(max(request.args.get("page", 1, type=int) or 1, 1), pages)
    column = ids_query.c[0]
    ordered = select(column).order_by(func.length(column).desc(), column.desc())
    ids = list(session().scalars(ordered.limit(RECORDS_PER_PAGE).offset((page - 1) * RECORDS_PER_PAGE)))
    rows = build_rows(entity, _fetch_many(ctx, entity, ids))
    return Listing(
        rows, total, page, pages,
        next_url=_url(entity, page=page + 1) if page < pages else None,
        prev_url=_url(entity, page=page - 1) if page > 1 else None,
    )  # fmt: skip


def _by_billing(ctx: SyncContext, entity: str, text: str) -> Listing:
    after = request.args.get("after", type=int)
    trail = [int(t) for t in (request.args.get("trail") or "").split(",") if t.strip().isdigit()]
    source = _source(ctx, entity, after)
    scanned, cut_off = 0, False
    if text:
        if text.isdigit():
            try:
                items = [fetch_one(ctx, entity, int(text))]
            except BillingNotFound:
                items = []
            # An id can also be the NetSuite side's: find the billing record it is linked to.
            linked = session().scalar(
                select(Link.billing_id).where(Link.entity == entity, Link.netsuite_id == text)
            )
            if linked and linked != text:
                try:
                    items.append(fetch_one(ctx, entity, int(linked)))
                except BillingNotFound:
                    pass
            source = iter(())
        else:
            items = []
        needle = text.casefold()
        for item in source:
            scanned += 1
            if _matches(entity, item, needle):
                items.append(item)
                if len(items) == RECORDS_PER_PAGE:
                    break
            if scanned >= SEARCH_SCAN_LIMIT:
                cut_off = True
                break
    else:
        items = list(islice(source, RECORDS_PER_PAGE))
    rows = build_rows(entity, {str(item.id): item for item in items})
    more = len(items) == RECORDS_PER_PAGE or cut_off
    last_id = items[-1].id if items else None
    if cut_off and scanned and not items:
        last_id = None
    next_url = None
    if more and not (text and text.isdigit()):
        cursor = last_id if last_id is not None else after
        if cut_off and items == []:
            cursor = None
        if cursor is not None:
            next_url = _url(entity, after=cursor, trail=",".join(str(t) for t in [*trail, after or 0]))
    prev_url = None
    if after:
        back = trail[-1] if trail else 0
        prev_url = _url(entity, after=back or None, trail=",".join(str(t) for t in trail[:-1]) or None)
    page = len(trail) + (2 if after else 1) if after else 1
    return Listing(rows, None, page, page, next_url, prev_url, scanned if text else None, cut_off)


@blueprint.get("/records/<entity>")
def records(entity: str):
    kind = entities.find(entity)
    if kind is None:
        abort(404)
    state = request.args.get("state", "")
    state = state if state in STATES else ""
    text = (request.args.get("q") or request.args.get("billing_id") or "").strip()[:200]
    error, listing = None, Listing([])
    try:
        ctx = SyncContext.from_settings()
        listing = _by_state(ctx, entity, state, text) if state else _by_billing(ctx, entity, text)
    except READ_ERRORS as exc:
        error = f"The billing system could not be read: {exc}"
    if state and text and not text.isdigit():  # names and numbers: within the page read
        needle = text.casefold()
        listing.rows = [
            r for r in listing.rows
            if needle in r.billing_id or (r.item is not None and _matches(entity, r.item, needle))
        ]  # fmt: skip
    amounts = [describe(entity, r.item)["amount"] for r in listing.rows]
    page_total = sum((a for a in amounts if a is not None), Decimal("0")) if kind.is_transaction else None
    return render_template(
        "netsuite/records.html",
        entity=entity,
        kind=kind,
        entities=entities.labels(),
        states=STATES,
        state=state,
        q=text,
        listing=listing,
        describe=describe,
        page_total=page_total,
        error=error,
    )


# --------------------------------------------------------------------------- one record


def _history(entity: str, billing_id: str) -> list[LogEntry]:
    query = (
        select(LogEntry)
        .where(LogEntry.entity == entity, LogEntry.billing_id == billing_id)
        .order_by(LogEntry.id.desc())
        .limit(HISTORY_ROWS)
    )
    return list(session().scalars(query))


@blueprint.get("/records/<entity>/<billing_id>")
def record_detail(entity: str, billing_id: str):
    kind = entities.find(entity)
    if kind is None or not billing_id.isdigit():
        abort(404)
    item, error = None, None
    try:
        item = fetch_one(SyncContext.from_settings(), entity, int(billing_id))
    except BillingNotFound:
        error = f"Billing has no {kind.noun} {billing_id} (deleted, or never existed)."
    except READ_ERRORS as exc:
        error = f"The billing system could not be read: {exc}"
    row = build_rows(entity, {billing_id: item})[0]
    history = _history(entity, billing_id)
    from addon.views.record_fields import sent_and_now

    fields = sent_and_now(entity, billing_id, item, row.link) if item is not None else None
    active_run = _active_retry(entity, billing_id)
    problems = (
        session()
        .scalars(
            select(ProblemRecord).where(
                ProblemRecord.entity == entity, ProblemRecord.billing_id == billing_id
            )
        )
        .all()
    )
    return render_template(
        "netsuite/record.html",
        entity=entity,
        noun=kind.noun,
        entities=entities.labels(),
        billing_id=billing_id,
        row=row,
        item=item,
        words=describe(entity, item),
        history=history,
        fields=fields,
        problems=problems,
        error=error,
        form=ActionForm(),
        active_run=active_run,
    )


def _active_retry(entity: str, billing_id: str):
    """The queued or running 'export one record' run of this record, if any (its progress is shown)."""
    from addon.models import SyncRun

    runs = session().scalars(
        select(SyncRun)
        .where(SyncRun.operation == "export_record", SyncRun.status.in_(("queued", "running")))
        .order_by(SyncRun.id.desc())
        .limit(20)
    )
    wanted = {"entity": entity, "billing_id": billing_id}
    return next((run for run in runs if (run.params or {}) == wanted), None)


def _back(entity: str, billing_id: str):
    return redirect(url_for("netsuite.record_detail", entity=entity, billing_id=billing_id))


@blueprint.post("/records/<entity>/<billing_id>/retry")
def record_retry(entity: str, billing_id: str):
    from addon.runs import AlreadyRunning, dispatcher

    if entities.find(entity) is None or not billing_id.isdigit():
        abort(404)
    try:
        run = dispatcher().submit(
            "export_record", trigger="manual", params={"entity": entity, "billing_id": billing_id}
        )
    except AlreadyRunning as exc:
        flash(f"Not retried yet: {exc}", "error")
        return _back(entity, billing_id)
    flash(
        f"Retry started (run {run.id}): this page shows its outcome in the history once it has run.", "info"
    )
    return _back(entity, billing_id)


def _record_action(entity: str, billing_id: str, act, refused: str, done):
    """Run one record action; a refusal is flashed with ``refused`` before its reason, a success
    with ``done`` (a text, or a function of what the action returned)."""
    from addon.sync.matching import PairingError

    try:
        result = act()
    except (record_actions.RecordActionError, PairingError) as exc:
        session().rollback()
        flash(f"{refused}{exc}.", "error")
        return _back(entity, billing_id)
    flash(done(result) if callable(done) else done, "info")
    return _back(entity, billing_id)


@blueprint.post("/records/<entity>/<billing_id>/ignore")
def record_ignore(entity: str, billing_id: str):
    return _record_action(
        entity,
        billing_id,
        lambda: record_actions.ignore(entity, billing_id, request.form.get("reason", "")),
        "Not ignored: ",
        "The record is ignored: the exports log it as ignored and never send it.",
    )


@blueprint.post("/records/<entity>/<billing_id>/unignore")
def record_unignore(entity: str, billing_id: str):
    return _record_action(
        entity,
        billing_id,
        lambda: record_actions.unignore(entity, billing_id),
        "",
        "The record is no longer ignored: the next export sends it.",
    )


@blueprint.post("/records/<entity>/<billing_id>/unlink")
def record_unlink(entity: str, billing_id: str):
    return _record_action(
        entity,
        billing_id,
        lambda: record_actions.unlink(entity, billing_id),
        "Not unlinked: ",
        lambda netsuite_id: f"Unlinked from NetSuite record {netsuite_id}.",
    )
