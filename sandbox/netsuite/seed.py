"""Deterministic reference data: what a small ISP's NetSuite account would hold for mapping."""

from __future__ import annotations

import calendar
from decimal import Decimal

from .store import RecordStore

FIRST_PERIOD_YEAR, LAST_PERIOD_YEAR = 2020, 2030


def seed_store(store: RecordStore, *, customers: int = 0) -> None:
    """Fill ``store`` with lists (ids are stable across runs) and ``customers`` existing customers.

    What exists follows ``store.profile``: one currency without Multiple Currencies, no
    subsidiaries without OneWorld, no classes/departments/locations with segments off, and tax
    codes shaped for SuiteTax (name, tax type, no rate) or legacy tax (itemId, rate).
    """
    profile = store.profile
    usd = store.insert("currency", _currency("US Dollar", "USD", "$", base=True))
    gbp = usd
    if profile.multi_currency:
        store.insert("currency", _currency("Euro", "EUR", "€"))
        gbp = store.insert("currency", _currency("British Pound", "GBP", "£"))
    parent = uk = None
    if profile.oneworld:
        parent, uk = _subsidiaries(store, usd, gbp)
    _seed_lists(store, profile, usd, gbp, parent, uk)
    for number in range(1, customers + 1):
        body = {"companyName": f"Seed Customer {number:03d}", "email": f"seed{number:03d}@example.net",
                "phone": f"+1555{number:07d}"}  # fmt: skip
        if profile.oneworld:
            body["subsidiary"] = {"id": parent}
        if profile.multi_currency:
            body["currency"] = {"id": usd}
        store.create("customer", body)


def _subsidiaries(store: RecordStore, usd: str, gbp: str) -> tuple[str, str]:
    parent = store.insert(
        "subsidiary",
        {"name": "ISP Holdings Inc.", "fullName": "ISP Holdings Inc.", "legalName": "ISP Holdings Inc.",
         "currency": usd, "country": "US", "isElimination": False, "isInactive": False},
    )  # fmt: skip
    uk = store.insert(
        "subsidiary",
        {"name": "ISP Networks UK Ltd", "fullName": "ISP Holdings Inc. : ISP Networks UK Ltd",
         "legalName": "ISP Networks UK Ltd", "parent": parent, "currency": gbp, "country": "GB",
         "isElimination": False, "isInactive": False},
    )  # fmt: skip
    return parent, uk


def _owned(profile, fields: dict, subsidiary: str | None) -> dict:
    """``fields`` plus the subsidiary they belong to, in a OneWorld account."""
    return {**fields, "subsidiary": subsidiary} if profile.oneworld else fields


