"""The billing-system side of the sync, in platform-neutral terms.

The sync engine talks to a :class:`BillingSystem` and handles only the records
defined here: typed values (``Decimal`` money, ``date``/``datetime``, ``int``
ids, ``None`` for "not set"), never the loose strings a billing API returns.
Splynx is the first implementation (``addon.splynx.billing.SplynxBilling``);
another platform would add its own package and leave the engine alone.

Errors raised by an implementation derive from :class:`BillingError`, so the
engine can tell transient trouble (:class:`BillingUnavailable`) from a record
the platform refused (:class:`BillingValidationError`) without knowing which
platform it is talking to.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from typing import Any, Literal, Protocol, runtime_checkable

DocumentKind = Literal["invoice", "credit_note"]
# BillingDocument has a field named ``date``, which hides the type inside its class body.
Day = date

# Entities that can carry a back-written accounting id (see record_accounting_id).
AccountingEntity = Literal["customer", "invoice", "credit_note", "payment"]


# --------------------------------------------------------------------------- errors


class BillingError(Exception):
    """Base of every error a billing implementation raises."""

    def __init__(self, message: str, *, status: int | None = None, code: str | None = None):
        super().__init__(message)
        self.message = message
        self.status = status
        self.code = code


class BillingAuthError(BillingError):
    """Credentials refused, or the key lacks a permission the call needs."""


class BillingNotFound(BillingError):
    """The record does not exist (or is not visible to these credentials)."""


@dataclass(frozen=True)
class FieldError:
    """One per-field complaint from a rejected create/update."""

    field: str
    message: str
    is_additional_attribute: bool = False

    def __str__(self) -> str:
        return f"{self.field}: {self.message}" if self.field else self.message


class BillingValidationError(BillingError):
    """The platform rejected the data; ``field_errors`` says why, field by field."""

    def __init__(self, message: str, field_errors: Sequence[FieldError] = (), **kwargs):
        super().__init__(message, **kwargs)
        self.field_errors: list[FieldError] = list(field_errors)


class BillingUnavailable(BillingError):
    """Transient: server error or network trouble that survived the retries."""


class BillingUnsupported(BillingError):
    """The platform's API offers no way to do this."""


# --------------------------------------------------------------------------- records


@dataclass(frozen=True)
class Partner:
    """A tenant/reseller inside the billing system."""

    id: int
    name: str


@dataclass(frozen=True)
class BillingCustomer:
    """A billing customer account.

    ``updated_at`` is the platform's last-modification timestamp (the
    "modified since" cursor); ``additional`` holds custom fields by name.
    """

    id: int
    login: str
    name: str
    email: str = ""
    billing_email: str = ""
    phone: str = ""
    street: str = ""
    city: str = ""
    zip: str = ""
    is_company: bool = False
    partner_id: int | None = None
    status: str = ""
    created_on: date | None = None
    updated_at: datetime | None = None
    additional: Mapping[str, str] = field(default_factory=dict)
    # What the platform held that the fields above leave out (e.g. a second email address).
    left_out: tuple[str, ...] = ()


@dataclass(frozen=True)
class BillingDocumentLine:
    """One line of an invoice or credit note; amounts are net unless named otherwise."""

    description: str
    quantity: Decimal
    price: Decimal
    tax_percent: Decimal = Decimal("0")
    tax_rate_id: int | None = None
    category_id: int | None = None
    net_total: Decimal = Decimal("0")
    tax_amount: Decimal = Decimal("0")
    id: int | None = None
    period_from: date | None = None
    period_to: date | None = None

    @property
    def gross_total(self) -> Decimal:
        """Net plus tax."""
        return self.net_total + self.tax_amount


@dataclass(frozen=True)
class BillingDocument:
    """An invoice or a credit note.

    ``total`` is gross (tax included), ``tax_total`` the tax part of it.
    ``updated_on`` is a date, not a timestamp, because that is all Splynx keeps
    for documents (docs/splynx-api.md §9); ``created_at`` is the real creation
    timestamp and the reliable "new since" cursor.
    """

    kind: DocumentKind
    id: int
    number: str
    customer_id: int | None
    date: date | None
    total: Decimal
    tax_total: Decimal
    lines: tuple[BillingDocumentLine, ...] = ()
    status: str = ""
    due_date: Day | None = None
    amount_due: Decimal | None = None
    paid_on: Day | None = None
    created_at: datetime | None = None
    updated_on: Day | None = None
    related_invoice_ids: tuple[int, ...] = ()
    has_transactions: bool = True
    note: str = ""
    memo: str = ""
    additional: Mapping[str, str] = field(default_factory=dict)

    @property
    def net_total(self) -> Decimal:
        """Total without tax."""
        return self.total - self.tax_total

    @property
    def is_deleted(self) -> bool:
        """True when the platform marks the document deleted (it must not be exported)."""
        return self.status == "deleted"


