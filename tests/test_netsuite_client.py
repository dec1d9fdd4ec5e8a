"""NetSuiteClient against the NetSuite sandbox over real HTTP: records, SuiteQL, errors, retries."""

from __future__ import annotations

import base64
import http.client
import http.server
import json
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from decimal import Decimal
from urllib.parse import urlsplit

import pytest

from addon.netsuite import (
    LocalGovernor,
    NetSuiteAuthError,
    NetSuiteClient,
    NetSuiteConfig,
    NetSuiteConfigError,
    NetSuiteConnectionError,
    NetSuiteNotFound,
    NetSuiteRateLimited,
    NetSuiteServerError,
    NetSuiteValidationError,
)
from addon.netsuite.client import encode_json, replace_sublists
from sandbox.server import serve_in_thread

FAST_RETRIES = {"backoff_base": 0.001, "backoff_cap": 0.01, "max_attempts": 4, "max_retry_seconds": 30}


def tba_client(sandbox, governor=None, **overrides) -> NetSuiteClient:
    settings = {**sandbox.tba_credentials(), "base_url": sandbox.url, **FAST_RETRIES, **overrides}
    return NetSuiteClient(NetSuiteConfig(**settings), governor=governor)


def oauth2_client(sandbox, **overrides) -> NetSuiteClient:
    settings = {
        **sandbox.oauth2_credentials(),
        "auth_mode": "oauth2",
        "base_url": sandbox.url,
        **FAST_RETRIES,
    }
    return NetSuiteClient(NetSuiteConfig(**{**settings, **overrides}))


def requests_seen(sandbox) -> dict:
    return dict(sandbox.state.counters.requests)


def customer(name: str, external_id: str | None = None) -> dict:
    body = {"companyName": name, "subsidiary": {"id": "1"}, "email": f"{name.lower()}@example.net"}
    if external_id:
        body["externalId"] = external_id
    return body


def invoice(customer_id: str, item_id: str, *rates: str) -> dict:
    lines = [{"item": {"id": item_id}, "quantity": 1, "rate": Decimal(rate)} for rate in rates]
    return {
        "entity": {"id": customer_id},
        "subsidiary": {"id": "1"},
        "tranDate": "2025-03-04",
        "item": {"items": lines},
    }


def first_item(client) -> str:
    return next(client.suiteql("SELECT id FROM item WHERE itemtype = 'Service' ORDER BY id ASC"))["id"]


# -- records -------------------------------------------------------------------------------------


def test_create_get_update_delete(netsuite_sandbox):
    client = tba_client(netsuite_sandbox)
    record_id = client.create("customer", customer("Acme", "isp-cust-1"))
    assert record_id.isdigit()
    assert client.get("customer", record_id)["companyName"] == "Acme"
    assert client.get_by_external_id("customer", "isp-cust-1")["id"] == record_id
    client.update("customer", record_id, {"companyName": "Acme Fibre"})
    assert client.get("customer", record_id)["companyName"] == "Acme Fibre"
    client.delete("customer", record_id)
    with pytest.raises(NetSuiteNotFound):
        client.get("customer", record_id)
    assert client.get_by_external_id("customer", "isp-cust-1") is None


def test_upsert_creates_then_updates_the_same_record(netsuite_sandbox):
    client = tba_client(netsuite_sandbox)
    first = client.upsert("customer", "isp-cust-7", customer("Beta"))
    second = client.upsert("customer", "isp-cust-7", customer("Beta Networks"))
    assert first == second
    assert client.get("customer", first)["companyName"] == "Beta Networks"
    assert requests_seen(netsuite_sandbox)["PUT customer"] == 2


def test_patch_with_item_lines_replaces_them_unless_told_to_append(netsuite_sandbox):
    client = tba_client(netsuite_sandbox)
    customer_id = client.create("customer", customer("Gamma"))
    item_id = first_item(client)
    invoice_id = client.create("invoice", invoice(customer_id, item_id, "10.00", "20.00"))

    client.update("invoice", invoice_id, invoice(customer_id, item_id, "10.00", "20.00"))
    lines = client.get("invoice", invoice_id, expandSubResources=True)["item"]["items"]
    assert [Decimal(str(line["rate"])) for line in lines] == [Decimal("10.00"), Decimal("20.00")]

    client.update(
        "invoice", invoice_id, {"item": {"items": [{"item": {"id": item_id}, "rate": 5}]}}, replace=()
    )
    assert len(client.get("invoice", invoice_id, expandSubResources=True)["item"]["items"]) == 3


