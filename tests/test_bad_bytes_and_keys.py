"""Hostile bytes at every entrance, a changed SECRET_KEY, secrets in reprs, private files.

On PostgreSQL (as in CI) a NUL byte cannot even be stored in a text column, so these tests
are the ones that show one bad record or field no longer stops everything.
"""

from __future__ import annotations

import json
import os
import stat
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st

from addon import settings
from tests.plugins.app import csrf_token_from

NUL_NAME = "Bad\x00Name\x07 Ltd\x1b"
CONTROLS = ("\x00", "\x07", "\x1b", "\x7f")


# DEL travels raw in JSON, the C0 controls only as \u escapes: both ways in must be cleaned.
@pytest.mark.parametrize("hostile", [NUL_NAME, "Del\x7fName Ltd"])
def test_a_billing_customer_named_with_control_characters_is_exported_like_any_other(export_ready, hostile):
    from addon.sync.operations import run_operation

    setup = export_ready
    victim = setup.env.splynx.state.all("customers")[0]
    setup.env.splynx.state.update("customers", victim["id"], {"name": hostile})
    run = run_operation("export_customers")
    assert run.status in ("succeeded", "partial"), run.message
    assert run.counts.get("created", 0) >= 5
    names = [
        record.get("companyName") or ""
        for record in setup.env.netsuite.state.store.records("customer")
        if record.get("externalId") == f"splynx-customer-{victim['id']}"
    ]
    assert names and not any(char in name for name in names for char in CONTROLS), names


def test_a_config_post_with_a_nul_byte_is_refused_and_saves_nothing(client, auth, app):
    auth.login()
    token = csrf_token_from(client.get("/netsuite/config").get_data(as_text=True))
    answer = client.post(
        "/netsuite/config", data={"csrf_token": token, "customer_name_pattern": "{name}\x00", "currency": "1"}
    )
    assert answer.status_code == 400
    assert "control character" in answer.get_data(as_text=True)
    with app.app_context():
        assert settings.source("customer_name_pattern") == "default"


def test_a_nul_byte_in_the_login_form_is_refused_not_a_500(client):
    token = csrf_token_from(client.get("/login").get_data(as_text=True))
    answer = client.post("/login", data={"csrf_token": token, "username": "adm\x00in", "password": "x"})
    assert answer.status_code == 400


def test_a_nul_byte_in_a_command_argument_is_refused(runner, app):
    result = runner.invoke(args=["netsuite", "config", "set", "customer_name_pattern", "{name}\x00"])
    assert result.exit_code == 2
    assert "control character" in result.output
    with app.app_context():
        assert settings.source("customer_name_pattern") == "default"


# -- a changed SECRET_KEY ---------------------------------------------------------------------------


@pytest.fixture
def rotated(configured):
    """Secrets saved under the old key; the app now runs with a new SECRET_KEY."""
    configured.app.config["SECRET_KEY"] = "a-completely-different-key"
    return configured


def test_after_a_secret_key_change_every_page_and_test_connection_still_answer(rotated, client, auth):
    from tests.test_security import html_pages

    auth.login()
    broken = []
    for endpoint, url in html_pages(rotated.app):
        answer = client.get(url)
        if answer.status_code >= 500:
            broken.append(f"GET {url} ({endpoint}): {answer.status_code}")
    assert not broken, "\n".join(broken)
    page = client.get("/netsuite/config").get_data(as_text=True)
    assert settings.UNREADABLE_TEXT in page
    for system in ("netsuite", "splynx"):
        token = csrf_token_from(client.get("/netsuite/config").get_data(as_text=True))
        assert client.post(f"/netsuite/config/test/{system}", data={"csrf_token": token}).status_code == 302
    assert "enter it again" in client.get("/netsuite/config").get_data(as_text=True)


def test_after_a_secret_key_change_config_show_names_the_unreadable_secrets(rotated, runner):
    result = runner.invoke(args=["netsuite", "config", "show"])
    assert result.exit_code == 0, result.output
    assert "splynx_api_secret" in result.output and settings.UNREADABLE_TEXT in result.output
    result = runner.invoke(args=["netsuite", "test-connection", "--system", "splynx"])
    assert result.exit_code == 2 and "enter it again" in result.output and "Traceback" not in result.output


def test_unreadable_secrets_can_be_entered_again_and_work(rotated):
    from addon.sync.connections import check_connection

    ok, line = check_connection("splynx")
    assert not ok and "enter it again" in line
    rotated.settings(splynx_api_secret=rotated.splynx.api_secret)
    ok, line = check_connection("splynx")
    assert ok, line


# -- no secret in any repr, str or exception ----------------------------------------------------------


