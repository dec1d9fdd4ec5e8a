"""Security of the add-on's pages and of what it stores, over the whole URL map.

Every test walks ``app.url_map`` for the add-on's endpoints, so a route added
later is covered without touching this file. The properties checked are the
issue's list: authentication on every route, CSRF on every state change, GET
without side effects, escaping, security headers, secrets at rest and in
output, injection-safe search, and no credentials sent to a host the operator
did not configure.
"""

from __future__ import annotations

import hashlib
from html.parser import HTMLParser

import pytest
from flask import url_for
from sqlalchemy import select

ADDON = "netsuite."
IGNORED_METHODS = {"HEAD", "OPTIONS"}
# The stylesheet and script are public: the host's login page loads them before anyone logs in.
PUBLIC_ENDPOINTS = {"netsuite.static"}
STATE_CHANGING = {"POST", "PUT", "PATCH", "DELETE"}
# Values for URL arguments; an argument not listed gets "1" (a string or int
# converter accepts it), so a new route is still exercised.
SAMPLE_ARGS = {
    "run_id": 1,
    "system": "netsuite",
    "page": "categories",
    "entity": "invoice",
    "filename": "netsuite.css",
}
# Form data a state-changing route would act on if it skipped the CSRF check.
PLAUSIBLE_FORM = {
    "operation": "export_customers",
    "billing_id": "1",
    "netsuite_id": "1",
    "confirm": "RESET",
    "netsuite_concurrency": "3",
}
XSS = '<script>alert("xss-1")</script><img src=x onerror=alert(2)>'
SECRETS = {
    "netsuite_consumer_secret": "cs-0b5e-SECRET-consumer-7f1d",
    "netsuite_token_secret": "ts-91aa-SECRET-token-2c44",
    "netsuite_private_key": "-----BEGIN PRIVATE KEY-----\nPK-SECRET-3e9f-not-a-real-key\n-----END PRIVATE KEY-----",
    "splynx_api_secret": "ss-77c2-SECRET-splynx-d0e8",
}


def addon_requests(app) -> list[tuple[str, str, str]]:
    """(endpoint, method, url) for every add-on route and method."""
    found = []
    with app.test_request_context():
        for rule in app.url_map.iter_rules():
            if not rule.endpoint.startswith(ADDON):
                continue
            values = {name: SAMPLE_ARGS.get(name, "1") for name in rule.arguments}
            url = url_for(rule.endpoint, **values)
            for method in sorted(rule.methods - IGNORED_METHODS):
                found.append((rule.endpoint, method, url))
    assert found, "the add-on registered no routes"
    return found


def html_pages(app) -> list[tuple[str, str]]:
    return [(endpoint, url) for endpoint, method, url in addon_requests(app) if method == "GET"]


def database_fingerprint(app) -> str:
    """A digest of every row of every table (the add-on's and the host's)."""
    from addon.models import Base
    from portal import db

    digest = hashlib.sha256()
    with app.app_context(), db.engine.connect() as conn:
        for metadata in (Base.metadata, db.metadata):
            for table in metadata.sorted_tables:
                rows = conn.execute(select(table)).all()
                digest.update(table.name.encode())
                for row in sorted(repr(tuple(r)) for r in rows):
                    digest.update(row.encode())
    return digest.hexdigest()


@pytest.fixture
def hostile_rows(app_ctx):
    """Rows whose names, labels and messages carry markup, on every page's data."""
    from addon.extension import session
    from addon.models import Link, ListCache, LogEntry, Mapping, Problem, ProblemRecord, SyncRun

    run = SyncRun(
        operation="export_customers", status="partial", message=f"run said {XSS}", counts={"failed": 1}
    )
    session().add(run)
    session().flush()
    problem = Problem(cause_key="missing_fields:customer", kind="missing_fields", title=f"Customer {XSS}")
    session().add(problem)
    session().flush()
    session().add_all(
        [
            ListCache(kind="customer", netsuite_id="501", name=f"Evil {XSS}", email="evil@example.com"),
            ListCache(kind="item", netsuite_id="9", name=f"Item {XSS}"),
            Link(entity="customer", billing_id="1", netsuite_id="501", status="paired"),
            Link(entity="invoice", billing_id="1", netsuite_id="77", status="failed", last_error=XSS),
            LogEntry(
                run_id=run.id,
                entity="customer",
                billing_id="1",
                action="create",
                outcome="failed",
                message=XSS,
            ),
            Mapping(kind="category", billing_id="3", billing_name=f"Cat {XSS}", netsuite_id="9"),
            ProblemRecord(problem_id=problem.id, entity="customer", billing_id="1", label=f"Label {XSS}"),
        ]
    )
    session().commit()
    return run


