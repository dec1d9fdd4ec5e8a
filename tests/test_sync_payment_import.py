"""Importing NetSuite customer payments into billing, both sandboxes over real HTTP."""

from __future__ import annotations

from decimal import Decimal

import pytest
from sqlalchemy import select

from addon.extension import session
from addon.models import Link, LogEntry
from addon.sync.operations import run_operation
from addon.sync.problems import open_problems
from tests.plugins.netsuite_sandbox import across_profiles

# Customers, documents and payments behave the same in every supported account profile.
pytestmark = across_profiles

BILLING_CUSTOMER = 1


class World:
    """A billing customer linked to a NetSuite customer, with one exported (linked) invoice."""

    def __init__(self, configured):
        self.configured = configured
        self.ns = configured.netsuite.state.store
        self.splynx = configured.splynx.state
        self.customer = self.ns.create(
            "customer", {"companyName": "Linked Co", "subsidiary": {"id": "1"}, "currency": {"id": "1"}}
        ).id
        self.stranger = self.ns.create(
            "customer", {"companyName": "Unlinked Co", "subsidiary": {"id": "1"}, "currency": {"id": "1"}}
        ).id
        self.link("customer", BILLING_CUSTOMER, self.customer)
        self.billing_invoice = next(
            i for i in self.splynx.all("invoices") if i["customer_id"] == BILLING_CUSTOMER
        )
        item = self.ns.ids("serviceSaleItem")[0]
        self.invoice = self.ns.create(
            "invoice",
            {"entity": {"id": self.customer}, "tranDate": "2025-03-02",
             "externalId": f"splynx-invoice-{self.billing_invoice['id']}",
             "item": {"items": [{"item": {"id": item}, "quantity": 1, "rate": Decimal("100"),
                                 "amount": Decimal("100")}]}},
        ).id  # fmt: skip
        self.link("invoice", self.billing_invoice["id"], self.invoice)

    def link(self, entity: str, billing_id, netsuite_id: str) -> None:
        session().add(Link(entity=entity, billing_id=str(billing_id), netsuite_id=netsuite_id))
        session().commit()

    def payment(self, amount: str, day: str, *, customer=None, applied: str | None = None, **fields) -> str:
        body = {"customer": {"id": customer or self.customer}, "tranDate": day, "payment": Decimal(amount),
                "account": {"id": "1"}, **fields}  # fmt: skip
        if applied:
            body["apply"] = {
                "items": [{"doc": {"id": self.invoice}, "apply": True, "amount": Decimal(applied)}]
            }
        return self.ns.create("customerPayment", body).id

    def billing_payments(self) -> list[dict]:
        return [p for p in self.splynx.all("payments") if "NetSuite" in (p.get("comment") or "")]

    def statements(self) -> dict[str, list[dict]]:
        lines = self.splynx.all("bank_statement_records")
        return {
            s["title"]: [r for r in lines if int(r["bank_statements_process_id"]) == s["id"]]
            for s in self.splynx.all("bank_statements")
        }


@pytest.fixture
def world(configured):
    configured.settings(payment_direction="netsuite_to_splynx", import_from="2025-01-01")
    return World(configured)


def test_import_is_off_when_direction_is_billing_to_netsuite(world):
    world.configured.settings(payment_direction="splynx_to_netsuite")
    world.payment("10", "2025-03-05")
    run = run_operation("import_payments")
    assert run.status == "succeeded"
    assert "payment import is off" in run.message
    assert world.billing_payments() == []


def test_applied_unapplied_echo_and_old_payments(world):
    applied = world.payment("60", "2025-03-05", applied="60")
    split = world.payment("50", "2025-03-20", applied="40", tranId="PAY-SPLIT")
    loose_a = world.payment("15", "2025-03-07")
    loose_b = world.payment("25", "2025-03-28")
    world.payment("70", "2025-04-01", externalId="splynx-payment-77")  # ours: the echo guard
    world.payment("30", "2024-12-31")  # before import_from

    run = run_operation("import_payments")
    assert run.status == "succeeded", run.message
    assert run.counts == {"imported": 4}

    on_invoice = {Decimal(p["amount"]) for p in world.billing_payments() if int(p["invoice_id"] or 0)}
    assert on_invoice == {Decimal("60"), Decimal("40")}
    assert all(int(p["invoice_id"]) == world.billing_invoice["id"] for p in world.billing_payments())
    # Unapplied money (two loose payments and the rest of the split) lands in March's statement.
    statements = world.statements()
    assert list(statements) == ["NetSuite payments 2025-03"]
    amounts = sorted(Decimal(r["amount"]) for r in statements["NetSuite payments 2025-03"])
    assert amounts == [Decimal("10"), Decimal("15"), Decimal("25")]
    assert all(int(r["customer_id"]) == BILLING_CUSTOMER for r in statements["NetSuite payments 2025-03"])
    imported = {link.netsuite_id for link in session().scalars(select(Link).where(Link.origin == "netsuite"))}
    assert imported == {applied, split, loose_a, loose_b}

    # Twice: nothing new, nothing duplicated; 'all' recognises every import.
    again = run_operation("import_payments")
    assert again.counts == {}
    everything = run_operation("import_all_payments")
    assert everything.counts == {"unchanged": 4}
    assert len(world.billing_payments()) == 2
    assert sum(len(lines) for lines in world.statements().values()) == 3


