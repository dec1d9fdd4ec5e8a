"""Linking billing customers to customers NetSuite already has, automatically or by hand.

Nothing here creates a NetSuite record. Automatic matching tries, in order,
our own externalId (``splynx-customer-<id>``), the email (case-insensitive)
and the exact name; a key shared by two NetSuite customers is never guessed:
the customer is skipped with the candidates' ids, for the operator to pair.

Unpairing is refused while documents or payments of that customer are linked
to NetSuite records: they were posted against the paired NetSuite customer,
and moving the customer would leave them on the old one. ``force=True`` unpairs
anyway (the operator then fixes those documents in NetSuite).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from itertools import islice

from sqlalchemy import case, or_, select

from addon.extension import session
from addon.models import Link, ListCache, LogEntry, utcnow
from addon.sync import entities, links
from addon.sync.context import SyncContext
from addon.sync.ledger import Cause, RunLedger, clear_record_problems
from addon.sync.mappings import read_list, refresh_list, store_list

PAGE = 500
AMBIGUOUS = Cause(
    key="ambiguous:customer",
    kind="ambiguous",
    title="Billing customers match more than one NetSuite customer",
    fix_hint="Pick the right NetSuite customer for each on the Customer pairing page.",
    fix_kind="customer",
)


class PairingError(ValueError):
    """A pairing that cannot be made or undone; the message is for the operator."""


def _key(text: str | None) -> str:
    return " ".join((text or "").split()).casefold()


def _chunks(items: Iterable, size: int) -> Iterator[list]:
    iterator = iter(items)
    while chunk := list(islice(iterator, size)):
        yield chunk


def load_netsuite_customers(ctx: SyncContext, ledger: RunLedger) -> None:
    """Operation: cache NetSuite's customers (id, name, email, externalId, default billing address)
    for matching and pairing."""
    ledger.phase("Loading NetSuite customers", total=1)
    changes = refresh_list(ctx, ledger, "customer")
    ledger.set_result(
        {"customers": {"created": changes.created, "updated": changes.updated,
                       "unchanged": changes.unchanged, "deactivated": changes.deactivated}}
    )  # fmt: skip


class _Index:
    """NetSuite customers by externalId, email and name: built once per run from one SuiteQL stream."""

    def __init__(self, rows: Iterable):
        self.by_external: dict[str, str] = {}
        self.by_email: dict[str, list[str]] = {}
        self.by_name: dict[str, list[str]] = {}
        self.names: dict[str, str] = {}
        for row in rows:
            if row.inactive:
                continue
            self.names[row.netsuite_id] = row.name
            if row.external_id:
                self.by_external[row.external_id] = row.netsuite_id
            if row.email:
                self.by_email.setdefault(_key(row.email), []).append(row.netsuite_id)
            self.by_name.setdefault(_key(row.name), []).append(row.netsuite_id)

    def candidates(self, customer) -> tuple[str, list[str]]:
        """(how, NetSuite ids) for the first rule that finds anyone."""
        own = self.by_external.get(links.external_id("customer", customer.id))
        if own:
            return "externalId", [own]
        for how, index, value in (
            ("email", self.by_email, customer.email or customer.billing_email),
            ("name", self.by_name, customer.name),
        ):
            found = index.get(_key(value)) if _key(value) else None
            if found:
                return how, found
        return "", []


def match_customers(ctx: SyncContext, ledger: RunLedger) -> None:
    """Operation: link billing customers to existing NetSuite customers, creating nothing.

    NetSuite's customers are read once (one SuiteQL stream, also refreshing the
    cache); billing customers are paged with their links loaded per page.
    """
    ledger.phase("Reading NetSuite customers")
    rows, _ = read_list(ctx, "customer")  # without addresses where the account refuses them
    store_list("customer", rows, dry_run=ledger.dry_run)
    index = _Index(rows)
    taken = {
        netsuite_id: billing_id
        for billing_id, netsuite_id in session().execute(
            select(Link.billing_id, Link.netsuite_id).where(
                Link.entity == "customer", Link.netsuite_id.is_not(None)
            )
        )
    }
    ignored = [int(p) for p in ctx.setting("partners_ignore") if str(p).isdigit()]
    ledger.phase("Matching customers")
    for page in _chunks(ctx.billing.customers(partner_ids_excluded=ignored), PAGE):
        ledger.add_total(len(page))
        linked = {
            link.billing_id: link
            for link in session().scalars(
                select(Link).where(Link.entity == "customer", Link.billing_id.in_([str(c.id) for c in page]))
            )
        }
        for customer in page:
            _match_one(ledger, index, taken, linked.get(str(customer.id)), customer)


def _match_one(ledger: RunLedger, index: _Index, taken: dict[str, str], link: Link | None, customer) -> None:
    billing_id = str(customer.id)
    common = {"entity": "customer", "billing_id": billing_id, "action": "match", "label": customer.name}
    if link is not None and link.netsuite_id:
        ledger.record(outcome="unchanged", netsuite_id=link.netsuite_id,
                      message=f"Already linked to NetSuite customer {link.netsuite_id}", **common)  # fmt: skip
        return
    how, found = index.candidates(customer)
    free = [netsuite_id for netsuite_id in found if taken.get(netsuite_id, billing_id) == billing_id]
    if not found:
        ledger.record(outcome="skipped", message="No NetSuite customer with this externalId, email or name",
                      **common)  # fmt: skip
        return
    if len(found) > 1:
        ledger.record(
            outcome="skipped",
            message=f"Several NetSuite customers share this {how}: {', '.join(found)}; pair one by hand",
            cause=AMBIGUOUS,
            **common,
        )
        return
    if not free:
        ledger.record(outcome="skipped", netsuite_id=found[0],
                      message=f"NetSuite customer {found[0]} (same {how}) is already linked to billing "
                              f"customer {taken[found[0]]}", **common)  # fmt: skip
        return
    netsuite_id = free[0]
    if not ledger.dry_run:
        _write_link(billing_id, netsuite_id, status="matched", existing=link)
        taken[netsuite_id] = billing_id
    ledger.record(
        outcome="would_match" if ledger.dry_run else "matched",
        netsuite_id=netsuite_id,
        message=f'Matched by {how} to NetSuite customer {netsuite_id} "{index.names.get(netsuite_id, "")}"',
        **common,
    )


def _write_link(billing_id: str, netsuite_id: str, *, status: str, existing: Link | None = None) -> Link:
    link = existing or session().scalar(
        select(Link).where(Link.entity == "customer", Link.billing_id == billing_id)
    )
    if link is None:
        link = Link(entity="customer", billing_id=billing_id)
        session().add(link)
    external_id = session().scalar(
        select(ListCache.external_id).where(
            ListCache.kind == "customer", ListCache.netsuite_id == netsuite_id
        )
    )
    # No content hash: the next customer export compares and updates the NetSuite record.
    link.netsuite_id, link.external_id, link.content_hash = netsuite_id, external_id, None
    link.origin, link.status, link.last_error, link.synced_at = "billing", status, None, utcnow()
    return link


def _exported_records(ctx: SyncContext, billing_id: str) -> int:
    """How many of the customer's documents and payments are linked to NetSuite records."""
    customer_id = int(billing_id)
    count = 0
    for kind in entities.all_types():
        if kind is entities.CUSTOMER:
            continue
        entity, records = kind.name, kind.list(ctx.billing, customer_id=customer_id)
        for page in _chunks((str(r.id) for r in records), PAGE):
            count += len(
                session()
                .scalars(
                    select(Link.id).where(
                        Link.entity == entity, Link.billing_id.in_(page), Link.netsuite_id.is_not(None)
                    )
                )
                .all()
            )
    return count