def test_every_route_refuses_an_anonymous_request(app, client):
    # With a valid CSRF token of an anonymous session, so the refusal comes from authentication.
    from tests.plugins.app import csrf_token_from

    # The one exception, on purpose: Splynx's webhook receiver, which authenticates each request
    # by its body's signature instead (tests/test_live_sync.py). Every other add-on route, in any
    # blueprint, is behind the admin login.
    outside_login = {"netsuite_hooks.splynx"}
    addon_blueprints = {"netsuite", *(endpoint.partition(".")[0] for endpoint in outside_login)}
    with app.test_request_context():
        public = {
            rule.endpoint
            for rule in app.url_map.iter_rules()
            if rule.endpoint.partition(".")[0] in addon_blueprints and not rule.endpoint.startswith(ADDON)
        }
        assert public == outside_login, f"add-on routes outside the admin blueprint: {sorted(public)}"
        receiver = url_for("netsuite_hooks.splynx")
    unsigned = client.post(receiver, json={"type": "ping"})
    assert unsigned.status_code == 401, "the receiver served an unsigned request"

    token = csrf_token_from(client.get("/login").get_data(as_text=True))
    served = []
    for endpoint, method, url in addon_requests(app):
        if endpoint in PUBLIC_ENDPOINTS:
            continue
        data = dict(PLAUSIBLE_FORM, csrf_token=token) if method in STATE_CHANGING else None
        response = client.open(url, method=method, data=data)
        response.close()
        location = response.headers.get("Location", "")
        # Every add-on route, a page or a form post, sends the anonymous visitor to the login page.
        if response.status_code != 302 or not location.startswith("/login?next="):
            served.append(f"{method} {url} ({endpoint}) answered {response.status_code}")
    assert not served, "served without authentication:\n" + "\n".join(served)


def test_every_state_changing_route_refuses_a_missing_or_forged_csrf_token(app, client, auth):
    auth.login()
    before = database_fingerprint(app)
    accepted = []
    posts = [(e, m, u) for e, m, u in addon_requests(app) if m in STATE_CHANGING]
    assert posts, "no state-changing route found: the enumeration is broken"
    for endpoint, method, url in posts:
        for token in (None, "forged-token", auth.csrf_token()[:-4] + "AAAA"):
            data = dict(PLAUSIBLE_FORM, **({"csrf_token": token} if token else {}))
            response = client.open(url, method=method, data=data)
            response.close()
            if response.status_code != 400:
                accepted.append(
                    f"{method} {url} ({endpoint}) token={token!r} answered {response.status_code}"
                )
    assert not accepted, "state change without a valid CSRF token:\n" + "\n".join(accepted)
    assert database_fingerprint(app) == before, "a refused request still changed the database"


def test_get_never_changes_state(app, client, auth, hostile_rows):
    auth.login()
    before = database_fingerprint(app)
    for _endpoint, url in html_pages(app):
        fetch(client, url)
        fetch(client, url, query_string={"q": "O'Brien", "page": 2, "billing_id": "1"})
    assert database_fingerprint(app) == before


def test_every_page_renders_names_escaped_and_sends_security_headers(app, client, auth, hostile_rows):
    auth.login()
    problems = []
    for endpoint, url in html_pages(app):
        for query in ({}, {"q": XSS, "billing_id": "1"}):
            response = fetch(client, url, query_string=query)
            where = f"GET {url} {query or ''} ({endpoint})"
            if response.status_code >= 500:
                problems.append(f"{where}: HTTP {response.status_code}")
                continue
            problems += [f"{where}: {p}" for p in header_problems(response.headers)]
            if response.mimetype != "text/html":
                continue
            body = response.get_data(as_text=True)
            if XSS in body or "<script>alert" in body or "<img src=x " in body:
                problems.append(f"{where}: markup from data rendered unescaped")
            problems += [f"{where}: {p}" for p in inline_code(body)]
    assert not problems, "\n".join(problems)


