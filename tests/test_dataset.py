"""The ISP dataset generator is deterministic, internally consistent and realistically messy."""

from __future__ import annotations

from collections import Counter
from datetime import date, timedelta
from decimal import ROUND_HALF_UP, Decimal

import pytest

from sandbox.dataset import REFERENCE_DATE, generate

CENT = Decimal("0.01")


@pytest.fixture(scope="module")
def big():
    return generate(customers=1000, seed=1)


@pytest.fixture(scope="module")
def hostile():
    return generate(customers=30, seed=2, bad_inputs=True)


def _net_and_tax(item) -> tuple[Decimal, Decimal]:
    net = (Decimal(item["quantity"]) * Decimal(item["price"])).quantize(CENT, ROUND_HALF_UP)
    return net, (net * Decimal(item["tax"]) / 100).quantize(CENT, ROUND_HALF_UP)


def test_same_seed_same_data_other_seed_other_data():
    first, again, other = generate(60, seed=5), generate(60, seed=5), generate(60, seed=6)
    assert first.records == again.records and first.manifest == again.manifest
    assert first.records["customers"] != other.records["customers"]


def test_default_ratios_for_1000_customers(big):
    counts = big.counts()
    assert (counts["customers"], counts["invoices"], counts["credit_notes"], counts["payments"]) == (
        1000,
        3000,
        300,
        2500,
    )
    assert counts["partners"] >= 3


def test_counts_can_be_overridden():
    counts = generate(20, seed=1, invoices=7, credit_notes=0, payments=3).counts()
    assert (counts["invoices"], counts["credit_notes"], counts["payments"]) == (7, 0, 3)


def test_document_totals_are_items_plus_tax_exactly(big):
    for entity in ("invoices", "credit_notes"):
        for document in big.records[entity]:
            assert 1 <= len(document["items"]) <= 5
            total = Decimal(0)
            for item in document["items"]:
                net, tax = _net_and_tax(item)
                assert Decimal(item["tax_amount"]) == tax
                total += net + tax
            assert Decimal(document["total"]) == total, document["id"]


def test_half_cent_tax_and_zero_rated_lines_occur(big):
    items = [i for inv in big.records["invoices"] for i in inv["items"]]
    rates = Counter(i["tax"] for i in items)
    assert {"20.0000", "7.5000", "0.0000"} <= set(rates)
    half_cents = [
        i
        for i in items
        if (Decimal(i["quantity"]) * Decimal(i["price"]) * Decimal(i["tax"]) / 100) % CENT == CENT / 2
    ]
    assert half_cents


def test_items_spread_over_categories_through_transactions(big):
    transactions = {t["id"]: t for t in big.records["transactions"]}
    names = {c["id"]: c["name"] for c in big.records["transaction_categories"]}
    used = {
        names[transactions[i["transaction_id"]]["category"]]
        for inv in big.records["invoices"]
        for i in inv["items"]
    }
    assert {"Internet plans", "Installation", "Equipment", "Late fees"} <= used


def test_invoice_due_and_status_follow_linked_payments(big):
    paid_by: dict[int, Decimal] = {}
    for payment in big.records["payments"]:
        if payment["invoice_id"]:
            paid_by[payment["invoice_id"]] = paid_by.get(payment["invoice_id"], Decimal(0)) + Decimal(
                payment["amount"]
            )
    for invoice in big.records["invoices"]:
        due = max(Decimal(invoice["total"]) - paid_by.get(invoice["id"], Decimal(0)), Decimal(0))
        assert Decimal(invoice["due"]) == due
        assert invoice["status"] == ("paid" if invoice["id"] in paid_by and due == 0 else "not_paid")


def test_payments_mix_methods_and_allocation(big):
    methods = {m["id"]: m["name"] for m in big.records["payment_methods"]}
    used = Counter(methods[p["payment_type"]] for p in big.records["payments"])
    assert {"Cash", "Bank transfer", "Credit card", "Direct debit"} <= set(used)
    invoices = {i["id"]: i for i in big.records["invoices"]}
    on_account = [p for p in big.records["payments"] if not p["invoice_id"]]
    applied = [p for p in big.records["payments"] if p["invoice_id"]]
    partial = [p for p in applied if Decimal(p["amount"]) < Decimal(invoices[p["invoice_id"]]["total"])]
    assert 0.15 < len(on_account) / 2500 < 0.35
    assert 0.10 < len(partial) / 2500 < 0.20
    assert all(p["customer_id"] == invoices[p["invoice_id"]]["customer_id"] for p in applied)


