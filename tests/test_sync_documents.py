"""Invoice and credit-note export over real HTTP against both sandboxes."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
from sqlalchemy import select

from addon.extension import session
from addon.models import Link, LogEntry, Problem
from tests.plugins.netsuite_sandbox import across_profiles

# Customers, documents and payments behave the same in every supported account profile and
# with either authentication mode.
pytestmark = [across_profiles, pytest.mark.usefixtures("both_auth_modes")]


def rows_of(run, entity="invoice"):
    query = select(LogEntry).where(LogEntry.run_id == run.id, LogEntry.entity == entity)
    return {row.billing_id: row for row in session().scalars(query)}


def exportable_invoices(setup) -> list[dict]:
    """Invoices whose customer has every field the export needs."""
    manifest = setup.env.splynx.dataset.manifest
    bad = set(manifest["incomplete_customers"]) | set(manifest["malformed_addresses"])
    return [i for i in setup.env.splynx.state.all("invoices") if i["customer_id"] not in bad]


def billing_total(setup, entity, billing_id):
    return Decimal(setup.env.splynx.state.get(entity, int(billing_id))["total"])


def test_invoices_export_once_and_totals_match_to_the_cent(export_ready):
    setup = export_ready
    run = setup.run("export_invoices")
    assert run.status == "succeeded", run.message
    rows = rows_of(run)
    # Invoices of customers NetSuite cannot take are skipped (not failed), with the customer's reason.
    manifest = setup.env.splynx.dataset.manifest
    bad = {str(c) for c in manifest["incomplete_customers"]} | {
        str(c) for c in manifest["malformed_addresses"]
    }
    held = [r for r in rows.values() if r.outcome == "skipped"]
    assert held and not [r for r in rows.values() if r.outcome == "failed"]
    for row in held:
        customer = setup.env.splynx.state.get("invoices", int(row.billing_id))["customer_id"]
        assert str(customer) in bad
        assert row.message.startswith(f"customer {customer} is not in NetSuite: "), row.message
    # ... filed under the customer's own cause, and the customers are not logged again here.
    problem = session().scalar(select(Problem).where(Problem.cause_key == "missing_fields:customer"))
    assert problem is not None and problem.count >= 1
    assert not bad & {r.billing_id for r in rows_of(run, "customer").values()}
    created = [r for r in rows.values() if r.outcome == "created"]
    assert len(created) == len(setup.ns_records("invoice"))
    for row in created:
        record = setup.store.get("invoice", row.netsuite_id)
        assert record["total"] == billing_total(setup, "invoices", row.billing_id)
        assert record["externalId"] == f"splynx-invoice-{row.billing_id}"
    # Customers of those invoices were exported first, in the same run.
    assert rows_of(run, "customer")
    writes = setup.writes()
    again = setup.run("export_invoices")
    assert setup.writes() == writes
    assert again.counts.get("unchanged") == len(created)


def test_changed_invoice_is_updated_with_lines_replaced(export_ready):
    setup = export_ready
    setup.run("export_invoices")
    link = session().scalars(select(Link).where(Link.entity == "invoice").order_by(Link.id)).first()
    splynx = setup.env.splynx.state
    splynx.set_item("invoices", int(link.billing_id), 0, price="33.3300")
    writes = setup.writes()
    run = setup.run("export_invoices")
    assert run.counts.get("updated") == 1
    assert setup.writes() == writes + 1
    record = setup.store.get("invoice", link.netsuite_id)
    assert len(record["item"]) == len(splynx.get("invoices", int(link.billing_id))["items"])
    assert record["total"] == billing_total(setup, "invoices", link.billing_id)


def test_an_amount_billing_writes_differently_is_unchanged_and_a_new_amount_is_not(export_ready):
    setup = export_ready
    setup.run("export_invoices")
    link = session().scalars(select(Link).where(Link.entity == "invoice").order_by(Link.id)).first()
    splynx = setup.env.splynx.state
    price = splynx.get("invoices", int(link.billing_id))["items"][0]["price"]
    # The same amount without its trailing zeros ("12.5000" as "12.5") is no change to send.
    shorter = format(Decimal(price).normalize(), "f")
    assert shorter != price, price
    splynx.set_item("invoices", int(link.billing_id), 0, price=shorter)
    writes = setup.writes()
    run = setup.run("export_invoices")
    # Unchanged: counted on the run, not logged one by one.
    assert link.billing_id not in rows_of(run) and "updated" not in run.counts and run.counts["unchanged"]
    assert setup.writes() == writes
    splynx.set_item("invoices", int(link.billing_id), 0, price=str(Decimal(price) + Decimal("0.01")))
    run = setup.run("export_invoices")
    assert rows_of(run)[link.billing_id].outcome == "updated"
    assert setup.writes() == writes + 1


def test_unmapped_category_and_tax_name_the_values_and_group_problems(export_ready):
    setup = export_ready
    splynx = setup.env.splynx.state
    setup.unmap("category", 9)  # Late fees
    setup.unmap("tax_rate", 2)  # Reduced rate 7.5%
    run = setup.run("export_invoices")
    rows = rows_of(run)
    invoices = exportable_invoices(setup)
    with_fees = {
        str(i["id"])
        for i in invoices
        if any(splynx.get("transactions", it["transaction_id"])["category"] == 9 for it in i["items"])
    }
    with_reduced = {str(i["id"]) for i in invoices if any(it["tax_id"] == 2 for it in i["items"])}
    assert with_fees and with_reduced
    for billing_id in with_fees | with_reduced:
        assert rows[billing_id].outcome == "failed"
    for billing_id in with_fees:
        assert 'category "Late fees"' in rows[billing_id].message
    for billing_id in with_reduced:
        assert 'tax rate "Reduced rate 7.5%"' in rows[billing_id].message
    category = session().scalar(select(Problem).where(Problem.cause_key == "unmapped:category:9"))
    tax = session().scalar(select(Problem).where(Problem.cause_key == "unmapped:tax_rate:2"))
    everyone = setup.env.splynx.state.all("invoices")
    all_fees = {
        str(i["id"])
        for i in everyone
        if any(splynx.get("transactions", it["transaction_id"])["category"] == 9 for it in i["items"])
    }
    assert (
        category.count == len(with_fees) <= len(all_fees)
        and category.fix_kind == "category"
        and category.fix_ref == "9"
    )
    assert tax.count == len(with_reduced)
    assert '"Late fees"' in category.title


def test_rounding_difference_adds_a_rounding_line(export_ready):
    setup = export_ready
    invoice, other = exportable_invoices(setup)[:2]
    # Splynx rounded this total per document, two cents away from the per-line sum.
    invoice["total"] = str(Decimal(invoice["total"]) + Decimal("0.02"))
    run = setup.run("export_invoices")
    row = rows_of(run)[str(invoice["id"])]
    assert row.outcome == "created" and "rounding line of 0.02" in row.message
    record = setup.store.get("invoice", row.netsuite_id)
    assert record["total"] == Decimal(invoice["total"])
    assert record["item"][-1]["item"] == setup.ns_id("otherChargeSaleItem", "Rounding")
    # A difference beyond rounding fails with both totals.
    other["total"] = str(Decimal(other["total"]) + Decimal("1.00"))
    run = setup.run("export_invoices")
    row = rows_of(run)[str(other["id"])]
    assert row.outcome == "failed" and "billing" in row.message and "NetSuite would compute" in row.message


def test_export_from_and_deleted_in_billing(export_ready):
    setup = export_ready
    cutoff = date(2025, 3, 1)
    setup.env.settings(export_from=cutoff)
    run = setup.run("export_invoices")
    assert all(date.fromisoformat(r["tranDate"]) >= cutoff for r in setup.ns_records("invoice"))
    early = {
        str(i["id"])
        for i in setup.env.splynx.state.all("invoices")
        if date.fromisoformat(i["date_created"]) < cutoff
    }
    assert early and not early & set(rows_of(run))
    link = session().scalars(select(Link).where(Link.entity == "invoice")).first()
    setup.env.splynx.state.delete("invoices", int(link.billing_id))
    writes = setup.writes()
    run = setup.run("export_invoices")
    row = rows_of(run)[link.billing_id]
    assert (row.outcome, row.action) == ("skipped", "deleted_in_billing")
    assert "needs attention" in row.message
    session().expire_all()
    assert session().get(Link, link.id).status == "deleted_in_billing"
    assert setup.writes() == writes


def test_closed_period_and_mandatory_segment_fail_in_plain_words(export_ready):
    setup = export_ready
    setup.store.set_period_closed("2025-03")
    setup.env.settings(mandatory_segments=["class"])
    run = setup.run("export_invoices")
    rows = rows_of(run)
    good = [rows[str(i["id"])] for i in exportable_invoices(setup)]
    assert good and all(r.outcome == "failed" and "mandatory class" in r.message for r in good)
    setup.map("default_class", "", setup.ns_id("classification", "Residential"))
    run = setup.run("export_invoices")
    rows = rows_of(run)
    march = [
        rows[str(i["id"])] for i in exportable_invoices(setup) if i["date_created"].startswith("2025-03")
    ]
    assert march and all(r.outcome == "failed" for r in march)
    assert {r.message for r in march} == {
        "the accounting period for 2025-03 is closed in NetSuite; reopen it or change export-from"
    }
    problem = session().scalar(select(Problem).where(Problem.cause_key == "netsuite:closed_period:2025-03"))
    assert problem.title == "The NetSuite accounting period 2025-03 is closed" and problem.count == len(march)
    assert problem.fix_hint == "Reopen the period in NetSuite, or move the export-from date past it."


def test_credit_notes_export_as_credit_memos(export_ready):
    setup = export_ready
    run = setup.run("export_credit_notes")
    assert run.status == "succeeded", (run.status, run.message)
    created = [r for r in rows_of(run, "credit_note").values() if r.outcome == "created"]
    assert created and len(created) == len(setup.ns_records("creditMemo"))
    for row in created:
        assert setup.store.get("creditMemo", row.netsuite_id)["total"] == billing_total(
            setup, "credit_notes", row.billing_id
        )


def test_documents_of_a_linked_customer_now_in_an_ignored_partner_are_skipped(export_ready):
    setup = export_ready
    setup.run("export_customers")
    in_partner_2 = {c["id"] for c in setup.env.splynx.dataset.records["customers"] if c["partner_id"] == 2}
    linked = {
        int(link.billing_id) for link in session().scalars(select(Link).where(Link.entity == "customer"))
    }
    assert in_partner_2 & linked
    setup.env.settings(partners_ignore=["Northern Fibre Ltd"])
    run = setup.run("export_invoices")
    rows = rows_of(run)
    theirs = [i for i in setup.env.splynx.state.all("invoices") if i["customer_id"] in in_partner_2]
    assert theirs
    for invoice in theirs:
        row = rows[str(invoice["id"])]
        assert (row.outcome, row.message) == ("skipped", "partner Northern Fibre Ltd is ignored")
    sent = {r["externalId"] for r in setup.ns_records("invoice")}
    assert not sent & {f"splynx-invoice-{i['id']}" for i in theirs}


def test_per_customer_segments_override_the_defaults(export_ready):
    setup = export_ready
    splynx = setup.env.splynx.state
    business, residential = (setup.ns_id("classification", n) for n in ("Business", "Residential"))
    head_office = setup.ns_id("location", "Head Office")
    setup.map("default_class", "", residential)
    splynx.define_additional_field("customers", "netsuite_class")
    splynx.define_additional_field("customers", "netsuite_location")
    invoices = exportable_invoices(setup)
    special = invoices[0]["customer_id"]
    splynx.update(
        "customers",
        special,
        {"additional_attributes": {"netsuite_class": business, "netsuite_location": head_office}},
    )

    def ref(value):
        # The sandbox keeps a reference as the id itself (NetSuite answers {"id": ...}).
        return value.get("id") if isinstance(value, dict) else value

    def classes_sent() -> dict[int, tuple]:
        sent = {}
        for record in setup.ns_records("invoice"):
            billing_id = int(record["externalId"].rsplit("-", 1)[1])
            sent[billing_id] = (
                ref(record.get("class")),
                ref(record.get("location")),
            )
        return sent

    # Off (the default): every invoice takes the default class, and no location.
    setup.run("export_invoices")
    assert {v for v in classes_sent().values()} == {(residential, None)}

    # On: the customer's own values win for its invoices; the others keep the default.
    setup.env.settings(customer_segments=True)
    run = setup.run("export_invoices")
    assert run.status == "succeeded", (run.status, run.message)
    sent = classes_sent()
    own = {i["id"] for i in invoices if i["customer_id"] == special}
    assert own and all(sent[i] == (business, head_office) for i in own)
    assert all(sent[i["id"]] == (residential, None) for i in invoices if i["id"] not in own)


def test_netsuite_refusals_name_the_error_and_group_by_its_code(export_ready):
    setup = export_ready
    for category in setup.env.splynx.state.all("transaction_categories"):
        setup.map("category", category["id"], "999999", category["name"])
    run = setup.run("export_invoices")
    failed = [row for row in rows_of(run).values() if row.outcome == "failed"]
    assert len(failed) == len(exportable_invoices(setup)) > 0
    assert {row.message for row in failed} == {
        "NetSuite refused this invoice: You have entered an Invalid Field Value 999999 for the following "
        "field: item (field item.items[0].item) [INVALID_CONTENT]"
    }
    [problem] = session().scalars(select(Problem).where(Problem.kind == "netsuite")).all()
    assert problem.cause_key == "netsuite:INVALID_CONTENT" and problem.count == len(failed)
    assert problem.title == (
        "NetSuite refuses records with INVALID_CONTENT: You have entered an Invalid Field Value 999999 "
        "for the following field: item"
    )
    assert problem.fix_hint == "Correct the record or the mapping NetSuite names, then run the export again."
