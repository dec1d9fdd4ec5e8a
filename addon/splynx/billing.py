"""Splynx as a :class:`addon.billing.BillingSystem`.

Translates the engine's neutral questions into Splynx searches (server-side
filters, ascending ids, streamed pages) and Splynx rows into neutral records
via :mod:`addon.splynx.records`.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from addon.billing import (
    ACCOUNTING_IDS,
    COUNT,
    PAYMENT_STATEMENTS,
    BillingCustomer,
    BillingDocument,
    BillingPayment,
    BillingUnsupported,
    DocumentKind,
    Partner,
    PaymentMethod,
    PaymentStatement,
    PaymentStatementLine,
    TaxRate,
    TransactionCategory,
)

from . import records
from .client import SplynxClient

CUSTOMERS = "admin/customers/customer"
PARTNERS = "admin/administration/partners"
INVOICES = "admin/finance/invoices"
CREDIT_NOTES = "admin/finance/credit-notes"
PAYMENTS = "admin/finance/payments"
TRANSACTIONS = "admin/finance/transactions"
PAYMENT_METHODS = "admin/finance/payment-methods"
CATEGORIES = "admin/finance/transaction-categories"
TAXES = "admin/config/taxes"
STATEMENTS = "admin/finance/bank-statements"
STATEMENT_LINES = "admin/finance/bank-statements-records"

ADDITIONAL_FIELDS = "admin/config/additional-fields"

DOCUMENT_PATHS: dict[str, str] = {"invoice": INVOICES, "credit_note": CREDIT_NOTES}
ENTITY_PATHS: dict[str, str] = {**DOCUMENT_PATHS, "customer": CUSTOMERS, "payment": PAYMENTS}
# Additional-field modules of the entities that can carry the accounting id (docs/splynx-api.md §6).
ADDITIONAL_MODULES: dict[str, str] = {
    "customer": "customers",
    "invoice": "invoices",
    "credit_note": "credit_notes",
    "payment": "payments",
}
# Length of the payments' receipt_number column (assumed; docs/splynx-installations.md).
RECEIPT_NUMBER_LENGTH = 32


def _filters(**conditions: Any) -> dict[str, Any]:
    """Drop conditions whose operand is None, keeping ``[op, value]`` pairs for the rest."""
    return {name: cond for name, cond in conditions.items() if cond is not None and cond[-1] is not None}


def _wanted_ids(ids: Iterable[int] | None, id_above: int | None) -> list[int] | None:
    """``ids`` as a sorted list (None: no id filter); one condition per field, so not with id_above."""
    if ids is not None and id_above is not None:
        raise ValueError("ids and id_above both filter on id; pass one")
    return sorted({int(i) for i in ids}) if ids is not None else None


@dataclass(frozen=True)
class _Columns:
    """Which Splynx column each of the engine's neutral filters searches, for one listing.

    ``search`` turns the filters into Splynx's search conditions; None means that nothing can
    match (an empty ``ids`` or ``method_ids``), so no request need be sent.
    """

    dated: str
    updated: str
    method: str | None = None
    created: str = "real_create_datetime"

    def search(
        self,
        *,
        date_from: date | None = None,
        date_to: date | None = None,
        created_since: datetime | None = None,
        updated_since: date | datetime | None = None,
        id_above: int | None = None,
        customer_id: int | None = None,
        ids: Iterable[int] | None = None,
        method_ids: Iterable[int] | None = None,
    ) -> dict[str, Any] | None:
        if method_ids is not None and self.method is None:
            raise ValueError("this listing has no payment method to filter on")
        wanted = _wanted_ids(ids, id_above)
        methods = sorted(set(method_ids)) if method_ids is not None else None
        if wanted == [] or methods == []:
            return None
        conditions = {
            self.dated: _date_range(date_from, date_to),
            **({self.method: ["IN", methods] if methods else None} if self.method else {}),
            self.created: [">=", created_since],
            self.updated: [">=", updated_since],
            "id": ["IN", wanted] if wanted else [">", id_above],
            "customer_id": ["=", customer_id],
        }
        return _filters(**conditions)


# Documents keep only a date in date_updated (docs/splynx-api.md §9): callers re-check the same day.
DOCUMENT_COLUMNS = _Columns(dated="date_created", updated="date_updated")
PAYMENT_COLUMNS = _Columns(dated="date", updated="updated_at", method="payment_type")
# The listings searched through a column map: listing -> (path, columns).
SEARCHED: dict[str, tuple[str, _Columns]] = {
    **{kind: (path, DOCUMENT_COLUMNS) for kind, path in DOCUMENT_PATHS.items()},
    "payments": (PAYMENTS, PAYMENT_COLUMNS),
}


class SplynxBilling:
    """The Splynx implementation of the billing interface, over a :class:`SplynxClient`."""

    name = "Splynx"
    capabilities = frozenset({COUNT, PAYMENT_STATEMENTS, ACCOUNTING_IDS})

    def __init__(self, client: SplynxClient):
        self.client = client
        self._fields_by_module: dict[str, set[str]] = {}

    def test_connection(self) -> str:
        """One line proving the API key works (see :meth:`SplynxClient.test_connection`)."""
        return self.client.test_connection()

    # ------------------------------------------------------------------ reference data

    def partners(self) -> Iterator[Partner]:
        """All partners (tenants)."""
        return map(records.partner, self.client.list(PARTNERS))

    def payment_methods(self) -> Iterator[PaymentMethod]:
        """All payment methods, active or not."""
        return map(records.payment_method, self.client.list(PAYMENT_METHODS))

    def transaction_categories(self) -> Iterator[TransactionCategory]:
        """All transaction categories."""
        return map(records.transaction_category, self.client.list(CATEGORIES))

    def tax_rates(self) -> Iterator[TaxRate]:
        """All taxes and tax groups, archived ones included."""
        return map(records.tax_rate, self.client.list(TAXES))

    # ------------------------------------------------------------------ customers

    def customers(
        self,
        partner_ids_excluded: Iterable[int] = (),
        updated_since: datetime | None = None,
        id_above: int | None = None,
        ids: Iterable[int] | None = None,
    ) -> Iterator[BillingCustomer]:
        """Customers in ascending id order, filtered on the server.

        Splynx has no ``NOT IN`` operator (docs/splynx-api.md §5.1) and one condition per field, so
        excluded partners become ``partner_id IN (all others)``, and ``ids`` (only these
        customers) cannot be combined with ``id_above``.
        """
        wanted = _wanted_ids(ids, id_above)
        if wanted == []:
            return
        excluded = set(partner_ids_excluded)
        partner_filter = None
        if excluded:
            included = sorted(p.id for p in self.partners() if p.id not in excluded)
            if not included:
                return
            partner_filter = ["IN", included]
        search = _filters(
            partner_id=partner_filter,
            last_update=[">=", updated_since],
            id=None if wanted else [">", id_above],
        )
        if wanted is None:
            yield from map(records.customer, self.client.list(CUSTOMERS, search))
            return
        yield from map(records.customer, self.client.list_by_ids(CUSTOMERS, wanted, search=search))

    def get_customer(self, customer_id: int) -> BillingCustomer:
        """One customer; raises SplynxNotFound."""
        return records.customer(self.client.get(CUSTOMERS, customer_id))

    # ------------------------------------------------------------------ documents

    def documents(self, kind: DocumentKind, **filters: Any) -> Iterator[BillingDocument]:
        """Invoices or credit notes filtered by document date, creation time, update date, id and
        customer (the filters of :class:`addon.billing.BillingSystem.documents`)."""
        path = DOCUMENT_PATHS[kind]  # an unknown kind fails here, before the first page is asked for
        return self._documents(kind, path, DOCUMENT_COLUMNS.search(**filters))

    def get_document(self, kind: DocumentKind, document_id: int) -> BillingDocument:
        """One invoice or credit note with its lines; raises SplynxNotFound."""
        raw = self.client.get(DOCUMENT_PATHS[kind], document_id)
        return records.document(kind, raw, self._line_transactions([raw]))

    def document_totals(
        self, kind: DocumentKind, date_from: date | None = None
    ) -> Iterator[tuple[date | None, Decimal]]:
        """Headers only: no transaction lookups for the lines, which a total does not need."""
        search = DOCUMENT_COLUMNS.search(date_from=date_from)
        for page in self.client.pages(DOCUMENT_PATHS[kind], search or {}):
            for raw in page:
                yield records.to_date(raw.get("date_created")), records.document_total(raw)

    def _documents(
        self, kind: DocumentKind, path: str, search: dict[str, Any] | None
    ) -> Iterator[BillingDocument]:
        if search is None:
            return
        for page in self.client.pages(path, search):
            transactions = self._line_transactions(page)
            for raw in page:
                yield records.document(kind, raw, transactions)

    def count(self, listing: str, **filters: Any) -> int:
        """How many records ``listing`` ('invoice', 'credit_note', 'payments', 'customers') would
        yield with the same ``filters``, before any page is read: one HEAD answered with
        X-total-count (docs/splynx-api.md §5.3)."""
        if listing in SEARCHED:
            path, columns = SEARCHED[listing]
            search = columns.search(**filters)
            return 0 if search is None else self.client.count(path, search)
        if listing == "customers":
            excluded = set(filters.pop("partner_ids_excluded", ()))
            search = {}
            if excluded:
                included = sorted(p.id for p in self.partners() if p.id not in excluded)
                if not included:
                    return 0
                search["partner_id"] = ["IN", included]
            return self.client.count(CUSTOMERS, search)
        raise BillingUnsupported(f"Splynx billing cannot count {listing}")

    def _line_transactions(self, page: Sequence[Mapping[str, Any]]) -> dict[int, dict[str, Any]]:
        """transaction id -> transaction row, for items lacking a category or tax id of their own.

        Invoice items map 1:1 to transactions, which hold the category and the tax (docs/splynx-api.md §7.6),
        so one lookup per page of documents fills the gaps instead of one per document;
        ``list_by_ids`` splits it so that no request line grows past what nginx accepts.
        """
        wanted = {
            transaction_id
            for raw in page
            for item in raw.get("items") or ()
            if records.item_needs_transaction(item)
            and (transaction_id := records.to_id(item.get("transaction_id")))
        }
        return {
            records.to_required_int(row["id"]): row for row in self.client.list_by_ids(TRANSACTIONS, wanted)
        }

    # ------------------------------------------------------------------ payments

    def payments(
        self,
        date_from: date | None = None,
        date_to: date | None = None,
        method_ids: Iterable[int] | None = None,
        created_since: datetime | None = None,
        updated_since: datetime | None = None,
        id_above: int | None = None,
        customer_id: int | None = None,
        ids: Iterable[int] | None = None,
    ) -> Iterator[BillingPayment]:
        """Payments filtered by date, payment method, creation/update time, id and customer."""
        search = PAYMENT_COLUMNS.search(
            date_from=date_from,
            date_to=date_to,
            method_ids=method_ids,
            created_since=created_since,
            updated_since=updated_since,
            id_above=id_above,
            customer_id=customer_id,
            ids=ids,
        )
        if search is None:
            return iter(())
        return map(records.payment, self.client.list(PAYMENTS, search))

    def get_payment(self, payment_id: int) -> BillingPayment:
        """One payment; raises SplynxNotFound."""
        return records.payment(self.client.get(PAYMENTS, payment_id))

    def create_payment(
        self,
        customer_id: int,
        amount: Decimal,
        date: date,
        method_id: int,
        invoice_id: int | None = None,
        credit_note_id: int | None = None,
        reference: str = "",
        comment: str = "",
        note: str = "",
    ) -> int:
        """Create a payment and return its id; ``reference`` identifies it for a later lookup.

        ``reference`` becomes the receipt number, which S1 lists as required (fitted into
        its 32 characters). ``field_1``..``field_5`` are required by S1 too, so they go out
        empty. After an ambiguous answer the payment is looked up by receipt number,
        customer, date and amount before the POST is sent again.
        """
        receipt = receipt_number(reference)

        def find() -> dict[str, Any] | None:
            found = self._find_payment_row(receipt, customer_id)
            if (
                found
                and records.to_date(found.get("date")) == date
                and records.to_money(found.get("amount")) == Decimal(amount)
            ):
                return found
            return None

        body: dict[str, Any] = {
            "customer_id": customer_id,
            "payment_type": method_id,
            "receipt_number": receipt,
            "date": date,
            "amount": amount,
            "comment": comment,
            "note": note,
            **{f"field_{n}": "" for n in range(1, 6)},
        }
        if invoice_id is not None:
            body["invoice_id"] = invoice_id
        if credit_note_id is not None:
            body["credit_note_id"] = credit_note_id
        return records.to_required_int(self.client.create(PAYMENTS, body, find if reference else None)["id"])

    def find_payment(self, reference: str, customer_id: int | None = None) -> BillingPayment | None:
        """The payment created with this ``reference`` (see :meth:`create_payment`), if any."""
        found = self._find_payment_row(receipt_number(reference), customer_id)
        return records.payment(found) if found else None

    def _find_payment_row(self, receipt: str, customer_id: int | None) -> dict[str, Any] | None:
        search = _filters(receipt_number=["=", receipt], customer_id=["=", customer_id])
        return next(iter(self.client.list(PAYMENTS, search)), None)

    def delete_payment(self, payment_id: int) -> None:
        """Delete a payment (e.g. one deleted on the accounting side)."""
        self.client.delete(PAYMENTS, payment_id)

    # ------------------------------------------------------------------ payment statements

    def payment_statements(self, title: str | None = None) -> Iterator[PaymentStatement]:
        """Payment statements, optionally only those with exactly this title."""
        search = {"title": title} if title is not None else None
        return map(records.payment_statement, self.client.list(STATEMENTS, search))

    def create_payment_statement(
        self, title: str, payment_method_id: int, when: datetime | None = None
    ) -> int:
        """Open a new statement; how payments are grouped into statements is the engine's choice.

        Made as Splynx's own add-ons make theirs: a title, status ``success`` and no
        handler (the handler names a folder of Splynx's file-format handlers, and we are
        none; docs/splynx-installations.md). Titles identify statements, so an ambiguous
        answer is resolved by looking the title up.
        """
        body = {
            "title": title,
            "payment_type": payment_method_id,
            "date_time": when or datetime.now().replace(microsecond=0),
            "status": "success",
        }

        def find() -> dict[str, Any] | None:
            return next(iter(self.client.list(STATEMENTS, {"title": title})), None)

        return records.to_required_int(self.client.create(STATEMENTS, body, find)["id"])

    def add_payment_statement_line(self, statement_id: int, line: PaymentStatementLine) -> int:
        """Add one imported payment to a statement; returns the line id.

        ``pairing_1`` (customer id) and ``pairing_2`` (invoice number) are what
        Splynx matches on (docs/splynx-api.md §7.10); the reference rides in ``additional_1`` and
        identifies the line for the lookup after an ambiguous answer.
        """
        reference = line.reference
        if line.payment_date is None:
            raise ValueError("a statement line needs a payment date")

        def find() -> dict[str, Any] | None:
            return self._find_statement_line_row(reference, statement_id)

        body: dict[str, Any] = {
            "bank_statements_process_id": statement_id,
            "datetime": datetime.combine(line.payment_date, datetime.min.time()),
            "payment_date": line.payment_date,
            "amount": line.amount,
            "status": line.status or "new",
            "pairing_1": line.customer_id or "",
            "pairing_2": line.invoice_number,
            "additional_1": line.reference,
            "comment": line.comment,
        }
        for name in ("customer_id", "invoice_id", "credit_note_id"):
            if getattr(line, name) is not None:
                body[name] = getattr(line, name)
        return records.to_required_int(
            self.client.create(STATEMENT_LINES, body, find if reference else None)["id"]
        )

    def find_payment_statement_line(self, reference: str) -> PaymentStatementLine | None:
        """The statement line added with this ``reference``, in whichever statement."""
        found = self._find_statement_line_row(reference, None)
        return records.payment_statement_line(found) if found else None

    def _find_statement_line_row(self, reference: str, statement_id: int | None) -> dict[str, Any] | None:
        search = _filters(additional_1=["=", reference], bank_statements_process_id=["=", statement_id])
        return next(iter(self.client.list(STATEMENT_LINES, search)), None)

    def payment_statement_lines(self, statement_id: int) -> Iterator[PaymentStatementLine]:
        """Lines of one statement, with their pairing status."""
        search = {"bank_statements_process_id": statement_id}
        return map(records.payment_statement_line, self.client.list(STATEMENT_LINES, search))

    # ------------------------------------------------------------------ accounting ids

    def record_accounting_id(
        self, entity: str, billing_id: int, accounting_id: str, attribute_name: str
    ) -> bool:
        """Store the accounting system's id in the additional field ``attribute_name``.

        Splynx's own "Accounting ID" belongs to its accounting add-ons and is not in the API
        (docs/splynx-installations.md), so the operator creates an additional field. Only
        modules that have a field of that name get it: returns False (nothing written) for
        the others. The PUT carries only ``additional_attributes``: sending a whole finance
        document back could rewrite its items. Splynx may refuse it (a refunded credit note
        takes changes to its note only): that raises like any refused write.
        """
        if entity not in ENTITY_PATHS:
            raise ValueError(f"unknown entity {entity!r}")
        if attribute_name not in self._additional_fields(ADDITIONAL_MODULES[entity]):
            return False
        body = {"additional_attributes": {attribute_name: accounting_id}}
        self.client.update(ENTITY_PATHS[entity], billing_id, body)
        return True

    def _additional_fields(self, module: str) -> set[str]:
        """Names of the additional fields defined on a Splynx module, read once per session."""
        known = self._fields_by_module.get(module)
        if known is None:
            rows = self.client.get(f"{ADDITIONAL_FIELDS}/{module}") or []
            known = {records.to_str(row.get("name")) for row in rows if isinstance(row, Mapping)}
            self._fields_by_module[module] = known
        return known


def receipt_number(reference: str) -> str:
    """``reference`` fitted into Splynx's 32-character receipt number, deterministically: a
    longer one keeps its head and gains a digest of the whole, so two never collide."""
    if len(reference) <= RECEIPT_NUMBER_LENGTH:
        return reference
    digest = hashlib.sha256(reference.encode()).hexdigest()[:10]
    return f"{reference[: RECEIPT_NUMBER_LENGTH - len(digest) - 1]}~{digest}"


def _date_range(date_from: date | None, date_to: date | None) -> list[Any] | None:
    """``BETWEEN`` when both ends are given, else the open-ended comparison."""
    if date_from and date_to:
        return ["BETWEEN", date_from, date_to]
    if date_from:
        return [">=", date_from]
    if date_to:
        return ["<=", date_to]
    return None
