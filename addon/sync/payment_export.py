"""Export billing payments to NetSuite customer payments.

Only when the payment direction sends payments to NetSuite, only the pushed payment methods
(all when the list is empty), only payments dated on or after export-from. A payment that came
from NetSuite (link origin 'netsuite') is never sent back: the echo guard.
"""

from __future__ import annotations

from addon.billing import BillingPayment
from addon.sync import links
from addon.sync.customers import blocked_by_customer, ensure_customer, prepare_customers
from addon.sync.exporter import Export, ExportRun, Skip, Write, run_export
from addon.sync.ledger import Cause, RunLedger

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
        return blocked_by_customer(label, block)
    payload = {
        "customer": {"id": customer_id},
        "payment": payment.amount,
        "account": {"id": account},
        "memo": f"Splynx payment {payment.receipt_number or payment.id}"[:999],
    }
    if payment.date is not None:
        payload["tranDate"] = payment.date.isoformat()
    note = ""
    if payment.invoice_id is not None:
        invoice = run.cache.setdefault("invoice_links", {}).get(str(payment.invoice_id))
        if invoice:
            # Apply lines are keyed by `doc` (§4.4, §4.7): re-sending one updates it, never duplicates.
            payload["apply"] = {"items": [{"doc": {"id": invoice}, "apply": True, "amount": payment.amount}]}
        else:
            note = f"invoice {payment.invoice_id} is not in NetSuite; left unapplied on the customer"
    attribute = run.setting("splynx_accounting_id_attribute")
    return Write(
        payload=payload,
        label=label,
        note=note,
        billing_accounting_id=(payment.additional or {}).get(attribute, "") if attribute else None,
    )


def _before_page(run: ExportRun, page: list[BillingPayment]) -> None:
    prepare_customers(run, [p.customer_id for p in page])
    invoice_ids = {p.invoice_id for p in page if p.invoice_id is not None}
    found = links.links_for("invoice", invoice_ids)
    run.cache["invoice_links"] = {
        key: info.netsuite_id for key, info in found.items() if info.netsuite_id and info.status == "synced"
    }


def export_payment_records(run: ExportRun) -> dict:
    """The payments phase (of its own operation or of a full sync)."""
    from addon.sync.totals import payments_count

    run.ledger.phase("Exporting payments", total=payments_count(run))
    direction = run.setting("payment_direction")
    if direction not in EXPORT_DIRECTIONS:
        return {"not_exported": f"payment direction is {direction}"}
    return run_export(run, payment_export(run), payment_records(run))


def payment_records(run: ExportRun):
    """The billing payments an export reads (lazily)."""
    return run.ctx.billing.payments(date_from=run.setting("export_from"), method_ids=pushed_method_ids(run))


def payment_export(run: ExportRun) -> Export:
    return Export(
        entity="payment",
        prepare=lambda payment, link: payment_write(run, payment, link),
        before_page=lambda page: _before_page(run, page),
    )


def export_payments(ctx, ledger: RunLedger, **params) -> None:
    """Operation: create or update NetSuite customer payments from billing payments."""
    run = ExportRun(ctx, ledger)
    ledger.set_result({"payments": export_payment_records(run)})
