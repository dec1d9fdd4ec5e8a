"""Payment export over real HTTP against both sandboxes."""

from __future__ import annotations

from decimal import Decimal

from sqlalchemy import select

from addon.extension import session
from addon.models import Link, LogEntry, Problem


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