def _seed_lists(store: RecordStore, profile, usd, gbp, parent, uk) -> None:
    for year in range(FIRST_PERIOD_YEAR, LAST_PERIOD_YEAR + 1):
        for month in range(1, 13):
            last = calendar.monthrange(year, month)[1]
            store.insert(
                "accountingPeriod",
                {"periodName": f"{year}-{month:02d}", "startDate": f"{year}-{month:02d}-01",
                 "endDate": f"{year}-{month:02d}-{last:02d}", "closed": False, "isQuarter": False,
                 "isYear": False, "isAdjust": False, "isPosting": True},
            )  # fmt: skip

    accounts = {}
    for number, name, acct_type, special, subsidiary, currency in (
        ("1000", "Operating Checking", "Bank", None, parent, usd),
        ("1010", "Payroll Savings", "Bank", None, parent, usd),
        ("1020", "Card Processor Clearing", "Bank", None, parent, usd),
        ("1030", "UK Current Account", "Bank", None, uk, gbp),
        ("1100", "Accounts Receivable", "AcctRec", "AcctRec", parent, usd),
        ("1200", "Undeposited Funds", "OthCurrAsset", "UndepFunds", parent, usd),
        ("2200", "Sales Tax Payable", "OthCurrLiab", None, parent, usd),
        ("4000", "Internet Service Revenue", "Income", None, parent, usd),
        ("4100", "Installation Revenue", "Income", None, parent, usd),
        ("4200", "Equipment Sales", "Income", None, parent, usd),
        ("4300", "Late Fee Income", "Income", None, parent, usd),
        ("4900", "Rounding Differences", "Income", None, parent, usd),
    ):
        if number == "1030" and not profile.oneworld:
            continue  # the UK account belongs to a subsidiary this account does not have
        accounts[number] = store.insert(
            "account",
            _owned(profile,
                   {"acctNumber": number, "acctName": name, "fullName": name,
                    "accountSearchDisplayName": f"{number} {name}", "accountSearchDisplayNameCopy": name,
                    "displayNameWithHierarchy": name, "acctType": acct_type, "sSpecAcct": special,
                    "currency": currency, "isSummary": False, "isInactive": False}, subsidiary),
        )  # fmt: skip

    for record_type, item_type, name, price, income in (
        ("serviceSaleItem", "Service", "Internet Plans", "49.99", "4000"),
        ("serviceSaleItem", "Service", "Installation", "99.00", "4100"),
        ("inventoryItem", "InvtPart", "Equipment", "120.00", "4200"),
        ("nonInventorySaleItem", "NonInvtPart", "Equipment Rental", "5.00", "4200"),
        ("otherChargeSaleItem", "OthCharge", "Late Fees", "10.00", "4300"),
        ("otherChargeSaleItem", "OthCharge", "Rounding", "0.00", "4900"),
        ("discountItem", "Discount", "Discount", "0.00", "4000"),
    ):
        store.insert(
            record_type,
            _owned(profile,
                   {"itemId": name, "displayName": name, "fullName": name, "itemType": item_type,
                    "description": name, "basePrice": Decimal(price), "incomeAccount": accounts[income],
                    "isInactive": False}, parent),
        )  # fmt: skip
    if profile.suitetax:
        store.insert(
            "taxType", {"name": "VAT", "description": "Value added tax", "country": "GB", "isInactive": False}
        )
    tax_ids = {name: add_tax_code(store, name, rate)
               for name, rate in (("VAT 20%", "20"), ("VAT 5%", "5"), ("Zero Rated", "0"), ("Exempt", "0"))}  # fmt: skip
    if not profile.suitetax:
        store.insert(
            "taxGroup",
            {"itemId": "VAT Standard Group", "description": "VAT 20% group", "rate": Decimal("20"),
             "itemType": "TaxGroup", "taxItem1": tax_ids["VAT 20%"], "isInactive": False},
        )  # fmt: skip

    # Items an invoice line of a billing document must not use; SuiteQL's item table lists them.
    for record_type, item_type, name in (
        ("subtotalItem", "Subtotal", "Subtotal"),
        ("descriptionItem", "Description", "Note"),
        ("paymentItem", "Payment", "Payment Received"),
    ):
        store.insert(
            record_type,
            {"itemId": name, "displayName": name, "fullName": name, "itemType": item_type,
             "description": name, "isInactive": False},
        )  # fmt: skip

    if profile.segments:
        for record_type, names in (
            ("classification", ("Residential", "Business", "Wholesale")),
            ("department", ("Sales", "Customer Support", "Network Operations")),
            ("location", ("Head Office", "North POP", "South POP")),
        ):
            for name in names:
                store.insert(
                    record_type,
                    _owned(profile, {"name": name, "fullName": name, "isInactive": False}, parent),
                )
    for name, days in (("Due on Receipt", 0), ("Net 15", 15), ("Net 30", 30)):
        store.insert(
            "term", {"name": name, "daysUntilNetDue": days, "preferred": days == 30, "isInactive": False}
        )
    for name in ("Cash", "Card", "Bank Transfer", "Direct Debit"):
        store.insert("paymentMethod", {"name": name, "isInactive": False})


def add_tax_code(store: RecordStore, name: str, rate: str) -> str:
    """A tax code as the account's tax feature shapes it.

    Legacy: an item with ``itemId`` and its ``rate``. SuiteTax ("Tax Code Records in SuiteTax"): a
    ``name`` and the tax type it belongs to; rates live elsewhere and are not on the code.
    """
    if store.profile.suitetax:
        tax_type = next((t["id"] for t in store.records("taxType") if t["name"] == "VAT"), None)
        return store.insert(
            "salesTaxItem",
            {"name": name, "fullName": name, "description": name, "taxType": tax_type,
             "itemType": "TaxItem", "isInactive": False},
        )  # fmt: skip
    return store.insert(
        "salesTaxItem",
        {"itemId": name, "name": name, "fullName": name, "description": name, "rate": Decimal(rate),
         "taxType": "VAT", "itemType": "TaxItem", "isInactive": False},
    )  # fmt: skip


def _currency(name: str, symbol: str, display: str, *, base: bool = False) -> dict:
    return {
        "name": name,
        "symbol": symbol,
        "displaySymbol": display,
        "exchangeRate": Decimal("1"),
        "isBaseCurrency": base,
        "currencyPrecision": 2,
        "isInactive": False,
    }


def add_isp_extras(store: RecordStore) -> None:
    """What the demo ISP's accountant set up before connecting the add-on.

    The generated ISP sells voice and charges a reduced VAT rate; the base seed
    deliberately lacks both, so tests can show unmapped categories and rates.
    """
    store.insert(
        "serviceSaleItem",
        {"itemId": "Voice Services", "displayName": "Voice Services", "fullName": "Voice Services",
         "itemType": "Service", "description": "Voice Services", "basePrice": Decimal("0"), "isInactive": False},
    )  # fmt: skip
    add_tax_code(store, "VAT 7.5%", "7.5")
