"""What an accountant does to one record: export it again now, ignore it (with a reason), unlink it.

Ignoring is a link status ('ignored', the reason kept as the link's message): the exports log
such a record as 'ignored' and never send it; stopping to ignore puts the link back as it was
(paired when its NetSuite record is not one we created, synced otherwise). Unlinking forgets the
link only: a record we created keeps its externalId in NetSuite, so the next export finds and
updates that record instead of creating a second one.
"""

from __future__ import annotations

from sqlalchemy import select

from addon.extension import session
from addon.models import Link, LogEntry
from addon.sync import entities, links
from addon.sync.ledger import RunLedger, clear_record_problems

IGNORED = "ignored"


class RecordActionError(ValueError):
    """The action does not apply to this record; the message says why."""


def _log(
    entity: str, billing_id: str, netsuite_id: str | None, action: str, outcome: str, message: str
) -> None:
    session().add(
        LogEntry(direction="local", entity=entity, billing_id=billing_id, netsuite_id=netsuite_id,
                 action=action, outcome=outcome, message=message)
    )  # fmt: skip


def _link(entity: str, billing_id: str) -> Link | None:
    return session().scalar(select(Link).where(Link.entity == entity, Link.billing_id == billing_id))


def _check(entity: str, billing_id: str | int) -> str:
    key = str(billing_id).strip()
    if entities.find(entity) is None:
        raise RecordActionError(f"unknown kind of record {entity!r}")
    if not key.isdigit():
        raise RecordActionError(f"billing id {key!r} is not a number")
    return key


def ignore(entity: str, billing_id: str | int, reason: str) -> Link:
    """Stop syncing one record; ``reason`` is required and shown wherever the record is."""
    key = _check(entity, billing_id)
    reason = " ".join((reason or "").split())
    if not reason:
        raise RecordActionError(
            "say why this record is ignored: the reason is shown on its page and in the log"
        )
    link = _link(entity, key)
    if link is None:
        link = Link(
            entity=entity, billing_id=key, external_id=links.external_id(entity, key), origin="billing"
        )
        session().add(link)
    link.status, link.last_error = IGNORED, reason[:2000]
    _log(entity, key, link.netsuite_id, "ignore", IGNORED, f"Ignored by hand: {reason}")
    clear_record_problems(entity, key)  # an ignored record holds nothing back
    session().commit()
    return link


def unignore(entity: str, billing_id: str | int) -> None:
    key = _check(entity, billing_id)
    link = _link(entity, key)
    if link is None or link.status != IGNORED:
        raise RecordActionError(f"{entities.get(entity).noun} {key} is not ignored")
    if link.netsuite_id is None:
        session().delete(link)
    else:
        ours = link.external_id == links.external_id(entity, key) and link.origin == "billing"
        link.status = "synced" if ours else "paired"
    link.last_error = None
    _log(entity, key, link.netsuite_id, "unignore", "updated", "No longer ignored: the next export sends it")
    session().commit()


def unlink(entity: str, billing_id: str | int) -> str:
    """Forget the link (customers go through pairing's checks); returns the NetSuite id it had."""
    key = _check(entity, billing_id)
    link = _link(entity, key)
    if link is None or not link.netsuite_id:
        raise RecordActionError(f"{entities.get(entity).noun} {key} is not linked to a NetSuite record")
    netsuite_id = link.netsuite_id
    if entity == entities.CUSTOMER.name:
        from addon.sync.matching import unpair_customer

        unpair_customer(key)  # refuses while the customer's documents are in NetSuite
        return netsuite_id
    _log(
        entity, key, netsuite_id, "unlink", "updated", f"Unlinked from NetSuite record {netsuite_id} by hand"
    )
    session().delete(link)
    session().commit()
    return netsuite_id


def export_record(ctx, ledger: RunLedger, *, entity: str, billing_id: str | int, **params) -> None:
    """Operation: export one record now, through the same steps as its export (retry now)."""
    from addon.sync.exporter import ExportRun, export_one

    key = int(_check(entity, billing_id))
    run = ExportRun(ctx, ledger)
    kind = entities.get(entity)
    export, record = kind.export(run), kind.fetch(ctx.billing, key)
    ledger.phase(f"Exporting {kind.noun} {key}", total=1)
    if export.before_page is not None:
        export.before_page([record])
    export_one(run, export, record)
    ledger.commit()
    ledger.set_result({entity: dict(ledger.counts)})


class _Discarding:
    """A dry-run ledger that keeps nothing: a preview must not log, file problems or commit."""

    dry_run = True

    def __init__(self):
        from collections import Counter

        self.counts: Counter = Counter()
        self.run = None

    def record(self, **row) -> None:
        self.counts[row["outcome"]] += 1

    def phase(self, *args, **kwargs) -> None: ...

    def add_total(self, count: int) -> None: ...

    def before_commit(self, callback) -> None: ...

    def commit(self) -> None: ...

    def set_result(self, result: dict) -> None: ...


def preview(ctx, entity: str, record) -> tuple[dict | None, str | None]:
    """What an export would send for ``record`` now: (fields, None), or (None, why it would not)."""
    from addon.sync.exporter import ExportRun, Skip

    run = ExportRun(ctx, _Discarding())  # type: ignore[arg-type]
    export = entities.get(entity).export(run)
    if export.before_page is not None:
        export.before_page([record])
    key = str(export.billing_id(record))
    prepared = export.prepare(record, links.links_for(entity, [key]).get(key))
    if isinstance(prepared, Skip):
        return None, prepared.message
    return links.sent_fields(prepared.payload), None
