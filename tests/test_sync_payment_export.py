"""Payment export over real HTTP against both sandboxes."""

from __future__ import annotations

from decimal import Decimal

import pytest
from sqlalchemy import select

from addon.extension import session
from addon.models import Link, LogEntry, Problem
from tests.plugins.netsuite_sandbox import across_profiles

# Customers, documents and payments behave the same in every supported account profile.
pytestmark = [across_profiles, pytest.mark.usefixtures("both_auth_modes")]


def rows_of(run):
    query = select(LogEntry).where(LogEntry.run_id == run.id, LogEntry.entity == "payment")
    return {row.billing_id: row for row in session().scalars(query)}


def test_payments_apply_to_their_invoice_and_export_once(export_ready):
    setup = export_ready
    setup.run("export_invoices")
    run = setup.run("export_payments")
    rows = rows_of(run)
    created = [r for r in rows.values() if r.outcome == "created"]
    assert created and len(created) == len(setup.ns_records("customerPayment"))
    invoice_links = {
        link.billing_id: link.netsuite_id
        for link in session().scalars(select(Link).where(Link.entity == "invoice"))
    }
    applied = 0
    for row in created:
        payment = setup.env.splynx.state.get("payments", int(row.billing_id))
        record = setup.store.get("customerPayment", row.netsuite_id)
        assert record["payment"] == Decimal(payment["amount"])
        assert record["account"] == setup.ns_id("account", "Operating Checking")
        invoice = invoice_links.get(str(payment["invoice_id"] or ""))
        if invoice:
            assert [line["doc"] for line in record["apply"]] == [invoice]
            applied += 1
        else:
            assert not record.get("apply")
    assert applied
    writes = setup.writes()
    again = setup.run("export_payments")
    assert setup.writes() == writes
    assert again.counts.get("unchanged") == len(created)


def test_echo_guard_method_filter_and_unmapped_bank_account(export_ready):
    setup = export_ready
    payments = setup.env.splynx.state.all("payments")
    echoed = next(p for p in payments if p["payment_type"] == 2)
    session().add(Link(entity="payment", billing_id=str(echoed["id"]), netsuite_id="999", origin="netsuite"))
    session().commit()
    setup.unmap("default_bank_account", "")
    setup.map("payment_method", 2, setup.ns_id("account", "Payroll Savings"))
    setup.env.settings(payment_methods_push=["2", "3"])
    run = setup.run("export_payments", dry_run=True)
    rows = rows_of(run)
    assert setup.writes() == 0
    assert {int(b) for b in rows} == {p["id"] for p in payments if p["payment_type"] in (2, 3)}
    assert rows[str(echoed["id"])].action == "echo_guard"
    assert rows[str(echoed["id"])].message == "came from NetSuite; never exported back"
    card = [p for p in payments if p["payment_type"] == 3 and p["id"] != echoed["id"]]
    assert all(rows[str(p["id"])].outcome == "skipped" for p in card)
    assert 'payment method "Credit card" has no bank account' in rows[str(card[0]["id"])].message
    real = setup.run("export_payments")
    problem = session().scalar(select(Problem).where(Problem.cause_key == "unmapped:payment_method:3"))
    assert problem.count == len(card) and problem.fix_kind == "payment_method"
    assert real.counts.get("created")


def test_direction_from_netsuite_exports_no_payments(export_ready):
    setup = export_ready
    setup.env.settings(payment_direction="netsuite_to_splynx")
    run = setup.run("export_payments")
    assert not rows_of(run) and setup.writes() == 0


def test_unknown_payment_method_is_skipped_with_a_cause_not_sent_to_the_default_account(export_ready):
    setup = export_ready
    payment = setup.env.splynx.state.all("payments")[0]
    payment["payment_type"] = 99
    run = setup.run("export_payments")
    row = rows_of(run)[str(payment["id"])]
    assert (row.outcome, row.message) == ("skipped", "payment method #99 is unknown in billing")
    assert f"splynx-payment-{payment['id']}" not in {
        r["externalId"] for r in setup.ns_records("customerPayment")
    }
    problem = session().scalar(select(Problem).where(Problem.cause_key == "unknown:payment_method:99"))
    assert problem is not None and problem.count == 1


def _payment_record(setup, billing_id) -> dict:
    link = session().scalar(select(Link).where(Link.entity == "payment", Link.billing_id == str(billing_id)))
    return setup.store.get("customerPayment", link.netsuite_id)


