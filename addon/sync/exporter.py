"""The one export mechanism behind customers, invoices, credit notes and payments.

Billing records are paged; each page's links come in one query; every record's NetSuite
payload and content hash are built locally. Unchanged records, records that fail local
validation and dry runs never reach NetSuite. The rest are upserted by externalId through a
bounded thread pool; results are recorded on the calling thread as they complete, and the
link is written right after each success. Upserts are idempotent, so a crash between a
NetSuite success and the link write costs one repeated PUT on the next run, never a duplicate.
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Callable, Collection, Iterable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from itertools import islice
from typing import Any

from sqlalchemy import select

from addon.billing import (
    BillingAuthError,
    BillingConfigError,
    BillingConnectionError,
    BillingError,
    BillingUnavailable,
)
from addon.extension import session
from addon.models import Mapping
from addon.netsuite import (
    GovernorTimeout,
    NetSuiteAuthError,
    NetSuiteConfigError,
    NetSuiteConnectionError,
    NetSuiteError,
)
from addon.sync import entities, links
from addon.sync.context import SyncContext
from addon.sync.ledger import Cause, RunLedger
from addon.sync.run_state import RunState

PAGE_SIZE = 200
# The first page is small: NetSuite slots start working as soon as billing's first answer is in,
# not after the two or three billing requests a full page takes.
FIRST_PAGE_SIZE = 25
# Pages read ahead of the one being processed, so billing latency never idles NetSuite slots.
PAGES_AHEAD = 2
# Writes queued per NetSuite slot: the next request is always ready when a slot frees up,
# even while the calling thread is busy recording results.
QUEUED_PER_SLOT = 3
# Errors that stop the whole run (operations.run_operation reports them); never caught per record.
# A governor timeout means the account's slots stayed taken for many minutes: a retry
# of the whole job later (RQ's policy) is right, not a failed record.
STOPPING_NETSUITE = (NetSuiteAuthError, NetSuiteConfigError, NetSuiteConnectionError, GovernorTimeout)
STOPPING_BILLING = (BillingAuthError, BillingConfigError, BillingConnectionError)


# --------------------------------------------------------------------------- prepared records


@dataclass(frozen=True)
class Write:
    """A record to push: the body, how to label it, and what else to say in its log row."""

    payload: dict[str, Any]
    label: str
    replace: tuple[str, ...] | None = None
    note: str = ""
    # The accounting id currently stored on the billing record (None: no write-back wanted).
    billing_accounting_id: str | None = None


@dataclass(frozen=True)
class Skip:
    """A record not sent, with the reason in words; ``outcome`` is 'skipped' or 'failed'."""

    message: str
    label: str = ""
    cause: Cause | None = None
    outcome: str = "skipped"
    action: str = "skip"
    # Further causes blocking the same record (e.g. two unmapped tax rates on one invoice).
    extra_causes: tuple[Cause, ...] = ()


@dataclass
class Export:
    """One kind of export, described by its parts; :func:`run_export` does the rest."""

    entity: str
    prepare: Callable[[Any, links.LinkInfo | None], Write | Skip]
    billing_id: Callable[[Any], int | str] = lambda record: record.id
    before_page: Callable[[list[Any]], None] | None = None
    # Called for linked records not seen in the pass: True when the billing record is gone.
    confirm_deleted: Callable[[str], bool] | None = None
    # Billing record already deleted (soft delete seen in the pass).
    is_deleted: Callable[[Any], bool] = lambda record: False
    # Hooks of the entity type around the shared steps (customers keep the run's view of
    # which customers are in NetSuite through them; documents wait on those).
    recorded_already: Callable[[str], bool] = lambda billing_id: False
    on_examined: Callable[[str], None] = lambda billing_id: None
    on_failed: Callable[[str, Skip], None] = lambda billing_id, skip: None
    on_synced: Callable[[str, str], None] = lambda billing_id, netsuite_id: None

    @property
    def record_type(self) -> str:
        return entities.get(self.entity).record_type


@dataclass
class _Pending:
    billing_id: str
    label: str
    hash: str
    known: bool
    note: str
    link: links.LinkInfo | None
    tran_date: str | None = None
    payload: dict | None = None  # kept on the link as the fields last sent


# --------------------------------------------------------------------------- per-run lookups


@dataclass
class ExportRun:
    """What every export of one run shares: context, ledger, mappings and what was looked up."""

    ctx: SyncContext
    ledger: RunLedger
    _mappings: dict[str, dict[str, str]] | None = None
    _names: dict[str, dict[int, str]] = field(default_factory=dict)
    state: RunState = field(default_factory=RunState)  # what the export modules look up once
    _ignored_partners: set[int] | None = None
    _link_writers: dict[str, links.LinkWriter] = field(default_factory=dict)

    @property
    def dry_run(self) -> bool:
        return self.ledger.dry_run

    def setting(self, key: str) -> Any:
        return self.ctx.setting(key)

    def mapping(self, kind: str, billing_id: int | str | None = "") -> str | None:
        """NetSuite id mapped to (``kind``, ``billing_id``); defaults use billing id ''."""
        if self._mappings is None:
            self._mappings = {}
            for row in session().execute(select(Mapping.kind, Mapping.billing_id, Mapping.netsuite_id)):
                self._mappings.setdefault(row.kind, {})[row.billing_id or ""] = row.netsuite_id
        key = "" if billing_id in (None, "") else str(billing_id)
        return self._mappings.get(kind, {}).get(key) or None

    def setting_or_sole_choice(self, key: str) -> str | None:
        """A list setting (subsidiary, currency), or the account's only value when unset.

        A OneWorld account refuses customers without a subsidiary; when NetSuite
        has exactly one, choosing it is no guess. With several the operator must choose.
        """
        if self.setting(key):
            return str(self.setting(key))
        sole = self.state.lookups.sole_choices
        if key not in sole:
            from addon.sync.mappings import cached

            rows = cached(key, active_only=True)
            sole[key] = rows[0].netsuite_id if len(rows) == 1 else None
        return sole[key]

    def billing_name(self, kind: str, billing_id: int | None) -> str:
        """Name of a billing list value ('category', 'tax_rate', 'payment_method'), loaded once."""
        names = self.billing_names(kind)
        return names[billing_id] if billing_id in names else f"#{billing_id}"

    def billing_names(self, kind: str) -> dict[int, str]:
        """Every value of a billing list by id, loaded once per run."""
        if kind not in self._names:
            source: Callable[[], Iterable[Any]] = {
                "category": self.ctx.billing.transaction_categories,
                "tax_rate": self.ctx.billing.tax_rates,
                "payment_method": self.ctx.billing.payment_methods,
            }[kind]
            self._names[kind] = {value.id: value.name for value in source()}
        return self._names[kind]

    def ignored_partners(self) -> set[int]:
        """Partner ids of the ignore list; names in the setting are resolved once per run."""
        if self._ignored_partners is None:
            wanted = [str(v) for v in self.setting("partners_ignore") or []]
            ids = {int(v) for v in wanted if v.isdigit()}
            names = {v.casefold() for v in wanted if not v.isdigit()}
            if names:
                ids |= {p.id for p in self.ctx.billing.partners() if p.name.casefold() in names}
            self._ignored_partners = ids
        return self._ignored_partners

    def link_writer(self, entity: str) -> links.LinkWriter:
        """The run's bulk link writer for ``entity``, flushed before each ledger commit."""
        writer = self._link_writers.get(entity)
        if writer is None:
            writer = self._link_writers[entity] = links.LinkWriter(entity)
            self.ledger.before_commit(writer.write)
        return writer


