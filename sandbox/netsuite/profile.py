"""Which NetSuite account the sandbox is: one switch per enabled feature (docs/netsuite-accounts.md).

Real accounts differ in the features the administrator turned on, and every feature adds or hides
record fields, SuiteQL tables and validation rules. Each switch below changes exactly what the
feature changes in NetSuite, as far as public sources say; where they say nothing, the sandbox
takes the reading that is harder on the client.

``suitetax``        SuiteTax (True) or legacy tax (False). Under SuiteTax the ``salestaxitem``
                    table has ``name`` but neither ``itemid`` nor ``rate``, a ``taxtype`` table
                    exists, invoices and credit memos take ``taxDetailsOverride`` and a
                    ``taxDetails`` sublist, and a line ``taxCode`` is refused ("REST web services do
                    not support legacy tax features"). Without the override the tax engine
                    computes its own tax (``engine_rate`` on every line), so totals drift.
``oneworld``        OneWorld: subsidiaries exist. Off: SuiteQL on ``subsidiary`` answers 400
                    "Record 'subsidiary' was not found", every ``subsidiary`` field and column is
                    unknown, and customers need none.
``multi_currency``  Multiple Currencies. Off: one (base) currency, and ``currency`` is unknown on
                    customers.
``segments``        Classes, departments and locations. Off: their tables and fields are unknown.
``address_book``    Customers' address books are readable in SuiteQL (``customerAddressbook``,
                    ``customerAddressbookEntityAddress``). Off (an old account, or a role without
                    the permission): both tables answer 400 "Record '…' was not found".
``upsert_location`` What ``Location`` holds after ``PUT .../eid:X`` (Oracle does not say): ``"id"``
                    ends in the internal id, ``"eid"`` ends in ``eid:X`` as requested.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from decimal import Decimal

SEGMENT_FIELDS = ("class", "department", "location")
SEGMENT_TABLES = ("classification", "department", "location")
UPSERT_LOCATIONS = ("id", "eid")
ADDRESS_TABLES = ("customeraddressbook", "customeraddressbookentityaddress")


@dataclass(frozen=True)
class AccountProfile:
    suitetax: bool = True
    oneworld: bool = True
    multi_currency: bool = True
    segments: bool = True
    address_book: bool = True
    upsert_location: str = "id"
    # The rate NetSuite's tax engine would apply to a taxable line when no override is sent.
    engine_rate: Decimal = Decimal("20")

    def __post_init__(self):
        if self.upsert_location not in UPSERT_LOCATIONS:
            raise ValueError(f"upsert_location must be one of {UPSERT_LOCATIONS}")

    def with_(self, **changes) -> AccountProfile:
        return replace(self, **changes)

    # -- what the features hide ------------------------------------------------------------------

    def hidden_fields(self, record_type: str, *, line: bool = False) -> frozenset[str]:
        """Canonical field names a disabled feature removes from ``record_type`` (or its lines)."""
        hidden: set[str] = set()
        if not self.oneworld and not line:
            hidden.add("subsidiary")
        if not self.segments:
            hidden.update(SEGMENT_FIELDS)
        if not self.multi_currency and record_type == "customer":
            hidden.add("currency")
        if not self.suitetax and record_type in ("invoice", "creditMemo"):
            hidden.update(("taxDetails", "taxDetailsOverride", "taxDetailsReference"))
        return frozenset(hidden)

    def hidden_tables(self) -> frozenset[str]:
        """SuiteQL tables (lower case) that do not exist in this account."""
        hidden: set[str] = set()
        if not self.oneworld:
            hidden.add("subsidiary")
        if not self.segments:
            hidden.update(SEGMENT_TABLES)
        if not self.suitetax:
            hidden.add("taxtype")
        if not self.address_book:
            hidden.update(ADDRESS_TABLES)
        return frozenset(hidden)

    def hidden_columns(self, table: str) -> frozenset[str]:
        """SuiteQL columns of ``table`` that do not exist in this account."""
        hidden: set[str] = set()
        if not self.oneworld:
            hidden.add("subsidiary")
        if not self.segments and table == "transactionline":
            hidden.update(SEGMENT_FIELDS)
        if not self.multi_currency and table == "customer":
            hidden.add("currency")
        if self.suitetax and table == "salestaxitem":
            hidden.update(("itemid", "rate"))
        return frozenset(hidden)


# The three profiles the product is tested in (README "NetSuite account profiles").
SUITETAX_ONEWORLD = AccountProfile()
SUITETAX_SINGLE = AccountProfile(oneworld=False, multi_currency=False)
LEGACY_TAX = AccountProfile(suitetax=False)
PROFILES = {"suitetax-oneworld": SUITETAX_ONEWORLD, "suitetax-single": SUITETAX_SINGLE, "legacy": LEGACY_TAX}
