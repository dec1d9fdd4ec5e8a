"""Export billing customers to NetSuite customers (and the one-customer export documents use).

Field lengths: the reference gives none, so these follow NetSuite's UI limits (unconfirmed for
REST). Names and address parts longer than that are TRUNCATED, with a note in the log row,
because a shortened name still identifies the customer while a refusal would block every
invoice of theirs; an over-long or malformed email is REFUSED (skipped with a cause), because a
truncated address would send mail to the wrong person.
"""

from __future__ import annotations

import re
from collections.abc import Collection, Iterable
from typing import Any

from sqlalchemy import select

from addon.billing import BillingCustomer, BillingNotFound
from addon.extension import session
from addon.models import ListCache
from addon.sync import entities, links
from addon.sync.exporter import Export, ExportRun, Skip, Write, by_ids, export_one, run_export
from addon.sync.ledger import Cause, RunLedger
from addon.sync.run_state import CustomerBlock

ENTITY = entities.CUSTOMER.name
# Additional field holding the service address as 'street, city, zip' (as the dataset stores it).
SERVICE_ADDRESS_ATTRIBUTE = "service_address"
# Additional fields that may carry per-customer NetSuite segment ids (optional).
SEGMENT_ATTRIBUTES = {
    "class": "netsuite_class",
    "department": "netsuite_department",
    "location": "netsuite_location",
    "terms": "netsuite_terms",
}
REQUIRED_FIELDS = (("email", "email"), ("phone", "phone"), ("zip", "zip"), ("street", "street"))
LIMITS = {"companyName": 83, "firstName": 32, "lastName": 32, "addr1": 150, "city": 50, "zip": 36}
EMAIL_LIMIT, PHONE_LIMIT = 254, 32
_EMAIL = re.compile(r"^[^@\s]+@[^@\s.]+(?:\.[^@\s.]+)+$")


def render_name(pattern: str, customer: BillingCustomer) -> str:
    """The customer name pattern with {id}, {login}, {name}, {email}; other braces stay literal."""
    values = {"id": str(customer.id), "login": customer.login, "name": customer.name, "email": customer.email}
    text = pattern or "{name}"
    for key, value in values.items():
        text = text.replace("{" + key + "}", value)
    return " ".join(text.split()) or customer.login or str(customer.id)


def parse_service_address(text: str) -> tuple[str, str, str] | None:
    """'street, city, zip' as three non-empty parts, or None: an address is never guessed."""
    parts = [part.strip() for part in text.split(",")]
    if len(parts) != 3 or not all(parts):
        return None
    return parts[0], parts[1], parts[2]


def _fit(values: dict[str, str], notes: list[str]) -> dict[str, str]:
    out = {}
    for key, value in values.items():
        limit = LIMITS.get(key)
        if limit and len(value) > limit:
            notes.append(f"{key} truncated to {limit} characters")
            value = value[:limit].rstrip()
        out[key] = value
    return out


def own_segments(customer: BillingCustomer) -> dict[str, str]:
    """The segment ids a customer carries in its additional attributes (empty ones left out)."""
    attributes = customer.additional or {}
    values = {name: (attributes.get(field) or "").strip() for name, field in SEGMENT_ATTRIBUTES.items()}
    return {name: value for name, value in values.items() if value}


def segment(run: ExportRun, customer_id: int | None, name: str) -> str | None:
    """A document's segment id: its customer's own (when per-customer segments are on), else
    the default mapping. Customers' values come from the page's billing lookup."""
    if customer_id is not None and run.setting("customer_segments"):
        customer = _billing_customer(run, str(customer_id))
        own = own_segments(customer).get(name) if customer is not None else None
        if own:
            return own
    return run.mapping(f"default_{name}")


