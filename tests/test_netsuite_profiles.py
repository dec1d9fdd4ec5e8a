"""The sandbox's account profiles over real HTTP: each feature switch, off and on."""

from __future__ import annotations

from decimal import Decimal

from tests.plugins.netsuite_sandbox import in_profile
from tests.test_netsuite_sandbox import call, error_of, invoice_body, new_id, suiteql

STRICT = {"X-NetSuite-PropertyNameValidation": "Error"}


def rows(sandbox, query):
    response = suiteql(sandbox, query)
    assert response.status_code == 200, response.text
    return [{k: v for k, v in row.items() if k != "links"} for row in response.json()["items"]]


def refused(sandbox, query) -> str:
    response = suiteql(sandbox, query)
    assert response.status_code == 400, response.text
    return error_of(response)[2]["detail"]


def customer(sandbox, **fields) -> str:
    body = {"companyName": "Example Fibre Ltd", **fields}
    return new_id(call(sandbox, "POST", "/record/v1/customer", body=body, headers=STRICT))


def item_id(sandbox, name="Internet Plans") -> str:
    return next(r["id"] for r in rows(sandbox, "SELECT id, itemid FROM item") if r.get("itemid") == name)


def tax_code(sandbox, name="VAT 20%") -> tuple[str, str]:
    found = next(r for r in rows(sandbox, "SELECT id, name, taxtype FROM salestaxitem") if r["name"] == name)
    return found["id"], found["taxtype"]


@in_profile("suitetax-oneworld")
def test_suitetax_tax_codes_have_name_and_type_but_no_itemid_or_rate(netsuite_sandbox):
    codes = rows(netsuite_sandbox, "SELECT id, name, taxtype, isinactive FROM salestaxitem ORDER BY id")
    assert [c["name"] for c in codes] == ["VAT 20%", "VAT 5%", "Zero Rated", "Exempt"]
    types = rows(netsuite_sandbox, "SELECT id, name FROM taxtype")
    assert {c["taxtype"] for c in codes} == {t["id"] for t in types}
    assert "Field 'itemid' was not found" in refused(netsuite_sandbox, "SELECT id, itemid FROM salestaxitem")
    assert "Field 'rate' was not found" in refused(netsuite_sandbox, "SELECT id, rate FROM salestaxitem")


@in_profile("legacy")
def test_legacy_tax_codes_have_itemid_and_rate_and_no_tax_types(netsuite_sandbox):
    codes = rows(netsuite_sandbox, "SELECT id, itemid, rate FROM salestaxitem ORDER BY id")
    assert codes[0] == {"id": codes[0]["id"], "itemid": "VAT 20%", "rate": "20"}
    assert "Record 'taxtype' was not found" in refused(netsuite_sandbox, "SELECT id, name FROM taxtype")


@in_profile("suitetax-oneworld")
def test_suitetax_override_books_the_tax_sent_and_the_engine_its_own(netsuite_sandbox):
    sandbox = netsuite_sandbox
    customer_id = customer(sandbox, subsidiary={"id": "1"})
    code, tax_type = tax_code(sandbox, "VAT 5%")
    line = ("" + item_id(sandbox), 1, "10.01", {"taxDetailsReference": "a"})
    detail = {"taxDetailsReference": "a", "taxType": {"id": tax_type}, "taxCode": {"id": code},
              "taxBasis": 10.01, "taxRate": 5, "taxAmount": 0.5}  # fmt: skip
    body = invoice_body(customer_id, line, taxDetailsOverride=True, taxDetails={"items": [detail]})
    booked = call(sandbox, "GET", "/record/v1/invoice/" + new_id(call(sandbox, "POST", "/record/v1/invoice",
                                                                      body=body, headers=STRICT))).json()  # fmt: skip
    assert (Decimal(str(booked["taxTotal"])), Decimal(str(booked["total"]))) == (
        Decimal("0.5"),
        Decimal("10.51"),
    )

    # Without the override NetSuite's engine decides (here 20 % on every line): totals drift.
    plain = invoice_body(customer_id, line)
    engine = call(sandbox, "GET", "/record/v1/invoice/" + new_id(call(sandbox, "POST", "/record/v1/invoice",
                                                                      body=plain, headers=STRICT))).json()  # fmt: skip
    assert Decimal(str(engine["taxTotal"])) == Decimal("2")

    # Legacy per-line tax codes are refused; so is a detail naming no line.
    legacy = invoice_body(customer_id, (line[0], 1, "10.01", {"taxCode": {"id": code}}))
    status, code_name, error = error_of(call(sandbox, "POST", "/record/v1/invoice", body=legacy))
    assert (status, code_name, error["o:errorPath"]) == (400, "USER_ERROR", "item.items[0].taxCode")
    stray = invoice_body(customer_id, line, taxDetailsOverride=True,
                         taxDetails={"items": [{**detail, "taxDetailsReference": "b"}]})  # fmt: skip
    assert error_of(call(sandbox, "POST", "/record/v1/invoice", body=stray))[2]["o:errorPath"] == (
        "taxDetails.items[0].taxDetailsReference"
    )


