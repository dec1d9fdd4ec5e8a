"""The benchmark's plan: which syncs run against which sandboxes, in what order.

Every first sync runs on a fresh pair of sandboxes and a fresh engine database, so the
runs at C = 1, 5 and 15 and the naive baseline all see the same generated ISP and an
empty NetSuite account.
"""

from __future__ import annotations

import json
import multiprocessing
import subprocess
import sys
import tempfile
from concurrent.futures import ProcessPoolExecutor, ThreadPoolExecutor
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path

from bench import live, naive
from bench.harness import (
    EXPORT_OPERATIONS,
    Engine,
    Measurement,
    NetSuiteProcess,
    SplynxProcess,
    measure,
    peak_rss_mb,
)

BASE_CUSTOMERS = 1000  # ~3,000 invoices, 300 credit notes, 2,500 payments (sandbox.dataset)
FOREIGN_PAYMENTS_PER_CUSTOMER = 0.1  # NetSuite-side payments for the import measurement
EDITED_SHARE = 0.01
INVOICES_PATH = "admin/finance/invoices"


@dataclass
class Plan:
    """What to run; ``quick`` keeps one C and skips the scale probes (the smoke test)."""

    scale: float = 1.0
    latency: float = 0.1
    quick: bool = False
    seed: int = 1
    customers: int | None = None  # overrides scale × 1,000
    sweep: tuple[int, ...] = (1, 5, 15)
    sweep_operations_at_1: tuple[str, ...] = ("export_customers",)
    probe_scales: tuple[float, ...] = (1.0, 10.0)
    probe_latency: float = 0.0
    probe_concurrency: int = 15
    workdir: Path = field(default_factory=lambda: Path(tempfile.mkdtemp(prefix="bench-")))

    @property
    def n_customers(self) -> int:
        return self.customers or max(1, round(BASE_CUSTOMERS * self.scale))


class Stand:
    """Fresh sandboxes and a fresh engine configured against them, mappings in place."""

    def __init__(
        self, plan: Plan, concurrency: int, customers: int | None = None, latency: float | None = None
    ):
        self.netsuite = NetSuiteProcess(
            plan.workdir, plan.latency if latency is None else latency, concurrency
        )
        self.splynx = SplynxProcess(plan.workdir, customers or plan.n_customers, plan.seed)
        self.engine = Engine(plan.workdir)
        self.engine.configure(self.netsuite, self.splynx, concurrency)
        from addon import settings

        # Payments flow both ways so the import has something to do.
        settings.put_many({"payment_direction": "bidirectional"})
        self.engine.prepare_mappings()

    def measure(self, label: str, operation: str) -> Measurement:
        return measure(
            label, operation, self.netsuite, lambda: self.engine.run(operation), engine=self.engine
        )

    def close(self) -> None:
        self.engine.close()
        self.netsuite.stop()
        self.splynx.stop()

    def __enter__(self) -> Stand:
        return self

    def __exit__(self, *exc) -> None:
        self.close()


def seed_foreign_payments(stand: Stand, count: int) -> int:
    """Customer payments entered in NetSuite by hand (no ``splynx-`` external id), for the import."""
    from sqlalchemy import select

    from addon.extension import session
    from addon.models import Link

    customers = (
        session()
        .scalars(
            select(Link.netsuite_id)
            .where(Link.entity == "customer", Link.netsuite_id.is_not(None))
            .order_by(Link.id)
        )
        .all()
    )
    if not customers:
        return 0
    client = stand.netsuite.client(stand.netsuite.concurrency)

    def create(index: int) -> str:
        body = {
            "customer": {"id": customers[index % len(customers)]},
            "payment": str(Decimal("10.00") + index % 50),
            "tranDate": "2025-06-15",
            "memo": f"Cheque {100000 + index}",
            "autoApply": False,
        }
        return client.create("customerPayment", body)

    with ThreadPoolExecutor(stand.netsuite.concurrency) as pool:
        return len(list(pool.map(create, range(count))))


