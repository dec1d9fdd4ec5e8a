"""The invariants every reliability test ends on, read from both sandboxes and the link table.

``audit`` answers the issue's questions in numbers: NetSuite records of ours that exist more
than once (duplicates), billing records whose amount differs from their NetSuite record (cents
lost), NetSuite records without a link, links without a NetSuite record, and billing records
that neither synced nor failed with a logged reason.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from decimal import Decimal

from sqlalchemy import select

CENT = Decimal("0.01")
LINKED = ("synced", "paired")


@dataclass(frozen=True)
class Kind:
    entity: str
    splynx: str
    record_type: str
    prefix: str
    billing_amount: str | None
    netsuite_amount: str | None


KINDS = (
    Kind("customer", "customers", "customer", "splynx-customer-", None, None),
    Kind("invoice", "invoices", "invoice", "splynx-invoice-", "total", "total"),
    Kind("credit_note", "credit_notes", "creditMemo", "splynx-creditnote-", "total", "total"),
    Kind("payment", "payments", "customerPayment", "splynx-payment-", "amount", "payment"),
)


@dataclass
class Audit:
    duplicates: int = 0
    cents_lost: Decimal = Decimal(0)
    synced: Counter = field(default_factory=Counter)
    not_synced: Counter = field(default_factory=Counter)
    problems: list[str] = field(default_factory=list)

    def assert_clean(self) -> None:
        assert self.duplicates == 0 and self.cents_lost == 0 and not self.problems, (
            f"duplicates={self.duplicates} cents_lost={self.cents_lost}\n" + "\n".join(self.problems[:40])
        )


def _money(value) -> Decimal:
    return Decimal(str(value)).quantize(CENT)


def audit(
    splynx_state, netsuite_store, *, require_all_synced: bool = False, entities: tuple[str, ...] | None = None
) -> Audit:
    """Compare both sides record by record (app context required), for ``entities`` or all."""
    from addon.extension import session
    from addon.models import Link, LogEntry

    result = Audit()
    session().expire_all()
    for kind in KINDS:
        if entities is not None and kind.entity not in entities:
            continue
        ours = [
            r
            for r in netsuite_store.records(kind.record_type)
            if str(r.get("externalId", "")).startswith(kind.prefix)
        ]
        counts = Counter(r["externalId"] for r in ours)
        for external_id, n in counts.items():
            if n > 1:
                result.duplicates += n - 1
                result.problems.append(f"{external_id} exists {n} times in NetSuite")
        netsuite_by_id = {str(r["id"]): r for r in ours}
        links = {
            link.billing_id: link
            for link in session().scalars(
                select(Link).where(Link.entity == kind.entity, Link.origin == "billing")
            )
        }
        explained = set(
            session().scalars(
                select(LogEntry.billing_id).where(
                    LogEntry.entity == kind.entity,
                    LogEntry.outcome.in_(("failed", "skipped")),
                    LogEntry.message.is_not(None),
                )
            )
        )
        for record in ours:
            billing_id = record["externalId"].removeprefix(kind.prefix)
            link = links.get(billing_id)
            if link is None and billing_id in explained and not require_all_synced:
                continue  # committed, but the answer never came back: the next run links it
            if link is None or link.netsuite_id != str(record["id"]):
                result.problems.append(
                    f"NetSuite {kind.record_type} {record['id']} ({record['externalId']}) is not linked"
                )
        for billing in splynx_state.all(kind.splynx):
            billing_id = str(billing["id"])
            link = links.get(billing_id)
            if link is not None and link.status in LINKED and link.netsuite_id:
                mirror = netsuite_by_id.get(link.netsuite_id)
                if mirror is None:
                    result.problems.append(
                        f"{kind.entity} {billing_id} is linked to missing NetSuite record {link.netsuite_id}"
                    )
                    continue
                result.synced[kind.entity] += 1
                if kind.billing_amount:
                    lost = abs(_money(billing[kind.billing_amount]) - _money(mirror[kind.netsuite_amount]))
                    if lost:
                        result.cents_lost += lost
                        result.problems.append(
                            f"{kind.entity} {billing_id}: billing {billing[kind.billing_amount]} vs NetSuite {mirror[kind.netsuite_amount]}"
                        )
                continue
            result.not_synced[kind.entity] += 1
            if require_all_synced:
                result.problems.append(f"{kind.entity} {billing_id} is not synced")
            elif billing_id not in explained:
                result.problems.append(f"{kind.entity} {billing_id} neither synced nor failed with a reason")
    return result


def make_all_customers_valid(splynx_state) -> int:
    """Fill in the fields the generator leaves out on purpose, so every record can sync."""
    repaired = 0
    for customer in splynx_state.all("customers"):
        street = customer["street_1"] or f"{customer['id']} High Street"
        city = customer["city"] or "Leeds"
        zip_code = customer["zip_code"] or "LS1 4AB"
        changes = {
            "email": customer["email"] or f"customer{customer['id']}@example.net",
            "phone": customer["phone"] or "+44 7000 000000",
            "street_1": street,
            "city": city,
            "zip_code": zip_code,
            "additional_attributes": {"service_address": f"{street}, {city}, {zip_code}"},
        }
        splynx_state.update("customers", customer["id"], changes)
        repaired += 1
    return repaired
