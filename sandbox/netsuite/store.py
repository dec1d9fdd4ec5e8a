"""Record storage with NetSuite's write semantics (docs/netsuite-rest.md §4): validation, references,
sublist merge rules, transaction totals, payment application and closed periods.

All state lives behind one lock; the SuiteQL mirror (``suiteql.SuiteQLIndex``) is refreshed
inside the same critical section so queries always see committed writes.
"""

from __future__ import annotations

import copy
import threading
from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

from . import errors
from .profile import AccountProfile
from .schema import RECORD_TYPES, RecordType, Sublist, lookup

CENT = Decimal("0.01")
MONEY_FIELDS = frozenset(
    "quantity rate amount payment exchangeRate taxRate1 tax1Amt taxAmount grossAmt due total taxBasis taxRate".split()
)
DATE_FIELDS = frozenset({"tranDate", "dueDate", "applyDate"})
_ADDRESS_CANONICAL = {
    name.lower(): name
    for name in "addr1 addr2 addr3 addressee attention addrPhone city state zip country addrText override".split()
}
_STATUS_NAMES = {
    "invoice": {"A": "Open", "B": "Paid In Full"},
    "creditMemo": {"A": "Open", "B": "Fully Applied"},
    "customerPayment": {"A": "Unapproved Payment", "B": "Not Deposited", "C": "Deposited"},
}
# Oracle: "REST web services do not support legacy tax features" (docs/netsuite-accounts.md); the
# wording of the refusal is the sandbox's own (unconfirmed).
LEGACY_TAX_CODE_MESSAGE = (
    "Legacy tax fields are not supported by REST web services when SuiteTax is enabled: send the tax "
    "in the taxDetails sublist."
)
# The brief asks for a closed-period rejection; the reference records no REST text for it. This
# wording follows NetSuite's UI message for posting into a locked/closed period (unconfirmed).
CLOSED_PERIOD_MESSAGE = (
    "The accounting period for this transaction date is closed. Choose a date in an open period."
)


def cents(value: Decimal) -> Decimal:
    return value.quantize(CENT, rounding=ROUND_HALF_UP)


@dataclass
class DuplicateExternalIdError:
    """Shape of the duplicate-externalId rejection on POST.

    docs/netsuite-rest.md §4.3/§7.2: the REST status/code/text are unconfirmed (SOAP says DUP_RCRD); 400
    USER_ERROR is the reference's suggestion, kept configurable.
    """

    status: int = 400
    code: str = "USER_ERROR"
    detail: str = errors.PREFIX + "A record with the same external ID already exists."


@dataclass
class AccountPreferences:
    """Accounting preferences a customer payment follows when its body leaves them open.

    Both default to on, the less convenient reading for an integration: a payment that does not
    say ``undepFunds: false`` lands in Undeposited Funds, one that does not say
    ``autoApply: false`` is applied to the customer's oldest open invoices.
    """

    undeposited_funds: bool = True
    auto_apply: bool = True


@dataclass
class WriteResult:
    """Outcome of a write: the record id plus the headers NetSuite attaches to a 204
    (docs/netsuite-rest.md §2)."""

    record_type: str
    id: str
    created: bool
    warnings: list[str] = field(default_factory=list)
    unknown_fields: list[str] = field(default_factory=list)


