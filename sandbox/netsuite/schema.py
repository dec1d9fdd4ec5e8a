"""Record types the sandbox serves: field names, references, sublists (docs/netsuite-rest.md §4.5–§4.9)."""

from __future__ import annotations

from dataclasses import dataclass, field

# Reference targets. "item" is any item subtype and "taxCode" a salesTaxItem or taxGroup: in
# NetSuite these share one internal-id space, so a line's {"id"} alone identifies the record.
ITEM_TYPES = (
    "inventoryItem",
    "nonInventorySaleItem",
    "serviceSaleItem",
    "otherChargeSaleItem",
    "discountItem",
)
TAX_TYPES = ("salesTaxItem", "taxGroup")
# Items no invoice line of a billing document should use: listed by SuiteQL's `item` table all the
# same, so the product must filter them out of the mapping choices.
NON_SALE_ITEM_TYPES = ("subtotalItem", "descriptionItem", "paymentItem")
TRANSACTION_TYPES = ("invoice", "creditMemo", "customerPayment")


@dataclass(frozen=True)
class Sublist:
    fields: tuple[str, ...]
    refs: dict[str, tuple[str, ...]] = field(default_factory=dict)
    subrecords: tuple[str, ...] = ()
    # keyed sublists merge on this field on PATCH (docs/netsuite-rest.md §4.4); others append
    key: str | None = None
    read_only: tuple[str, ...] = ()
    custom_prefix: str | None = "custcol"

    def canonical(self) -> dict[str, str]:
        names = [*self.fields, *self.refs, *self.subrecords, *self.read_only]
        return {name.lower(): name for name in names}


@dataclass(frozen=True)
class RecordType:
    name: str
    family: str  # which internal-id space the record's ids come from
    fields: tuple[str, ...] = ()
    refs: dict[str, tuple[str, ...]] = field(default_factory=dict)
    sublists: dict[str, Sublist] = field(default_factory=dict)
    subrecords: tuple[str, ...] = ()
    read_only: tuple[str, ...] = ()  # computed: accepted and ignored on write
    custom_prefix: str | None = None
    writable: bool = False
    tran_code: str | None = None
    tranid_prefix: str = ""

    def canonical(self) -> dict[str, str]:
        """Lower-case spelling → canonical camelCase, for case-insensitive body fields
        (docs/netsuite-rest.md §4.5)."""
        names = [*self.fields, *self.refs, *self.sublists, *self.subrecords, *self.read_only, "id"]
        return {name.lower(): name for name in names}


_TRAN_REFS = {
    "subsidiary": ("subsidiary",),
    "currency": ("currency",),
    "terms": ("term",),
    "account": ("account",),
    "postingPeriod": ("accountingPeriod",),
    "class": ("classification",),
    "department": ("department",),
    "location": ("location",),
}
_SEGMENT_REFS = {"class": ("classification",), "department": ("department",), "location": ("location",)}

ITEM_LINE = Sublist(
    fields=tuple(
        "description quantity rate amount price taxRate1 tax1Amt taxAmount isTaxable grossAmt "
        "taxDetailsReference line itemType".split()
    ),
    refs={"item": ITEM_TYPES, "taxCode": TAX_TYPES, **_SEGMENT_REFS},
)
APPLY_LINE = Sublist(
    fields=tuple("apply amount due total line refNum applyDate type job jobName createdFrom".split()),
    refs={"doc": ("invoice",), "currency": ("currency",)},
    key="doc",
)
_OPEN_LINE = Sublist(fields=("doc", "apply", "amount", "line"), key="doc")

# SuiteTax: one line per tax applied to the item line carrying the same taxDetailsReference.
TAX_DETAIL_LINE = Sublist(
    fields=("taxDetailsReference", "taxBasis", "taxRate", "taxAmount", "line"),
    refs={"taxCode": ("salesTaxItem",), "taxType": ("taxType",)},
    custom_prefix=None,
)

