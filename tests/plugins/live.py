"""Helpers of the live sync tests: the add-on's webhook receiver served over loopback, and
fresh reads of the stored events and the live runs."""

from __future__ import annotations

import threading

import pytest

from sandbox.server import serve_in_thread
from tests.plugins.jobs import wait_for

SECRET = "hook-secret-5f2a"


@pytest.fixture
def receiver(configured):
    """The add-on app itself served on loopback: what Splynx would POST to."""
    server = serve_in_thread(configured.app)
    yield server.url + "/netsuite/hooks/splynx"
    threading.Thread(target=server.stop, daemon=True).start()


def events(**where):
    from sqlalchemy import select

    from addon.extension import session
    from addon.models import HookEvent

    session().expire_all()
    query = select(HookEvent).order_by(HookEvent.id)
    for name, value in where.items():
        query = query.where(getattr(HookEvent, name) == value)
    return list(session().scalars(query))


def live_runs():
    from sqlalchemy import select

    from addon.extension import session
    from addon.models import SyncRun

    session().expire_all()
    return list(session().scalars(select(SyncRun).where(SyncRun.trigger == "live").order_by(SyncRun.id)))


def synced_ids(entity: str) -> list[str]:
    from addon.sync import links

    return list(links.synced_billing_ids(entity))


def settled():
    """Every event handled and every live run over."""
    return all(e.status not in ("waiting", "claimed") for e in events()) and all(
        r.status not in ("queued", "running") for r in live_runs()
    )


def quiet(splynx) -> None:
    """Until Splynx has sent everything (write-backs of NetSuite ids included) and it was handled."""
    while True:
        assert splynx.hooks.wait_idle()
        wait_for(lambda: events() and settled(), "the live runs")
        if splynx.hooks.wait_idle(0):
            return
