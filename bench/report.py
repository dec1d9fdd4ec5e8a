"""The benchmark's verdicts and outputs: targets as PASS/FAIL, the table, JSON and the plot."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path

from bench.harness import EXPORT_OPERATIONS

COLUMNS = (
    ("label", "run", "{:<20}"),
    ("operation", "operation", "{:<19}"),
    ("concurrency", "C", "{:>3}"),
    ("records", "records", "{:>7}"),
    ("wall", "wall s", "{:>8.2f}"),
    ("records_per_second", "rec/s", "{:>7.1f}"),
    ("requests", "requests", "{:>8}"),
    ("requests_per_record", "req/rec", "{:>7.3f}"),
    ("rejected_429", "429s", "{:>5}"),
    ("peak_in_flight", "peak", "{:>4}"),
    ("failed", "failed", "{:>6}"),
    ("cpu_ms_per_record", "cpu ms/rec", "{:>10.2f}"),
    ("peak_rss_mb", "RSS MB", "{:>7.0f}"),
    ("bound", "bound s", "{:>8.2f}"),
    ("efficiency", "eff", "{:>5.2f}"),
)


@dataclass
class Target:
    name: str
    figure: str
    passed: bool | None  # None: not measured in this run

    @property
    def verdict(self) -> str:
        return {True: "PASS", False: "FAIL", None: "n/a"}[self.passed]


def _width(fmt: str) -> int:
    return int(re.search(r"\d+", fmt).group())


def _cell(value, fmt: str) -> str:
    if value is None:
        return f"{'-':>{_width(fmt)}}"
    return fmt.format(value)


def table(measurements: list[dict]) -> str:
    """The measurements as a fixed-width text table."""
    header = " ".join(
        f"{title:<{_width(fmt)}}" if "<" in fmt else f"{title:>{_width(fmt)}}" for _, title, fmt in COLUMNS
    )
    lines = [header, "-" * len(header)]
    lines += [" ".join(_cell(m.get(key), fmt) for key, _, fmt in COLUMNS) for m in measurements]
    return "\n".join(lines)


def _rows(results: dict, label: str, concurrency: int | None = None) -> list[dict]:
    return [
        m
        for m in results["measurements"]
        if m["label"] == label and (concurrency is None or m["concurrency"] == concurrency)
    ]


def efficiency_targets(results: dict) -> list[Target]:
    """The efficiency targets alone (exports at C = 5 and 15, the import at C = 5)."""
    out: list[Target] = []
    for concurrency, floor in ((5, 0.90), (15, 0.85)):
        label = "first sync" if concurrency == 5 else f"first sync C={concurrency}"
        for m in _rows(results, label, concurrency):
            if m["operation"] in EXPORT_OPERATIONS:
                eff = m["efficiency"]
                out.append(
                    Target(
                        f"efficiency {m['operation']} C={concurrency} ≥ {floor}",
                        f"{eff:.3f}" if eff is not None else "no records",
                        eff is not None and eff >= floor,
                    )
                )
    for m in _rows(results, "first sync", 5):
        if m["operation"] == "import_payments":
            # Issue 18: the import reads deposit accounts in its SuiteQL, so it keeps pace too.
            eff = m["efficiency"]
            out.append(
                Target(
                    "efficiency import_payments C=5 ≥ 0.95",
                    f"{eff:.3f}" if eff is not None else "no records",
                    eff is not None and eff >= 0.95,
                )
            )
    return out


def targets(results: dict) -> list[Target]:
    """Every target of issue 8 evaluated on ``results``."""
    out = efficiency_targets(results)
    for m in _rows(results, "first sync", 5):
        if m["operation"] in EXPORT_OPERATIONS:
            rpr = m["requests_per_record"]
            out.append(
                Target(
                    f"requests/record {m['operation']} first sync ≤ 1.05",
                    f"{rpr:.3f}" if rpr is not None else "no records",
                    rpr is not None and rpr <= 1.05,
                )
            )
    reruns = _rows(results, "no-change rerun")
    if reruns:
        writes = sum(m["writes"] for m in reruns)
        reads = sum(m["reads"] for m in reruns)
        processed = sum(m["processed"] for m in reruns)
        per_thousand = 1000 * reads / processed if processed else float("inf")
        out.append(Target("no-change rerun: 0 writes", str(writes), writes == 0))
        out.append(
            Target(
                "no-change rerun: ≤ 1 read per 1,000 records",
                f"{reads} reads / {processed} records = {per_thousand:.2f}‰",
                per_thousand <= 1,
            )
        )
        first, rerun = results["checks"]["first_sync_wall"], results["checks"]["rerun_wall"]
        share = rerun / first if first else float("inf")
        out.append(
            Target(
                "no-change rerun wall ≤ 5% of first sync",
                f"{rerun:.2f} s / {first:.2f} s = {share:.1%}",
                share <= 0.05,
            )
        )
    checks = results["checks"]
    if "edit_exact" in checks:
        out.append(
            Target(
                "1% invoices edited → exactly those updated",
                f"{len(checks['edited_invoices'])} edited, {len(checks['updated_invoices'])} updated",
                bool(checks["edit_exact"]),
            )
        )
    all_rows = results["measurements"]
    failed_429 = sum(m["failed_429"] for m in all_rows)
    out.append(
        Target(
            "zero records failed by 429",
            f"{failed_429} (429s seen: {sum(m['rejected_429'] for m in all_rows)})",
            failed_429 == 0,
        )
    )
    over = [m for m in all_rows if m["peak_in_flight"] > m["concurrency"]]
    worst = max((m["peak_in_flight"] - m["concurrency"] for m in all_rows), default=0)
    out.append(
        Target(
            "sandbox peak in-flight never exceeds C",
            "ok" if not over else f"{len(over)} runs over, worst +{worst}",
            not over,
        )
    )
    probes = {p["scale"]: p for p in results.get("probes", [])}
    if 1.0 in probes and 10.0 in probes:
        ratio = probes[10.0]["peak_rss_mb"] / probes[1.0]["peak_rss_mb"]
        out.append(
            Target(
                "peak RSS scale 10 ≤ 1.5 × scale 1",
                f"{probes[10.0]['peak_rss_mb']:.0f} / {probes[1.0]['peak_rss_mb']:.0f} MB = {ratio:.2f}",
                ratio <= 1.5,
            )
        )
    else:
        out.append(Target("peak RSS scale 10 ≤ 1.5 × scale 1", "not run", None))
    firsts = [m for m in _rows(results, "first sync", 5) if m["operation"] in EXPORT_OPERATIONS]
    records = sum(m["records"] for m in firsts)
    cpu = sum(m["cpu"] for m in firsts)
    cpu_ms = 1000 * cpu / records if records else float("inf")
    out.append(
        Target("local CPU ≤ 2 ms per exported record (first sync C=5)", f"{cpu_ms:.2f} ms", cpu_ms <= 2)
    )
    for scale, p in sorted(probes.items()):
        value = p["cpu_ms_per_record"]
        out.append(
            Target(
                f"local CPU ≤ 2 ms per exported record (scale {scale:g})",
                f"{value:.2f} ms" if value is not None else "no records",
                value is not None and value <= 2,
            )
        )
    engine = next((m for m in firsts if m["operation"] == "export_customers"), None)
    baseline = next(iter(_rows(results, "baseline (b) naive")), None)
    if engine and baseline and baseline["records_per_second"]:
        speedup = engine["records_per_second"] / baseline["records_per_second"]
        out.append(
            Target("engine C=5 ≥ 4× naive baseline (export customers)", f"{speedup:.1f}×", speedup >= 4)
        )
    from bench import live

    return out + live.targets(results)


def render_targets(found: list[Target]) -> str:
    return "\n".join(f"  [{t.verdict}] {t.name}: {t.figure}" for t in found)


def write_json(results: dict, found: list[Target], path: Path) -> None:
    payload = {
        **results,
        "targets": [{"name": t.name, "figure": t.figure, "verdict": t.verdict} for t in found],
    }
    path.write_text(json.dumps(payload, indent=2, default=str))


def plot(results: dict, path: Path) -> None:
    """Records per second against C for each export, with the line NetSuite allows (C / L)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    latency = results["plan"]["latency"]
    first = [
        m
        for m in results["measurements"]
        if m["label"].startswith(("first sync", "baseline (a)")) and m["operation"] in EXPORT_OPERATIONS
    ]
    limits = sorted({m["concurrency"] for m in first}) or [1, 5, 15]
    figure, axes = plt.subplots(figsize=(7, 4.5))
    axes.plot(limits, [c / latency for c in limits], "k--", label=f"limit C / L (L = {latency:g} s)")
    for operation in EXPORT_OPERATIONS:
        points = sorted(
            (m["concurrency"], m["records_per_second"]) for m in first if m["operation"] == operation
        )
        if points:
            axes.plot(*zip(*points, strict=True), "o-", label=operation.replace("_", " "))
    naive = [m for m in results["measurements"] if m["label"] == "baseline (b) naive"]
    if naive:
        axes.plot([1], [naive[0]["records_per_second"]], "rx", markersize=10, label="naive script (b)")
    axes.set_xlabel("NetSuite concurrency limit C")
    axes.set_ylabel("records per second")
    axes.set_title("Export throughput against NetSuite's limit")
    axes.set_xticks(limits)
    axes.grid(alpha=0.3)
    axes.legend(fontsize=8)
    figure.tight_layout()
    figure.savefig(path, dpi=110)
    plt.close(figure)
