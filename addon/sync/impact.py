"""What a settings or mapping change would rewrite in NetSuite, before it is saved.

Every linked record's payload is built twice, locally (a dry run: nothing is sent), once with
the settings and mappings as they are and once with the change. A record is *touched by the
change* when its link's content hash equals the first (NetSuite holds exactly that) and not
the second: the next export would rewrite it for this change alone.

The accountant chooses what happens to those:

- ``new``  (the default): the change applies to records created from now on. The touched
  links take the new hash, so the next export leaves what is posted in NetSuite as it is
  (until the billing record itself changes, when its update carries the new values too).
- ``all``: the next export rewrites them with the change.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from itertools import islice
from typing import Any, cast

from sqlalchemy import Table, bindparam, update

from addon.extension import session
from addon.models import Link
from addon.sync import entities, links
from addon.sync.context import SyncContext
from addon.sync.exporter import Export, ExportRun, Skip
from addon.sync.ledger import RunLedger

SCOPES = {"new": "New records only", "all": "Update what is already posted too"}
SAMPLE_SIZE = 20
PAGE = 200
# Which changes can rewrite which records.
SETTING_ENTITIES = {
    "customer_name_pattern": ("customer",),
    "subsidiary": ("customer",),
    "currency": ("customer",),
    "rounding_item": ("invoice", "credit_note"),
}
MAPPING_ENTITIES = {
    "category": ("invoice", "credit_note"),
    "tax_rate": ("invoice", "credit_note"),
    "default_class": ("invoice", "credit_note"),
    "default_department": ("invoice", "credit_note"),
    "default_location": ("invoice", "credit_note"),
    "default_terms": ("invoice", "credit_note"),
    "payment_method": ("payment",),
    "default_bank_account": ("payment",),
}


@dataclass
class Impact:
    """Records already in NetSuite that the change would rewrite."""

    counts: Counter = field(default_factory=Counter)  # entity -> records touched
    sample: list[dict] = field(default_factory=list)  # the first few: entity, billing id, label, NetSuite id
    _rehash: dict[str, list[dict]] = field(default_factory=dict)  # entity -> old/new hash per record

    @property
    def total(self) -> int:
        return sum(self.counts.values())

    def summary(self) -> str:
        if not self.total:
            return "No record already in NetSuite would change."
        parts = [f"{n} {entities.get(entity).plural}" for entity, n in sorted(self.counts.items())]
        return f"This change would update {' and '.join(parts)} already in NetSuite."

    def keep_posted(self) -> int:
        """'New records only': the touched links take the new hash; returns how many (no commit).

        Guarded by the old hash, so a record an export rewrote meanwhile is left alone.
        """
        kept = 0
        for entity, rows in self._rehash.items():
            statement = (
                update(cast(Table, Link.__table__))
                .where(
                    Link.entity == entity,
                    Link.billing_id == bindparam("b_id"),
                    Link.content_hash == bindparam("b_old"),
                )
                .values(content_hash=bindparam("b_new"))
            )
            for start in range(0, len(rows), 500):
                result = session().connection().execute(statement, rows[start : start + 500])
                kept += result.rowcount or 0
        return kept


def affected_entities(settings: Iterable[str] = (), mappings: Iterable[str] = ()) -> tuple[str, ...]:
    found: list[str] = []
    for entity in [e for key in settings for e in SETTING_ENTITIES.get(key, ())] + [
        e for kind in mappings for e in MAPPING_ENTITIES.get(kind, ())
    ]:
        if entity not in found:
            found.append(entity)
    return tuple(found)


class _Quiet:
    """The ledger of a preview: a dry run that records nothing (prepare may report a customer)."""

    dry_run = True

    def record(self, **kwargs: Any) -> None:
        pass

    def before_commit(self, hook: Callable[[], None]) -> None:
        pass


def _run(ctx: SyncContext, values: dict[str, Any], mappings: dict[tuple[str, str], str | None]) -> ExportRun:
    run = ExportRun(
        SyncContext(values={**ctx.values, **values}, _billing=ctx.billing), cast(RunLedger, _Quiet())
    )
    run.mapping("")  # loads every mapping once
    assert run._mappings is not None
    for (kind, billing_id), netsuite_id in mappings.items():
        table = run._mappings.setdefault(kind, {})
        if netsuite_id:
            table[billing_id] = str(netsuite_id)
        else:
            table.pop(billing_id, None)
    return run


def _source(entity: str, run: ExportRun) -> tuple[Export, Iterable[Any]]:
    kind = entities.get(entity)
    return kind.export(run), kind.records(run, None)


def _digest(export: Export, record: Any, link: links.LinkInfo) -> str | None:
    prepared = export.prepare(record, link)
    return None if isinstance(prepared, Skip) else links.content_hash(export.record_type, prepared.payload)


def preview(
    ctx: SyncContext,
    *,
    settings: dict[str, Any] | None = None,
    mappings: dict[tuple[str, str], str | None] | None = None,
) -> Impact:
    """The records in NetSuite a change of ``settings`` (key -> typed value) and ``mappings``
    ((kind, billing id) -> NetSuite id, None to unmap) would rewrite. Reads billing; writes nothing."""
    settings, mappings = settings or {}, mappings or {}
    impact = Impact()
    entities = affected_entities(settings, {kind for kind, _ in mappings})
    for entity in entities:
        if next(links.synced_billing_ids(entity), None) is None:
            continue  # nothing of this kind in NetSuite yet: nothing to rewrite, no billing read
        before, after = _run(ctx, {}, {}), _run(ctx, settings, mappings)
        # One read of billing serves both: the customers a page needs are looked up once.
        after.state = before.state.sharing_lookups()
        old_export, records = _source(entity, before)
        new_export, _ = _source(entity, after)
        iterator = iter(records)
        while page := list(islice(iterator, PAGE)):
            if old_export.before_page is not None:
                old_export.before_page(page)
            page_links = links.links_for(entity, (old_export.billing_id(r) for r in page))
            for record in page:
                billing_id = str(old_export.billing_id(record))
                link = page_links.get(billing_id)
                if link is None or not link.netsuite_id or link.status != "synced" or not link.content_hash:
                    continue
                old = _digest(old_export, record, link)
                if old != link.content_hash:
                    continue  # not as posted (billing changed since): the next export updates it anyway
                new = _digest(new_export, record, link)
                if new is None or new == old:
                    continue
                impact.counts[entity] += 1
                impact._rehash.setdefault(entity, []).append({"b_id": billing_id, "b_old": old, "b_new": new})
                if len(impact.sample) < SAMPLE_SIZE:
                    label = getattr(record, "number", None) or getattr(record, "name", None) or billing_id
                    impact.sample.append(
                        {
                            "entity": entity,
                            "billing_id": billing_id,
                            "label": str(label),
                            "netsuite_id": link.netsuite_id,
                        }
                    )
    return impact
