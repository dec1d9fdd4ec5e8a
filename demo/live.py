"""The demo's live sync: after the first full sync, Splynx webhooks switched on and shown.

The add-on's receiver is served on loopback, the Splynx sandbox is given its URL and secret
(as an admin would under Config → Integrations → Hooks), live sync is switched on, and one
invoice issued in Splynx is followed until NetSuite has it.
"""

from __future__ import annotations

import secrets
import time

TIMEOUT = 30.0


def show_live_sync(app, splynx_state, echo) -> bool:
    """Switch live sync on and follow one new invoice into NetSuite; True when it arrived."""
    from sqlalchemy import select

    from addon import settings
    from addon.extension import session
    from addon.models import LogEntry
    from addon.sync import links
    from sandbox.server import serve_in_thread
    from sandbox.splynx.hooks import issue_invoices

    secret = secrets.token_hex(16)
    settings.put_many(
        {
            "splynx_hook_secret": secret,
            **{f"live_{entity}": True for entity in ("customer", "invoice", "credit_note", "payment")},
        }
    )
    receiver = serve_in_thread(app)  # lives as long as the demo: later edits in Splynx sync too
    url = receiver.url + "/netsuite/hooks/splynx"
    splynx_state.hooks.add(url, secret)
    echo(f"Live sync on: the Splynx sandbox sends its webhooks to {url}")
    customers = _customers_with_a_synced_latest_invoice(
        splynx_state, set(links.synced_billing_ids("invoice"))
    )
    started = time.perf_counter()
    [invoice_id] = issue_invoices(splynx_state, 1, customers)
    query = select(LogEntry).where(
        LogEntry.entity == "invoice",
        LogEntry.billing_id == str(invoice_id),
        LogEntry.outcome.in_(("created", "updated")),
    )
    while time.perf_counter() - started < TIMEOUT:
        session().rollback()
        row = session().scalar(query)
        if row is not None:
            elapsed = time.perf_counter() - started
            echo(
                f"invoice {invoice_id} issued in Splynx is NetSuite record {row.netsuite_id} "
                f"{elapsed:.2f} s later (live run {row.run_id}, on the dashboard)"
            )
            return True
        time.sleep(0.02)
    echo(f"invoice {invoice_id} did not reach NetSuite within {TIMEOUT:.0f} s: see the dashboard")
    return False


def _customers_with_a_synced_latest_invoice(splynx_state, synced: set[str]) -> list[int]:
    """Customers whose latest invoice reached NetSuite: the new invoice copies it, so its
    categories and taxes are mapped (the generator's deliberately unmapped ones stay out)."""
    with splynx_state.lock:
        latest = {
            int(invoice["customer_id"]): invoice
            for invoice in splynx_state.tables["invoices"].values()
            if invoice.get("status") != "deleted" and invoice.get("items")
        }
    return [customer for customer, invoice in sorted(latest.items()) if str(invoice["id"]) in synced][:5]
