"""Secrets stay with their destination; neither client follows a redirect; odd answers fail cleanly.

Foreign hosts here are real HTTP servers (``serve_in_thread``) that record every request, so
a test can say exactly what reached a host nobody configured: nothing.
"""

from __future__ import annotations

import io

import pytest

from addon import settings
from sandbox.server import serve_in_thread
from tests.plugins.app import csrf_token_from


class Host:
    """A WSGI app answering ``answer(environ) -> (status, headers, body)``; records each request."""

    def __init__(self, answer):
        self.answer = answer
        self.seen: list[dict] = []

    def __call__(self, environ, start_response):
        length = int(environ.get("CONTENT_LENGTH") or 0)
        body = environ["wsgi.input"].read(length) if length else b""
        environ["wsgi.input"] = io.BytesIO(body)  # still readable by a sandbox behind this host
        self.seen.append(
            {
                "method": environ["REQUEST_METHOD"],
                "path": environ.get("PATH_INFO"),
                "auth": environ.get("HTTP_AUTHORIZATION"),
                "body": body,
            }
        )
        status, headers, payload = self.answer(environ)
        start_response(status, [*headers, ("Content-Length", str(len(payload)))])
        return [payload]


@pytest.fixture
def hosts():
    servers = []

    def serve(answer):
        host = Host(answer)
        server = serve_in_thread(host)
        servers.append(server)
        host.url = server.url
        return host

    yield serve
    for server in servers:
        server.stop()


def _config_form(client, **changes) -> dict:
    """The module config form as the page renders it (current values), with ``changes``."""
    import re

    html = client.get("/netsuite/config").get_data(as_text=True)
    data = {"csrf_token": csrf_token_from(html)}
    for name, value in re.findall(r'<input[^>]*name="([a-z_]+)"[^>]*value="([^"]*)"', html):
        data[name] = value
    for name in re.findall(r'<input[^>]*type="checkbox"[^>]*name="([a-z_]+)"[^>]*checked', html):
        data[name] = "y"
    for name, block in re.findall(r'<select[^>]*name="([a-z_]+)"[^>]*>(.*?)</select>', html, re.S):
        chosen = re.search(r'<option selected value="([^"]*)"|<option value="([^"]*)" selected', block)
        if chosen:
            data[name] = chosen.group(1) or chosen.group(2)
    data.pop("csrf_token_unused", None)
    data.update(changes)
    return data


# -- secrets bound to their destination ---------------------------------------------------------


def test_a_new_splynx_url_with_the_secret_left_blank_forgets_it_and_sends_it_nowhere(
    configured, client, auth, hosts
):
    stranger = hosts(lambda environ: ("200 OK", [("Content-Type", "application/json")], b"{}"))
    auth.login()
    answer = client.post("/netsuite/config", data=_config_form(client, splynx_url=stranger.url))
    assert answer.status_code == 302
    assert settings.secret_state("splynx_api_secret") == "not set"
    assert settings.secret_state("netsuite_token_secret") == "set", "the other system keeps its secrets"
    token = csrf_token_from(client.get("/netsuite/config").get_data(as_text=True))
    client.post("/netsuite/config/test/billing", data={"csrf_token": token})
    assert stranger.seen == [], "a login signed with the old secret went to the new host"


@pytest.mark.parametrize("moved", ["netsuite_account_id", "netsuite_base_url"])
def test_a_new_netsuite_account_or_host_forgets_its_secrets(configured, moved):
    new_value = {"netsuite_account_id": "7654321", "netsuite_base_url": "http://127.0.0.1:9"}[moved]
    settings.put_many({moved: new_value})
    for key in ("netsuite_consumer_secret", "netsuite_token_secret"):
        assert settings.secret_state(key) == "not set", key
    assert settings.secret_state("splynx_api_secret") == "set"


def test_secrets_re_entered_in_the_same_save_go_with_the_new_destination(configured):
    settings.put_many({"splynx_url": "http://127.0.0.1:9/prefix", "splynx_api_secret": "new-secret-value"})
    assert settings.get("splynx_api_secret") == "new-secret-value"
    settings.put_many({"splynx_url": "http://127.0.0.1:9/prefix", "customer_name_pattern": "{id}"})
    assert settings.get("splynx_api_secret") == "new-secret-value", "an unchanged URL keeps the secret"