_TRAN_FIELDS = tuple(
    "exchangeRate tranDate dueDate tranId memo otherRefNum externalId toBeEmailed taxDetailsOverride".split()
)
_SALES_READ_ONLY = tuple(
    "subtotal taxTotal total amountPaid amountRemaining status createdDate lastModifiedDate".split()
)

RECORD_TYPES: dict[str, RecordType] = {}


def _register(*types: RecordType) -> None:
    for record_type in types:
        RECORD_TYPES[record_type.name] = record_type


_register(
    RecordType(
        "customer",
        family="entity",
        fields=tuple(
            "entityId externalId isPerson companyName firstName middleName lastName salutation email "
            "phone mobilePhone altPhone fax url comments taxable isInactive category".split()
        ),
        refs={
            "subsidiary": ("subsidiary",),
            "currency": ("currency",),
            "terms": ("term",),
            "parent": ("customer",),
            "receivablesAccount": ("account",),
            "taxItem": TAX_TYPES,
        },
        sublists={
            "addressBook": Sublist(
                fields=("defaultBilling", "defaultShipping", "isResidential", "label"),
                subrecords=("addressBookAddress",),
            )
        },
        read_only=("balance", "dateCreated", "lastModifiedDate"),
        custom_prefix="custentity",
        writable=True,
    ),
    RecordType(
        "invoice",
        family="transaction",
        fields=_TRAN_FIELDS,
        refs={"entity": ("customer",), **_TRAN_REFS},
        sublists={"item": ITEM_LINE, "taxDetails": TAX_DETAIL_LINE},
        subrecords=("billingAddress", "shippingAddress"),
        read_only=_SALES_READ_ONLY,
        custom_prefix="custbody",
        writable=True,
        tran_code="CustInvc",
        tranid_prefix="INV",
    ),
    RecordType(
        "creditMemo",
        family="transaction",
        fields=(*_TRAN_FIELDS, "autoApply"),
        refs={"entity": ("customer",), **_TRAN_REFS},
        sublists={"item": ITEM_LINE, "apply": APPLY_LINE, "taxDetails": TAX_DETAIL_LINE},
        subrecords=("billingAddress", "shippingAddress"),
        read_only=(*_SALES_READ_ONLY, "applied", "unapplied"),
        custom_prefix="custbody",
        writable=True,
        tran_code="CustCred",
        tranid_prefix="CM",
    ),
    RecordType(
        "customerPayment",
        family="transaction",
        fields=tuple(
            "payment exchangeRate tranDate tranId memo externalId undepFunds checkNumber autoApply toBeEmailed".split()
        ),
        refs={
            "customer": ("customer",),
            "arAcct": ("account",),
            "paymentOption": ("paymentMethod",),
            **_TRAN_REFS,
        },
        sublists={"apply": APPLY_LINE, "credit": _OPEN_LINE, "deposit": _OPEN_LINE},
        read_only=(
            "total",
            "applied",
            "unapplied",
            "balance",
            "pending",
            "status",
            "createdDate",
            "lastModifiedDate",
        ),
        custom_prefix="custbody",
        writable=True,
        tran_code="CustPymt",
        tranid_prefix="PYMT",
    ),
)

# Lists read for mapping: served read-only, records come from the seed (or the state API).
_register(
    *(RecordType(name, family="item") for name in ITEM_TYPES),
    *(RecordType(name, family="item") for name in TAX_TYPES + NON_SALE_ITEM_TYPES),
    *(
        RecordType(name, family=name)
        for name in (
            "account",
            "classification",
            "department",
            "location",
            "term",
            "subsidiary",
            "currency",
            "accountingPeriod",
            "paymentMethod",
            "taxType",
        )
    ),
)

_BY_LOWER = {name.lower(): record_type for name, record_type in RECORD_TYPES.items()}


def lookup(name: str) -> RecordType | None:
    """The record type for a URL segment; docs/netsuite-rest.md §1.2: the path segment is matched
    case-insensitively."""
    return _BY_LOWER.get(name.lower())