class RecordStore:
    """Thread-safe in-memory NetSuite records, mirrored into SQLite for SuiteQL."""

    def __init__(self, clock: Callable[[], float], profile: AccountProfile | None = None):
        from .suiteql import SuiteQLIndex

        self.profile = profile or AccountProfile()
        self._clock = clock
        self._lock = threading.RLock()
        self._records: dict[str, dict[str, dict]] = {name: {} for name in RECORD_TYPES}
        self._type_of: dict[tuple[str, str], str] = {}  # (family, id) → record type
        self._next_id: dict[str, int] = defaultdict(lambda: 1)
        self._eids: dict[str, dict[str, str]] = {name: {} for name in RECORD_TYPES}
        # invoice id → {applying transaction id → amount}: payments and credit memos
        # (docs/netsuite-rest.md §4.4, §4.6)
        self._applications: dict[str, dict[str, Decimal]] = defaultdict(dict)
        self._tranid_seq: dict[str, int] = defaultdict(lambda: 1000)
        self.index = SuiteQLIndex(self.profile)
        self.duplicate_error = DuplicateExternalIdError()
        self.preferences = AccountPreferences()

    # -- lookups ---------------------------------------------------------------------------------

    def record_type(self, name: str) -> RecordType:
        """Resolve a URL record type, or raise NetSuite's 404 for unknown types."""
        record_type = lookup(name)
        if record_type is None:
            raise errors.unknown_record_type(name)
        return record_type

    def find_id(self, type_name: str, key: str) -> str:
        """Internal id for ``key`` (an id or ``eid:<externalId>``) or raise 404/400
        (docs/netsuite-rest.md §7.2)."""
        record_type = self.record_type(type_name)
        with self._lock:
            if key.startswith("eid:"):
                record_id = self._eids[record_type.name].get(key[4:])
                if record_id is None:
                    raise errors.record_not_found()
                return record_id
            if key in self._records[record_type.name]:
                return key
            other = self._type_of.get((record_type.family, key))
            if other is not None and record_type.tran_code:
                # docs/netsuite-rest.md §7.2: a transaction id of another transaction type.
                raise errors.user_error("Transaction type specified is incorrect.")
            raise errors.record_not_found()

    def get(self, type_name: str, key: str) -> dict:
        """A deep copy of the raw stored record (tests and the seed use this)."""
        record_type = self.record_type(type_name)
        with self._lock:
            return copy.deepcopy(self._records[record_type.name][self.find_id(type_name, key)])

    def ids(self, type_name: str) -> list[str]:
        record_type = self.record_type(type_name)
        with self._lock:
            return sorted(self._records[record_type.name], key=int)

    def records(self, type_name: str) -> list[dict]:
        with self._lock:
            return [self.get(type_name, record_id) for record_id in self.ids(type_name)]

    def _find(self, targets: Iterable[str], record_id: str) -> tuple[str, dict] | None:
        for target in targets:
            record = self._records[target].get(record_id)
            if record is not None:
                return target, record
        return None

    def suiteql(self, query: str) -> list[dict]:
        """Every row of a SuiteQL query (capped at 100,000), rendered per docs/netsuite-rest.md §6.1."""
        with self._lock:
            return self.index.query(query)

    # -- direct inserts (seed, read-only lists) ----------------------------------------------------

    def insert(self, type_name: str, fields: dict) -> str:
        """Store a record as given, without write validation: for lists and seed data."""
        record_type = self.record_type(type_name)
        with self._lock:
            record = dict(fields)
            record["id"] = str(record.get("id") or self._allocate(record_type))
            self._next_id[record_type.family] = max(self._next_id[record_type.family], int(record["id"]) + 1)
            self._commit(record_type, record, previous=None)
            return record["id"]

    def _allocate(self, record_type: RecordType) -> str:
        record_id = self._next_id[record_type.family]
        self._next_id[record_type.family] = record_id + 1
        return str(record_id)

    def set_period_closed(self, period: str, closed: bool = True) -> None:
        """Close (or reopen) an accounting period by name ``YYYY-MM``, id or containing date."""
        with self._lock:
            for record in self._records["accountingPeriod"].values():
                if period in (record["id"], record["periodName"]) or (
                    len(period) == 10 and record["startDate"] <= period <= record["endDate"]
                ):
                    record["closed"] = closed
                    self.index.refresh(self, "accountingPeriod", record)
                    return
            raise KeyError(period)

    # -- writes ----------------------------------------------------------------------------------

    def create(
        self, type_name: str, body: dict, *, replace: Iterable[str] = (), name_validation: str = "warning"
    ) -> WriteResult:
        """POST semantics: validate, reject duplicate externalId, store (docs/netsuite-rest.md §4.1, §4.3)."""
        record_type = self._writable(type_name)
        with self._lock:
            unknown: list[str] = []
            changes = self._normalize(record_type, body, "", unknown, name_validation)
            external_id = changes.get("externalId")
            if external_id and external_id in self._eids[record_type.name]:
                duplicate = self.duplicate_error
                raise errors.NetSuiteError(duplicate.status, duplicate.code, duplicate.detail)
            record = {"id": None}
            result = self._write(
                record_type, record, changes, replace=set(record_type.sublists), unknown=unknown
            )
            return result

    def update(
        self,
        type_name: str,
        key: str,
        body: dict,
        *,
        replace: Iterable[str] = (),
        name_validation: str = "warning",
    ) -> WriteResult:
        """PATCH semantics: merge fields; non-keyed sublists APPEND unless named in ``replace``
        (docs/netsuite-rest.md §4.4)."""
        record_type = self._writable(type_name)
        with self._lock:
            record_id = self.find_id(type_name, key)
            unknown: list[str] = []
            changes = self._normalize(record_type, body, "", unknown, name_validation)
            external_id = changes.get("externalId")
            if external_id and self._eids[record_type.name].get(external_id, record_id) != record_id:
                duplicate = self.duplicate_error
                raise errors.NetSuiteError(duplicate.status, duplicate.code, duplicate.detail)
            record = copy.deepcopy(self._records[record_type.name][record_id])
            return self._write(
                record_type,
                record,
                changes,
                replace=self._sublist_names(record_type, replace),
                unknown=unknown,
            )

    def upsert(
        self,
        type_name: str,
        external_id: str,
        body: dict,
        *,
        replace: Iterable[str] = (),
        name_validation: str = "warning",
    ) -> WriteResult:
        """PUT ``eid:`` (docs/netsuite-rest.md §4.3): create when no record of the type has the externalId,
        else update.

        The update branch merges like PATCH (sublists append unless ``replace``); whether NetSuite
        replaces sublists on an upsert-update is unconfirmed, so the inconvenient reading is used.
        """
        record_type = self._writable(type_name)
        with self._lock:
            body = {**body, "externalId": external_id}
            if external_id in self._eids[record_type.name]:
                return self.update(
                    type_name, "eid:" + external_id, body, replace=replace, name_validation=name_validation
                )
            return self.create(type_name, body, name_validation=name_validation)

    def delete(self, type_name: str, key: str) -> None:
        """DELETE; refuses records other records depend on (applied invoices, customers in use)."""
        record_type = self._writable(type_name)
        with self._lock:
            record_id = self.find_id(type_name, key)
            record = self._records[record_type.name][record_id]
            dependent = (record_type.name == "invoice" and self._applications.get(record_id)) or (
                record_type.name == "customer"
                and any(
                    record_id in (tran.get("entity"), tran.get("customer"))
                    for name in ("invoice", "creditMemo", "customerPayment")
                    for tran in self._records[name].values()
                )
            )
            if dependent:
                raise errors.user_error("This record cannot be deleted because it has dependent records.")
            if record_type.tran_code:
                self._check_period(record)
            affected = self._set_applications(record_id, {})
            del self._records[record_type.name][record_id]
            del self._type_of[(record_type.family, record_id)]
            if record.get("externalId"):
                self._eids[record_type.name].pop(record["externalId"], None)
            self.index.remove(record_type.name, record_id)
            self._refresh_invoices(affected)

    # -- write internals -------------------------------------------------------------------------

    def _writable(self, type_name: str) -> RecordType:
        record_type = self.record_type(type_name)
        if not record_type.writable:
            # A sandbox limitation: mapping lists are served read-only.
            raise errors.NetSuiteError(
                405, "INVALID_METHOD", f"The sandbox serves '{record_type.name}' read-only."
            )
        return record_type

    @staticmethod
    def _sublist_names(record_type: RecordType, names: Iterable[str]) -> set[str]:
        canonical = {name.lower(): name for name in record_type.sublists}
        return {canonical[name.lower()] for name in names if name.lower() in canonical}

    def _write(self, record_type, record, changes, *, replace, unknown) -> WriteResult:
        created = record["id"] is None
        previous = None if created else self._records[record_type.name][record["id"]]
        if previous is not None and record_type.tran_code:
            self._check_period(previous)
        for name, value in changes.items():
            sublist = record_type.sublists.get(name)
            if sublist is None:
                if value is None:
                    record.pop(name, None)
                else:
                    record[name] = value
            elif name in replace or name not in record:
                record[name] = value
            elif sublist.key:
                record[name] = _merge_keyed(record[name], value, sublist.key)
            else:
                record[name] = record[name] + value
        warnings: list[str] = []
        finalize = getattr(self, "_finalize_" + record_type.name)
        new_applications = finalize(record_type, record, warnings)
        if created:
            record["id"] = self._allocate(record_type)
            record["createdDate" if record_type.tran_code else "dateCreated"] = self._now()
        record["lastModifiedDate"] = self._now()
        self._commit(record_type, record, previous)
        if new_applications is not None:
            self._refresh_invoices(self._set_applications(record["id"], new_applications))
        return WriteResult(record_type.name, record["id"], created, warnings, unknown)

    def _commit(self, record_type: RecordType, record: dict, previous: dict | None) -> None:
        eids = self._eids[record_type.name]
        if previous and previous.get("externalId"):
            eids.pop(previous["externalId"], None)
        if record.get("externalId"):
            eids[record["externalId"]] = record["id"]
        self._records[record_type.name][record["id"]] = record
        self._type_of[(record_type.family, record["id"])] = record_type.name
        self.index.refresh(self, record_type.name, record)

    def _set_applications(self, source_id: str, amounts: dict[str, Decimal]) -> set[str]:
        """Replace what ``source_id`` applies to which invoices; returns the invoices touched."""
        touched = {invoice for invoice, by_source in self._applications.items() if source_id in by_source}
        for invoice in touched:
            del self._applications[invoice][source_id]
        for invoice, amount in amounts.items():
            self._applications[invoice][source_id] = amount
        touched |= set(amounts)
        return touched

    def _refresh_invoices(self, invoice_ids: Iterable[str]) -> None:
        now = self._now()
        for invoice_id in invoice_ids:
            invoice = self._records["invoice"].get(invoice_id)
            if invoice is not None:
                invoice["lastModifiedDate"] = now
                self.index.refresh(self, "invoice", invoice)
        # Link rows live with the applying transaction, which was refreshed by its own commit.

    def _now(self) -> str:
        return datetime.fromtimestamp(self._clock(), UTC).strftime("%Y-%m-%dT%H:%M:%SZ")

    def _today(self) -> str:
        return datetime.fromtimestamp(self._clock(), UTC).date().isoformat()

    # -- body normalisation ------------------------------------------------------------------------

    def _normalize(
        self, shape, body, path: str, unknown: list[str], name_validation: str, owner: str = ""
    ) -> dict:
        """Map a JSON body onto canonical field names, resolving references
        (docs/netsuite-rest.md §2, §4.5)."""
        if not isinstance(body, dict):
            raise errors.NetSuiteError(400, "INVALID_CONTENT", "Invalid content in the request body.")
        canonical = shape.canonical()
        # Features the account lacks hide fields: sent anyway, they are unknown names (profile.py).
        line = not isinstance(shape, RecordType)
        owner = owner if line else shape.name
        hidden = self.profile.hidden_fields(owner, line=line)
        canonical = {lower: name for lower, name in canonical.items() if name not in hidden}
        custom = getattr(shape, "custom_prefix", None)
        out: dict = {}
        for raw_name, value in body.items():
            name = canonical.get(raw_name.lower())
            where = f"{path}{raw_name}"
            if name is None:
                if custom and raw_name.lower().startswith(custom):
                    out[raw_name] = value
                    continue
                if name_validation == "error":
                    raise errors.NetSuiteError(
                        400,
                        "INVALID_CONTENT",
                        errors.PREFIX + f"Invalid field name {raw_name}.",
                        **{"o:errorPath": where},
                    )
                if name_validation != "ignore":
                    unknown.append(raw_name)
                continue
            if name in shape.read_only or name == "id" or name in ("links", "refName"):
                continue
            if name in shape.refs:
                out[name] = self._resolve_ref(shape.refs[name], value, name, where)
            elif name in getattr(shape, "sublists", {}):
                out[name] = self._normalize_sublist(
                    shape.sublists[name], value, where, unknown, name_validation, owner
                )
            elif name in shape.subrecords:
                out[name] = _normalize_address(value, where)
            else:
                out[name] = _scalar(name, value, where)
        return out

    def _normalize_sublist(
        self, sublist: Sublist, value, path, unknown, name_validation, owner: str
    ) -> list[dict]:
        items = value.get("items") if isinstance(value, dict) else value
        if not isinstance(items, list):
            raise errors.NetSuiteError(
                400, "INVALID_CONTENT", "Invalid content in the request body.", **{"o:errorPath": path}
            )
        return [
            self._normalize(sublist, line, f"{path}.items[{index}].", unknown, name_validation, owner)
            for index, line in enumerate(items)
        ]

    def _resolve_ref(self, targets: tuple[str, ...], value, name: str, path: str) -> str | None:
        if value is None:
            return None
        external_id = None
        if isinstance(value, dict):
            # nsResource allows {"externalId"}; whether NetSuite resolves it on write is unconfirmed
            # (docs/netsuite-rest.md §2).
            if value.get("id") is not None:
                value = value["id"]
            elif value.get("externalId") is not None:
                external_id = str(value["externalId"])
            else:
                raise errors.invalid_reference("", name, path)
        if external_id is not None:
            for target in targets:
                record_id = self._eids[target].get(external_id)
                if record_id is not None:
                    return record_id
            raise errors.invalid_reference(external_id, name, path)
        record_id = str(value)
        if self._find(targets, record_id) is None:
            raise errors.invalid_reference(record_id, name, path)
        return record_id

    # -- per-type rules --------------------------------------------------------------------------

    def _finalize_customer(self, record_type, record, warnings) -> None:
        missing = []
        if record.get("isPerson"):
            missing += [
                label
                for key, label in (("firstName", "First Name"), ("lastName", "Last Name"))
                if not record.get(key)
            ]
        elif not record.get("companyName"):
            missing.append("Company Name")
        if self.profile.oneworld and not record.get("subsidiary"):
            missing.append("Subsidiary")  # OneWorld account (docs/netsuite-rest.md §4.5)
        if missing:
            raise errors.user_error("Please enter value(s) for: " + ", ".join(missing))
        record.setdefault("isPerson", False)
        record.setdefault("isInactive", False)
        if not record.get("currency"):
            if self.profile.oneworld:
                record["currency"] = self._records["subsidiary"][record["subsidiary"]].get("currency")
            else:
                record["currency"] = self._base_currency()
        if not record.get("entityId"):
            record["entityId"] = f"CUST{self._next_id['entity']:05d}"
        return None

    def _base_currency(self) -> str | None:
        return next((c["id"] for c in self._records["currency"].values() if c.get("isBaseCurrency")), None)

    def _transaction_header(self, record_type: RecordType, record: dict, party_field: str) -> dict:
        if not record.get(party_field):
            label = {"entity": "Customer", "customer": "Customer"}[party_field]
            raise errors.user_error(f"Please enter value(s) for: {label}")
        customer = self._records["customer"][record[party_field]]
        record.setdefault("subsidiary", customer.get("subsidiary"))
        record.setdefault("currency", customer.get("currency"))
        record.setdefault("tranDate", self._today())
        record.setdefault("exchangeRate", Decimal("1"))
        period = self._period_for(record["tranDate"])
        if period is not None and not record.get("postingPeriod"):
            record["postingPeriod"] = period["id"]
        self._check_period(record)
        if not record.get("tranId"):
            self._tranid_seq[record_type.name] += 1
            record["tranId"] = f"{record_type.tranid_prefix}{self._tranid_seq[record_type.name]}"
        return customer

    def _period_for(self, tran_date: str) -> dict | None:
        for period in self._records["accountingPeriod"].values():
            if period["startDate"] <= tran_date <= period["endDate"]:
                return period
        return None

    def _check_period(self, record: dict) -> None:
        period = self._records["accountingPeriod"].get(record.get("postingPeriod") or "")
        if period is None and record.get("tranDate"):
            period = self._period_for(record["tranDate"])
        if period is not None and period.get("closed"):
            raise errors.user_error(CLOSED_PERIOD_MESSAGE, **{"o:errorPath": "tranDate"})

    def _compute_lines(self, record: dict, warnings: list[str]) -> None:
        lines = record.get("item") or []
        subtotal = tax_total = Decimal("0")
        for index, line in enumerate(lines):
            path = f"item.items[{index}]."
            if not line.get("item"):
                raise errors.user_error("Please enter value(s) for: Item", **{"o:errorPath": path + "item"})
            item_type, item = self._find(_item_types(), line["item"])
            quantity = line.get("quantity", Decimal("1"))
            rate = line.get("rate", item.get("basePrice"))
            if line.get("amount") is not None:
                amount = cents(line["amount"])
                if rate is not None and cents(quantity * rate) != amount:
                    warnings.append("line total amount is not equal to the item price times the quantity")
            elif rate is not None:
                amount = cents(quantity * rate)
            else:
                raise errors.user_error(
                    "Please enter value(s) for: Amount", **{"o:errorPath": path + "amount"}
                )
            if self.profile.suitetax:
                if line.get("taxCode"):
                    raise errors.user_error(LEGACY_TAX_CODE_MESSAGE, **{"o:errorPath": path + "taxCode"})
                tax_rate = Decimal("0") if record.get("taxDetailsOverride") else self.profile.engine_rate
            else:
                # Legacy per-line tax codes with their own rate (the legacy profile).
                tax_rate = Decimal("0")
                if line.get("taxCode"):
                    _, tax = self._find(("salesTaxItem", "taxGroup"), line["taxCode"])
                    tax_rate = tax.get("rate", Decimal("0"))
            tax = cents(amount * tax_rate / 100)
            line.update(
                quantity=quantity,
                amount=amount,
                taxRate1=tax_rate,
                tax1Amt=tax,
                grossAmt=amount + tax,
                line=index + 1,
                itemType=item.get("itemType", "Service"),
            )
            if rate is not None:
                line["rate"] = rate
            subtotal += amount
            tax_total += tax
        if self.profile.suitetax:
            tax_total = self._suitetax_details(record, lines, tax_total)
        record["subtotal"] = subtotal
        record["taxTotal"] = tax_total
        record["total"] = subtotal + tax_total

    def _suitetax_details(self, record: dict, lines: list[dict], engine_tax: Decimal) -> Decimal:
        """The document's tax under SuiteTax: the override's details as sent, or the engine's.

        With ``taxDetailsOverride`` each detail must name an item line by ``taxDetailsReference``
        and carry a tax code, tax type and amount; a line with no detail has no tax. Without the
        override NetSuite's engine decides (here: ``engine_rate`` on every line) and any details
        sent are replaced by the engine's own.
        """
        references = {line.get("taxDetailsReference") for line in lines if line.get("taxDetailsReference")}
        if not record.get("taxDetailsOverride"):
            record["taxDetails"] = [
                {"taxDetailsReference": line.get("taxDetailsReference") or str(line["line"]),
                 "taxBasis": line["amount"], "taxRate": line["taxRate1"], "taxAmount": line["tax1Amt"],
                 "line": index}
                for index, line in enumerate(lines)
            ]  # fmt: skip
            return engine_tax
        by_reference: dict[str, Decimal] = {}
        for index, detail in enumerate(record.get("taxDetails") or []):
            path = f"taxDetails.items[{index}]."
            reference = detail.get("taxDetailsReference")
            if reference not in references:
                raise errors.user_error(
                    f"Tax details reference {reference} does not match any item line.",
                    **{"o:errorPath": path + "taxDetailsReference"},
                )
            for name, label in (
                ("taxCode", "Tax Code"),
                ("taxType", "Tax Type"),
                ("taxAmount", "Tax Amount"),
            ):
                if detail.get(name) is None:
                    raise errors.user_error(
                        f"Please enter value(s) for: {label}", **{"o:errorPath": path + name}
                    )
            detail["taxAmount"] = cents(detail["taxAmount"])
            detail["line"] = index
            by_reference[reference] = by_reference.get(reference, Decimal("0")) + detail["taxAmount"]
        for line in lines:
            tax = by_reference.get(line.get("taxDetailsReference"), Decimal("0"))
            line.update(tax1Amt=tax, taxAmount=tax, grossAmt=line["amount"] + tax)
            line.pop("taxRate1", None)
        return sum(by_reference.values(), Decimal("0"))

    def _finalize_invoice(self, record_type, record, warnings) -> None:
        self._transaction_header(record_type, record, "entity")
        if not record.get("item"):
            raise errors.user_error("You must enter at least one line item for this transaction.")
        self._compute_lines(record, warnings)
        paid = sum(self._applications.get(record.get("id") or "", {}).values(), Decimal("0"))
        if record["total"] < paid:
            raise errors.user_error("The invoice total cannot be less than the amount already applied to it.")
        return None

    def _finalize_creditMemo(self, record_type, record, warnings) -> dict[str, Decimal]:
        self._transaction_header(record_type, record, "entity")
        if not record.get("item"):
            raise errors.user_error("You must enter at least one line item for this transaction.")
        self._compute_lines(record, warnings)
        applications = self._validate_apply(record, record["entity"])
        applied = sum(applications.values(), Decimal("0"))
        if applied > record["total"]:
            raise errors.user_error("The total applied exceeds the amount of this credit memo.")
        return applications

    def _finalize_customerPayment(self, record_type, record, warnings) -> dict[str, Decimal]:
        self._transaction_header(record_type, record, "customer")
        applications = self._validate_apply(record, record["customer"])
        applied = sum(applications.values(), Decimal("0"))
        if record.get("payment") is None:
            if not applied:
                raise errors.user_error("Please enter value(s) for: Payment Amount")
            # Recorded create (docs/netsuite-rest.md §4.7) sends no `payment`: NetSuite derives it from the
            # applied lines.
            record["payment"] = applied
        record["payment"] = cents(record["payment"])
        if applied > record["payment"]:
            raise errors.user_error("The total applied exceeds the payment amount.")
        if record.get("undepFunds") is None:
            # The account's "Use Undeposited Funds" preference decides for a body that says nothing.
            record["undepFunds"] = self.preferences.undeposited_funds
        if record["undepFunds"]:
            # SOAP schema browser, customerPayment: `account` is "required when undepFunds is set
            # to FALSE"; with undepFunds true the money goes to Undeposited Funds, whatever was sent.
            record["account"] = self._undeposited_funds_account()
        elif not record.get("account"):
            raise errors.user_error("Please enter value(s) for: Account", **{"o:errorPath": "account"})
        account = self._records["account"].get(record["account"] or "")
        if account is None or account.get("acctType") not in ("Bank", "OthCurrAsset"):
            raise errors.invalid_reference(str(record.get("account")), "account", "account")
        if record.get("autoApply") is None:
            record["autoApply"] = self.preferences.auto_apply
        if record["autoApply"] and not applications and record.get("id") is None:
            # The "Auto Apply" preference: NetSuite applies a new payment that names no invoice
            # to the customer's oldest open invoices.
            applications = self._auto_apply(record)
        return applications

    def receivables_account(self) -> str | None:
        for account in self._records["account"].values():
            if account.get("sSpecAcct") == "AcctRec":
                return account["id"]
        return None

    def _undeposited_funds_account(self) -> str:
        for account in self._records["account"].values():
            if account.get("sSpecAcct") == "UndepFunds":
                return account["id"]
        raise errors.user_error("The account has no Undeposited Funds account.")

    def _auto_apply(self, record: dict) -> dict[str, Decimal]:
        own, left = record.get("id") or "", record["payment"]
        amounts: dict[str, Decimal] = {}
        invoices = sorted(
            (i for i in self._records["invoice"].values() if i.get("entity") == record["customer"]),
            key=lambda i: (i.get("tranDate") or "", int(i["id"])),
        )
        for invoice in invoices:
            if left <= 0:
                break
            others = sum(
                (a for source, a in self._applications.get(invoice["id"], {}).items() if source != own),
                Decimal("0"),
            )
            due = invoice["total"] - others
            if due > 0:
                amounts[invoice["id"]] = min(due, left)
                left -= amounts[invoice["id"]]
        record["apply"] = [
            {"doc": doc, "apply": True, "amount": amount, "line": index}
            for index, (doc, amount) in enumerate(amounts.items())
        ]
        return amounts

    def set_payment_state(self, payment_id: str, *, voided: bool | None = None, approved: bool | None = None):
        """Void a customer payment or mark it unapproved, as a NetSuite user would in the UI."""
        with self._lock:
            record = self._records["customerPayment"][payment_id]
            if voided is not None:
                record["voided"] = voided
            if approved is not None:
                record["approved"] = approved
            self.index.refresh(self, "customerPayment", record)

    def _validate_apply(self, record: dict, customer_id: str) -> dict[str, Decimal]:
        """Apply lines keyed by ``doc`` (docs/netsuite-rest.md §4.4, §4.7): open invoices of the same
        customer, ≤ amount due."""
        kept, amounts = [], {}
        own = record.get("id") or ""
        for index, line in enumerate(record.get("apply") or []):
            path = f"apply.items[{index}]."
            invoice_id = line.get("doc")
            if not invoice_id:
                raise errors.user_error("Please enter value(s) for: Doc", **{"o:errorPath": path + "doc"})
            invoice = self._records["invoice"][invoice_id]
            if invoice.get("entity") != customer_id:
                raise errors.user_error(
                    f"Invoice {invoice['tranId']} belongs to another customer.",
                    **{"o:errorPath": path + "doc"},
                )
            others = sum(
                (
                    amount
                    for source, amount in self._applications.get(invoice_id, {}).items()
                    if source != own
                ),
                Decimal("0"),
            )
            due = invoice["total"] - others
            if line.get("apply") is False or line.get("amount") == 0:
                continue  # docs/netsuite-rest.md §4.4: apply:false / amount:0 unapplies
            amount = cents(line["amount"]) if line.get("amount") is not None else due
            if amount > due or amount < 0:
                raise errors.user_error(
                    f"The amount applied to invoice {invoice['tranId']} exceeds its amount due ({due}).",
                    **{"o:errorPath": path + "amount"},
                )
            amounts[invoice_id] = amounts.get(invoice_id, Decimal("0")) + amount
            kept.append({**line, "apply": True, "amount": amount})
        record["apply"] = kept
        for index, line in enumerate(kept):
            line["line"] = index
        return amounts

    # -- derived values (read side) ----------------------------------------------------------------

    def derived(self, type_name: str, record: dict) -> dict:
        """Amounts and status NetSuite computes on read: paid/remaining, applied/unapplied."""
        with self._lock:
            if type_name == "invoice":
                paid = sum(self._applications.get(record["id"], {}).values(), Decimal("0"))
                remaining = record["total"] - paid
                return {
                    "amountPaid": paid,
                    "amountRemaining": remaining,
                    "status": "B" if remaining == 0 else "A",
                }
            if type_name == "creditMemo":
                applied = sum((line["amount"] for line in record.get("apply", [])), Decimal("0"))
                unapplied = record["total"] - applied
                return {
                    "applied": applied,
                    "unapplied": unapplied,
                    "amountRemaining": unapplied,
                    "status": "B" if unapplied == 0 else "A",
                }
            if type_name == "customerPayment":
                applied = sum((line["amount"] for line in record.get("apply", [])), Decimal("0"))
                status = "B" if record.get("undepFunds") else "C"
                return {
                    "total": record["payment"],
                    "applied": applied,
                    "unapplied": record["payment"] - applied,
                    "status": "A" if record.get("approved") is False else status,
                }
            return {}

    def invoice_due(self, invoice_id: str) -> Decimal:
        with self._lock:
            invoice = self._records["invoice"][invoice_id]
            return self.derived("invoice", invoice)["amountRemaining"]

    @staticmethod
    def status_name(type_name: str, status: str) -> str:
        return _STATUS_NAMES.get(type_name, {}).get(status, status)

    def display_name(self, type_name: str, record_id: str) -> str | None:
        """The ``refName`` NetSuite shows for a reference."""
        with self._lock:
            record = self._records.get(type_name, {}).get(record_id)
            if record is None:
                return None
            if type_name == "customer":
                name = record.get("companyName") or " ".join(
                    part for part in (record.get("firstName"), record.get("lastName")) if part
                )
                return f"{record.get('entityId')} {name}".strip()
            if record_type_has_tranid(type_name):
                return f"{_TRAN_LABELS[type_name]} #{record.get('tranId')}"
            for key in ("itemId", "acctName", "name", "periodName"):
                if record.get(key):
                    return str(record[key])
            return record_id

    def ref_type(self, targets: tuple[str, ...], record_id: str) -> str | None:
        found = self._find(targets, record_id)
        return found[0] if found else None


