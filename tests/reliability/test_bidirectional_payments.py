"""Payments made on both sides, synced both ways for two cycles: none echoes back, totals agree."""

from __future__ import annotations

from decimal import Decimal

from sqlalchemy import select

from tests.reliability.audit import CENT

EACH_SIDE = 50


def money(value) -> Decimal:
    return Decimal(str(value)).quantize(CENT)


def test_fifty_payments_each_side_two_cycles_no_echo_and_totals_agree(make_isp, tally):
    from addon.extension import session
    from addon.models import Link
    from addon.sync.operations import run_operation

    setup = make_isp(customers=20, invoices=40, payments=EACH_SIDE)
    setup.env.settings(
        payment_direction="bidirectional", import_from="2020-01-01", payments_without_documents=True
    )
    netsuite, splynx = setup.env.netsuite.state.store, setup.env.splynx.state
    billing_ids = {str(p["id"]) for p in splynx.all("payments")}
    assert len(billing_ids) == EACH_SIDE

    first = run_operation("sync")
    assert first.status == "succeeded", (first.message, first.counts)
    customers = [
        link.netsuite_id for link in session().scalars(select(Link).where(Link.entity == "customer"))
    ]
    account = setup.ns_id("account", "Operating Checking")
    native = []
    for n in range(EACH_SIDE):
        body = {
            "customer": {"id": customers[n % len(customers)]},
            "tranDate": f"2025-0{1 + n % 6}-{10 + n % 15:02d}",
            "payment": Decimal(f"{10 + n}.{n % 100:02d}"),
            # Entered at the counter on account: deposited to the bank, applied to no invoice.
            "undepFunds": False,
            "account": {"id": account},
            "autoApply": False,
            "memo": f"Paid at the counter #{n}",
        }
        native.append(netsuite.create("customerPayment", body).id)

    for _cycle in range(2):
        run = run_operation("sync")
        assert run.status == "succeeded", (run.message, run.counts)

    ns_payments = netsuite.records("customerPayment")
    billing_payments = splynx.all("payments")
    assert len(ns_payments) == 2 * EACH_SIDE, f"{len(ns_payments)} NetSuite payments: an echo or a loss"
    assert len(billing_payments) == 2 * EACH_SIDE, (
        f"{len(billing_payments)} billing payments: an echo or a loss"
    )
    exported = {p["externalId"].removeprefix("splynx-payment-") for p in ns_payments if p.get("externalId")}
    assert exported == billing_ids, "an imported payment was exported back to NetSuite"
    imported = (
        session().scalars(select(Link).where(Link.entity == "payment", Link.origin == "netsuite")).all()
    )
    assert sorted(link.netsuite_id for link in imported) == sorted(native)

    netsuite_total = sum(money(p["payment"]) for p in ns_payments)
    billing_total = sum(money(p["amount"]) for p in billing_payments)
    tally["cents_lost"] += int(abs(netsuite_total - billing_total) * 100)
    assert netsuite_total == billing_total
