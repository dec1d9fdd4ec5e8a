"""The NetSuite sandbox, exercised over HTTP with an independent OAuth 1.0a signer (oauthlib)."""

from __future__ import annotations

import json
import threading
import time
from urllib.parse import quote, urlencode

import jwt
import oauthlib.oauth1
import pytest
import requests

from sandbox.netsuite import SandboxState, TbaToken, generate_client_keypair
from sandbox.netsuite.auth import NonceRegistry, signature_base_string, verify_tba
from sandbox.netsuite.errors import NetSuiteError
from tests.plugins.netsuite_sandbox import in_profile

# -- helpers ---------------------------------------------------------------------------------------


def sign(sandbox, method, url, *, body=None, **overrides):
    """Authorization headers from oauthlib's Client, as a real TBA integration would sign."""
    options = {
        "client_secret": sandbox.consumer_secret,
        "resource_owner_key": sandbox.token_id,
        "resource_owner_secret": sandbox.token_secret,
        "signature_method": oauthlib.oauth1.SIGNATURE_HMAC_SHA256,
        "realm": sandbox.account_id,
    }
    options.update(overrides)
    client = oauthlib.oauth1.Client(options.pop("client_key", sandbox.consumer_key), **options)
    headers = {"Content-Type": "application/json"} if body is not None else {}
    _, signed, _ = client.sign(url, http_method=method, body=body, headers=headers)
    return signed


def call(
    sandbox, method, path, *, params=None, body=None, headers=None, sign_method=None, sign_path=None, **auth
):
    query = "?" + urlencode(params, quote_via=quote) if params else ""
    url = sandbox.rest_url + path + query
    signed_url = sandbox.rest_url + (sign_path or path) + query
    data = json.dumps(body) if body is not None else None
    signed = sign(sandbox, sign_method or method, signed_url, **auth)
    all_headers = {"Content-Type": "application/json", **signed, **(headers or {})}
    return requests.request(method, url, data=data, headers=all_headers, timeout=10)


def suiteql(sandbox, q, **params):
    return call(
        sandbox,
        "POST",
        "/query/v1/suiteql",
        params=params or None,
        body={"q": q},
        headers={"Prefer": "transient"},
    )


def error_of(response):
    detail = response.json()["o:errorDetails"][0]
    return response.status_code, detail["o:errorCode"], detail


def new_id(response):
    assert response.status_code == 204, response.text
    return response.headers["Location"].rsplit("/", 1)[1]


def make_customer(sandbox, **fields):
    body = {"companyName": "Example Fibre Ltd", "subsidiary": {"id": "1"}, **fields}
    return new_id(call(sandbox, "POST", "/record/v1/customer", body=body))


def invoice_body(customer_id, *lines, **fields):
    items = [
        {"item": {"id": item}, "quantity": qty, "rate": rate, **extra} for item, qty, rate, extra in lines
    ]
    return {"entity": {"id": customer_id}, "tranDate": "2025-03-04", "item": {"items": items}, **fields}


# -- OAuth 1.0a ------------------------------------------------------------------------------------

VECTOR_STATE = {
    "account_id": "1234567_SB1",
    "consumer_key": "ck_example_0123456789abcdef",
    "consumer_secret": "cs_example_fedcba9876543210",
    "tokens": [TbaToken("tk_example_a1b2c3d4e5f6", "ts_example_6f5e4d3c2b1a")],
}
HOST = "https://1234567-sb1.suitetalk.api.netsuite.com/services/rest"
COMMON = (
    'OAuth realm="1234567_SB1", oauth_nonce="kYjzVBB8Y0ZFabxSWbWovY3uYSQ2pTgmZeNu2VS4cg", '
    'oauth_timestamp="1700000000", oauth_version="1.0", oauth_signature_method="HMAC-SHA256", '
    'oauth_consumer_key="ck_example_0123456789abcdef", oauth_token="tk_example_a1b2c3d4e5f6"'
)
SUITEQL_BODY = b'{"q": "SELECT id, companyname FROM customer WHERE id > 0"}'
VECTORS = [
    ("GET", HOST + "/record/v1/customer/107", "", "kEvz%2F0ad2fmhmZspgIImqiJtfKodHG%2FFihB9qJF0FGo%3D", b""),
    ("POST", HOST + "/query/v1/suiteql?limit=1000&offset=0", "", "H%2FKePjT0b9CGJbN2WbchBgBYctbk03I%2BrYnj2FzxJqo%3D", SUITEQL_BODY),
    ("POST", HOST + "/query/v1/suiteql?limit=1000&offset=0", ', oauth_body_hash="9jOWLrpVV%2B9gq%2FG2uuF3TvmmI3A%3D"',
     "PiRDRQbDvZdDsraOvnnp3DCJTMwWGvDKr0lT0OIZrXI%3D", SUITEQL_BODY),
    ("GET", HOST + "/record/v1/customer?q=email%20START_WITH%20%22a%2Bb%40x.com%22&limit=5", "",
     "cCD6npugN3j%2BuQVvjjaKFJXuCIVvZ8LstXDaUflTd%2FE%3D", b""),
]  # fmt: skip


