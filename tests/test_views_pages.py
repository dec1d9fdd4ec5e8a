"""Pairing, records, reconciliation and the dashboard's setting warnings, against both sandboxes."""

from __future__ import annotations

import re
from decimal import Decimal

from markupsafe import escape

from addon.extension import session
from addon.models import Link, LogEntry
from addon.sync.operations import run_operation

PERIOD = "date_from=2000-01-01&date_to=2099-12-31"


def _row(html: str, marker: str) -> str:
    """The table row whose first cell links/holds ``marker``."""
    for row in re.findall(r"<tr[^>]*>.*?</tr>", html, flags=re.S):
        if re.search(rf"<th scope=\"row\">(<a [^>]*>)?{re.escape(marker)}(</a>)?", row):
            return row
    raise AssertionError(f"no row for {marker}")


def test_pair_then_unpair_a_customer(client, auth, configured):
    netsuite_id = configured.netsuite.state.store.create(
        "customer", {"companyName": "Pairing Test Co", "subsidiary": {"id": "1"}, "currency": {"id": "1"}}
    ).id
    assert run_operation("load_netsuite_customers").status == "succeeded"
    auth.login()

    found = client.get("/netsuite/customers?q=pairing test").get_data(as_text=True)
    assert "Pairing Test Co" in found and "Not paired" in found
    response = client.post(
        "/netsuite/customers/pair",
        data={"csrf_token": auth.csrf_token(), "billing_id": "1", "netsuite_id": netsuite_id, "q": "pairing"},
    )
    assert response.status_code == 302
    page = client.get("/netsuite/customers").get_data(as_text=True)
    assert "Billing customer 1 is now paired." in page
    row = _row(page, "1")
    assert "Pairing Test Co" in row and f"({netsuite_id})" in row and "<td>Paired</td>" in row
    assert "Paired with billing customer 1" in client.get("/netsuite/customers?q=pairing").get_data(
        as_text=True
    )
    record = client.get("/netsuite/records/customer?billing_id=1").get_data(as_text=True)
    assert f"{netsuite_id} (paired)" in record

    # The same NetSuite customer cannot be paired twice.
    client.post(
        "/netsuite/customers/pair",
        data={"csrf_token": auth.csrf_token(), "billing_id": "2", "netsuite_id": netsuite_id},
    )
    assert "already linked to billing customer 1" in client.get("/netsuite/customers").get_data(as_text=True)

    client.post("/netsuite/customers/unpair", data={"csrf_token": auth.csrf_token(), "billing_id": "1"})
    page = client.get("/netsuite/customers").get_data(as_text=True)
    assert "Billing customer 1 is no longer paired." in page
    assert "No customer has been paired by hand." in page
    assert "not synced" in client.get("/netsuite/records/customer?billing_id=1").get_data(as_text=True)


def test_records_show_the_accounting_id_or_the_last_failure(client, auth, configured):
    session().add(Link(entity="customer", billing_id="2", netsuite_id="7702", status="synced"))
    session().add(
        LogEntry(entity="customer", billing_id="3", action="create", outcome="failed", message="old")
    )
    session().add(
        LogEntry(entity="customer", billing_id="3", action="skip", outcome="skipped", message="missing zip")
    )
    session().commit()
    auth.login()
    html = client.get("/netsuite/records/customer").get_data(as_text=True)
    name_2 = str(escape(configured.splynx.dataset.by_id("customers", 2)["name"]))
    synced = _row(html, "2")
    assert "7702" in synced and "not synced" not in synced and name_2 in synced
    failed = _row(html, "3")
    assert "not synced" in failed and "missing zip" in failed and "old" not in failed
    assert "not synced" in _row(html, "4") and html.count("ns-unsynced") == 39
    assert client.get("/netsuite/records/nothing").status_code == 404


def test_reconciliation_agrees_for_exported_documents_then_flags_a_change(client, auth, export_ready):
    assert export_ready.run("export_customers").status in ("succeeded", "partial")
    assert export_ready.run("export_invoices").status in ("succeeded", "partial")
    auth.login()

    html = client.get(f"/netsuite/reconciliation?{PERIOD}").get_data(as_text=True)
    assert "Every exported document agrees with NetSuite" in html
    invoices = re.findall(r"<td>([^<]*)</td>", _row(html, "Invoices"))
    billing_all, exported_only, netsuite_total = (Decimal(v) for v in invoices[2:5])
    assert exported_only == netsuite_total < billing_all  # some customers' invoices were held back
    assert "Not exported yet" in html

    # An accountant edits an exported invoice in NetSuite: now the sides truly differ.
    store = export_ready.store
    invoice = next(
        r for r in store.records("invoice") if r.get("externalId", "").startswith("splynx-invoice-")
    )
    item = export_ready.ns_id("serviceSaleItem", "Installation")
    store.update("invoice", invoice["id"], {"item": {"items": [
        {"item": {"id": item}, "quantity": 1, "rate": Decimal("5"), "amount": Decimal("5")}]}})  # fmt: skip
    html = client.get(f"/netsuite/reconciliation?{PERIOD}").get_data(as_text=True)
    assert "The two sides differ for this period" in html
    assert "differs" in _row(html, "Invoices") and "Totals differ" in html


def test_reconciliation_refuses_a_reversed_or_malformed_period(client, auth):
    auth.login()
    assert "Reconcile the period" in client.get("/netsuite/reconciliation").get_data(as_text=True)
    reversed_ = client.get("/netsuite/reconciliation?date_from=2025-02-01&date_to=2025-01-01")
    assert reversed_.status_code == 400 and "before its start" in reversed_.get_data(as_text=True)
    malformed = client.get("/netsuite/reconciliation?date_from=01/02/2025")
    assert malformed.status_code == 400 and "YYYY-MM-DD" in malformed.get_data(as_text=True)


def test_dashboard_asks_for_the_subsidiary_once_netsuite_has_several(client, auth, configured):
    auth.login()
    warning = "No subsidiary is chosen for new customers"
    assert warning not in client.get("/netsuite/").get_data(as_text=True)  # nothing loaded yet
    config = client.get("/netsuite/config").get_data(as_text=True)
    assert re.search(r'<input [^>]*id="subsidiary"', config) and "Load mappings" in config

    assert run_operation("load_mappings").status == "succeeded"
    dashboard = client.get("/netsuite/").get_data(as_text=True)
    assert warning in dashboard and 'href="/netsuite/config#subsidiary"' in dashboard
    config = client.get("/netsuite/config").get_data(as_text=True)
    assert re.search(r'<select [^>]*id="subsidiary"', config)
    assert re.search(r'<option value="\d+">[^<]*ISP Networks UK Ltd', config)
    # The rounding item is a select of the cached items too.
    assert re.search(r'<select [^>]*id="rounding_item"[^>]*>.*?Rounding \(\d+\)', config, flags=re.S)

    configured.settings(subsidiary="1")
    assert warning not in client.get("/netsuite/").get_data(as_text=True)
    configured.settings(subsidiary="99")  # an id the loaded list does not offer stays visible
    assert "99 (not in the loaded list)" in client.get("/netsuite/config").get_data(as_text=True)


def test_log_filter_for_everything_that_did_not_sync(client, auth, app):
    with app.app_context():
        for outcome in ("failed", "skipped", "created"):
            session().add(LogEntry(entity="customer", billing_id="5", action="x", outcome=outcome))
        session().commit()
    auth.login()
    assert "2 rows" in client.get("/netsuite/logs?outcome=not_synced").get_data(as_text=True)
