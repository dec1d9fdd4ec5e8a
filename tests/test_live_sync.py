"""Live sync over real HTTP: the Splynx sandbox sends signed webhooks to the add-on's receiver,
which stores them and starts targeted, coalesced runs (in-process here; RQ in test_live_sync_rq).
"""

from __future__ import annotations

import hashlib
import hmac

import pytest
import requests

from addon.sync.links import external_id
from sandbox.splynx.hooks import body_of, issue_invoices
from tests.plugins.jobs import wait_for
from tests.plugins.live import SECRET, events, live_runs, quiet, settled, synced_ids

INVOICE_MODEL = "models\\admin\\finance\\Invoices"


def sign(body: bytes, secret: str = SECRET) -> str:
    return hmac.new(secret.encode(), body, hashlib.sha1).hexdigest()


def event_payload(model: str = INVOICE_MODEL, record_id: int = 1, action: str = "create") -> dict:
    return {
        "type": "event",
        "data": {
            "source": "admin",
            "model": model,
            "action": action,
            "date": "2026-12-01",
            "time": "10:00:00",
            "administrator_id": "1",
            "customer_id": "1",
            "result": "success",
            "attributes": {"id": str(record_id), "customer_id": "1", "number": "X-1"},
            "attributes_additional": [],
            "changed_attributes": None,
        },
    }


@pytest.fixture
def live(export_ready, receiver):
    """Mapped and configured, live sync on for invoices, the sandbox's hook pointed at us."""
    export_ready.env.settings(splynx_hook_secret=SECRET, live_invoice=True, live_debounce="0.1")
    return export_ready


def post(url: str, payload: dict, content: str = "json", signature: str | None = "right", **headers):
    body = body_of(payload, content)
    mime = {"json": "application/json", "form": "application/x-www-form-urlencoded"}[content]
    sent = {"Content-Type": mime, **headers}
    if signature == "right":
        sent["X-Splynx-Signature"] = sign(body)
    elif signature is not None:
        sent["X-Splynx-Signature"] = signature
    return requests.post(url, data=body, headers=sent, timeout=10)


@pytest.mark.parametrize("content", ["json", "form"])
def test_only_a_body_signed_with_the_hook_secret_is_stored(configured, receiver, content):
    configured.settings(splynx_hook_secret=SECRET)
    payload = event_payload()
    forged = sign(body_of(payload, content), "another-secret")
    for signature in (None, "", forged, "0" * 40, "not hex at all é".encode("latin-1")):
        answer = post(receiver, payload, content, signature=signature)
        assert answer.status_code == 401, (signature, answer.text)
    assert events() == []
    answer = post(receiver, payload, content)
    assert answer.status_code == 200, answer.text
    [stored] = events()
    assert (stored.entity, stored.billing_id, stored.action) == ("invoice", "1", "create")
    # Live sync is off by default: stored, and set aside with a count.
    assert stored.status == "ignored"


def test_a_receiver_without_a_secret_refuses_everything(configured, receiver):
    answer = post(receiver, event_payload(), signature=sign(body_of(event_payload(), "json"), ""))
    assert answer.status_code == 401
    assert events() == []


def test_ping_oversize_content_types_and_other_types(configured, receiver):
    configured.settings(splynx_hook_secret=SECRET)
    assert post(receiver, {"type": "ping"}).status_code == 200
    assert post(receiver, {"type": "ping"}, "form").status_code == 200
    big = event_payload()
    big["data"]["attributes"]["note"] = "x" * 300_000
    answer = post(receiver, big)
    assert answer.status_code == 413
    body = b"type=ping"
    answer = requests.post(
        receiver,
        data=body,
        headers={"Content-Type": "text/plain", "X-Splynx-Signature": sign(body)},
        timeout=10,
    )
    assert answer.status_code == 415
    assert post(receiver, {"type": "surprise"}).status_code == 400
    body = b"[1, 2]"
    answer = requests.post(
        receiver,
        data=body,
        headers={"Content-Type": "application/json", "X-Splynx-Signature": sign(body)},
        timeout=10,
    )
    assert answer.status_code == 400 and "Traceback" not in answer.text
    assert events() == []


def test_unknown_models_are_stored_ignored_and_counted(live, receiver):
    from addon.sync.live import live_status

    for model in (
        "models\\admin\\tariffs\\Internet",
        "models\\admin\\customers\\CustomerPaymentAccounts",
        "",
    ):
        assert post(receiver, event_payload(model=model)).status_code == 200
    assert [e.status for e in events()] == ["unknown"] * 3
    assert live_status().unknown == 3
    assert live_runs() == []


