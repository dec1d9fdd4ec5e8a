"""The link table as the exports see it: batch lookups, upserts, external ids, content hashes.

Links are read as plain snapshots (:class:`LinkInfo`), never as live ORM rows: the ledger
commits every few dozen records and a committed row would lazily re-query itself on each
attribute access, one SELECT per record.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Any, cast

from sqlalchemy import Table, bindparam, select, update
from sqlalchemy.dialects import postgresql, sqlite

from addon import billing_backends
from addon.extension import session
from addon.models import Link, utcnow
from addon.sync import entities

# SQL IN lists stay well below every database's parameter limit.
_IN_CHUNK = 500


@dataclass(frozen=True)
class LinkInfo:
    """What an export needs to know about one existing link."""

    billing_id: str
    netsuite_id: str | None
    external_id: str | None
    content_hash: str | None
    origin: str
    status: str


def external_id(entity: str, billing_id: int | str) -> str:
    """The externalId every NetSuite record created from ``entity`` ``billing_id`` carries.

    Deterministic (engine contract): the billing backend's prefix, the type's, and the billing
    id, letters, digits and '-' only, so `eid:` URLs work (docs/netsuite-rest.md §4.3, §9.16).
    """
    return f"{external_prefix(entity)}{billing_id}"


def external_prefix(entity: str) -> str:
    """What every externalId of ``entity`` starts with: 'splynx-invoice-'. The backend's part
    comes first, so two billing systems feeding one account never share an externalId."""
    return f"{billing_backends.selected().external_id_prefix}-{entities.get(entity).external_prefix}"


def _canonical(value: Any) -> str:
    """JSON has no Decimal or date: amounts as normalised decimal text, dates in ISO form."""
    if isinstance(value, Decimal):
        return format(value.normalize(), "f") if value else "0"
    if isinstance(value, date | datetime):
        return value.isoformat()
    raise TypeError(f"{type(value).__name__} is not part of a NetSuite payload")


def sent_fields(payload: dict | None) -> dict | None:
    """``payload`` as JSON-safe data (amounts and dates as the text the hash uses)."""
    if payload is None:
        return None
    return json.loads(json.dumps(payload, sort_keys=True, ensure_ascii=False, default=_canonical))


def content_hash(record_type: str, payload: dict) -> str:
    """sha256 of the canonical JSON of what would be sent: equal hashes mean nothing to push."""
    text = json.dumps([record_type, payload], sort_keys=True, ensure_ascii=False, default=_canonical)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def links_for(entity: str, billing_ids: Iterable[int | str]) -> dict[str, LinkInfo]:
    """The links of a page of billing records, in one query per 500 ids."""
    keys = sorted({str(i) for i in billing_ids})
    found: dict[str, LinkInfo] = {}
    for start in range(0, len(keys), _IN_CHUNK):
        rows = session().execute(
            select(
                Link.billing_id,
                Link.netsuite_id,
                Link.external_id,
                Link.content_hash,
                Link.origin,
                Link.status,
            ).where(Link.entity == entity, Link.billing_id.in_(keys[start : start + _IN_CHUNK]))
        )
        for row in rows:
            found[row.billing_id] = LinkInfo(*row)
    return found


def synced_billing_ids(entity: str) -> Iterator[str]:
    """Billing ids of every link we pushed that is still considered live (status 'synced')."""
    query = select(Link.billing_id).where(
        Link.entity == entity, Link.status == "synced", Link.origin == "billing"
    )
    yield from session().scalars(query.execution_options(yield_per=1000))


def set_status(entity: str, billing_id: int | str, status: str, last_error: str | None = None) -> None:
    """Change one link's status (e.g. 'deleted_in_billing'); no commit."""
    session().execute(
        update(Link)
        .where(Link.entity == entity, Link.billing_id == str(billing_id))
        .values(status=status, last_error=last_error)
    )


class LinkWriter:
    """Links saved by an export, held and written in bulk (calling thread; no commit).

    One executemany UPDATE for records that already had a link row and one INSERT for
    the rest, per call of :meth:`write` (the ledger calls it before each commit).
    """

    def __init__(self, entity: str):
        self.entity = entity
        self._updates: list[dict] = []
        self._inserts: list[dict] = []

    def add(
        self,
        billing_id: int | str,
        netsuite_id: str,
        *,
        content_hash: str | None,
        exists: bool,
        payload: dict | None = None,
    ) -> None:
        """Hold one link; ``exists`` says whether a link row was read for this record."""
        values = {
            "netsuite_id": netsuite_id,
            "external_id": external_id(self.entity, billing_id),
            "content_hash": content_hash,
            "sent_fields": sent_fields(payload),
            "origin": "billing",
            "status": "synced",
            "last_error": None,
            "synced_at": utcnow(),
        }
        if exists:
            self._updates.append({"b_billing_id": str(billing_id), **values})
        else:
            self._inserts.append({"entity": self.entity, "billing_id": str(billing_id), **values})

    def write(self) -> None:
        """Send every held link to the session (two statements at most)."""
        if self._updates:
            statement = (
                update(Link)
                .where(Link.entity == self.entity, Link.billing_id == bindparam("b_billing_id"))
                .values({name: bindparam(name) for name in self._updates[0] if name != "b_billing_id"})
            )
            session().connection().execute(statement, self._updates)
            self._updates = []
        if self._inserts:
            session().connection().execute(_upsert(), self._inserts)
            self._inserts = []


_UPDATED_ON_CONFLICT = (
    "netsuite_id",
    "external_id",
    "content_hash",
    "origin",
    "status",
    "last_error",
    "synced_at",
)


def _upsert():
    """INSERT … ON CONFLICT (entity, billing_id) DO UPDATE: the last writer's link stands, and
    a link written by another run meanwhile is no error (PostgreSQL and SQLite alike)."""
    dialect = session().get_bind().dialect.name
    make = postgresql.insert if dialect == "postgresql" else sqlite.insert
    statement = make(cast(Table, Link.__table__))
    return statement.on_conflict_do_update(
        index_elements=["entity", "billing_id"],
        set_={name: statement.excluded[name] for name in _UPDATED_ON_CONFLICT},
    )
