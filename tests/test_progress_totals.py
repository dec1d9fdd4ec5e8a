"""Progress shows a real total from the start: billing is counted (HEAD, X-total-count) first."""

from __future__ import annotations

from datetime import date


def test_billing_counts_match_what_its_listings_yield(configured):
    billing = configured.context().billing
    since = date(2024, 6, 1)
    for listing, filters in (
        ("invoice", {"date_from": since}),
        ("credit_note", {}),
        ("invoice", {"ids": []}),
        ("payments", {"date_from": since, "method_ids": [1, 2]}),
        ("payments", {"method_ids": []}),
        ("customers", {"partner_ids_excluded": (2,)}),
        ("customers", {}),
    ):
        if listing in ("invoice", "credit_note"):
            records = billing.documents(listing, **filters)
        else:
            records = getattr(billing, listing)(**filters)
        assert billing.count(listing, **dict(filters)) == len(list(records)), listing


def test_a_full_sync_knows_its_total_before_the_first_record(export_ready):
    from addon.sync.operations import run_operation

    billing = export_ready.env.context().billing
    expected = (
        len(list(billing.customers()))
        + len(list(billing.documents("invoice")))
        + len(list(billing.documents("credit_note")))
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

    invoices = len(list(export_ready.env.context().billing.documents("invoice")))
    seen: list[int] = []
    run_operation("export_invoices", progress=lambda ledger: seen.append(ledger.total))
    assert seen[0] == invoices