def test_dates_span_18_months_ending_at_the_reference_date(big):
    start = REFERENCE_DATE.replace(day=1) - timedelta(days=17 * 31)
    created = [date.fromisoformat(i["date_created"]) for i in big.records["invoices"]]
    assert min(created) >= start.replace(day=1) and max(created) <= REFERENCE_DATE
    assert len({(d.year, d.month) for d in created}) == 18
    payment_dates = [p["date"] for p in big.records["payments"]]
    assert max(payment_dates) <= REFERENCE_DATE.isoformat()


def test_incomplete_and_malformed_customers_are_present_at_stable_fractions(big):
    customers = big.records["customers"]
    incomplete = big.manifest["incomplete_customers"]
    for field, low, high in (("email", 0.07, 0.13), ("phone", 0.09, 0.15), ("zip_code", 0.05, 0.11)):
        missing = [c["id"] for c in customers if c[field] == ""]
        assert low < len(missing) / len(customers) < high, field
        assert all(field in incomplete[c] for c in missing)
    malformed = big.manifest["malformed_addresses"]
    assert 0.03 < len(malformed) / len(customers) < 0.09
    well_formed = [c for c in customers if c["id"] not in malformed]
    assert all(c["additional_attributes"]["service_address"].count(", ") == 2 for c in well_formed)


def test_names_are_realistically_awkward(big):
    names = [c["name"] for c in big.records["customers"]]
    assert any(not n.isascii() for n in names)
    assert any("'" in n for n in names) and any('"' in n for n in names) and any("&" in n for n in names)
    assert {c["category"] for c in big.records["customers"]} == {"person", "company"}
    assert big.manifest["long_names"] and all(
        len(big.by_id("customers", i)["name"]) > 100 for i in big.manifest["long_names"]
    )


def test_bad_inputs_are_listed_in_the_manifest(hostile):
    bad = {(b["entity"], b["case"]): b for b in hostile.manifest["bad"]}
    assert set(bad) == {
        ("customers", "script_tag"),
        ("customers", "rtl_text"),
        ("customers", "emoji"),
        ("customers", "very_long"),
        ("customers", "backslashes"),
        ("customers", "bad_email"),
        ("invoices", "zero_total"),
        ("invoices", "negative_total"),
        ("invoices", "very_large_total"),
        ("invoices", "unmapped_category"),
        ("payments", "unknown_method"),
        ("payments", "future_date"),
    }
    record = hostile.by_id
    assert "<script>" in record("customers", bad["customers", "script_tag"]["id"])["name"]
    assert len(record("customers", bad["customers", "very_long"]["id"])["name"]) == 5000
    assert record("invoices", bad["invoices", "zero_total"]["id"])["total"] == "0.0000"
    assert Decimal(record("invoices", bad["invoices", "negative_total"]["id"])["total"]) < 0
    assert Decimal(record("invoices", bad["invoices", "very_large_total"]["id"])["total"]) > 10**9
    assert record("payments", bad["payments", "unknown_method"]["id"])["payment_type"] not in {
        m["id"] for m in hostile.records["payment_methods"]
    }
    assert record("payments", bad["payments", "future_date"]["id"])["date"] > REFERENCE_DATE.isoformat()
    unmapped = hostile.manifest["unmapped_category_id"]
    invoice = record("invoices", bad["invoices", "unmapped_category"]["id"])
    transactions = {t["id"]: t for t in hostile.records["transactions"]}
    assert transactions[invoice["items"][0]["transaction_id"]]["category"] == unmapped


def test_bad_inputs_leave_the_normal_records_unchanged():
    plain, hostile = generate(30, seed=2), generate(30, seed=2, bad_inputs=True)
    assert hostile.records["customers"][:30] == plain.records["customers"]
    assert not plain.manifest["bad"]
