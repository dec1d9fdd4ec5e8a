"""Progress with a real total from the start: billing is asked how many records a phase will
read before it reads them (Splynx answers a HEAD with X-total-count, docs/settings.md).

A platform that cannot count, or a count that fails for a reason that would not stop the run,
leaves the total growing page by page as before; an error that stops the run stops it here.
"""

from __future__ import annotations

from typing import Any

from addon.billing import COUNT, BillingError, DocumentKind
from addon.sync.exporter import STOPPING_BILLING, ExportRun


def billing_count(run: ExportRun, listing: str, **filters: Any) -> int | None:
    """How many records ``listing`` will yield (asked once per run), or None when unknown
    (a billing system that does not declare COUNT cannot tell)."""
    if COUNT not in run.ctx.billing.capabilities:
        return None
    counts = run.state.lookups.counts
    key = (listing, tuple(sorted((k, repr(v)) for k, v in filters.items())))
    if key not in counts:
        try:
            counts[key] = run.ctx.billing.count(listing, **filters)
        except STOPPING_BILLING:
            raise
        except BillingError:
            counts[key] = None
    return counts[key]


def customers_count(run: ExportRun) -> int | None:
    return billing_count(run, "customers", partner_ids_excluded=tuple(sorted(run.ignored_partners())))


def documents_count(run: ExportRun, kind: DocumentKind) -> int | None:
    return billing_count(run, kind, date_from=run.setting("export_from"))


def payments_count(run: ExportRun) -> int | None:
    from addon.sync.payment_export import EXPORT_DIRECTIONS, pushed_method_ids

    if run.setting("payment_direction") not in EXPORT_DIRECTIONS:
        return 0
    methods = pushed_method_ids(run)
    return billing_count(run, "payments", date_from=run.setting("export_from"), method_ids=methods)


def plan_full_sync(run: ExportRun) -> None:
    """Every export phase's count up front, so the full sync's percentage means something."""
    counts = [
        customers_count(run),
        documents_count(run, "invoice"),
        documents_count(run, "credit_note"),
        payments_count(run),
    ]
    known = [count for count in counts if count is not None]
    if len(known) == len(counts):
        run.ledger.plan(sum(known))
