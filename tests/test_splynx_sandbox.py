"""The Splynx sandbox speaks API v2 as splynx-api.md describes, over real loopback HTTP."""

from __future__ import annotations

import base64
import itertools
from decimal import ROUND_HALF_UP, Decimal
from urllib.parse import urlencode

import pytest
import requests

from sandbox.splynx import sign

USER_AGENT = "sandbox-tests/1.0"
_nonces = itertools.count(1_700_000_000_00)


def php_query(params, prefix=None) -> list[tuple[str, str]]:
    """Flatten nested params the way PHP's http_build_query does (docs/splynx-api.md §5.2)."""
    pairs = []
    items = params.items() if isinstance(params, dict) else enumerate(params)
    for key, value in items:
        name = f"{prefix}[{key}]" if prefix is not None else str(key)
        if isinstance(value, dict | list | tuple):
            pairs += php_query(list(value) if isinstance(value, tuple) else value, name)
        else:
            pairs.append((name, str(value)))
    return pairs


class Api:
    """Just enough of a Splynx client to drive the sandbox from tests."""

    def __init__(self, sandbox, user_agent: str = USER_AGENT):
        self.sandbox = sandbox
        self.base = sandbox.api_url
        self.http = requests.Session()
        self.http.headers["User-Agent"] = user_agent
        self.token: dict | None = None

    def signed(self, nonce=None, secret=None) -> dict:
        nonce = next(_nonces) if nonce is None else nonce
        signature = sign(self.sandbox.api_key, secret or self.sandbox.api_secret, nonce)
        return {"key": self.sandbox.api_key, "nonce": nonce, "signature": signature}

    def login(self, **signed) -> requests.Response:
        body = {"auth_type": "api_key", **(signed or self.signed())}
        response = self.http.post(self.base + "admin/auth/tokens", json=body)
        if response.status_code == 201:
            self.token = response.json()
        return response

    def call(self, method: str, path: str, params=None, json=None, auth: str | None = None, **kwargs):
        if auth is None:
            if self.token is None:
                assert self.login().status_code == 201
            auth = f"Splynx-EA (access_token={self.token['access_token']})"
        query = "?" + urlencode(php_query(params)) if params else ""
        headers = {"Authorization": auth} if auth else {}
        return self.http.request(method, self.base + path + query, json=json, headers=headers, **kwargs)

    def ok(self, method: str, path: str, payload=None):
        """Call and assert the documented success code; ``payload`` is the query or the JSON body."""
        reading = method in ("GET", "HEAD", "OPTIONS")
        response = self.call(method, path, payload if reading else None, None if reading else payload)
        expected = {"GET": 200, "POST": 201, "PUT": 202, "DELETE": 204, "HEAD": 204, "OPTIONS": 200}[method]
        assert response.status_code == expected, response.text
        return response.json() if response.content else None


@pytest.fixture
def api(splynx_sandbox):
    return Api(splynx_sandbox)


def error_of(response) -> dict:
    return response.json()["error"]


# -- authentication ---------------------------------------------------------------------------


def test_token_issue_carries_the_documented_fields(api, splynx_sandbox):
    response = api.login()
    assert response.status_code == 201
    body = response.json()
    assert set(body) == {
        "access_token",
        "access_token_expiration",
        "refresh_token",
        "refresh_token_expiration",
        "permissions",
    }
    assert body["access_token_expiration"] - splynx_sandbox.state.now() == pytest.approx(1800, abs=5)
    assert len(api.ok("GET", "admin/customers/customer")) == 40


def test_expired_access_token_is_refused_then_renewed_with_refresh_token(api, splynx_sandbox):
    api.login()
    splynx_sandbox.state.advance(31 * 60)
    refused = api.call("GET", "admin/customers/customer/1")
    assert refused.status_code == 401
    assert error_of(refused) == {
        "message": "Access token expired",
        "code": 401,
        "internal_code": "EXPIRED_ACCESS_TOKEN",
    }

    renewed = api.call("GET", "admin/auth/tokens/" + api.token["refresh_token"])
    assert renewed.status_code == 200
    assert "permissions" not in renewed.json()
    assert renewed.json()["access_token"] != api.token["access_token"]
    api.token = renewed.json()
    assert api.ok("GET", "admin/customers/customer/1")["id"] == 1


