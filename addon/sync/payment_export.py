"""Export billing payments to NetSuite customer payments.

Only when the payment direction sends payments to NetSuite, only the pushed payment methods
(all when the list is empty), only payments dated on or after export-from. A payment that came
from NetSuite (link origin 'netsuite') is never sent back: the echo guard.
"""

from __future__ import annotations

from collections.abc import Collection
from decimal import Decimal

from addon.billing import BillingPayment
from addon.sync import entities, links
from addon.sync.customers import blocked_by_customer, ensure_customer, prepare_customers
from addon.sync.exporter import Export, ExportRun, Skip, Write, by_ids, run_export
from addon.sync.ledger import Cause, RunLedger
from addon.sync.run_state import PaymentState

EXPORT_DIRECTIONS = ("splynx_to_netsuite", "bidirectional")


def pushed_method_ids(run: ExportRun) -> list[int] | None:
    """Payment method ids to export (None = all); names in the setting are resolved once."""
    wanted = [str(v) for v in run.setting("payment_methods_push") or []]
    if not wanted:
        return None
    ids = {int(v) for v in wanted if v.isdigit()}
    names = {v.casefold() for v in wanted if not v.isdigit()}
    if names:
        ids |= {m.id for m in run.ctx.billing.payment_methods() if m.name.casefold() in names}
    return sorted(ids)


def payment_write(run: ExportRun, payment: BillingPayment, link: links.LinkInfo | None) -> Write | Skip:
    """The NetSuite customer payment body for ``payment``, or why it is not sent."""
    label = f"Payment {payment.receipt_number or payment.id}"
    if link is not None and link.origin == "netsuite":
        return Skip("came from NetSuite; never exported back", label, action="echo_guard")
    if payment.amount <= 0:
        return Skip(
            f"amount {payment.amount:.2f} is not a receipt; refunds are not exported as payments",
            label,
            Cause(
                key="payment:not_positive",
                kind="unsupported",
                title="Refunds and zero payments are not exported as NetSuite customer payments",
            ),
        )
    if payment.payment_method_id not in run.billing_names("payment_method"):
        # Posting it to the default bank account would hide money in the wrong account.
        what = f"#{payment.payment_method_id}" if payment.payment_method_id is not None else "(none)"
        return Skip(
            f"payment method {what} is unknown in billing",
            label,
            Cause(
                key=f"unknown:payment_method:{payment.payment_method_id}",
                kind="invalid_fields",
                title=f"Payments with payment method {what}, which billing does not know",
                fix_hint="Correct the payment's method in billing, or restore the payment method.",
                fix_kind="payment",
            ),
        )
    account = run.mapping("payment_method", payment.payment_method_id) or run.mapping("default_bank_account")
    if account is None:
        name = run.billing_name("payment_method", payment.payment_method_id)
        return Skip(
            f'payment method "{name}" has no bank account and there is no default bank account',
            label,
            Cause(
                key=f"unmapped:payment_method:{payment.payment_method_id}",
                kind="unmapped",
                title=f'Payment method "{name}" is not mapped to a NetSuite bank account',
                fix_hint="Map the payment method, or choose a default bank account.",
                fix_kind="payment_method",
                fix_ref=str(payment.payment_method_id),
            ),
        )
    customer_id, block = ensure_customer(run, payment.customer_id)
    if customer_id is None:
        assert block is not None  # ensure_customer gives an id or the reason there is none
        return blocked_by_customer(label, block)
    payload = {
        "customer": {"id": customer_id},
        "payment": payment.amount,
        # `account` counts only when undepFunds is false (SOAP schema browser, customerPayment:
        # "required when undepFunds is set to FALSE"); left to the preference, the money may land
        # in Undeposited Funds. autoApply false: a payment without an invoice is never applied to
        # the customer's oldest open invoice (docs/netsuite-oauth2-and-payments.md).
        "undepFunds": False,
        "account": {"id": account},
        "autoApply": False,
        "memo": f"{run.ctx.backend.label} payment {payment.receipt_number or payment.id}"[:999],
    }
    if payment.date is not None:
        payload["tranDate"] = payment.date.isoformat()
    invoice, note = None, ""
    if payment.invoice_id is not None:
        invoice = run.state.payments.invoice_links.get(str(payment.invoice_id))
        if not invoice:
            note = f"invoice {payment.invoice_id} is not in NetSuite; left unapplied on the customer"
    if invoice:
        # Apply lines are keyed by `doc` (docs/netsuite-rest.md §4.4, §4.7): re-sending one updates it, never
        # duplicates.
        payload["apply"] = {"items": [{"doc": {"id": invoice}, "apply": True, "amount": payment.amount}]}
    if not _unchanged(payload, link):
        # Only a payment that will be written asks NetSuite what its invoice still owes.
        lines, capped = _apply_lines(run, payment, link, invoice)
        payload.pop("apply", None)
        if lines:
            payload["apply"] = {"items": lines}
        note = capped or note
    attribute = run.ctx.accounting_id_attribute
    return Write(
        payload=payload,
        label=label,
        note=note,
        billing_accounting_id=(payment.additional or {}).get(attribute, "") if attribute else None,
    )