def test_unapplied_payment_goes_on_account_when_allowed_and_groups_by_day(world):
    world.configured.settings(payments_without_documents=True)
    world.payment("15", "2025-03-07")
    run_operation("import_payments")
    (payment,) = world.billing_payments()
    assert Decimal(payment["amount"]) == Decimal("15") and not int(payment["invoice_id"] or 0)
    assert world.statements() == {}

    world.configured.settings(payments_without_documents=False, statement_grouping="day")
    world.payment("5", "2025-03-08")
    world.payment("6", "2025-03-08")
    run = run_operation("import_payments")
    assert run.counts == {"imported": 2}
    statements = world.statements()
    assert list(statements) == ["NetSuite payments 2025-03-08"]
    assert len(statements["NetSuite payments 2025-03-08"]) == 2


def test_unknown_customer_is_skipped_then_retried_once_linked(world):
    stranger_payment = world.payment("12", "2025-05-02", customer=world.stranger)
    run = run_operation("import_payments")
    assert run.counts == {"skipped": 1}
    (problem,) = open_problems()
    assert problem.kind == "unlinked" and problem.records[0].billing_id == f"netsuite:{stranger_payment}"

    world.payment("8", "2025-05-03")  # imported, moving the cursor past the stranger's payment
    run_operation("import_payments")
    world.link("customer", 2, world.stranger)
    retry = run_operation("import_payments")
    assert retry.counts == {"imported": 1}
    assert open_problems() == []
    entry = session().scalar(select(LogEntry).where(LogEntry.run_id == retry.id))
    assert entry.netsuite_id == stranger_payment and entry.direction == "import"


def test_dry_run_imports_nothing(world):
    world.payment("60", "2025-03-05", applied="60")
    run = run_operation("import_all_payments", dry_run=True)
    assert run.counts == {"would_import": 1}
    assert world.billing_payments() == []
    assert session().scalars(select(Link).where(Link.origin == "netsuite")).all() == []


def test_payment_method_follows_the_bank_account_read_side_by_side(world):
    from addon.models import Mapping

    accounts = {r["acctName"]: r["id"] for r in world.ns.records("account")}
    checking, savings = accounts["Operating Checking"], accounts["Payroll Savings"]
    session().add_all(
        [
            Mapping(kind="payment_method", billing_id="2", netsuite_id=checking),
            Mapping(kind="payment_method", billing_id="3", netsuite_id=savings),
        ]
    )
    session().commit()
    world.configured.settings(payments_without_documents=True)  # each one a billing payment
    on_account = {}
    for n in range(8):
        account = checking if n % 2 else savings
        on_account[world.payment(f"{10 + n}.25", "2025-03-05", account={"id": account})] = account
    state = world.configured.netsuite.state
    state.latency = 0.05  # long enough for reads to overlap when they are sent side by side
    state.reset_counters()

    run = run_operation("import_payments")

    assert run.status == "succeeded" and run.counts == {"imported": 8}, (run.status, run.counts)
    method_of = {checking: 2, savings: 3}
    imported = {p["amount"]: int(p["payment_type"]) for p in world.billing_payments()}
    expected = {Decimal(f"{10 + n}.25"): method_of[account] for n, account in enumerate(on_account.values())}
    assert {Decimal(str(amount)): method for amount, method in imported.items()} == expected
    assert state.counters.requests["GET customerPayment"] == 8  # one read per payment
    assert 1 < state.counters.peak_in_flight <= 4  # side by side, within the account's limit
