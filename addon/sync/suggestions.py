"""NetSuite customers that could be a billing customer, best first, each with the reason in words.

Candidates come from the cached NetSuite customers (``load_netsuite_customers``): the same email,
a name sharing a word with the billing customer's, or the same billing address (street and
postcode, ``addon.sync.addresses``). The score weighs an equal email above an equal name above the
same address or a similar name; the login found in a NetSuite name or email adds a little.
"""

from __future__ import annotations

from dataclasses import dataclass
from difflib import SequenceMatcher

from sqlalchemy import or_, select

from addon.extension import session
from addon.models import Link, ListCache
from addon.sync.addresses import address_key, billing_address

MAX_WORDS = 4
MAX_CANDIDATES = 300


def _norm(text: str | None) -> str:
    return " ".join((text or "").casefold().replace(",", " ").replace(".", " ").split())


def _like(text: str) -> str:
    return "%" + text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"


@dataclass
class Suggestion:
    netsuite_id: str
    name: str
    email: str | None
    score: int
    reasons: list[str]
    linked_billing_id: str | None
    inactive: bool
    address: str | None = None  # NetSuite's default billing address, as loaded


def addresses_loaded() -> bool:
    """Whether the last load of NetSuite customers brought their addresses (an account or role may
    refuse them; then only email and name are compared). True while nothing is loaded."""
    extra = session().scalar(
        select(ListCache.extra).where(ListCache.kind == "customer", ListCache.inactive.is_(False)).limit(1)
    )
    return extra is None or "address_key" in extra


def suggest(customer, limit: int = 10) -> list[Suggestion]:
    """Ranked NetSuite candidates for billing ``customer`` (a ``BillingCustomer``)."""
    emails = {_norm(e) for e in (customer.email, customer.billing_email) if e}
    name = _norm(customer.name)
    words = sorted({w for w in name.split() if len(w) >= 3}, key=len, reverse=True)[:MAX_WORDS]
    filters = [ListCache.email.ilike(e, escape="\\") for e in emails]
    filters += [ListCache.name.ilike(_like(w), escape="\\") for w in words]
    address = billing_address(customer)
    key = address_key(address.street, address.zip) if address else None
    if key:
        filters.append(ListCache.extra["address_key"].as_string() == key)
    if not filters:
        return []
    rows = (
        session()
        .scalars(select(ListCache).where(ListCache.kind == "customer", or_(*filters)).limit(MAX_CANDIDATES))
        .all()
    )
    linked = dict(
        session().execute(
            select(Link.netsuite_id, Link.billing_id).where(
                Link.entity == "customer", Link.netsuite_id.in_([r.netsuite_id for r in rows])
            )
        ).all()
    ) if rows else {}  # fmt: skip
    login = _norm(customer.login)
    found = []
    for row in rows:
        score, reasons = 0, []
        if row.email and _norm(row.email) in emails:
            score += 60
            reasons.append(f"same email ({row.email})")
        ratio = SequenceMatcher(None, name, _norm(row.name)).ratio() if name else 0.0
        if ratio >= 0.999:
            score += 40
            reasons.append("same name")
        elif ratio >= 0.6:
            score += round(40 * ratio) - 5
            reasons.append(f"similar name ({round(ratio * 100)}% alike)")
        extra = row.extra or {}
        if key and extra.get("address_key") == key:
            score += 35
            reasons.append(f"same billing address ({extra.get('address')})")
        if login and len(login) >= 3 and (login in _norm(row.name) or login in _norm(row.email)):
            score += 10
            reasons.append(f"login “{customer.login}” appears in it")
        if row.inactive:
            score -= 15
            reasons.append("inactive in NetSuite")
        if score <= 0 or not any(r for r in reasons if not r.startswith("inactive")):
            continue
        found.append(Suggestion(row.netsuite_id, row.name, row.email, score, reasons,
                                linked.get(row.netsuite_id), row.inactive, extra.get("address")))  # fmt: skip
    found.sort(key=lambda s: (-s.score, s.name.casefold(), s.netsuite_id))
    return found[:limit]
