"""Splynx API v2 client: signature, nonce, query encoding, type conversion, and calls over HTTP."""

from __future__ import annotations

import time
from datetime import date, datetime
from decimal import Decimal
from urllib.parse import parse_qsl, unquote

import pytest

from addon.splynx import (
    SplynxAuthError,
    SplynxClient,
    SplynxConfig,
    SplynxConfigError,
    SplynxConnectionError,
    SplynxNotFound,
    SplynxPermissionError,
    SplynxServerError,
    SplynxValidationError,
    records,
)
from addon.splynx.auth import NonceSource, Token, sign, signature_header, token_header
from addon.splynx.query import php_pairs, php_query
from sandbox.server import serve_in_thread

# Computed independently with:
#   printf '%s' "1234567890test-key" | openssl dgst -sha256 -hmac test-secret
KNOWN_SIGNATURE = "C0A33EE7926443EF1E1C6047E5C0A1C198EEAEE2277DAFC640496D22342105B2"


def test_signature_known_answer():
    assert sign("test-key", "test-secret", 1234567890) == KNOWN_SIGNATURE


def test_signature_header_is_form_encoded_in_parentheses():
    header = signature_header("test-key", "test-secret", 1234567890)
    assert header == f"Splynx-EA (key=test-key&nonce=1234567890&signature={KNOWN_SIGNATURE})"
    assert token_header("abc/def") == "Splynx-EA (access_token=abc%2Fdef)"


def test_nonces_strictly_increase_even_when_the_clock_stands_still():
    source = NonceSource(clock=lambda: 1000.0)
    nonces = [source.next() for _ in range(5)]
    assert nonces == [100000, 100001, 100002, 100003, 100004]


def test_token_renewal_margin_is_capped_for_short_lived_tokens():
    body = {
        "access_token": "a",
        "access_token_expiration": 1020,
        "refresh_token": "r",
        "refresh_token_expiration": 5000,
    }
    token = Token.from_response(body, now=1000)
    assert token.access_fresh(1010, margin=60)  # 20 s token: renew only in its last 5 s
    assert not token.access_fresh(1016, margin=60)
    assert token.refreshable(1016)
    assert not token.refreshable(4996)


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        ({"main_attributes": {"status": "active"}}, [("main_attributes[status]", "active")]),
        (
            {"main_attributes": {"real_create_datetime": [">", "2025-04-09"]}},
            [
                ("main_attributes[real_create_datetime][0]", ">"),
                ("main_attributes[real_create_datetime][1]", "2025-04-09"),
            ],
        ),
        (
            {"main_attributes": {"tariff_id": ["IN", [2, 1]]}},
            [
                ("main_attributes[tariff_id][0]", "IN"),
                ("main_attributes[tariff_id][1][0]", "2"),
                ("main_attributes[tariff_id][1][1]", "1"),
            ],
        ),
        (
            {"order": {"id": "DESC"}, "limit": 100, "offset": 200},
            [("order[id]", "DESC"), ("limit", "100"), ("offset", "200")],
        ),
    ],
)
def test_php_bracket_encoding_matches_reference_examples(params, expected):
    assert php_pairs(params) == expected


def test_php_query_percent_encodes_brackets_and_typed_operands():
    query = php_query(
        {"main_attributes": {"date": ["BETWEEN", date(2025, 1, 1), datetime(2025, 2, 1, 8, 30)], "ok": True}}
    )
    assert "[" not in query and ">" not in query
    assert parse_qsl(query) == [
        ("main_attributes[date][0]", "BETWEEN"),
        ("main_attributes[date][1]", "2025-01-01"),
        ("main_attributes[date][2]", "2025-02-01 08:30:00"),
        ("main_attributes[ok]", "1"),
    ]
    assert unquote(php_query({"a": {"b": [">", Decimal("1.50")]}})) == "a[b][0]=>&a[b][1]=1.50"


def test_config_rejects_missing_credentials_and_builds_api_root():
    with pytest.raises(SplynxConfigError, match="api_secret"):
        SplynxConfig(base_url="https://isp.splynx.app", api_key="k", api_secret="")
    with pytest.raises(SplynxConfigError):
        SplynxConfig(base_url="isp.splynx.app", api_key="k", api_secret="s")
    assert SplynxConfig("https://isp.splynx.app/", "k", "s").api_root == "https://isp.splynx.app/api/2.0/"
    assert (
        SplynxConfig("https://isp.splynx.app/api/2.0", "k", "s").api_root == "https://isp.splynx.app/api/2.0/"
    )


