"""`make demo`'s driver end to end: sandboxes, configuration, a full sync, reconciliation."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


@pytest.mark.slow
def test_demo_runs_a_full_sync_and_reconciles(tmp_path):
    env = {k: v for k, v in os.environ.items() if not k.startswith(("NETSUITE_", "SPLYNX_", "DATABASE_URL"))}
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "demo",
            "--dir",
            str(tmp_path / "demo"),
            "--customers",
            "25",
            "--latency",
            "0",
            "--no-serve",
            "--env-file",
            str(tmp_path / ".flaskenv"),
        ],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    output = result.stdout + result.stderr
    assert result.returncode == 0, output
    assert re.search(r"^run \d+ sync: (succeeded|partial)$", output, re.M), output  # bad inputs may fail
    assert "Reconciliation:" in output
    assert "OAuth 2.0 access tokens issued" in output  # the demo runs in M2M mode
    assert (tmp_path / "demo" / "admin-password").exists()
    assert "Traceback" not in output

    # The flask CLI, started where the .flaskenv is, works on the demo's database and secrets.
    flask = Path(sys.executable).with_name("flask")
    cli_env = {k: v for k, v in env.items() if k not in ("INSTANCE_PATH", "FLASK_APP")}
    cli_env["PYTHONPATH"] = str(ROOT)
    shown = subprocess.run(
        [str(flask), "netsuite", "config", "show"],
        cwd=tmp_path,
        env=cli_env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert shown.returncode == 0, shown.stdout + shown.stderr
    account = next(line for line in shown.stdout.splitlines() if line.startswith("netsuite_account_id"))
    assert "1234567_SB1" in account and "[saved]" in account
    problems = subprocess.run(
        [str(flask), "netsuite", "problems"],
        cwd=tmp_path,
        env=cli_env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert problems.returncode == 0 and "should be credit notes" in problems.stdout, (
        problems.stdout + problems.stderr
    )


def test_a_port_already_taken_is_reported_before_the_sync(tmp_path):
    import socket

    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        result = subprocess.run(
            [sys.executable, "-m", "demo", "--dir", str(tmp_path / "demo"), "--port", str(port),
             "--env-file", str(tmp_path / ".flaskenv")],
            cwd=ROOT,
            capture_output=True,
            text=True,
            timeout=60,
        )  # fmt: skip
    assert result.returncode == 2
    assert f"Port {port} is already in use" in result.stderr and "--port" in result.stderr
    assert "Starting the NetSuite" not in result.stdout  # refused before any work
    assert not (tmp_path / ".flaskenv").exists()
