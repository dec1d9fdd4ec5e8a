"""What a benchmark run stands on: the two sandboxes in their own processes, the engine in
this process against a temporary SQLite database, and one way to measure an operation.

The sandboxes run as subprocesses so their CPU never counts as ours and their threads
never compete with the engine for this interpreter's GIL; the engine is configured
exactly as an operator configures it (module settings), and every figure about NetSuite
traffic (requests, 429s, peak in-flight) is read from the sandbox's own counters.
"""

from __future__ import annotations

import json
import os
import resource
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import requests

LOOPBACK = "127.0.0.1"
START_TIMEOUT = 120.0  # a scale-10 Splynx dataset takes a while to generate
EXPORT_OPERATIONS = ("export_customers", "export_invoices", "export_credit_notes", "export_payments")
ENTITY_OF = {
    "export_customers": "customer",
    "export_invoices": "invoice",
    "export_credit_notes": "credit_note",
    "export_payments": "payment",
    "import_payments": "payment",
}
WRITE_OUTCOMES = ("created", "updated", "imported")


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind((LOOPBACK, 0))
        return probe.getsockname()[1]


def peak_rss_mb() -> float:
    """This process's peak resident set size (Linux reports ru_maxrss in KiB)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


# -- sandbox processes -----------------------------------------------------------------------------


class SandboxProcess:
    """A sandbox server started as ``python -m <module> ...``; stopped with ``stop()``."""

    def __init__(self, module: str, args: list[str], workdir: Path, name: str):
        self.port = free_port()
        self.credentials_file = workdir / f"{name}-{self.port}.json"
        self.log_file = (workdir / f"{name}-{self.port}.log").open("wb")
        command = [sys.executable, "-m", module, "--port", str(self.port), *args]
        command += ["--credentials-out", str(self.credentials_file)]
        self.process = subprocess.Popen(command, stdout=self.log_file, stderr=subprocess.STDOUT)
        self.url = f"http://{LOOPBACK}:{self.port}"
        self.credentials = self._wait_ready(name)

    def _wait_ready(self, name: str) -> dict:
        deadline = time.monotonic() + START_TIMEOUT
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(
                    f"{name} sandbox exited with {self.process.returncode}; see {self.log_file.name}"
                )
            if self.credentials_file.exists():
                try:
                    with socket.create_connection((LOOPBACK, self.port), timeout=0.5):
                        return json.loads(self.credentials_file.read_text())
                except (OSError, ValueError):
                    pass
            time.sleep(0.05)
        self.stop()
        raise RuntimeError(f"{name} sandbox did not start within {START_TIMEOUT:.0f} s")

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self.log_file.close()


class NetSuiteProcess(SandboxProcess):
    """NetSuite sandbox with per-request latency and an account concurrency limit."""

    def __init__(self, workdir: Path, latency: float, concurrency: int):
        # --isp-extras: the voice item and 7.5% VAT code the generated ISP needs, as in the demo;
        # a SuiteTax account, so the exports measured are the SuiteTax-with-override ones.
        args = ["--latency", str(latency), "--concurrency", str(concurrency), "--isp-extras"]
        args += ["--profile", "suitetax-oneworld"]
        super().__init__("sandbox.netsuite", args, workdir, "netsuite")
        self.latency, self.concurrency = latency, concurrency
        self._http = requests.Session()

    def stats(self) -> dict:
        """The sandbox's counters: requests by kind, writes, rejected_429, peak_in_flight."""
        response = self._http.get(self.url + "/__sandbox/stats", timeout=10)
        response.raise_for_status()
        return response.json()

    def reset(self) -> None:
        self._http.post(self.url + "/__sandbox/reset", timeout=10).raise_for_status()

    def settings(self, concurrency: int) -> dict:
        c = self.credentials
        return {
            "netsuite_account_id": c["account_id"],
            "netsuite_auth_mode": "tba",
            "netsuite_consumer_key": c["consumer_key"],
            "netsuite_consumer_secret": c["consumer_secret"],
            "netsuite_token_id": c["token_id"],
            "netsuite_token_secret": c["token_secret"],
            "netsuite_base_url": self.url,
            "netsuite_concurrency": concurrency,
        }

    def client(self, concurrency: int = 1):
        """A NetSuiteClient of its own (for seeding NetSuite-side payments)."""
        from addon.netsuite import NetSuiteClient
        from addon.settings import spec_by_key
        from addon.sync.context import netsuite_config

        values = {key: spec.default for key, spec in spec_by_key().items()}
        values.update(self.settings(concurrency))
        return NetSuiteClient(netsuite_config(values))