@pytest.mark.parametrize(("method", "url", "extra", "signature", "body"), VECTORS, ids=["1", "2", "2B", "3"])
def test_reference_vectors_verify(method, url, extra, signature, body):
    state = SandboxState(**VECTOR_STATE)
    state.clock = lambda: 1_700_000_000.0
    header = f'{COMMON}{extra}, oauth_signature="{signature}"'
    assert verify_tba(state, method, url, header, body, NonceRegistry()) == "tk_example_a1b2c3d4e5f6"
    tampered = header.replace('oauth_timestamp="1700000000"', 'oauth_timestamp="1700000001"')
    with pytest.raises(NetSuiteError):
        verify_tba(state, method, url, tampered, body, NonceRegistry())


def test_reference_vector_1_base_string():
    params = dict(p.split("=", 1) for p in COMMON.removeprefix("OAuth ").replace('"', "").split(", "))
    expected = (
        "GET&https%3A%2F%2F1234567-sb1.suitetalk.api.netsuite.com%2Fservices%2Frest%2Frecord%2Fv1%2Fcustomer%2F107"
        "&oauth_consumer_key%3Dck_example_0123456789abcdef%26oauth_nonce%3DkYjzVBB8Y0ZFabxSWbWovY3uYSQ2pTgmZeNu2VS4cg"
        "%26oauth_signature_method%3DHMAC-SHA256%26oauth_timestamp%3D1700000000%26oauth_token%3Dtk_example_a1b2c3d4e5f6"
        "%26oauth_version%3D1.0"
    )
    assert signature_base_string("GET", VECTORS[0][1], params) == expected


def test_signed_requests_are_accepted_including_encoded_query(netsuite_sandbox):
    response = call(netsuite_sandbox, "GET", "/record/v1/currency/1")
    assert response.status_code == 200
    assert response.headers["Content-Type"].startswith("application/vnd.oracle.resource+json; type=singular")
    assert response.json()["symbol"] == "USD"
    assert response.headers["X-N-OperationId"]
    listed = call(
        netsuite_sandbox, "GET", "/record/v1/term", params={"q": 'name START_WITH "Net 3"', "limit": 5}
    )
    assert listed.status_code == 200, listed.text
    assert [item["id"] for item in listed.json()["items"]] == ["3"]


@pytest.mark.parametrize(
    "tamper",
    [
        {"sign_path": "/record/v1/currency/2"},
        {"sign_method": "POST"},
        {"params_signed": {"limit": 5}, "params_sent": {"limit": 6}},
    ],
    ids=["path", "method", "query"],
)
def test_request_altered_after_signing_is_rejected(netsuite_sandbox, tamper):
    if "params_signed" in tamper:
        url = netsuite_sandbox.rest_url + "/record/v1/currency?limit=5"
        headers = sign(netsuite_sandbox, "GET", url)
        response = requests.get(url.replace("limit=5", "limit=6"), headers=headers, timeout=10)
    else:
        response = call(netsuite_sandbox, "GET", "/record/v1/currency/1", **tamper)
    assert error_of(response)[:2] == (401, "INVALID_LOGIN")
    assert response.json()["title"] == "Unauthorized"


@pytest.mark.parametrize(
    "overrides",
    [
        {"client_secret": "wrong"},
        {"resource_owner_secret": "wrong"},
        {"realm": "1234567-sb1"},
        {"timestamp": str(int(time.time()) - 400)},
        {"resource_owner_key": "unknown-token"},
        {"client_key": "unknown-consumer"},
        {"signature_method": oauthlib.oauth1.SIGNATURE_HMAC_SHA1},
    ],
    ids=[
        "consumer-secret",
        "token-secret",
        "host-form-realm",
        "stale-timestamp",
        "unknown-token",
        "unknown-consumer",
        "sha1",
    ],
)
def test_bad_credentials_get_invalid_login(netsuite_sandbox, overrides):
    response = call(netsuite_sandbox, "GET", "/record/v1/currency/1", **overrides)
    status, code, detail = error_of(response)
    assert (status, code) == (401, "INVALID_LOGIN")
    assert detail["detail"].startswith("Invalid login attempt.")


