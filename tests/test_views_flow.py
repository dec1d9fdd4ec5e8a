"""Dashboard runs, progress, mappings, pairing, logs and problems against both sandboxes."""

from __future__ import annotations

import re
import time


def _run(client, auth, operation: str) -> dict:
    response = client.post("/netsuite/run", data={"csrf_token": auth.csrf_token(), "operation": operation})
    assert response.status_code == 302
    html = client.get("/netsuite/").get_data(as_text=True)
    run_id = int(re.search(r"started \(run (\d+)\)", html).group(1))
    # The in-process executor runs it on its own thread; wait for the row to close.
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        progress = client.get(f"/netsuite/runs/{run_id}/progress").get_json()
        if progress["finished"]:
            return progress
        time.sleep(0.05)
    raise AssertionError(f"run {run_id} did not finish")


def test_unknown_operation_is_refused_with_a_message(client, auth):
    auth.login()
    client.post("/netsuite/run", data={"csrf_token": auth.csrf_token(), "operation": "drop_tables"})
    assert "Choose one of the operations" in client.get("/netsuite/").get_data(as_text=True)


def test_load_mappings_then_map_a_category_and_see_logs(client, auth, configured):
    auth.login()
    progress = _run(client, auth, "load_mappings")
    assert progress["status"] == "succeeded", progress
    dashboard = client.get("/netsuite/").get_data(as_text=True)
    assert "Last run" in dashboard

    page = client.get("/netsuite/mappings/categories").get_data(as_text=True)
    selects = re.findall(r'<select id="[^"]+" name="(map:category:\d+)">', page)
    assert selects, page[:2000]
    options = re.findall(r'<option value="(\d+)"', page)
    assert options
    response = client.post(
        "/netsuite/mappings/categories",
        data={"csrf_token": auth.csrf_token(), selects[0]: options[0]},
    )
    assert response.status_code == 302
    assert "Saved 1 mapping change" in client.get("/netsuite/mappings/categories").get_data(as_text=True)

    bad = client.post(
        "/netsuite/mappings/categories",
        data={"csrf_token": auth.csrf_token(), selects[0]: "999999999"},
    )
    assert bad.status_code == 302
    assert "Nothing was saved" in client.get("/netsuite/mappings/categories").get_data(as_text=True)


def test_logs_filter_paginate_and_csv(client, auth, app):
    from addon.extension import session
    from addon.models import LogEntry, SyncRun

    with app.app_context():
        run = SyncRun(operation="export_customers", status="partial")
        session().add(run)
        session().flush()
        for i in range(60):
            session().add(LogEntry(run_id=run.id, entity="customer", billing_id=str(i), action="create",
                                   outcome="failed" if i % 2 else "created",
                                   message='<b>zip</b> is missing' if i % 2 else None))  # fmt: skip
        session().add(LogEntry(run_id=run.id, entity="invoice", billing_id="7", action="create", outcome="created",
                               message="=HYPERLINK(1)"))  # fmt: skip
        session().commit()
    auth.login()
    html = client.get("/netsuite/logs?outcome=failed&entity=customer").get_data(as_text=True)
    assert "30 rows" in html
    assert "&lt;b&gt;zip&lt;/b&gt; is missing" in html and "<b>zip</b>" not in html
    one = client.get("/netsuite/logs?billing_id=7&entity=invoice").get_data(as_text=True)
    assert "1 row." in one
    paged = client.get("/netsuite/logs?page=2").get_data(as_text=True)
    assert "Page 2 of 2" in paged
    bad = client.get("/netsuite/logs?date_from=yesterday&run=abc")
    assert bad.status_code == 400
    assert "YYYY-MM-DD" in bad.get_data(as_text=True)
    csv_text = client.get("/netsuite/logs.csv?entity=invoice").get_data(as_text=True)
    assert csv_text.splitlines()[0].startswith("created_at,run_id")
    assert "'=HYPERLINK(1)" in csv_text


def test_problems_group_causes_and_link_to_the_fix(client, auth, app):
    from addon.extension import session
    from addon.models import SyncRun
    from addon.sync.ledger import Cause, RunLedger

    with app.app_context():
        run = SyncRun(operation="export_invoices")
        session().add(run)
        session().commit()
        ledger = RunLedger(run)
        cause = Cause("unmapped:tax_rate:3", "unmapped", 'Tax rate "VAT <20%>" is not mapped', "Map it",
                      "tax_rate", "3")  # fmt: skip
        for billing_id in (1, 2, 3):
            ledger.record(
                entity="invoice", billing_id=billing_id, outcome="failed", action="create", cause=cause
            )
        ledger.finish()
    auth.login()
    html = client.get("/netsuite/problems").get_data(as_text=True)
    assert "VAT &lt;20%&gt;" in html and "3 records" in html
    assert "/netsuite/mappings/tax-rates#row-tax_rate-3" in html
    assert "problem" in client.get("/netsuite/").get_data(as_text=True)
    with app.app_context():
        from addon.sync.ledger import resolve_cause

        resolve_cause("unmapped:tax_rate:3")
    assert "No open problems" in client.get("/netsuite/problems").get_data(as_text=True)


def test_tools_reset_asks_for_confirmation(client, auth):
    auth.login()
    page = client.get("/netsuite/tools").get_data(as_text=True)
    assert "Transaction category" in page and "Tax rate" in page
    refused = client.post("/netsuite/tools/reset", data={"csrf_token": auth.csrf_token(), "confirm": "yes"})
    assert refused.status_code == 400
    assert "Type RESET" in refused.get_data(as_text=True)
    done = client.post("/netsuite/tools/reset", data={"csrf_token": auth.csrf_token(), "confirm": "RESET"})
    assert done.status_code == 302


def test_pairing_needs_the_cache_and_reports_errors(client, auth):
    auth.login()
    page = client.get("/netsuite/customers?q=acme").get_data(as_text=True)
    assert "No NetSuite customers are loaded yet" in page
    # The operation it names is a card of the dashboard, where its link leads.
    named, anchor = re.search(r"run “([^”]+)” on the <a href=\"/netsuite/#([\w-]+)\"", page).groups()
    dashboard = client.get("/netsuite/").get_data(as_text=True)
    assert re.search(
        rf'<article class="ns-card" id="{anchor}".*?<h3[^>]*>{re.escape(named)}</h3>', dashboard, re.S
    )
    client.post(
        "/netsuite/customers/pair",
        data={"csrf_token": auth.csrf_token(), "billing_id": "x", "netsuite_id": "5"},
    )
    assert "billing customer" in client.get("/netsuite/customers").get_data(as_text=True)
    client.post(
        "/netsuite/customers/pair",
        data={"csrf_token": auth.csrf_token(), "billing_id": "5", "netsuite_id": "5"},
    )
    assert "Not paired" in client.get("/netsuite/customers").get_data(as_text=True)