def _log_local(billing_id: str, netsuite_id: str | None, action: str, outcome: str, message: str) -> None:
    session().add(
        LogEntry(direction="local", entity="customer", billing_id=billing_id, netsuite_id=netsuite_id,
                 action=action, outcome=outcome, message=message)
    )  # fmt: skip


def pair_customer(
    billing_id: str | int, netsuite_id: str | int, *, ctx: SyncContext | None = None, force: bool = False
) -> Link:
    """Link one billing customer to one NetSuite customer from the cache (Link status 'paired').

    Re-pairing a customer whose documents were already exported is refused unless ``force``.
    """
    billing_key, netsuite_key = str(billing_id).strip(), str(netsuite_id).strip()
    if not billing_key.isdigit():
        raise PairingError(f"billing customer id {billing_key!r} is not a number")
    listed = session().scalar(
        select(ListCache).where(ListCache.kind == "customer", ListCache.netsuite_id == netsuite_key)
    )
    if listed is None:
        raise PairingError(
            f"NetSuite customer {netsuite_key} is not in the cache; load NetSuite customers first"
        )
    other = session().scalar(
        select(Link.billing_id).where(
            Link.entity == "customer", Link.netsuite_id == netsuite_key, Link.billing_id != billing_key
        )
    )
    if other is not None:
        raise PairingError(f"NetSuite customer {netsuite_key} is already linked to billing customer {other}")
    link = session().scalar(select(Link).where(Link.entity == "customer", Link.billing_id == billing_key))
    if link is not None and link.netsuite_id not in (None, netsuite_key) and not force:
        _refuse_if_exported(
            ctx, billing_key, f"re-pair it (now linked to NetSuite customer {link.netsuite_id})"
        )
    link = _write_link(billing_key, netsuite_key, status="paired", existing=link)
    _log_local(billing_key, netsuite_key, "pair", "paired", f'Paired by hand with "{listed.name}"')
    clear_record_problems("customer", billing_key)
    session().commit()
    return link