# --------------------------------------------------------------------------- NetSuite errors in words


def netsuite_failure(error: NetSuiteError, entity: str, label: str, tran_date: str | None = None) -> Skip:
    """A NetSuite refusal as a failed row an accountant can act on, grouped by error code."""
    if error.is_closed_period:
        period = (tran_date or "")[:7] or "this date"
        message = f"the accounting period for {period} is closed in NetSuite; reopen it or change export-from"
        key, title = f"closed_period:{period}", f"The NetSuite accounting period {period} is closed"
        fix_hint = "Reopen the period in NetSuite, or move the export-from date past it."
    else:
        code = error.code or (f"HTTP {error.status}" if error.status else type(error).__name__)
        where = f" (field {error.path})" if error.path else ""
        detail = (error.detail or "").removeprefix("Error while accessing a resource.").strip() or code
        message = f"NetSuite refused this {entities.get(entity).noun}: {detail}{where} [{code}]"
        key, title = code, f"NetSuite refuses records with {code}: {detail}"
        fix_hint = "Correct the record or the mapping NetSuite names, then run the export again."
    cause = Cause(key=f"netsuite:{key}", kind="netsuite", title=title, fix_hint=fix_hint)
    return Skip(message, label, cause, outcome="failed", action="upsert")


# --------------------------------------------------------------------------- the mechanism

# Ids per billing lookup of a targeted run: an ``id IN (...)`` search whose URL stays short.
IDS_PER_LOOKUP = 100


