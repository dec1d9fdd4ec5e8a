"""Sanity rules before export: negative invoices are not sent, outsized amounts wait for a yes."""

from __future__ import annotations

from urllib.parse import unquote

from sqlalchemy import select

from addon.extension import session
from addon.models import LogEntry
from addon.sync.sanity import MIN_SAMPLE


def _bad(sandbox, case: str) -> str:
    return str(next(b["id"] for b in sandbox.dataset.manifest["bad"] if b["case"] == case))


def _row(run_id: int, billing_id: str) -> LogEntry | None:
    query = select(LogEntry).where(
        LogEntry.run_id == run_id, LogEntry.entity == "invoice", LogEntry.billing_id == billing_id
    )
    return session().scalar(query)


def _in_netsuite(setup, billing_id: str) -> bool:
    return any(r.get("externalId") == f"splynx-invoice-{billing_id}" for r in setup.ns_records("invoice"))


def test_negative_and_outsized_invoices_get_their_own_outcomes_and_stay_out_of_netsuite(
    export_ready, make_splynx_sandbox
):
    setup = export_ready
    sandbox = make_splynx_sandbox(customers=30, seed=2, bad_inputs=True)
    setup.use_splynx(sandbox)
    run = setup.run("export_invoices")
    negative, huge = _bad(sandbox, "negative_total"), _bad(sandbox, "very_large_total")
    row = _row(run.id, negative)
    assert row.outcome == "negative_total"
    assert "should be a credit note" in row.message and "issue a credit note" in row.message
    row = _row(run.id, huge)
    assert row.outcome == "held"
    assert "held for confirmation" in row.message and "times the usual" in row.message
    assert not _in_netsuite(setup, negative) and not _in_netsuite(setup, huge)
    assert run.counts["negative_total"] == 1 and run.counts["held"] == 1
    # An ordinary invoice of the same run went out.
    assert run.counts.get("created")


def test_a_held_amount_confirmed_on_the_command_line_goes_out_next_export(
    export_ready, make_splynx_sandbox, runner
):
    setup = export_ready
    sandbox = make_splynx_sandbox(customers=30, seed=2, bad_inputs=True)
    setup.use_splynx(sandbox)
    setup.run("export_invoices")
    huge = _bad(sandbox, "very_large_total")
    result = runner.invoke(args=["netsuite", "confirm-amount", "invoice", _bad(sandbox, "zero_total")])
    assert result.exit_code != 0 and "not held for confirmation" in result.output
    result = runner.invoke(args=["netsuite", "confirm-amount", "invoice", huge])
    assert result.exit_code == 0, result.output
    assert "confirmed" in result.output
    again = setup.run("export_invoices")
    assert _row(again.id, huge).outcome == "created"
    assert _in_netsuite(setup, huge)


def test_the_problems_page_offers_a_confirm_button_that_works(
    export_ready, make_splynx_sandbox, client, auth
):
    setup = export_ready
    sandbox = make_splynx_sandbox(customers=30, seed=2, bad_inputs=True)
    setup.use_splynx(sandbox)
    setup.run("export_invoices")
    huge = _bad(sandbox, "very_large_total")
    auth.login()
    html = client.get("/netsuite/problems").get_data(as_text=True)
    assert "held until someone confirms them" in html
    assert "Invoices with a negative total: they should be credit notes" in html
    action = f"/netsuite/problems/confirm/invoice/{huge}"
    assert action in html
    assert client.post(action).status_code in (302, 400)  # without the CSRF token: refused
    assert "held until someone confirms them" in client.get("/netsuite/problems").get_data(as_text=True)
    response = client.post(action, data={"csrf_token": auth.csrf_token("/netsuite/problems")})
    assert response.status_code == 302
    page = client.get("/netsuite/problems").get_data(as_text=True)
    assert "confirmed; the next export sends it" in page
    assert "held until someone confirms them" not in page
    again = setup.run("export_invoices")
    assert _row(again.id, huge).outcome == "created"


def test_the_rule_can_be_turned_off(export_ready, make_splynx_sandbox):
    setup = export_ready
    sandbox = make_splynx_sandbox(customers=30, seed=2, bad_inputs=True)
    setup.use_splynx(sandbox)
    setup.env.settings(amount_hold_factor="0")
    run = setup.run("export_invoices")
    assert _row(run.id, _bad(sandbox, "very_large_total")).outcome == "created"


def _history_reads(sandbox) -> int:
    """GETs of the invoice list not by id: the reads of the billing history for the median."""
    paths = [unquote(path) for method, path in sandbox.state.request_log if method == "GET"]
    return sum(1 for p in paths if "finance/invoices?" in p and "main_attributes[id]" not in p)


def test_a_history_too_short_for_a_median_is_read_once_not_on_every_targeted_run(
    export_ready, make_splynx_sandbox
):
    setup = export_ready
    sandbox = make_splynx_sandbox(customers=2, seed=3)
    setup.use_splynx(sandbox)
    invoices = sandbox.state.all("invoices")
    assert 0 < len(invoices) < MIN_SAMPLE  # too few to say what is usual
    first = setup.run("export_record", params={"entity": "invoice", "billing_id": str(invoices[0]["id"])})
    assert first.status == "succeeded", first.message
    read = _history_reads(sandbox)
    assert read >= 1
    # A webhook's next invoice, the same day: no second read of the whole history.
    again = setup.run("export_record", params={"entity": "invoice", "billing_id": str(invoices[-1]["id"])})
    assert again.status == "succeeded", again.message
    assert _history_reads(sandbox) == read