@in_profile("legacy")
def test_legacy_account_knows_no_tax_details(netsuite_sandbox):
    customer_id = customer(netsuite_sandbox, subsidiary={"id": "1"})
    body = invoice_body(customer_id, (item_id(netsuite_sandbox), 1, "10", {}), taxDetailsOverride=True)
    response = call(netsuite_sandbox, "POST", "/record/v1/invoice", body=body, headers=STRICT)
    assert error_of(response)[:2] == (400, "INVALID_CONTENT")
    assert "taxDetailsOverride" in error_of(response)[2]["detail"]


@in_profile("suitetax-single")
def test_without_oneworld_subsidiaries_are_unknown_and_one_currency_exists(netsuite_sandbox):
    sandbox = netsuite_sandbox
    assert "Record 'subsidiary' was not found" in refused(sandbox, "SELECT id, name FROM subsidiary")
    assert "Field 'subsidiary' was not found" in refused(sandbox, "SELECT id, subsidiary FROM account")
    assert len(rows(sandbox, "SELECT id FROM currency")) == 1
    customer_id = customer(sandbox)  # no subsidiary needed
    for field in ({"subsidiary": {"id": "1"}}, {"currency": {"id": "1"}}):
        response = call(
            sandbox, "POST", "/record/v1/customer", body={"companyName": "X", **field}, headers=STRICT
        )
        assert error_of(response)[:2] == (400, "INVALID_CONTENT"), field
    # Without strict validation the unknown field is dropped with a warning header, as NetSuite does.
    lenient = call(
        sandbox, "POST", "/record/v1/customer", body={"companyName": "Y", "subsidiary": {"id": "1"}}
    )
    assert "subsidiary" in lenient.headers["X-NetSuite-PropertyValidation"]
    record = call(sandbox, "GET", f"/record/v1/customer/{customer_id}").json()
    assert "subsidiary" not in record and record["currency"]["id"]


@in_profile("suitetax-oneworld")
def test_with_oneworld_a_customer_needs_its_subsidiary(netsuite_sandbox):
    response = call(
        netsuite_sandbox, "POST", "/record/v1/customer", body={"companyName": "X"}, headers=STRICT
    )
    assert "Subsidiary" in error_of(response)[2]["detail"]
    assert len(rows(netsuite_sandbox, "SELECT id FROM subsidiary")) == 2
    assert len(rows(netsuite_sandbox, "SELECT id FROM currency")) == 3


@in_profile("suitetax-single+no-segments")
def test_segments_off_hide_classes_departments_and_locations(netsuite_sandbox):
    for table in ("classification", "department", "location"):
        assert f"Record '{table}' was not found" in refused(netsuite_sandbox, f"SELECT id FROM {table}")  # noqa: S608
    body = invoice_body(
        customer(netsuite_sandbox), (item_id(netsuite_sandbox), 1, "10", {}), **{"class": {"id": "1"}}
    )
    response = call(netsuite_sandbox, "POST", "/record/v1/invoice", body=body, headers=STRICT)
    assert error_of(response)[:2] == (400, "INVALID_CONTENT")


@in_profile("suitetax-oneworld")
def test_segments_on_are_listed(netsuite_sandbox):
    assert len(rows(netsuite_sandbox, "SELECT id FROM classification")) == 3


@in_profile("suitetax-single")
def test_suiteql_item_table_lists_items_no_line_should_use(netsuite_sandbox):
    types = {r.get("itemtype") for r in rows(netsuite_sandbox, "SELECT id, itemtype FROM item")}
    assert {"Subtotal", "Description", "Payment", "TaxItem", "Service"} <= types


def upsert_location(sandbox) -> str:
    response = call(
        sandbox, "PUT", "/record/v1/customer/eid:probe-1", body={"companyName": "P"}, headers=STRICT
    )
    assert response.status_code == 204, response.text
    return response.headers["Location"]


@in_profile("suitetax-single+eid")
def test_upsert_location_may_end_in_the_external_id(netsuite_sandbox):
    assert upsert_location(netsuite_sandbox).endswith("/record/v1/customer/eid:probe-1")


@in_profile("suitetax-single")
def test_upsert_location_may_end_in_the_internal_id(netsuite_sandbox):
    assert upsert_location(netsuite_sandbox).rsplit("/", 1)[1].isdigit()
