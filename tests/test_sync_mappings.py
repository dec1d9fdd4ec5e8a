"""Load mappings, auto-map categories, save/unmap and reset, against both sandboxes over HTTP."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from addon.extension import session
from addon.models import Link, ListCache, LogEntry, Mapping, Problem, ProblemRecord
from addon.sync.ledger import Cause, RunLedger, start_run
from addon.sync.mappings import (
    MappingError,
    mapping_rows,
    normalise_name,
    save_mapping,
    unmap,
    unmapped_cause_key,
)
from addon.sync.operations import run_operation


def cache_count(kind: str | None = None) -> int:
    query = select(func.count()).select_from(ListCache)
    if kind:
        query = query.where(ListCache.kind == kind)
    return session().scalar(query)


def test_load_mappings_twice_updates_without_duplicating(configured):
    ns = configured.netsuite.state
    ns.reset_counters()
    run = run_operation("load_mappings")
    assert run.status == "succeeded", run.message
    assert ns.counters.suiteql == 10  # one query per list (SuiteTax: tax types too)
    assert cache_count("item") == 7  # not the tax codes, subtotal, description and payment items
    assert cache_count("tax_type") == 1
    assert cache_count("bank_account") == 4  # only accttype Bank
    assert cache_count("tax_code") == 4
    assert cache_count("term") == 3
    assert cache_count("currency") == 3
    assert run.result["lists"]["item"]["created"] == 7
    first_total = cache_count()

    # A renamed item and a removed one: updated and deactivated, not duplicated.
    item_id = ns.store.ids("serviceSaleItem")[0]
    record = ns.store.get("serviceSaleItem", item_id)
    ns.store.insert("serviceSaleItem", {**record, "itemId": "Internet Plans (new)"})
    rerun = run_operation("load_mappings")
    assert cache_count() == first_total
    assert rerun.result["lists"]["item"] == {"created": 0, "updated": 1, "unchanged": 6, "deactivated": 0}
    assert rerun.result["lists"]["currency"]["unchanged"] == 3
    renamed = session().scalar(
        select(ListCache).where(ListCache.kind == "item", ListCache.netsuite_id == item_id)
    )
    assert renamed.name == "Internet Plans (new)"
    messages = [e.message for e in session().scalars(select(LogEntry).where(LogEntry.run_id == rerun.id))]
    assert len(messages) == 10
    assert any(m.startswith("Items: 7 in NetSuite — 0 new, 1 changed") for m in messages)


def test_load_mappings_dry_run_reports_without_writing(configured):
    run = run_operation("load_mappings", dry_run=True)
    assert run.dry_run and run.status == "succeeded"
    assert run.result["lists"]["item"]["created"] == 7
    assert cache_count() == 0


def test_normalise_name_ignores_case_accents_punctuation_plural_and_ampersand():
    assert normalise_name("Late fees") == normalise_name("LATE FEE")
    assert normalise_name("Équipement & Rentals") == normalise_name("equipement and rental")
    assert normalise_name("Internet-plans") == normalise_name("Internet Plans")
    assert normalise_name("Installation") != normalise_name("Equipment")


def test_automap_dry_run_proposes_pairs_and_saves_nothing(configured):
    run_operation("load_mappings")
    run = run_operation("automap_categories", dry_run=True)
    pairs = {p["category"]: p for p in run.result["pairs"]}
    assert pairs["Internet plans"]["item"] == "Internet Plans"
    assert pairs["Late fees"]["item"] == "Late Fees"
    assert pairs["Installation"]["status"] == "proposed"
    assert pairs["Voice"]["status"] == "unmatched"
    assert session().scalar(select(func.count()).select_from(Mapping)) == 0
    category = configured.splynx.state.get("transaction_categories", pairs["Internet plans"]["category_id"])
    assert not int(category.get("accounting_category_id") or 0)

    real = run_operation("automap_categories")
    saved = {p["category"]: p["status"] for p in real.result["pairs"]}
    assert saved["Internet plans"] == "saved" and saved["Voice"] == "unmatched"
    assert real.counts["matched"] == 5  # Discount, Internet plans, Installation, Equipment, Late fees
    mapped = session().scalar(
        select(Mapping).where(Mapping.billing_id == pairs["Internet plans"]["category_id"])
    )
    assert mapped.netsuite_id == pairs["Internet plans"]["item_id"]
    # The mapping stays ours: Splynx's accounting column is left alone (and no PUT was sent).
    category = configured.splynx.state.get("transaction_categories", mapped.billing_id)
    assert not int(category.get("accounting_category_id") or 0)
    assert configured.splynx.state.request_count("PUT", "admin/finance/transaction-categories") == 0
    again = run_operation("automap_categories")
    assert again.counts["unchanged"] == 5


def file_unmapped_problem(kind: str, billing_id: str) -> None:
    ledger = RunLedger(start_run("export_invoices"))
    cause = Cause(unmapped_cause_key(kind, billing_id), "unmapped", f"{kind} {billing_id} is not mapped",
                  fix_kind=kind, fix_ref=billing_id)  # fmt: skip
    ledger.record(entity="invoice", billing_id="17", outcome="skipped", action="create", cause=cause)
    ledger.finish()


def test_save_mapping_resolves_problem_and_unmap_clears(configured):
    run_operation("load_mappings")
    file_unmapped_problem("payment_method", "2")
    account = session().scalar(select(ListCache).where(ListCache.kind == "bank_account"))
    assert save_mapping("payment_method", "2", account.netsuite_id) is None
    problem = session().scalar(select(Problem))
    assert problem.resolved and problem.records == []
    assert not int(configured.splynx.state.get("payment_methods", 2)["accounting_bank_accounts_id"] or 0)
    assert configured.splynx.state.request_count("PUT") == 0

    rows = {row.billing_id: row for row in mapping_rows("payment_method")}
    assert rows["2"].netsuite_name == account.name and not rows["2"].unmapped
    assert rows["1"].unmapped

    # Taxes too are mapped in our own table only.
    tax = session().scalar(select(ListCache).where(ListCache.kind == "tax_code"))
    assert save_mapping("tax_rate", "1", tax.netsuite_id) is None
    assert not mapping_rows("tax_rate")[0].unmapped

    unmap("payment_method", "2")
    assert mapping_rows("payment_method")[1].unmapped
    assert not int(configured.splynx.state.get("payment_methods", 2)["accounting_bank_accounts_id"] or 0)


def test_save_mapping_refuses_unknown_netsuite_rows_and_misplaced_defaults(configured):
    run_operation("load_mappings")
    with pytest.raises(MappingError, match="Load mappings"):
        save_mapping("category", "6", "99999")
    with pytest.raises(MappingError, match="default"):
        save_mapping("default_class", "6", "1")
    klass = session().scalar(select(ListCache).where(ListCache.kind == "class"))
    save_mapping("default_class", "", klass.netsuite_id)
    assert mapping_rows("default_class")[0].netsuite_name == klass.name


def test_reset_accounting_erases_what_was_asked(configured):
    run_operation("load_mappings")
    run_operation("automap_categories")
    session().add(Link(entity="invoice", billing_id="1", netsuite_id="5"))
    session().commit()
    file_unmapped_problem("tax_rate", "3")
    configured.netsuite.state.reset_counters()

    run = run_operation("reset_accounting")
    assert run.result["erased"] == {"mappings": {"category": 5}}
    assert session().scalar(select(func.count()).select_from(Mapping)) == 0
    assert session().scalar(select(func.count()).select_from(Link)) == 1

    run = run_operation("reset_accounting", params={"links": True, "logs": "yes"})
    assert run.result["erased"]["links"] == {"invoice": 1}
    assert run.result["erased"]["problems"] == 1
    assert session().scalar(select(func.count()).select_from(Link)) == 0
    assert session().scalar(select(func.count()).select_from(ProblemRecord)) == 0
    assert session().scalar(select(func.count()).select_from(LogEntry)) == 0
    assert sum(configured.netsuite.state.counters.requests.values()) == 0