def _unchanged(payload: dict, link: links.LinkInfo | None) -> bool:
    """True when this body is what was last sent (the export will skip it)."""
    return bool(
        link is not None
        and link.netsuite_id
        and link.status == "synced"
        and link.content_hash == links.content_hash(entities.PAYMENT.record_type, payload)
    )


def _apply_lines(
    run: ExportRun, payment: BillingPayment, link: links.LinkInfo | None, invoice: str | None
) -> tuple[list[dict], str]:
    """The payment's apply lines, and what its log row says when the invoice owed less.

    What is applied to the invoice is capped at what the invoice still owes (plus what this
    payment already applies to it); the rest stays unapplied on the customer. Invoices the
    payment was applied to before and no longer targets are unapplied.
    """
    state = _load_page_state(run)
    applications = state.own_applications or {}
    own = applications.get(link.netsuite_id, {}) if link and link.netsuite_id else {}
    note = ""
    lines = [{"doc": {"id": doc}, "apply": False} for doc in sorted(own) if doc != invoice]
    remaining = state.invoice_remaining
    for doc, amount in own.items():
        if doc != invoice and doc in remaining:
            remaining[doc] += amount  # unapplied from it: the invoice owes that much more again
    if invoice:
        already = own.get(invoice, Decimal("0"))
        room = max(Decimal("0"), remaining.get(invoice, Decimal("0"))) + already
        amount = min(payment.amount, room)
        if amount > 0:
            lines.append({"doc": {"id": invoice}, "apply": True, "amount": amount})
            remaining[invoice] = remaining.get(invoice, Decimal("0")) - (amount - already)
        elif already:
            lines.append({"doc": {"id": invoice}, "apply": False})
        if amount < payment.amount:
            note = (
                f"invoice {payment.invoice_id} had {room:.2f} left to pay; {amount:.2f} applied, "
                f"{payment.amount - amount:.2f} left unapplied on the customer"
            )
    return lines, note


def _before_page(run: ExportRun, page: list[BillingPayment]) -> None:
    prepare_customers(run, [p.customer_id for p in page])
    invoice_ids = {p.invoice_id for p in page if p.invoice_id is not None}
    found = links.links_for(entities.INVOICE.name, invoice_ids)
    state = run.state.payments
    state.invoice_links = {
        key: info.netsuite_id for key, info in found.items() if info.netsuite_id and info.status == "synced"
    }
    state.page = page
    state.own_applications = None


