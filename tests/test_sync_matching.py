"""Matching and pairing billing customers with existing NetSuite customers, over real HTTP."""

from __future__ import annotations

import html
import re

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


# --------------------------------------------------------------------------- addresses in suggestions


def _with_address(addr1: str, zip_code: str, *, default: bool = True, city: str = "Bristol") -> dict:
    return {"defaultBilling": default, "defaultShipping": default,
            "addressBookAddress": {"addr1": addr1, "city": city, "zip": zip_code}}  # fmt: skip


def _suggestion_rows(client, billing_id: int) -> tuple[str, dict[str, str]]:
    """The pairing page for one billing customer, and its suggestions' rows by NetSuite customer name."""
    page = client.get(f"/netsuite/customers?billing_id={billing_id}").get_data(as_text=True)
    table = re.search(r'id="suggestions".*?</table>', page, flags=re.S)
    rows = (
        re.findall(r'<tr><th scope="row">(.*?)</th>(.*?)</tr>', table.group(0), flags=re.S) if table else []
    )
    return page, {html.unescape(name): html.unescape(re.sub(r"<[^>]+>", " ", rest)) for name, rest in rows}


@pytest.fixture
def address_twins(configured):
    """Billing customer 3 lives at 183 Church Lane, BS1 5TR; NetSuite knows that door by another name."""
    customer = configured.splynx.dataset.by_id("customers", 3)
    assert customer["street_1"] == "183 Church Lane" and customer["zip_code"] == "BS1 5TR"
    return {
        "door": netsuite_customer(configured, "Western Holdings",
                                  addressBook={"items": [_with_address("183, Church Ln.", "bs15tr")]}),
        "other_zip": netsuite_customer(configured, "Eastern Holdings",
                                       addressBook={"items": [_with_address("183 Church Lane", "BS2 0AA")]}),
        "shipping_only": netsuite_customer(configured, "Northern Holdings", addressBook={"items": [
            _with_address("1 Quay Street", "BS1 4DJ"), _with_address("183 Church Lane", "BS1 5TR", default=False)]}),
        "name": netsuite_customer(configured, "Acme Widgets Ltd"),
    }  # fmt: skip


def test_suggestions_compare_the_default_billing_address(client, auth, configured, address_twins):
    run = run_operation("load_netsuite_customers")
    assert run.status == "succeeded", run.message
    assert "without billing addresses" not in session().scalar(
        select(LogEntry.message).where(LogEntry.run_id == run.id, LogEntry.entity == "customer")
    )
    auth.login()
    page, rows = _suggestion_rows(client, 3)
    assert 'id="no-addresses"' not in page
    # The same street and postcode, written differently, is evidence on its own, shown with its reason.
    assert "same billing address (183, Church Ln., bs15tr Bristol)" in rows["Western Holdings"]
    # The same street in another postcode, or the address of a non-default entry, is not the same door.
    assert "Eastern Holdings" not in rows and "Northern Holdings" not in rows
    assert "same name" in rows["Acme Widgets Ltd"]
    assert list(rows)[0] == "Acme Widgets Ltd"  # an equal name still weighs more than the address


@pytest.mark.parametrize("netsuite_profile", ["suitetax-oneworld+no-addresses"], indirect=True)
def test_an_account_that_refuses_addresses_still_loads_its_customers(client, auth, configured, address_twins):
    run = run_operation("load_netsuite_customers")
    assert run.status == "succeeded", run.message
    message = session().scalar(
        select(LogEntry.message).where(LogEntry.run_id == run.id, LogEntry.entity == "customer")
    )
    assert "4 in NetSuite" in message and "read without billing addresses" in message, message
    assert "Record 'customeraddressbook' was not found" in message
    assert [r["name"] for r in search_netsuite_customers("Holdings")] == [
        "Eastern Holdings", "Northern Holdings", "Western Holdings"]  # fmt: skip
    auth.login()
    page, rows = _suggestion_rows(client, 3)
    assert "suggestions compare email and name only" in page
    assert "Western Holdings" not in rows and "same name" in rows["Acme Widgets Ltd"]
    # Matching reads the same list the same way.
    assert run_operation("match_customers").status == "succeeded"
    assert links()["3"].netsuite_id == address_twins["name"]


def test_a_customer_the_join_gives_twice_is_cached_once(configured):
    """Two address-book entries both marked default billing make the join answer the customer twice."""
    netsuite_customer(configured, "Twice Ltd", addressBook={"items": [_with_address("1 Quay Street", "BS1 4DJ"),
                                                                      _with_address("2 Quay Street", "BS1 4DJ")]})  # fmt: skip
    run = run_operation("load_netsuite_customers")
    assert run.status == "succeeded", run.message
    assert [r["name"] for r in search_netsuite_customers("Twice")] == ["Twice Ltd"]


@pytest.mark.parametrize(
    ("one", "other", "same"),
    [
        (("12 High Street", "SW1A 1AA"), ("12, High St.", "sw1a1aa"), True),
        (("Hauptstraße 5", "10115"), ("Hauptstr. 5", "10115"), True),
        (("Calle de la Église 3", "41001"), ("calle de la eglise 3", "41001"), True),
        (("1 Main Street", "12345-6789"), ("1 main st", "12345"), True),
        (("12 High Street", "SW1A 1AA"), ("14 High Street", "SW1A 1AA"), False),
        (("12 High Street", "SW1A 1AA"), ("12 High Road", "SW1A 1AA"), False),
    ],
)
def test_addresses_compare_as_a_person_reads_them(one, other, same):
    from addon.sync.addresses import address_key

    assert (address_key(*one) == address_key(*other)) is same
    assert address_key("12 High Street", "") is None and address_key("", "SW1A 1AA") is None
