"""Customer export over real HTTP against both sandboxes."""

from __future__ import annotations

import pytest
from sqlalchemy import delete, func, select

from addon.extension import session
from addon.models import Link, LogEntry, Problem
from tests.plugins.netsuite_sandbox import across_profiles

# Customers, documents and payments behave the same in every supported account profile and
# with either authentication mode.
pytestmark = [across_profiles, pytest.mark.usefixtures("both_auth_modes")]


def log_rows(run, entity="customer"):
    rows = session().scalars(select(LogEntry).where(LogEntry.run_id == run.id, LogEntry.entity == entity))
    return {row.billing_id: row for row in rows}


def test_customers_are_exported_once_with_exact_skip_reasons(export_ready):
    setup = export_ready
    dataset = setup.env.splynx.dataset
    run = setup.run("export_customers")
    assert run.status == "succeeded", run.message
    rows = log_rows(run)
    customers = dataset.records["customers"]
    assert len(rows) == len(customers)
    words = {"email": "email", "phone": "phone", "zip_code": "zip", "street_1": "street"}
    for customer_id, missing in dataset.manifest["incomplete_customers"].items():
        row = rows[str(customer_id)]
        assert row.outcome == "skipped"
        assert row.message == "missing " + ", ".join(words[f] for f in missing)
    for customer_id in dataset.manifest["malformed_addresses"]:
        if customer_id not in dataset.manifest["incomplete_customers"]:
            assert rows[str(customer_id)].outcome == "skipped"
            assert "not 'street, city, zip'" in rows[str(customer_id)].message
    created = [row for row in rows.values() if row.outcome == "created"]
    assert created and run.counts["created"] == len(created)
    netsuite = setup.ns_records("customer")
    assert len(netsuite) == len(created)
    assert {c["externalId"] for c in netsuite} == {f"splynx-customer-{row.billing_id}" for row in created}
    problem = session().scalar(select(Problem).where(Problem.cause_key == "missing_fields:customer"))
    assert problem.count == len(dataset.manifest["incomplete_customers"])
    # The NetSuite id is written back into the Splynx attribute.
    one = created[0]
    assert (
        setup.env.splynx.state.get("customers", int(one.billing_id))["additional_attributes"]["netsuite_id"]
        == one.netsuite_id
    )
    # One address each, as NetSuite stored it: the service address when it parses, else the
    # billing street, city and zip, each in its own NetSuite field.
    for row in created:
        billing = setup.env.splynx.state.get("customers", int(row.billing_id))
        service = billing["additional_attributes"]["service_address"]
        expected = (
            service.split(", ") if service else [billing["street_1"], billing["city"], billing["zip_code"]]
        )
        [address] = setup.store.get("customer", row.netsuite_id)["addressBook"]
        got = address["addressBookAddress"]
        assert [got["addr1"], got["city"], got["zip"]] == expected, row.billing_id

    writes = setup.writes()
    again = setup.run("export_customers")
    assert setup.writes() == writes
    assert again.counts.get("unchanged") == len(created)
    assert not again.counts.get("created") and not again.counts.get("updated")


def test_service_address_reaches_netsuite_as_street_city_and_zip(export_ready):
    setup = export_ready
    dataset, state = setup.env.splynx.dataset, setup.env.splynx.state
    manifest = dataset.manifest
    clean = [
        c["id"]
        for c in dataset.records["customers"]
        if c["id"] not in manifest["incomplete_customers"] and c["id"] not in manifest["malformed_addresses"]
    ]
    # One customer whose service address differs from its billing address, one with none at all.
    served, plain = clean[:2]
    state.update(
        "customers", served, {"additional_attributes": {"service_address": "7 Quay Lane, Portsea, PO1 3AB"}}
    )
    state.update("customers", plain, {"street_1": "12 Mill Road", "city": "Ely", "zip_code": "CB7 4DL"})
    state.update("customers", plain, {"additional_attributes": {"service_address": ""}})
    run = setup.run("export_customers")
    rows = log_rows(run)
    for customer_id, (street, city, zip_code) in {
        served: ("7 Quay Lane", "Portsea", "PO1 3AB"),
        plain: ("12 Mill Road", "Ely", "CB7 4DL"),
    }.items():
        assert rows[str(customer_id)].outcome == "created", rows[str(customer_id)].message
        [address] = setup.store.get("customer", rows[str(customer_id)].netsuite_id)["addressBook"]
        got = address["addressBookAddress"]
        assert (got["addr1"], got["city"], got["zip"]) == (street, city, zip_code)


def test_changed_customer_is_updated_without_a_second_address(export_ready):
    setup = export_ready
    setup.run("export_customers")
    link = session().scalars(select(Link).where(Link.entity == "customer")).first()
    setup.env.splynx.state.update("customers", int(link.billing_id), {"phone": "+44 7000 111222"})
    writes = setup.writes()
    run = setup.run("export_customers")
    assert run.counts.get("updated") == 1
    assert setup.writes() == writes + 1
    record = setup.store.get("customer", link.netsuite_id)
    assert record["phone"] == "+44 7000 111222"
    assert len(record["addressBook"]) == 1


