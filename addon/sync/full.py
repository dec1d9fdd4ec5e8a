"""The full sync: every export, then the payment import, as phases of one run."""

from __future__ import annotations

import importlib

from addon.sync import entities, totals
from addon.sync.exporter import ExportRun
from addon.sync.ledger import RunLedger

IMPORT_DIRECTIONS = ("netsuite_to_splynx", "bidirectional")


def full_sync(ctx, ledger: RunLedger, **params) -> None:
    """Every entity type's export in registry order, then payments in (per direction).

    Customers go first so documents and payments find their customer linked; invoices before
    payments so a payment can be applied to its invoice in the same run.
    """
    run = ExportRun(ctx, ledger)
    result: dict = {}
    totals.plan_full_sync(run)  # billing counted first: the percentage means something from the start
    for kind in entities.all_types():
        result[f"{kind.name}s"] = kind.export_records(run, None)
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
