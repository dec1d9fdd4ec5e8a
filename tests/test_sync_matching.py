"""Matching and pairing billing customers with existing NetSuite customers, over real HTTP."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from addon.extension import session
from addon.models import Link, LogEntry
from addon.sync.matching import PairingError, pair_customer, search_netsuite_customers, unpair_customer
from addon.sync.operations import run_operation
from addon.sync.problems import open_problems


def netsuite_customer(configured, name: str, **fields) -> str:
    body = {"companyName": name, "subsidiary": {"id": "1"}, "currency": {"id": "1"}, **fields}
    return configured.netsuite.state.store.create("customer", body).id


def links() -> dict[str, Link]:
    return {
        link.billing_id: link for link in session().scalars(select(Link).where(Link.entity == "customer"))
    }


def log_of(run_id: int, billing_id: str) -> LogEntry:
    return session().scalar(
        select(LogEntry).where(LogEntry.run_id == run_id, LogEntry.billing_id == billing_id)
    )


@pytest.fixture
def netsuite_customers(configured):
    """NetSuite already holds customers 1 (by externalId), 2 (by email), 3 (by name) and two for 4."""
    return {
        "1": netsuite_customer(configured, "Renamed Café", externalId="splynx-customer-1"),
        "2": netsuite_customer(configured, "Hill Top (NetSuite)", email="HillTopFarms2@Example.net"),
        "3": netsuite_customer(configured, "acme  widgets ltd"),
        "4a": netsuite_customer(configured, "Ola N. (1)", email="olanordstrm4@example.net"),
        "4b": netsuite_customer(configured, "Ola N. (2)", email="olanordstrm4@example.net"),
    }


def test_match_links_by_external_id_email_and_name_without_creating(configured, netsuite_customers):
    ns = configured.netsuite.state
    ns.reset_counters()
    run = run_operation("match_customers")
    assert run.status == "succeeded", run.message
    assert ns.counters.writes == 0
    assert ns.counters.suiteql == 1  # every NetSuite customer in one query
    found = links()
    assert found["1"].netsuite_id == netsuite_customers["1"]
    assert found["2"].netsuite_id == netsuite_customers["2"]
    assert found["3"].netsuite_id == netsuite_customers["3"]
    assert "4" not in found
    assert set(found) == {"1", "2", "3"}
    assert "by email" in log_of(run.id, "2").message
    assert run.counts["matched"] == 3

    ambiguous = log_of(run.id, "4")
    assert ambiguous.outcome == "skipped"
    assert netsuite_customers["4a"] in ambiguous.message and netsuite_customers["4b"] in ambiguous.message
    (problem,) = open_problems()
    assert problem.kind == "ambiguous" and [r.billing_id for r in problem.records] == ["4"]

    # Pairing by hand settles the ambiguity and clears the problem.
    pair_customer("4", netsuite_customers["4b"])
    assert links()["4"].status == "paired"
    assert open_problems() == []

    rerun = run_operation("match_customers")
    assert rerun.counts.get("matched", 0) == 0 and rerun.counts["unchanged"] == 4
    assert ns.counters.writes == 0


def test_match_dry_run_links_nothing(configured, netsuite_customers):
    run = run_operation("match_customers", dry_run=True)
    assert run.counts["would_match"] == 3
    assert links() == {}
    assert open_problems() == []


def test_pair_refuses_a_netsuite_customer_linked_elsewhere_and_unpair(configured, netsuite_customers):
    run_operation("load_netsuite_customers")
    pair_customer("7", netsuite_customers["3"])
    with pytest.raises(PairingError, match="already linked to billing customer 7"):
        pair_customer("8", netsuite_customers["3"])
    with pytest.raises(PairingError, match="not in the cache"):
        pair_customer("8", "99999")
    unpair_customer("7")
    assert links() == {}
    with pytest.raises(PairingError, match="not linked"):
        unpair_customer("7")


def test_unpair_is_refused_while_documents_are_in_netsuite(configured, netsuite_customers):
    run_operation("load_netsuite_customers")
    pair_customer("5", netsuite_customers["3"])
    invoice = next(i for i in configured.splynx.state.all("invoices") if i["customer_id"] == 5)
    session().add(Link(entity="invoice", billing_id=str(invoice["id"]), netsuite_id="900"))
    session().commit()
    with pytest.raises(PairingError, match="1 documents"):
        unpair_customer("5")
    with pytest.raises(PairingError, match="re-pair"):
        pair_customer("5", netsuite_customers["2"])
    unpair_customer("5", force=True)
    assert "5" not in links()


def test_search_is_injection_safe(configured):
    obrien = netsuite_customer(configured, "O'Brien Farms", email="farm@obrien.example")
    netsuite_customer(configured, "Other Customer")
    netsuite_customer(configured, "100% Fibre_Co")
    run_operation("load_netsuite_customers")

    assert [r["netsuite_id"] for r in search_netsuite_customers("O'Brien' OR 1=1 --")] == []
    assert [r["netsuite_id"] for r in search_netsuite_customers("o'brien")] == [obrien]
    assert [r["name"] for r in search_netsuite_customers("%")] == ["100% Fibre_Co"]
    assert [r["name"] for r in search_netsuite_customers("_")] == ["100% Fibre_Co"]
    assert search_netsuite_customers("obrien.example")[0]["email"] == "farm@obrien.example"
    assert search_netsuite_customers(obrien)[0]["name"] == "O'Brien Farms"
    assert search_netsuite_customers("   ") == []