def test_expired_refresh_token_cannot_renew(api, splynx_sandbox):
    api.login()
    splynx_sandbox.state.advance(splynx_sandbox.state.auth.refresh_ttl + 1)
    response = api.call("GET", "admin/auth/tokens/" + api.token["refresh_token"])
    assert response.status_code == 401
    assert error_of(response)["internal_code"] == "EXPIRED_REFRESH_TOKEN"


def test_bad_signature_is_refused(api):
    response = api.login(**api.signed(secret="not-the-secret"))
    assert response.status_code == 401
    assert error_of(response) == {
        "message": "Signature is invalid",
        "code": 401,
        "internal_code": "UNAUTHORIZED",
    }


def test_reused_nonce_is_refused(api):
    signed = api.signed()
    assert api.login(**signed).status_code == 201
    again = api.login(**signed)
    assert again.status_code == 401
    assert error_of(again)["message"] == "Nonce has already been used"


def test_increasing_nonce_policy_refuses_a_smaller_nonce(make_splynx_sandbox):
    api = Api(make_splynx_sandbox(customers=3, nonce_policy="increasing"))
    assert api.login(**api.signed(nonce=500)).status_code == 201
    response = api.login(**api.signed(nonce=499))
    assert response.status_code == 401
    assert error_of(response)["message"] == "Nonce is too small"


def test_missing_authorization_header(api):
    response = api.call("GET", "admin/customers/customer", auth="")
    assert response.status_code == 401
    assert error_of(response)["internal_code"] == "MISSED_AUTHORIZATION_HEADER"


def test_stateless_signature_header_works_per_request(api):
    signed = api.signed()
    header = f"Splynx-EA ({urlencode(signed)})"
    assert api.call("GET", "admin/finance/invoices/1", auth=header).status_code == 200
    # The same nonce again is a replay.
    assert api.call("GET", "admin/finance/invoices/1", auth=header).status_code == 401


def test_basic_auth_needs_unsecure_access(api, splynx_sandbox):
    credentials = base64.b64encode(f"{splynx_sandbox.api_key}:{splynx_sandbox.api_secret}".encode()).decode()
    assert api.call("GET", "admin/finance/invoices/1", auth=f"Basic {credentials}").status_code == 401
    splynx_sandbox.state.auth.keys[splynx_sandbox.api_key].unsecure_access = True
    assert api.call("GET", "admin/finance/invoices/1", auth=f"Basic {credentials}").status_code == 200


def test_revoked_token_is_banned(api):
    api.login()
    response = api.call("DELETE", "admin/auth/tokens/" + api.token["refresh_token"])
    assert response.status_code == 204
    refused = api.call("GET", "admin/customers/customer/1")
    assert refused.status_code == 401
    assert error_of(refused)["internal_code"] == "TOKEN_BANNED"


def test_token_is_bound_to_user_agent(api, splynx_sandbox):
    api.login()
    other = Api(splynx_sandbox, user_agent="someone-else")
    other.token = api.token
    response = other.call("GET", "admin/customers/customer/1")
    assert response.status_code == 401
    assert error_of(response)["internal_code"] == "USER_AGENT_CHANGED"


def test_permissions_and_partner_restrictions(api, splynx_sandbox):
    key = splynx_sandbox.state.auth.keys[splynx_sandbox.api_key]
    key.permissions = {"admin/customers/customer"}
    forbidden = api.call("GET", "admin/finance/invoices")
    assert forbidden.status_code == 403
    assert error_of(forbidden)["internal_code"] == "FORBIDDEN"

    key.partner_ids = {1}
    customers = api.ok("GET", "admin/customers/customer")
    assert customers and {c["partner_id"] for c in customers} == {1}
    outsider = next(c for c in splynx_sandbox.dataset.records["customers"] if c["partner_id"] != 1)
    response = api.call("GET", f"admin/customers/customer/{outsider['id']}")
    assert response.status_code == 405
    assert error_of(response)["internal_code"] == "NOT_ALLOWED_BY_PARTNER_RESTRICTION"