def test_reused_nonce_and_revoked_token_are_rejected(netsuite_sandbox):
    fixed = {"nonce": "abcdef123456", "timestamp": str(int(time.time()))}
    assert call(netsuite_sandbox, "GET", "/record/v1/currency/1", **fixed).status_code == 200
    assert call(netsuite_sandbox, "GET", "/record/v1/currency/1", **fixed).status_code == 401
    second = netsuite_sandbox.state.add_token(TbaToken("second-token", "second-secret"))
    as_second = {"resource_owner_key": second.token_id, "resource_owner_secret": second.token_secret}
    assert call(netsuite_sandbox, "GET", "/record/v1/currency/1", **as_second).status_code == 200
    netsuite_sandbox.state.revoke_token("second-token")
    assert call(netsuite_sandbox, "GET", "/record/v1/currency/1", **as_second).status_code == 401
    assert call(netsuite_sandbox, "GET", "/record/v1/currency/1").status_code == 200


def test_body_hash_signing_is_checked(netsuite_sandbox):
    url = netsuite_sandbox.rest_url + "/record/v1/customer"
    body = json.dumps({"companyName": "Hash Ltd", "subsidiary": {"id": "1"}})
    headers = {"Content-Type": "application/json", **sign(netsuite_sandbox, "POST", url, body=body)}
    assert "oauth_body_hash" in headers["Authorization"]
    tampered = body.replace("Hash Ltd", "Evil Ltd")
    assert requests.post(url, data=tampered, headers=headers, timeout=10).status_code == 401
    headers = {"Content-Type": "application/json", **sign(netsuite_sandbox, "POST", url, body=body)}
    assert requests.post(url, data=body, headers=headers, timeout=10).status_code == 204


# -- records ---------------------------------------------------------------------------------------


def test_customer_create_and_get_shape(netsuite_sandbox):
    body = {
        "companyName": "Example Fibre Ltd",
        "subsidiary": {"id": "1"},
        "terms": "3",
        "externalId": "isp-cust-1001",
        "addressbook": {
            "items": [{"defaultBilling": True, "addressbookaddress": {"addr1": "1 Main St", "country": "US"}}]
        },
    }
    response = call(netsuite_sandbox, "POST", "/record/v1/customer", body=body)
    assert response.status_code == 204 and response.content == b""
    assert "/record/v1/customer/" in response.headers["Location"]
    customer_id = new_id(response)
    record = call(netsuite_sandbox, "GET", "/record/v1/customer/eid:isp-cust-1001").json()
    assert record["id"] == customer_id
    assert record["terms"]["id"] == "3" and record["terms"]["refName"] == "Net 30"
    assert record["currency"]["refName"] == "US Dollar"  # defaulted from the subsidiary
    assert record["addressBook"] == {
        "links": [{"rel": "self", "href": response.headers["Location"] + "/addressBook"}]
    }
    expanded = call(
        netsuite_sandbox, "GET", f"/record/v1/customer/{customer_id}", params={"expandSubResources": "true"}
    )
    line = expanded.json()["addressBook"]["items"][0]
    assert line["addressBookAddress"]["addr1"] == "1 Main St"
    assert "email" not in record  # empty fields omitted


@in_profile("legacy")  # legacy per-line tax codes with rates
def test_invoice_totals_and_patch_append_versus_replace(netsuite_sandbox):
    customer = make_customer(netsuite_sandbox)
    vat = "8"  # seeded "VAT 20%"
    body = invoice_body(customer, ("1", 2, "49.99", {"taxCode": {"id": vat}}), ("2", 1, "99", {}))
    response = call(netsuite_sandbox, "POST", "/record/v1/invoice", body=body)
    invoice_id = new_id(response)
    assert response.headers["Location"].endswith(f"/record/v1/invoice/{invoice_id}")
    invoice = call(netsuite_sandbox, "GET", f"/record/v1/invoice/{invoice_id}").json()
    assert (invoice["subtotal"], invoice["taxTotal"], invoice["total"]) == (198.98, 20.0, 218.98)
    assert invoice["status"] == {"id": "A", "refName": "Open"}
    assert invoice["amountRemaining"] == 218.98

    extra = {"item": {"items": [{"item": {"id": "5"}, "quantity": 1, "rate": 10}]}}
    assert call(netsuite_sandbox, "PATCH", f"/record/v1/invoice/{invoice_id}", body=extra).status_code == 204
    lines = call(netsuite_sandbox, "GET", f"/record/v1/invoice/{invoice_id}/item").json()["items"]
    # appended, the real quirk (docs/netsuite-rest.md §4.4)
    assert [line["item"]["id"] for line in lines] == ["1", "2", "5"]

    replaced = call(
        netsuite_sandbox, "PATCH", f"/record/v1/invoice/{invoice_id}", params={"replace": "item"}, body=extra
    )
    assert replaced.status_code == 204
    invoice = call(
        netsuite_sandbox, "GET", f"/record/v1/invoice/{invoice_id}", params={"expandSubResources": "true"}
    ).json()
    assert [line["item"]["refName"] for line in invoice["item"]["items"]] == ["Late Fees"]
    assert invoice["total"] == 10.0


