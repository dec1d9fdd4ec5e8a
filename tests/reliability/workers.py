"""Real ``python -m jobs worker`` processes for the crash tests, and a kill that leaves nothing behind."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

import psutil

REPO = Path(__file__).resolve().parents[2]


def spawn_worker(log_path: Path, *, database_url: str, redis_url: str, **env: str) -> subprocess.Popen:
    """Start a worker on the test's database and Redis; its output goes to ``log_path``."""
    with open(log_path, "ab") as log:
        return subprocess.Popen(
            [sys.executable, "-m", "jobs", "worker"],
            cwd=REPO,
            env={
                **os.environ,
                "DATABASE_URL": database_url,
                "REDIS_URL": redis_url,
                "SECRET_KEY": "test-secret-key",
                "INSTANCE_PATH": str(log_path.parent / "instance"),
                **env,
            },
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )


def sigkill_tree(process: subprocess.Popen) -> int:
    """SIGKILL the worker and every descendant (RQ's work horse moves to its own process group,
    so killing the group alone would let the job run on). Returns how many processes died."""
    try:
        victims = [psutil.Process(process.pid)]
        victims += victims[0].children(recursive=True)
    except psutil.NoSuchProcess:
        victims = []
    for victim in victims:
        try:
            victim.send_signal(signal.SIGKILL)
        except psutil.NoSuchProcess:
            pass
    psutil.wait_procs(victims, timeout=10)
    process.wait()
    return len(victims)