def _refuse_if_exported(ctx: SyncContext | None, billing_id: str, what: str) -> None:
    exported = _exported_records(ctx or SyncContext.from_settings(), billing_id)
    if exported:
        raise PairingError(
            f"Billing customer {billing_id} has {exported} documents/payments in NetSuite; "
            f"refusing to {what}. Use force to do it anyway."
        )


def unpair_customer(billing_id: str | int, *, ctx: SyncContext | None = None, force: bool = False) -> None:
    """Remove a customer's link (refused while its documents are in NetSuite, unless ``force``)."""
    billing_key = str(billing_id).strip()
    link = session().scalar(select(Link).where(Link.entity == "customer", Link.billing_id == billing_key))
    if link is None:
        raise PairingError(f"billing customer {billing_key} is not linked to a NetSuite customer")
    if not force:
        _refuse_if_exported(ctx, billing_key, "unpair it")
    _log_local(
        billing_key,
        link.netsuite_id,
        "unpair",
        "updated",
        f"Unpaired from NetSuite customer {link.netsuite_id}",
    )
    session().delete(link)
    session().commit()


def _like_pattern(text: str) -> str:
    escaped = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


def search_netsuite_customers(text: str, limit: int = 25, offset: int = 0) -> list[dict]:
    """Cached NetSuite customers whose name, email or externalId contains ``text`` (an exact id first),
    ``limit`` of them from ``offset`` on.

    Bound parameters only (LIKE wildcards in ``text`` are escaped), so any input is just text.
    """
    text = (text or "").strip()
    if not text:
        return []
    pattern = _like_pattern(text.casefold())
    query = (
        select(ListCache)
        .where(
            ListCache.kind == "customer",
            or_(
                ListCache.netsuite_id == text,
                ListCache.name.ilike(pattern, escape="\\"),
                ListCache.email.ilike(pattern, escape="\\"),
                ListCache.external_id.ilike(pattern, escape="\\"),
            ),
        )
        .order_by(
            case((ListCache.netsuite_id == text, 0), else_=1),
            ListCache.inactive,
            ListCache.name,
            ListCache.id,
        )
        .limit(max(1, min(int(limit), 200)))
        .offset(max(0, int(offset)))
    )
    found = list(session().scalars(query))
    linked = {
        netsuite_id: billing_id
        for netsuite_id, billing_id in session().execute(
            select(Link.netsuite_id, Link.billing_id).where(
                Link.entity == "customer", Link.netsuite_id.in_([row.netsuite_id for row in found])
            )
        )
    }
    return [
        {
            "netsuite_id": row.netsuite_id,
            "name": row.name,
            "email": row.email,
            "external_id": row.external_id,
            "entity_id": (row.extra or {}).get("entityid"),
            "inactive": row.inactive,
            "linked_billing_id": linked.get(row.netsuite_id),
        }
        for row in found
    ]
