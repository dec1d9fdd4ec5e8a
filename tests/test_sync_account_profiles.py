"""What the product does in each kind of NetSuite account (docs/netsuite-accounts.md), over real HTTP."""

from __future__ import annotations

from decimal import Decimal

import pytest
from sqlalchemy import select

from addon.extension import session
from addon.models import Link, ListCache, LogEntry
from tests.plugins.netsuite_sandbox import in_profile

# Every account-profile rule holds in both authentication modes.
pytestmark = pytest.mark.usefixtures("both_auth_modes")


def log_rows(run, entity: str) -> dict[str, LogEntry]:
    query = select(LogEntry).where(LogEntry.run_id == run.id, LogEntry.entity == entity)
    return {row.billing_id or entity: row for row in session().scalars(query)}


def billing_document(setup, entity: str, billing_id):
    kind = {"invoices": "invoice", "credit_notes": "credit_note"}[entity]
    return setup.env.context().billing.get_document(kind, int(billing_id))


def cached_count(kind: str) -> int:
    return len(session().scalars(select(ListCache).where(ListCache.kind == kind)).all())


@in_profile("suitetax-oneworld")
def test_suitetax_documents_book_the_billing_tax_to_the_cent(export_ready):
    setup = export_ready
    setup.env.netsuite.state.reset_counters()
    run = setup.run("export_invoices")
    assert run.status == "succeeded", run.message
    created = [row for row in log_rows(run, "invoice").values() if row.outcome == "created"]
    assert created
    # Tax details travel in the one upsert: still one request per invoice, nothing read back.
    requests = setup.env.netsuite.state.counters.requests
    assert requests["PUT invoice"] == len(created) and not requests.get("GET invoice")
    taxed = 0
    for row in created:
        document = billing_document(setup, "invoices", row.billing_id)
        record = setup.store.get("invoice", row.netsuite_id)
        assert (record["total"], record["taxTotal"]) == (document.total, document.tax_total), row.billing_id
        assert record["taxDetailsOverride"] is True
        references = {line["taxDetailsReference"] for line in record["item"]}
        for detail in record["taxDetails"]:
            assert detail["taxDetailsReference"] in references
            assert detail["taxType"] and detail["taxCode"]
        taxed += bool(document.tax_total)
    assert taxed, "the dataset must hold taxed invoices for this test to mean anything"


@in_profile("suitetax-oneworld")
def test_suitetax_rounding_line_carries_no_tax(export_ready):
    setup = export_ready
    invoice = next(
        i
        for i in setup.env.splynx.state.all("invoices")
        if Decimal(i["total"]) > 0 and any(Decimal(str(it.get("tax", 0) or 0)) for it in i["items"])
    )
    invoice["total"] = str(Decimal(invoice["total"]) + Decimal("0.03"))
    run = setup.run("export_invoices")
    row = log_rows(run, "invoice")[str(invoice["id"])]
    assert row.outcome == "created" and "rounding line of 0.03" in row.message
    record = setup.store.get("invoice", row.netsuite_id)
    document = billing_document(setup, "invoices", invoice["id"])
    assert record["total"] == Decimal(invoice["total"]) and record["taxTotal"] == document.tax_total
    rounding = record["item"][-1]
    assert rounding["item"] == setup.ns_id("otherChargeSaleItem", "Rounding")
    assert rounding["taxAmount"] == 0 and "taxDetailsReference" not in rounding


@in_profile("suitetax-oneworld")
def test_credit_memos_carry_tax_details_too(export_ready):
    setup = export_ready
    run = setup.run("export_credit_notes")
    created = [row for row in log_rows(run, "credit_note").values() if row.outcome == "created"]
    assert created
    for row in created:
        record = setup.store.get("creditMemo", row.netsuite_id)
        document = billing_document(setup, "credit_notes", row.billing_id)
        assert (record["total"], record["taxTotal"]) == (document.total, document.tax_total)


@in_profile("suitetax-single")
def test_without_oneworld_mappings_load_and_customers_carry_no_subsidiary(export_ready):
    setup = export_ready
    # A subsidiary id left over from another account must not be sent to this one.
    setup.env.settings(subsidiary="1", currency="1")
    run = setup.run("load_mappings")
    assert run.status == "succeeded", run.message
    rows = log_rows(run, "subsidiary")
    assert "not in this NetSuite account" in rows["subsidiary"].message
    # `account.subsidiary` is unknown too: bank accounts are read with the minimal columns.
    bank = log_rows(run, "bank_account")["bank_account"]
    assert bank.outcome != "failed" and "fewer columns" in bank.message
    assert cached_count("bank_account") == 3 and cached_count("subsidiary") == 0
    export = setup.run("export_invoices")
    assert export.status == "succeeded", export.message
    customers = setup.ns_records("customer")
    assert customers and all("subsidiary" not in c for c in customers)
    assert setup.ns_records("invoice")


