"""Record shapes of the Splynx entities the sandbox serves (docs/splynx-api.md §7).

Each spec lists the attributes with their create-time defaults (which also define
what ``main_attributes`` may filter on), the required and read-only ones, the API
path, the methods the path accepts and the additional-fields module.
"""

from __future__ import annotations

from dataclasses import dataclass, field

EMPTY_DATE = "0000-00-00"
EMPTY_DATETIME = "0000-00-00 00:00:00"

ALL_METHODS = frozenset({"GET", "HEAD", "OPTIONS", "POST", "PUT", "DELETE"})
READ_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


@dataclass(frozen=True)
class EntitySpec:
    name: str
    path: str
    title: str
    defaults: dict
    required: tuple[str, ...] = ()
    read_only: frozenset[str] = frozenset({"id"})
    methods: frozenset[str] = ALL_METHODS
    additional_module: str | None = None
    labels: dict = field(default_factory=dict)

    def label(self, name: str) -> str:
        """Yii-style attribute label used in validation messages."""
        return self.labels.get(name) or name.replace("_", " ").capitalize().replace(" id", " ID")


def _spec(name, path, title, defaults, **kwargs) -> EntitySpec:
    return EntitySpec(name=name, path=path, title=title, defaults={"id": 0, **defaults}, **kwargs)


