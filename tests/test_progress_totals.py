"""Progress shows a real total from the start: billing is counted (HEAD, X-total-count) first."""

from __future__ import annotations

import html
import re
from datetime import date


def test_billing_counts_match_what_its_listings_yield(configured):
    billing = configured.context().billing
    since = date(2024, 6, 1)
    for listing, filters in (
        ("invoices", {"date_from": since}),
        ("credit_notes", {}),
        ("payments", {"date_from": since, "method_ids": [1, 2]}),
        ("payments", {"method_ids": []}),
        ("customers", {"partner_ids_excluded": (2,)}),
        ("customers", {}),
    ):
        assert billing.count(listing, **dict(filters)) == len(list(getattr(billing, listing)(**filters))), (
            listing
        )


def test_a_full_sync_knows_its_total_before_the_first_record(export_ready):
    from addon.sync.operations import run_operation

    billing = export_ready.env.context().billing
    expected = (
        len(list(billing.customers()))
        + len(list(billing.invoices()))
        + len(list(billing.credit_notes()))
        + len(list(billing.payments()))
    )
    seen: list[tuple[str | None, int, int]] = []
    run = run_operation(
        "sync", progress=lambda ledger: seen.append((ledger.run.phase, ledger.done, ledger.total))
    )
    assert run.status in ("succeeded", "partial"), run.message
    first_phase = [entry for entry in seen if entry[0] == "Exporting customers"]
    assert first_phase and first_phase[0][1] == 0 and first_phase[0][2] == expected
    assert all(total == expected for _, _, total in seen), {total for _, _, total in seen}
    assert run.done == run.total == expected
    phases = [phase for phase, _, _ in seen]
    assert phases.index("Exporting invoices") < phases.index("Exporting payments")


def test_one_export_counts_its_own_records_first(export_ready):
    from addon.sync.operations import run_operation

    invoices = len(list(export_ready.env.context().billing.invoices()))
    seen: list[int] = []
    run_operation("export_invoices", progress=lambda ledger: seen.append(ledger.total))
    assert seen[0] == invoices


def test_each_phase_of_a_full_sync_shows_its_own_counts(export_ready, client, auth):
    """The progress route and the dashboard, read while the run goes: the phase label carries that
    phase's counts, and what came before it is the earlier phases' records."""
    from addon.sync.operations import run_operation

    billing = export_ready.env.context().billing
    counted = {
        "Exporting customers": len(list(billing.customers())),
        "Exporting invoices": len(list(billing.invoices())),
        "Exporting credit notes": len(list(billing.credit_notes())),
        "Exporting payments": len(list(billing.payments())),
    }
    total = sum(counted.values())
    auth.login()
    seen: list[dict] = []
    dashboards: list[str] = []

    def watch(ledger) -> None:
        if ledger.run.status != "running" or ledger.run.phase not in counted:
            return
        seen.append(client.get(f"/netsuite/runs/{ledger.run.id}/progress").get_json())
        if ledger.run.phase == "Exporting invoices" and not dashboards:
            dashboards.append(client.get("/netsuite/").get_data(as_text=True))

    run = run_operation("sync", progress=watch)
    assert run.status in ("succeeded", "partial"), run.message
    assert {p["phase"] for p in seen} == set(counted)
    phases = list(counted)
    for p in seen:
        before = sum(counted[phase] for phase in phases[: phases.index(p["phase"])])
        assert p["phase_total"] == counted[p["phase"]] and p["total"] == total, p
        assert p["done"] - p["phase_done"] == before and 0 <= p["phase_done"] <= p["phase_total"], p
        assert p["text"] == (
            f"{p['phase']}: {p['phase_done']} of {p['phase_total']} — run: {p['done']} of {total} ({p['percent']}%)"
        )
    assert any(p["phase_done"] > 0 and p["done"] > p["phase_done"] for p in seen)  # read mid-phase too
    (dashboard,) = dashboards
    shown = re.search(r'<span class="ns-progress-text"[^>]*>(.*?)</span>', dashboard).group(1)
    assert html.unescape(shown).startswith(
        f"Exporting invoices: 0 of {counted['Exporting invoices']} — run: "
    )


def test_a_run_of_one_phase_says_its_counts_once(export_ready, client, auth):
    from addon.sync.operations import run_operation

    auth.login()
    texts: list[str] = []
    run = run_operation(
        "export_customers",
        progress=lambda ledger: texts.append(
            client.get(f"/netsuite/runs/{ledger.run.id}/progress").get_json()["text"]
        ),
    )
    assert texts[0] == f"Exporting customers — 0 of {run.total} (0%)"
    assert texts[-1] == f"Exporting customers — {run.total} of {run.total} (100%)"
