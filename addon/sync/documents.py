"""Export invoices and credit notes: one module, parameterised by document kind.

Totals: NetSuite computes each line's tax itself, rounded per line to the cent (the sandbox and
netsuite-rest.md §4.6 line fields `amount`/`tax1Amt`). The same computation is done here, before
sending, with the tax code's NetSuite rate when the list cache knows it. When the result differs
from the billing total by at most ROUNDING_TOLERANCE (a few cents of per-line versus per-document
rounding), a line of the rounding item makes NetSuite's total equal the billing total to the cent;
a bigger difference is a real mismatch and fails the document. NetSuite returns no body on a
write, so nothing is read back (that would double the requests); `reconcile` compares later.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from sqlalchemy import select

from addon.billing import BillingDocument, BillingNotFound
from addon.extension import session
from addon.models import ListCache
from addon.sync import sanity, totals
from addon.sync.customers import blocked_by_customer, ensure_customer, prepare_customers, segment
from addon.sync.exporter import Export, ExportRun, Skip, Write, run_export
from addon.sync.ledger import Cause, RunLedger

CENT = Decimal("0.01")
ROUNDING_TOLERANCE = Decimal("0.05")
SEGMENTS = ("class", "department", "location", "terms")
DESCRIPTION_LIMIT = 4000  # NetSuite's line description limit (UI; unconfirmed for REST)


@dataclass(frozen=True)
class DocumentKind:
    """What differs between invoices and credit notes."""

    entity: str  # 'invoice' | 'credit_note'
    noun: str
    lister: str  # BillingSystem method listing them
    has_due_date: bool


KINDS = {
    "invoice": DocumentKind("invoice", "invoice", "invoices", True),
    "credit_note": DocumentKind("credit_note", "credit note", "credit_notes", False),
}


def cents(value: Decimal) -> Decimal:
    return value.quantize(CENT, rounding=ROUND_HALF_UP)


def _tax_code_rates(run: ExportRun) -> dict[str, Decimal]:
    """NetSuite tax code id -> rate, from the list cache when 'Load mappings' stored rates."""
    cached = run.cache.get("tax_code_rates")
    if cached is None:
        cached = {}
        rows = session().execute(
            select(ListCache.netsuite_id, ListCache.extra).where(ListCache.kind == "tax_code")
        )
        for netsuite_id, extra in rows:
            rate = (extra or {}).get("rate") if isinstance(extra, dict) else None
            if rate not in (None, ""):
                cached[netsuite_id] = Decimal(str(rate).rstrip("%"))
        run.cache["tax_code_rates"] = cached
    return cached


def _unmapped_cause(kind: str, billing_id: int | None, name: str) -> Cause:
    what = {"category": "Transaction category", "tax_rate": "Tax rate"}[kind]
    target = {"category": "a NetSuite item", "tax_rate": "a NetSuite tax code"}[kind]
    return Cause(
        key=f"unmapped:{kind}:{billing_id if billing_id is not None else 'none'}",
        kind="unmapped",
        title=f'{what} "{name}" is not mapped to {target}',
        fix_hint="Map it on the mappings page; the blocked documents go out with the next export.",
        fix_kind=kind,
        fix_ref=str(billing_id) if billing_id is not None else None,
    )


def document_write(run: ExportRun, kind: DocumentKind, doc: BillingDocument) -> Write | Skip:
    """The NetSuite invoice / credit memo body for ``doc``, or why it cannot be sent."""
    label = f"{kind.noun.capitalize()} {doc.number or doc.id}"
    refused = sanity.check(run, kind.entity, doc, label)
    if refused is not None:
        return refused
    customer_id, block = ensure_customer(run, doc.customer_id)
    if customer_id is None:
        return blocked_by_customer(label, block)
    if not doc.lines:
        return Skip("it has no lines; NetSuite needs at least one", label, outcome="failed")

    causes: dict[str, Cause] = {}
    unmapped_names: list[str] = []
    rates = _tax_code_rates(run)
    lines: list[dict[str, Any]] = []
    netsuite_total = Decimal("0")
    for line in doc.lines:
        item = run.mapping("category", line.category_id) if line.category_id is not None else None
        if item is None:
            name = run.billing_name("category", line.category_id) if line.category_id else "(no category)"
            cause = _unmapped_cause("category", line.category_id, name)
            if cause.key not in causes:
                causes[cause.key] = cause
                unmapped_names.append(f'category "{name}"')
        tax_code = None
        if line.tax_rate_id is not None:
            tax_code = run.mapping("tax_rate", line.tax_rate_id)
            if tax_code is None:
                name = run.billing_name("tax_rate", line.tax_rate_id)
                cause = _unmapped_cause("tax_rate", line.tax_rate_id, name)
                if cause.key not in causes:
                    causes[cause.key] = cause
                    unmapped_names.append(f'tax rate "{name}"')
        if causes:
            continue
        body: dict[str, Any] = {
            "item": {"id": item},
            "quantity": line.quantity,
            "rate": line.price,
            "amount": line.net_total,
            "description": line.description[:DESCRIPTION_LIMIT],
        }
        if tax_code is not None:
            body["taxCode"] = {"id": tax_code}
        rate = rates.get(tax_code, line.tax_percent) if tax_code is not None else Decimal("0")
        netsuite_total += cents(line.net_total) + cents(cents(line.net_total) * rate / 100)
        lines.append(body)
    if causes:
        first, *others = causes.values()
        return Skip(
            f"not mapped: {', '.join(unmapped_names)}",
            label,
            first,
            outcome="failed",
            extra_causes=tuple(others),
        )

    header: dict[str, Any] = {"entity": {"id": customer_id}}
    if doc.date is not None:
        header["tranDate"] = doc.date.isoformat()
    if kind.has_due_date and doc.due_date is not None:
        header["dueDate"] = doc.due_date.isoformat()
    if doc.number:
        header["otherRefNum"] = doc.number[:45]
    header["memo"] = f"Splynx {kind.noun} {doc.number or doc.id}"[:999]
    missing = []
    for name in SEGMENTS:
        value = segment(run, doc.customer_id, name)
        if value:
            header[name] = {"id": value}
        elif name in (run.setting("mandatory_segments") or []):
            missing.append(name)
    if missing:
        return Skip(
            f"mandatory {', '.join(missing)} not set (no default mapping)",
            label,
            Cause(
                key=f"missing_segment:{missing[0]}",
                kind="unmapped",
                title=f"Mandatory {missing[0]} has no default value",
                fix_hint=f"Choose a default {missing[0]} on the mappings page, or make it optional.",
                fix_kind=f"default_{missing[0]}",
            ),
            outcome="failed",
        )

    difference = doc.total - netsuite_total
    note = ""
    if difference:
        if abs(difference) > ROUNDING_TOLERANCE:
            return Skip(
                f"totals differ: billing {doc.total:.2f}, NetSuite would compute {netsuite_total:.2f}",
                label,
                Cause(
                    key=f"total_mismatch:{kind.entity}",
                    kind="total_mismatch",
                    title=f"{kind.noun.capitalize()}s whose NetSuite total would differ by more than rounding",
                    fix_hint="Check that each tax rate is mapped to a NetSuite tax code with the same rate.",
                ),
                outcome="failed",
            )
        rounding_item = run.setting("rounding_item")
        if not rounding_item:
            return Skip(
                f"totals differ by {difference:.2f} (rounding) and no rounding item is set",
                label,
                Cause(
                    key="rounding_item_missing",
                    kind="unmapped",
                    title="A rounding item is needed to match totals to the cent",
                    fix_hint="Choose the rounding item in the module settings.",
                    fix_kind="rounding_item",
                ),
                outcome="failed",
            )
        lines.append(
            {
                "item": {"id": str(rounding_item)},
                "quantity": Decimal("1"),
                "rate": difference,
                "amount": difference,
                "description": "Rounding",
            }
        )
        note = f"rounding line of {difference:.2f} added"
    header["item"] = {"items": lines}
    attribute = run.setting("splynx_accounting_id_attribute")
    return Write(
        payload=header,
        label=label,
        # Lines are replaced on update, never appended (netsuite-rest.md §4.4, §9.10).
        replace=("item",),
        note=note,
        billing_accounting_id=(doc.additional or {}).get(attribute, "") if attribute else None,
    )


def document_export(run: ExportRun, kind: DocumentKind) -> Export:
    billing = run.ctx.billing

    def confirm_deleted(billing_id: str) -> bool:
        try:
            return billing.get_document(kind.entity, int(billing_id)).is_deleted
        except BillingNotFound:
            return True

    return Export(
        entity=kind.entity,
        prepare=lambda doc, link: document_write(run, kind, doc),
        before_page=lambda page: prepare_customers(run, [doc.customer_id for doc in page]),
        confirm_deleted=confirm_deleted,
        is_deleted=lambda doc: doc.is_deleted,
    )


def export_documents(run: ExportRun, kind_name: str) -> dict[str, int]:
    """Export every document of one kind dated on or after export-from (filtered by billing)."""
    kind = KINDS[kind_name]
    run.ledger.phase(f"Exporting {kind.noun}s", total=totals.documents_count(run, kind.lister))
    sanity.usual_amount(run, kind.entity)  # before the pass: it may need its own billing read
    records = getattr(run.ctx.billing, kind.lister)(date_from=run.setting("export_from"))
    counts = run_export(run, document_export(run, kind), records)
    sanity.remember_usual_amount(run, kind.entity)
    return counts


def export_invoices(ctx, ledger: RunLedger, **params) -> None:
    """Operation: create or update NetSuite invoices."""
    run = ExportRun(ctx, ledger)
    ledger.set_result({"invoices": export_documents(run, "invoice")})


def export_credit_notes(ctx, ledger: RunLedger, **params) -> None:
    """Operation: create or update NetSuite credit memos."""
    run = ExportRun(ctx, ledger)
    ledger.set_result({"credit_notes": export_documents(run, "credit_note")})
