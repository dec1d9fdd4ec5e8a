"""SplynxBilling: the billing interface over real HTTP against the Splynx sandbox."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

import pytest

from addon.billing import (
    BillingNotFound,
    BillingSystem,
    BillingValidationError,
    PaymentStatementLine,
)
from addon.splynx import SplynxBilling, SplynxClient, SplynxConfig

PAGE = 9


def billing_for(sandbox) -> SplynxBilling:
    config = SplynxConfig(
        sandbox.url, sandbox.api_key, sandbox.api_secret, page_size=PAGE, backoff_base=0.001
    )
    return SplynxBilling(SplynxClient(config))


@pytest.fixture
def billing(splynx_sandbox):
    return billing_for(splynx_sandbox)


def test_implements_the_neutral_interface(billing):
    assert isinstance(billing, BillingSystem)
    assert "API is valid" in billing.test_connection()


def test_customers_exclude_partners_on_the_server(billing, splynx_sandbox):
    state = splynx_sandbox.state
    got = list(billing.customers(partner_ids_excluded=[1, 3]))
    expected = sorted(int(c["id"]) for c in state.all("customers") if int(c["partner_id"]) not in (1, 3))
    assert [c.id for c in got] == expected
    assert got and all(c.partner_id in (2, 4) for c in got)
    # Full pages, then the short (or empty) one that ends the listing.
    assert state.request_count("GET", "admin/customers/customer") == len(got) // PAGE + 1
    assert list(billing.customers(partner_ids_excluded=[p["id"] for p in state.all("partners")])) == []


def test_customers_by_id_in_one_search(billing, splynx_sandbox):
    state = splynx_sandbox.state
    everyone = sorted(int(c["id"]) for c in state.all("customers"))
    wanted = everyone[1:4] + [everyone[-1]]
    before = state.request_count("GET", "admin/customers/customer")
    got = list(billing.customers(ids=reversed(wanted)))
    assert [c.id for c in got] == wanted
    assert state.request_count("GET", "admin/customers/customer") == before + 1
    assert list(billing.customers(ids=[])) == []
    assert state.request_count("GET", "admin/customers/customer") == before + 1
    # An id billing does not have is simply absent.
    assert [c.id for c in billing.customers(ids=[everyone[0], 999_999])] == [everyone[0]]
    with pytest.raises(ValueError, match="one"):
        list(billing.customers(ids=[everyone[0]], id_above=1))


def test_customers_since_cursor_and_id_above(billing, splynx_sandbox):
    state = splynx_sandbox.state
    everyone = list(billing.customers())
    assert len(everyone) == len(state.all("customers"))
    pivot = everyone[len(everyone) // 2].id
    assert [c.id for c in billing.customers(id_above=pivot)] == [c.id for c in everyone if c.id > pivot]
    state.advance(3600)
    state.update("customers", everyone[3].id, {"city": "Tartu"})
    changed = list(billing.customers(updated_since=datetime.fromtimestamp(state.now() - 60)))
    assert [c.id for c in changed] == [everyone[3].id]
    assert changed[0].city == "Tartu" and isinstance(changed[0].updated_at, datetime)


def test_customer_record_is_typed(billing, splynx_sandbox):
    raw = splynx_sandbox.state.all("customers")[0]
    customer = billing.get_customer(int(raw["id"]))
    assert customer.name == raw["name"] and customer.login == raw["login"]
    assert customer.is_company == (raw["category"] == "company")
    assert customer.partner_id == int(raw["partner_id"]) and isinstance(customer.partner_id, int)
    assert "netsuite_id" in customer.additional
    with pytest.raises(BillingNotFound, match="Customer not found!"):
        billing.get_customer(999999)


def test_invoices_are_typed_with_line_categories_from_transactions(billing, splynx_sandbox):
    state = splynx_sandbox.state
    invoices = list(billing.documents("invoice"))
    raw_by_id = {int(r["id"]): r for r in state.all("invoices")}
    assert [i.id for i in invoices] == sorted(raw_by_id)
    transactions = {int(t["id"]): t for t in state.all("transactions")}
    for invoice in invoices:
        raw = raw_by_id[invoice.id]
        assert invoice.kind == "invoice" and isinstance(invoice.total, Decimal)
        assert invoice.total == Decimal(raw["total"])
        assert invoice.tax_total == sum(Decimal(item["tax_amount"]) for item in raw["items"])
        assert invoice.paid_on == (
            None if raw["date_payment"] == "0000-00-00" else date.fromisoformat(raw["date_payment"])
        )
        for line, item in zip(invoice.lines, raw["items"], strict=True):
            assert line.category_id == int(transactions[int(item["transaction_id"])]["category"])
            assert line.price == Decimal(item["price"]) and line.tax_rate_id == int(item["tax_id"])
    # One transactions lookup per page of invoices, not one per invoice.
    assert state.request_count("GET", "admin/finance/transactions") == -(-len(invoices) // PAGE)


def test_documents_filter_by_date_customer_and_creation(billing, splynx_sandbox):
    state = splynx_sandbox.state
    raws = state.all("invoices")
    start, end = date(2024, 2, 1), date(2024, 3, 31)
    got = [i.id for i in billing.documents("invoice", date_from=start, date_to=end)]
    assert got == sorted(
        int(r["id"]) for r in raws if start.isoformat() <= r["date_created"] <= end.isoformat()
    )
    customer = int(raws[0]["customer_id"])
    assert {i.customer_id for i in billing.documents("invoice", customer_id=customer)} == {customer}
    cut = sorted(r["real_create_datetime"] for r in raws)[-5]
    recent = list(billing.documents("invoice", created_since=datetime.fromisoformat(cut)))
    assert len(recent) == 5


def test_credit_notes_and_soft_deleted_documents(billing, splynx_sandbox):
    state = splynx_sandbox.state
    notes = list(billing.documents("credit_note"))
    assert [n.id for n in notes] == sorted(int(r["id"]) for r in state.all("credit_notes"))
    assert all(n.kind == "credit_note" and n.total > 0 for n in notes)
    state.delete("credit_notes", notes[0].id)
    assert billing.get_document("credit_note", notes[0].id).is_deleted
    with pytest.raises(BillingNotFound):
        billing.get_document("invoice", 999999)


def test_payments_filter_by_method_and_date(billing, splynx_sandbox):
    state = splynx_sandbox.state
    raws = state.all("payments")
    got = list(billing.payments(method_ids=[2, 3], date_from=date(2024, 2, 1)))
    expected = sorted(
        int(p["id"]) for p in raws if int(p["payment_type"]) in (2, 3) and p["date"] >= "2024-02-01"
    )
    assert [p.id for p in got] == expected
    assert all(isinstance(p.amount, Decimal) and p.payment_method_id in (2, 3) for p in got)
    assert list(billing.payments(method_ids=[])) == []


def test_create_payment_pays_the_invoice(billing, splynx_sandbox):
    state = splynx_sandbox.state
    invoice = next(i for i in billing.documents("invoice") if i.status == "not_paid" and i.amount_due)
    payment_id = billing.create_payment(
        invoice.customer_id,
        invoice.amount_due,
        date(2025, 5, 2),
        2,
        invoice_id=invoice.id,
        reference="NS-PMT-1",
    )
    payment = billing.get_payment(payment_id)
    assert (payment.amount, payment.invoice_id, payment.receipt_number) == (
        invoice.amount_due,
        invoice.id,
        "NS-PMT-1",
    )
    assert payment.date == date(2025, 5, 2) and payment.credit_note_id is None
    assert billing.get_document("invoice", invoice.id).status == "paid"
    billing.delete_payment(payment_id)
    assert payment_id not in {int(p["id"]) for p in state.all("payments")}


def test_create_payment_rejection_keeps_field_messages(billing):
    with pytest.raises(BillingValidationError) as caught:
        billing.create_payment(999999, Decimal("1.00"), date(2025, 1, 1), 999)
    assert {fe.field for fe in caught.value.field_errors} >= {"customer_id", "payment_type"}


def test_reference_data_is_typed(billing, splynx_sandbox):
    state = splynx_sandbox.state
    assert [p.name for p in billing.partners()] == [p["name"] for p in state.all("partners")]
    methods = list(billing.payment_methods())
    assert methods[1].field_labels[:2] == ("Payer", "Reference") and methods[0].accounting_id is None
    taxes = list(billing.tax_rates())
    assert taxes[1].rate == Decimal("7.5") and isinstance(taxes[1].rate, Decimal)
    categories = list(billing.transaction_categories())
    assert len(categories) == len(state.all("transaction_categories")) and categories[0].is_base


@pytest.mark.parametrize("entity", ["customer", "invoice", "credit_note", "payment"])
def test_record_accounting_id_in_additional_field(billing, splynx_sandbox, entity):
    table = {
        "customer": "customers",
        "invoice": "invoices",
        "credit_note": "credit_notes",
        "payment": "payments",
    }
    record = splynx_sandbox.state.all(table[entity])[0]
    billing.record_accounting_id(entity, int(record["id"]), "4711", "netsuite_id")
    assert (
        splynx_sandbox.state.get(table[entity], record["id"])["additional_attributes"]["netsuite_id"]
        == "4711"
    )


def test_payment_statement_lines_round_trip(billing, splynx_sandbox):
    statement_id = billing.create_payment_statement("NetSuite 2025-05", 2, datetime(2025, 5, 31, 23, 0))
    line = PaymentStatementLine(
        amount=Decimal("19.9900"), payment_date=date(2025, 5, 3), customer_id=4, invoice_number="202401000001"
    )
    line_id = billing.add_payment_statement_line(statement_id, line)
    [statement] = billing.payment_statements(title="NetSuite 2025-05")
    assert statement.id == statement_id and statement.payment_method_id == 2
    [stored] = billing.payment_statement_lines(statement_id)
    assert (stored.id, stored.amount, stored.customer_id, stored.invoice_number) == (
        line_id,
        Decimal("19.99"),
        4,
        "202401000001",
    )
    assert list(billing.payment_statements(title="NetSuite 2025-06")) == []


def test_string_ids_from_older_servers_still_come_out_as_ints(make_splynx_sandbox):
    sandbox = make_splynx_sandbox(customers=6, seed=2, string_ids=True)
    billing = billing_for(sandbox)
    invoice = next(billing.documents("invoice"))
    assert isinstance(invoice.id, int) and isinstance(invoice.customer_id, int)
    assert all(isinstance(line.category_id, int) for line in invoice.lines)
    assert all(isinstance(c.partner_id, int) for c in billing.customers())
