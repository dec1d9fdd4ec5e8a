"""The full sync: every export, then the payment import, as phases of one run."""

from __future__ import annotations

import importlib

from addon.sync import totals
from addon.sync.customers import customer_export
from addon.sync.documents import export_documents
from addon.sync.exporter import ExportRun, run_export
from addon.sync.ledger import RunLedger
from addon.sync.payment_export import export_payment_records

IMPORT_DIRECTIONS = ("netsuite_to_splynx", "bidirectional")


def full_sync(ctx, ledger: RunLedger, **params) -> None:
    """Customers, invoices, credit notes, payments out, then payments in (per direction).

    Customers go first so documents and payments find their customer linked; invoices before
    payments so a payment can be applied to its invoice in the same run.
    """
    run = ExportRun(ctx, ledger)
    result: dict = {}
    totals.plan_full_sync(run)  # billing counted first: the percentage means something from the start
    ledger.phase("Exporting customers", total=totals.customers_count(run))
    records = ctx.billing.customers(partner_ids_excluded=run.ignored_partners())
    result["customers"] = run_export(run, customer_export(run), records)
    result["invoices"] = export_documents(run, "invoice")
    result["credit_notes"] = export_documents(run, "credit_note")
    result["payments"] = export_payment_records(run)
    if ctx.setting("payment_direction") in IMPORT_DIRECTIONS:
        ledger.phase("Importing payments")
        try:
            module = importlib.import_module("addon.sync.payment_import")
        except ModuleNotFoundError:
            result["payment_import"] = "not available in this version"
        else:
            module.import_payments(ctx, ledger, **params)
            result["payment_import"] = dict(ledger.run.result or {})
    ledger.set_result(result)
