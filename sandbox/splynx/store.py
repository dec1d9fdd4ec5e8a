"""In-memory state of one fake Splynx installation, editable from Python while served.

Every HTTP write goes through the same ``create`` / ``update`` / ``delete`` methods
that tests call directly, so an edit made "behind the API's back" keeps totals,
due amounts, transactions and change cursors exactly as an API write would.
"""

from __future__ import annotations

import copy
import json
import random
import re
import threading
import time
from collections import Counter, OrderedDict, deque
from datetime import datetime
from decimal import Decimal, InvalidOperation

from .auth import Authenticator
from .entities import EMPTY_DATE, ITEM_DEFAULTS, MONEY_FIELDS, SPECS, EntitySpec
from .finance import fmt4, line_amounts, money
from .hooks import HookSender
from .search import select

_EMAIL = re.compile(r"^[^@\s,]+@[^@\s,]+\.[^@\s,]+$")
# Keys real clients send that Splynx accepts without documenting them (docs/splynx-api.md §7.4).
_TOLERATED_EXTRAS = frozenset({"invoicesId", "resetPeriodForService", "categoryIdForTransaction"})
CUSTOMER_STATUSES = ("new", "active", "blocked", "disabled")
PAYMENT_CATEGORY = 3  # built-in transaction category "Payment" (docs/splynx-api.md §7.8)
ACCOUNTING_COLUMNS = frozenset(
    {"accounting_category_id", "accounting_bank_accounts_id", "accounting_tax_rates_id"}
)
LOCKED_CREDIT_NOTE_STATUSES = ("refunded",)
STATEMENT_STATUSES = ("new", "fail", "success")
STATEMENT_RECORD_STATUSES = (
    "new",
    "processed",
    "canceled",
    "error",
    "ignored",
    "deleted",
    "manual_paired",
    "pending",
)
SELECTIONS_KEPT = 8


class ApiError(Exception):
    """An error answered with the generic error object (docs/splynx-api.md §4.1)."""

    def __init__(self, status: int, internal_code: str, message: str):
        super().__init__(message)
        self.status = status
        self.internal_code = internal_code
        self.message = message


class ValidationFailed(Exception):
    """Answered as 422 with a list of ``{field, is_additional_attribute, message}``
    (docs/splynx-api.md §4.2)."""

    def __init__(self, errors: list[dict]):
        super().__init__("; ".join(f"{e['field']}: {e['message']}" for e in errors))
        self.errors = errors


def _is_id_field(name: str) -> bool:
    return name == "id" or name.endswith("_id") or name in ("payment_type", "category", "pos")


