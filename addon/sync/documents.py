"""Export invoices and credit notes: one module, parameterised by document kind.

Tax, by the ``tax_mode`` setting (docs/netsuite-accounts.md):

- ``suitetax_override`` (default; REST supports tax only under SuiteTax): every item line carries
  a ``taxDetailsReference`` and the header sets ``taxDetailsOverride`` with one ``taxDetails``
  line per taxed item line, holding the billing document's own basis, rate and amount. NetSuite
  then books exactly that tax; without the override its tax engine would compute its own.
- ``legacy``: each line names its tax code and NetSuite computes the tax, rounded per line, with
  the code's rate; the same computation is done here with the rate 'Load mappings' cached.

Either way the predicted NetSuite total is compared with the billing total: a difference of at
most ROUNDING_TOLERANCE (per-line versus per-document rounding) becomes a line of the rounding
item, carrying no tax, so NetSuite's total equals the billing total to the cent; a bigger one is a
real mismatch and fails the document. NetSuite returns no body on a write, so nothing is read back
(that would double the requests); `reconcile` compares later.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from sqlalchemy import select

from addon.billing import BillingDocument
from addon.billing import DocumentKind as BillingDocumentKind
from addon.extension import session
from addon.models import ListCache
from addon.sync import entities, sanity, totals
from addon.sync.customers import blocked_by_customer, ensure_customer, prepare_customers, segment
from addon.sync.exporter import Export, ExportRun, Skip, Write, by_ids, run_export
from addon.sync.ledger import Cause, RunLedger
from addon.sync.line_tax import LineTaxMissing, line_tax_rate_id

CENT = Decimal("0.01")
ROUNDING_TOLERANCE = Decimal("0.05")
SEGMENTS = ("class", "department", "location", "terms")
DESCRIPTION_LIMIT = 4000  # NetSuite's line description limit (UI; unconfirmed for REST)


@dataclass(frozen=True)
class DocumentKind:
    """What differs between invoices and credit notes in their NetSuite bodies."""

    entity: BillingDocumentKind
    has_due_date: bool

    @property
    def noun(self) -> str:
        return entities.get(self.entity).noun


KINDS = {
    "invoice": DocumentKind("invoice", True),
    "credit_note": DocumentKind("credit_note", False),
}


def cents(value: Decimal) -> Decimal:
    return value.quantize(CENT, rounding=ROUND_HALF_UP)


SUITETAX = "suitetax_override"


def _tax_codes(run: ExportRun) -> dict[str, dict]:
    """NetSuite tax code id -> what 'Load mappings' cached of it (legacy ``rate``, SuiteTax ``taxtype``)."""
    cached = run.state.lookups.tax_codes
    if cached is None:
        rows = session().execute(
            select(ListCache.netsuite_id, ListCache.extra).where(ListCache.kind == "tax_code")
        )
        cached = run.state.lookups.tax_codes = {
            netsuite_id: extra if isinstance(extra, dict) else {} for netsuite_id, extra in rows
        }
    return cached


def _legacy_rate(codes: dict[str, dict], tax_code: str, fallback: Decimal) -> Decimal:
    rate = codes.get(tax_code, {}).get("rate")
    return Decimal(str(rate).rstrip("%")) if rate not in (None, "") else fallback


def _no_tax_type_cause(tax_code: str) -> Cause:
    return Cause(
        key=f"tax_code_without_type:{tax_code}",
        kind="unmapped",
        title=f"NetSuite tax code {tax_code} has no tax type in the loaded lists",
        fix_hint="Run 'Load mappings' (SuiteTax tax codes carry their tax type), or map the tax rate "
        "to a SuiteTax tax code.",
        fix_kind="tax_rate",
    )


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


_MISSING_TAX = Cause(
    key="missing_tax:document_line",
    kind="invalid_fields",
    title="Document lines with a tax rate but no tax that billing knows of that rate",
    fix_hint="Set the line's tax in billing (or add a tax of that rate), then export again.",
)


def document_write(run: ExportRun, kind: DocumentKind, doc: BillingDocument) -> Write | Skip:
    """The NetSuite invoice / credit memo body for ``doc``, or why it cannot be sent."""
    label = f"{kind.noun.capitalize()} {doc.number or doc.id}"
    refused = sanity.check(run, kind.entity, doc, label)
    if refused is not None:
        return refused
    customer_id, block = ensure_customer(run, doc.customer_id)
    if customer_id is None:
        assert block is not None  # ensure_customer gives an id or the reason there is none
        return blocked_by_customer(label, block)
    if not doc.has_transactions:
        # As Splynx's own accounting add-ons do: such an invoice is not in the customer's ledger.
        return Skip("it has no transactions in billing, so it is not booked", label, outcome="skipped")
    if not doc.lines:
        return Skip("it has no lines; NetSuite needs at least one", label, outcome="failed")

    causes: dict[str, Cause] = {}
    unmapped_names: list[str] = []
    suitetax = run.setting("tax_mode") == SUITETAX
    codes = _tax_codes(run)
    lines: list[dict[str, Any]] = []
    details: list[dict[str, Any]] = []
    netsuite_total = Decimal("0")
    for number, line in enumerate(doc.lines, start=1):
        try:
            tax_rate_id = line_tax_rate_id(run, number, line)
        except LineTaxMissing as exc:
            return Skip(str(exc), label, _MISSING_TAX, outcome="failed")
        item = run.mapping("category", line.category_id) if line.category_id is not None else None
        if item is None:
            name = run.billing_name("category", line.category_id) if line.category_id else "(no category)"
            cause = _unmapped_cause("category", line.category_id, name)
            if cause.key not in causes:
                causes[cause.key] = cause
                unmapped_names.append(f'category "{name}"')
        tax_code = None
        if tax_rate_id is not None:
            tax_code = run.mapping("tax_rate", tax_rate_id)
            if tax_code is None:
                name = run.billing_name("tax_rate", tax_rate_id)
                cause = _unmapped_cause("tax_rate", tax_rate_id, name)
                if cause.key not in causes:
                    causes[cause.key] = cause
                    unmapped_names.append(f'tax rate "{name}"')
        tax_type = codes.get(tax_code, {}).get("taxtype") if tax_code is not None else None
        if suitetax and tax_code is not None and not tax_type:
            cause = _no_tax_type_cause(tax_code)
            if cause.key not in causes:
                causes[cause.key] = cause
                unmapped_names.append(f"tax type of NetSuite tax code {tax_code}")
        if causes:
            continue
        net = cents(line.net_total)
        body: dict[str, Any] = {
            "item": {"id": item},
            "quantity": line.quantity,
            "rate": line.price,
            "amount": line.net_total,
            "description": line.description[:DESCRIPTION_LIMIT],
        }
        tax = Decimal("0")
        if suitetax:
            reference = f"line-{number}"
            body["taxDetailsReference"] = reference
            if tax_code is not None:
                tax = cents(line.tax_amount)
                details.append(
                    {
                        "taxDetailsReference": reference,
                        "taxType": {"id": str(tax_type)},
                        "taxCode": {"id": tax_code},
                        "taxBasis": net,
                        "taxRate": line.tax_percent,
                        "taxAmount": tax,
                    }
                )
        elif tax_code is not None:
            body["taxCode"] = {"id": tax_code}
            tax = cents(net * _legacy_rate(codes, tax_code, line.tax_percent) / 100)
        netsuite_total += net + tax
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
    header["memo"] = f"{run.ctx.backend.label} {kind.noun} {doc.number or doc.id}"[:999]
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
                    fix_hint="Check that each tax rate is mapped to a NetSuite tax code with the same rate."
                    if not suitetax
                    else "Check the document's lines and tax in billing: their sum differs from its total.",
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
        )  # no taxDetailsReference: under the override a line without tax details has no tax
        note = f"rounding line of {difference:.2f} added"
    header["item"] = {"items": lines}
    replace: tuple[str, ...] = ("item",)
    if suitetax:
        header["taxDetailsOverride"] = True
        header["taxDetails"] = {"items": details}
        replace = ("item", "taxDetails")
    attribute = run.ctx.accounting_id_attribute
    return Write(
        payload=header,
        label=label,
        # Lines (and tax details) are replaced on update, never appended (docs/netsuite-accounts.md).
        replace=replace,
        note=note,
        billing_accounting_id=(doc.additional or {}).get(attribute, "") if attribute else None,
    )


def document_export(run: ExportRun, kind: DocumentKind) -> Export:
    entity = entities.get(kind.entity)
    return Export(
        entity=kind.entity,
        prepare=lambda doc, link: document_write(run, kind, doc),
        before_page=lambda page: prepare_customers(run, [doc.customer_id for doc in page]),
        confirm_deleted=lambda billing_id: entity.gone(run.ctx.billing, int(billing_id)),
        is_deleted=entity.is_deleted,
    )


def document_records(run: ExportRun, kind_name: str, ids: Collection[str] | None = None):
    """The billing documents of one kind an export reads (lazily): dated on or after
    export-from (filtered by billing); ``ids``: only those."""
    entity = entities.get(kind_name)
    export_from = run.setting("export_from")
    return by_ids(lambda chunk: entity.list(run.ctx.billing, date_from=export_from, ids=chunk), ids)


def export_documents(run: ExportRun, kind_name: str, ids: Collection[str] | None = None) -> dict[str, int]:
    """Export every document of one kind dated on or after export-from; ``ids``: only these (a live run)."""
    kind = KINDS[kind_name]
    total = totals.documents_count(run, kind.entity) if ids is None else len(ids)
    run.ledger.phase(f"Exporting {entities.get(kind_name).plural}", total=total)
    sanity.usual_amount(run, kind.entity)  # before the pass: it may need its own billing read
    records = document_records(run, kind_name, ids)
    counts = run_export(run, document_export(run, kind), records, only=ids)
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