def test_health_check(api):
    response = api.http.get(api.base + "admin/api/check")
    assert response.json() == {"status": "ok", "message": "API is valid", "same_server": False}


# -- search, paging, counting -----------------------------------------------------------------


def test_paging_with_a_filter_visits_every_matching_record_once(api, splynx_sandbox):
    cutoff = "2024-10-01"
    expected = sorted(
        i["id"] for i in splynx_sandbox.dataset.records["invoices"] if i["date_created"] >= cutoff
    )
    params = {"main_attributes": {"date_created": [">=", cutoff]}, "order": {"id": "ASC"}}
    seen, offset = [], 0
    while True:
        page = api.ok("GET", "admin/finance/invoices", {**params, "limit": 7, "offset": offset})
        if not page:
            break
        seen += [row["id"] for row in page]
        offset += 7
    assert len(expected) > 20
    assert seen == expected
    head = api.call("HEAD", "admin/finance/invoices", params)
    assert head.status_code == 204
    assert head.headers["X-total-count"] == str(len(expected))
    assert head.headers["Access-Control-Expose-Headers"] == "X-total-count"


def test_a_write_between_pages_shows_on_the_next_page(api, splynx_sandbox):
    params = {"main_attributes": {"status": "active"}, "order": {"id": "ASC"}, "limit": 5}
    first = api.ok("GET", "admin/customers/customer", {**params, "offset": 0})
    later = api.ok("GET", "admin/customers/customer", {**params, "offset": 5})
    # Deactivate the first customer of the second page: the next read of that page moves on.
    api.ok("PUT", f"admin/customers/customer/{later[0]['id']}", {"status": "disabled"})
    again = api.ok("GET", "admin/customers/customer", {**params, "offset": 5})
    assert _ids(again)[:4] == _ids(later)[1:]
    assert _ids(api.ok("GET", "admin/customers/customer", {**params, "offset": 0})) == _ids(first)


def test_id_lookups_keep_partner_restrictions(api, splynx_sandbox):
    customers = splynx_sandbox.dataset.records["customers"]
    ours = [c["id"] for c in customers if c["partner_id"] == 1][:3]
    theirs = [c["id"] for c in customers if c["partner_id"] != 1][:3]
    wanted = {"main_attributes": {"id": ["IN", ours + theirs + [999_999]]}}
    assert _ids(api.ok("GET", "admin/customers/customer", wanted)) == sorted(ours + theirs)
    splynx_sandbox.state.auth.keys[splynx_sandbox.api_key].partner_ids = {1}
    assert _ids(api.ok("GET", "admin/customers/customer", wanted)) == sorted(ours)
    assert api.ok("GET", "admin/customers/customer", {"main_attributes": {"id": theirs[0]}}) == []


def _ids(rows):
    return [r["id"] for r in rows]


@pytest.mark.parametrize(
    ("condition", "predicate"),
    [
        ("active", lambda c: c["status"] == "active"),
        (["!=", "active"], lambda c: c["status"] != "active"),
        (["IN", ["blocked", "disabled"]], lambda c: c["status"] in ("blocked", "disabled")),
    ],
)
def test_status_conditions(api, splynx_sandbox, condition, predicate):
    rows = api.ok("GET", "admin/customers/customer", {"main_attributes": {"status": condition}})
    assert _ids(rows) == [c["id"] for c in splynx_sandbox.dataset.records["customers"] if predicate(c)]