class IdFeed(Collection[str]):
    """Billing ids that keep coming while their export runs (a live run's events).

    Given to an export as its ``ids``, it reads the records itself (:meth:`pages`) as the ids
    come, and :func:`run_export` feeds each page to the same bounded pool without draining it.
    Iterating it gives the ids fed so far (deletions are looked for among them).
    """

    def pages(self, lister: Callable[[list[int]], Iterable[Any]]) -> Iterator[list[Any]]:
        """Pages of records as their ids come; an empty page while none came (the export then
        records the writes finished meanwhile). Runs on the export's calling thread."""
        raise NotImplementedError


@dataclass
class _Fed:
    pages: Iterator[list[Any]]


def by_ids(lister: Callable[..., Iterable[Any]], ids: Collection[str] | None) -> Iterable[Any]:
    """Every record (``lister()``), or with ``ids`` only those, read a chunk of ids at a time."""
    if ids is None:
        return lister(None)
    if isinstance(ids, IdFeed):
        return _Fed(ids.pages(lister))  # type: ignore[return-value]
    wanted = sorted({int(i) for i in ids})
    return (
        record
        for start in range(0, len(wanted), IDS_PER_LOOKUP)
        for record in lister(wanted[start : start + IDS_PER_LOOKUP])
    )


def _pages(records: Iterable[Any], size: int, first_size: int) -> Iterator[list[Any]]:
    iterator = iter(records)
    page = list(islice(iterator, first_size))
    while page:
        yield page
        page = list(islice(iterator, size))


_END = object()


def _read_ahead(pages: Iterator[list[Any]], ahead: int) -> Iterator[list[Any]]:
    """``pages`` produced by a helper thread (billing HTTP only, no DB), ``ahead`` pages early.

    An error of the billing system is re-raised here, on the calling thread, in order.
    """
    handoff: queue.Queue = queue.Queue(maxsize=ahead)
    stop = threading.Event()

    def offer(item: Any) -> bool:
        """Hand ``item`` over; False when the calling thread stopped reading first."""
        while not stop.is_set():
            try:
                handoff.put(item, timeout=0.1)
                return True
            except queue.Full:
                continue
        return False

    def produce() -> None:
        try:
            for page in pages:
                if not offer(page):
                    return
            item: Any = _END
        except BaseException as error:  # handed to the calling thread, which decides
            item = error
        offer(item)

    worker = threading.Thread(target=produce, name="billing-read-ahead", daemon=True)
    worker.start()
    try:
        while True:
            item = handoff.get()
            if item is _END:
                return
            if isinstance(item, BaseException):
                raise item
            yield item
    finally:
        stop.set()
        worker.join(timeout=5)


class _Finished:
    """Writes the workers have finished, handed to the calling thread in batches.

    The calling thread says how many it waits for and is woken once when they are in:
    waiting on the futures themselves would wake it for each one and visit every queued
    write each time.
    """

    def __init__(self):
        self._done: list[Future] = []
        self._wanted = 0
        self._ready = threading.Condition()

    def put(self, future: Future) -> None:
        with self._ready:
            self._done.append(future)
            if len(self._done) >= self._wanted:
                self._ready.notify()

    def take(self, at_least: int) -> list[Future]:
        with self._ready:
            self._wanted = at_least
            self._ready.wait_for(lambda: len(self._done) >= at_least)
            done, self._done, self._wanted = self._done, [], 0
            return done


def _push(ctx: SyncContext, export: Export, billing_id: str, write: Write, link: links.LinkInfo | None):
    """Worker thread: write one record to NetSuite (and its id back to billing); no DB access."""
    client = ctx.netsuite
    if (
        link is not None
        and link.netsuite_id
        and link.external_id != links.external_id(export.entity, billing_id)
    ):
        # Paired with a record someone else created: update that record by its internal id and
        # give it our externalId, so every later push is an idempotent upsert.
        payload = {**write.payload, "externalId": links.external_id(export.entity, billing_id)}
        client.update(export.record_type, link.netsuite_id, payload, replace=write.replace)
        netsuite_id = link.netsuite_id
    else:
        netsuite_id = client.upsert(
            export.record_type,
            links.external_id(export.entity, billing_id),
            write.payload,
            replace=write.replace,
        )
    note = write.note
    attribute = ctx.accounting_id_attribute
    if attribute and write.billing_accounting_id is not None and write.billing_accounting_id != netsuite_id:
        try:
            ctx.billing.record_accounting_id(export.entity, int(billing_id), netsuite_id, attribute)
        except STOPPING_BILLING:
            raise
        except BillingError as exc:
            note = f"{note}; " if note else ""
            note += f"could not store the NetSuite id in the billing attribute '{attribute}': {exc}"
    return netsuite_id, note