@pytest.mark.parametrize(("content", "models"), [("json", "models"), ("form", "api"), ("json", "short")])
def test_an_invoice_issued_in_splynx_reaches_netsuite_in_a_live_run(live, receiver, content, models):
    splynx = live.env.splynx.state
    splynx.hooks.add(receiver, SECRET, content=content, models=models)
    [invoice_id] = issue_invoices(splynx, 1)
    # The NetSuite id written back into the invoice's attribute is a change Splynx reports too.
    quiet(splynx)
    [event, *_] = events(entity="invoice")
    assert (event.status, event.billing_id, event.action) == ("done", str(invoice_id), "create")
    run, *echo = live_runs()
    assert (run.operation, run.status, run.trigger) == ("live_invoices", "succeeded", "live")
    assert run.counts.get("created") >= 1
    assert all(later.counts == {"unchanged": 1} for later in echo)
    exported = [
        r for r in live.ns_records("invoice") if r.get("externalId") == external_id("invoice", invoice_id)
    ]
    assert len(exported) == 1
    # Only the invoice named (and its customer) was looked at, not the sandbox's other invoices;
    # the invoice counts twice when the echo of its write-back is claimed by the same run.
    assert run.total <= 3 < len(live.env.splynx.state.all("invoices"))


def test_the_dashboard_lists_a_live_run_linked_to_its_own_log_rows(live, receiver, client, auth):
    splynx = live.env.splynx.state
    splynx.hooks.add(receiver, SECRET)
    [invoice_id] = issue_invoices(splynx, 1)
    quiet(splynx)
    run, *_ = live_runs()
    auth.login()
    page = client.get("/netsuite/").get_data(as_text=True)
    table = page[page.index('id="live-runs"') :].split("</table>", 1)[0]
    assert f'href="/netsuite/logs?run={run.id}"' in table
    logs = client.get(f"/netsuite/logs?run={run.id}").get_data(as_text=True)
    assert f">{invoice_id}<" in logs or f"/{invoice_id}" in logs


def test_a_replayed_event_changes_nothing(live, receiver):
    splynx = live.env.splynx.state
    splynx.hooks.add(receiver, SECRET)
    [invoice_id] = issue_invoices(splynx, 1)
    quiet(splynx)
    writes, before = live.writes(), len(events())
    record = splynx.get("invoices", invoice_id)
    for _ in range(3):  # Splynx retrying a delivery, or sending the same change twice
        splynx.hooks.emit("invoices", "create", record)
    quiet(splynx)
    assert len(events()) == before + 3
    assert live.writes() == writes
    last = live_runs()[-1]
    assert last.counts == {"unchanged": 1}
    assert (
        len(
            [
                r
                for r in live.ns_records("invoice")
                if r.get("externalId") == external_id("invoice", invoice_id)
            ]
        )
        == 1
    )


def test_a_delete_event_of_a_synced_invoice_is_reported(live, receiver):
    from sqlalchemy import select

    from addon.extension import session
    from addon.models import Link, LogEntry, Problem

    splynx = live.env.splynx.state
    splynx.hooks.add(receiver, SECRET)
    [invoice_id] = issue_invoices(splynx, 1)
    quiet(splynx)
    splynx.delete("invoices", invoice_id)
    quiet(splynx)
    session().expire_all()
    link = session().scalar(select(Link).where(Link.entity == "invoice", Link.billing_id == str(invoice_id)))
    assert link.status == "deleted_in_billing"
    run = live_runs()[-1]
    row = session().scalar(select(LogEntry).where(LogEntry.run_id == run.id))
    assert row.action == "deleted_in_billing" and "needs attention" in row.message
    assert session().scalar(select(Problem).where(Problem.kind == "deleted_in_billing")) is not None


def test_with_the_toggle_off_events_are_stored_ignored_and_shown(live, receiver, client, auth):
    from addon.sync.live import live_status

    live.env.settings(live_invoice=False)
    splynx = live.env.splynx.state
    splynx.hooks.add(receiver, SECRET)
    issue_invoices(splynx, 2)
    assert splynx.hooks.wait_idle()
    assert [e.status for e in events()] == ["ignored", "ignored"]
    assert live_status().ignored == 2
    assert live_runs() == []
    auth.login()
    page = client.get("/netsuite/").get_data(as_text=True)
    assert "2 events ignored" in page


def test_a_burst_of_500_invoices_becomes_a_handful_of_runs_with_one_request_each(live, receiver):
    splynx = live.env.splynx.state
    state = live.env.netsuite.state
    assert live.run("export_customers").status in ("succeeded", "partial")
    state.counters.requests.clear()
    writes = state.counters.writes
    splynx.hooks.add(receiver, SECRET)
    live.env.settings(splynx_accounting_id_attribute="")  # no write-backs: only the burst's events
    # For customers already in NetSuite, as after the first full sync.
    created = issue_invoices(splynx, 500, customer_ids=synced_ids("customer"))
    wait_for(lambda: len(events()) == 500 and settled(), "the burst", timeout=300)
    assert {e.status for e in events()} == {"done"}
    runs = live_runs()
    assert 1 <= len(runs) <= 5, [(r.id, r.result) for r in runs]
    assert sum(r.counts.get("created", 0) for r in runs) == 500
    assert state.counters.writes - writes == 500
    assert sum(state.counters.requests.values()) == 500, dict(state.counters.requests)
    ids = {external_id("invoice", i) for i in created}
    assert len([r for r in live.ns_records("invoice") if r.get("externalId") in ids]) == 500