@pytest.mark.parametrize(
    ("field", "condition", "predicate"),
    [
        ("id", ["BETWEEN", 5, 9], lambda c: 5 <= c["id"] <= 9),
        ("id", ["<", "4"], lambda c: c["id"] < 4),
        ("id", ["<>", 2], lambda c: c["id"] != 2),
        ("name", ["LIKE", "müller"], lambda c: "müller" in c["name"].lower()),
        ("name", ["LIKE", "Z%"], lambda c: c["name"].lower().startswith("z")),
        ("email", ["IS", "NULL"], lambda c: c["email"] == ""),
        ("name", ["REGEXP", "^(José|Zoë) "], lambda c: c["name"].startswith(("José ", "Zoë "))),
        ("partner_id", ["FIND_IN_SET", "2"], lambda c: c["partner_id"] == 2),
    ],
)
def test_search_operators(api, splynx_sandbox, field, condition, predicate):
    rows = api.ok("GET", "admin/customers/customer", {"main_attributes": {field: condition}})
    expected = [c["id"] for c in splynx_sandbox.dataset.records["customers"] if predicate(c)]
    assert expected, "the dataset should exercise this operator"
    assert _ids(rows) == expected


def test_order_desc_and_additional_attribute_filter(api, splynx_sandbox):
    splynx_sandbox.state.update("customers", 7, {"additional_attributes": {"netsuite_id": "NS-7"}})
    rows = api.ok(
        "GET",
        "admin/customers/customer",
        {"additional_attributes": {"netsuite_id": ["!=", ""]}, "order": {"id": "DESC"}},
    )
    assert _ids(rows) == [7]
    rows = api.ok("GET", "admin/finance/payments", {"order": {"amount": "DESC"}, "limit": 5})
    amounts = [Decimal(r["amount"]) for r in rows]
    assert amounts == sorted(amounts, reverse=True)


def test_unknown_attribute_or_operator_is_a_bad_request(api):
    response = api.call("GET", "admin/customers/customer", {"main_attributes": {"nope": 1}})
    assert response.status_code == 400
    assert error_of(response)["internal_code"] == "BAD_REQUEST"
    response = api.call("GET", "admin/customers/customer", {"main_attributes": {"id": ["SOUNDS", 1]}})
    assert response.status_code == 400


# -- records ----------------------------------------------------------------------------------


def test_customer_create_read_update_delete(api, splynx_sandbox):
    created = api.ok(
        "POST",
        "admin/customers/customer",
        {"partner_id": 1, "location_id": 1, "name": "Jane Roe", "email": "jane@example.org"},
    )
    new_id = created["id"]
    assert created["login"] and created["status"] == "new" and created["added_by"] == "api"
    assert created["additional_attributes"] == {"netsuite_id": "", "service_address": ""}
    splynx_sandbox.state.advance(5)
    assert (
        api.ok("PUT", f"admin/customers/customer/{new_id}", {"additional_attributes": {"netsuite_id": "812"}})
        is None
    )
    fetched = api.ok("GET", f"admin/customers/customer/{new_id}")
    assert fetched["additional_attributes"]["netsuite_id"] == "812"
    assert fetched["last_update"] > created["last_update"]
    api.ok("DELETE", f"admin/customers/customer/{new_id}")
    gone = api.call("GET", f"admin/customers/customer/{new_id}")
    assert gone.status_code == 404
    assert error_of(gone) == {"message": "Customer not found!", "code": 404, "internal_code": "NOT_FOUND"}


def test_validation_errors_are_a_422_list(api):
    response = api.call(
        "POST", "admin/customers/customer", json={"partner_id": 99, "location_id": 1, "email": "x@"}
    )
    assert response.status_code == 422
    assert response.json() == [
        {"field": "name", "is_additional_attribute": False, "message": "Name cannot be blank."},
        {"field": "partner_id", "is_additional_attribute": False, "message": "Partner ID is invalid."},
        {
            "field": "email",
            "is_additional_attribute": False,
            "message": "Email is not a valid email address.",
        },
    ]
    response = api.call("PUT", "admin/customers/customer/1", json={"additional_attributes": {"ghost": "1"}})
    assert response.status_code == 422
    assert response.json()[0]["is_additional_attribute"] is True
    response = api.call("POST", "admin/finance/invoices", json={"customer_id": 1})
    assert response.status_code == 422
    assert response.json() == [
        {"field": "items", "is_additional_attribute": False, "message": "Items cannot be blank."}
    ]