@in_profile("suitetax-oneworld")
def test_one_refused_list_leaves_the_others_loaded(configured):
    from addon.sync.operations import run_operation

    # Legacy tax mode against a SuiteTax account: the legacy tax code query names columns
    # (itemid, rate) that do not exist, and so does its minimal form.
    configured.settings(tax_mode="legacy")
    run = run_operation("load_mappings")
    assert run.status == "partial", run.message
    failed = log_rows(run, "tax_code")["tax_code"]
    assert failed.outcome == "failed" and "Field 'itemid' was not found" in failed.message
    assert cached_count("tax_code") == 0
    for kind, count in (("item", 7), ("bank_account", 4), ("currency", 3), ("subsidiary", 2), ("term", 3)):
        assert cached_count(kind) == count, kind
    assert {
        row.billing_id for row in session().scalars(select(LogEntry).where(LogEntry.run_id == run.id))
    } == {None}


@in_profile("suitetax-oneworld")
def test_multi_currency_sends_the_configured_currency(export_ready):
    setup = export_ready
    gbp = next(c["id"] for c in setup.ns_records("currency") if c["symbol"] == "GBP")
    setup.env.settings(currency=gbp)
    setup.run("export_customers")
    customers = setup.ns_records("customer")
    assert customers and all(c["currency"] == gbp for c in customers)


@in_profile("suitetax-oneworld+eid")
def test_an_eid_location_after_upsert_still_links_the_record(export_ready):
    setup = export_ready
    run = setup.run("export_customers")
    assert run.status == "succeeded", run.message
    links = session().scalars(select(Link).where(Link.entity == "customer")).all()
    assert links
    for link in links:
        assert setup.store.get("customer", link.netsuite_id)["externalId"] == link.external_id
    # The id is read back once per upsert: one extra GET, never a second write.
    requests = setup.env.netsuite.state.counters.requests
    assert requests["GET customer"] == requests["PUT customer"] == len(links)


@in_profile("suitetax-oneworld")
def test_a_paired_customer_keeps_its_address_book_subsidiary_and_currency(export_ready):
    setup = export_ready
    splynx = setup.env.splynx
    billing = next(c for c in splynx.state.all("customers") if c["id"] not in _bad(splynx))
    uk = setup.ns_id("subsidiary", "ISP Networks UK Ltd")
    gbp = next(c["id"] for c in setup.ns_records("currency") if c["symbol"] == "GBP")
    addresses = [
        {"defaultBilling": True, "defaultShipping": False, "label": "Head office",
         "addressBookAddress": {"addr1": "1 Accounting Way", "city": "Leeds", "zip": "LS1 1AA", "country": "GB"}},
        {"defaultBilling": False, "defaultShipping": True, "label": "Warehouse",
         "addressBookAddress": {"addr1": "2 Dock Road", "city": "Hull", "zip": "HU1 1AA", "country": "GB"}},
    ]  # fmt: skip
    existing = setup.store.create(
        "customer",
        {"companyName": "Kept By Accounting Ltd", "subsidiary": {"id": uk}, "currency": {"id": gbp},
         "externalId": "ERP-778", "addressBook": {"items": addresses}},
    ).id  # fmt: skip
    before = setup.store.get("customer", existing)
    session().add(
        Link(entity="customer", billing_id=str(billing["id"]), netsuite_id=existing, external_id="ERP-778",
             status="matched")
    )  # fmt: skip
    session().commit()
    run = setup.run("export_customers")
    assert log_rows(run, "customer")[str(billing["id"])].outcome == "updated"
    after = setup.store.get("customer", existing)
    assert after["externalId"] == f"splynx-customer-{billing['id']}"
    assert (after["addressBook"], after["subsidiary"], after["currency"]) == (
        before["addressBook"],
        uk,
        gbp,
    )
    # Nor does any later push, though the link now carries our externalId.
    splynx.state.update("customers", billing["id"], {"street": "99 New Street"})
    setup.env.settings(customer_name_pattern="{name} ({id})")
    again = setup.run("export_customers")
    assert log_rows(again, "customer")[str(billing["id"])].outcome == "updated"
    latest = setup.store.get("customer", existing)
    assert latest["addressBook"] == before["addressBook"] and latest["subsidiary"] == uk


def _bad(splynx) -> set[int]:
    manifest = splynx.dataset.manifest
    return set(manifest["incomplete_customers"]) | set(manifest["malformed_addresses"])
