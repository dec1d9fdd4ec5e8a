"""Every synced entity type, declared once: what it is called, where it lives, how it is exported.

The exporter, links, reconciliation, the full sync and live runs, the log filter, the dashboard,
the record pages and the CLI read these declarations; none keeps its own list of entity names. The registry is open: a type
given to :func:`register` flows through the same export and shows on the same pages.

The declarations name their modules' functions through small functions that import when
called: those modules import the exporter, and the exporter reads this registry.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Collection, Iterable, Iterator
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import TYPE_CHECKING, Any, TypedDict

if TYPE_CHECKING:
    from addon.billing import BillingSystem, DocumentKind
    from addon.sync.context import SyncContext
    from addon.sync.exporter import Export, ExportRun
    from addon.sync.reconcile import Side


class Words(TypedDict):
    """What identifies one billing record on the record pages."""

    title: str
    detail: str
    amount: Decimal | None
    date: date | None
    customer_id: int | None


@dataclass(frozen=True)
class EntityType:
    """One kind of billing record synced to one kind of NetSuite record."""

    name: str  # the key in links, logs, problems and URLs: 'credit_note'
    noun: str  # one of them in a sentence: 'credit note'
    label: str  # many of them as a title: 'Credit notes'
    record_type: str  # NetSuite REST record type: 'creditMemo'
    external_prefix: str  # the externalId is the billing backend's prefix, this one and the billing id
    # Billing: every record matching the lister's filters (id_above, ids, date_from, ...), one by id.
    list: Callable[..., Iterable[Any]]
    fetch: Callable[[BillingSystem, int], Any]
    # The export: its steps for one run, what it reads, and the whole phase (``ids``: only those).
    export: Callable[[ExportRun], Export]
    records: Callable[[ExportRun, Collection[str] | None], Iterable[Any]]
    export_records: Callable[[ExportRun, Collection[str] | None], dict]
    describe: Callable[[Any], Words]
    # Further words a text search on the records page looks in (besides id, title, detail).
    search_words: Callable[[Any], Iterable[str | None]] = lambda record: ()
    # A record read back that billing has deleted (soft delete) though it still answers.
    is_deleted: Callable[[Any], bool] = lambda record: False
    # SuiteQL transaction.type (docs/netsuite-rest.md §6.2); None: not a transaction.
    tran_type: str | None = None
    # The records a reconciliation compares, keyed by billing id (None: not reconciled).
    reconcile_sides: Callable[[SyncContext, date, date], dict[str, Side]] | None = None
    # How the reconciliation's net sales count it: +1 adds, -1 subtracts, 0 leaves it out.
    sales_sign: int = 0
    # Sanity rules hold amounts far above the usual range (flask netsuite confirm-amount).
    holds_amounts: bool = False
    # Many of them are read by id in one billing search (else one request per record).
    bulk_fetch: bool = False

    @property
    def plural(self) -> str:
        return self.label.lower()

    @property
    def is_transaction(self) -> bool:
        """A NetSuite transaction: each record has a date and an amount."""
        return self.tran_type is not None

    def gone(self, billing: BillingSystem, billing_id: int) -> bool:
        """Whether billing confirms the record is deleted (not found, or soft-deleted)."""
        from addon.billing import BillingNotFound

        try:
            return self.is_deleted(self.fetch(billing, billing_id))
        except BillingNotFound:
            return True


_REGISTRY: dict[str, EntityType] = {}
_EXTERNAL_ID = re.compile(r"[A-Za-z0-9-]+")


def register(entity_type: EntityType) -> EntityType:
    """Add a type; its name and externalId prefix must be new (each is declared once)."""
    if not _EXTERNAL_ID.fullmatch(entity_type.external_prefix):
        # An externalId goes into `eid:` URLs (docs/netsuite-rest.md §4.3).
        raise ValueError(f"externalId prefix {entity_type.external_prefix!r} is not letters, digits and '-'")
    if entity_type.name in _REGISTRY:
        raise ValueError(f"entity type {entity_type.name!r} is declared already")
    prefixes = [t.external_prefix for t in _REGISTRY.values()]
    if any(
        entity_type.external_prefix.startswith(p) or p.startswith(entity_type.external_prefix)
        for p in prefixes
    ):
        raise ValueError(f"externalId prefix {entity_type.external_prefix!r} overlaps another type's")
    _REGISTRY[entity_type.name] = entity_type
    return entity_type


def unregister(name: str) -> None:
    """Remove a type registered at run time (a test's own)."""
    del _REGISTRY[name]


def get(name: str) -> EntityType:
    """The type called ``name``; KeyError when there is none."""
    return _REGISTRY[name]


def find(name: str | None) -> EntityType | None:
    return _REGISTRY.get(name or "")


def all_types() -> Iterator[EntityType]:
    """Every type, in export order (customers before the documents and payments naming them)."""
    return iter(list(_REGISTRY.values()))


def labels() -> dict[str, str]:
    """name -> label of every type, for filters and page titles."""
    return {t.name: t.label for t in _REGISTRY.values()}


def reconciled() -> list[EntityType]:
    """The types a reconciliation compares."""
    return [t for t in _REGISTRY.values() if t.reconcile_sides is not None]


def amount_held() -> list[EntityType]:
    """The types whose amounts the sanity rules may hold."""
    return [t for t in _REGISTRY.values() if t.holds_amounts]


# --------------------------------------------------------------------------- what the built-in types use


def _customers():
    from addon.sync import customers

    return customers


def _documents():
    from addon.sync import documents

    return documents


def _payments():
    from addon.sync import payment_export

    return payment_export


def _reconcile():
    from addon.sync import reconcile

    return reconcile


def _describe_customer(customer: Any) -> Words:
    detail = " · ".join(part for part in (customer.login, customer.email) if part)
    return Words(title=customer.name, detail=detail, amount=None, date=None, customer_id=customer.id)


def _document_type(
    name: DocumentKind,
    noun: str,
    label: str,
    record_type: str,
    prefix: str,
    tran_type: str,
    sales_sign: int,
    list_documents: Callable[..., Iterable[Any]],
) -> EntityType:
    """Invoices and credit notes differ only in these words and their billing lister."""
    return EntityType(
        name=name,
        noun=noun,
        label=label,
        record_type=record_type,
        external_prefix=prefix,
        list=list_documents,
        fetch=lambda billing, billing_id: billing.get_document(name, billing_id),
        export=lambda run: _documents().document_export(run, _documents().KINDS[name]),
        records=lambda run, ids: _documents().document_records(run, name, ids),
        export_records=lambda run, ids: _documents().export_documents(run, name, ids),
        describe=lambda doc: Words(
            title=doc.number or f"#{doc.id}",
            detail="",
            amount=doc.total,
            date=doc.date,
            customer_id=doc.customer_id,
        ),
        is_deleted=lambda doc: doc.is_deleted,
        tran_type=tran_type,
        reconcile_sides=lambda ctx, start, end: _reconcile().document_sides(ctx, name, start, end),
        sales_sign=sales_sign,
        holds_amounts=True,
    )


# --------------------------------------------------------------------------- the built-in types

CUSTOMER = register(
    EntityType(
        name="customer",
        noun="customer",
        label="Customers",
        record_type="customer",
        external_prefix="customer-",
        list=lambda billing, **filters: billing.customers(**filters),
        fetch=lambda billing, billing_id: billing.get_customer(billing_id),
        export=lambda run: _customers().customer_export(run),
        records=lambda run, ids: _customers().customer_records(run, ids),
        export_records=lambda run, ids: _customers().export_customer_records(run, ids),
        describe=_describe_customer,
        search_words=lambda customer: (customer.login, customer.email, customer.billing_email),
        bulk_fetch=True,
    )
)
INVOICE = register(
    _document_type(
        "invoice",
        "invoice",
        "Invoices",
        "invoice",
        "invoice-",
        "CustInvc",
        +1,
        lambda billing, **filters: billing.documents("invoice", **filters),
    )
)
CREDIT_NOTE = register(
    _document_type(
        "credit_note",
        "credit note",
        "Credit notes",
        "creditMemo",
        "creditnote-",
        "CustCred",
        -1,
        lambda billing, **filters: billing.documents("credit_note", **filters),
    )
)
PAYMENT = register(
    EntityType(
        name="payment",
        noun="payment",
        label="Payments",
        record_type="customerPayment",
        external_prefix="payment-",
        list=lambda billing, **filters: billing.payments(**filters),
        fetch=lambda billing, billing_id: billing.get_payment(billing_id),
        export=lambda run: _payments().payment_export(run),
        records=lambda run, ids: _payments().payment_records(run, ids),
        export_records=lambda run, ids: _payments().export_payment_records(run, ids),
        describe=lambda payment: Words(
            title=payment.receipt_number or f"Payment {payment.id}",
            detail="",
            amount=payment.amount,
            date=payment.date,
            customer_id=payment.customer_id,
        ),
        tran_type="CustPymt",
        reconcile_sides=lambda ctx, start, end: _reconcile().payment_sides(ctx, start, end),
    )
)
