"""What real Splynx installations do beyond the happy path: each sandbox switch, on and off,
against the client and the billing layer over real HTTP (docs/splynx-installations.md)."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
import requests

from addon.billing import BillingValidationError, PaymentStatementLine
from addon.splynx import SplynxBilling, SplynxClient, SplynxConfig, SplynxServerError
from addon.splynx.client import MAX_REQUEST_LINE

PAGE = 9
CUSTOMERS = "admin/customers/customer"
PAYMENTS = "admin/finance/payments"


class Clock:
    """The client's clock, moved together with the sandbox's."""

    def __init__(self, state):
        self.state = state

    def __call__(self) -> float:
        return self.state.now()


def client_for(sandbox, **options) -> SplynxClient:
    settings = {"backoff_base": 0.001, "backoff_max": 0.005, "max_retries": 2, "page_size": PAGE, **options}
    config = SplynxConfig(sandbox.url, sandbox.api_key, sandbox.api_secret, **settings)
    return SplynxClient(config, clock=Clock(sandbox.state))


def billing_for(sandbox, **options) -> SplynxBilling:
    return SplynxBilling(client_for(sandbox, **options))


def request_lines(state) -> list[int]:
    return [len(f"{method} /{path.lstrip('/')} HTTP/1.1") for method, path in state.request_log]


# -- never book a payment twice ----------------------------------------------------------------


@pytest.mark.parametrize("faults", [0, 1, 2])
def test_commit_then_502_on_a_payment_links_the_one_created(splynx_sandbox, faults):
    state = splynx_sandbox.state
    billing = billing_for(splynx_sandbox)
    billing.test_connection()
    before = len(state.all("payments"))
    state.commit_then_502_next = faults

    payment_id = billing.create_payment(
        3, Decimal("12.34"), date(2025, 6, 1), 1, reference="ns-payment-77:rest", comment="from NetSuite"
    )

    made = [p for p in state.all("payments") if p["receipt_number"] == "ns-payment-77:rest"]
    assert [p["id"] for p in made] == [payment_id]
    assert len(state.all("payments")) == before + 1
    # One POST: the answer lost after the commit is resolved by the lookup, not by a resend.
    assert state.request_count("POST", PAYMENTS) == 1
    assert state.requests[("502", "after-commit")] == min(faults, 1)
    assert billing.find_payment("ns-payment-77:rest", customer_id=3).id == payment_id
    assert billing.find_payment("ns-payment-78:rest") is None


def test_a_create_without_a_key_is_never_resent(splynx_sandbox):
    state = splynx_sandbox.state
    client = client_for(splynx_sandbox)
    client.get(CUSTOMERS, 1)
    state.commit_then_502_next = 1
    body = {"customer_id": 3, "payment_type": 1, "receipt_number": "R-1", "date": "2025-06-01", "amount": "5"}
    with pytest.raises(SplynxServerError):
        client.create(PAYMENTS, body)
    assert state.request_count("POST", PAYMENTS) == 1
    assert len([p for p in state.all("payments") if p["receipt_number"] == "R-1"]) == 1


def test_a_500_before_any_commit_is_looked_up_then_sent_again(splynx_sandbox):
    state = splynx_sandbox.state
    billing = billing_for(splynx_sandbox)
    billing.test_connection()
    state.fail_next.append(500)  # PHP's exception handler: rolled back, nothing created
    payment_id = billing.create_payment(3, Decimal("5"), date(2025, 6, 2), 1, reference="ns-payment-80:rest")
    assert [p["id"] for p in state.all("payments") if p["receipt_number"] == "ns-payment-80:rest"] == [
        payment_id
    ]
    assert state.request_count("POST", PAYMENTS) == 2


def test_receipt_numbers_fit_the_32_character_column(splynx_sandbox):
    state = splynx_sandbox.state
    billing = billing_for(splynx_sandbox)
    long_key = "ns-payment-123456789012:987654321098"
    payment_id = billing.create_payment(3, Decimal("7"), date(2025, 6, 3), 1, reference=long_key)
    stored = state.get("payments", payment_id)["receipt_number"]
    assert len(stored) <= 32 and stored != long_key[:32]
    assert billing.find_payment(long_key).id == payment_id
    assert billing.find_payment(long_key[:-1] + "9") is None

    too_long = {
        "customer_id": 3,
        "payment_type": 1,
        "receipt_number": "x" * 33,
        "date": "2025-06-03",
        "amount": 1,
    }
    with pytest.raises(BillingValidationError, match="at most 32"):
        billing.client.create(PAYMENTS, too_long)
    state.receipt_number_length = None
    assert billing.client.create(PAYMENTS, too_long)["id"]


# -- payment statements as Splynx makes them -------------------------------------------------------


def test_statements_without_handler_and_records_an_admin_can_pair(splynx_sandbox):
    state = splynx_sandbox.state
    billing = billing_for(splynx_sandbox)
    statement_id = billing.create_payment_statement("NetSuite payments 2025-06", 2)
    statement = state.get("bank_statements", statement_id)
    assert (statement["handler"], statement["status"], statement["payment_type"]) == ("", "success", 2)

    line = PaymentStatementLine(
        amount=Decimal("9.50"), payment_date=date(2025, 6, 4), customer_id=4, reference="ns-payment-9:rest",
        status="error", comment="From NetSuite: applied to no invoice known here. Pair it by hand.",
    )  # fmt: skip
    line_id = billing.add_payment_statement_line(statement_id, line)
    record = state.get("bank_statement_records", line_id)
    assert (record["status"], record["additional_1"]) == ("error", "ns-payment-9:rest")
    assert "Pair it by hand" in record["comment"]
    assert billing.find_payment_statement_line("ns-payment-9:rest").id == line_id

    # An answer lost after the commit: the line is found, not added twice; the statement too.
    state.commit_then_502_next = 2
    again = billing.add_payment_statement_line(statement_id, PaymentStatementLine(
        amount=Decimal("1"), payment_date=date(2025, 6, 5), customer_id=4, reference="ns-payment-10:rest"
    ))  # fmt: skip
    assert [
        r["id"] for r in state.all("bank_statement_records") if r["additional_1"] == "ns-payment-10:rest"
    ] == [again]
    other = billing.create_payment_statement("NetSuite payments 2025-07", 2)
    assert [s["id"] for s in state.all("bank_statements") if s["title"] == "NetSuite payments 2025-07"] == [
        other
    ]


# -- requests a real server accepts ------------------------------------------------------------


def test_sandbox_answers_414_like_nginx_beyond_8_kb(splynx_sandbox):
    state = splynx_sandbox.state
    url = splynx_sandbox.api_url + CUSTOMERS + "?search=" + "a" * 8200
    refused = requests.get(url, timeout=10)
    assert refused.status_code == 414 and "nginx" in refused.text
    state.max_request_line = None
    assert requests.get(url, timeout=10).status_code == 401  # reaches PHP, which wants a token


@pytest.mark.parametrize("limit", [8192, None])
def test_id_lookups_are_chunked_to_4_kb_request_lines(splynx_sandbox, limit):
    state = splynx_sandbox.state
    state.max_request_line = limit
    billing = billing_for(splynx_sandbox)
    wanted = range(1, 3001)  # 40 exist; the rest must not make the request line grow past 4 KB
    found = [c.id for c in billing.customers(ids=wanted)]
    assert found == sorted(int(c["id"]) for c in state.all("customers"))
    assert max(request_lines(state)) <= MAX_REQUEST_LINE
    assert state.request_count("GET", CUSTOMERS) > 3000 * 5 // MAX_REQUEST_LINE


def test_documents_with_200_lines_a_page_need_no_long_request_line(make_splynx_sandbox):
    sandbox = make_splynx_sandbox(customers=60, seed=3, invoices=240)
    state = sandbox.state
    billing = billing_for(sandbox, page_size=150)
    documents = list(billing.documents("invoice"))
    first_page = sorted(state.all("invoices"), key=lambda i: i["id"])[:150]
    assert sum(len(i["items"]) for i in first_page) > 200
    assert len(documents) == 240
    # Every line got its category from its transaction: the lookup was answered, not refused (414).
    assert all(line.category_id for doc in documents for line in doc.lines)
    assert max(request_lines(state)) <= MAX_REQUEST_LINE
    assert state.requests[("414", "request-line")] == 0


@pytest.mark.parametrize("ignored", [True, False])
def test_paging_stops_when_an_endpoint_ignores_limit_and_offset(splynx_sandbox, ignored):
    state = splynx_sandbox.state
    state.paging_ignored = {CUSTOMERS} if ignored else set()
    client = client_for(splynx_sandbox)
    ids = [row["id"] for row in client.list(CUSTOMERS)]
    assert ids == sorted(int(c["id"]) for c in state.all("customers"))
    # Ignored paging: the second answer brings no new id and ends it. Honoured: full pages + a short one.
    assert state.request_count("GET", CUSTOMERS) == (2 if ignored else len(ids) // PAGE + 1)


# -- tokens -----------------------------------------------------------------------------------


def test_sandbox_wants_the_pairs_access_token_to_renew_or_revoke(splynx_sandbox):
    state = splynx_sandbox.state
    root = splynx_sandbox.api_url + "admin/auth/tokens"
    client = client_for(splynx_sandbox)
    client.get(CUSTOMERS, 1)
    other = client_for(splynx_sandbox)
    other.get(CUSTOMERS, 1)
    mine, theirs = client._token, other._token
    agent = {"User-Agent": client.config.user_agent}
    bare = requests.get(f"{root}/{mine.refresh_token}", headers=agent, timeout=10)
    assert bare.status_code == 401 and bare.json()["error"]["internal_code"] == "MISSED_AUTHORIZATION_HEADER"
    foreign = {**agent, "Authorization": f"Splynx-EA (access_token={theirs.access_token})"}
    assert requests.get(f"{root}/{mine.refresh_token}", headers=foreign, timeout=10).status_code == 401
    own = {**agent, "Authorization": f"Splynx-EA (access_token={mine.access_token})"}
    assert requests.get(f"{root}/{mine.refresh_token}", headers=own, timeout=10).status_code == 200
    state.renew_needs_access_token = False
    assert requests.get(f"{root}/{theirs.refresh_token}", headers=agent, timeout=10).status_code == 200


@pytest.mark.parametrize("needs_header", [True, False])
def test_renewal_and_revocation_carry_the_access_token(splynx_sandbox, needs_header):
    state = splynx_sandbox.state
    state.renew_needs_access_token = needs_header
    client = client_for(splynx_sandbox)
    client.get(CUSTOMERS, 1)
    refresh = client._token.refresh_token
    state.advance(31 * 60)
    assert client.get(CUSTOMERS, 2)["id"] == 2
    assert state.request_count("GET", "admin/auth/tokens/<token>") == 1
    assert state.request_count("POST", "admin/auth/tokens") == 1  # renewed, not logged in again
    client.close()
    assert state.auth.refresh_index[refresh].banned


@pytest.mark.parametrize("refusal", ["banned", "server_error"])
def test_a_refused_renewal_falls_back_to_a_fresh_login(splynx_sandbox, refusal):
    state = splynx_sandbox.state
    client = client_for(splynx_sandbox)
    client.get(CUSTOMERS, 1)
    state.advance(31 * 60)
    if refusal == "banned":
        state.auth.revoke(client._token.refresh_token)
    else:
        state.fail_next.extend([500] * 3)  # every attempt of the renewal
    assert client.get(CUSTOMERS, 2)["id"] == 2
    assert state.request_count("POST", "admin/auth/tokens") == 2


# -- data as Splynx keeps it --------------------------------------------------------------------


def test_multi_value_contacts_keep_the_first_valid_value(splynx_sandbox):
    state = splynx_sandbox.state
    billing = billing_for(splynx_sandbox)
    state.update("customers", 1, {
        "email": "first@example.net, second@example.net",
        "billing_email": "accounts@example.net,ap@example.net",
        "phone": "+44 20 7946 0001, +44 20 7946 0002",
    })  # fmt: skip
    customer = billing.get_customer(1)
    assert (customer.email, customer.billing_email, customer.phone) == (
        "first@example.net", "accounts@example.net", "+44 20 7946 0001"
    )  # fmt: skip
    assert len(customer.left_out) == 3
    assert "second@example.net" in customer.left_out[0] and "left out" in customer.left_out[0]
    assert billing.get_customer(2).left_out == ()

    state.multi_value_contacts = False  # an installation that keeps one address only
    with pytest.raises(BillingValidationError, match="not a valid email"):
        billing.client.update(CUSTOMERS, 2, {"email": "a@example.net, b@example.net"})


def test_records_layer_prefers_a_valid_address_over_the_first():
    from addon.splynx import records

    row = {"id": 1, "email": "nobody, someone@example.net", "phone": ""}
    customer = records.customer(row)
    assert customer.email == "someone@example.net" and "nobody" in customer.left_out[0]


# -- accounting id where the operator put a field ----------------------------------------------


def test_accounting_id_goes_only_to_modules_with_the_field(splynx_sandbox):
    state = splynx_sandbox.state
    billing = billing_for(splynx_sandbox)
    del state.additional_fields["payments"]["netsuite_id"]
    payment = state.all("payments")[0]
    assert billing.record_accounting_id("payment", int(payment["id"]), "4711", "netsuite_id") is False
    assert state.request_count("PUT", PAYMENTS) == 0
    customer = state.all("customers")[0]
    assert billing.record_accounting_id("customer", int(customer["id"]), "4711", "netsuite_id") is True
    assert state.get("customers", customer["id"])["additional_attributes"]["netsuite_id"] == "4711"


@pytest.mark.parametrize("locked", [True, False])
def test_a_refunded_credit_note_takes_only_its_note(splynx_sandbox, locked):
    state = splynx_sandbox.state
    state.locked_credit_notes = locked
    billing = billing_for(splynx_sandbox)
    note = state.all("credit_notes")[0]
    note["status"] = "refunded"  # as an admin's refund leaves it
    if locked:
        with pytest.raises(BillingValidationError, match="refunded credit note"):
            billing.record_accounting_id("credit_note", int(note["id"]), "4711", "netsuite_id")
        billing.client.update("admin/finance/credit-notes", note["id"], {"note": "still editable"})
    else:
        assert billing.record_accounting_id("credit_note", int(note["id"]), "4711", "netsuite_id")
        assert state.get("credit_notes", note["id"])["additional_attributes"]["netsuite_id"] == "4711"
