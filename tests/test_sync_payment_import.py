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
pytestmark = [across_profiles, pytest.mark.usefixtures("both_auth_modes")]

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
        # Unpaid in billing, 100.00 due, as the NetSuite invoice below.
        for paid in [p for p in self.splynx.all("payments") if p["invoice_id"] == self.billing_invoice["id"]]:
            self.splynx.delete("payments", paid["id"])
        self.splynx.set_item("invoices", self.billing_invoice["id"], 0, price="100", quantity="1", tax="0")
        assert Decimal(self.splynx.get("invoices", self.billing_invoice["id"])["due"]) == Decimal("100")
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
        # As a user enters it: deposited to the bank account, applied to nothing unless said.
        body = {"customer": {"id": customer or self.customer}, "tranDate": day, "payment": Decimal(amount),
                "undepFunds": False, "account": {"id": "1"}, "autoApply": False, **fields}  # fmt: skip
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


def test_payment_method_follows_the_deposit_account_read_in_the_same_query(world):
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
    state.reset_counters()

    run = run_operation("import_payments")

    assert run.status == "succeeded" and run.counts == {"imported": 8}, (run.status, run.counts)
    method_of = {checking: 2, savings: 3}
    imported = {p["amount"]: int(p["payment_type"]) for p in world.billing_payments()}
    expected = {Decimal(f"{10 + n}.25"): method_of[account] for n, account in enumerate(on_account.values())}
    assert {Decimal(str(amount)): method for amount, method in imported.items()} == expected
    # The deposit account comes with the payments' SuiteQL: no read per payment.
    assert state.counters.requests["GET customerPayment"] == 0


def keys_in_billing(world) -> list[str]:
    """Every key of ours that billing holds: receipt numbers of payments and statement lines' refs."""
    receipts = [p["receipt_number"] for p in world.splynx.all("payments")]
    lines = [r["additional_1"] for r in world.splynx.all("bank_statement_records")]
    return [key for key in receipts + lines if key.startswith("ns-payment-")]


def test_statement_lines_are_actionable_and_say_why(world):
    loose = world.payment("15", "2025-03-07", tranId="PAY-LOOSE")
    run_operation("import_payments")
    (statement,) = world.splynx.all("bank_statements")
    assert statement["handler"] == "" and statement["status"] == "success"
    (line,) = world.splynx.all("bank_statement_records")
    assert line["status"] == "error" and line["additional_1"] == f"ns-payment-{loose}:rest"
    assert "PAY-LOOSE" in line["comment"] and "no invoice known here" in line["comment"]


@pytest.mark.parametrize("on_account", [False, True])
def test_an_invoice_paid_in_billing_takes_only_its_due(world, on_account):
    world.configured.settings(payments_without_documents=on_account)
    invoice_id = world.billing_invoice["id"]
    world.splynx.add_payment(
        BILLING_CUSTOMER, "70", invoice_id=invoice_id, date="2025-03-01"
    )  # from the balance
    payment = world.payment("60", "2025-03-05", applied="60")

    run = run_operation("import_payments")
    assert run.counts == {"imported": 1}, run.message
    ours = [p for p in world.billing_payments()]
    on_invoice = [p for p in ours if int(p["invoice_id"] or 0) == invoice_id]
    assert [Decimal(p["amount"]) for p in on_invoice] == [Decimal("30")]
    assert world.splynx.get("invoices", invoice_id)["status"] == "paid"
    if on_account:
        (extra,) = [p for p in ours if not int(p["invoice_id"] or 0)]
        assert Decimal(extra["amount"]) == Decimal("30")
        assert extra["receipt_number"] == f"ns-payment-{payment}:{world.invoice}+"
    else:
        (line,) = world.splynx.all("bank_statement_records")
        assert Decimal(line["amount"]) == Decimal("30") and line["status"] == "ignored"
        assert f"invoice {invoice_id}" in line["comment"]
    # Rerun: the split is not made again.
    assert run_operation("import_all_payments").counts == {"unchanged": 1}
    assert sorted(keys_in_billing(world)) == sorted({*keys_in_billing(world)})


@pytest.mark.parametrize("rate", [0.0, 0.1])
def test_fifty_payments_under_commit_then_502_are_each_in_billing_once(world, rate):
    world.splynx.commit_then_502_rate = rate
    ids = [world.payment(str(5 + n), f"2025-03-{1 + n % 28:02d}", applied="1" if n % 5 == 0 else None)
           for n in range(50)]  # fmt: skip
    run = run_operation("import_payments")
    assert run.status == "succeeded", run.message
    assert run.counts == {"imported": 50}
    keys = keys_in_billing(world)
    assert len(keys) == len(set(keys)) == 60  # 10 applied payments have two pieces
    assert {key.split(":")[0].removeprefix("ns-payment-") for key in keys} == set(ids)
    links = session().scalars(select(Link).where(Link.origin == "netsuite")).all()
    assert len(links) == 60 and all(link.status == "synced" for link in links)
    if rate:
        assert world.splynx.requests[("502", "after-commit")] > 0