class SplynxProcess(SandboxProcess):
    """Splynx sandbox holding a generated ISP (~3 invoices, 0.3 credit notes, 2.5 payments per customer).

    The ISP is as tidy as the demo's (messiness 0.25): the benchmark measures throughput, and a
    third of customers held back for missing fields would leave a third of the work unmeasured.
    """

    def __init__(self, workdir: Path, customers: int, seed: int = 1):
        args = ["--customers", str(customers), "--seed", str(seed), "--messiness", "0.25", "--quirks", "1"]
        super().__init__("sandbox.splynx", args, workdir, "splynx")
        self.customers = customers

    def settings(self) -> dict:
        c = self.credentials
        return {"splynx_url": c["url"], "splynx_api_key": c["api_key"], "splynx_api_secret": c["api_secret"]}

    def client(self):
        from addon.splynx import SplynxClient, SplynxConfig

        c = self.credentials
        return SplynxClient(SplynxConfig(base_url=c["url"], api_key=c["api_key"], api_secret=c["api_secret"]))


# -- the engine ------------------------------------------------------------------------------------


class Engine:
    """The add-on inside the standalone app, on a fresh SQLite database, app context pushed."""

    def __init__(self, workdir: Path):
        from addon.models import Base
        from portal import db
        from wsgi import create_app

        self.folder = Path(tempfile.mkdtemp(prefix="engine-", dir=workdir))
        os.environ.pop("REDIS_URL", None)
        self.app = create_app(
            {
                "SQLALCHEMY_DATABASE_URI": f"sqlite:///{self.folder / 'bench.sqlite'}",
                "SECRET_KEY": "bench-secret-key",
                # One in-process governor: the benchmark process is the only NetSuite caller.
                "NETSUITE_ADDON_REDIS_URL": None,
            }
        )
        self._context = self.app.app_context()
        self._context.push()
        db.create_all()
        Base.metadata.create_all(db.engine)

    def configure(self, netsuite: NetSuiteProcess, splynx: SplynxProcess, concurrency: int) -> None:
        from addon import settings

        settings.put_many({**netsuite.settings(concurrency), **splynx.settings()})

    def set_concurrency(self, concurrency: int) -> None:
        from addon import settings

        settings.put_many({"netsuite_concurrency": concurrency})

    def prepare_mappings(self) -> None:
        """Mappings an accountant would set up: lists, categories by name, taxes and methods."""
        from demo.__main__ import map_remaining_by_name

        for step in ("load_mappings", "automap_categories"):
            run = self.run(step)
            if run.status not in ("succeeded", "partial"):
                raise RuntimeError(f"{step} {run.status}: {run.message}")
        map_remaining_by_name(lambda _line: None)
        self._map_leftovers()
        self._choose_subsidiary()

    def _map_leftovers(self) -> None:
        """Whatever name and rate matching left unmapped goes to the first NetSuite choice, so
        documents are not held back by them (the sandbox has no item named "Voice"). Tax rates stay
        mapped by percentage only: a wrong rate would change the totals."""
        from sqlalchemy import select

        from addon.extension import session
        from addon.models import ListCache, Mapping
        from addon.sync.context import SyncContext
        from addon.sync.mappings import MAPPING_KINDS, save_mapping

        ctx = SyncContext.from_settings()
        for kind in ("category", "payment_method"):
            spec = MAPPING_KINDS[kind]
            first = session().scalar(
                select(ListCache.netsuite_id)
                .where(ListCache.kind == spec.netsuite_list)
                .order_by(ListCache.id)
            )
            mapped = set(session().scalars(select(Mapping.billing_id).where(Mapping.kind == kind)))
            for billing_id, name in spec.billing_rows(ctx):
                if billing_id not in mapped and first is not None:
                    save_mapping(kind, billing_id, first, billing_name=name)

    def _choose_subsidiary(self) -> None:
        """New customers go to the first (parent) subsidiary, as an accountant would set it."""
        from sqlalchemy import select

        from addon import settings
        from addon.extension import session
        from addon.models import ListCache

        first = session().scalar(
            select(ListCache.netsuite_id).where(ListCache.kind == "subsidiary").order_by(ListCache.id)
        )
        if first is not None:
            settings.put_many({"subsidiary": first})

    def run(self, operation: str, **params):
        from addon.sync.operations import run_operation

        return run_operation(operation, trigger="manual", params=params)

    def billing_ids(self, run_id: int, outcome: str) -> set[str]:
        """Billing ids the run reported with ``outcome``."""
        from sqlalchemy import select

        from addon.extension import session
        from addon.models import LogEntry

        rows = session().scalars(
            select(LogEntry.billing_id).where(LogEntry.run_id == run_id, LogEntry.outcome == outcome)
        )
        return {str(row) for row in rows}

    def failures(self, run_id: int) -> list[str]:
        from sqlalchemy import select

        from addon.extension import session
        from addon.models import LogEntry

        rows = session().scalars(
            select(LogEntry.message).where(LogEntry.run_id == run_id, LogEntry.outcome == "failed")
        )
        return [row or "" for row in rows]

    def close(self) -> None:
        from addon.extension import session

        session().remove()
        self._context.pop()