class SplynxState:
    """All records, keys, tokens, counters and fault settings of one sandbox."""

    def __init__(
        self, *, string_ids: bool = False, soft_delete_documents: bool = True, nonce_policy="unique"
    ):
        self._clock_offset = 0.0
        self.auth = Authenticator(self.now, nonce_policy=nonce_policy)
        # Older servers return ids as strings (docs/splynx-api.md §1); newer ones as integers.
        self.string_ids = string_ids
        # DELETE on an invoice / credit note marks it status=deleted (docs/splynx-api.md §9) rather than
        # erasing it.
        self.soft_delete_documents = soft_delete_documents
        self.tables: dict[str, dict[int, dict]] = {name: {} for name in SPECS}
        self._next_id: dict[str, int] = dict.fromkeys(SPECS, 1)
        self._next_item_id = 1
        self.additional_fields: dict[str, dict[str, dict]] = {}
        self.config_settings: dict[tuple[str, str, str], dict] = {}
        self.customer_info: dict[int, dict] = {}
        self.lock = threading.RLock()
        # Requests seen, keyed by (method, route) with ids replaced by "<id>".
        self.requests: Counter = Counter()
        self.request_log: deque = deque(maxlen=10000)
        self.ignored_fields: list[tuple[str, str]] = []
        # Fault injection: random fractions (seeded) and deterministic queues.
        self.error_rate = 0.0
        self.drop_rate = 0.0
        self.latency = 0.0
        self.rng = random.Random(0)
        self.fail_next: deque[int] = deque()
        self.drop_next = 0
        # What a real installation does where public sources leave it open, or what the nginx in
        # front of PHP adds (docs/splynx-installations.md). Defaults are the strict answers.
        # accounting_* columns are foreign keys into the accounting add-ons' tables (none here).
        self.accounting_foreign_keys = True
        # nginx's default header buffer (8 KB): a longer request line is answered 414.
        self.max_request_line: int | None = 8192
        # A write committed by PHP, then answered 502 by nginx: a random share, or the next n.
        self.commit_then_502_rate = 0.0
        self.commit_then_502_next = 0
        # API paths (or "*") that answer every list request in full, ignoring limit/offset.
        self.paging_ignored: set[str] = set()
        # Token renewal and revocation need the pair's current access token in the header.
        self.renew_needs_access_token = True
        # email / billing_email may hold several comma-separated addresses (off: one only).
        self.multi_value_contacts = True
        # Length of payments.receipt_number (None: unlimited).
        self.receipt_number_length: int | None = 32
        # Handlers a statement may name ("" = none); None accepts anything.
        self.statement_handlers: frozenset[str] | None = frozenset({"", "base"})
        # A refunded credit note takes changes to its note only.
        self.locked_credit_notes = True
        # Test hook: called with (method, entity, record) after a write, before the answer leaves.
        self.on_commit = None
        self.dataset = None
        # Entities written since the last save to a ``--db`` file.
        self.dirty: set[str] = set()
        # Webhooks sent on every create, update and delete (sandbox/splynx/hooks.py).
        self.hooks = HookSender()
        # Recent list selections by search; every change forgets them all (see ``select``).
        self._selections: OrderedDict[tuple, list[dict]] = OrderedDict()

    # -- clock ------------------------------------------------------------------------------

    def now(self) -> float:
        """Server time in unix seconds; ``advance`` moves it so tokens can expire in tests."""
        return time.time() + self._clock_offset

    def advance(self, seconds: float) -> None:
        """Move the server clock forward (tokens expire, new cursors sort later)."""
        self._clock_offset += seconds

    def datetime_str(self) -> str:
        return datetime.fromtimestamp(self.now()).strftime("%Y-%m-%d %H:%M:%S")

    def date_str(self) -> str:
        return datetime.fromtimestamp(self.now()).strftime("%Y-%m-%d")

    # -- reading ----------------------------------------------------------------------------

    def all(self, entity: str) -> list[dict]:
        """Stored records of an entity (live objects; use ``present`` for a wire copy)."""
        return list(self.tables[entity].values())

    def get(self, entity: str, record_id) -> dict:
        """The stored record or ``ApiError(404)`` with Splynx's "<Title> not found!" text."""
        try:
            key = int(str(record_id))
        except ValueError:
            key = None
        record = self.tables[entity].get(key) if key is not None else None
        if record is None:
            raise ApiError(404, "NOT_FOUND", f"{SPECS[entity].title} not found!")
        return record

    def present(self, entity: str, record: dict) -> dict:
        """The record as the API prints it (a copy, safe to encode outside the lock)."""
        out = copy.deepcopy(record)
        if self.string_ids:
            _stringify_ids(out)
        return out

    def present_locked(self, entity: str, records: list[dict]) -> list[dict]:
        """Records as the API prints them, for encoding before ``lock`` is released: the live
        records themselves unless ids must become strings (a deep copy per row made long
        listings cost the sandbox more than the rest of the request)."""
        return [self.present(entity, r) for r in records] if self.string_ids else records

    def partner_of(self, entity: str, record: dict) -> int | None:
        """Partner owning a record, for partner-restricted keys (405, docs/splynx-api.md §4.1)."""
        if entity == "customers":
            return int(record["partner_id"])
        customer_id = record.get("customer_id")
        if entity in ("invoices", "credit_notes", "payments", "transactions") and customer_id:
            customer = self.tables["customers"].get(int(customer_id))
            return int(customer["partner_id"]) if customer else None
        return None

    # -- additional fields and settings -----------------------------------------------------

    def define_additional_field(self, module: str, name: str, type: str = "string", **extra) -> dict:
        """Declare a custom field; records of the module then carry it in ``additional_attributes``."""
        definition = {
            "name": name,
            "title": extra.pop("title", name.replace("_", " ").title()),
            "type": type,
            "module": module,
            "default_value": extra.pop("default_value", ""),
            "is_required": "0",
            "is_unique": "0",
            "is_add": "1",
            "show_in_list": "0",
            "searchable": "1",
            "readonly": "0",
            "disabled": "0",
            "hidden": "0",
            **extra,
        }
        with self.lock:
            self._changed()
            self.additional_fields.setdefault(module, {})[name] = definition
            for spec in SPECS.values():
                if spec.additional_module == module:
                    for record in self.tables[spec.name].values():
                        record["additional_attributes"].setdefault(name, definition["default_value"])
        return definition

    def select(self, entity: str, query: dict, partner_ids: tuple[int, ...] | None) -> list[dict]:
        """The records a list request matches, in order, before paging.

        A client pages through one search with growing offsets: the selection is kept (a few
        searches at a time) until the next write, so paging costs what MySQL's would, not a
        scan and sort of the whole table per page.
        """
        spec = SPECS[entity]
        unpaged = {k: v for k, v in query.items() if k not in ("limit", "offset")}
        key = (entity, partner_ids, json.dumps(unpaged, sort_keys=True, default=str))
        selected = self._selections.get(key)
        if selected is None:
            table = self.tables[entity]
            candidates, by_id = table.values(), table
            if partner_ids is not None:
                # A partner-restricted key sees only its partners' rows, whatever the id asked.
                candidates = [r for r in candidates if self.partner_of(entity, r) in (None, *partner_ids)]
                by_id = None
            selected = select(candidates, unpaged, set(spec.defaults), self.additional_names(entity), by_id)
            self._selections[key] = selected
            while len(self._selections) > SELECTIONS_KEPT:
                self._selections.popitem(last=False)
        self._selections.move_to_end(key)
        return selected

    def _changed(self) -> None:
        """Any record changed: no kept selection may be served again."""
        self._selections.clear()

    def _written(self, entity: str) -> None:
        self.dirty.add(entity)
        self._changed()

    def additional_names(self, entity: str) -> set[str]:
        module = SPECS[entity].additional_module
        return set(self.additional_fields.get(module, {})) if module else set()

    # -- writing ----------------------------------------------------------------------------

    def load(self, entity: str, records: list[dict]) -> None:
        """Bulk insert trusted records (the dataset generator's output), keeping their ids."""
        table = self.tables[entity]
        self._changed()
        for record in records:
            table[int(record["id"])] = record
            for item in record.get("items", ()):
                self._next_item_id = max(self._next_item_id, int(item["id"]) + 1)
        if table:
            self._next_id[entity] = max(self._next_id[entity], max(table) + 1)

    def load_dataset(self, dataset) -> None:
        """Install a ``sandbox.dataset.Dataset``: its additional fields, then its records."""
        with self.lock:
            for module, name, kind in dataset.additional_fields:
                self.define_additional_field(module, name, kind)
            for entity, records in dataset.records.items():
                self.load(entity, records)
            self.dataset = dataset

    def create(self, entity: str, data: dict) -> dict:
        """POST semantics: validate, fill server-set fields, store; returns the stored record."""
        spec = SPECS[entity]
        with self.lock:
            self._check_foreign_keys(spec, data)
            record = copy.deepcopy(spec.defaults)
            module = spec.additional_module
            if module:
                record["additional_attributes"] = {
                    name: d["default_value"] for name, d in self.additional_fields.get(module, {}).items()
                }
            errors = self._assign(spec, record, data, creating=True)
            errors += self._validate(spec, record, data, creating=True)
            if errors:
                raise ValidationFailed(errors)
            record["id"] = self._next_id[entity]
            self._next_id[entity] += 1
            self._written(entity)
            self._on_create(entity, record, data)
            self.tables[entity][record["id"]] = record
            self._after_write(entity, record, None)
            self.hooks.emit(entity, "create", record)
            return record

    def update(self, entity: str, record_id, data: dict) -> dict:
        """PUT semantics: apply a partial body, keep totals and cursors current (docs/splynx-api.md §3)."""
        spec = SPECS[entity]
        with self.lock:
            record = self.get(entity, record_id)
            self._check_foreign_keys(spec, data)
            self._check_locked(entity, record, data)
            self._written(entity)
            before = copy.deepcopy(record)
            candidate = copy.deepcopy(record)
            errors = self._assign(spec, candidate, data, creating=False)
            errors += self._validate(spec, candidate, data, creating=False)
            if errors:
                raise ValidationFailed(errors)
            record.clear()
            record.update(candidate)
            self._on_update(entity, record, data)
            self._after_write(entity, record, before)
            self.hooks.emit(entity, "update", record, before)
            return record

    def delete(self, entity: str, record_id, *, hard: bool | None = None) -> None:
        """DELETE semantics; invoices and credit notes are soft-deleted unless ``hard``."""
        with self.lock:
            record = self.get(entity, record_id)
            self._written(entity)
            self.hooks.emit(entity, "delete", record)
            soft = self.soft_delete_documents if hard is None else not hard
            if entity in ("invoices", "credit_notes") and soft:
                record["status"] = "deleted"
                record["date_updated"] = self.date_str()
                return
            del self.tables[entity][record["id"]]
            for transaction in self._transactions_of(entity, record):
                self.tables["transactions"].pop(transaction["id"], None)
            if entity == "payments":
                self._settle_invoice(record.get("invoice_id"))
            if entity == "customers":
                self.customer_info.pop(record["id"], None)

    # -- conveniences for tests --------------------------------------------------------------

    def set_item(self, entity: str, document_id, item_index: int = 0, **fields) -> dict:
        """Edit one item of an invoice / credit note (e.g. ``price="12.5"``) as a PUT would."""
        document = self.get(entity, document_id)
        item = document["items"][item_index]
        return self.update(entity, document_id, {"items": [{"id": item["id"], **fields}]})

    def add_payment(
        self, customer_id, amount, *, payment_type=1, invoice_id=None, date=None, **extra
    ) -> dict:
        """Record a payment as if an admin had entered it."""
        data = {
            "customer_id": customer_id,
            "amount": str(amount),
            "payment_type": payment_type,
            "receipt_number": extra.pop("receipt_number", f"R-{self._next_id['payments']:06d}"),
            "date": date or self.date_str(),
            **extra,
        }
        if invoice_id is not None:
            data["invoice_id"] = invoice_id
        return self.create("payments", data)

    def request_count(self, method: str | None = None, route: str | None = None) -> int:
        """How many requests matched a method and/or a route such as ``admin/finance/invoices``."""
        return sum(
            n
            for (m, r), n in self.requests.items()
            if (method is None or m == method) and (route is None or r == route or r.startswith(route + "/"))
        )

    # -- internals --------------------------------------------------------------------------

    def _assign(self, spec: EntitySpec, record: dict, data: dict, creating: bool) -> list[dict]:
        errors: list[dict] = []
        if not isinstance(data, dict):
            return [_error("body", "Request body must be an object.")]
        for name, value in data.items():
            if name == "additional_attributes":
                errors += self._assign_additional(spec, record, value)
            elif name == "items" and "items" in spec.defaults:
                continue  # handled by the document hooks after validation
            elif name in spec.read_only:
                continue  # Yii ignores unsafe attributes silently
            elif name in spec.defaults:
                converted, problem = _convert(name, value, spec)
                if problem:
                    errors.append(_error(name, problem))
                else:
                    record[name] = converted
            elif name not in _TOLERATED_EXTRAS:
                self.ignored_fields.append((spec.name, name))
        return errors

    def _assign_additional(self, spec: EntitySpec, record: dict, values) -> list[dict]:
        known = self.additional_fields.get(spec.additional_module or "", {})
        if not isinstance(values, dict):
            return [_error("additional_attributes", "Additional attributes must be an object.", True)]
        errors = []
        for name, value in values.items():
            if name not in known:
                errors.append(_error(name, f"Unknown additional attribute {name}.", True))
            else:
                record["additional_attributes"][name] = "" if value is None else str(value)
        return errors

    def _check_foreign_keys(self, spec: EntitySpec, data) -> None:
        """MySQL refuses a row pointing into an empty accounting table; Yii answers 500."""
        if not self.accounting_foreign_keys or not isinstance(data, dict):
            return
        for name in ACCOUNTING_COLUMNS.intersection(data):
            if name in spec.defaults and data[name] not in (None, "", 0, "0"):
                raise ApiError(
                    500,
                    "SERVER_ERROR",
                    "SQLSTATE[23000]: Integrity constraint violation: 1452 Cannot add or update a child "
                    f"row: a foreign key constraint fails ({name})",
                )

    def _check_locked(self, entity: str, record: dict, data) -> None:
        if not (self.locked_credit_notes and entity == "credit_notes" and isinstance(data, dict)):
            return
        if record.get("status") in LOCKED_CREDIT_NOTE_STATUSES:
            errors = [
                _error(
                    name,
                    "A refunded credit note can not be changed, except its note.",
                    name == "additional_attributes",
                )
                for name in data
                if name != "note"
            ]
            if errors:
                raise ValidationFailed(errors)

    def _validate(self, spec: EntitySpec, record: dict, data: dict, creating: bool) -> list[dict]:
        errors = []
        if creating:
            for name in spec.required:
                if data.get(name) in (None, "", []):
                    errors.append(_error(name, f"{spec.label(name)} cannot be blank."))
        checker = getattr(self, f"_validate_{spec.name}", None)
        if checker:
            errors += checker(record, data, creating)
        return [e for i, e in enumerate(errors) if e["field"] not in {x["field"] for x in errors[:i]}]

    def _exists(self, entity: str, value) -> bool:
        try:
            return int(str(value)) in self.tables[entity]
        except (TypeError, ValueError):
            return False

    def _validate_customers(self, record, data, creating):
        errors = []
        if "partner_id" in data and not self._exists("partners", record["partner_id"]):
            errors.append(_error("partner_id", "Partner ID is invalid."))
        if "location_id" in data and not self._exists("locations", record["location_id"]):
            errors.append(_error("location_id", "Location ID is invalid."))
        if record["category"] not in ("person", "company"):
            errors.append(_error("category", "Category is invalid."))
        if record["status"] not in CUSTOMER_STATUSES:
            errors.append(_error("status", "Status is invalid."))
        for name in ("email", "billing_email"):
            text = str(record[name])
            addresses = text.split(",") if self.multi_value_contacts else [text]
            for address in filter(None, (a.strip() for a in addresses)):
                if not _EMAIL.match(address):
                    errors.append(
                        _error(name, f"{SPECS['customers'].label(name)} is not a valid email address.")
                    )
                    break
        if record["login"] and any(
            c["login"] == record["login"] and c["id"] != record["id"]
            for c in self.tables["customers"].values()
        ):
            errors.append(_error("login", f'Login "{record["login"]}" has already been taken.'))
        return errors

    def _validate_documents(self, record, data, creating):
        errors = []
        if not self._exists("customers", record["customer_id"]):
            errors.append(_error("customer_id", "Customer ID is invalid."))
        items = data.get("items")
        if items is None:
            return errors
        if not isinstance(items, list) or (creating and not items):
            return [*errors, _error("items", "Items cannot be blank.")]
        known_ids = {int(i["id"]) for i in record.get("items", ())}
        for pos, item in enumerate(items, start=1):
            if not isinstance(item, dict):
                errors.append(_error("items", f"Item #{pos} is invalid."))
                continue
            updating_item = not creating and item.get("id") not in (None, "")
            if updating_item and _int_or_none(item.get("id")) not in known_ids:
                errors.append(_error("items", f"Item #{pos}: ID is invalid."))
                continue
            if not updating_item:
                for name in ("description", "quantity", "unit"):
                    if item.get(name) in (None, ""):
                        errors.append(_error("items", f"Item #{pos}: {name.capitalize()} cannot be blank."))
            for name in ("quantity", "price", "tax"):
                if item.get(name) not in (None, "") and _decimal_or_none(item[name]) is None:
                    errors.append(_error("items", f"Item #{pos}: {name.capitalize()} must be a number."))
            category = item.get("categoryIdForTransaction")
            if category not in (None, "", 0, "0") and not self._exists("transaction_categories", category):
                errors.append(_error("items", f"Item #{pos}: Transaction category is invalid."))
        return errors

    _validate_invoices = _validate_documents
    _validate_credit_notes = _validate_documents

    def _validate_payments(self, record, data, creating):
        errors = []
        if not self._exists("customers", record["customer_id"]):
            errors.append(_error("customer_id", "Customer ID is invalid."))
        if not self._exists("payment_methods", record["payment_type"]):
            errors.append(_error("payment_type", "Payment type is invalid."))
        if record["invoice_id"] not in (None, 0):
            invoice = self.tables["invoices"].get(int(record["invoice_id"]))
            if invoice is None or invoice["customer_id"] != record["customer_id"]:
                errors.append(_error("invoice_id", "Invoice ID is invalid."))
        if record["credit_note_id"] not in (None, 0) and not self._exists(
            "credit_notes", record["credit_note_id"]
        ):
            errors.append(_error("credit_note_id", "Credit note ID is invalid."))
        if not re.fullmatch(r"\d{4}-\d{2}-\d{2}", str(record["date"])):
            errors.append(_error("date", "The format of Date is invalid."))
        limit = self.receipt_number_length
        if limit is not None and len(str(record["receipt_number"])) > limit:
            errors.append(
                _error("receipt_number", f"Receipt number should contain at most {limit} characters.")
            )
        return errors

    def _validate_bank_statements(self, record, data, creating):
        errors = []
        if self.statement_handlers is not None and record["handler"] not in self.statement_handlers:
            errors.append(_error("handler", "Handler is invalid."))
        if record["status"] not in STATEMENT_STATUSES:
            errors.append(_error("status", "Status is invalid."))
        return errors

    def _validate_bank_statement_records(self, record, data, creating):
        errors = []
        if not self._exists("bank_statements", record["bank_statements_process_id"]):
            errors.append(_error("bank_statements_process_id", "Bank statements process ID is invalid."))
        if record["status"] not in STATEMENT_RECORD_STATUSES:
            errors.append(_error("status", "Status is invalid."))
        return errors

    def _on_create(self, entity: str, record: dict, data: dict) -> None:
        now, today = self.datetime_str(), self.date_str()
        if entity == "customers":
            record["login"] = record["login"] or f"cust{record['id']:06d}"
            if record["date_add"] == EMPTY_DATE:
                record["date_add"] = today
            record["last_update"] = now
        elif entity in ("invoices", "credit_notes"):
            record["real_create_datetime"] = now
            record["date_updated"] = today
            if record["date_created"] == EMPTY_DATE:
                record["date_created"] = today
            # Auto-numbering when `number` is omitted is unconfirmed (docs/splynx-api.md §11); the UI does it.
            record["number"] = (
                record["number"] or f"{record['date_created'][:7].replace('-', '')}{record['id']:06d}"
            )
            record["items"] = []
            self._merge_items(entity, record, data.get("items") or [])
        elif entity == "payments":
            record["real_create_datetime"] = now
            record["updated_at"] = now
            transaction = self._new_transaction(record, "credit", record["amount"], PAYMENT_CATEGORY)
            transaction["payment_id"] = record["id"]
            transaction["description"] = f"Payment {record['receipt_number']}"
            record["transaction_id"] = transaction["id"]
        elif entity == "bank_statements" and record["date_time"] == "0000-00-00 00:00:00":
            record["date_time"] = now

    def _on_update(self, entity: str, record: dict, data: dict) -> None:
        if entity == "customers":
            record["last_update"] = self.datetime_str()
        elif entity in ("invoices", "credit_notes"):
            record["date_updated"] = self.date_str()
            if "items" in data:
                self._merge_items(entity, record, data["items"])
        elif entity == "payments":
            record["updated_at"] = self.datetime_str()
            transaction = self.tables["transactions"].get(record["transaction_id"])
            if transaction:
                transaction.update(
                    customer_id=record["customer_id"], price=record["amount"], total=record["amount"]
                )
                transaction["date"] = record["date"]

    def _after_write(self, entity: str, record: dict, before: dict | None) -> None:
        if entity == "payments":
            self._settle_invoice(record.get("invoice_id"))
            if before and before.get("invoice_id") != record.get("invoice_id"):
                self._settle_invoice(before.get("invoice_id"))
            record["remind_amount"] = "0.0000" if record.get("invoice_id") else record["amount"]
        elif entity == "invoices":
            self._settle_invoice(record["id"])
        elif entity == "credit_notes":
            record["remind_amount"] = record["total"]
        elif entity == "bank_statement_records":
            statement = self.tables["bank_statements"][int(record["bank_statements_process_id"])]
            siblings = [
                r
                for r in self.tables["bank_statement_records"].values()
                if r["bank_statements_process_id"] == statement["id"]
            ]
            statement["records"] = len(siblings)
            statement["new"] = sum(1 for r in siblings if r["status"] == "new")

    def _merge_items(self, entity: str, document: dict, items: list[dict]) -> None:
        # Items named by id are edited in place, others appended; items left out of a
        # PUT are kept (whether Splynx drops them is unconfirmed, docs/splynx-api.md §3).
        by_id = {int(i["id"]): i for i in document["items"]}
        for incoming in items:
            item_id = _int_or_none(incoming.get("id"))
            if item_id in by_id:
                item = by_id[item_id]
            else:
                item = copy.deepcopy(ITEM_DEFAULTS)
                item["id"] = self._next_item_id
                self._next_item_id += 1
                item["pos"] = len(document["items"]) + 1
                document["items"].append(item)
            for name, value in incoming.items():
                if name in ("id", "tax_amount", "transaction_id"):
                    continue
                if name in ("price", "tax"):
                    item[name] = fmt4(value)
                elif name == "quantity":
                    item[name] = _plain_number(value)
                elif name in ITEM_DEFAULTS:
                    item[name] = _convert(name, value, None)[0]
            category = _int_or_none(incoming.get("categoryIdForTransaction"))
            self._sync_item_transaction(entity, document, item, category)
        self._recompute(document)

    def _sync_item_transaction(self, entity, document, item, category) -> None:
        # Invoice items map 1:1 to transactions; the accounting category of a line is
        # its transaction's `category` (docs/splynx-api.md §7.6).
        transaction = self.tables["transactions"].get(int(item.get("transaction_id") or 0))
        if transaction is None:
            kind = "debit" if entity == "invoices" else "credit"
            transaction = self._new_transaction(document, kind, "0", category or 1)
            item["transaction_id"] = transaction["id"]
        elif category:
            transaction["category"] = category
        net, tax = line_amounts(item["quantity"], item["price"], item["tax"])
        transaction.update(
            quantity=item["quantity"],
            unit=item["unit"],
            price=item["price"],
            tax_percent=item["tax"],
            total=fmt4(net + tax),
            description=item["description"],
            period_from=item["period_from"],
            period_to=item["period_to"],
            date=document["date_created"],
        )
        transaction["invoice_id" if entity == "invoices" else "credit_note_id"] = document["id"]

    def _new_transaction(self, owner: dict, kind: str, amount, category: int) -> dict:
        transaction = copy.deepcopy(SPECS["transactions"].defaults)
        transaction.update(
            id=self._next_id["transactions"],
            customer_id=owner["customer_id"],
            type=kind,
            price=fmt4(amount),
            total=fmt4(amount),
            date=owner.get("date") or owner.get("date_created") or self.date_str(),
            category=category,
            source="manual",
        )
        self._next_id["transactions"] += 1
        self.tables["transactions"][transaction["id"]] = transaction
        return transaction

    def _transactions_of(self, entity: str, record: dict) -> list[dict]:
        if entity == "payments":
            found = self.tables["transactions"].get(int(record.get("transaction_id") or 0))
            return [found] if found else []
        if entity in ("invoices", "credit_notes"):
            ids = {int(i.get("transaction_id") or 0) for i in record["items"]}
            return [t for t in map(self.tables["transactions"].get, ids) if t]
        return []

    def _recompute(self, document: dict) -> None:
        total = Decimal(0)
        for item in document["items"]:
            net, tax = line_amounts(item["quantity"], item["price"], item["tax"])
            item["tax_amount"] = fmt4(tax)
            total += net + tax
        document["total"] = fmt4(total)

    def _settle_invoice(self, invoice_id) -> None:
        invoice = self.tables["invoices"].get(int(invoice_id or 0))
        if invoice is None:
            return
        payments = [p for p in self.tables["payments"].values() if p.get("invoice_id") == invoice["id"]]
        settle(invoice, payments)


