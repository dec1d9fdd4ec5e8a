"""Sessions and login of the standalone portal, and the add-on's own CSRF check in a bare host.

Every test drives the real routes through Flask's test client: a session cookie captured
before a logout is replayed, failed logins are sent until the throttle answers, a POST without
a token goes to the add-on mounted in a host that has no CSRFProtect of its own.
"""

from __future__ import annotations

import pytest
from flask import Flask, Response
from flask_sqlalchemy import SQLAlchemy

from addon import NetSuiteAddon
from addon.models import Base
from tests.plugins.app import ADMIN_PASSWORD, ADMIN_USER, csrf_token_from

CONFIG = "/netsuite/config"


def _cookie(client) -> str:
    return client.get_cookie("session").value


def _replay(app, cookie: str):
    """A second browser presenting a captured session cookie."""
    other = app.test_client()
    other.set_cookie("session", cookie)
    return other.get(CONFIG)


def _logout(client):
    token = csrf_token_from(client.get("/netsuite/").get_data(as_text=True))
    return client.post("/logout", data={"csrf_token": token})


def test_a_session_captured_before_logout_opens_nothing_after_it(app, client, auth):
    auth.login()
    captured = _cookie(client)
    assert _replay(app, captured).status_code == 200, "the captured cookie should work before logout"
    assert _logout(client).status_code == 302
    answer = _replay(app, captured)
    assert answer.status_code == 302 and "/login" in answer.headers["Location"]


def test_a_password_reset_ends_every_session_of_that_admin(app, client, auth, runner):
    auth.login()
    captured = _cookie(client)
    result = runner.invoke(args=["create-admin", ADMIN_USER], input="another-long-pass\nanother-long-pass\n")
    assert result.exit_code == 0, result.output
    assert client.get(CONFIG).status_code == 302
    assert _replay(app, captured).status_code == 302


def test_another_admins_logout_leaves_this_session_alone(app, client, auth):
    auth.create("second", "second-password-long")
    auth.login()
    other = app.test_client()
    token = csrf_token_from(other.get("/login").get_data(as_text=True))
    other.post("/login", data={"username": "second", "password": "second-password-long", "csrf_token": token})
    _logout(other)
    assert client.get(CONFIG).status_code == 200


def _try_login(client, username: str, password: str, address: str = "10.0.0.1"):
    page = client.get("/login", environ_base={"REMOTE_ADDR": address})
    token = csrf_token_from(page.get_data(as_text=True))
    return client.post(
        "/login",
        data={"username": username, "password": password, "csrf_token": token},
        environ_base={"REMOTE_ADDR": address},
    )


@pytest.fixture
def throttle_counters(app):
    from portal.throttle import limiter

    with app.app_context():
        limiter.reset()
    yield
    with app.app_context():
        limiter.reset()


def test_wrong_passwords_for_one_username_are_throttled_from_any_address(app, auth, throttle_counters):
    auth.create()
    answers = [
        _try_login(app.test_client(), ADMIN_USER, f"wrong-{n}", address=f"10.0.1.{n}").status_code
        for n in range(6)
    ]
    assert answers[:5] == [200] * 5, "the first failures get the form back"
    assert answers[5] == 429
    page = _try_login(app.test_client(), ADMIN_USER, ADMIN_PASSWORD, address="10.0.2.1")
    assert page.status_code == 429, "the right password waits too while the username is throttled"
    assert "Too many failed logins" in page.get_data(as_text=True)
    assert page.headers["Retry-After"]


def test_one_address_trying_many_usernames_is_throttled(app, auth, throttle_counters):
    client = app.test_client()
    answers = [_try_login(client, f"user{n}", "whatever-pass").status_code for n in range(21)]
    assert answers[:20] == [200] * 20
    assert answers[20] == 429


def test_successful_logins_do_not_count_against_the_throttle(app, auth, throttle_counters):
    auth.create()
    for _ in range(8):
        client = app.test_client()
        assert _try_login(client, ADMIN_USER, ADMIN_PASSWORD).status_code == 302


def test_an_unknown_username_costs_the_same_hash_check_as_a_known_one(app, auth, monkeypatch):
    """Timing equality by construction: both paths run exactly one password-hash check."""
    import portal.auth

    auth.create()
    checks = []
    real = portal.auth.check_password_hash
    monkeypatch.setattr(portal.auth, "check_password_hash", lambda *a: checks.append(1) or real(*a))
    _try_login(app.test_client(), ADMIN_USER, "wrong-password", address="10.0.3.1")
    known = len(checks)
    _try_login(app.test_client(), "nobody-by-that-name", "wrong-password", address="10.0.3.2")
    assert known == 1 and len(checks) - known == 1


def test_the_login_page_sends_the_security_headers_and_its_stylesheet_loads_anonymously(client):
    page = client.get("/login")
    assert page.status_code == 200
    csp = page.headers["Content-Security-Policy"]
    assert "frame-ancestors 'none'" in csp and "script-src 'self'" in csp
    assert page.headers["X-Content-Type-Options"] == "nosniff"
    assert page.headers["X-Frame-Options"] == "DENY"
    sheet = client.get("/netsuite/static/netsuite.css")
    assert sheet.status_code == 200 and sheet.mimetype == "text/css"


def test_the_csrf_token_changes_at_login(app, client, auth):
    auth.create()
    before = csrf_token_from(client.get("/login").get_data(as_text=True))
    client.post("/login", data={"username": ADMIN_USER, "password": ADMIN_PASSWORD, "csrf_token": before})
    after = csrf_token_from(client.get("/netsuite/").get_data(as_text=True))
    assert after != before
    refused = client.post("/netsuite/config/test/billing", data={"csrf_token": before})
    assert refused.status_code == 400, "a token planted before login must not work after it"
    accepted = client.post("/netsuite/config/test/billing", data={"csrf_token": after})
    assert accepted.status_code == 302


def _bare_host(database_url: str) -> Flask:
    host = Flask("host_without_csrfprotect")
    host.config.update(SECRET_KEY="bare-host", SQLALCHEMY_DATABASE_URI=database_url, TESTING=True)
    host_db = SQLAlchemy()
    host_db.init_app(host)
    NetSuiteAddon().init_app(host, db=host_db, authorize=lambda: None)
    with host.app_context():
        Base.metadata.create_all(host_db.engine)
    return host


def test_the_addon_checks_csrf_itself_in_a_host_without_csrfprotect(tmp_path):
    host = _bare_host(f"sqlite:///{tmp_path / 'bare.sqlite'}")
    client = host.test_client()
    posts = [
        rule.rule
        for rule in host.url_map.iter_rules()
        if rule.endpoint.startswith("netsuite.") and "POST" in rule.methods and not rule.arguments
    ]
    assert posts
    for url in posts:
        assert client.post(url, data={}).status_code == 400, url
        assert client.post(url, data={"csrf_token": "forged"}).status_code == 400, url
    token = csrf_token_from(client.get("/netsuite/config").get_data(as_text=True))
    answer = client.post("/netsuite/config/test/billing", data={"csrf_token": token})
    assert answer.status_code == 302, "a genuine token passes"
    assert isinstance(answer, Response)
