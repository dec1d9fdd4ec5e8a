"""The one place where Splynx's loosely typed values become typed records.

Splynx returns numbers as strings or numbers depending on field and version,
money as 4-decimal strings, flags as ``"0"``/``"1"`` and empty dates as
``0000-00-00`` (docs/splynx-api.md §1, §10.6). Everything past this module sees
``Decimal``, ``date``, ``datetime``, ``int``, ``bool`` or ``None``.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from datetime import date, datetime
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Any

from addon.billing import (
    BillingCustomer,
    BillingDocument,
    BillingDocumentLine,
    BillingPayment,
    DocumentKind,
    Partner,
    PaymentMethod,
    PaymentStatement,
    PaymentStatementLine,
    TaxRate,
    TransactionCategory,
)

CENT = Decimal("0.01")
ZERO = Decimal("0")
_EMPTY = ("", "0000-00-00", "0000-00-00 00:00:00", None)


# --------------------------------------------------------------------------- scalars


def to_str(value: Any) -> str:
    """Text with surrounding blanks removed; None becomes ``""``."""
    return "" if value is None else str(value).strip()


def to_int(value: Any) -> int | None:
    """Integer from an int or numeric string; None/"" become None."""
    if value is None or isinstance(value, bool):
        return None if value is None else int(value)
    if isinstance(value, int):
        return value
    text = str(value).strip()
    if not text:
        return None
    try:
        return int(text)
    except ValueError:
        return int(Decimal(text))  # "12.0000" shaped ids


def to_required_int(value: Any, what: str = "id") -> int:
    """Like :func:`to_int` for a field the record cannot exist without: a blank is malformed input."""
    number = to_int(value)
    if number is None:
        raise ValueError(f"{what} is missing")
    return number


def to_id(value: Any) -> int | None:
    """Foreign-key id: Splynx writes "no link" as 0 or "0" as often as null."""
    number = to_int(value)
    return number if number else None


def to_decimal(value: Any) -> Decimal | None:
    """Exact Decimal from a string, int or float (floats via their repr, never binary)."""
    if value is None or isinstance(value, bool):
        return None
    if isinstance(value, Decimal):
        return value
    text = str(value).strip()
    if not text:
        return None
    try:
        return Decimal(text)
    except InvalidOperation:
        raise ValueError(f"not a number: {value!r}") from None


def to_money(value: Any) -> Decimal:
    """Like :func:`to_decimal` but missing amounts read as zero."""
    number = to_decimal(value)
    return ZERO if number is None else number


def to_date(value: Any) -> date | None:
    """``YYYY-MM-DD`` (or the date part of a datetime); ``0000-00-00`` and "" are None."""
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    text = to_str(value)
    if text in _EMPTY or text.startswith("0000-00-00"):
        return None
    return date.fromisoformat(text[:10])


def to_datetime(value: Any) -> datetime | None:
    """``YYYY-MM-DD HH:MM:SS`` as a naive datetime (Splynx server local time; zone unconfirmed,
    docs/splynx-api.md §1)."""
    if isinstance(value, datetime):
        return value
    text = to_str(value)
    if text in _EMPTY or text.startswith("0000-00-00"):
        return None
    if len(text) == 10:
        return datetime.fromisoformat(text + " 00:00:00")
    return datetime.fromisoformat(text)


def to_bool(value: Any) -> bool:
    """Flags arrive as "1"/"0", 1/0, true/false or "true"/"false"."""
    if isinstance(value, str):
        return value.strip().lower() in ("1", "true", "yes", "on")
    return bool(value)


def to_attributes(value: Any) -> dict[str, str]:
    """``additional_attributes`` object as name -> string (PHP sends ``[]`` when empty)."""
    if not isinstance(value, Mapping):
        return {}
    return {str(k): to_str(v) for k, v in value.items()}


def to_id_tuple(value: Any) -> tuple[int, ...]:
    """Ids from a list or a comma-separated string, zeros and blanks dropped."""
    if value in _EMPTY:
        return ()
    items = value if isinstance(value, list | tuple) else str(value).split(",")
    return tuple(i for i in (to_id(item) for item in items) if i)


def cents(value: Decimal) -> Decimal:
    """Round half-up to cents, as Splynx does for document totals (docs/splynx-api.md §10.8; rounding details
    unconfirmed)."""
    return value.quantize(CENT, rounding=ROUND_HALF_UP)


# --------------------------------------------------------------------------- records


def partner(raw: Mapping[str, Any]) -> Partner:
    """``admin/administration/partners`` row."""
    return Partner(id=to_required_int(raw["id"]), name=to_str(raw.get("name")))


_EMAIL_SHAPE = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


def first_of_list(label: str, value: Any, valid=None) -> tuple[str, str | None]:
    """The first value of a comma-separated field (the first ``valid`` one when any is), and
    a note naming the values left out, or None when there was only one.

    Splynx keeps several emails, billing emails or phone numbers in one field separated by
    commas (docs/splynx-installations.md); the accounting side takes one.
    """
    values = [v for v in (part.strip() for part in to_str(value).split(",")) if v]
    if len(values) <= 1:
        return (values[0] if values else ""), None
    chosen = next((v for v in values if valid is None or valid(v)), values[0])
    others = [v for v in values if v != chosen]
    shown = ", ".join(others)
    shown = shown if len(shown) <= 120 else shown[:117] + "..."
    return chosen, f"{label} holds {len(values)} values: exported {chosen}, left out {shown}"


def customer(raw: Mapping[str, Any]) -> BillingCustomer:
    """``admin/customers/customer`` row (docs/splynx-api.md §7.1); multi-value contacts keep their first
    value."""
    looks_valid = _EMAIL_SHAPE.match
    email, email_note = first_of_list("email", raw.get("email"), looks_valid)
    billing_email, billing_note = first_of_list("billing email", raw.get("billing_email"), looks_valid)
    phone, phone_note = first_of_list("phone", raw.get("phone"))
    return BillingCustomer(
        id=to_required_int(raw["id"]),
        login=to_str(raw.get("login")),
        name=to_str(raw.get("name")),
        email=email,
        billing_email=billing_email,
        phone=phone,
        left_out=tuple(note for note in (email_note, billing_note, phone_note) if note),
        street=to_str(raw.get("street_1")),
        city=to_str(raw.get("city")),
        zip=to_str(raw.get("zip_code")),
        is_company=to_str(raw.get("category")) == "company",
        partner_id=to_id(raw.get("partner_id")),
        status=to_str(raw.get("status")),
        created_on=to_date(raw.get("date_add")),
        updated_at=to_datetime(raw.get("last_update")),
        additional=to_attributes(raw.get("additional_attributes")),
    )


def document_line(
    raw: Mapping[str, Any], transaction: Mapping[str, Any] | None = None
) -> BillingDocumentLine:
    """One invoice/credit-note item.

    ``price`` is the net unit price and ``tax`` a percent (docs/splynx-api.md §7.3). When the
    item carries ``tax_amount`` (seen in captured payloads, unconfirmed) it
    wins over our own computation. ``transaction`` (the item's transaction row)
    supplies the category and the tax id the item itself does not carry.
    """
    transaction = transaction or {}
    category_id = item_category_id(raw) or to_id(transaction.get("category"))
    quantity = to_money(raw.get("quantity"))
    price = to_money(raw.get("price"))
    tax_percent = to_money(raw.get("tax"))
    net = cents(quantity * price)
    tax_amount = to_decimal(raw.get("tax_amount"))
    return BillingDocumentLine(
        id=to_id(raw.get("id")),
        description=to_str(raw.get("description")),
        quantity=quantity,
        price=price,
        tax_percent=tax_percent,
        tax_rate_id=to_id(raw.get("tax_id")) or to_id(transaction.get("tax_id")),
        category_id=category_id,
        net_total=net,
        tax_amount=cents(tax_amount if tax_amount is not None else net * tax_percent / 100),
        period_from=to_date(raw.get("period_from")),
        period_to=to_date(raw.get("period_to")),
    )


def item_category_id(raw: Mapping[str, Any]) -> int | None:
    """Category written on the item itself, under either spelling the API uses (docs/splynx-api.md §7.3)."""
    return to_id(raw.get("categoryIdForTransaction") or raw.get("category_id") or raw.get("category"))


def item_needs_transaction(item: Mapping[str, Any]) -> bool:
    """The item lacks a category or (while taxed) a tax id, which its transaction may carry."""
    taxed = (to_decimal(item.get("tax")) or ZERO) != 0
    return item_category_id(item) is None or (taxed and to_id(item.get("tax_id")) is None)


def document_total(raw: Mapping[str, Any], lines: Sequence[BillingDocumentLine] | None = None) -> Decimal:
    """The server's gross ``total``; the sum of the lines' only when it sends none."""
    total = to_decimal(raw.get("total"))
    if total is not None:
        return total
    if lines is None:
        lines = [document_line(item, None) for item in raw.get("items") or () if isinstance(item, Mapping)]
    return sum((line.gross_total for line in lines), ZERO)


def document(
    kind: DocumentKind, raw: Mapping[str, Any], transactions: Mapping[int, Mapping[str, Any]] | None = None
) -> BillingDocument:
    """``admin/finance/invoices`` or ``credit-notes`` row (docs/splynx-api.md §7.3, §7.4).

    ``transactions`` maps an item's ``transaction_id`` to the transaction row,
    for items that do not carry their category or tax id themselves.
    The gross ``total`` is the server's; ``tax_total`` is the sum of line tax.
    """
    transactions = transactions or {}
    lines = tuple(
        document_line(item, transactions.get(to_id(item.get("transaction_id")) or 0))
        for item in raw.get("items") or ()
        if isinstance(item, Mapping)
    )
    tax_total = sum((line.tax_amount for line in lines), ZERO)
    total = document_total(raw, lines)
    # Credit notes record the credited invoice(s) as "invoicesId" on create
    # (S6, undocumented); read it back when the server echoes it.
    related = to_id_tuple(raw.get("invoicesId") or raw.get("invoice_id")) if kind == "credit_note" else ()
    return BillingDocument(
        kind=kind,
        id=to_required_int(raw["id"]),
        number=to_str(raw.get("number")),
        customer_id=to_int(raw.get("customer_id")),
        date=to_date(raw.get("date_created")),
        total=total,
        tax_total=tax_total,
        lines=lines,
        status=to_str(raw.get("status")),
        due_date=to_date(raw.get("date_till")),
        amount_due=to_decimal(raw.get("due") if kind == "invoice" else raw.get("remind_amount")),
        paid_on=to_date(raw.get("date_payment")),
        created_at=to_datetime(raw.get("real_create_datetime")),
        updated_on=to_date(raw.get("date_updated")),
        related_invoice_ids=related,
        # Absent flag: credit notes do not carry it; treat as having transactions.
        has_transactions=to_bool(raw.get("use_transactions", "1")),
        note=to_str(raw.get("note")),
        memo=to_str(raw.get("memo")),
        additional=to_attributes(raw.get("additional_attributes")),
    )


def payment(raw: Mapping[str, Any]) -> BillingPayment:
    """``admin/finance/payments`` row (docs/splynx-api.md §7.5); ``payment_type`` is the payment-method id."""
    return BillingPayment(
        id=to_required_int(raw["id"]),
        customer_id=to_int(raw.get("customer_id")),
        date=to_date(raw.get("date")),
        amount=to_money(raw.get("amount")),
        payment_method_id=to_id(raw.get("payment_type")),
        invoice_id=to_id(raw.get("invoice_id")),
        credit_note_id=to_id(raw.get("credit_note_id")),
        receipt_number=to_str(raw.get("receipt_number")),
        comment=to_str(raw.get("comment")),
        note=to_str(raw.get("note")),
        memo=to_str(raw.get("memo")),
        fields=tuple(to_str(raw.get(f"field_{n}")) for n in range(1, 6)),
        statement_id=to_id(raw.get("payment_statement_id")),
        unallocated=to_decimal(raw.get("remind_amount")),
        created_at=to_datetime(raw.get("real_create_datetime")),
        updated_at=to_datetime(raw.get("updated_at")),
        additional=to_attributes(raw.get("additional_attributes")),
    )


def payment_method(raw: Mapping[str, Any]) -> PaymentMethod:
    """``admin/finance/payment-methods`` row (docs/splynx-api.md §7.7)."""
    return PaymentMethod(
        id=to_required_int(raw["id"]),
        name=to_str(raw.get("name")),
        is_active=to_bool(raw.get("is_active", "1")),
        accounting_id=to_id(raw.get("accounting_bank_accounts_id")),
        field_labels=tuple(to_str(raw.get(f"name_{n}")) for n in range(1, 6)),
    )


def transaction_category(raw: Mapping[str, Any]) -> TransactionCategory:
    """``admin/finance/transaction-categories`` row (docs/splynx-api.md §7.8)."""
    return TransactionCategory(
        id=to_required_int(raw["id"]),
        name=to_str(raw.get("name")),
        is_base=to_bool(raw.get("is_base")),
        accounting_id=to_id(raw.get("accounting_category_id")),
    )


def tax_rate(raw: Mapping[str, Any]) -> TaxRate:
    """``admin/config/taxes`` row (docs/splynx-api.md §7.9)."""
    return TaxRate(
        id=to_required_int(raw["id"]),
        name=to_str(raw.get("name")),
        rate=to_money(raw.get("rate")),
        type=to_str(raw.get("type")) or "single",
        archived=to_bool(raw.get("archived")),
        accounting_id=to_id(raw.get("accounting_tax_rates_id")),
    )


def payment_statement(raw: Mapping[str, Any]) -> PaymentStatement:
    """``admin/finance/bank-statements`` row (docs/splynx-api.md §7.10)."""
    return PaymentStatement(
        id=to_required_int(raw["id"]),
        title=to_str(raw.get("title")),
        payment_method_id=to_id(raw.get("payment_type")),
        status=to_str(raw.get("status")),
        created_at=to_datetime(raw.get("date_time")),
    )


def payment_statement_line(raw: Mapping[str, Any]) -> PaymentStatementLine:
    """``admin/finance/bank-statements-records`` row (docs/splynx-api.md §7.10); ``pairing_*`` are the match
    hints."""
    return PaymentStatementLine(
        id=to_id(raw.get("id")),
        statement_id=to_id(raw.get("bank_statements_process_id")),
        amount=to_money(raw.get("amount")),
        payment_date=to_date(raw.get("payment_date")),
        customer_id=to_id(raw.get("customer_id")) or to_id(raw.get("pairing_1")),
        invoice_number=to_str(raw.get("pairing_2")),
        invoice_id=to_id(raw.get("invoice_id")),
        credit_note_id=to_id(raw.get("credit_note_id")),
        reference=to_str(raw.get("additional_1")),
        comment=to_str(raw.get("comment")),
        status=to_str(raw.get("status")),
    )