@pytest.mark.parametrize(
    ("func", "raw", "expected"),
    [
        (records.to_int, "42", 42),
        (records.to_int, 42, 42),
        (records.to_int, "", None),
        (records.to_id, "0", None),
        (records.to_id, 0, None),
        (records.to_id, "7", 7),
        (records.to_decimal, "533.6000", Decimal("533.6000")),
        (records.to_decimal, 0.1, Decimal("0.1")),
        (records.to_decimal, "", None),
        (records.to_money, None, Decimal("0")),
        (records.to_date, "0000-00-00", None),
        (records.to_date, "2025-04-09", date(2025, 4, 9)),
        (records.to_date, "2025-04-09 10:11:12", date(2025, 4, 9)),
        (records.to_datetime, "0000-00-00 00:00:00", None),
        (records.to_datetime, "2025-04-09 10:11:12", datetime(2025, 4, 9, 10, 11, 12)),
        (records.to_bool, "0", False),
        (records.to_bool, "1", True),
        (records.to_bool, True, True),
        (records.to_attributes, [], {}),
        (records.to_id_tuple, "3,0,5", (3, 5)),
    ],
)
def test_scalar_conversions(func, raw, expected):
    assert func(raw) == expected


def test_bad_number_is_reported_not_swallowed():
    with pytest.raises(ValueError, match="abc"):
        records.to_decimal("abc")


def test_invoice_row_becomes_typed_document():
    raw = {
        "id": "12",
        "customer_id": "5",
        "number": "202501000012",
        "date_created": "2025-01-15",
        "date_till": "2025-01-29",
        "date_payment": "0000-00-00",
        "real_create_datetime": "2025-01-15 09:00:01",
        "date_updated": "2025-01-16",
        "status": "not_paid",
        "total": "121.0000",
        "due": "121.0000",
        "use_transactions": "1",
        "additional_attributes": {"netsuite_id": ""},
        "items": [
            {
                "id": 1,
                "description": "Fibre 100",
                "quantity": "2",
                "price": "50.0000",
                "tax": "21.0000",
                "tax_id": "3",
            },
            {
                "id": "2",
                "description": "Setup",
                "quantity": 1,
                "price": "0.0000",
                "tax": "0",
                "transaction_id": "9",
            },
        ],
    }
    doc = records.document("invoice", raw, {9: {"id": 9, "category": 4}})
    assert doc.id == 12 and doc.customer_id == 5
    assert doc.total == Decimal("121.0000") and doc.tax_total == Decimal("21.00")
    assert doc.net_total == Decimal("100.00")
    assert doc.paid_on is None and doc.due_date == date(2025, 1, 29)
    assert doc.created_at == datetime(2025, 1, 15, 9, 0, 1)
    first, second = doc.lines
    assert (first.quantity, first.price, first.tax_rate_id, first.net_total) == (
        2,
        Decimal("50"),
        3,
        Decimal("100"),
    )
    assert second.category_id == 4 and first.category_id is None
    assert not doc.is_deleted and doc.has_transactions


@pytest.mark.parametrize("blank", ["", None, "  "])
def test_a_row_without_its_id_is_refused_not_read_as_id_none(blank):
    # An id-less row would otherwise travel on as record None and be linked as "None".
    with pytest.raises(ValueError, match="id is missing"):
        records.payment({"id": blank, "customer_id": "5", "amount": "1"})
    with pytest.raises(ValueError, match="id is missing"):
        records.document("invoice", {"id": blank, "customer_id": "5", "items": []})
    # The customer stays optional on a document: the engine skips those with "it has no customer".
    assert records.document("invoice", {"id": "7", "customer_id": "", "items": []}).customer_id is None


# --------------------------------------------------------------------------- over HTTP against the sandbox

PAGE = 7


def make_client(sandbox, *, secret=None, clock=time.time, **options) -> SplynxClient:
    settings = {"backoff_base": 0.001, "backoff_max": 0.005, "max_retries": 2, "page_size": PAGE, **options}
    config = SplynxConfig(sandbox.url, sandbox.api_key, secret or sandbox.api_secret, **settings)
    return SplynxClient(config, clock=clock)


@pytest.fixture
def client(splynx_sandbox):
    api = make_client(splynx_sandbox)
    yield api
    api.close()


def add_customers(state, count, partner_id=None, **fields):
    partner_id = (
        partner_id or state.create("partners", {"name": f"Partner {len(state.all('partners')) + 1}"})["id"]
    )
    location_id = (state.all("locations") or [state.create("locations", {"name": "HQ"})])[0]["id"]
    return [
        state.create(
            "customers", {"partner_id": partner_id, "location_id": location_id, "name": f"C {n}", **fields}
        )
        for n in range(count)
    ]


def test_connection_line_names_the_api_and_counts_customers(client, splynx_sandbox):
    add_customers(splynx_sandbox.state, 2)
    line = client.test_connection()
    total = len(splynx_sandbox.state.all("customers"))
    assert "API is valid" in line and f"{total} customers" in line and "\n" not in line