_TRAN_LABELS = {"invoice": "Invoice", "creditMemo": "Credit Memo", "customerPayment": "Payment"}


def record_type_has_tranid(type_name: str) -> bool:
    return type_name in _TRAN_LABELS


def _item_types() -> tuple[str, ...]:
    from .schema import ITEM_TYPES

    return ITEM_TYPES


def _merge_keyed(existing: list[dict], incoming: list[dict], key: str) -> list[dict]:
    merged = {line.get(key): dict(line) for line in existing}
    for line in incoming:
        merged.setdefault(line.get(key), {}).update(line)
    return list(merged.values())


def _scalar(name: str, value, path: str):
    if value is None:
        return None
    if isinstance(value, dict) and "id" in value:  # enum objects like {"id": "T"}
        value = value["id"]
    try:
        if name in MONEY_FIELDS:
            if isinstance(value, bool):
                raise InvalidOperation
            return Decimal(str(value))
        if name in DATE_FIELDS:
            # docs/netsuite-rest.md §2: "2025-05-26", "2025-05-26T00:00:00" and "...+00:00" were all accepted.
            return date.fromisoformat(str(value)[:10]).isoformat()
        if name in ("undepFunds", "autoApply"):
            # A JSON boolean, or the select form {"id": "T"|"F"} the schema types it as
            # (docs/netsuite-rest.md §4.7).
            if value not in (True, False, "T", "F", "true", "false"):
                raise InvalidOperation
            return value in (True, "T", "true")
    except (InvalidOperation, ValueError):
        raise errors.NetSuiteError(
            400,
            "INVALID_CONTENT",
            errors.PREFIX + f"Invalid value {value} for field {name}.",
            **{"o:errorPath": path},
        ) from None
    return value


def _normalize_address(value, path: str) -> dict | None:
    if value is None:
        return None
    if not isinstance(value, dict):
        raise errors.NetSuiteError(
            400, "INVALID_CONTENT", "Invalid content in the request body.", **{"o:errorPath": path}
        )
    out = {}
    for raw_name, field_value in value.items():
        name = _ADDRESS_CANONICAL.get(raw_name.lower(), raw_name)
        if name == "country" and isinstance(field_value, dict):
            field_value = field_value.get("id")  # docs/netsuite-rest.md §4.5: enum object or bare ISO code
        out[name] = field_value
    return out
