"""The Flask app under test, a clean database per test, and a logged-in admin.

The suite runs on SQLite by default and on PostgreSQL when
``TEST_DATABASE_URL`` is set (as in CI).
"""

from __future__ import annotations

import os

import pytest
from sqlalchemy import create_engine, text

from tests.plugins.services import unavailable

ADMIN_USER = "admin"
ADMIN_PASSWORD = "correct-horse-battery"


@pytest.fixture(scope="session")
def database_url(tmp_path_factory) -> str:
    url = os.environ.get("TEST_DATABASE_URL")
    if not url:
        return f"sqlite:///{tmp_path_factory.mktemp('db') / 'test.sqlite'}"
    url = url.replace("postgresql://", "postgresql+psycopg://", 1) if url.startswith("postgresql://") else url
    try:
        probe = create_engine(url)
        with probe.connect() as conn:
            conn.execute(text("select 1"))
        probe.dispose()
    except Exception as exc:
        unavailable(f"database at {url}: {exc}")
    return url


def _empty_all_tables(db) -> None:
    from addon.models import Base

    with db.engine.begin() as conn:
        for metadata in (Base.metadata, db.metadata):
            for table in reversed(metadata.sorted_tables):
                conn.execute(table.delete())


@pytest.fixture(scope="session")
def _schema(database_url):
    """Create the schema once; each test then starts from empty tables."""
    from addon.models import Base
    from portal import db
    from wsgi import create_app

    app = create_app({"SQLALCHEMY_DATABASE_URI": database_url, "SECRET_KEY": "test-secret-key"})
    with app.app_context():
        Base.metadata.drop_all(db.engine)
        db.drop_all()
        db.create_all()
        Base.metadata.create_all(db.engine)
    return database_url


@pytest.fixture
def app(_schema, tmp_path, monkeypatch):
    from portal import db
    from wsgi import create_app

    # The environment must not leak real credentials into a test.
    for name in list(os.environ):
        if name.startswith(("NETSUITE_", "SPLYNX_")):
            monkeypatch.delenv(name, raising=False)
    app = create_app(
        {
            "TESTING": True,
            "SQLALCHEMY_DATABASE_URI": _schema,
            "SECRET_KEY": "test-secret-key",
            "SESSION_COOKIE_SECURE": False,
            "REMEMBER_COOKIE_SECURE": False,
            "NETSUITE_ADDON_REDIS_URL": None,
        }
    )
    with app.app_context():
        _empty_all_tables(db)
        db.session.remove()
    yield app
    with app.app_context():
        db.session.remove()
        db.engine.dispose()


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def runner(app):
    return app.test_cli_runner()


@pytest.fixture
def app_ctx(app):
    with app.app_context():
        yield app


class AuthActions:
    def __init__(self, app, client):
        self._app = app
        self._client = client

    def create(self, username: str = ADMIN_USER, password: str = ADMIN_PASSWORD):
        from portal.auth import create_admin

        with self._app.app_context():
            create_admin(username, password)

    def login(self, username: str = ADMIN_USER, password: str = ADMIN_PASSWORD):
        self.create(username, password)
        page = self._client.get("/login")
        token = csrf_token_from(page.get_data(as_text=True))
        return self._client.post(
            "/login", data={"username": username, "password": password, "csrf_token": token}
        )

    def csrf_token(self, path: str = "/netsuite/") -> str:
        return csrf_token_from(self._client.get(path).get_data(as_text=True))


def csrf_token_from(html: str) -> str:
    import re

    match = (
        re.search(r'name="csrf_token"[^>]*value="([^"]+)"', html)
        or re.search(r'value="([^"]+)"[^>]*name="csrf_token"', html)
        or re.search(r'<meta name="csrf-token" content="([^"]+)"', html)
    )
    assert match, "page carries no CSRF token"
    return match.group(1)


@pytest.fixture
def auth(app, client):
    return AuthActions(app, client)