def test_line_amount_mismatch_warns_and_unknown_fields(netsuite_sandbox):
    customer = make_customer(netsuite_sandbox)
    body = invoice_body(customer, ("1", 2, 50, {"amount": 90}), internalId="x")
    response = call(netsuite_sandbox, "POST", "/record/v1/invoice", body=body)
    assert response.status_code == 204
    assert "not equal to the item price times the quantity" in response.headers["X-NetSuite-Warning"]
    assert "internalId" in response.headers["X-NetSuite-PropertyValidation"]
    strict = call(
        netsuite_sandbox,
        "POST",
        "/record/v1/invoice",
        body=body,
        headers={"X-NetSuite-PropertyNameValidation": "error"},
    )
    assert error_of(strict)[:2] == (400, "INVALID_CONTENT")


def test_upsert_by_external_id(netsuite_sandbox):
    body = {"companyName": "Upsert Ltd", "subsidiary": {"id": "1"}}
    first = call(netsuite_sandbox, "PUT", "/record/v1/customer/eid:isp-cust-7", body=body)
    second = call(
        netsuite_sandbox, "PUT", "/record/v1/customer/eid:isp-cust-7", body={**body, "email": "a@b.net"}
    )
    assert new_id(first) == new_id(second)
    record = call(netsuite_sandbox, "GET", f"/record/v1/customer/{new_id(first)}").json()
    assert record["email"] == "a@b.net" and record["externalId"] == "isp-cust-7"
    assert len(netsuite_sandbox.state.store.ids("customer")) == 1


def test_duplicate_external_id_on_post(netsuite_sandbox):
    make_customer(netsuite_sandbox, externalId="dup-1")
    response = call(
        netsuite_sandbox,
        "POST",
        "/record/v1/customer",
        body={"companyName": "B", "subsidiary": {"id": "1"}, "externalId": "dup-1"},
    )
    assert error_of(response)[:2] == (400, "USER_ERROR")


def test_invalid_reference_and_required_fields(netsuite_sandbox):
    customer = make_customer(netsuite_sandbox)
    body = invoice_body(customer, ("1", 1, 5, {}), ("2", 1, 5, {}), ("9999", 1, 5, {}))
    status, code, detail = error_of(call(netsuite_sandbox, "POST", "/record/v1/invoice", body=body))
    assert (status, code, detail["o:errorPath"]) == (400, "INVALID_CONTENT", "item.items[2].item")
    no_lines = call(netsuite_sandbox, "POST", "/record/v1/invoice", body={"entity": {"id": customer}})
    assert error_of(no_lines)[1] == "USER_ERROR"
    assert "at least one line item" in error_of(no_lines)[2]["detail"]
    no_name = call(netsuite_sandbox, "POST", "/record/v1/customer", body={"subsidiary": {"id": "1"}})
    assert "Please enter value(s) for: Company Name" in error_of(no_name)[2]["detail"]


def test_missing_records_and_types(netsuite_sandbox):
    missing = call(netsuite_sandbox, "GET", "/record/v1/customer/424242")
    assert missing.status_code == 404
    assert (
        error_of(missing)[2]["detail"]
        == "The record instance does not exist. Provide a valid record instance ID."
    )
    bad_type = call(netsuite_sandbox, "GET", "/record/v1/taxItem/1")
    assert (
        bad_type.status_code == 404
        and "Record type 'taxItem' does not exist" in error_of(bad_type)[2]["detail"]
    )
    customer = make_customer(netsuite_sandbox)
    invoice_id = new_id(
        call(netsuite_sandbox, "POST", "/record/v1/invoice", body=invoice_body(customer, ("1", 1, 5, {})))
    )
    wrong_type = call(netsuite_sandbox, "GET", f"/record/v1/creditmemo/{invoice_id}")
    assert "Transaction type specified is incorrect" in error_of(wrong_type)[2]["detail"]
    assert call(netsuite_sandbox, "DELETE", f"/record/v1/invoice/{invoice_id}").status_code == 204
    assert call(netsuite_sandbox, "GET", f"/record/v1/invoice/{invoice_id}").status_code == 404