def test_pieces_a_killed_run_left_are_resolved_before_anything_is_created(world):
    """The aftermath of a kill between billing's commit and our link write: intents left pending,
    one of them committed in billing, the other never sent."""
    committed = world.payment("11", "2025-03-10")
    never_sent = world.payment("12", "2025-03-11")
    world.configured.settings(payments_without_documents=True)
    for payment_id in (committed, never_sent):
        key = f"ns-payment-{payment_id}:rest"
        session().add(Link(entity="payment", billing_id=f"pending:{key}", netsuite_id=payment_id,
                           external_id=key, origin="netsuite", status="pending"))  # fmt: skip
    session().commit()
    world.splynx.add_payment(BILLING_CUSTOMER, "11", receipt_number=f"ns-payment-{committed}:rest",
                             date="2025-03-10", comment="Imported from NetSuite payment")  # fmt: skip

    run = run_operation("import_payments")
    assert run.status == "succeeded", run.message
    assert run.counts == {"imported": 1}  # the never-sent piece; the committed one was only linked
    assert "2 payment piece(s) left unfinished by an earlier run: 1 found" in run.message
    keys = keys_in_billing(world)
    assert sorted(keys) == sorted([f"ns-payment-{committed}:rest", f"ns-payment-{never_sent}:rest"])
    links = session().scalars(select(Link).where(Link.origin == "netsuite")).all()
    assert sorted(link.status for link in links) == ["synced", "synced"]
    assert {link.netsuite_id for link in links} == {committed, never_sent}


def test_voided_and_unapproved_payments_are_not_imported(world):
    world.configured.settings(payments_without_documents=True)
    kept = world.payment("11", "2025-03-05")
    voided = world.payment("12", "2025-03-05")
    unapproved = world.payment("13", "2025-03-05")
    store = world.configured.netsuite.state.store
    store.set_payment_state(voided, voided=True)
    store.set_payment_state(unapproved, approved=False)

    run = run_operation("import_payments")

    assert run.status == "succeeded" and run.counts == {"imported": 1}, run.counts
    assert [Decimal(str(p["amount"])) for p in world.billing_payments()] == [Decimal("11")]
    imported = {link.netsuite_id for link in session().scalars(select(Link).where(Link.origin == "netsuite"))}
    assert imported == {kept}


def test_batch_intents_are_committed_first_then_writes_run_side_by_side_within_the_limit(world):
    """All intents of a batch are durable before its first Splynx create; the creates then
    overlap, never more than the configured concurrency at once."""
    import threading
    import time

    from sqlalchemy import func

    limit = 3
    world.configured.settings(payments_without_documents=True, netsuite_concurrency=limit)
    for n in range(20):
        world.payment(str(5 + n), f"2025-03-{1 + n:02d}")
    engine = session().get_bind()
    lock, now, seen = threading.Lock(), [0], {"peak": 0, "pending": []}

    def on_commit(method, path, response):
        if method != "POST" or path != "admin/finance/payments":
            return
        with engine.connect() as connection:
            pending = connection.scalar(
                select(func.count())
                .select_from(Link)
                .where(Link.entity == "payment", Link.status == "pending")
            )
        with lock:
            seen["pending"].append(pending)
            now[0] += 1
            seen["peak"] = max(seen["peak"], now[0])
        time.sleep(0.05)  # hold the answer back so that writes sent side by side overlap here
        with lock:
            now[0] -= 1

    world.splynx.on_commit = on_commit
    try:
        run = run_operation("import_payments")
    finally:
        world.splynx.on_commit = None
    assert run.counts == {"imported": 20}, run.message
    assert seen["pending"] and all(pending == 20 for pending in seen["pending"])
    assert 1 < seen["peak"] <= limit
    links = session().scalars(select(Link).where(Link.origin == "netsuite")).all()
    assert len(links) == 20 and all(link.status == "synced" for link in links)


def test_payments_of_one_batch_on_one_invoice_share_its_due(world):
    """Planned together and sent side by side, two payments still fill the invoice's 60.00 due in
    billing once: the second gets what the first left, the rest goes where unapplied money goes."""
    world.configured.settings(payments_without_documents=True)
    invoice_id = world.billing_invoice["id"]
    world.splynx.add_payment(BILLING_CUSTOMER, "40", invoice_id=invoice_id, date="2025-03-01")
    first = world.payment("50", "2025-03-05", applied="50")
    second = world.payment("50", "2025-03-06", applied="50")
    run = run_operation("import_payments")
    assert run.counts == {"imported": 2}, run.message
    by_key = {p["receipt_number"]: Decimal(p["amount"]) for p in world.billing_payments()}
    assert by_key == {
        f"ns-payment-{first}:{world.invoice}": Decimal("50"),
        f"ns-payment-{second}:{world.invoice}": Decimal("10"),
        f"ns-payment-{second}:{world.invoice}+": Decimal("40"),
    }
    assert world.splynx.get("invoices", invoice_id)["status"] == "paid"