def _invoice_links() -> dict[int, str]:
    return {
        int(link.billing_id): link.netsuite_id
        for link in session().scalars(select(Link).where(Link.entity == "invoice"))
        if link.netsuite_id
    }


def test_payments_go_to_the_mapped_bank_account_and_are_never_auto_applied(export_ready):
    setup = export_ready
    store = setup.store
    # The account's preferences are the inconvenient ones: Undeposited Funds and Auto Apply on.
    assert store.preferences.undeposited_funds and store.preferences.auto_apply
    setup.run("export_invoices")
    payments = setup.env.splynx.state.all("payments")
    run = setup.run("export_payments")
    assert run.status == "succeeded"
    loose = next(
        p for p in payments if not p.get("invoice_id") and rows_of(run)[str(p["id"])].outcome == "created"
    )
    checking = setup.ns_id("account", "Operating Checking")
    for payment in payments:
        row = rows_of(run).get(str(payment["id"]))
        if row is None or row.outcome != "created":
            continue
        record = _payment_record(setup, payment["id"])
        assert record["undepFunds"] is False and record["autoApply"] is False
        assert record["account"] == checking  # the mapped account, not Undeposited Funds
    # The customer has open invoices, yet a payment for no invoice stays unapplied.
    assert not _payment_record(setup, loose["id"]).get("apply")


def test_applied_amount_is_capped_at_what_the_invoice_still_owes(export_ready):
    setup = export_ready
    setup.run("export_invoices")
    invoices = _invoice_links()
    payment = next(p for p in setup.env.splynx.state.all("payments") if p.get("invoice_id") in invoices)
    invoice_id = invoices[payment["invoice_id"]]
    store = setup.store
    due = store.invoice_due(invoice_id)
    amount = Decimal(str(payment["amount"]))
    # Someone in NetSuite already took all but 1.00 of the invoice (or all of it if it was smaller).
    taken = max(Decimal("0"), due - min(Decimal("1.00"), amount / 2))
    invoice = store.get("invoice", invoice_id)
    store.create(
        "customerPayment",
        {"customer": {"id": invoice["entity"]}, "payment": taken, "undepFunds": False, "account": {"id": "1"},
         "apply": {"items": [{"doc": {"id": invoice_id}, "apply": True, "amount": taken}]}},
    )  # fmt: skip
    left = store.invoice_due(invoice_id)
    assert 0 < left < amount

    run = setup.run("export_payments")

    row = rows_of(run)[str(payment["id"])]
    assert row.outcome == "created", row.message
    record = _payment_record(setup, payment["id"])
    assert record["payment"] == amount
    assert [(line["doc"], line["amount"]) for line in record["apply"]] == [(invoice_id, left)]
    assert f"{amount - left:.2f} left unapplied on the customer" in row.message
    assert store.invoice_due(invoice_id) == 0


def test_a_payment_moved_to_another_invoice_is_unapplied_from_the_old_one(export_ready):
    setup = export_ready
    setup.run("export_invoices")
    invoices = _invoice_links()
    billing_invoices = setup.env.splynx.state.all("invoices")
    by_customer: dict[int, list[int]] = {}
    for invoice in billing_invoices:
        if invoice["id"] in invoices:
            by_customer.setdefault(int(invoice["customer_id"]), []).append(invoice["id"])
    setup.run("export_payments")
    store = setup.store

    def open_elsewhere(p) -> list[int]:
        others = by_customer.get(int(p["customer_id"]), [])
        return [
            i
            for i in others
            if i != p["invoice_id"] and store.invoice_due(invoices[i]) >= Decimal(str(p["amount"]))
        ]

    payment = next(
        p
        for p in setup.env.splynx.state.all("payments")
        if p.get("invoice_id") in invoices and open_elsewhere(p)
    )
    old = invoices[payment["invoice_id"]]
    assert [line["doc"] for line in _payment_record(setup, payment["id"])["apply"]] == [old]
    old_due = store.invoice_due(old)

    new_billing = open_elsewhere(payment)[0]
    payment["invoice_id"] = new_billing
    run = setup.run("export_payments")

    assert rows_of(run)[str(payment["id"])].outcome == "updated"
    record = _payment_record(setup, payment["id"])
    assert [line["doc"] for line in record["apply"]] == [invoices[new_billing]]
    assert setup.store.invoice_due(old) > old_due  # the old invoice is open again
