"""Real external services for the tests: PostgreSQL and Redis.

A service that cannot be reached skips the tests that need it with a loud
reason, unless ``REQUIRE_SERVICES=1`` (as in CI), where it fails them.
"""

from __future__ import annotations

import os

import pytest

DEFAULT_REDIS_URL = "redis://127.0.0.1:6379/15"


def services_required() -> bool:
    return os.environ.get("REQUIRE_SERVICES") == "1"


def unavailable(reason: str):
    """Skip (or, when services are required, fail) the calling test."""
    message = f"SERVICE UNAVAILABLE: {reason}"
    if services_required():
        pytest.fail(message + " (REQUIRE_SERVICES=1)", pytrace=False)
    pytest.skip(message)


@pytest.fixture(scope="session")
def redis_url() -> str:
    url = os.environ.get("REDIS_URL", DEFAULT_REDIS_URL)
    import redis

    try:
        redis.Redis.from_url(url, socket_connect_timeout=2).ping()
    except Exception as exc:  # any connection problem means "not here"
        unavailable(f"Redis at {url}: {exc}")
    return url


@pytest.fixture
def redis_conn(redis_url):
    """A Redis connection on a database emptied before and after the test."""
    import redis

    conn = redis.Redis.from_url(redis_url)
    conn.flushdb()
    yield conn
    conn.flushdb()
    conn.close()