def test_replace_sublists_rule():
    assert replace_sublists({"item": {"items": []}}, None) == "item"
    assert replace_sublists({"apply": {"items": []}}, None) is None
    assert replace_sublists({"item": {"items": []}}, ()) is None
    assert replace_sublists({}, ("item", "apply")) == "item,apply"


def test_decimal_amounts_travel_as_exact_json_numbers(netsuite_sandbox):
    assert encode_json({"rate": Decimal("49.99"), "q": [Decimal("-0.10")]}) == '{"rate": 49.99, "q": [-0.10]}'
    client = tba_client(netsuite_sandbox)
    customer_id = client.create("customer", customer("Delta"))
    invoice_id = client.create("invoice", invoice(customer_id, first_item(client), "49.99", "0.01"))
    assert Decimal(str(client.get("invoice", invoice_id)["subtotal"])) == Decimal("50.00")


# -- SuiteQL -------------------------------------------------------------------------------------


def test_suiteql_streams_page_by_page(netsuite_sandbox):
    client = tba_client(netsuite_sandbox)
    total = len(netsuite_sandbox.state.store.ids("accountingPeriod"))
    assert total > 100
    rows = client.suiteql("SELECT id, periodname FROM accountingperiod ORDER BY id ASC", page_size=50)
    first = next(rows)
    assert netsuite_sandbox.state.counters.suiteql == 1  # only the first page has been fetched
    assert set(first) == {"id", "periodname"}
    ids = [first["id"], *(row["id"] for row in rows)]
    assert len(ids) == len(set(ids)) == total
    assert netsuite_sandbox.state.counters.suiteql == -(-total // 50)


def test_suiteql_keyset_pages_by_id(netsuite_sandbox):
    client = tba_client(netsuite_sandbox)
    created = [client.create("customer", customer(f"Key{n}")) for n in range(7)]
    rows = list(
        client.suiteql_keyset(
            "SELECT c.id, c.companyname FROM customer c", where="c.isinactive = 'F'", key="c.id", page_size=3
        )
    )
    assert [row["id"] for row in rows] == sorted(created, key=int)
    assert netsuite_sandbox.state.counters.suiteql == 3


# -- errors --------------------------------------------------------------------------------------


def test_bad_signature_is_an_auth_error_and_not_retried(netsuite_sandbox):
    client = tba_client(netsuite_sandbox, token_secret="wrong")
    with pytest.raises(NetSuiteAuthError) as caught:
        client.get("customer", 1)
    assert caught.value.code == "INVALID_LOGIN" and caught.value.status == 401
    assert requests_seen(netsuite_sandbox) == {"401": 1}


def test_revoked_token_is_an_auth_error(netsuite_sandbox):
    netsuite_sandbox.state.revoke_token(netsuite_sandbox.token_id)
    with pytest.raises(NetSuiteAuthError, match="INVALID_LOGIN"):
        tba_client(netsuite_sandbox).test_connection()


def test_validation_error_keeps_code_and_path_and_is_not_retried(netsuite_sandbox):
    client = tba_client(netsuite_sandbox)
    customer_id = client.create("customer", customer("Epsilon"))
    body = invoice(customer_id, first_item(client), "10.00")
    body["item"]["items"].append({"item": {"id": "999999"}, "quantity": 1, "rate": 1})
    netsuite_sandbox.state.reset_counters()
    with pytest.raises(NetSuiteValidationError) as caught:
        client.create("invoice", body)
    error = caught.value
    assert (error.status, error.code, error.path) == (400, "INVALID_CONTENT", "item.items[1].item")
    assert str(error).startswith("INVALID_CONTENT on item.items[1].item: ")
    assert requests_seen(netsuite_sandbox) == {"POST invoice": 1}


def test_closed_period_is_recognisable(netsuite_sandbox):
    client = tba_client(netsuite_sandbox)
    customer_id = client.create("customer", customer("Zeta"))
    netsuite_sandbox.state.store.set_period_closed("2025-03")
    with pytest.raises(NetSuiteValidationError) as caught:
        client.create("invoice", invoice(customer_id, first_item(client), "10.00"))
    assert caught.value.is_closed_period
    with pytest.raises(NetSuiteNotFound) as missing:
        client.get("customer", 999999)
    assert not missing.value.is_closed_period


def test_unknown_record_type_is_not_found(netsuite_sandbox):
    with pytest.raises(NetSuiteNotFound, match="does not exist"):
        tba_client(netsuite_sandbox).get("taxItem", 1)


def test_429_burst_is_retried_with_exact_call_count(netsuite_sandbox):
    client = tba_client(netsuite_sandbox)
    netsuite_sandbox.state.burst_429(2)
    assert client.governance_limits()["accountConcurrencyLimit"] == 5
    assert netsuite_sandbox.state.counters.rejected_429 == 2
    assert requests_seen(netsuite_sandbox) == {"GET governanceLimits": 1}


def test_429_beyond_the_attempt_budget_surfaces(netsuite_sandbox):
    netsuite_sandbox.state.burst_429(10)
    with pytest.raises(NetSuiteRateLimited) as caught:
        tba_client(netsuite_sandbox).governance_limits()
    assert caught.value.code == "CONCURRENCY_LIMIT_EXCEEDED"
    assert netsuite_sandbox.state.counters.rejected_429 == FAST_RETRIES["max_attempts"]


def test_5xx_is_retried_up_to_the_budget(netsuite_sandbox):
    netsuite_sandbox.state.set_faults(error_5xx=1.0)
    with pytest.raises(NetSuiteServerError) as caught:
        tba_client(netsuite_sandbox, max_attempts=3).get("customer", 1)
    assert caught.value.status == 500
    assert netsuite_sandbox.state.counters.faults["5xx"] == 3


def test_dropped_connection_on_a_read_is_retried(netsuite_sandbox):
    netsuite_sandbox.state.set_faults(drop=1.0)
    with pytest.raises(NetSuiteConnectionError) as caught:
        tba_client(netsuite_sandbox, max_attempts=3).governance_limits()
    assert caught.value.maybe_committed
    assert requests_seen(netsuite_sandbox) == {"GET governanceLimits": 3}


def test_unreachable_host_is_a_connection_error(netsuite_sandbox):
    server = serve_in_thread(lambda environ, start_response: [])
    url = server.url
    server.stop()  # nothing listens on this port any more
    client = tba_client(netsuite_sandbox, base_url=url, max_attempts=2)
    with pytest.raises(NetSuiteConnectionError, match="unreachable") as caught:
        client.create("customer", customer("Eta"))
    assert not caught.value.maybe_committed


# -- lost writes ---------------------------------------------------------------------------------


def test_lost_create_without_external_id_is_never_reposted(netsuite_sandbox):
    netsuite_sandbox.state.set_faults(drop=1.0)
    with pytest.raises(NetSuiteConnectionError) as caught:
        tba_client(netsuite_sandbox).create("customer", customer("Theta"))
    assert caught.value.maybe_committed
    assert requests_seen(netsuite_sandbox) == {"POST customer": 1}
    assert len(netsuite_sandbox.state.store.ids("customer")) == 1  # NetSuite did commit it


def test_lost_create_with_external_id_is_found_not_duplicated(netsuite_sandbox):
    # The write commits but answers after the client's write timeout; reads wait longer.
    netsuite_sandbox.state.set_faults(slow=1.0, slow_seconds=1.0)
    client = tba_client(netsuite_sandbox, write_timeout=0.3, read_timeout=10)
    record_id = client.create("customer", customer("Iota", "isp-cust-lost"))
    assert netsuite_sandbox.state.store.ids("customer") == [record_id]
    assert requests_seen(netsuite_sandbox) == {"POST customer": 1, "GET customer": 1}


def test_dropped_create_with_external_id_keeps_one_record(netsuite_sandbox):
    netsuite_sandbox.state.set_faults(drop=1.0)
    with pytest.raises(NetSuiteConnectionError):
        tba_client(netsuite_sandbox, max_attempts=2).create("customer", customer("Kappa", "isp-cust-drop"))
    seen = requests_seen(netsuite_sandbox)
    assert seen["POST customer"] == 1 and "PUT customer" not in seen
    assert len(netsuite_sandbox.state.store.ids("customer")) == 1


# -- concurrency ---------------------------------------------------------------------------------


def test_parallel_callers_over_the_account_limit_never_fail(netsuite_sandbox):
    state = netsuite_sandbox.state
    state.concurrency_limit = 2
    state.latency = 0.02
    client = tba_client(netsuite_sandbox, governor=LocalGovernor(8), max_attempts=50, backoff_cap=0.05)
    with ThreadPoolExecutor(8) as pool:
        results = list(pool.map(lambda _: client.governance_limits(), range(32)))
    assert all(result["accountConcurrencyLimit"] == 2 for result in results)
    assert state.counters.rejected_429 > 0  # the limit was really hit, and absorbed
    assert state.counters.requests["GET governanceLimits"] == 32


def test_governor_at_the_account_limit_avoids_429s(netsuite_sandbox):
    state = netsuite_sandbox.state
    state.concurrency_limit = 2
    state.latency = 0.02
    client = tba_client(netsuite_sandbox, governor=LocalGovernor(2))
    with ThreadPoolExecutor(8) as pool:
        list(pool.map(lambda _: client.governance_limits(), range(32)))
    assert state.counters.rejected_429 == 0
    assert state.counters.peak_in_flight == 2


# -- OAuth 2.0 -----------------------------------------------------------------------------------


def test_oauth2_token_is_fetched_once_and_reused(netsuite_sandbox):
    client = oauth2_client(netsuite_sandbox)
    for _ in range(3):
        client.governance_limits()
    assert requests_seen(netsuite_sandbox) == {"POST token": 1, "GET governanceLimits": 3}
    assert netsuite_sandbox.state.counters.by_token == {netsuite_sandbox.client_id: 3}


def test_oauth2_token_renewed_before_expiry(netsuite_sandbox):
    netsuite_sandbox.state.oauth2.access_token_ttl = 1
    client = oauth2_client(netsuite_sandbox)
    client.governance_limits()
    time.sleep(1.0)
    client.governance_limits()
    assert requests_seen(netsuite_sandbox) == {"POST token": 2, "GET governanceLimits": 2}


def test_oauth2_token_refreshed_once_on_401(netsuite_sandbox):
    state = netsuite_sandbox.state
    state.oauth2.access_token_ttl = 600
    client = oauth2_client(netsuite_sandbox)
    client.governance_limits()
    # The server's next look at the clock finds the cached token expired; later looks see real time
    # again (a permanently shifted clock would issue tokens whose iat lies in the future).
    readings = iter([time.time() + 700])
    state.clock = lambda: next(readings, None) or time.time()
    client.governance_limits()
    assert requests_seen(netsuite_sandbox) == {"POST token": 2, "GET governanceLimits": 2, "401": 1}


def test_oauth2_unknown_certificate_is_an_auth_error(netsuite_sandbox):
    client = oauth2_client(netsuite_sandbox, certificate_id="not-mapped")
    with pytest.raises(NetSuiteAuthError, match="invalid_grant"):
        client.test_connection()
    assert requests_seen(netsuite_sandbox) == {"POST token": 1}


# -- account identity and the wire ---------------------------------------------------------------


def test_realm_is_canonical_whatever_form_the_user_typed(netsuite_sandbox):
    hyphenated = netsuite_sandbox.account_id.lower().replace("_", "-")  # 1234567-sb1, the host form
    client = tba_client(netsuite_sandbox, account_id=hyphenated)
    assert client.test_connection().startswith(f"Connected to NetSuite account {netsuite_sandbox.account_id}")


def test_other_account_id_is_refused(netsuite_sandbox):
    with pytest.raises(NetSuiteAuthError):
        tba_client(netsuite_sandbox, account_id="7654321").test_connection()


def test_spaces_in_query_are_sent_as_percent20_and_signed():
    seen = []

    def echo(environ, start_response):
        seen.append((environ["PATH_INFO"], environ.get("RAW_URI") or environ.get("REQUEST_URI")))
        start_response("200 OK", [("Content-Type", "application/json")])
        return [json.dumps({"id": "1"}).encode()]

    server = serve_in_thread(echo)
    try:
        config = NetSuiteConfig(
            account_id="1234567_SB1",
            consumer_key="ck",
            consumer_secret="cs",
            token_id="tk",
            token_secret="ts",
            base_url=server.url,
        )
        NetSuiteClient(config).get("customer", 107, fields="email phone")
    finally:
        server.stop()
    path, raw = seen[0]
    assert path == "/services/rest/record/v1/customer/107"  # base_url replaces the host only
    assert raw == "/services/rest/record/v1/customer/107?fields=email%20phone"


def test_query_with_space_verifies_at_the_sandbox(netsuite_sandbox):
    client = tba_client(netsuite_sandbox)
    record_id = client.create("customer", customer("Lambda"))
    assert client.get("customer", record_id, fields="companyName email")["id"] == record_id


def test_connection_summary(netsuite_sandbox):
    text = tba_client(netsuite_sandbox).test_connection()
    assert text == "Connected to NetSuite account 1234567_SB1 (token-based auth); account concurrency limit 5"


class _ForwardProxy(http.server.BaseHTTPRequestHandler):
    """A plain HTTP forward proxy: takes absolute-form requests, notes them, relays them."""

    protocol_version = "HTTP/1.1"
    seen: list[tuple[str, str | None]] = []

    def log_message(self, format, *args):  # noqa: A002
        pass

    def _relay(self):
        target = urlsplit(self.path)
        self.seen.append((self.path, self.headers.get("Proxy-Authorization")))
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        headers = {k: v for k, v in self.headers.items() if k.lower() not in ("proxy-authorization", "host")}
        upstream = http.client.HTTPConnection(target.hostname, target.port, timeout=10)
        upstream.request(self.command, self.path[len(f"{target.scheme}://{target.netloc}") :], body, headers)
        answer = upstream.getresponse()
        payload = answer.read()
        self.send_response(answer.status)
        for name, value in answer.getheaders():
            if name.lower() not in ("transfer-encoding", "connection", "content-length"):
                self.send_header(name, value)
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)

    do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = _relay