def _expected_total(items) -> Decimal:
    total = Decimal(0)
    for item in items:
        net = (Decimal(item["quantity"]) * Decimal(item["price"])).quantize(Decimal("0.01"), ROUND_HALF_UP)
        total += net + (net * Decimal(item["tax"]) / 100).quantize(Decimal("0.01"), ROUND_HALF_UP)
    return total


def test_invoice_create_edit_and_delete(api, splynx_sandbox):
    body = {
        "customer_id": 3,
        "date_created": "2025-06-01",
        "items": [
            {
                "description": "Fibre",
                "quantity": 1,
                "unit": "month",
                "price": "29.80",
                "tax": "7.5",
                "categoryIdForTransaction": 6,
            },
            {"description": "Router", "quantity": 2, "unit": "pcs", "price": 12.345, "tax": 20},
        ],
    }
    created = api.ok("POST", "admin/finance/invoices", body)
    assert created["total"] == "61.6700"  # 29.80 + 2.24 (half cent up) + 24.69 + 4.94
    assert created["due"] == created["total"] and created["status"] == "not_paid"
    assert [i["price"] for i in created["items"]] == ["29.8000", "12.3450"]
    transaction = api.ok("GET", f"admin/finance/transactions/{created['items'][0]['transaction_id']}")
    assert transaction["category"] == 6 and transaction["invoice_id"] == created["id"]

    item_id = created["items"][1]["id"]
    api.ok("PUT", f"admin/finance/invoices/{created['id']}", {"items": [{"id": item_id, "price": "10"}]})
    edited = api.ok("GET", f"admin/finance/invoices/{created['id']}")
    assert Decimal(edited["total"]) == _expected_total(edited["items"]) == Decimal("56.04")
    assert edited["date_updated"] == splynx_sandbox.state.date_str()

    api.ok("DELETE", f"admin/finance/invoices/{created['id']}")
    assert api.ok("GET", f"admin/finance/invoices/{created['id']}")["status"] == "deleted"


def test_payments_settle_invoices(api, splynx_sandbox):
    invoice = next(i for i in splynx_sandbox.dataset.records["invoices"] if i["status"] == "not_paid")
    total = Decimal(invoice["total"])
    part = (total / 2).quantize(Decimal("0.01"))
    payment = api.ok(
        "POST",
        "admin/finance/payments",
        {
            "customer_id": invoice["customer_id"],
            "invoice_id": invoice["id"],
            "payment_type": 2,
            "receipt_number": "T-1",
            "date": "2025-06-20",
            "amount": str(part),
        },
    )
    assert payment["transaction_id"] and payment["real_create_datetime"] == payment["updated_at"]
    after = api.ok("GET", f"admin/finance/invoices/{invoice['id']}")
    assert (after["status"], Decimal(after["due"])) == ("not_paid", total - part)
    api.ok(
        "POST",
        "admin/finance/payments",
        {
            "customer_id": invoice["customer_id"],
            "invoice_id": invoice["id"],
            "payment_type": 1,
            "receipt_number": "T-2",
            "date": "2025-06-21",
            "amount": str(total - part),
        },
    )
    paid = api.ok("GET", f"admin/finance/invoices/{invoice['id']}")
    assert (paid["status"], paid["due"], paid["date_payment"]) == ("paid", "0.0000", "2025-06-21")

    bad = api.call(
        "POST",
        "admin/finance/payments",
        json={
            "customer_id": 1,
            "payment_type": 99,
            "receipt_number": "x",
            "date": "2025-06-01",
            "amount": "1",
        },
    )
    assert bad.status_code == 422
    assert bad.json()[0]["field"] == "payment_type"


def test_credit_note_create(api):
    created = api.ok(
        "POST",
        "admin/finance/credit-notes",
        {
            "customer_id": 2,
            "status": "not_refunded",
            "invoicesId": "1",
            "resetPeriodForService": "1",
            "items": [
                {"description": "Refund", "quantity": 1, "unit": "pcs", "price": "14.60", "tax": "7.5"}
            ],
        },
    )
    assert created["total"] == "15.7000" and created["remind_amount"] == "15.7000"
    assert created["number"] and created["real_create_datetime"] != "0000-00-00 00:00:00"


