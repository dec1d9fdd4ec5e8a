"""The full sync as phases of one run, on a realistic dataset."""

from __future__ import annotations

from decimal import Decimal

from sqlalchemy import func, select

from addon.extension import session
from addon.models import Link, LogEntry


def test_full_sync_dry_run_writes_nothing(export_ready):
    setup = export_ready
    run = setup.run("sync", dry_run=True)
    assert run.counts.get("would_create") and setup.writes() == 0
    assert session().scalar(select(func.count()).select_from(Link)) == 0
    entities = set(session().scalars(select(LogEntry.entity).where(LogEntry.run_id == run.id)))
    assert entities == {"customer", "invoice", "credit_note", "payment"}


def test_totals_reconcile_to_the_cent_on_500_customers(export_ready, make_splynx_sandbox):
    setup = export_ready
    setup.use_splynx(make_splynx_sandbox(customers=500, seed=7, invoices=500, credit_notes=20, payments=0))
    setup.env.netsuite.state.concurrency_limit = 8
    setup.env.settings(netsuite_concurrency=8, splynx_accounting_id_attribute="")
    run = setup.run("sync")
    assert run.status == "succeeded", (run.status, run.message)
    exported = {
        link.billing_id: link.netsuite_id
        for link in session().scalars(select(Link).where(Link.entity == "invoice"))
    }
    assert len(exported) > 300
    splynx = setup.env.splynx.state
    billing_sum = sum((Decimal(splynx.get("invoices", int(b))["total"]) for b in exported), Decimal(0))
    netsuite_sum = sum((setup.store.get("invoice", n)["total"] for n in exported.values()), Decimal(0))
    assert netsuite_sum == billing_sum
    assert len(setup.ns_records("invoice")) == len(exported)
    # Every NetSuite write is one exported record: nothing is written twice.
    assert setup.writes() == sum(run.counts.get(k, 0) for k in ("created", "updated"))


def test_second_full_sync_makes_no_netsuite_requests(export_ready):
    setup = export_ready
    first = setup.run("sync")
    assert first.counts.get("created")
    setup.env.netsuite.state.reset_counters()
    again = setup.run("sync")
    assert sum(setup.env.netsuite.state.counters.requests.values()) == 0
    assert not again.counts.get("created") and not again.counts.get("updated")
