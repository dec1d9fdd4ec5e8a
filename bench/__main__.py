"""``python -m bench [--scale N] [--latency 0.1] [--quick] [--live-only | --import-only]``: how close the engine runs to NetSuite's limit.

Prints the table and the targets, and writes ``bench/results.json`` and ``bench/throughput.png``.
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    parser.add_argument(
        "--scale", type=float, default=1.0, help="multiplies the generated ISP (1 = 1,000 customers)"
    )
    parser.add_argument("--latency", type=float, default=0.1, help="NetSuite seconds per request (L)")
    parser.add_argument(
        "--quick", action="store_true", help="plumbing only: no C sweep beyond 5, no scale probes"
    )
    parser.add_argument("--customers", type=int, help="exact customer count (overrides --scale)")
    parser.add_argument("--probe-latency", type=float, default=0.0, help="L for the scale probes")
    parser.add_argument("--probe-concurrency", type=int, default=15, help="C for the scale probes")
    parser.add_argument("--out", type=Path, default=HERE, help="folder for results.json and throughput.png")
    parser.add_argument("--live-only", action="store_true", help="only the live sync (webhook) scenarios")
    parser.add_argument(
        "--import-only",
        action="store_true",
        help="only the payment import (and the customer export it needs)",
    )
    parser.add_argument("--workdir", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--probe", action="store_true", help=argparse.SUPPRESS)  # child of a scale probe
    parser.add_argument("--probe-out", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)

    from bench import live, report, scenario

    if args.probe:
        result = scenario.probe(args.scale, args.latency, args.probe_concurrency, args.workdir)
        args.probe_out.write_text(json.dumps(result))
        return 0

    plan = scenario.Plan(
        scale=args.scale,
        latency=args.latency,
        quick=args.quick,
        customers=args.customers,
        probe_latency=args.probe_latency,
        probe_concurrency=args.probe_concurrency,
    )
    if args.quick:
        plan.sweep = (5,)
    if args.workdir:
        args.workdir.mkdir(parents=True, exist_ok=True)
        plan.workdir = args.workdir
    echo = lambda line="": print(line, flush=True)  # noqa: E731
    started = time.perf_counter()
    try:
        if args.import_only:
            results = scenario.import_only(plan, echo)
        else:
            results = scenario.live_only(plan, echo) if args.live_only else scenario.main_run(plan, echo)
        results["probes"] = []
        if not args.quick and not args.live_only and not args.import_only:
            for scale in plan.probe_scales:
                echo(
                    f"Scale probe {scale:g} (child process, L={plan.probe_latency}s, C={plan.probe_concurrency})"
                )
                results["probes"].append(scenario.run_probe_in_child(scale, plan))
                p = results["probes"][-1]
                echo(
                    f"  {p['records']} records, {p['cpu_ms_per_record']:.2f} ms CPU/record, "
                    f"peak RSS {p['peak_rss_mb']:.0f} MB, {p['wall']:.1f} s"
                )
    finally:
        shutil.rmtree(plan.workdir, ignore_errors=True)
    results["total_wall"] = time.perf_counter() - started

    if args.import_only:
        found = report.efficiency_targets(results)
    else:
        found = live.targets(results) if args.live_only else report.targets(results)
    args.out.mkdir(parents=True, exist_ok=True)
    report.write_json(results, found, args.out / "results.json")
    report.plot(results, args.out / "throughput.png")
    echo()
    echo(report.table(results["measurements"]))
    if results["probes"]:
        echo()
        echo(report.table([m for p in results["probes"] for m in p["measurements"]]))
    echo()
    echo("Targets:")
    echo(report.render_targets(found))
    echo(
        f"\nTotal {results['total_wall']:.0f} s; wrote {args.out / 'results.json'} and {args.out / 'throughput.png'}"
    )
    return 0 if all(t.passed is not False for t in found) else 1


if __name__ == "__main__":
    sys.exit(main())