@dataclass(frozen=True)
class BillingPayment:
    """A payment received from (positive) or refunded to (negative) a customer."""

    id: int
    customer_id: int | None
    date: date | None
    amount: Decimal
    payment_method_id: int | None
    invoice_id: int | None = None
    credit_note_id: int | None = None
    receipt_number: str = ""
    comment: str = ""
    note: str = ""
    memo: str = ""
    fields: tuple[str, ...] = ()
    statement_id: int | None = None
    unallocated: Decimal | None = None
    created_at: datetime | None = None
    updated_at: datetime | None = None
    additional: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class PaymentMethod:
    """A payment method; ``accounting_id`` is what the platform's own accounting add-ons mapped
    (read only: the sync keeps its own mappings)."""

    id: int
    name: str
    is_active: bool = True
    accounting_id: int | None = None
    field_labels: tuple[str, ...] = ()


@dataclass(frozen=True)
class TransactionCategory:
    """A revenue/transaction category that invoice lines are booked under."""

    id: int
    name: str
    is_base: bool = False
    accounting_id: int | None = None


@dataclass(frozen=True)
class TaxRate:
    """A tax rate (or tax group) known to the billing system."""

    id: int
    name: str
    rate: Decimal
    type: str = "single"
    archived: bool = False
    accounting_id: int | None = None


@dataclass(frozen=True)
class PaymentStatement:
    """A batch of imported payments awaiting pairing (a Splynx "payment statement")."""

    id: int
    title: str
    payment_method_id: int | None
    status: str
    created_at: datetime | None = None


@dataclass(frozen=True)
class PaymentStatementLine:
    """One imported payment to land on a statement.

    ``customer_id`` and ``invoice_number`` are pairing hints; the billing
    system turns a line into a payment only when it can match it.
    """

    amount: Decimal
    payment_date: date | None  # always set on the lines the engine adds; Splynx may read back none
    customer_id: int | None = None
    invoice_number: str = ""
    invoice_id: int | None = None
    credit_note_id: int | None = None
    reference: str = ""
    comment: str = ""
    id: int | None = None
    status: str = "new"
    statement_id: int | None = None


# --------------------------------------------------------------------------- interface


@runtime_checkable
class BillingSystem(Protocol):
    """What the sync engine needs from a billing platform.

    Every read is a generator that pages through the platform lazily and
    filters on the server where the platform allows; arguments left ``None``
    do not filter. ``*_since`` arguments are inclusive (``>=``); ``id_above``
    is exclusive (``>``). Results come in ascending id order.
    """

    name: str

    def test_connection(self) -> str:
        """One human-readable line proving the credentials work."""
        ...

    def partners(self) -> Iterator[Partner]: ...

    def customers(
        self,
        partner_ids_excluded: Iterable[int] = (),
        updated_since: datetime | None = None,
        id_above: int | None = None,
        ids: Iterable[int] | None = None,
    ) -> Iterator[BillingCustomer]: ...

    def get_customer(self, customer_id: int) -> BillingCustomer: ...

    def invoices(
        self,
        date_from: date | None = None,
        date_to: date | None = None,
        created_since: datetime | None = None,
        updated_since: date | None = None,
        id_above: int | None = None,
        customer_id: int | None = None,
        ids: Iterable[int] | None = None,
    ) -> Iterator[BillingDocument]: ...

    def credit_notes(
        self,
        date_from: date | None = None,
        date_to: date | None = None,
        created_since: datetime | None = None,
        updated_since: date | None = None,
        id_above: int | None = None,
        customer_id: int | None = None,
        ids: Iterable[int] | None = None,
    ) -> Iterator[BillingDocument]: ...

    def get_document(self, kind: DocumentKind, document_id: int) -> BillingDocument: ...

    def document_totals(
        self, kind: DocumentKind, date_from: date | None = None
    ) -> Iterator[tuple[date | None, Decimal]]:
        """(document date, gross total) of every ``kind`` document dated from ``date_from``:
        headers only, for statistics that need no lines (the usual amount)."""
        ...

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
    ) -> Iterator[BillingPayment]: ...

    def get_payment(self, payment_id: int) -> BillingPayment: ...

    def payment_methods(self) -> Iterator[PaymentMethod]: ...

    def count(self, listing: str, **filters: Any) -> int:
        """How many records the listing method named ``listing`` would yield with ``filters``,
        asked before reading them (progress totals); raises BillingUnsupported when it cannot tell."""
        ...

    def transaction_categories(self) -> Iterator[TransactionCategory]: ...

    def tax_rates(self) -> Iterator[TaxRate]: ...

    def record_accounting_id(
        self, entity: str, billing_id: int, accounting_id: str, attribute_name: str
    ) -> bool:
        """Write the accounting id into the record's field ``attribute_name``; False when the
        entity has no such field (nothing written)."""
        ...

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
    ) -> int: ...

    def find_payment(self, reference: str, customer_id: int | None = None) -> BillingPayment | None:
        """The payment ``create_payment`` made with this ``reference``, if it exists."""
        ...

    def delete_payment(self, payment_id: int) -> None: ...

    def payment_statements(self, title: str | None = None) -> Iterator[PaymentStatement]: ...

    def create_payment_statement(
        self, title: str, payment_method_id: int, when: datetime | None = None
    ) -> int: ...

    def add_payment_statement_line(self, statement_id: int, line: PaymentStatementLine) -> int: ...

    def payment_statement_lines(self, statement_id: int) -> Iterator[PaymentStatementLine]: ...

    def find_payment_statement_line(self, reference: str) -> PaymentStatementLine | None:
        """The statement line added with this ``reference``, if it exists."""
        ...
