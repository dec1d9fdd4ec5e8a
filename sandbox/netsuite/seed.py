"""Deterministic reference data: what a small ISP's NetSuite account would hold for mapping."""

from __future__ import annotations

import calendar
from decimal import Decimal

from .store import RecordStore

FIRST_PERIOD_YEAR, LAST_PERIOD_YEAR = 2020, 2030


def seed_store(store: RecordStore, *, customers: int = 0) -> None:
    """Fill ``store`` with lists (ids are stable across runs) and ``customers`` existing customers."""
    usd = store.insert("currency", _currency("US Dollar", "USD", "$", base=True))
    store.insert("currency", _currency("Euro", "EUR", "€"))
    gbp = store.insert("currency", _currency("British Pound", "GBP", "£"))
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
        accounts[number] = store.insert(
            "account",
            {"acctNumber": number, "acctName": name, "fullName": name,
             "accountSearchDisplayName": f"{number} {name}", "accountSearchDisplayNameCopy": name,
             "displayNameWithHierarchy": name, "acctType": acct_type, "sSpecAcct": special,
             "currency": currency, "subsidiary": subsidiary, "isSummary": False, "isInactive": False},
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
            {"itemId": name, "displayName": name, "fullName": name, "itemType": item_type,
             "description": name, "basePrice": Decimal(price), "incomeAccount": accounts[income],
             "subsidiary": parent, "isInactive": False},
        )  # fmt: skip

    tax_ids = {}
    for name, rate in (("VAT 20%", "20"), ("VAT 5%", "5"), ("Zero Rated", "0"), ("Exempt", "0")):
        tax_ids[name] = store.insert(
            "salesTaxItem",
            {"itemId": name, "name": name, "fullName": name, "description": name, "rate": Decimal(rate),
             "taxType": "VAT", "isInactive": False},
        )  # fmt: skip
    store.insert(
        "taxGroup",
        {"itemId": "VAT Standard Group", "description": "VAT 20% group", "rate": Decimal("20"),
         "taxItem1": tax_ids["VAT 20%"], "isInactive": False},
    )  # fmt: skip

    for name in ("Residential", "Business", "Wholesale"):
        store.insert(
            "classification", {"name": name, "fullName": name, "subsidiary": parent, "isInactive": False}
        )
    for name in ("Sales", "Customer Support", "Network Operations"):
        store.insert(
            "department", {"name": name, "fullName": name, "subsidiary": parent, "isInactive": False}
        )
    for name in ("Head Office", "North POP", "South POP"):
        store.insert("location", {"name": name, "fullName": name, "subsidiary": parent, "isInactive": False})
    for name, days in (("Due on Receipt", 0), ("Net 15", 15), ("Net 30", 30)):
        store.insert(
            "term", {"name": name, "daysUntilNetDue": days, "preferred": days == 30, "isInactive": False}
        )
    for name in ("Cash", "Card", "Bank Transfer", "Direct Debit"):
        store.insert("paymentMethod", {"name": name, "isInactive": False})

    for number in range(1, customers + 1):
        store.create(
            "customer",
            {"companyName": f"Seed Customer {number:03d}", "email": f"seed{number:03d}@example.net",
             "phone": f"+1555{number:07d}", "subsidiary": {"id": parent}, "currency": {"id": usd}},
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
    store.insert(
        "salesTaxItem",
        {"itemId": "VAT 7.5%", "name": "VAT 7.5%", "fullName": "VAT 7.5%", "description": "VAT 7.5%",
         "rate": Decimal("7.5"), "taxType": "VAT", "isInactive": False},
    )  # fmt: skip