def test_a_burst_streams_into_the_running_export_keeping_every_slot_busy(live, receiver):
    """Events arriving while the live run's writes are in flight join the same export (one
    segment, no draining between batches), which keeps NetSuite's limit full: one request each."""
    splynx = live.env.splynx.state
    state = live.env.netsuite.state
    limit = 4
    assert live.run("export_customers").status in ("succeeded", "partial")
    # A window long enough that a loaded machine's gaps between deliveries never end the run.
    live.env.settings(netsuite_concurrency=limit, splynx_accounting_id_attribute="", live_debounce="0.5")
    created = issue_invoices(splynx, 60, customer_ids=synced_ids("customer"))  # no hook yet: no events
    state.counters.requests.clear()
    state.counters.peak_in_flight = 0
    writes = state.counters.writes
    state.latency = 0.3  # each write in flight long enough to be seen
    splynx.hooks.add(receiver, SECRET, content="form")
    first, later = created[:8], created[8:]
    for invoice_id in first:
        splynx.hooks.emit("invoices", "create", splynx.get("invoices", invoice_id))
    wait_for(lambda: state.counters.in_flight > 1, "the first events' writes in flight")
    in_flight_while_arriving = state.counters.in_flight
    for invoice_id in later:
        splynx.hooks.emit("invoices", "create", splynx.get("invoices", invoice_id))
    wait_for(lambda: len(events()) == 60 and settled(), "the burst", timeout=300)
    state.latency = 0
    assert in_flight_while_arriving > 1
    [run] = live_runs()
    assert run.result["events"] == 60
    assert run.result["batches"] == 1, run.result  # streamed into one export, never drained between
    assert state.counters.peak_in_flight == limit
    assert state.counters.writes - writes == 60
    assert sum(state.counters.requests.values()) == 60, dict(state.counters.requests)
    assert {e.status for e in events()} == {"done"}
    ids = {external_id("invoice", i) for i in created}
    assert len([r for r in live.ns_records("invoice") if r.get("externalId") in ids]) == 60


def test_a_live_run_waits_for_a_running_full_sync(live, receiver):
    from addon.extension import session
    from addon.models import SyncRun
    from addon.sync.operations import lane_of
    from jobs.live import _submit, after_run

    blocking = SyncRun(operation="sync", status="running", trigger="manual", lane=lane_of("sync"))
    session().add(blocking)
    session().commit()
    splynx = live.env.splynx.state
    splynx.hooks.add(receiver, SECRET)
    issue_invoices(splynx, 1)
    assert splynx.hooks.wait_idle()
    wait_for(lambda: events(status="waiting"), "the event")
    # What the window's end does: the full sync is running, so the live run waits.
    assert _submit("invoice") == "waiting for a run"
    assert live_runs() == []
    blocking = session().get(SyncRun, blocking.id)
    blocking.status = "succeeded"
    session().commit()
    after_run("sync", "succeeded")
    wait_for(lambda: live_runs() and settled(), "the live run after the full sync")
    quiet(splynx)
    assert {e.status for e in events(entity="invoice")} == {"done"}


def test_config_page_shows_the_url_to_paste_into_splynx(configured, client, auth):
    auth.login()
    page = client.get("/netsuite/config").get_data(as_text=True)
    assert "/netsuite/hooks/splynx" in page


@pytest.mark.parametrize("direction", ["splynx_to_netsuite", "netsuite_to_splynx"])
def test_a_payment_event_follows_the_payment_direction(live, receiver, direction):
    live.env.settings(live_payment=True, payment_direction=direction, splynx_accounting_id_attribute="")
    splynx = live.env.splynx.state
    assert live.run("export_customers").status in ("succeeded", "partial")
    customer = synced_ids("customer")[0]
    splynx.hooks.add(receiver, SECRET, models="short")
    payment = splynx.add_payment(int(customer), "12.50")
    quiet(splynx)
    [event] = events(entity="payment")
    assert (event.action, event.status) == ("add", "done")
    [run] = live_runs()
    assert run.operation == "live_payments"
    sent = [
        r
        for r in live.ns_records("customerPayment")
        if r.get("externalId") == external_id("payment", payment["id"])
    ]
    if direction == "splynx_to_netsuite":
        assert len(sent) == 1 and run.counts == {"created": 1}
    else:
        assert sent == [] and run.result["exported"] == {"not_exported": f"payment direction is {direction}"}