def account_fields(run: ExportRun) -> dict[str, str]:
    """The subsidiary and currency new customers carry, as far as the account has the features.

    The client sends X-NetSuite-PropertyNameValidation: Error, so a field a disabled feature hides
    fails the whole customer (docs/netsuite-accounts.md). What 'Load mappings' found decides:
    every account lists at least its base currency, so cached currencies mean the lists were
    loaded; then no subsidiary means no OneWorld, and one currency means no Multiple Currencies
    (NetSuite gives customers the base currency by itself). Before any load, configured values
    are sent as configured.
    """
    fields = run.state.customers.account_fields
    if fields is None:
        from addon.sync.mappings import cached

        currencies = cached("currency", active_only=True)
        loaded = bool(currencies)
        fields = {}
        if not loaded or cached("subsidiary", active_only=True):
            subsidiary = run.setting_or_sole_choice("subsidiary")
            if subsidiary:
                fields["subsidiary"] = subsidiary
        currency = run.setting("currency")
        if currency and (not loaded or len(currencies) > 1):
            fields["currency"] = str(currency)
        run.state.customers.account_fields = fields
    return fields


# ListCache kind of NetSuite customers that existed before they were paired with a billing customer.
PAIRED_KIND = "paired_customer"


def is_paired(run: ExportRun, customer: BillingCustomer, link: links.LinkInfo | None) -> bool:
    """True when ``link`` pairs the customer with a NetSuite customer we did not create.

    That record's address book, subsidiary and currency are accounting's: no push replaces them,
    neither the first (which gives the record our externalId) nor any later one. The first push
    is recognised by the foreign externalId and remembered in the list cache, because after it
    the link looks like one we created.
    """
    if not (link and link.netsuite_id):
        return False
    paired = run.state.customers.paired
    if paired is None:
        query = select(ListCache.netsuite_id).where(ListCache.kind == PAIRED_KIND)
        paired = run.state.customers.paired = set(session().scalars(query))
    if link.netsuite_id in paired:
        return True
    if link.external_id == links.external_id(ENTITY, customer.id):
        return False
    if not run.dry_run:
        # Committed with the run's next ledger commit, before or with the push's own link.
        session().add(
            ListCache(kind=PAIRED_KIND, netsuite_id=link.netsuite_id, name=f"billing customer {customer.id}")
        )
        paired.add(link.netsuite_id)
    return True


def customer_write(
    run: ExportRun, customer: BillingCustomer, link: links.LinkInfo | None = None
) -> Write | Skip:
    """The NetSuite customer body for ``customer``, or why it cannot be sent."""
    label = customer.name or customer.login
    missing = [word for attr, word in REQUIRED_FIELDS if not getattr(customer, attr).strip()]
    if missing:
        return Skip(
            f"missing {', '.join(missing)}",
            label,
            Cause(
                key="missing_fields:customer",
                kind="missing_fields",
                title="Customers missing email, phone, zip or street",
                fix_hint="Fill in the missing fields on the customer in billing; the next export sends them.",
                fix_kind="customer",
            ),
        )
    email = customer.email.strip()
    if len(email) > EMAIL_LIMIT or not _EMAIL.match(email):
        return Skip(
            f"email {email[:80]!r} is not a valid address",
            label,
            Cause(
                key="invalid_fields:customer:email",
                kind="invalid_fields",
                title="Customers whose email address NetSuite would refuse",
                fix_hint="Correct the email address on the customer in billing.",
                fix_kind="customer",
            ),
        )
    phone = customer.phone.strip()
    if len(phone) > PHONE_LIMIT:
        return Skip(
            f"phone is longer than {PHONE_LIMIT} characters",
            label,
            Cause(
                key="invalid_fields:customer:phone",
                kind="invalid_fields",
                title="Customers whose phone number is too long for NetSuite",
                fix_kind="customer",
            ),
        )
    raw_address = (customer.additional or {}).get(SERVICE_ADDRESS_ATTRIBUTE, "").strip()
    if raw_address:
        address = parse_service_address(raw_address)
        if address is None:
            return Skip(
                f"service address {raw_address[:120]!r} is not 'street, city, zip'",
                label,
                Cause(
                    key="unparsed_address:customer",
                    kind="invalid_fields",
                    title="Customers whose service address is not 'street, city, zip'",
                    fix_hint="Rewrite the service address as 'street, city, zip' in billing.",
                    fix_kind="customer",
                ),
            )
    else:
        address = (customer.street.strip(), customer.city.strip(), customer.zip.strip())

    notes: list[str] = list(customer.left_out)
    name = render_name(run.setting("customer_name_pattern"), customer)
    first, _, last = name.rpartition(" ")
    payload: dict[str, Any]
    if customer.is_company or not first:
        # A one-word person name has no first/last split NetSuite would accept: send a company.
        payload = {"isPerson": False, **_fit({"companyName": name}, notes)}
    else:
        payload = {"isPerson": True, **_fit({"firstName": first, "lastName": last}, notes)}
    payload["email"] = email
    payload["phone"] = phone
    attribute = run.ctx.accounting_id_attribute
    accounting_id = (customer.additional or {}).get(attribute, "") if attribute else None
    if is_paired(run, customer, link):
        notes.append(
            "paired with an existing NetSuite customer: its addresses, subsidiary and currency are kept"
        )
        return Write(payload=payload, label=label, replace=(), note="; ".join(notes),
                     billing_accounting_id=accounting_id)  # fmt: skip
    for key, value in account_fields(run).items():
        payload[key] = {"id": value}
    street, city, zip_code = address
    payload["addressBook"] = {
        "items": [
            {
                "defaultBilling": True,
                "defaultShipping": True,
                "addressBookAddress": _fit({"addr1": street, "city": city, "zip": zip_code}, notes),
            }
        ]
    }
    return Write(
        payload=payload,
        label=label,
        # addressBook is not keyed: an update without replace would append a second address
        # (docs/netsuite-rest.md §4.4).
        replace=("addressBook",),
        note="; ".join(notes),
        billing_accounting_id=accounting_id,
    )