def record_skip(ledger: RunLedger, entity: str, billing_id: str, skip: Skip) -> None:
    ledger.record(
        entity=entity,
        billing_id=billing_id,
        outcome=skip.outcome,
        action=skip.action,
        message=skip.message,
        cause=skip.cause,
        causes=skip.extra_causes,
        label=skip.label or None,
    )


def _examine(
    run: ExportRun, export: Export, record: Any, link: links.LinkInfo | None
) -> tuple[_Pending, Write] | None:
    """Decide one record locally; returns what to push, or None when it was recorded already."""
    ledger = run.ledger
    billing_id = str(export.billing_id(record))
    export.on_examined(billing_id)
    if export.is_deleted(record):
        _report_deleted(run, export, billing_id, link)
        return None
    if link is not None and link.status == "ignored":  # set by hand: addon/sync/record_actions.py
        ledger.record(entity=export.entity, billing_id=billing_id, outcome="ignored", action="none",
                      netsuite_id=link.netsuite_id, message="ignored by hand; not sent")  # fmt: skip
        return None
    prepared = export.prepare(record, link)
    if isinstance(prepared, Skip):
        _record_failure(run, export, billing_id, prepared)
        return None
    digest = links.content_hash(export.record_type, prepared.payload)
    if link is not None and link.netsuite_id and link.content_hash == digest and link.status == "synced":
        ledger.record(
            entity=export.entity,
            billing_id=billing_id,
            outcome="unchanged",
            action="none",
            netsuite_id=link.netsuite_id,
            label=prepared.label,
        )
        return None
    known = link is not None and bool(link.netsuite_id)
    if run.dry_run:
        ledger.record(
            entity=export.entity,
            billing_id=billing_id,
            outcome="would_update" if known else "would_create",
            action="update" if known else "create",
            netsuite_id=link.netsuite_id if link is not None and known else None,
            message=prepared.note or None,
            label=prepared.label,
        )
        return None
    pending = _Pending(
        billing_id, prepared.label, digest, known, prepared.note, link, prepared.payload.get("tranDate"),
        prepared.payload,
    )  # fmt: skip
    return pending, prepared


def _record_failure(run: ExportRun, export: Export, billing_id: str, skip: Skip) -> None:
    export.on_failed(billing_id, skip)
    record_skip(run.ledger, export.entity, billing_id, skip)


def _settle(run: ExportRun, export: Export, pending: _Pending, future: Future) -> str | None:
    """Record one finished write (calling thread only); returns the NetSuite id on success."""
    ledger = run.ledger
    try:
        netsuite_id, note = future.result()
    except STOPPING_NETSUITE + STOPPING_BILLING:
        raise
    except NetSuiteError as error:
        skip = netsuite_failure(error, export.entity, pending.label, pending.tran_date)
        _record_failure(run, export, pending.billing_id, skip)
        return None
    except (ValueError, BillingUnavailable) as error:
        skip = Skip(f"could not be sent: {error}", pending.label, outcome="failed", action="upsert")
        _record_failure(run, export, pending.billing_id, skip)
        return None
    run.link_writer(export.entity).add(
        pending.billing_id, netsuite_id, content_hash=pending.hash, exists=pending.link is not None,
        payload=pending.payload,
    )  # fmt: skip
    export.on_synced(pending.billing_id, netsuite_id)
    ledger.record(
        entity=export.entity,
        billing_id=pending.billing_id,
        outcome="updated" if pending.known else "created",
        action="update" if pending.known else "create",
        netsuite_id=netsuite_id,
        # The push's note: the record's own plus a refused accounting-id write-back.
        message=note or None,
        label=pending.label,
    )
    return netsuite_id


def export_one(run: ExportRun, export: Export, record: Any) -> None:
    """Export a single record synchronously through the same steps (a document's customer)."""
    billing_id = str(export.billing_id(record))
    found = _examine(run, export, record, links.links_for(export.entity, [billing_id]).get(billing_id))
    if found is None:
        return
    pending, write = found
    future: Future = Future()
    try:
        future.set_result(_push(run.ctx, export, billing_id, write, pending.link))
    except (NetSuiteError, BillingError, ValueError) as error:
        future.set_exception(error)
    _settle(run, export, pending, future)