@in_profile("legacy")  # legacy per-line tax codes with rates
def test_payment_application_rules(netsuite_sandbox):
    alice, bob = make_customer(netsuite_sandbox), make_customer(netsuite_sandbox, companyName="Bob")
    invoice = new_id(
        call(netsuite_sandbox, "POST", "/record/v1/invoice", body=invoice_body(alice, ("1", 1, "100", {})))
    )
    bobs = new_id(
        call(netsuite_sandbox, "POST", "/record/v1/invoice", body=invoice_body(bob, ("1", 1, "100", {})))
    )

    def pay(customer, doc, amount, **extra):
        body = {"customer": {"id": customer}, "account": {"id": "1"}, "tranDate": "2025-03-10",
                "apply": {"items": [{"doc": {"id": doc}, "apply": True, "amount": amount}]}, **extra}  # fmt: skip
        return call(netsuite_sandbox, "POST", "/record/v1/customerPayment", body=body)

    assert error_of(pay(alice, bobs, 10))[:2] == (400, "USER_ERROR")
    assert error_of(pay(alice, invoice, "100.01"))[:2] == (400, "USER_ERROR")
    payment = new_id(pay(alice, invoice, "60.5", externalId="isp-pay-1"))
    state = netsuite_sandbox.state
    # A payment keyed in on the NetSuite side, straight through the state.
    state.store.create(
        "customerPayment",
        {"customer": alice, "payment": "39.5", "apply": {"items": [{"doc": invoice, "amount": "39.5"}]}},
    )
    body = call(netsuite_sandbox, "GET", f"/record/v1/invoice/{invoice}").json()
    assert (body["amountPaid"], body["amountRemaining"], body["status"]["id"]) == (100.0, 0.0, "B")
    links = suiteql(netsuite_sandbox, "SELECT l.nextdoc, l.previousdoc, l.foreignamount FROM nexttransactionlinelink l "
                    "WHERE l.nexttype = 'CustPymt' AND l.previoustype = 'CustInvc' ORDER BY l.nextdoc ASC").json()["items"]  # fmt: skip
    assert [(row["nextdoc"], row["foreignamount"]) for row in links] == [
        (payment, "60.5"),
        (str(int(payment) + 1), "39.5"),
    ]
    # Unapply by PATCH keyed on doc (docs/netsuite-rest.md §4.4) reopens the invoice.
    unapply = {"apply": {"items": [{"doc": {"id": invoice}, "apply": False}]}}
    assert (
        call(netsuite_sandbox, "PATCH", "/record/v1/customerPayment/eid:isp-pay-1", body=unapply).status_code
        == 204
    )
    row = suiteql(
        netsuite_sandbox,
        f"SELECT status, foreignamountunpaid FROM transaction WHERE id = {int(invoice)}",  # noqa: S608
    ).json()["items"][0]
    assert (row["status"], row["foreignamountunpaid"]) == ("A", "60.5")


def test_closed_period_rejects_transactions(netsuite_sandbox):
    customer = make_customer(netsuite_sandbox)
    netsuite_sandbox.state.store.set_period_closed("2025-03")
    response = call(
        netsuite_sandbox, "POST", "/record/v1/invoice", body=invoice_body(customer, ("1", 1, 5, {}))
    )
    status, code, detail = error_of(response)
    assert (status, code) == (400, "USER_ERROR") and "closed" in detail["detail"]
    later = invoice_body(customer, ("1", 1, 5, {}), tranDate="2025-04-01")
    assert call(netsuite_sandbox, "POST", "/record/v1/invoice", body=later).status_code == 204


# -- SuiteQL ---------------------------------------------------------------------------------------


@pytest.fixture
def twelve_customers(netsuite_sandbox):
    store = netsuite_sandbox.state.store
    for n in range(1, 13):
        store.create(
            "customer",
            {"companyName": f"Cust {n:02d}", "subsidiary": "1", "isInactive": n % 4 == 0,
             "email": f"c{n}@example.net" if n % 3 else None, "externalId": f"isp-cust-{n}"},
        )  # fmt: skip
    return netsuite_sandbox


def test_suiteql_paging_envelope(twelve_customers):
    seen, offset = [], 0
    while True:
        response = suiteql(
            twelve_customers, "SELECT id, companyname FROM customer ORDER BY id ASC", limit=5, offset=offset
        )
        assert response.headers["Preference-Applied"] == "transient"
        page = response.json()
        assert (page["offset"], page["totalResults"], page["count"]) == (offset, 12, len(page["items"]))
        assert page["links"][-1]["href"].endswith(f"/query/v1/suiteql?limit=5&offset={offset}")
        seen += [item["id"] for item in page["items"]]
        if not page["hasMore"]:
            break
        assert any(link["rel"] == "next" for link in page["links"])
        offset += 5
    assert seen == [str(n) for n in range(1, 13)]