def customer_export(run: ExportRun) -> Export:
    """The customer export's steps; its hooks keep the run's view of which customers are in
    NetSuite, which documents and payments read (:func:`ensure_customer`)."""

    def failed(billing_id: str, skip: Skip) -> None:
        message = f"customer {billing_id} is not in NetSuite: {skip.message}"
        run.state.customer_progress.failures[billing_id] = CustomerBlock(message, skip.cause)

    def synced(billing_id: str, netsuite_id: str) -> None:
        run.state.customers.netsuite_ids[billing_id] = netsuite_id

    return Export(
        entity=ENTITY,
        prepare=lambda customer, link: customer_write(run, customer, link),
        recorded_already=lambda billing_id: billing_id in run.state.customer_progress.done,
        on_examined=lambda billing_id: run.state.customer_progress.done.add(billing_id),
        on_failed=failed,
        on_synced=synced,
    )


# Customer ids per billing lookup: an ``id IN (...)`` search whose URL stays a few kilobytes.
LOOKUP_CHUNK = 100


def _load_customer_links(run: ExportRun, customer_ids: Iterable[str]) -> None:
    """Batch-load the NetSuite ids of the customers a page of documents or payments needs."""
    netsuite_ids = run.state.customers.netsuite_ids
    missing = set(customer_ids) - set(netsuite_ids)
    if missing:
        for billing_id, info in links.links_for(ENTITY, missing).items():
            if info.netsuite_id and info.status != "deleted_in_billing":
                netsuite_ids[billing_id] = info.netsuite_id


def prepare_customers(run: ExportRun, customer_ids: Iterable[int | None]) -> None:
    """Before a page of documents or payments: their customers' links, and in one billing
    search the customers the page may need to read (those not in NetSuite yet; every one
    when partners are ignored or segments come from customers, which need each customer's
    own fields).

    Only the customers a page names are read, so a run of a few credit notes never pays for
    a listing of every customer in billing.
    """
    named = {str(c) for c in customer_ids if c is not None}
    _load_customer_links(run, named)
    known, progress = run.state.customers.billing, run.state.customer_progress
    every_one = run.ignored_partners() or run.setting("customer_segments")
    ids = sorted(
        int(key)
        for key in named
        if (every_one or key not in run.state.customers.netsuite_ids)
        and key not in known
        and key not in progress.failures
        and key not in progress.done
    )
    for start in range(0, len(ids), LOOKUP_CHUNK):
        chunk = ids[start : start + LOOKUP_CHUNK]
        found = {str(c.id): c for c in run.ctx.billing.customers(ids=chunk)}
        known.update({str(i): found.get(str(i)) for i in chunk})