def test_ignored_partner_customers_are_not_selected(export_ready):
    setup = export_ready
    setup.env.settings(partners_ignore=["2"])
    run = setup.run("export_customers")
    in_partner_2 = {
        str(c["id"]) for c in setup.env.splynx.dataset.records["customers"] if c["partner_id"] == 2
    }
    assert in_partner_2
    assert not in_partner_2 & set(log_rows(run))
    assert not {c["externalId"] for c in setup.ns_records("customer")} & {
        f"splynx-customer-{i}" for i in in_partner_2
    }


def test_dry_run_writes_nothing(export_ready):
    setup = export_ready
    run = setup.run("export_customers", dry_run=True)
    assert run.counts.get("would_create")
    assert setup.writes() == 0
    assert session().scalar(select(func.count()).select_from(Link)) == 0
    assert session().scalar(select(func.count()).select_from(Problem)) == 0


def test_lost_links_and_dropped_answers_never_duplicate(export_ready):
    setup = export_ready
    # Some writes commit in NetSuite but the answer never arrives.
    setup.env.netsuite.state.set_faults(drop=0.15, seed=3)
    first = setup.run("export_customers")
    setup.env.netsuite.state.set_faults(drop=0.0)
    assert first.status == "succeeded", (first.status, first.message)
    # The link table is lost after NetSuite's success (a crash before the commit).
    session().execute(delete(Link))
    session().commit()
    second = setup.run("export_customers")
    assert second.status == "succeeded", second.message
    external_ids = [c["externalId"] for c in setup.ns_records("customer")]
    assert len(external_ids) == len(set(external_ids))
    assert len(external_ids) == second.counts.get("created", 0) + second.counts.get("updated", 0)


def test_hostile_names_do_not_break_the_export(export_ready, make_splynx_sandbox):
    setup = export_ready
    setup.use_splynx(make_splynx_sandbox(customers=10, seed=2, bad_inputs=True))
    run = setup.run("export_customers")
    assert run.status == "succeeded", (run.status, run.message)
    rows = log_rows(run)
    bad = {
        b["case"]: str(b["id"])
        for b in setup.env.splynx.dataset.manifest["bad"]
        if b["entity"] == "customers"
    }
    assert (
        rows[bad["bad_email"]].outcome == "skipped"
        and "not a valid address" in rows[bad["bad_email"]].message
    )
    long_row = rows[bad["very_long"]]
    assert long_row.outcome == "created", long_row.message
    assert long_row.message == "companyName truncated to 83 characters"
    assert len(setup.store.get("customer", long_row.netsuite_id)["companyName"]) == 83
    script = rows[bad["script_tag"]]
    assert script.outcome == "created", script.message
    record = setup.store.get("customer", script.netsuite_id)
    assert "<script>" in (
        record.get("firstName", "") + record.get("lastName", "") + record.get("companyName", "")
    )


def test_a_fixed_record_clears_its_problem_and_the_last_one_resolves_it(export_ready):
    setup = export_ready
    dataset, state = setup.env.splynx.dataset, setup.env.splynx.state
    malformed = set(dataset.manifest["malformed_addresses"])
    # Customers held back only by missing fields (not also by their address).
    incomplete = {
        int(k): v for k, v in dataset.manifest["incomplete_customers"].items() if int(k) not in malformed
    }
    assert len(incomplete) >= 2
    setup.run("export_customers")

    def problem(key):
        session().expire_all()
        return session().scalar(select(Problem).where(Problem.cause_key == key))

    missing_before = problem("missing_fields:customer").count
    address_before = problem("unparsed_address:customer").count
    fill = {"email": "fixed{}@example.net", "phone": "+44 7000 {:06d}", "zip_code": "LS1 4AB",
            "street_1": "1 High Street"}  # fmt: skip
    first, *rest = sorted(incomplete)
    state.update("customers", first, {f: fill[f].format(first) for f in incomplete[first]})
    run = setup.run("export_customers")
    assert log_rows(run)[str(first)].outcome == "created"
    assert problem("missing_fields:customer").count == missing_before - 1
    assert not problem("missing_fields:customer").resolved
    assert str(first) not in {r.billing_id for r in problem("missing_fields:customer").records}

    for customer_id in rest:
        state.update(
            "customers", customer_id, {f: fill[f].format(customer_id) for f in incomplete[customer_id]}
        )
    # Those also holding a bad address get theirs rewritten too, or they would stay held back.
    for customer_id in {int(k) for k in dataset.manifest["incomplete_customers"]} & malformed:
        fields = dataset.manifest["incomplete_customers"][customer_id]
        state.update("customers", customer_id, {f: fill[f].format(customer_id) for f in fields})
        state.update(
            "customers", customer_id, {"additional_attributes": {"service_address": "1 Quay, Hull, HU1 1AA"}}
        )
    setup.run("export_customers")
    fixed = problem("missing_fields:customer")
    assert fixed.resolved and fixed.resolved_at is not None and fixed.count == 0
    # The other cause still holds its records.
    assert problem("unparsed_address:customer").count == address_before
    assert not problem("unparsed_address:customer").resolved
