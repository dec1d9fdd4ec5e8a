"""The add-on as a guest: mounting, login, settings at rest, the CLI and migrations."""

from __future__ import annotations

import os
import uuid

import pytest
from flask import Flask, Response, request
from flask_sqlalchemy import SQLAlchemy
from sqlalchemy import create_engine, inspect, select, text

from addon import NetSuiteAddon, settings
from addon.models import Base, Setting
from addon.sync.operations import scheduled
from tests.plugins.app import csrf_token_from


def addon_get_urls(app) -> list[str]:
    """Every GET page of the add-on, with '1' for each URL argument."""
    from flask import url_for

    with app.test_request_context():
        return [
            url_for(rule.endpoint, **{arg: "1" for arg in rule.arguments})
            for rule in app.url_map.iter_rules()
            if rule.endpoint.startswith("netsuite.")
            and rule.endpoint != "netsuite.static"
            and "GET" in rule.methods
        ]


def test_every_addon_page_redirects_to_login_when_anonymous(app, client):
    urls = addon_get_urls(app)
    assert urls, "the add-on registered no pages"
    for url in urls:
        response = client.get(url)
        assert response.status_code == 302, url
        assert "/login" in response.headers["Location"], url


def test_login_with_created_admin_reaches_dashboard(client, auth):
    response = auth.login()
    assert response.status_code == 302
    page = client.get("/netsuite/")
    assert page.status_code == 200
    assert "NetSuite Accounting" in page.get_data(as_text=True)


def test_wrong_password_is_refused(client, auth):
    auth.create()
    token = csrf_token_from(client.get("/login").get_data(as_text=True))
    response = client.post("/login", data={"username": "admin", "password": "nope", "csrf_token": token})
    assert response.status_code == 200
    assert "wrong password" in response.get_data(as_text=True)
    assert client.get("/netsuite/").status_code == 302


def test_login_does_not_redirect_off_site(client, auth):
    auth.create()
    token = csrf_token_from(client.get("/login").get_data(as_text=True))
    response = client.post(
        "/login?next=//evil.example/x",
        data={"username": "admin", "password": "correct-horse-battery", "csrf_token": token},
    )
    assert response.status_code == 302
    assert "evil.example" not in response.headers["Location"]


def test_admin_pages_send_security_headers(client, auth):
    auth.login()
    response = client.get("/netsuite/")
    csp = response.headers["Content-Security-Policy"]
    assert "script-src 'self'" in csp and "unsafe-inline" not in csp
    assert "frame-ancestors 'none'" in csp
    assert response.headers["X-Content-Type-Options"] == "nosniff"


def _minimal_host(database_url: str, authorize) -> tuple[Flask, SQLAlchemy]:
    host = Flask("another_portal")
    host.config.update(SECRET_KEY="other-host", SQLALCHEMY_DATABASE_URI=database_url, TESTING=True)
    host_db = SQLAlchemy()
    host_db.init_app(host)
    NetSuiteAddon().init_app(host, db=host_db, authorize=authorize)
    with host.app_context():
        Base.metadata.create_all(host_db.engine)
    return host, host_db


def _header_hook():
    if request.headers.get("X-Portal-Admin") != "yes":
        return Response("no", status=401)
    return None


def test_addon_mounts_in_a_second_minimal_host(tmp_path):
    host, _ = _minimal_host(f"sqlite:///{tmp_path / 'host.sqlite'}", _header_hook)
    client = host.test_client()
    assert client.get("/netsuite/").status_code == 401
    response = client.get("/netsuite/", headers={"X-Portal-Admin": "yes"})
    assert response.status_code == 200
    assert "netsuite" in host.extensions
    assert "netsuite" in host.cli.commands
    # The guest leaves the host's own config keys alone.
    assert all(key.startswith("NETSUITE_ADDON_") for key in host.config if "NETSUITE" in key)


def test_host_without_auth_hook_is_refused(tmp_path):
    host, _ = _minimal_host(f"sqlite:///{tmp_path / 'host.sqlite'}", None)
    assert host.test_client().get("/netsuite/").status_code == 403


def test_secret_is_encrypted_at_rest_and_masked(app_ctx, runner):
    settings.put("netsuite_token_secret", "tok-s3cr3t-value")
    row = app_ctx.extensions["netsuite"].db.session.get(Setting, "netsuite_token_secret")
    assert row.encrypted and "tok-s3cr3t-value" not in row.value
    assert settings.get("netsuite_token_secret") == "tok-s3cr3t-value"
    shown = runner.invoke(args=["netsuite", "config", "show"]).output
    assert "tok-s3cr3t-value" not in shown
    assert "netsuite_token_secret" in shown


