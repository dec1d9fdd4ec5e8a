"""NetSuite customers that could be a billing customer, best first, each with the reason in words.

Candidates come from the cached NetSuite customers (``load_netsuite_customers``): the same email,
or a name sharing a word with the billing customer's. The score weighs an equal email above an
equal name above a similar one; the login found in a NetSuite name or email adds a little.
"""

from __future__ import annotations

from dataclasses import dataclass
from difflib import SequenceMatcher

from sqlalchemy import or_, select

from addon.extension import session
from addon.models import Link, ListCache

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


def suggest(customer, limit: int = 10) -> list[Suggestion]:
    """Ranked NetSuite candidates for billing ``customer`` (a ``BillingCustomer``)."""
    emails = {_norm(e) for e in (customer.email, customer.billing_email) if e}
    name = _norm(customer.name)
    words = sorted({w for w in name.split() if len(w) >= 3}, key=len, reverse=True)[:MAX_WORDS]
    filters = [ListCache.email.ilike(e, escape="\\") for e in emails]
    filters += [ListCache.name.ilike(_like(w), escape="\\") for w in words]
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
        if login and len(login) >= 3 and (login in _norm(row.name) or login in _norm(row.email)):
            score += 10
            reasons.append(f"login “{customer.login}” appears in it")
        if row.inactive:
            score -= 15
            reasons.append("inactive in NetSuite")
        if score <= 0 or not any(r for r in reasons if not r.startswith("inactive")):
            continue
        found.append(Suggestion(row.netsuite_id, row.name, row.email, score, reasons,
                                linked.get(row.netsuite_id), row.inactive))  # fmt: skip
    found.sort(key=lambda s: (-s.score, s.name.casefold(), s.netsuite_id))
    return found[:limit]