@pytest.fixture
def forward_proxy(monkeypatch):
    for name in ("NO_PROXY", "no_proxy", "HTTP_PROXY", "http_proxy", "ALL_PROXY", "all_proxy"):
        monkeypatch.delenv(name, raising=False)
    _ForwardProxy.seen = []
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _ForwardProxy)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server.server_address[1], _ForwardProxy.seen
    server.shutdown()
    server.server_close()


def test_requests_go_through_the_environment_proxy_with_its_credentials(
    netsuite_sandbox, forward_proxy, monkeypatch
):
    port, seen = forward_proxy
    monkeypatch.setenv("HTTP_PROXY", f"http://ops%40isp:s3cret@127.0.0.1:{port}")
    client = tba_client(netsuite_sandbox)
    assert "Connected to NetSuite account" in client.test_connection()
    new_id = client.create("customer", customer("Proxied"))
    assert client.get("customer", new_id)["companyName"] == "Proxied"
    assert seen and all(path.startswith(netsuite_sandbox.url) for path, _ in seen)
    expected = "Basic " + base64.b64encode(b"ops@isp:s3cret").decode()
    assert {auth for _, auth in seen} == {expected}


def test_no_proxy_and_unsupported_proxies(netsuite_sandbox, forward_proxy, monkeypatch):
    port, seen = forward_proxy
    monkeypatch.setenv("HTTP_PROXY", f"http://127.0.0.1:{port}")
    monkeypatch.setenv("NO_PROXY", "127.0.0.1")
    assert "Connected" in tba_client(netsuite_sandbox).test_connection()
    assert seen == []
    monkeypatch.delenv("NO_PROXY")
    monkeypatch.setenv("HTTP_PROXY", "socks5://127.0.0.1:1080")
    with pytest.raises(NetSuiteConfigError, match="proxy scheme 'socks5'"):
        tba_client(netsuite_sandbox)
