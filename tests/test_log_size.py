"""The log's size: unchanged records are counted on their run, not logged; old runs are swept."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import func, select

from addon.extension import session
from addon.models import Link, LogEntry, SyncRun, utcnow


def _count(model) -> int:
    return session().scalar(select(func.count()).select_from(model))


def test_ten_no_change_runs_grow_the_log_by_their_run_rows_only(export_ready):
    setup = export_ready
    first = setup.run("export_invoices")
    assert first.status == "succeeded", first.message
    synced = session().scalar(select(func.count()).select_from(Link).where(Link.entity == "invoice"))
    assert synced
    rows, runs = _count(LogEntry), _count(SyncRun)
    for _ in range(10):
        again = setup.run("export_invoices")
        assert again.counts.get("unchanged") == synced
    assert _count(LogEntry) == rows
    assert _count(SyncRun) == runs + 10
    # Each record's link says when it was last found unchanged.
    checked = session().scalars(select(Link.last_checked_at).where(Link.entity == "invoice")).all()
    assert all(at is not None and at >= again.started_at for at in checked)


def test_a_changed_record_is_still_logged(export_ready):
    setup = export_ready
    setup.run("export_customers")
    customer = next(c for c in setup.env.splynx.state.all("customers") if c["id"] in _linked("customer"))
    setup.env.splynx.state.update("customers", customer["id"], {"name": customer["name"] + " Jr"})
    again = setup.run("export_customers")
    logged = session().scalars(select(LogEntry).where(LogEntry.run_id == again.id)).all()
    assert [(row.billing_id, row.outcome) for row in logged] == [(str(customer["id"]), "updated")]


def _linked(entity: str) -> set[int]:
    return {int(b) for b in session().scalars(select(Link.billing_id).where(Link.entity == entity))}


def test_the_sweeper_applies_the_retention_but_keeps_each_operations_last_run(export_ready):
    from addon import settings
    from jobs.sweeper import sweep

    setup = export_ready
    settings.put("log_retention_days", 30)
    old, last_of_kind = setup.run("export_customers").id, setup.run("export_customers").id
    other_kind = setup.run("export_invoices").id
    recent = setup.run("export_invoices").id
    long_ago = utcnow() - timedelta(days=31)
    for run_id in (old, last_of_kind, other_kind):
        session().get(SyncRun, run_id).finished_at = long_ago
    session().commit()
    logged = select(func.count()).select_from(LogEntry).where(LogEntry.run_id == old)
    assert session().scalar(logged)
    sweep()
    remaining = set(session().scalars(select(SyncRun.id)))
    assert old not in remaining and other_kind not in remaining
    assert last_of_kind in remaining and recent in remaining  # the last of each operation stays
    assert not session().scalar(logged)
