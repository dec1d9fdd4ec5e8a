"""`make demo`'s driver end to end: sandboxes, configuration, a full sync, reconciliation."""

from __future__ import annotations

import os
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
        ],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    output = result.stdout + result.stderr
    assert result.returncode == 0, output
    assert "full sync:" in output and "Reconciliation:" in output
    assert "OAuth 2.0 access tokens issued" in output  # the demo runs in M2M mode
    assert (tmp_path / "demo" / "admin-password").exists()
    assert "Traceback" not in output