SPECS: dict[str, EntitySpec] = {
    s.name: s
    for s in [
        _spec("partners", "admin/administration/partners", "Partner", {"name": ""}, required=("name",)),
        _spec(
            "locations",
            "admin/administration/locations",
            "Location",
            {"name": "", "tax_for_tariff_internet": "0", "tax_for_inventory_items": "0"},
            required=("name",),
        ),
        _spec(
            "customers",
            "admin/customers/customer",
            "Customer",
            {
                "billing_type": "recurring",
                "partner_id": 1,
                "location_id": 1,
                "parent_id": 0,
                "added_by": "api",
                "added_by_id": 0,
                "login": "",
                "category": "person",
                "name": "",
                "email": "",
                "billing_email": "",
                "phone": "",
                "street_1": "",
                "street_2": "",
                "zip_code": "",
                "city": "",
                "subdivision_id": 0,
                "status": "new",
                "date_add": EMPTY_DATE,
                "last_online": EMPTY_DATETIME,
                "last_update": EMPTY_DATETIME,
                "gps": "",
                "conversion_date": EMPTY_DATE,
                "mrr_total": "0.0000",
                "daily_prepaid_cost": "0.0000",
                "gdpr_agreed": "0",
                "customer_labels": [],
                "additional_attributes": {},
            },
            required=("partner_id", "location_id", "name"),
            read_only=frozenset(
                {"id", "billing_type", "added_by", "added_by_id", "last_online", "last_update"}
            ),
            additional_module="customers",
        ),
        _spec(
            "invoices",
            "admin/finance/invoices",
            "Invoice",
            {
                "customer_id": 0,
                "number": "",
                "date_created": EMPTY_DATE,
                "real_create_datetime": EMPTY_DATETIME,
                "date_updated": EMPTY_DATE,
                "date_till": EMPTY_DATE,
                "date_payment": EMPTY_DATE,
                "status": "not_paid",
                "total": "0.0000",
                "due": "0.0000",
                "payment_id": 0,
                "type": "one_time",
                "use_transactions": "1",
                "payd_from_deposit": "0",
                "is_sent": "0",
                "note": "",
                "memo": "",
                "added_by": "api",
                "added_by_id": 0,
                "additional_attributes": {},
                "items": [],
            },
            required=("customer_id", "items"),
            read_only=frozenset(
                {"id", "real_create_datetime", "total", "due", "added_by", "added_by_id", "date_updated"}
            ),
            additional_module="invoices",
        ),
        _spec(
            "credit_notes",
            "admin/finance/credit-notes",
            "Credit note",
            {
                "customer_id": 0,
                "number": "",
                "date_created": EMPTY_DATE,
                "real_create_datetime": EMPTY_DATETIME,
                "date_updated": EMPTY_DATE,
                "date_payment": EMPTY_DATE,
                "status": "not_refunded",
                "total": "0.0000",
                "remind_amount": "0.0000",
                "payment_id": 0,
                "note": "",
                "is_sent": "0",
                "added_by": "api",
                "added_by_id": 0,
                "additional_attributes": {},
                "items": [],
            },
            required=("customer_id", "items"),
            read_only=frozenset(
                {
                    "id",
                    "real_create_datetime",
                    "total",
                    "remind_amount",
                    "added_by",
                    "added_by_id",
                    "date_updated",
                }
            ),
            additional_module="credit_notes",
        ),
        _spec(
            "payments",
            "admin/finance/payments",
            "Payment",
            {
                "customer_id": 0,
                "invoice_id": None,
                "credit_note_id": None,
                "request_id": None,
                "transaction_id": 0,
                "payment_statement_id": None,
                "payment_type": 0,
                "receipt_number": "",
                "date": EMPTY_DATE,
                "amount": "0.0000",
                "remind_amount": "0.0000",
                "real_create_datetime": EMPTY_DATETIME,
                "updated_at": EMPTY_DATETIME,
                "comment": "",
                "note": "",
                "memo": "",
                "field_1": "",
                "field_2": "",
                "field_3": "",
                "field_4": "",
                "field_5": "",
                "is_sent": "0",
                "added_by": "api",
                "added_by_id": 0,
                "additional_attributes": {},
            },
            required=("customer_id", "payment_type", "receipt_number", "date", "amount"),
            read_only=frozenset(
                {
                    "id",
                    "remind_amount",
                    "real_create_datetime",
                    "updated_at",
                    "added_by",
                    "added_by_id",
                    "transaction_id",
                }
            ),
            additional_module="payments",
        ),
        _spec(
            "transactions",
            "admin/finance/transactions",
            "Transaction",
            {
                "customer_id": 0,
                "type": "debit",
                "quantity": "1",
                "unit": "",
                "price": "0.0000",
                "tax_percent": "0.0000",
                "tax_id": 0,
                "total": "0.0000",
                "remind_amount": "0.0000",
                "date": EMPTY_DATE,
                "category": 1,
                "description": "",
                "period_from": EMPTY_DATE,
                "period_to": EMPTY_DATE,
                "service_id": 0,
                "service_type": "custom",
                "payment_id": 0,
                "credit_note_id": 0,
                "invoice_id": 0,
                "invoiced_by_id": 0,
                "comment": "",
                "to_invoice": "0",
                "source": "manual",
                "sub_account_id": 0,
            },
            required=("customer_id", "type", "price", "date"),
            additional_module="billing_transactions",
        ),
        _spec(
            "payment_methods",
            "admin/finance/payment-methods",
            "Payment method",
            {
                "name": "",
                "is_active": "1",
                "name_1": "",
                "name_2": "",
                "name_3": "",
                "name_4": "",
                "name_5": "",
                "accounting_bank_accounts_id": 0,
                "einvoicing_payment_methods_id": 0,
            },
            required=("name",),
        ),
        _spec(
            "transaction_categories",
            "admin/finance/transaction-categories",
            "Transaction category",
            {
                "name": "",
                "is_base": "0",
                "accounting_category_id": None,
                "einvoicing_category_id": None,
                "einvoicing_private_person_category_id": None,
                "einvoicing_type_id": None,
                "einvoicing_private_person_type_id": None,
            },
            required=("name",),
        ),
        # GET list / GET one only (docs/splynx-api.md §7.9): mapping a tax is done in the UI, not via the API.
        _spec(
            "taxes",
            "admin/config/taxes",
            "Tax",
            {
                "name": "",
                "rate": "0.0000",
                "type": "single",
                "archived": "0",
                "accounting_tax_rates_id": 0,
                "einvoicing_tax_rates_id": 0,
            },
            methods=READ_METHODS,
        ),
        _spec(
            "bank_statements",
            "admin/finance/bank-statements",
            "Bank statement",
            {
                "date_time": EMPTY_DATETIME,
                "title": "",
                "handler": "",
                "payment_type": 0,
                "status": "new",
                "filename_original": "",
                "filename_uploaded": "",
                "filename_parsed": "",
                "delimiter": "",
                "records": 0,
                "processed": 0,
                "errors": 0,
                "new": 0,
                "canceled": 0,
                "ignored": 0,
                "manual_paired": 0,
                "pending": 0,
                "pair_to_inactive_customers": "0",
            },
            required=("title",),
        ),
        _spec(
            "bank_statement_records",
            "admin/finance/bank-statements-records",
            "Bank statement record",
            {
                "bank_statements_process_id": 0,
                "datetime": EMPTY_DATETIME,
                "payment_date": EMPTY_DATE,
                "amount": "0.0000",
                "status": "new",
                "pairing_1": "",
                "pairing_2": "",
                "pairing_3": "",
                "additional_1": "",
                "additional_2": "",
                "additional_3": "",
                "comment": "",
                "customer_id": 0,
                "invoice_id": 0,
                "credit_note_id": 0,
                "request_id": 0,
                "payment_id": 0,
                "transaction_id": 0,
            },
            required=("bank_statements_process_id", "amount"),
        ),
    ]
}

BY_PATH: dict[str, EntitySpec] = {s.path: s for s in SPECS.values()}

MONEY_FIELDS = frozenset(
    {"amount", "total", "due", "price", "remind_amount", "tax_amount", "mrr_total", "rate"}
)

ITEM_DEFAULTS = {
    "id": 0,
    "pos": 0,
    "description": "",
    "quantity": "1",
    "unit": "",
    "price": "0.0000",
    "tax": "0.0000",
    "tax_id": 0,
    "tax_amount": "0.0000",
    "period_from": EMPTY_DATE,
    "period_to": EMPTY_DATE,
    "sub_account_id": 0,
    "transaction_id": 0,
}