def test_no_secret_in_the_repr_or_str_of_configs_contexts_tokens_and_errors(configured):
    from addon.netsuite import NetSuiteConfigError
    from addon.splynx import auth as splynx_auth
    from addon.sync.context import netsuite_config, splynx_config

    ctx = configured.context()
    values = ctx.values
    secrets_in_use = [
        values[key] for key in ("netsuite_consumer_secret", "netsuite_token_secret", "splynx_api_secret")
    ]
    token = splynx_auth.Token("access-SECRET-1", 9e9, "refresh-SECRET-2", 9e9, 0)
    objects = [ctx, netsuite_config(values), splynx_config(values), token, ctx.netsuite.config]
    try:
        netsuite_config({**values, "netsuite_token_id": ""})  # the secrets are there, the token id is not
    except NetSuiteConfigError as exc:
        objects.append(exc)
    assert len(objects) == 6
    shown = " ".join(f"{obj!r} {obj!s} {obj}" for obj in objects)
    for secret in [*secrets_in_use, "access-SECRET-1", "refresh-SECRET-2"]:
        assert secret not in shown


# -- nothing from billing turns into a number in NetSuite's JSON ---------------------------------------


@given(text=st.text(max_size=60), amount=st.decimals(allow_nan=False, allow_infinity=False, places=2))
@hypothesis_settings(max_examples=200, deadline=None)
def test_no_billing_string_becomes_a_number(text, amount):
    from addon.netsuite.client import encode_json

    for forged in (text, "\x00decimal:100", f"\x00decimal:{text}", "decimal-" + "0" * 32 + ":100"):
        decoded = json.loads(encode_json({"companyName": forged, "amount": amount}), parse_float=Decimal)
        assert decoded["companyName"] == forged
        assert Decimal(decoded["amount"]) == amount


@pytest.mark.parametrize("account_id", ["١٢٣٤٥٦٧", "１２３４５６７", "1234567_SB١", "²³⁴"])
def test_account_ids_accept_ascii_digits_only(account_id):
    from addon.netsuite.config import NetSuiteConfigError, normalise_account_id

    with pytest.raises(NetSuiteConfigError):
        normalise_account_id(account_id)
    assert normalise_account_id("1234567-sb1") == "1234567_SB1"


# -- private files ------------------------------------------------------------------------------------


def test_the_generated_key_and_the_sqlite_database_are_private_and_apart(tmp_path, monkeypatch):
    from wsgi import create_app

    instance, keys = tmp_path / "instance", tmp_path / "keys"
    monkeypatch.setenv("INSTANCE_PATH", str(instance))
    monkeypatch.setenv("NETSUITE_SYNC_KEY_DIR", str(keys))
    monkeypatch.delenv("SECRET_KEY", raising=False)
    monkeypatch.delenv("DATABASE_URL", raising=False)
    old = os.umask(0o022)
    try:
        app = create_app()
    finally:
        os.umask(old)
    database = instance / "netsuite.sqlite"
    (key_file,) = keys.iterdir()
    for path in (database, key_file):
        assert stat.S_IMODE(path.stat().st_mode) == 0o600, path
    assert key_file.parent != database.parent
    assert not any("key" in name.name for name in instance.iterdir())
    assert app.config["SECRET_KEY"] == key_file.read_text().strip()
    assert create_app().config["SECRET_KEY"] == app.config["SECRET_KEY"], "the key survives a restart"


def test_the_redis_scan_reads_compressed_job_data(redis_conn):
    """The scan of the crash test decompresses what RQ compresses: a secret in there is found."""
    import zlib

    from tests.reliability.test_crash_recovery import readable_values

    redis_conn.hset("netsuite-sync:test:job", "data", zlib.compress(b"...token-SECRET-in-a-pickle..."))
    try:
        found = readable_values(redis_conn, "netsuite-sync:test:job")
        assert any(b"token-SECRET-in-a-pickle" in value for value in found)
    finally:
        redis_conn.delete("netsuite-sync:test:job")


# -- Redis unreachable ----------------------------------------------------------------------------------


def test_with_redis_unreachable_every_page_and_button_answers_clearly(configured, client, auth):
    from addon.extension import session
    from addon.models import SyncRun
    from tests.test_security import PLAUSIBLE_FORM, PUBLIC_ENDPOINTS, addon_requests

    auth.login()
    configured.app.config["NETSUITE_ADDON_REDIS_URL"] = "redis://127.0.0.1:1/0"  # nothing listens there
    token = csrf_token_from(client.get("/netsuite/config").get_data(as_text=True))
    bare = []
    for endpoint, method, url in addon_requests(configured.app):
        if endpoint in PUBLIC_ENDPOINTS:
            continue
        data = dict(PLAUSIBLE_FORM, csrf_token=token) if method != "GET" else None
        answer = client.open(url, method=method, data=data)
        body = answer.get_data(as_text=True)
        if answer.status_code == 500 or (answer.status_code == 503 and "Redis" not in body):
            bare.append(f"{method} {url} ({endpoint}): {answer.status_code}")
    assert not bare, "\n".join(bare)
    session().rollback()
    left = session().query(SyncRun).filter(SyncRun.status.in_(("queued", "running"))).all()
    assert left == [], [(run.operation, run.status) for run in left]