def edit_invoices(stand: Stand, share: float) -> set[str]:
    """Change one line description on ``share`` of the exported invoices, through Splynx's API.

    Only invoices that reached NetSuite are candidates: an invoice held back (unmapped tax
    rate, customer not exportable) would not be updated whatever the engine does.
    """
    from sqlalchemy import select

    from addon.extension import session
    from addon.models import Link

    exported = (
        session()
        .scalars(select(Link.billing_id).where(Link.entity == "invoice", Link.netsuite_id.is_not(None)))
        .all()
    )
    ids = sorted(int(billing_id) for billing_id in exported)
    count = max(1, round(len(ids) * share))
    client = stand.splynx.client()
    edited = set()
    for invoice_id in ids[:: max(1, len(ids) // count)][:count]:
        item = client.get(INVOICES_PATH, invoice_id)["items"][0]
        change = {"items": [{"id": item["id"], "description": item["description"] + " (edited)"}]}
        client.update(INVOICES_PATH, invoice_id, change)
        edited.add(str(invoice_id))
    return edited


def main_run(plan: Plan, echo) -> dict:
    """First sync, import, no-change rerun and 1 % edit at C = 5; then the sweep and baselines."""
    results: dict = {
        "plan": {
            "scale": plan.scale,
            "latency": plan.latency,
            "customers": plan.n_customers,
            "quick": plan.quick,
        },
        "measurements": [],
        "checks": {},
    }
    rows: list[Measurement] = []

    def keep(m: Measurement) -> Measurement:
        rows.append(m)
        echo(
            f"  {m.label:<22} {m.operation:<20} C={m.concurrency:<3} {m.records:>6} written in {m.wall:7.2f} s  "
            f"{m.requests} requests, eff " + (f"{m.efficiency:.2f}" if m.efficiency else "-")
        )
        if m.status not in ("succeeded", "done") or m.failed:
            echo(f"    {m.status} {m.outcomes} {m.message}")
        return m

    echo(f"First sync at C=5 ({plan.n_customers} customers, L={plan.latency}s)")
    with Stand(plan, 5) as stand:
        firsts = [keep(stand.measure("first sync", op)) for op in EXPORT_OPERATIONS]
        seeded = seed_foreign_payments(stand, max(2, round(plan.n_customers * FOREIGN_PAYMENTS_PER_CUSTOMER)))
        results["checks"]["foreign_payments_seeded"] = seeded
        keep(stand.measure("first sync", "import_payments"))
        reruns = [keep(stand.measure("no-change rerun", op)) for op in EXPORT_OPERATIONS]
        edited = edit_invoices(stand, EDITED_SHARE)
        edit = keep(stand.measure("1% invoices edited", "export_invoices"))
        updated = stand.engine.billing_ids(_last_run_id(), "updated")
        results["checks"]["edited_invoices"] = sorted(edited, key=int)
        results["checks"]["updated_invoices"] = sorted(updated, key=int)
        results["checks"]["edit_exact"] = updated == edited and edit.writes == len(edited)
    results["checks"]["first_sync_wall"] = sum(m.wall for m in firsts)
    results["checks"]["rerun_wall"] = sum(m.wall for m in reruns)
    live_rows, results["live"] = live.run(plan, echo)
    rows += live_rows

    # Baseline (b) spends its time waiting on NetSuite, as does the engine held to one request
    # (baseline a): the two run side by side, each against its own sandboxes and in its own
    # process (so CPU figures stay apart), which keeps make bench within its 15 minutes.
    with ProcessPoolExecutor(max_workers=1, mp_context=multiprocessing.get_context("spawn")) as side:
        naive_run = side.submit(naive_measurement, plan.workdir, plan.latency, plan.n_customers, plan.seed)
        for concurrency in sorted(plan.sweep):
            if concurrency == 5:
                continue
            operations = plan.sweep_operations_at_1 if concurrency == 1 else EXPORT_OPERATIONS
            label = "baseline (a) C=1" if concurrency == 1 else f"first sync C={concurrency}"
            if concurrency > 1 and not naive_run.done():
                echo("Baseline (b): naive sequential lookup + POST (waiting for it before loading the CPU)")
                keep(naive_run.result())
            echo(f"First sync at C={concurrency}")
            with Stand(plan, concurrency) as stand:
                for op in operations:
                    keep(stand.measure(label, op))
        if not any(m.label == "baseline (b) naive" for m in rows):
            echo("Baseline (b): naive sequential lookup + POST")
            keep(naive_run.result())

    results["measurements"] = [m.as_dict() for m in rows]
    return results


def import_only(plan: Plan, echo) -> dict:
    """Only the payment import at C = 5 (``python -m bench --import-only``), after the customer
    export it needs for its links, which is measured too as a yardstick on a loaded machine."""
    results: dict = {
        "plan": {
            "scale": plan.scale,
            "latency": plan.latency,
            "customers": plan.n_customers,
            "import_only": True,
        },
        "checks": {},
    }
    rows = []
    echo(f"Payment import at C=5 ({plan.n_customers} customers, L={plan.latency}s)")
    with Stand(plan, 5) as stand:
        for operation in ("export_customers", "import_payments"):
            if operation == "import_payments":
                count = max(2, round(plan.n_customers * FOREIGN_PAYMENTS_PER_CUSTOMER))
                results["checks"]["foreign_payments_seeded"] = seed_foreign_payments(stand, count)
            m = stand.measure("first sync", operation)
            rows.append(m)
            echo(
                f"  {m.operation:<18} {m.records:>6} records in {m.wall:6.2f} s, bound {m.bound or 0:.2f} s, "
                f"eff {m.efficiency or 0:.3f}, {m.requests_per_record or 0:.3f} requests/record, "
                f"{m.cpu_ms_per_record or 0:.2f} ms CPU/record  {m.status} {m.message}"
            )
    results["measurements"] = [m.as_dict() for m in rows]
    return results


def live_only(plan: Plan, echo) -> dict:
    """Only the live sync scenarios (``python -m bench --live-only``)."""
    rows, figures = live.run(plan, echo)
    return {
        "plan": {"latency": plan.latency, "customers": live.CUSTOMERS, "live_only": True},
        "measurements": [m.as_dict() for m in rows],
        "checks": {},
        "live": figures,
    }


def naive_measurement(workdir: Path, latency: float, customers: int, seed: int) -> Measurement:
    """Baseline (b) in its own process: the naive exporter against fresh sandboxes."""
    netsuite = NetSuiteProcess(workdir, latency, 5)
    splynx = SplynxProcess(workdir, customers, seed)
    try:
        return measure(
            "baseline (b) naive",
            "export_customers",
            netsuite,
            lambda: naive.export_customers(netsuite.credentials, netsuite.url, splynx.client()),
        )
    finally:
        netsuite.stop()
        splynx.stop()


def _last_run_id() -> int:
    from sqlalchemy import func, select

    from addon.extension import session
    from addon.models import SyncRun

    return session().scalar(select(func.max(SyncRun.id)))


# The two largest exports: memory that grew with the data would show in them first, and
# the scale-10 run of all four would not fit make bench's 15 minutes on two cores.
PROBE_OPERATIONS = ("export_customers", "export_invoices")


def probe(scale: float, latency: float, concurrency: int, workdir: Path) -> dict:
    """The largest exports at ``scale`` in this (child) process: per-record CPU and peak RSS."""
    plan = Plan(scale=scale, latency=latency, workdir=workdir)
    with Stand(plan, concurrency, latency=latency) as stand:
        rows = [stand.measure(f"scale {scale:g}", op) for op in PROBE_OPERATIONS]
    records = sum(m.records for m in rows)
    cpu = sum(m.cpu for m in rows)
    return {
        "scale": scale,
        "customers": plan.n_customers,
        "records": records,
        "cpu_seconds": cpu,
        "cpu_ms_per_record": 1000 * cpu / records if records else None,
        "wall": sum(m.wall for m in rows),
        "failed": sum(m.failed for m in rows),
        "peak_rss_mb": peak_rss_mb(),
        "measurements": [m.as_dict() for m in rows],
    }


def run_probe_in_child(scale: float, plan: Plan) -> dict:
    """``probe`` in a fresh interpreter, so each scale has its own RSS high-water mark."""
    out = plan.workdir / f"probe-{scale:g}.json"
    command = [
        sys.executable,
        "-m",
        "bench",
        "--probe",
        "--scale",
        str(scale),
        "--latency",
        str(plan.probe_latency),
        "--probe-concurrency",
        str(plan.probe_concurrency),
        "--probe-out",
        str(out),
        "--workdir",
        str(plan.workdir),
    ]
    subprocess.run(command, check=True)
    return json.loads(out.read_text())