def test_saved_value_overrides_environment(app_ctx, monkeypatch):
    monkeypatch.setenv("NETSUITE_ACCOUNT_ID", "1111111")
    assert settings.get("netsuite_account_id") == "1111111"
    assert settings.source("netsuite_account_id") == "environment"
    settings.put("netsuite_account_id", "2222222_SB1")
    assert settings.get("netsuite_account_id") == "2222222_SB1"
    settings.clear("netsuite_account_id")
    assert settings.get("netsuite_account_id") == "1111111"


def test_typed_settings_and_defaults(app_ctx):
    assert settings.get("payment_direction") == "splynx_to_netsuite"
    assert settings.get("statement_grouping") == "month"
    assert settings.get("customer_name_pattern") == "{name}"
    assert all(settings.get(f"cron_{op.name}") is False for op in scheduled())
    settings.put("partners_ignore", "2, 3")
    assert settings.get("partners_ignore") == ["2", "3"]


def test_config_set_rejects_bad_values_without_writing(app_ctx, runner):
    result = runner.invoke(args=["netsuite", "config", "set", "export_from", "2025-13-01"])
    assert result.exit_code != 0
    assert "Export from date" in result.output
    result = runner.invoke(args=["netsuite", "config", "set", "payment_direction", "sideways"])
    assert result.exit_code != 0 and "must be one of" in result.output
    session = app_ctx.extensions["netsuite"].db.session
    assert session.scalars(select(Setting)).all() == []


def test_create_admin_command(app, runner):
    result = runner.invoke(args=["create-admin", "alice"], input="longenough1\nlongenough1\n")
    assert result.exit_code == 0, result.output
    result = runner.invoke(args=["create-admin", "bob"], input="short\nshort\n")
    assert result.exit_code != 0


# --- migrations: both databases reach the same schema --------------------------------


def _schema_of(url: str) -> dict:
    engine = create_engine(url)
    inspector = inspect(engine)
    schema = {}
    for table in sorted(inspector.get_table_names()):
        columns = {
            c["name"]: (
                type(c["type"]).__mro__[0].__visit_name__ if hasattr(c["type"], "__visit_name__") else "",
                c["nullable"],
            )
            for c in inspector.get_columns(table)
        }
        uniques = sorted(tuple(u["column_names"]) for u in inspector.get_unique_constraints(table))
        indexes = sorted(
            tuple(i["column_names"]) for i in inspector.get_indexes(table) if not i.get("unique")
        )
        schema[table] = {
            "columns": sorted(columns),
            "nullable": {k: v[1] for k, v in columns.items()},
            "uniques": uniques,
            "indexes": indexes,
        }
    engine.dispose()
    return schema


def _upgrade(url: str, tmp_path) -> None:
    from wsgi import create_app

    app = create_app({"SQLALCHEMY_DATABASE_URI": url, "SECRET_KEY": "x", "TESTING": True})
    result = app.test_cli_runner().invoke(args=["db", "upgrade"])
    assert result.exit_code == 0, result.output
    with app.app_context():
        app.extensions["sqlalchemy"].engine.dispose()


@pytest.fixture
def empty_postgres_url():
    base = os.environ.get("TEST_DATABASE_URL")
    if not base:
        from tests.plugins.services import unavailable

        unavailable("TEST_DATABASE_URL is not set: the PostgreSQL migration test needs it")
    base = base.replace("postgresql://", "postgresql+psycopg://", 1)
    name = f"ns_migrations_{uuid.uuid4().hex[:10]}"
    admin = create_engine(base, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    yield base.rsplit("/", 1)[0] + "/" + name
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


def test_migrations_give_sqlite_and_postgresql_the_same_schema(tmp_path, empty_postgres_url):
    sqlite_url = f"sqlite:///{tmp_path / 'migrated.sqlite'}"
    _upgrade(sqlite_url, tmp_path)
    _upgrade(empty_postgres_url, tmp_path)
    on_sqlite, on_postgres = _schema_of(sqlite_url), _schema_of(empty_postgres_url)
    assert "netsuite_alembic_version" in on_sqlite and "alembic_version" in on_sqlite
    assert set(on_sqlite) == set(on_postgres)
    for table in on_sqlite:
        assert on_sqlite[table] == on_postgres[table], table


def test_migrations_match_the_models(tmp_path):
    """The migration history creates exactly what the models declare."""
    from alembic.autogenerate import compare_metadata
    from alembic.runtime.migration import MigrationContext

    url = f"sqlite:///{tmp_path / 'drift.sqlite'}"
    _upgrade(url, tmp_path)
    engine = create_engine(url)
    with engine.connect() as conn:
        context = MigrationContext.configure(conn, opts={"compare_type": True})
        diff = [
            d
            for d in compare_metadata(context, Base.metadata)
            if not (isinstance(d, tuple) and d[0] == "remove_table")
        ]
    engine.dispose()
    assert diff == []