def run_export(
    run: ExportRun, export: Export, records: Iterable[Any], only: Collection[str] | None = None
) -> dict[str, int]:
    """Export ``records`` (a lazy billing generator) and return this export's outcome counts.

    ``only``: the billing ids a targeted (live) run names; deletions are then looked for among
    those alone, not among every synced record.
    """
    ctx, ledger = run.ctx, run.ledger
    before = dict(ledger.counts)
    seen: set[str] = set()
    in_flight: dict[Future, _Pending] = {}
    finished = _Finished()
    limit = max(1, ctx.concurrency) * QUEUED_PER_SLOT

    def settle(wait_for: int = 0) -> None:
        """Record finished writes; first wait until ``wait_for`` of them are in (0: none)."""
        for future in finished.take(min(wait_for, len(in_flight))):
            _settle(run, export, in_flight.pop(future), future)

    if not run.dry_run:
        _ = ctx.netsuite  # build the shared client here, not racing in the worker threads
    pool = ThreadPoolExecutor(
        max_workers=max(1, ctx.concurrency), thread_name_prefix=f"export-{export.entity}"
    )
    try:
        # A feed's pages come on this thread (it may claim its ids in the database), as they come.
        if isinstance(records, _Fed):
            pages = records.pages
        else:
            pages = _read_ahead(_pages(records, PAGE_SIZE, FIRST_PAGE_SIZE), PAGES_AHEAD)
        for page in pages:
            if not page:
                settle()
                continue
            ledger.add_total(len(page))
            if export.before_page is not None:
                export.before_page(page)
            page_links = links.links_for(export.entity, (export.billing_id(r) for r in page))
            for record in page:
                billing_id = str(export.billing_id(record))
                seen.add(billing_id)
                if export.recorded_already(billing_id):
                    continue  # e.g. a customer recorded in this run as a document's customer
                found = _examine(run, export, record, page_links.get(billing_id))
                if found is None:
                    continue
                pending, write = found
                future = pool.submit(_push, ctx, export, billing_id, write, pending.link)
                in_flight[future] = pending
                future.add_done_callback(finished.put)
                if len(in_flight) >= limit:
                    # Full: wait for a slot's worth of finished writes at once, so this thread
                    # wakes once per few writes rather than once per write.
                    settle(wait_for=max(1, ctx.concurrency))
            # Results of finished writes are recorded between pages too, keeping links fresh.
            settle()
        while in_flight:
            settle(wait_for=max(1, ctx.concurrency))
    finally:
        for future in in_flight:
            future.cancel()
        pool.shutdown(wait=True)
    if export.confirm_deleted is not None:
        _detect_deleted(run, export, seen, only, export.confirm_deleted)
    ledger.commit()
    return {k: v - before.get(k, 0) for k, v in ledger.counts.items() if v - before.get(k, 0)}


def _report_deleted(run: ExportRun, export: Export, billing_id: str, link: links.LinkInfo | None) -> None:
    """A billing record deleted after it was synced needs a person: NetSuite keeps its copy."""
    if link is None or not link.netsuite_id or link.status == "deleted_in_billing":
        return  # never synced (nothing to do) or already reported
    word = entities.get(export.entity).noun
    if not run.dry_run:
        links.set_status(export.entity, billing_id, "deleted_in_billing", f"{word} deleted in billing")
    run.ledger.record(
        entity=export.entity,
        billing_id=billing_id,
        outcome="skipped",
        action="deleted_in_billing",
        netsuite_id=link.netsuite_id,
        message=(
            f"needs attention: {word} {billing_id} was deleted in billing after it was synced; "
            f"NetSuite record {link.netsuite_id} still exists — void or delete it there if that is right"
        ),
        cause=Cause(
            key=f"deleted_in_billing:{export.entity}",
            kind="deleted_in_billing",
            title=f"{word.capitalize()}s deleted in billing after they were synced to NetSuite",
            fix_hint="Void or delete the NetSuite copies, or restore the billing records.",
        ),
    )


def report_deleted(run: ExportRun, entity: str, billing_id: str) -> None:
    """Report one billing record known to be deleted (a live delete event Splynx confirmed)."""
    found = links.links_for(entity, [billing_id]).get(billing_id)
    _report_deleted(run, Export(entity=entity, prepare=lambda record, link: Skip("")), billing_id, found)


def _detect_deleted(
    run: ExportRun,
    export: Export,
    seen: set[str],
    only: Collection[str] | None,
    confirm: Callable[[str], bool],
) -> None:
    """Linked records the pass did not see are checked one by one (usually none or a few)."""
    candidates = links.synced_billing_ids(export.entity) if only is None else sorted(only)
    unseen = [billing_id for billing_id in candidates if billing_id not in seen]
    for start in range(0, len(unseen), PAGE_SIZE):
        chunk = unseen[start : start + PAGE_SIZE]
        page_links = links.links_for(export.entity, chunk)
        for billing_id in chunk:
            if confirm(billing_id):
                _report_deleted(run, export, billing_id, page_links.get(billing_id))