def test_mapping_fields_on_categories_and_payment_methods(api, splynx_sandbox):
    # No accounting add-on filled the tables these columns point into: MySQL refuses the row.
    for path, body in (
        ("admin/finance/transaction-categories/6", {"accounting_category_id": 41}),
        ("admin/finance/payment-methods/2", {"accounting_bank_accounts_id": "7"}),
        ("admin/finance/transaction-categories", {"name": "New", "accounting_category_id": 41}),
    ):
        refused = api.call("POST" if path.endswith("categories") else "PUT", path, json=body)
        assert refused.status_code == 500 and "foreign key constraint" in error_of(refused)["message"]
    assert not api.ok("GET", "admin/finance/transaction-categories/6")["accounting_category_id"]
    api.ok("PUT", "admin/finance/payment-methods/2", {"accounting_bank_accounts_id": 0})  # "none" is fine

    splynx_sandbox.state.accounting_foreign_keys = False
    api.ok("PUT", "admin/finance/transaction-categories/6", {"accounting_category_id": 41})
    assert api.ok("GET", "admin/finance/transaction-categories/6")["accounting_category_id"] == 41
    api.ok("PUT", "admin/finance/payment-methods/2", {"accounting_bank_accounts_id": "7"})
    assert api.ok("GET", "admin/finance/payment-methods/2")["accounting_bank_accounts_id"] == 7
    taxes = api.ok("GET", "admin/config/taxes")
    assert [t["rate"] for t in taxes] == ["20.0000", "7.5000", "0.0000", "0.0000"]
    assert api.ok("GET", "admin/config/taxes/2")["name"] == "Reduced rate 7.5%"
    # Taxes are read-only through the API (docs/splynx-api.md §7.9).
    assert api.call("PUT", "admin/config/taxes/2", json={"accounting_tax_rates_id": 3}).status_code == 405


def test_payment_statements(api, splynx_sandbox):
    # The handler names a folder of Splynx's file handlers: a made-up one is refused.
    refused = api.call("POST", "admin/finance/bank-statements", json={"title": "X", "handler": "netsuite"})
    assert refused.status_code == 422 and refused.json()[0]["field"] == "handler"
    bad_status = api.call("POST", "admin/finance/bank-statements", json={"title": "X", "status": "imported"})
    assert bad_status.status_code == 422
    splynx_sandbox.state.statement_handlers = None
    assert api.call("POST", "admin/finance/bank-statements", json={"title": "Y", "handler": "netsuite"}).ok
    statement = api.ok(
        "POST", "admin/finance/bank-statements", {"title": "NetSuite 2025-06", "status": "success"}
    )
    api.ok(
        "POST",
        "admin/finance/bank-statements-records",
        {
            "bank_statements_process_id": statement["id"],
            "amount": "12.50",
            "payment_date": "2025-06-03",
            "pairing_1": "4",
            "comment": "NS payment 991",
        },
    )
    assert api.ok("GET", f"admin/finance/bank-statements/{statement['id']}")["records"] == 1
    imported = api.ok(
        "POST",
        "admin/finance/bank-statements-import",
        {
            "data": [{"0": "5", "1": "202506000001", "2": "9.99", "3": "2025-06-04"}],
            "columns": {"0": "customer_id", "1": "invoice_number", "2": "amount", "3": "date"},
        },
    )
    records = api.ok(
        "GET",
        "admin/finance/bank-statements-records",
        {"main_attributes": {"bank_statements_process_id": imported["id"]}},
    )
    assert [(r["amount"], r["pairing_2"]) for r in records] == [("9.9900", "202506000001")]


def test_additional_fields_config_and_options(api):
    fields = api.ok("GET", "admin/config/additional-fields/customers")
    assert {f["name"] for f in fields} == {"netsuite_id", "service_address"}
    api.ok("POST", "admin/config/additional-fields/payments", {"name": "ns_ref", "type": "string"})
    assert api.ok("GET", "admin/finance/payments/1")["additional_attributes"]["ns_ref"] == ""
    api.ok("PUT", "admin/config/config?module=add-on&path=netsuite", {"export_from": "2025-01-01"})
    assert api.ok("GET", "admin/config/config", {"module": "add-on", "path": "netsuite"}) == {
        "export_from": "2025-01-01"
    }
    described = api.ok("OPTIONS", "admin/finance/invoices")
    assert {"name": "customer_id", "title": "Customer ID", "type": "integer", "required": True} in described[
        "attributes"
    ]
    assert described["additional_attributes"][0]["name"] == "netsuite_id"


