"""Real worker processes importing NetSuite payments, SIGKILLed five times exactly between Splynx's
commit of a payment piece and the worker's link write, then left to finish: each NetSuite payment
must be in Splynx exactly once (docs/splynx-installations.md)."""

from __future__ import annotations

import random
import threading
from decimal import Decimal

import pytest

from tests.plugins.jobs import wait_for
from tests.reliability.workers import sigkill_tree

KILLS = 5
PAYMENTS = 50
SEED = 20251201
CREATES = ("admin/finance/payments", "admin/finance/bank-statements-records")

pytestmark = [pytest.mark.slow, pytest.mark.redis]


def test_kills_between_commit_and_link_leave_each_payment_in_splynx_once(make_isp, private_redis, workers):
    from sqlalchemy import select

    from addon.extension import session
    from addon.models import Link, SyncRun
    from addon.runs import run_progress
    from addon.sync.operations import run_operation
    from jobs import submit
    from jobs.locks import lock_holder
    from jobs.sweeper import sweep

    isp = make_isp(customers=20, invoices=30, payments=0)
    redis_url, redis_conn = private_redis
    app = isp.env.app
    splynx, store = isp.env.splynx.state, isp.env.netsuite.state.store
    assert run_operation("export_customers").status == "succeeded"
    assert run_operation("export_invoices").status == "succeeded"
    customers = {
        link.netsuite_id for link in session().scalars(select(Link).where(Link.entity == "customer"))
    }
    invoices = [
        (link.netsuite_id, link)
        for link in session().scalars(select(Link).where(Link.entity == "invoice"))
        if store.invoice_due(link.netsuite_id) > 0  # credit notes may have settled some already
    ]
    rng = random.Random(SEED)
    netsuite_ids = []
    for n in range(PAYMENTS):
        body = {"customer": {"id": rng.choice(sorted(customers))}, "tranDate": f"2025-05-{1 + n % 28:02d}",
                "payment": Decimal(rng.randint(500, 9000)) / 100, "account": {"id": "1"},
                "undepFunds": False, "autoApply": False}  # fmt: skip
        if n % 3 == 0:  # a third applied, each to an invoice of its own, for half of what it pays
            invoice_id, _ = invoices[(n // 3) % len(invoices)]
            invoice = store.get("invoice", invoice_id)
            entity = invoice["entity"]
            body["customer"] = {"id": entity["id"] if isinstance(entity, dict) else entity}
            applied = min(body["payment"], store.invoice_due(invoice_id)) / 2
            body["apply"] = {
                "items": [
                    {"doc": {"id": invoice_id}, "apply": True, "amount": applied.quantize(Decimal("0.01"))}
                ]
            }
        netsuite_ids.append(store.create("customerPayment", body).id)
    isp.env.settings(payment_direction="netsuite_to_splynx", import_from="2025-01-01")
    app.config["NETSUITE_ADDON_REDIS_URL"] = redis_url
    app.config["NETSUITE_ADDON_SWEEP_AFTER"] = 0

    # The kill lands inside the sandbox, after the commit and before the answer leaves.
    points = sorted(rng.sample(range(3, PAYMENTS - 5), KILLS))
    commits: list[str] = []
    target: dict = {}
    killed = threading.Event()

    def on_commit(method, path, response):
        if method == "POST" and path in CREATES:
            commits.append(path)
            if target.get("at") and len(commits) >= target["at"]:
                target["at"] = None  # one kill per run
                sigkill_tree(target["worker"])
                killed.set()

    splynx.on_commit = on_commit
    worker_env = {"NETSUITE_ADDON_LOCK_TTL": "1", "NETSUITE_ADDON_SWEEP_AFTER": "0"}
    for point in points:
        run = submit("import_payments")
        # Creates sent side by side may still land after a kill: count on from the last one.
        target.update(worker=workers(**worker_env), at=max(point, len(commits) + 1))
        wait_for(killed.is_set, f"the kill after Splynx's create #{point}", timeout=120)
        killed.clear()
        assert run_progress(run.id)["status"] == "running", "the run finished before the kill"
        wait_for(
            lambda: lock_holder(redis_conn, "import_payments") is None, "the dead worker's lock to lapse"
        )
        assert run.id in sweep()
    target.clear()

    final = submit("import_payments")
    workers(**worker_env)
    wait_for(lambda: run_progress(final.id)["finished"], "the last run to finish", timeout=180, interval=0.5)
    session().expire_all()
    assert session().get(SyncRun, final.id).status == "succeeded"

    keys = [p["receipt_number"] for p in splynx.all("payments")]
    keys += [r["additional_1"] for r in splynx.all("bank_statement_records")]
    keys = [key for key in keys if key.startswith("ns-payment-")]
    assert len(keys) == len(set(keys)), "a piece was created twice"
    assert {key.split(":")[0].removeprefix("ns-payment-") for key in keys} == set(netsuite_ids)
    links = session().scalars(select(Link).where(Link.entity == "payment", Link.origin == "netsuite")).all()
    assert len(links) == len(keys) and all(link.status == "synced" for link in links)
    assert len(commits) == len(keys)  # no create was ever sent twice: the dead runs' were resolved
    app.config["NETSUITE_ADDON_REDIS_URL"] = None
