"""Reconciliation after a real export of a generated dataset, both sandboxes over HTTP."""

from __future__ import annotations

from decimal import Decimal

from sqlalchemy import select

from addon.extension import session
from addon.models import Link
from addon.sync.reconcile import reconciliation

PERIOD = {"date_from": "2024-01-01", "date_to": "2025-06-30"}


def linked(entity: str) -> set[str]:
    return set(
        session().scalars(select(Link.billing_id).where(Link.entity == entity, Link.netsuite_id.is_not(None)))
    )


def test_reconcile_agrees_after_export_and_reports_what_disagrees(export_ready):
    setup = export_ready
    for operation in ("export_invoices", "export_credit_notes", "export_payments"):
        run = setup.run(operation)
        # The generated dataset holds customers NetSuite cannot take (missing zip, email...).
        assert run.status == "succeeded", (operation, run.status, run.message)

    run = setup.run("reconcile", params=PERIOD)
    report = run.result
    # The only disagreements are the records the exports could not send, each reported as such.
    assert {d["problem"] for d in report["discrepancies"]} == {"not_exported"}
    for entity in ("invoice", "credit_note", "payment"):
        sides = report["entities"][entity]
        unsent = [d for d in report["discrepancies"] if d["entity"] == entity]
        assert not {d["billing_id"] for d in unsent} & linked(entity)
        assert sides["netsuite_count"] == len(linked(entity)) > 0
        assert sides["billing_count"] - len(unsent) == sides["netsuite_count"]
        assert sides["agree"] is not bool(unsent)
        assert Decimal(sides["difference"]) == sum((Decimal(d["billing_total"]) for d in unsent), Decimal(0))
    assert len(report["months"]) >= 12
    june = {m["month"]: m for m in report["months"]}["2025-06"]
    by_type = june["by_entity"]
    assert Decimal(june["netsuite"]) == Decimal(by_type["invoice"]["netsuite"]) - Decimal(
        by_type.get("credit_note", {}).get("netsuite", "0")
    )
    assert run.counts == {"skipped": 3}
    baseline = {(d["entity"], d["billing_id"]) for d in report["discrepancies"]}

    # Someone edits an exported invoice in NetSuite, and a new billing payment is not exported yet.
    altered_id = session().scalar(select(Link.netsuite_id).where(Link.entity == "invoice"))
    altered = setup.store.get("invoice", altered_id)
    line = {"item": {"id": altered["item"][0]["item"]}, "quantity": 1, "rate": Decimal("1.00")}
    setup.store.update("invoice", altered_id, {"item": {"items": [line]}})
    customer = next(iter(linked("customer")))
    new_payment = setup.env.splynx.state.add_payment(int(customer), "12.34", date="2025-06-15")

    report = reconciliation(setup.env.context(), **PERIOD)
    new = [d for d in report["discrepancies"] if (d["entity"], d["billing_id"]) not in baseline]
    assert {(d["entity"], d["problem"]) for d in new} == {
        ("invoice", "total_differs"),
        ("payment", "not_exported"),
    }
    (differs,) = (d for d in new if d["problem"] == "total_differs")
    assert differs["netsuite_id"] == altered_id
    assert Decimal(differs["netsuite_total"]) == Decimal(differs["billing_total"]) + Decimal("1.00")
    (unsent,) = (d for d in new if d["problem"] == "not_exported")
    assert unsent["billing_id"] == str(new_payment["id"]) and unsent["billing_total"] == "12.34"
    assert not report["agree"] and not report["entities"]["invoice"]["agree"]


def test_reconcile_with_nothing_exported_lists_everything_as_not_exported(configured):
    report = reconciliation(configured.context(), "2025-06-01", "2025-06-30")
    invoices = report["entities"]["invoice"]
    assert (invoices["netsuite_count"], invoices["netsuite_total"]) == (0, "0.00")
    assert invoices["billing_count"] > 0
    assert Decimal(invoices["difference"]) == Decimal(invoices["billing_total"])
    assert report["discrepancy_count"] == sum(s["billing_count"] for s in report["entities"].values())
    assert [m["month"] for m in report["months"]] == ["2025-06"]
    assert report["months"][0]["netsuite"] == "0.00"