def test_form_encoded_body_with_php_brackets(api):
    response = api.call(
        "POST",
        "admin/finance/credit-notes",
        data=php_query(
            {
                "customer_id": 4,
                "items": [
                    {"description": "Goodwill", "quantity": 1, "unit": "pcs", "price": "10", "tax": "20"}
                ],
            }
        ),
    )
    assert response.status_code == 201
    assert response.json()["total"] == "12.0000"


# -- state edits, counters, faults ------------------------------------------------------------


def test_python_edits_are_visible_and_counted(api, splynx_sandbox):
    state = splynx_sandbox.state
    invoice = splynx_sandbox.dataset.records["invoices"][0]
    state.set_item("invoices", invoice["id"], 0, price="100")
    fetched = api.ok("GET", f"admin/finance/invoices/{invoice['id']}")
    assert Decimal(fetched["total"]) == _expected_total(fetched["items"])
    assert fetched["date_updated"] == state.date_str()
    payment = state.add_payment(2, "5.00", payment_type=3)
    assert api.ok("GET", f"admin/finance/payments/{payment['id']}")["amount"] == "5.0000"
    state.delete("payments", payment["id"])
    assert api.call("GET", f"admin/finance/payments/{payment['id']}").status_code == 404
    assert state.request_count("GET", "admin/finance/payments") == 2
    assert state.request_count("POST", "admin/auth/tokens") == 1


def test_fault_injection(api, splynx_sandbox):
    api.login()
    splynx_sandbox.state.fail_next.append(503)
    failed = api.call("GET", "admin/customers/customer/1")
    assert failed.status_code == 503 and error_of(failed)["internal_code"] == "SERVER_ERROR"
    splynx_sandbox.state.drop_next = 1
    with pytest.raises(requests.ConnectionError):
        api.call("GET", "admin/customers/customer/1")
    assert api.call("GET", "admin/customers/customer/1").status_code == 200


def test_string_ids_option(make_splynx_sandbox):
    api = Api(make_splynx_sandbox(customers=3, string_ids=True))
    invoice = api.ok("GET", "admin/finance/invoices")[0]
    assert isinstance(invoice["id"], str) and isinstance(invoice["customer_id"], str)
    assert isinstance(invoice["items"][0]["transaction_id"], str)


def test_random_fault_fraction(api, splynx_sandbox):
    api.login()
    splynx_sandbox.state.error_rate = 1.0
    assert api.call("GET", "admin/customers/customer/1").status_code == 500
    splynx_sandbox.state.error_rate = 0.0
    assert api.call("GET", "admin/customers/customer/1").status_code == 200


def test_sqlite_file_keeps_writes_across_restarts(tmp_path):
    from sandbox.server import serve_in_thread
    from sandbox.splynx import SplynxState, build_state, create_app
    from sandbox.splynx.persist import SqliteFile

    path = str(tmp_path / "splynx.db")
    state = build_state(5, 1)
    persist = SqliteFile(path)
    persist.save(state, state.tables)
    server = serve_in_thread(create_app(state, persist))
    try:
        key = next(iter(state.auth.keys.values()))
        handle = type(
            "Handle", (), {"api_url": server.url + "/api/2.0/", "api_key": key.key, "api_secret": key.secret}
        )
        Api(handle).ok("PUT", "admin/customers/customer/2", {"additional_attributes": {"netsuite_id": "77"}})
    finally:
        server.stop()
    restored = SplynxState()
    assert SqliteFile(path).load(restored)
    assert restored.get("customers", 2)["additional_attributes"]["netsuite_id"] == "77"
    assert restored.auth.keys[key.key].secret == key.secret
    assert len(restored.all("invoices")) == len(state.all("invoices"))