# -- one measured operation ------------------------------------------------------------------------


@dataclass
class Measurement:
    """One operation run, with NetSuite's view of it from the sandbox counters."""

    label: str
    operation: str
    concurrency: int  # the account's limit C (the engine uses the same number of slots)
    latency: float
    status: str = ""
    outcomes: dict = field(default_factory=dict)
    records: int = 0  # records the operation wrote (created, updated, imported)
    processed: int = 0  # every record it reported, unchanged ones included
    wall: float = 0.0
    cpu: float = 0.0
    requests: int = 0
    writes: int = 0
    reads: int = 0
    rejected_429: int = 0
    peak_in_flight: int = 0
    failed: int = 0
    failed_429: int = 0
    peak_rss_mb: float = 0.0
    message: str = ""

    @property
    def records_per_second(self) -> float:
        return self.records / self.wall if self.wall else 0.0

    @property
    def requests_per_record(self) -> float | None:
        return self.requests / self.records if self.records else None

    @property
    def cpu_ms_per_record(self) -> float | None:
        count = self.records or self.processed
        return 1000 * self.cpu / count if count else None

    @property
    def bound(self) -> float | None:
        """N × L / C: the least time NetSuite allows for N writes (none without latency: the
        scale probes run at L = 0 to measure our own cost, with nothing to wait for)."""
        return self.records * self.latency / self.concurrency if self.latency else None

    @property
    def efficiency(self) -> float | None:
        return self.bound / self.wall if self.bound and self.wall else None

    def as_dict(self) -> dict[str, Any]:
        data = asdict(self)
        for name in ("records_per_second", "requests_per_record", "cpu_ms_per_record", "bound", "efficiency"):
            data[name] = getattr(self, name)
        return data


def measure(
    label: str,
    operation: str,
    netsuite: NetSuiteProcess,
    call: Callable[[], Any],
    *,
    engine: Engine | None = None,
) -> Measurement:
    """Run ``call`` (an engine operation or a baseline) and gather its figures.

    ``call`` returns the closed SyncRun for engine operations, or a dict of outcome counts
    for a baseline.
    """
    netsuite.reset()
    started_wall, started_cpu = time.perf_counter(), time.process_time()
    result = call()
    wall, cpu = time.perf_counter() - started_wall, time.process_time() - started_cpu
    stats = netsuite.stats()
    m = Measurement(label, operation, netsuite.concurrency, netsuite.latency, wall=wall, cpu=cpu)
    if isinstance(result, dict):
        m.status, m.outcomes = "done", dict(result)
    else:
        m.status, m.outcomes, m.message = result.status, dict(result.counts or {}), result.message or ""
        if engine is not None and m.outcomes.get("failed"):
            m.failed_429 = sum(1 for text in engine.failures(result.id) if _is_429(text))
    m.records = sum(m.outcomes.get(name, 0) for name in WRITE_OUTCOMES)
    m.processed = sum(m.outcomes.values())
    m.failed = m.outcomes.get("failed", 0)
    accepted = sum(stats["requests"].values())
    m.rejected_429 = stats["rejected_429"]
    m.requests = accepted + m.rejected_429  # a rejected request was still made
    m.writes = stats["writes"]
    m.reads = accepted - m.writes
    m.peak_in_flight = stats["peak_in_flight"]
    m.peak_rss_mb = peak_rss_mb()
    return m


def _is_429(message: str) -> bool:
    return "429" in message or "CONCURRENCY_LIMIT" in message.upper()