def test_a_secret_only_the_environment_supplies_must_be_re_entered_with_a_new_destination(
    app_ctx, monkeypatch
):
    monkeypatch.setenv("SPLYNX_API_SECRET", "from-the-environment")
    monkeypatch.setenv("SPLYNX_URL", "https://old.example.com")
    with pytest.raises(settings.SettingError, match="enter it again"):
        settings.put("splynx_url", "https://new.example.com")


@pytest.mark.parametrize(
    "url",
    [
        "https://user:pass@isp.example.com",
        "https://isp.example.com/?next=evil",
        "https://isp.example.com/#frag",
        "ftp://isp.example.com",
        "https://",
        "https://isp.example.com:port",
        "https://isp.example.com/a b",
        "javascript:alert(1)",
        "http://isp.example.com",  # plain http off loopback
    ],
)
def test_splynx_urls_hold_only_scheme_host_port_and_a_path_prefix(app_ctx, url):
    with pytest.raises(settings.SettingError):
        settings.put("splynx_url", url)


def test_plain_http_needs_loopback_or_the_lab_switch(app_ctx):
    settings.put("splynx_url", "http://127.0.0.1:8080/splynx")
    settings.put("splynx_url", "http://localhost")
    settings.put_many({"splynx_url": "http://lab.example.com", "splynx_allow_http": True})
    assert settings.get("splynx_url") == "http://lab.example.com"
    settings.put("splynx_url", "https://isp.example.com:8443/admin/")
    assert settings.get("splynx_url") == "https://isp.example.com:8443/admin"


# -- redirects ----------------------------------------------------------------------------------


def _redirecting_to(target):
    return lambda environ: ("307 Temporary Redirect", [("Location", target.url + environ["PATH_INFO"])], b"")


def test_the_splynx_client_never_follows_a_redirect(hosts):
    from addon.splynx import SplynxClient, SplynxConfig, SplynxError

    catcher = hosts(lambda environ: ("201 Created", [("Content-Type", "application/json")], b"{}"))
    redirector = hosts(_redirecting_to(catcher))
    client = SplynxClient(SplynxConfig(base_url=redirector.url, api_key="k", api_secret="s", max_retries=3))
    with pytest.raises(SplynxError) as raised:
        client.get("admin/customers/customer", 1)
    assert "redirect" in str(raised.value) and "307" in str(raised.value)
    assert catcher.seen == []
    assert len(redirector.seen) == 1, "the signed login was resent"


def test_the_netsuite_client_never_follows_a_redirect_and_says_so(netsuite_sandbox, hosts):
    from addon.netsuite import NetSuiteClient, NetSuiteConfig, NetSuiteConfigError

    catcher = hosts(lambda environ: ("200 OK", [("Content-Type", "application/json")], b"{}"))
    redirector = hosts(_redirecting_to(catcher))
    config = NetSuiteConfig(**netsuite_sandbox.tba_credentials(), base_url=redirector.url, max_attempts=3)
    client = NetSuiteClient(config)
    for call in (
        lambda: client.get("customer", 1),
        lambda: client.create("customer", {"companyName": "x", "externalId": "splynx-customer-1"}),
        lambda: client.upsert("customer", "splynx-customer-1", {"companyName": "x"}),
        lambda: list(client.suiteql("SELECT id FROM customer ORDER BY id")),
    ):
        with pytest.raises(NetSuiteConfigError, match="redirect"):
            call()
    assert catcher.seen == []
    assert len(redirector.seen) == 4, "each call went out once"


@pytest.mark.parametrize(
    ("status", "location"),
    [
        ("302 Found", "/login/4242"),
        ("201 Created", "/login/4242"),
        ("204 No Content", "http://elsewhere.example.com/services/rest/record/v1/customer/4242"),
        ("204 No Content", "/services/rest/record/v1/customer/4242?x=1"),
        ("204 No Content", "/services/rest/record/v1/customer/abc"),
    ],
)
def test_only_a_record_location_on_the_configured_origin_is_an_id(netsuite_sandbox, hosts, status, location):
    from addon.netsuite import NetSuiteClient, NetSuiteConfig, NetSuiteError

    host = hosts(lambda environ: (status, [("Location", location)], b""))
    config = NetSuiteConfig(**netsuite_sandbox.tba_credentials(), base_url=host.url, max_attempts=1)
    with pytest.raises(NetSuiteError):
        NetSuiteClient(config).create("customer", {"companyName": "x"})


