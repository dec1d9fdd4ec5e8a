"""The benchmark's plumbing on a tiny ISP: sandboxes start, every step runs, outputs appear.

No timing is asserted (speed is what ``make bench`` reports); this only proves the harness,
the naive baseline and the report work end to end.
"""

from __future__ import annotations

import json

import pytest

from bench.__main__ import main

pytestmark = pytest.mark.slow


def test_quick_bench_writes_table_json_and_plot(tmp_path, capsys):
    main(
        [
            "--quick",
            "--customers",
            "20",
            "--latency",
            "0.005",
            "--out",
            str(tmp_path),
            "--workdir",
            str(tmp_path / "w"),
        ]
    )

    results = json.loads((tmp_path / "results.json").read_text())
    runs = {(m["label"], m["operation"]) for m in results["measurements"]}
    for operation in ("export_customers", "export_invoices", "export_credit_notes", "export_payments"):
        assert ("first sync", operation) in runs
        assert ("no-change rerun", operation) in runs
    assert ("first sync", "import_payments") in runs
    assert ("baseline (b) naive", "export_customers") in runs
    naive = next(m for m in results["measurements"] if m["label"] == "baseline (b) naive")
    assert naive["records"] == 20 and naive["requests"] == 2 * 20 + 1  # lookup + POST each, + subsidiary
    customers = results["measurements"][0]
    assert customers["records"] > 0 and customers["peak_in_flight"] <= 5
    assert {t["verdict"] for t in results["targets"]} <= {"PASS", "FAIL", "n/a"}
    assert (tmp_path / "throughput.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert "Targets:" in capsys.readouterr().out