def _load_page_state(run: ExportRun) -> PaymentState:
    """Once per page, on the first payment to write: its payments' current applications and
    what their invoices still owe (two SuiteQL queries for the page)."""
    state = run.state.payments
    if state.own_applications is not None:
        return state
    mine = links.links_for(entities.PAYMENT.name, (p.id for p in state.page))
    payment_ids = sorted({int(ns_id) for i in mine.values() if (ns_id := i.netsuite_id or "").isdigit()})
    state.own_applications = _applications_of(run, payment_ids)
    targets = set(state.invoice_links.values())
    targets |= {doc for applied in state.own_applications.values() for doc in applied}
    # Kept for the whole run and lowered by every amount this run applies: a later page never
    # re-reads an invoice whose payments of an earlier page may still be in flight.
    remaining = state.invoice_remaining
    unknown = sorted(int(i) for i in targets if i.isdigit() and i not in remaining)
    remaining.update(_remaining(run, unknown))
    return state


def _applications_of(run: ExportRun, payment_ids: list[int]) -> dict[str, dict[str, Decimal]]:
    """What each of these NetSuite payments applies to which invoice now (one SuiteQL)."""
    found: dict[str, dict[str, Decimal]] = {}
    if not payment_ids:
        return found
    query = (
        "SELECT l.nextdoc, l.previousdoc, l.foreignamount FROM nexttransactionlinelink l "  # noqa: S608
        f"WHERE l.nexttype = '{entities.PAYMENT.tran_type}' AND l.previoustype = '{entities.INVOICE.tran_type}' "
        f"AND l.nextdoc IN ({', '.join(str(i) for i in payment_ids)}) ORDER BY l.nextdoc ASC, l.previousdoc ASC"
    )
    for row in run.ctx.netsuite.suiteql(query):
        applied = found.setdefault(str(row["nextdoc"]), {})
        applied[str(row["previousdoc"])] = abs(Decimal(row.get("foreignamount", "0")))
    return found


def _remaining(run: ExportRun, invoice_ids: list[int]) -> dict[str, Decimal]:
    """What each invoice still owes, in its currency (``foreignamountunpaid``, one SuiteQL)."""
    if not invoice_ids:
        return {}
    query = (
        "SELECT t.id, t.foreignamountunpaid FROM transaction t "  # noqa: S608 (ints only)
        f"WHERE t.type = '{entities.INVOICE.tran_type}' AND t.id IN ({', '.join(str(i) for i in invoice_ids)}) ORDER BY t.id ASC"
    )
    return {
        str(row["id"]): Decimal(row.get("foreignamountunpaid", "0"))
        for row in run.ctx.netsuite.suiteql(query)
    }


def export_payment_records(run: ExportRun, ids: Collection[str] | None = None) -> dict:
    """The payments phase (of its own operation, of a full sync, or of a live run: ``ids``)."""
    from addon.sync.totals import payments_count

    run.ledger.phase("Exporting payments", total=payments_count(run) if ids is None else len(ids))
    direction = run.setting("payment_direction")
    if direction not in EXPORT_DIRECTIONS:
        return {"not_exported": f"payment direction is {direction}"}
    return run_export(run, payment_export(run), payment_records(run, ids), only=ids)


def payment_records(run: ExportRun, ids: Collection[str] | None = None):
    """The billing payments an export reads (lazily); ``ids``: only those."""
    methods = pushed_method_ids(run)
    return by_ids(
        lambda chunk: run.ctx.billing.payments(
            date_from=run.setting("export_from"), method_ids=methods, ids=chunk
        ),
        ids,
    )


def payment_export(run: ExportRun) -> Export:
    return Export(
        entity=entities.PAYMENT.name,
        prepare=lambda payment, link: payment_write(run, payment, link),
        before_page=lambda page: _before_page(run, page),
    )


def export_payments(ctx, ledger: RunLedger, **params) -> None:
    """Operation: create or update NetSuite customer payments from billing payments."""
    run = ExportRun(ctx, ledger)
    ledger.set_result({"payments": export_payment_records(run)})