def test_a_record_location_on_the_configured_origin_is_read(netsuite_sandbox, hosts):
    from addon.netsuite import NetSuiteClient, NetSuiteConfig

    host = hosts(
        lambda environ: ("204 No Content", [("Location", "/services/rest/record/v1/customer/77")], b"")
    )
    config = NetSuiteConfig(**netsuite_sandbox.tba_credentials(), base_url=host.url, max_attempts=1)
    assert NetSuiteClient(config).create("customer", {"companyName": "x"}) == "77"
    absolute = f"{host.url}/services/rest/record/v1/customer/78"
    host.answer = lambda environ: ("204 No Content", [("Location", absolute)], b"")
    assert NetSuiteClient(config).create("customer", {"companyName": "x"}) == "78"


# -- test connection only succeeds on a well-formed answer ----------------------------------------

ODD_ANSWERS = {
    "400 to everything": ("400 Bad Request", [("Content-Type", "application/json")], b'{"error": "no"}'),
    "200 empty": ("200 OK", [], b""),
    "200 not JSON": ("200 OK", [("Content-Type", "text/html")], b"<html>" + b"A" * 5000 + b"</html>"),
    "200 JSON list": ("200 OK", [("Content-Type", "application/json")], b"[1, 2]"),
    "302": ("302 Found", [("Location", "https://elsewhere.example.com/login")], b""),
}


@pytest.mark.parametrize("system", ["netsuite", "billing"])
@pytest.mark.parametrize("odd", sorted(ODD_ANSWERS))
def test_test_connection_fails_unless_the_answer_is_well_formed(configured, client, auth, hosts, system, odd):
    host = hosts(lambda environ: ODD_ANSWERS[odd])
    key = "netsuite_base_url" if system == "netsuite" else "splynx_url"
    configured.settings(**{key: host.url})
    auth.login()
    token = csrf_token_from(client.get("/netsuite/config").get_data(as_text=True))
    answer = client.post(f"/netsuite/config/test/{system}", data={"csrf_token": token})
    assert answer.status_code == 302, answer.get_data(as_text=True)[:500]
    page = client.get("/netsuite/config").get_data(as_text=True)
    assert "Connected" not in page
    assert "A" * 100 not in page, "the foreign body was echoed"
    assert host.seen, "the configured host was asked"


# -- a write answered 200 {} fails that record, the run goes on -----------------------------------


def test_a_write_answered_200_empty_fails_that_record_and_the_run_goes_on(export_ready, hosts):
    from sandbox.netsuite import create_app

    setup = export_ready
    state = setup.env.netsuite.state
    sandbox = create_app(state)
    victim = setup.env.splynx.state.all("customers")[0]["id"]
    mangled = []

    def answer(environ):
        path = environ.get("PATH_INFO", "")
        if path.endswith(f"eid:splynx-customer-{victim}"):
            # The write, and the look-up that follows an answer without a Location, both get {}.
            mangled.append(environ["REQUEST_METHOD"])
            return "200 OK", [("Content-Type", "application/json")], b"{}"
        captured = {}
        body = b"".join(sandbox(environ, lambda s, h, e=None: captured.update(s=s, h=h) or (lambda d: None)))
        headers = [(k, v) for k, v in captured["h"] if k.lower() != "content-length"]
        return captured["s"], headers, body

    proxy = hosts(answer)
    setup.env.settings(netsuite_base_url=proxy.url)
    from addon.sync.operations import run_operation

    run = run_operation("export_customers")
    assert "PUT" in mangled or "POST" in mangled, "the mangled write was never attempted"
    assert run.status == "partial", (run.status, run.message)
    from addon.extension import session
    from addon.models import LogEntry

    rows = session().query(LogEntry).filter_by(run_id=run.id, entity="customer", billing_id=str(victim)).all()
    assert rows and rows[-1].outcome == "failed"
    assert "KeyError" not in (rows[-1].message or "") and rows[-1].message
    assert run.counts.get("created", 0) >= 10