@in_profile("legacy")  # legacy per-line tax codes with rates
def test_suiteql_value_rules(twelve_customers):
    rows = suiteql(twelve_customers, "SELECT id AS internalId, isinactive, email, companyname FROM customer "
                   "WHERE id IN (3, 4) ORDER BY id ASC").json()["items"]  # fmt: skip
    assert rows == [
        {"links": [], "internalid": "3", "isinactive": "F", "companyname": "Cust 03"},
        {
            "links": [],
            "internalid": "4",
            "isinactive": "T",
            "email": "c4@example.net",
            "companyname": "Cust 04",
        },
    ]
    customer = twelve_customers.state.store.ids("customer")[0]
    twelve_customers.state.store.create("invoice", invoice_body(customer, ("1", 3, "0.15", {})))
    row = suiteql(twelve_customers, "SELECT trandate, foreigntotal, TO_CHAR(trandate, 'YYYY-MM-DD') AS iso, COUNT(*) "
                  "FROM transaction WHERE trandate >= TO_DATE('2025-03-01', 'YYYY-MM-DD') GROUP BY trandate, foreigntotal").json()["items"]  # fmt: skip
    assert row == [
        {"links": [], "trandate": "3/4/2025", "foreigntotal": "0.45", "iso": "2025-03-04", "expr4": "1"}
    ]


WHERE_CASES = [
    ("id = 5", lambda n: n == 5),
    ("id <> 5", lambda n: n != 5),
    ("id < 4", lambda n: n < 4),
    ("id > 9", lambda n: n > 9),
    ("companyname LIKE 'Cust 1%'", lambda n: n >= 10),
    ("id IN (2, 7, 11)", lambda n: n in (2, 7, 11)),
    ("email IS NULL", lambda n: n % 3 == 0),
    ("isinactive = 'T' AND id > 4", lambda n: n % 4 == 0 and n > 4),
    ("(id < 3 OR id > 10) AND isinactive = 'F'", lambda n: (n < 3 or n > 10) and n % 4),
    ("externalid = 'isp-cust-6' OR BUILTIN.DF(subsidiary) LIKE 'Nothing%'", lambda n: n == 6),
]


@pytest.mark.parametrize(("where", "expected"), WHERE_CASES, ids=[case[0] for case in WHERE_CASES])
def test_suiteql_where_clauses(twelve_customers, where, expected):
    rows = suiteql(twelve_customers, f"SELECT id FROM customer WHERE {where} ORDER BY id DESC").json()[  # noqa: S608
        "items"
    ]
    assert [row["id"] for row in rows] == [str(n) for n in range(12, 0, -1) if expected(n)]


@pytest.mark.parametrize(
    ("query", "headers", "params"),
    [
        ("SELEC id FROM customer", {"Prefer": "transient"}, None),
        ("SELECT id FROM nosuchtable", {"Prefer": "transient"}, None),
        ("SELECT id FROM customer LIMIT 5", {"Prefer": "transient"}, None),
        ("DELETE FROM customer", {"Prefer": "transient"}, None),
        ("SELECT id FROM customer", {}, None),
        ("SELECT id FROM customer", {"Prefer": "transient"}, {"limit": 1001}),
        ("SELECT id FROM customer", {"Prefer": "transient"}, {"limit": 10, "offset": 5}),
    ],
    ids=[
        "syntax",
        "table",
        "limit-clause",
        "not-select",
        "no-prefer",
        "limit-too-big",
        "offset-not-multiple",
    ],
)
def test_suiteql_rejections(netsuite_sandbox, query, headers, params):
    response = call(
        netsuite_sandbox, "POST", "/query/v1/suiteql", params=params, body={"q": query}, headers=headers
    )
    assert response.status_code == 400
    assert response.headers["Content-Type"].startswith("application/vnd.oracle.resource+json; type=error")


@in_profile("legacy")  # legacy per-line tax codes with rates
def test_suiteql_fetch_first_and_reference_tables(netsuite_sandbox):
    banks = suiteql(netsuite_sandbox, "SELECT id, acctnumber, fullname FROM account WHERE accttype = 'Bank' "
                    "AND isinactive = 'F' ORDER BY id ASC FETCH FIRST 2 ROWS ONLY").json()  # fmt: skip
    assert [row["acctnumber"] for row in banks["items"]] == ["1000", "1010"]
    names = {row["itemid"] for row in suiteql(netsuite_sandbox, "SELECT itemid FROM item").json()["items"]}
    assert {"Internet Plans", "Installation", "Equipment", "Late Fees", "Rounding"} <= names
    rates = suiteql(netsuite_sandbox, "SELECT itemid, rate FROM salestaxitem ORDER BY rate DESC").json()[
        "items"
    ]
    assert rates[0] == {"links": [], "itemid": "VAT 20%", "rate": "20"} and rates[-1]["rate"] == "0"