def settle(invoice: dict, payments: list[dict]) -> None:
    """Set an invoice's ``due``, ``status``, ``date_payment`` from the payments linked to it
    (docs/splynx-api.md §10.8)."""
    paid = sum((money(p["amount"]) for p in payments), Decimal(0))
    due = max(money(invoice["total"]) - paid, Decimal(0))
    invoice["due"] = fmt4(due)
    if invoice["status"] == "deleted":
        return
    if due == 0 and payments:
        invoice["status"] = "paid"
        invoice["date_payment"] = max(p["date"] for p in payments)
        invoice["payment_id"] = max(payments, key=lambda p: (p["date"], p["id"]))["id"]
    else:
        invoice["status"] = "not_paid"
        invoice["date_payment"] = EMPTY_DATE


def _error(field: str, message: str, additional: bool = False) -> dict:
    return {"field": field, "is_additional_attribute": additional, "message": message}


def _int_or_none(value):
    try:
        return int(str(value))
    except (TypeError, ValueError):
        return None


def _decimal_or_none(value):
    try:
        return money(value)
    except (InvalidOperation, ValueError):
        return None


def _plain_number(value) -> str:
    number = money(value)
    return str(number.normalize()) if number == number.to_integral() else str(number)


def _convert(name: str, value, spec: EntitySpec | None):
    """Coerce an incoming value to Splynx's stored typing; returns (value, problem)."""
    label = spec.label(name) if spec else name
    if value is None:
        return None, None
    if name in MONEY_FIELDS:
        number = _decimal_or_none(value)
        return (fmt4(number), None) if number is not None else (None, f"{label} must be a number.")
    if _is_id_field(name):
        if value == "":
            return 0, None
        number = _int_or_none(value)
        return (number, None) if number is not None else (None, f"{label} must be an integer.")
    if isinstance(value, bool):
        return ("1" if value else "0"), None
    if isinstance(value, list | dict):
        return value, None
    return str(value), None


def _stringify_ids(node) -> None:
    if isinstance(node, list):
        for child in node:
            _stringify_ids(child)
    elif isinstance(node, dict):
        for key, value in node.items():
            if isinstance(value, int) and not isinstance(value, bool) and _is_id_field(key):
                node[key] = str(value)
            elif isinstance(value, list | dict):
                _stringify_ids(value)