def header_problems(headers) -> list[str]:
    """What is missing from the CSP / no-sniff / framing headers."""
    found = []
    directives = {}
    for part in (headers.get("Content-Security-Policy") or "").split(";"):
        words = part.split()
        if words:
            directives[words[0].lower()] = words[1:]
    scripts = directives.get("script-src", directives.get("default-src"))
    if scripts is None:
        found.append("CSP does not restrict scripts")
    elif {"'unsafe-inline'", "'unsafe-eval'", "*"} & set(scripts):
        found.append(f"CSP allows unsafe scripts: {scripts}")
    if not directives.get("frame-ancestors"):
        found.append("CSP has no frame-ancestors")
    if headers.get("X-Content-Type-Options", "").lower() != "nosniff":
        found.append("no X-Content-Type-Options: nosniff")
    return found


class _CodeFinder(HTMLParser):
    """Collects inline scripts and ``on*=`` handler attributes as a browser would parse them."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.found: list[str] = []

    def handle_starttag(self, tag, attrs):
        names = {name.lower() for name, _ in attrs}
        if tag == "script" and "src" not in names:
            self.found.append("inline <script>")
        self.found += [
            f"inline event handler {name}= on <{tag}>" for name in sorted(names) if name.startswith("on")
        ]


def inline_code(body: str) -> list[str]:
    """Inline scripts or event handlers: injected markup, or code the CSP would block anyway."""
    finder = _CodeFinder()
    finder.feed(body)
    finder.close()
    return finder.found


def fetch(client, url: str, **kwargs):
    """GET ``url`` and read the whole body (closing streamed responses such as the CSV export)."""
    response = client.get(url, **kwargs)
    response.get_data()
    response.close()
    return response


@pytest.fixture
def production_app(app, monkeypatch, tmp_path):
    """The portal as deployed: cookie settings from the environment defaults, not the test overrides."""
    from wsgi import create_app

    monkeypatch.delenv("SESSION_COOKIE_SECURE", raising=False)
    monkeypatch.setenv("INSTANCE_PATH", str(tmp_path))
    return create_app(
        {"SQLALCHEMY_DATABASE_URI": app.config["SQLALCHEMY_DATABASE_URI"], "SECRET_KEY": "k" * 32}
    )


def test_session_cookie_is_httponly_samesite_and_secure_outside_debug(production_app):
    from tests.plugins.app import AuthActions

    assert not production_app.debug
    client = production_app.test_client()
    client.environ_base["wsgi.url_scheme"] = "https"
    response = AuthActions(production_app, client).login()
    cookies = [c for c in response.headers.getlist("Set-Cookie") if c.startswith("session=")]
    assert cookies, "login set no session cookie"
    flags = {flag.strip().split("=")[0].lower(): flag.strip() for flag in cookies[-1].split(";")[1:]}
    assert "httponly" in flags
    assert "secure" in flags
    assert flags.get("samesite", "").lower() == "samesite=lax"


# -- secrets ------------------------------------------------------------------------------------


def save_secrets(**extra) -> None:
    from addon import settings

    settings.put_many({**SECRETS, **extra})


def test_secrets_are_stored_encrypted(app_ctx):
    from addon import settings
    from addon.extension import engine
    from addon.models import Setting

    save_secrets()
    table = Setting.__table__
    with engine().connect() as conn:
        rows = dict(
            conn.execute(select(table.c.key, table.c.value).where(table.c.key.in_(list(SECRETS)))).all()
        )
    assert set(rows) == set(SECRETS)
    for key, secret in SECRETS.items():
        assert secret not in rows[key]
        assert "SECRET" not in rows[key]
        assert settings.get(key) == secret


def test_secrets_never_reach_the_pages(app, client, auth):
    auth.login()
    with app.app_context():
        save_secrets()
    leaks = []
    for _endpoint, url in html_pages(app):
        body = fetch(client, url).get_data(as_text=True)
        leaks += [f"GET {url}: {key}" for key, secret in SECRETS.items() if contains_secret(body, secret)]
    # A refused save re-renders the form: what was typed into a secret field must not come back.
    token = auth.csrf_token("/netsuite/config")
    response = client.post(
        "/netsuite/config", data={**SECRETS, "netsuite_concurrency": "not-a-number", "csrf_token": token}
    )
    assert response.status_code == 400, "the invalid save was accepted"
    body = response.get_data(as_text=True)
    leaks += [
        f"refused POST /config: {key}" for key, secret in SECRETS.items() if contains_secret(body, secret)
    ]
    assert not leaks, "secrets rendered:\n" + "\n".join(leaks)


def contains_secret(haystack: str, secret: str) -> bool:
    """The secret, or its distinctive middle line (a PEM may be re-wrapped or escaped)."""
    if not haystack:
        return False
    marker = secret.splitlines()[1] if "\n" in secret else secret
    return marker in haystack or marker in haystack.replace("&#10;", "\n")


def test_config_repr_and_errors_hide_secrets():
    from addon.netsuite import NetSuiteConfig, NetSuiteConfigError

    config = NetSuiteConfig(
        account_id="1234567_SB1",
        consumer_key="ck",
        consumer_secret=SECRETS["netsuite_consumer_secret"],
        token_id="tid",
        token_secret=SECRETS["netsuite_token_secret"],
    )
    assert not any(contains_secret(repr(config) + str(config), s) for s in SECRETS.values())
    with pytest.raises(NetSuiteConfigError) as caught:
        NetSuiteConfig(account_id="evil.example.com", consumer_secret=SECRETS["netsuite_consumer_secret"])
    assert not contains_secret(str(caught.value), SECRETS["netsuite_consumer_secret"])


# -- where credentials may go ---------------------------------------------------------------------

HOSTILE_ACCOUNT_IDS = [
    "evil.example.com",
    "1234567.evil.example.com",
    "1234567@evil.example.com",
    "1234567/../x",
    "1234567#",
    "1234567?x=",
    "1234567:443",
    "1234567 evil",
    "1234567\r\nHost: evil",
    "",
    "SB1",
    "%31234567",
]
HOSTILE_BASE_URLS = [
    "ftp://127.0.0.1",
    "javascript:alert(1)",
    "http://user:pw@127.0.0.1",
    "http://127.0.0.1/services/rest",
    "http://127.0.0.1?x=1",
    "http://127.0.0.1#frag",
    "//evil.example.com",
    "http://",
    "http://127.0.0.1:notaport",
    "file:///etc/passwd",
]


@pytest.mark.parametrize("account_id", HOSTILE_ACCOUNT_IDS)
def test_account_id_cannot_choose_the_host(account_id):
    from addon.netsuite import NetSuiteConfig, NetSuiteConfigError

    with pytest.raises(NetSuiteConfigError, match="is not a NetSuite account id"):
        NetSuiteConfig(
            account_id=account_id, consumer_key="k", consumer_secret="s", token_id="t", token_secret="x"
        )


@pytest.mark.parametrize("account_id", ["1234567", "1234567_SB1", "1234567-sb1", "TSTDRV1234567"])
def test_genuine_account_ids_are_accepted(account_id):
    from addon.netsuite import NetSuiteConfig

    config = NetSuiteConfig(
        account_id=account_id, consumer_key="k", consumer_secret="s", token_id="t", token_secret="x"
    )
    assert config.origin == f"https://{account_id.lower().replace('_', '-')}.suitetalk.api.netsuite.com"


@pytest.mark.parametrize("base_url", HOSTILE_BASE_URLS)
def test_base_url_holds_only_scheme_host_and_port(base_url):
    from addon.netsuite import NetSuiteConfigError
    from addon.sync.context import netsuite_config

    values = {
        "netsuite_account_id": "1234567_SB1",
        "netsuite_auth_mode": "tba",
        "netsuite_consumer_key": "k",
        "netsuite_consumer_secret": "s",
        "netsuite_token_id": "t",
        "netsuite_token_secret": "x",
        "netsuite_client_id": "",
        "netsuite_certificate_id": "",
        "netsuite_private_key": "",
        "netsuite_base_url": base_url,
        "netsuite_concurrency": 2,
    }
    with pytest.raises(NetSuiteConfigError):
        netsuite_config(values)


class Recorder:
    """A WSGI app that records every request and answers with ``answer(environ)``."""

    def __init__(self, answer):
        self.seen: list[dict] = []
        self.answer = answer

    def __call__(self, environ, start_response):
        self.seen.append({"path": environ.get("PATH_INFO"), "auth": environ.get("HTTP_AUTHORIZATION")})
        status, headers = self.answer(environ)
        start_response(status, headers)
        return [b'{"items": [], "hasMore": false, "count": 0, "offset": 0, "totalResults": 0}']


def test_redirects_never_carry_credentials_to_another_host(netsuite_sandbox):
    """A proxy (or a compromised configured host) answering 30x to elsewhere gets nothing sent there."""
    from addon.netsuite import NetSuiteClient, NetSuiteConfig, NetSuiteConfigError
    from sandbox.server import serve_in_thread

    catcher = Recorder(lambda environ: ("200 OK", [("Content-Type", "application/json")]))
    catcher_server = serve_in_thread(catcher)
    redirector = Recorder(
        lambda environ: ("307 Temporary Redirect", [("Location", catcher_server.url + environ["PATH_INFO"])])
    )
    redirector_server = serve_in_thread(redirector)
    try:
        config = NetSuiteConfig(
            **netsuite_sandbox.tba_credentials(), base_url=redirector_server.url, max_attempts=1
        )
        client = NetSuiteClient(config)
        for call in (
            lambda: client.get("customer", 1),
            lambda: client.create("customer", {"companyName": "x"}),
            lambda: list(client.suiteql("SELECT id FROM customer ORDER BY id")),
        ):
            # Each call must fail, saying why: a swallowed error would hide a followed redirect.
            with pytest.raises(NetSuiteConfigError, match="redirect, not followed"):
                call()
    finally:
        redirector_server.stop()
        catcher_server.stop()
    assert redirector.seen, "the client never reached the configured host"
    assert catcher.seen == [], "a request followed the redirect to a host the operator did not configure"


def test_run_with_a_hostile_base_url_stops_before_any_request(configured):
    from addon.sync.operations import run_operation
    from sandbox.server import serve_in_thread

    catcher = Recorder(lambda environ: ("200 OK", [("Content-Type", "application/json")]))
    server = serve_in_thread(catcher)
    try:
        configured.settings(netsuite_base_url=server.url + "/services/rest/../../steal")
        run = run_operation("export_customers")
    finally:
        server.stop()
    assert run.status == "failed"
    assert "base URL" in (run.message or "")
    assert catcher.seen == []
    assert configured.netsuite.state.counters.writes == 0


# -- injection ------------------------------------------------------------------------------------

INJECTION = "O'Brien' OR 1=1 --"


@pytest.fixture
def cached_customers(app_ctx):
    from addon.extension import session
    from addon.models import ListCache

    names = {
        "601": "Pat O'Brien",
        "602": "Smith & Sons",
        "603": "Jones",
        "604": "100% Fibre_Ltd",
        "605": f"{INJECTION} Holdings",
        "606": "Back\\slash",
    }
    session().add_all([ListCache(kind="customer", netsuite_id=i, name=n) for i, n in names.items()])
    session().commit()
    return names


@pytest.mark.parametrize(
    "query, expected",
    [
        (INJECTION, {"605"}),
        ("O'Brien", {"601", "605"}),
        ("' OR ''='", set()),
        ("%", {"604"}),
        ("_", {"604"}),
        ("\\", {"606"}),
        ("'; DROP TABLE ns_list_cache; --", set()),
    ],
)
def test_manual_pairing_search_treats_input_as_text(cached_customers, query, expected):
    from addon.sync.matching import search_netsuite_customers

    found = {row["netsuite_id"] for row in search_netsuite_customers(query)}
    assert found == expected
    assert len(search_netsuite_customers("o")) >= 3, "the table survived"


def test_customers_page_search_finds_only_the_literal_match(app, client, auth, cached_customers):
    auth.login()
    body = client.get("/netsuite/customers", query_string={"q": INJECTION}).get_data(as_text=True)
    assert "Holdings" in body
    for other in ("Jones", "Smith &amp; Sons", "Pat O&#39;Brien", "Pat O&#x27;Brien"):
        assert other not in body
