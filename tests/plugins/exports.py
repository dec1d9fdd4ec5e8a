"""Ready-to-export setup over ``configured``: NetSuite ids by name and every mapping saved.

``export_ready`` maps each Splynx category to a NetSuite item and each tax to a tax code of
the same rate (a 7.5 % code is added to the NetSuite sandbox, as an accountant would), sets
the subsidiary (OneWorld accounts), the tax mode the account needs and the rounding item, loads
the NetSuite lists, and returns helpers to read both sandboxes.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pytest

CATEGORY_ITEMS = {
    "Service": "Internet Plans",
    "Discount": "Discount",
    "Payment": "Internet Plans",
    "Refund": "Internet Plans",
    "Correction": "Internet Plans",
    "Internet plans": "Internet Plans",
    "Installation": "Installation",
    "Equipment": "Equipment",
    "Late fees": "Late Fees",
    "Voice": "Internet Plans",
}
TAX_CODES = {
    "VAT 20%": "VAT 20%",
    "Reduced rate 7.5%": "VAT 7.5%",
    "Zero rated": "Zero Rated",
    "Exempt": "Exempt",
}


@dataclass
class ExportSetup:
    env: Any  # tests.plugins.configured.Configured

    @property
    def store(self):
        return self.env.netsuite.state.store

    def ns_id(self, record_type: str, name: str) -> str:
        for record in self.store.records(record_type):
            if name in (record.get("itemId"), record.get("name"), record.get("acctName")):
                return record["id"]
        raise KeyError(name)

    def ns_records(self, record_type: str) -> list[dict]:
        return self.store.records(record_type)

    def writes(self) -> int:
        return self.env.netsuite.state.counters.writes

    def run(self, operation: str, **kwargs):
        from addon.sync.operations import run_operation

        return run_operation(operation, **kwargs)

    def map(self, kind: str, billing_id: Any, netsuite_id: str, name: str = "") -> None:
        from sqlalchemy import select

        from addon.extension import session
        from addon.models import Mapping

        row = session().scalar(
            select(Mapping).where(Mapping.kind == kind, Mapping.billing_id == str(billing_id))
        )
        row = row or Mapping(kind=kind, billing_id=str(billing_id))
        row.netsuite_id, row.billing_name = netsuite_id, name
        session().add(row)
        session().commit()

    def unmap(self, kind: str, billing_id: Any) -> None:
        from sqlalchemy import delete

        from addon.extension import session
        from addon.models import Mapping

        session().execute(delete(Mapping).where(Mapping.kind == kind, Mapping.billing_id == str(billing_id)))
        session().commit()

    def use_splynx(self, sandbox) -> None:
        """Point the add-on at another Splynx sandbox (e.g. one with bad inputs) and map it."""
        self.env.splynx = sandbox
        self.env.settings(
            splynx_url=sandbox.url, splynx_api_key=sandbox.api_key, splynx_api_secret=sandbox.api_secret
        )
        self.map_all()

    def map_all(self) -> None:
        splynx = self.env.splynx.state
        item_types = ("serviceSaleItem", "otherChargeSaleItem", "inventoryItem", "discountItem")
        items = {r["itemId"]: r["id"] for t in item_types for r in self.store.records(t)}
        for category in splynx.all("transaction_categories"):
            if category["name"] in CATEGORY_ITEMS:
                self.map(
                    "category", category["id"], items[CATEGORY_ITEMS[category["name"]]], category["name"]
                )
        for tax in splynx.all("taxes"):
            self.map("tax_rate", tax["id"], self.ns_id("salesTaxItem", TAX_CODES[tax["name"]]), tax["name"])
        self.map("default_bank_account", "", self.ns_id("account", "Operating Checking"))


def load_lists(configured) -> None:
    """What 'Load mappings' stores, without a run of its own (tests count the runs)."""
    from addon.sync.mappings import mapping_lists, read_list, store_list

    ctx = configured.context()
    for kind in mapping_lists(ctx):
        rows, _ = read_list(ctx, kind)
        store_list(kind, rows)


@pytest.fixture
def export_ready(configured) -> ExportSetup:
    from sandbox.netsuite.seed import add_tax_code

    setup = ExportSetup(configured)
    profile = configured.netsuite.state.profile
    add_tax_code(setup.store, "VAT 7.5%", "7.5")
    settings = {
        "tax_mode": "suitetax_override" if profile.suitetax else "legacy",
        "rounding_item": setup.ns_id("otherChargeSaleItem", "Rounding"),
        "splynx_accounting_id_attribute": "netsuite_id",
    }
    if profile.oneworld:
        settings["subsidiary"] = setup.ns_id("subsidiary", "ISP Holdings Inc.")
    configured.settings(**settings)
    load_lists(configured)
    setup.map_all()
    return setup
