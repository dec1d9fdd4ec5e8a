"""Fixtures shared by the jobs tests (no tests here).

``ready`` is the add-on configured against both sandboxes with what customer
exports need; ``redis_jobs`` points the app at real Redis; ``spawn_worker``
starts real ``python -m jobs worker`` processes on the test's database.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]


def wait_for(predicate, what: str, timeout: float = 60.0, interval: float = 0.05):
    """Poll ``predicate`` until it returns something truthy (bounded; no timing asserted)."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"gave up waiting for {what}")
        time.sleep(interval)


def kill_hard(process: subprocess.Popen) -> None:
    """SIGKILL a worker and its work horse (RQ puts the horse in its own process group)."""
    import psutil

    try:
        family = [*psutil.Process(process.pid).children(recursive=True), psutil.Process(process.pid)]
    except psutil.NoSuchProcess:
        family = []
    for member in family:
        with contextlib.suppress(psutil.NoSuchProcess):
            member.send_signal(signal.SIGKILL)
    process.wait()


@pytest.fixture
def ready(configured):
    """Sandboxes + settings; new NetSuite customers need a subsidiary and a currency."""
    configured.settings(subsidiary="1", currency="1")
    return configured


@pytest.fixture
def redis_jobs(ready, redis_conn, redis_url):
    """The app under test uses real Redis for its queue, locks and governor."""
    ready.app.config["NETSUITE_ADDON_REDIS_URL"] = redis_url
    return ready


@pytest.fixture
def spawn_worker(database_url, redis_url, tmp_path):
    """Start ``python -m jobs worker`` processes on the test's database and Redis."""
    started: list[subprocess.Popen] = []

    def spawn(**env: str) -> subprocess.Popen:
        log = open(tmp_path / f"worker-{len(started)}.log", "wb")  # noqa: SIM115 (closed with the process)
        process = subprocess.Popen(
            [sys.executable, "-m", "jobs", "worker"],
            cwd=REPO,
            env={
                **os.environ,
                "DATABASE_URL": database_url,
                "REDIS_URL": redis_url,
                "SECRET_KEY": "test-secret-key",
                "INSTANCE_PATH": str(tmp_path / "instance"),
                **env,
            },
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        process.log = log
        started.append(process)
        return process

    yield spawn
    for process in started:
        kill_hard(process)
        process.log.close()