# -- governance and faults -------------------------------------------------------------------------


def test_concurrency_limit_returns_429(netsuite_sandbox):
    state = netsuite_sandbox.state
    state.concurrency_limit, state.latency = 2, 0.4
    barrier, results = threading.Barrier(6), []

    def worker():
        barrier.wait()
        results.append(call(netsuite_sandbox, "GET", "/record/v1/currency/1"))

    threads = [threading.Thread(target=worker) for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    rejected = [r for r in results if r.status_code == 429]
    assert rejected and len(rejected) < 6
    assert error_of(rejected[0])[1] == "CONCURRENCY_LIMIT_EXCEEDED"
    assert state.counters.peak_in_flight == 2
    assert state.counters.rejected_429 == len(rejected)


def test_burst_of_429_then_recovery(netsuite_sandbox):
    netsuite_sandbox.state.burst_429(2)
    statuses = [call(netsuite_sandbox, "GET", "/record/v1/currency/1").status_code for _ in range(3)]
    assert statuses == [429, 429, 200]


def test_faults_5xx_drop_after_commit_and_slow(netsuite_sandbox):
    state = netsuite_sandbox.state
    state.set_faults(error_5xx=1.0)
    assert call(netsuite_sandbox, "GET", "/record/v1/currency/1").status_code == 500
    state.set_faults(error_5xx=0.0, drop=1.0)
    with pytest.raises(requests.ConnectionError):
        call(
            netsuite_sandbox,
            "POST",
            "/record/v1/customer",
            body={"companyName": "Ghost", "subsidiary": {"id": "1"}},
        )
    assert [c["companyName"] for c in state.store.records("customer")] == ["Ghost"]  # committed anyway
    state.set_faults(drop=0.0, slow=1.0, slow_seconds=1.0)
    with pytest.raises(requests.Timeout):
        url = netsuite_sandbox.rest_url + "/record/v1/currency/1"
        requests.get(url, headers=sign(netsuite_sandbox, "GET", url), timeout=0.2)
    assert state.counters.faults == {"5xx": 1, "drop": 1, "slow": 1}


def test_counters_and_reset(netsuite_sandbox):
    make_customer(netsuite_sandbox)
    call(netsuite_sandbox, "GET", "/record/v1/customer/1")
    suiteql(netsuite_sandbox, "SELECT id FROM customer")
    counters = netsuite_sandbox.state.counters
    assert counters.requests["POST customer"] == 1 and counters.requests["GET customer"] == 1
    assert (counters.writes, counters.suiteql, counters.by_token[netsuite_sandbox.token_id]) == (1, 1, 3)
    netsuite_sandbox.state.reset_counters()
    assert netsuite_sandbox.state.counters.snapshot()["requests"] == {}
    limits = call(netsuite_sandbox, "GET", "/system/v1/governanceLimits").json()
    assert limits == {
        "accountConcurrencyLimit": 5,
        "accountUnallocatedConcurrencyLimit": 5,
        "integrationLimitType": "accountLimit",
    }


# -- OAuth 2.0 -------------------------------------------------------------------------------------


def assertion(sandbox, *, alg="PS256", kid=None, ttl=300, **claims):
    now = int(time.time())
    payload = {"iss": sandbox.client_id, "scope": ["rest_webservices"], "aud": sandbox.token_url,
               "iat": now, "exp": now + ttl, **claims}  # fmt: skip
    headers = {"kid": kid or sandbox.certificate_id, "typ": "JWT"}
    return jwt.encode(payload, sandbox.private_key_pem, algorithm=alg, headers=headers)


def token_request(sandbox, client_assertion):
    form = {
        "grant_type": "client_credentials",
        "client_assertion_type": "urn:ietf:params:oauth:client-assertion-type:jwt-bearer",
        "client_assertion": client_assertion,
    }
    return requests.post(sandbox.token_url, data=form, timeout=10)


def test_oauth2_client_credentials_and_bearer(netsuite_sandbox):
    response = token_request(netsuite_sandbox, assertion(netsuite_sandbox))
    assert response.status_code == 200, response.text
    token = response.json()
    assert (token["token_type"], int(token["expires_in"])) == ("Bearer", 3600)
    bearer = {"Authorization": f"Bearer {token['access_token']}"}
    assert (
        requests.get(
            netsuite_sandbox.rest_url + "/record/v1/currency/1", headers=bearer, timeout=10
        ).status_code
        == 200
    )
    state = netsuite_sandbox.state
    state.clock = lambda: time.time() + 3601  # the token expires mid-run
    expired = requests.get(netsuite_sandbox.rest_url + "/record/v1/currency/1", headers=bearer, timeout=10)
    assert expired.status_code == 401 and 'error="invalid_token"' in expired.headers["WWW-Authenticate"]
    forged = {"Authorization": "Bearer not-a-token"}
    state.clock = time.time
    assert (
        requests.get(
            netsuite_sandbox.rest_url + "/record/v1/currency/1", headers=forged, timeout=10
        ).status_code
        == 401
    )


@pytest.mark.parametrize(
    "bad",
    [
        {"kid": "other-cert"},
        {"alg": "RS256"},
        {"iss": "other-client"},
        {"aud": "https://example.com/token"},
        {"scope": "restlets"},
        {"ttl": 7200},
        {"ttl": -10},
    ],  # fmt: skip
    ids=["kid", "rs256", "iss", "aud", "scope", "too-long", "expired"],
)
def test_oauth2_rejects_bad_assertions(netsuite_sandbox, bad):
    response = token_request(netsuite_sandbox, assertion(netsuite_sandbox, **bad))
    assert response.status_code == 400 and response.json()["error"] == "invalid_grant"


def test_oauth2_assertion_signed_by_another_key_is_rejected(netsuite_sandbox):
    stranger, _ = generate_client_keypair(bits=2048)
    now = int(time.time())
    claims = {"iss": netsuite_sandbox.client_id, "scope": "rest_webservices", "aud": netsuite_sandbox.token_url,
              "iat": now, "exp": now + 60}  # fmt: skip
    forged = jwt.encode(claims, stranger, algorithm="PS256", headers={"kid": netsuite_sandbox.certificate_id})
    assert token_request(netsuite_sandbox, forged).json()["error"] == "invalid_grant"


ADDRESS_QUERY = (
    "SELECT c.id, a.addr1, a.zip FROM customer c "
    "LEFT JOIN customerAddressbook b ON b.entity = c.id AND b.defaultbilling = 'T' "
    "LEFT JOIN customerAddressbookEntityAddress a ON a.nkey = b.addressbookaddress ORDER BY c.id"
)


def _book(*entries: tuple[str, str, bool]) -> dict:
    return {"items": [{"defaultBilling": default, "addressBookAddress": {"addr1": addr1, "zip": zip_code}}
                      for addr1, zip_code, default in entries]}  # fmt: skip


def test_suiteql_address_book_follows_the_customer(netsuite_sandbox):
    """docs/netsuite-rest.md §6.3: the default billing address joins through the address book; a
    replaced address book leaves no old address behind, and a postcode stays text."""
    customer = make_customer(netsuite_sandbox, addressBook=_book(("1 Old Road", "01234", True)))
    bare = make_customer(netsuite_sandbox)
    rows = {row["id"]: row for row in suiteql(netsuite_sandbox, ADDRESS_QUERY).json()["items"]}
    assert (rows[customer]["addr1"], rows[customer]["zip"]) == ("1 Old Road", "01234")
    assert "addr1" not in rows[bare] and "zip" not in rows[bare]  # no address: no columns, no nulls

    replaced = call(netsuite_sandbox, "PATCH", f"/record/v1/customer/{customer}", params={"replace": "addressBook"},
                    body={"addressBook": _book(("9 Shop Street", "BS1 4DJ", False), ("2 New Road", "09876", True))})  # fmt: skip
    assert replaced.status_code == 204, replaced.text
    rows = [row for row in suiteql(netsuite_sandbox, ADDRESS_QUERY).json()["items"] if row["id"] == customer]
    assert [(row["addr1"], row["zip"]) for row in rows] == [("2 New Road", "09876")]
    every = suiteql(netsuite_sandbox, "SELECT nkey, addr1 FROM customerAddressbookEntityAddress").json()[
        "items"
    ]
    assert sorted(row["addr1"] for row in every) == ["2 New Road", "9 Shop Street"]


@pytest.mark.parametrize("netsuite_profile", ["suitetax-oneworld+no-addresses"], indirect=True)
def test_suiteql_address_book_refused_when_switched_off(netsuite_sandbox):
    make_customer(netsuite_sandbox, addressBook=_book(("1 Old Road", "01234", True)))
    status, code, detail = error_of(suiteql(netsuite_sandbox, ADDRESS_QUERY))
    assert (status, code) == (400, "INVALID_PARAMETER")
    assert "Record 'customeraddressbook' was not found." in detail["detail"]
    assert suiteql(netsuite_sandbox, "SELECT id FROM customer").status_code == 200
