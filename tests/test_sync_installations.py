"""Exports over data as real Splynx installations keep it, both sandboxes over real HTTP
(docs/splynx-installations.md): multi-value contacts, lines without a tax id, invoices
without transactions, refused accounting-id write-backs."""

from __future__ import annotations

from decimal import Decimal

from sqlalchemy import select

from addon.extension import session
from addon.models import LogEntry
from tests.test_sync_documents import exportable_invoices


def row_of(run, entity: str, billing_id) -> LogEntry:
    return session().scalar(
        select(LogEntry).where(
            LogEntry.run_id == run.id, LogEntry.entity == entity, LogEntry.billing_id == str(billing_id)
        )
    )


def taxed_invoice(setup) -> dict:
    """An exportable invoice of one taxed line, the only one of its customer."""
    invoices = exportable_invoices(setup)
    per_customer: dict[int, int] = {}
    for invoice in invoices:
        per_customer[invoice["customer_id"]] = per_customer.get(invoice["customer_id"], 0) + 1
    return next(
        i
        for i in invoices
        if len(i["items"]) == 1
        and Decimal(i["items"][0]["tax"]) == 20
        and per_customer[i["customer_id"]] == 1
    )


def tax_codes(setup, billing_id) -> list[str]:
    """The tax code of each taxed line: under SuiteTax in the tax details, under legacy on the line."""
    record = netsuite_invoice(setup, billing_id)
    details = record.get("taxDetails") or []
    if isinstance(details, dict):
        details = details.get("items", [])
    codes = [detail.get("taxCode") for detail in details] or [line.get("taxCode") for line in record["item"]]
    return [str(code["id"] if isinstance(code, dict) else code) for code in codes]


def netsuite_invoice(setup, billing_id) -> dict:
    return next(r for r in setup.ns_records("invoice") if r["externalId"] == f"splynx-invoice-{billing_id}")


def test_multi_value_contacts_export_the_first_and_say_what_was_left_out(export_ready):
    setup = export_ready
    state = setup.env.splynx.state
    customer_id = exportable_invoices(setup)[0]["customer_id"]
    state.update(
        "customers", customer_id, {"email": "one@example.net,two@example.net", "phone": "+1 555, +1 556"}
    )
    run = setup.run("export_customers")
    row = row_of(run, "customer", customer_id)
    assert row.outcome == "created", row.message
    assert "two@example.net" in row.message and "left out" in row.message and "+1 556" in row.message
    record = setup.store.get("customer", row.netsuite_id)
    assert (record["email"], record["phone"]) == ("one@example.net", "+1 555")


def test_a_line_without_tax_id_takes_its_transactions_then_one_of_the_same_rate(export_ready):
    setup = export_ready
    state = setup.env.splynx.state
    invoice = taxed_invoice(setup)
    invoice["items"][0]["tax_id"] = 0  # the transaction still names the tax
    other = next(
        i
        for i in exportable_invoices(setup)
        if i["id"] != invoice["id"] and len(i["items"]) == 1 and Decimal(i["items"][0]["tax"]) == 20
    )
    other["items"][0]["tax_id"] = 0
    state.get("transactions", other["items"][0]["transaction_id"])["tax_id"] = 0  # nowhere: same rate
    assert state.get("transactions", invoice["items"][0]["transaction_id"])["tax_id"]

    run = setup.run("export_invoices")
    vat20 = setup.ns_id("salesTaxItem", "VAT 20%")
    for document in (invoice, other):
        assert row_of(run, "invoice", document["id"]).outcome == "created"
        assert tax_codes(setup, document["id"]) == [vat20]


def test_a_taxed_line_with_no_tax_of_its_rate_fails_naming_the_line(export_ready):
    setup = export_ready
    state = setup.env.splynx.state
    invoice = taxed_invoice(setup)
    state.set_item("invoices", invoice["id"], 0, tax="13", tax_id=0)
    state.get("transactions", invoice["items"][0]["transaction_id"])["tax_id"] = 0
    run = setup.run("export_invoices")
    row = row_of(run, "invoice", invoice["id"])
    assert row.outcome == "failed"
    assert row.message.startswith("line 1 (") and "13% but no tax id" in row.message


def test_invoices_without_transactions_are_skipped_with_their_own_reason(export_ready):
    setup = export_ready
    state = setup.env.splynx.state
    invoice = taxed_invoice(setup)
    state.update("invoices", invoice["id"], {"use_transactions": "0"})
    run = setup.run("export_invoices")
    row = row_of(run, "invoice", invoice["id"])
    assert row.outcome == "skipped" and "no transactions" in row.message
    assert not [
        r for r in setup.ns_records("invoice") if r["externalId"] == f"splynx-invoice-{invoice['id']}"
    ]


def test_a_refused_accounting_id_is_a_note_never_a_failed_sync(export_ready):
    setup = export_ready
    state = setup.env.splynx.state
    exportable = {i["customer_id"] for i in exportable_invoices(setup)}
    note = next(c for c in state.all("credit_notes") if c["customer_id"] in exportable)
    note["status"] = "refunded"
    run = setup.run("export_credit_notes")
    row = row_of(run, "credit_note", note["id"])
    assert row.outcome == "created", row.message
    assert "could not store the NetSuite id" in row.message
    assert state.get("credit_notes", note["id"])["additional_attributes"]["netsuite_id"] == ""
    customer = row_of(run, "customer", note["customer_id"])
    stored = state.get("customers", note["customer_id"])["additional_attributes"]["netsuite_id"]
    assert customer is not None and stored == customer.netsuite_id