def test_wrong_secret_is_refused_with_the_api_message(splynx_sandbox):
    api = make_client(splynx_sandbox, secret="not-the-secret")
    with pytest.raises(SplynxAuthError) as caught:
        api.count("admin/customers/customer")
    assert caught.value.status == 401 and caught.value.code == "UNAUTHORIZED"
    assert "Signature is invalid" in str(caught.value)
    assert splynx_sandbox.state.request_count("POST", "admin/auth/tokens") == 1  # 401 is not retried


def test_token_is_obtained_once_and_reused(client, splynx_sandbox):
    for _ in range(4):
        client.count("admin/customers/customer")
    assert splynx_sandbox.state.request_count("POST", "admin/auth/tokens") == 1
    assert splynx_sandbox.state.request_count("HEAD", "admin/customers/customer") == 4


def test_token_is_renewed_shortly_before_expiry_without_a_failed_call(splynx_sandbox):
    state = splynx_sandbox.state
    offset = [0.0]
    api = make_client(splynx_sandbox, clock=lambda: time.time() + offset[0])
    api.count("admin/customers/customer")
    # Both clocks move to 20 s before the 30-minute expiry: inside the renewal margin.
    offset[0] += state.auth.access_ttl - 20
    state.advance(state.auth.access_ttl - 20)
    api.count("admin/customers/customer")
    assert state.request_count("GET", "admin/auth/tokens") == 1  # refreshed with the refresh token
    assert state.request_count("POST", "admin/auth/tokens") == 1
    assert state.request_count("HEAD", "admin/customers/customer") == 2  # no request was refused and resent


def test_expired_token_is_replaced_once_after_401(client, splynx_sandbox):
    state = splynx_sandbox.state
    client.count("admin/customers/customer")
    state.auth.expire_all_access_tokens()
    client.count("admin/customers/customer")
    assert state.request_count("HEAD", "admin/customers/customer") == 3  # ok, 401, ok
    assert state.request_count("GET", "admin/auth/tokens") == 1


def test_refused_refresh_falls_back_to_a_fresh_login(client, splynx_sandbox):
    state = splynx_sandbox.state
    client.count("admin/customers/customer")
    [refresh_token] = list(state.auth.refresh_index)
    state.auth.revoke(refresh_token)  # bans the access token and its refresh token
    client.count("admin/customers/customer")
    assert state.request_count("GET", "admin/auth/tokens") == 1  # refresh tried, TOKEN_BANNED
    assert state.request_count("POST", "admin/auth/tokens") == 2  # then a new login


