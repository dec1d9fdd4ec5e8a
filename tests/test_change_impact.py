"""Changes that say what they will touch: a preview of the records in NetSuite, and the choice."""

from __future__ import annotations

import re

from sqlalchemy import select

from addon import settings
from addon.extension import session
from addon.models import Mapping


def _category_change(setup):
    """(category id, its mapped item, another item) for the busiest category, 'Internet plans'."""
    from addon.models import ListCache

    category = next(
        c for c in setup.env.splynx.state.all("transaction_categories") if c["name"] == "Internet plans"
    )
    current = session().scalar(
        select(Mapping.netsuite_id).where(
            Mapping.kind == "category", Mapping.billing_id == str(category["id"])
        )
    )
    other = session().scalar(
        select(ListCache.netsuite_id).where(
            ListCache.kind == "item", ListCache.netsuite_id != current, ListCache.name == "Installation"
        )
    )
    assert current and other
    return category["id"], current, other


def _invoices_with_item(setup, item_id: str) -> set[str]:
    return {
        r["id"]
        for r in setup.ns_records("invoice")
        if any(_ref(line.get("item")) == item_id for line in _lines(r))
    }


def _lines(record: dict) -> list[dict]:
    lines = record.get("item") or []
    return lines.get("items", []) if isinstance(lines, dict) else lines


def _ref(value) -> str | None:
    return str(value.get("id")) if isinstance(value, dict) else (str(value) if value is not None else None)


def _ready(setup):
    assert setup.run("load_mappings").status == "succeeded"
    first = setup.run("export_invoices")
    assert first.counts.get("created"), first.counts


def test_a_mapping_change_is_previewed_and_applied_to_new_records_only(export_ready, client, auth):
    setup = export_ready
    _ready(setup)
    category_id, current, other = _category_change(setup)
    posted = _invoices_with_item(setup, current)
    assert posted
    auth.login()
    field = f"map:category:{category_id}"
    token = auth.csrf_token("/netsuite/mappings/categories")
    response = client.post("/netsuite/mappings/categories", data={"csrf_token": token, field: other})
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    summary = re.search(r'id="impact-summary">([^<]+)<', html).group(1)
    assert summary.startswith("This change would update") and "invoices already in NetSuite" in summary
    count = int(re.search(r"update (\d+) invoices", summary).group(1))
    assert count == len(posted)
    assert re.search(r'id="scope-new" value="new" checked', html)  # the default
    # Nothing saved by the preview.
    assert (
        session().scalar(
            select(Mapping.netsuite_id).where(
                Mapping.kind == "category", Mapping.billing_id == str(category_id)
            )
        )
        == current
    )
    writes = setup.writes()
    response = client.post(
        "/netsuite/mappings/categories", data={"csrf_token": token, field: other, "scope": "new"}
    )
    assert response.status_code == 302
    page = client.get("/netsuite/mappings/categories").get_data(as_text=True)
    assert f"New records only: {count} record(s) already in NetSuite keep what was posted." in page
    again = setup.run("export_invoices")
    assert not again.counts.get("updated"), again.counts
    assert setup.writes() == writes
    assert _invoices_with_item(setup, current) == posted  # posted documents untouched


def test_update_what_is_already_posted_rewrites_them_on_the_next_export(export_ready, client, auth):
    setup = export_ready
    _ready(setup)
    category_id, current, other = _category_change(setup)
    posted = _invoices_with_item(setup, current)
    auth.login()
    token = auth.csrf_token("/netsuite/mappings/categories")
    response = client.post(
        "/netsuite/mappings/categories",
        data={"csrf_token": token, f"map:category:{category_id}": other, "scope": "all"},
    )
    assert response.status_code == 302
    again = setup.run("export_invoices")
    assert again.counts.get("updated") == len(posted)
    assert _invoices_with_item(setup, other) >= posted  # each now carries the new item


def test_a_name_pattern_change_says_how_many_customers_it_would_rename(export_ready, client, auth):
    setup = export_ready
    assert setup.run("export_customers").counts.get("created")
    names = {r["id"]: (r.get("companyName"), r.get("lastName")) for r in setup.ns_records("customer")}
    auth.login()
    form = {
        "netsuite_account_id": setup.env.netsuite.account_id,
        "netsuite_auth_mode": "tba",
        "payment_direction": "splynx_to_netsuite",
        "statement_grouping": "month",
        "smtp_security": "starttls",
        "tax_mode": "suitetax_override",
        "netsuite_concurrency": "4",
        "netsuite_base_url": setup.env.netsuite.url,
        "splynx_url": setup.env.splynx.url,
        "splynx_api_key": setup.env.splynx.api_key,
        "customer_name_pattern": "{name} ({id})",
    }
    # The lists are loaded, so these are selects: a browser posts what each has selected.
    form.update({key: settings.get(key) for key in ("subsidiary", "currency", "rounding_item")})
    token = auth.csrf_token("/netsuite/config")
    response = client.post("/netsuite/config", data={**form, "csrf_token": token})
    assert response.status_code == 200, re.findall(
        r'class="ns-error" id="([^"]+)"[^>]*>([^<]+)', response.get_data(as_text=True)
    )
    html = response.get_data(as_text=True)
    assert f"This change would update {len(names)} customers already in NetSuite" in html

    assert settings.get("customer_name_pattern") == "{name}"  # not saved yet
    response = client.post("/netsuite/config", data={**form, "csrf_token": token, "scope": "new"})
    assert response.status_code == 302
    assert settings.get("customer_name_pattern") == "{name} ({id})"
    again = setup.run("export_customers")
    assert not again.counts.get("updated")
    assert {r["id"]: (r.get("companyName"), r.get("lastName")) for r in setup.ns_records("customer")} == names


def test_the_command_line_keeps_posted_records_unless_told_otherwise(export_ready, runner):
    setup = export_ready
    assert setup.run("export_customers").counts.get("created")
    linked = len(setup.ns_records("customer"))
    result = runner.invoke(args=["netsuite", "config", "set", "customer_name_pattern", "{name} ({id})"])
    assert result.exit_code == 0, result.output
    assert "new records only:" in result.output and "keep what was posted" in result.output
    assert not setup.run("export_customers").counts.get("updated")
    result = runner.invoke(
        args=["netsuite", "config", "set", "customer_name_pattern", "{name} [{id}]", "--scope", "all"]
    )
    assert result.exit_code == 0, result.output
    assert "The next export updates them." in result.output
    assert setup.run("export_customers").counts.get("updated") == linked