def _billing_customer(run: ExportRun, key: str) -> BillingCustomer | None:
    """One billing customer, read on its own if no page lookup brought it (None: not in billing)."""
    known = run.state.customers.billing
    if key not in known:
        try:
            known[key] = run.ctx.billing.get_customer(int(key))
        except BillingNotFound:
            known[key] = None
    return known[key]


def _partner_name(run: ExportRun, partner_id: int) -> str:
    names = run.state.customers.partner_names
    if names is None:
        names = run.state.customers.partner_names = {p.id: p.name for p in run.ctx.billing.partners()}
    return names.get(partner_id, f"#{partner_id}")


def ensure_customer(run: ExportRun, customer_id: int | None) -> tuple[str | None, CustomerBlock | None]:
    """The NetSuite id of a document's customer, exporting the customer first when needed.

    Returns (netsuite id, None), or (None, why) when the customer is not in NetSuite: the
    document is then skipped under the customer's own cause, and the customer itself is not
    logged again (its own export reports it). In a dry run an unexported customer that could
    be exported is reported as would_create and a placeholder id returned.
    """
    if customer_id is None:
        return None, CustomerBlock("it has no customer")
    key = str(customer_id)
    netsuite_ids, progress = run.state.customers.netsuite_ids, run.state.customer_progress
    failures = progress.failures
    if run.ignored_partners():
        customer = _billing_customer(run, key)
        if customer is not None and customer.partner_id in run.ignored_partners():
            return None, CustomerBlock(f"partner {_partner_name(run, customer.partner_id)} is ignored")
    if key in netsuite_ids:
        return netsuite_ids[key], None
    if key in failures:
        return None, failures[key]
    if key in progress.done:
        return ("new", None) if run.dry_run else (None, CustomerBlock(f"customer {key} is not in NetSuite"))
    known = _billing_customer(run, key)
    if known is None:
        block = failures[key] = CustomerBlock(f"customer {key} does not exist in billing")
        return None, block
    prepared = customer_write(run, known)
    if isinstance(prepared, Skip):
        # Its own export reports the customer; the document only names why it waits.
        block = CustomerBlock(f"customer {key} is not in NetSuite: {prepared.message}", prepared.cause)
        failures[key] = block
        return None, block
    export_one(run, customer_export(run), known)
    if key in netsuite_ids:
        return netsuite_ids[key], None
    if run.dry_run and key not in failures:
        return "new", None
    failure = failures.get(key)
    if failure is None:
        failure = failures[key] = CustomerBlock(f"customer {key} is not in NetSuite")
    return None, failure


def blocked_by_customer(label: str, block: CustomerBlock) -> Skip:
    """The row of a document or payment whose customer is not in NetSuite: skipped, once."""
    return Skip(block.message, label, block.cause)


def customer_records(run: ExportRun, ids: Collection[str] | None = None):
    """The billing customers an export reads (lazily), ignored partners left out; ``ids``: only those."""
    excluded = run.ignored_partners()
    return by_ids(lambda chunk: run.ctx.billing.customers(partner_ids_excluded=excluded, ids=chunk), ids)


def export_customer_records(run: ExportRun, ids: Collection[str] | None = None) -> dict[str, int]:
    """The customers phase (of its own operation, of a full sync, or of a live run: ``ids``)."""
    from addon.sync.totals import customers_count

    run.ledger.phase("Exporting customers", total=customers_count(run) if ids is None else None)
    return run_export(run, customer_export(run), customer_records(run, ids), only=ids)


def export_customers(ctx, ledger: RunLedger, **params) -> None:
    """Operation: create or update a NetSuite customer for every customer outside ignored partners."""
    run = ExportRun(ctx, ledger)
    ledger.set_result({"customers": export_customer_records(run)})