def test_list_streams_every_page_in_id_order(client, splynx_sandbox):
    state = splynx_sandbox.state
    add_customers(state, 3 * PAGE + 2)
    before = state.request_count("GET", "admin/customers/customer")
    rows = client.list("admin/customers/customer")
    first = next(rows)  # lazily: only the first page has been fetched
    assert state.request_count("GET", "admin/customers/customer") == before + 1
    ids = [int(first["id"])] + [int(r["id"]) for r in rows]
    expected = sorted(int(c["id"]) for c in state.all("customers"))
    assert ids == expected
    pages = -(-len(expected) // PAGE)
    assert state.request_count("GET", "admin/customers/customer") == before + pages + 1  # + empty page


def test_list_filters_on_the_server_with_operators(client, splynx_sandbox):
    state = splynx_sandbox.state
    mine = add_customers(state, PAGE + 3, status="active")
    add_customers(state, 4, status="blocked")
    partner = mine[0]["partner_id"]
    threshold = int(mine[2]["id"])
    got = list(
        client.list(
            "admin/customers/customer", search={"partner_id": ["IN", [partner]], "id": [">", threshold]}
        )
    )
    assert [int(r["id"]) for r in got] == [int(c["id"]) for c in mine[3:]]
    assert client.count("admin/customers/customer", search={"status": "blocked"}) == sum(
        1 for c in state.all("customers") if c["status"] == "blocked"
    )


def test_create_update_get_delete_round_trip(client, splynx_sandbox):
    state = splynx_sandbox.state
    customer = add_customers(state, 1)[0]
    created = client.create(
        "admin/customers/customer",
        {**{k: customer[k] for k in ("partner_id", "location_id")}, "name": "Jane Roe"},
    )
    new_id = int(created["id"])
    client.update("admin/customers/customer", new_id, {"city": "Riga"})
    assert client.get("admin/customers/customer", new_id)["city"] == "Riga"
    client.delete("admin/customers/customer", new_id)
    with pytest.raises(SplynxNotFound, match="Customer not found!") as caught:
        client.get("admin/customers/customer", new_id)
    assert caught.value.code == "NOT_FOUND" and caught.value.status == 404


def test_validation_error_keeps_every_field_message(client, splynx_sandbox):
    before = splynx_sandbox.state.request_count("POST", "admin/customers/customer")
    with pytest.raises(SplynxValidationError) as caught:
        client.create(
            "admin/customers/customer", {"partner_id": 1, "location_id": 1, "email": "not-an-email"}
        )
    fields = {fe.field: fe.message for fe in caught.value.field_errors}
    assert fields["name"] == "Name cannot be blank."
    assert "not a valid email" in fields["email"]
    assert caught.value.status == 422
    assert splynx_sandbox.state.request_count("POST", "admin/customers/customer") == before + 1


def test_server_errors_are_retried_then_succeed(client, splynx_sandbox):
    state = splynx_sandbox.state
    client.count("admin/customers/customer")
    state.fail_next.extend([500, 503])
    client.count("admin/customers/customer")
    assert state.request_count("HEAD", "admin/customers/customer") == 4


def test_persistent_server_error_gives_up_after_bounded_retries(client, splynx_sandbox):
    state = splynx_sandbox.state
    client.count("admin/customers/customer")
    state.fail_next.extend([502] * 10)
    with pytest.raises(SplynxServerError) as caught:
        client.count("admin/customers/customer")
    assert caught.value.status == 502
    assert state.request_count("HEAD", "admin/customers/customer") == 1 + 3  # first call + 1 try + 2 retries


def test_dropped_connection_is_retried(client, splynx_sandbox):
    state = splynx_sandbox.state
    client.count("admin/customers/customer")
    state.drop_next = 1
    assert client.count("admin/customers/customer") == len(state.all("customers"))
    assert state.request_count("HEAD", "admin/customers/customer") == 3


def test_unreachable_server_raises_connection_error():
    stopped = serve_in_thread(lambda environ, start_response: [])
    url = stopped.url
    stopped.stop()
    api = SplynxClient(SplynxConfig(url, "k", "s", max_retries=1, backoff_base=0.001, connect_timeout=1))
    with pytest.raises(SplynxConnectionError):
        api.count("admin/customers/customer")


def test_missing_permission_is_a_permission_error(splynx_sandbox):
    state = splynx_sandbox.state
    state.auth.add_key("narrow-key", "narrow-secret", permissions={"admin/customers/customer"})
    api = SplynxClient(SplynxConfig(splynx_sandbox.url, "narrow-key", "narrow-secret"))
    assert api.count("admin/customers/customer") == len(state.all("customers"))
    with pytest.raises(SplynxPermissionError) as caught:
        next(api.list("admin/finance/invoices"))
    assert caught.value.status == 403 and caught.value.code == "FORBIDDEN"


def test_clients_of_one_key_in_one_process_never_sign_with_the_same_nonce(splynx_sandbox):
    standing = lambda: 1_900_000_000.0  # noqa: E731 - both clients log in within one centisecond
    first, second = make_client(splynx_sandbox, clock=standing), make_client(splynx_sandbox, clock=standing)
    first.count("admin/customers/customer")
    second.count("admin/customers/customer")
    assert splynx_sandbox.state.request_count("POST", "admin/auth/tokens") == 2  # none refused


def test_a_nonce_taken_by_another_process_costs_one_more_login_not_a_failure(splynx_sandbox):
    # Two processes sharing a key: distinct nonce sources on the same centisecond.
    here = make_client(splynx_sandbox, clock=lambda: 1_900_000_000.0)
    there = make_client(splynx_sandbox, clock=lambda: 1_900_000_000.0)
    here.count("admin/customers/customer")
    assert there.count("admin/customers/customer") == here.count("admin/customers/customer")
    assert splynx_sandbox.state.request_count("POST", "admin/auth/tokens") == 3  # one refused, retried


def test_a_nonce_refused_every_time_ends_in_the_auth_error(splynx_sandbox):
    here = make_client(splynx_sandbox, clock=lambda: 1_900_000_100.0)
    here.count("admin/customers/customer")
    # A third process already used the next nonces too.
    for offset in range(1, 4):
        other = make_client(splynx_sandbox, clock=lambda offset=offset: 1_900_000_100.0 + offset / 100)
        other.count("admin/customers/customer")
    behind = make_client(splynx_sandbox, clock=lambda: 1_900_000_100.0)
    before = splynx_sandbox.state.request_count("POST", "admin/auth/tokens")
    with pytest.raises(SplynxAuthError, match="already been used"):
        behind.count("admin/customers/customer")
    assert splynx_sandbox.state.request_count("POST", "admin/auth/tokens") == before + 3
