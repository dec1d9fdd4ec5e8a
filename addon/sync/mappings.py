"""NetSuite's lists in the local cache, and the mappings from billing lists onto them.

``load_mappings`` pulls every list NetSuite offers for mapping with one SuiteQL
query per list (docs/netsuite-rest.md §6.2) and upserts it into ``ListCache`` on
``(kind, netsuite_id)``: a rerun updates rows, never duplicates them, and rows
gone from NetSuite are kept but marked inactive (old mappings may still point
at them). The same mechanism caches NetSuite customers (``addon.sync.matching``).

Accounts differ in their features (docs/netsuite-accounts.md), so each list is
loaded on its own: a table the account lacks ("Record 'subsidiary' was not
found": OneWorld off) means the list is empty; a column it lacks is retried with
the list's minimal columns; any other refusal is logged for that list, and the
run goes on with the next.

Mappings are saved through ``save_mapping``/``unmap`` only, so the problem a
missing mapping caused is resolved the moment it is fixed. They live in the add-on's
own table and nowhere else: Splynx's ``accounting_*_id`` columns are foreign keys into
the tables of Splynx's own accounting add-ons, which a write from us would break
(docs/splynx-installations.md).
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from typing import cast

from sqlalchemy import String, delete, func, select

from addon.extension import session
from addon.models import Link, ListCache, LogEntry, Mapping, Problem, ProblemRecord
from addon.netsuite import NetSuiteValidationError
from addon.sync.addresses import netsuite_address
from addon.sync.context import SyncContext
from addon.sync.ledger import RunLedger, resolve_cause

# -------------------------------------------------------------------------- NetSuite lists


@dataclass(frozen=True)
class CachedRow:
    """One row of a NetSuite list as the cache keeps it."""

    netsuite_id: str
    name: str
    email: str | None = None
    external_id: str | None = None
    extra: dict = field(default_factory=dict)
    inactive: bool = False


@dataclass(frozen=True)
class NetSuiteList:
    """Where a list lives in SuiteQL (docs/netsuite-rest.md §6.2) and how a row becomes a ``CachedRow``."""

    kind: str
    label: str
    select_from: str
    where: str | None
    name: Callable[[dict], str]
    extra: tuple[str, ...] = ()
    email: str | None = None
    # Columns every account has, tried when the full query names one the account lacks.
    minimal: str | None = None
    # What a read with the minimal columns lacks, in the operator's words (the log row says it).
    minimal_lacks: str | None = None
    # More cache fields computed from a full row (not from a minimal one).
    derive: Callable[[dict], dict] | None = None
    key: str = "id"  # the keyset column (qualified when the query joins)

    @property
    def table(self) -> str:
        """The table the list is read from (a join's other tables are not the list)."""
        found = re.search(r"\bFROM\s+(\w+)", self.select_from, re.IGNORECASE)
        return found.group(1).lower() if found else ""


def _first(*columns: str) -> Callable[[dict], str]:
    return lambda row: next((row[c] for c in columns if row.get(c)), row.get("id", ""))


def _person_or_company(row: dict) -> str:
    person = " ".join(part for part in (row.get("firstname"), row.get("lastname")) if part)
    return row.get("companyname") or person or row.get("entityid") or row["id"]


# SuiteQL `item.itemtype` values of items that make sense on an invoice or credit memo line.
SALE_ITEM_TYPES = (
    "Service", "InvtPart", "NonInvtPart", "OthCharge", "Discount", "Markup", "Assembly", "Kit",
    "GiftCert", "DwnLdItem",
)  # fmt: skip
_CUSTOMERS = (
    "SELECT c.id, c.entityid, c.companyname, c.firstname, c.lastname, c.email, c.isinactive, c.externalid"
)
# NetSuite's SuiteQL answer for a table the account does not have (a feature that is off).
_MISSING_TABLE = re.compile(r"Record '([^']+)' was not found", re.IGNORECASE)

NETSUITE_LISTS: dict[str, NetSuiteList] = {
    spec.kind: spec
    for spec in (
        # Only items an invoice line can carry: no tax codes, subtotals, descriptions, payments.
        NetSuiteList(
            "item", "Items",
            "SELECT id, itemid, displayname, itemtype, isinactive, externalid FROM item",
            f"itemtype IN ({', '.join(repr(t) for t in SALE_ITEM_TYPES)})", _first("itemid", "displayname"),
            ("itemtype",), minimal="SELECT id, itemid, itemtype, isinactive FROM item",
        ),
        # docs/netsuite-rest.md §6.2: `acctname` is absent from the Fivetran column list; `fullname` is the
        # safe name. Without OneWorld `subsidiary` is unknown, and without multiple currencies maybe
        # `currency`.
        NetSuiteList(
            "bank_account", "Bank accounts",
            "SELECT id, acctnumber, fullname, currency, subsidiary, isinactive, externalid FROM account",
            "accttype = 'Bank'", _first("fullname", "acctnumber"), ("acctnumber", "currency", "subsidiary"),
            minimal="SELECT id, acctnumber, fullname, isinactive FROM account",
        ),
        # "Tax Code Records in SuiteTax": `name` (no `itemid`) and no rate; the rate comes from billing.
        NetSuiteList(
            "tax_code", "Tax codes",
            "SELECT id, name, taxtype, isinactive FROM salestaxitem", None, _first("name"), ("taxtype",),
            minimal="SELECT id, name, isinactive FROM salestaxitem",
        ),
        NetSuiteList(
            "tax_type", "Tax types",
            "SELECT id, name, isinactive FROM taxtype", None, _first("name"),
        ),
        NetSuiteList(
            "class", "Classes",
            "SELECT id, name, fullname, isinactive, externalid FROM classification", None, _first("fullname", "name"),
        ),
        NetSuiteList(
            "department", "Departments",
            "SELECT id, name, fullname, isinactive, externalid FROM department", None, _first("fullname", "name"),
        ),
        NetSuiteList(
            "location", "Locations",
            "SELECT id, name, fullname, isinactive, externalid FROM location", None, _first("fullname", "name"),
        ),
        # docs/netsuite-rest.md §6.2: `name` on the SuiteQL term table is unconfirmed; it is on the REST
        # record, so we assume SuiteQL serves it too (and fall back to the id).
        NetSuiteList(
            "term", "Terms",
            "SELECT id, name, daysuntilnetdue, isinactive, externalid FROM term", None, _first("name"),
            ("daysuntilnetdue",),
        ),
        NetSuiteList(
            "subsidiary", "Subsidiaries",
            "SELECT id, name, fullname, currency, isinactive, externalid FROM subsidiary", None,
            _first("fullname", "name"), ("currency",),
        ),
        NetSuiteList(
            "currency", "Currencies",
            "SELECT id, name, symbol, isinactive, externalid FROM currency", None, _first("name"), ("symbol",),
        ),
        # docs/netsuite-rest.md §6.3: the default billing address is a join through the address book;
        # an account or role that refuses it still lists its customers, without addresses.
        NetSuiteList(
            "customer", "NetSuite customers",
            _CUSTOMERS + ", a.addr1, a.city, a.zip FROM customer c "
            "LEFT JOIN customerAddressbook b ON b.entity = c.id AND b.defaultbilling = 'T' "
            "LEFT JOIN customerAddressbookEntityAddress a ON a.nkey = b.addressbookaddress",
            None, _person_or_company, ("entityid",), email="email",
            minimal=_CUSTOMERS + " FROM customer c",
            minimal_lacks="billing addresses: pairing suggestions compare email and name only",
            derive=netsuite_address, key="c.id",
        ),
    )
}  # fmt: skip
# Legacy tax: tax codes have `itemid` and their own `rate` (used to predict NetSuite's tax).
LEGACY_TAX_CODES = NetSuiteList(
    "tax_code", "Tax codes",
    "SELECT id, itemid, rate, isinactive FROM salestaxitem", None, _first("itemid", "name"), ("rate",),
    minimal="SELECT id, itemid, isinactive FROM salestaxitem",
)  # fmt: skip
MAPPING_LISTS = tuple(kind for kind in NETSUITE_LISTS if kind != "customer")


def list_spec(ctx: SyncContext, kind: str) -> NetSuiteList:
    """The list as this account's tax mode reads it."""
    if kind == "tax_code" and ctx.setting("tax_mode") == "legacy":
        return LEGACY_TAX_CODES
    return NETSUITE_LISTS[kind]


def mapping_lists(ctx: SyncContext) -> tuple[str, ...]:
    """The lists 'Load mappings' reads: tax types exist only under SuiteTax."""
    legacy = ctx.setting("tax_mode") == "legacy"
    return tuple(kind for kind in MAPPING_LISTS if not (legacy and kind == "tax_type"))


def fetch_list(ctx: SyncContext, kind: str, *, minimal: bool = False) -> Iterator[CachedRow]:
    """Stream one NetSuite list, paged by id (one request per 1,000 rows)."""
    spec = list_spec(ctx, kind)
    select_from = spec.minimal if minimal and spec.minimal else spec.select_from
    derive = spec.derive if select_from == spec.select_from else None
    for row in ctx.netsuite.suiteql_keyset(select_from, where=spec.where, key=spec.key):
        extra = {column: row[column] for column in spec.extra if column in row}
        yield CachedRow(
            netsuite_id=str(row["id"]),
            name=str(spec.name(row))[:400],
            email=(row.get(spec.email) or None) if spec.email else None,
            external_id=row.get("externalid") or None,
            extra={**extra, **derive(row)} if derive else extra,
            inactive=row.get("isinactive") == "T",
        )


@dataclass
class CacheChanges:
    """What storing a list did (or would do, on a dry run)."""

    created: int = 0
    updated: int = 0
    unchanged: int = 0
    deactivated: int = 0

    @property
    def changed(self) -> bool:
        return bool(self.created or self.updated or self.deactivated)

    def describe(self, label: str) -> str:
        total = self.created + self.updated + self.unchanged
        return (
            f"{label}: {total} in NetSuite — {self.created} new, {self.updated} changed, "
            f"{self.unchanged} unchanged, {self.deactivated} no longer in NetSuite"
        )


def store_list(kind: str, rows: Iterable[CachedRow], *, dry_run: bool = False) -> CacheChanges:
    """Upsert ``rows`` into the cache on (kind, netsuite_id); cached rows not seen become inactive."""
    existing = {
        row.netsuite_id: row for row in session().scalars(select(ListCache).where(ListCache.kind == kind))
    }
    changes, seen = CacheChanges(), set()
    for row in rows:
        if row.netsuite_id in seen:
            continue  # a join gave the record twice (two default addresses): the first row stands
        seen.add(row.netsuite_id)
        cached = existing.get(row.netsuite_id)
        values = {
            "name": row.name,
            "email": row.email,
            "external_id": row.external_id,
            "extra": row.extra,
            "inactive": row.inactive,
        }
        if cached is None:
            changes.created += 1
            if not dry_run:
                session().add(ListCache(kind=kind, netsuite_id=row.netsuite_id, **values))
        elif any(getattr(cached, key) != value for key, value in values.items()):
            changes.updated += 1
            if not dry_run:
                for key, value in values.items():
                    setattr(cached, key, value)
        else:
            changes.unchanged += 1
    for netsuite_id, cached in existing.items():
        if netsuite_id not in seen and not cached.inactive:
            changes.deactivated += 1
            if not dry_run:
                cached.inactive = True
    if not dry_run:
        session().commit()
    return changes


class ListUnavailable(Exception):
    """NetSuite refused every query of one list; the message says why, for the log."""


def read_list(ctx: SyncContext, kind: str) -> tuple[list[CachedRow], str]:
    """Every row of one list and a note on how it was read (missing tables, fallback columns)."""
    spec = list_spec(ctx, kind)
    try:
        return list(fetch_list(ctx, kind)), ""
    except NetSuiteValidationError as error:
        missing = _MISSING_TABLE.search(error.detail or "")
        if missing and missing.group(1).lower() == spec.table:
            return [], f"not in this NetSuite account (SuiteQL: Record '{missing.group(1)}' was not found)"
        if spec.minimal is None:
            raise ListUnavailable(f"NetSuite refused the query: {error.detail}") from error
        first = error.detail
    lacking = f"read without {spec.minimal_lacks}" if spec.minimal_lacks else "read with fewer columns"
    try:
        return list(fetch_list(ctx, kind, minimal=True)), f"{lacking} (NetSuite: {first})"
    except NetSuiteValidationError as error:
        raise ListUnavailable(f"NetSuite refused the query: {error.detail}") from error


def refresh_list(ctx: SyncContext, ledger: RunLedger, kind: str) -> CacheChanges:
    """Fetch one list, store it, and log one row for it (a refused list: a failed row, cache kept)."""
    spec = list_spec(ctx, kind)
    try:
        rows, note = read_list(ctx, kind)
    except ListUnavailable as error:
        ledger.record(
            entity=kind,
            billing_id=None,
            outcome="failed",
            action="load",
            direction="import",
            message=f"{spec.label}: {error}; the list was not reloaded",
        )
        return CacheChanges()
    changes = store_list(kind, rows, dry_run=ledger.dry_run)
    if changes.created:
        outcome = "would_create" if ledger.dry_run else "created"
    elif changes.changed:
        outcome = "would_update" if ledger.dry_run else "updated"
    else:
        outcome = "unchanged"
    ledger.record(
        entity=kind,
        billing_id=None,
        outcome=outcome,
        action="load",
        direction="import",
        message=changes.describe(spec.label) + (f" — {note}" if note else ""),
    )
    return changes


def load_mappings(ctx: SyncContext, ledger: RunLedger) -> None:
    """Operation: refresh every mapping list from NetSuite (dry run: report what would change)."""
    kinds = mapping_lists(ctx)
    ledger.phase("Loading NetSuite lists", total=len(kinds))
    result = {}
    for kind in kinds:
        changes = refresh_list(ctx, ledger, kind)
        result[kind] = {
            "created": changes.created,
            "updated": changes.updated,
            "unchanged": changes.unchanged,
            "deactivated": changes.deactivated,
        }
    ledger.set_result({"lists": result})


def cached(kind: str, *, active_only: bool = False) -> list[ListCache]:
    """Cached rows of one NetSuite list, by name."""
    query = select(ListCache).where(ListCache.kind == kind).order_by(ListCache.name, ListCache.id)
    if active_only:
        query = query.where(ListCache.inactive.is_(False))
    return list(session().scalars(query))


# -------------------------------------------------------------------------- mapping kinds


@dataclass(frozen=True)
class MappingKind:
    """A billing list (or a default) mapped onto one NetSuite list."""

    kind: str
    label: str
    netsuite_list: str
    billing_rows: Callable[[SyncContext], Iterable[tuple[str, str]]] | None = None


def _categories(ctx: SyncContext) -> Iterator[tuple[str, str]]:
    return ((str(c.id), c.name) for c in ctx.billing.transaction_categories())


def _payment_methods(ctx: SyncContext) -> Iterator[tuple[str, str]]:
    return ((str(m.id), m.name) for m in ctx.billing.payment_methods())


def _tax_rates(ctx: SyncContext) -> Iterator[tuple[str, str]]:
    return ((str(t.id), t.name) for t in ctx.billing.tax_rates() if not t.archived)


MAPPING_KINDS: dict[str, MappingKind] = {
    spec.kind: spec
    for spec in (
        MappingKind("category", "Transaction category", "item", _categories),
        MappingKind("payment_method", "Payment method", "bank_account", _payment_methods),
        MappingKind("tax_rate", "Tax rate", "tax_code", _tax_rates),
        MappingKind("default_bank_account", "Default bank account", "bank_account"),
        MappingKind("default_class", "Default class", "class"),
        MappingKind("default_department", "Default department", "department"),
        MappingKind("default_location", "Default location", "location"),
        MappingKind("default_terms", "Default terms", "term"),
    )
}


class MappingError(ValueError):
    """A mapping that cannot be saved; the message is for the operator."""


def mapping_kind(kind: str) -> MappingKind:
    try:
        return MAPPING_KINDS[kind]
    except KeyError:
        raise MappingError(f"unknown mapping kind {kind!r}") from None


def unmapped_cause_key(kind: str, billing_id: str | int = "") -> str:
    """The Problem key the exports file under when ``kind``/``billing_id`` has no mapping."""
    return f"unmapped:{kind}:{billing_id}"


def netsuite_id_for(kind: str, billing_id: str | int = "") -> str | None:
    """The mapped NetSuite id, or None."""
    return session().scalar(
        select(Mapping.netsuite_id).where(Mapping.kind == kind, Mapping.billing_id == str(billing_id))
    )


def save_mapping(
    kind: str,
    billing_id: str | int,
    netsuite_id: str | int,
    *,
    billing_name: str | None = None,
) -> None:
    """Map a billing list value (``billing_id`` '' for defaults) onto a NetSuite list row.

    Saves the mapping in our own table and resolves the 'unmapped' problem it caused.
    Nothing is written to billing (see the module's docstring).
    """
    spec = mapping_kind(kind)
    billing_key, netsuite_key = str(billing_id), str(netsuite_id)
    if spec.billing_rows is None and billing_key:
        raise MappingError(f"{spec.label} is a default: it has no billing value")
    if spec.billing_rows is not None and not billing_key:
        raise MappingError(f"{spec.label}: choose which billing value to map")
    listed = session().scalar(
        select(ListCache).where(ListCache.kind == spec.netsuite_list, ListCache.netsuite_id == netsuite_key)
    )
    if listed is None:
        raise MappingError(
            f"NetSuite {NETSUITE_LISTS[spec.netsuite_list].label.lower()} id {netsuite_key} is not in the "
            "loaded lists; run 'Load mappings' first"
        )
    row = session().scalar(select(Mapping).where(Mapping.kind == kind, Mapping.billing_id == billing_key))
    if row is None:
        row = Mapping(kind=kind, billing_id=billing_key)
        session().add(row)
    row.netsuite_id = netsuite_key
    if billing_name is not None:
        row.billing_name = billing_name[: cast(String, Mapping.__table__.c.billing_name.type).length]
    session().commit()
    resolve_cause(unmapped_cause_key(kind, billing_key))


def unmap(kind: str, billing_id: str | int = "") -> None:
    """Remove a mapping."""
    mapping_kind(kind)
    billing_key = str(billing_id)
    session().execute(delete(Mapping).where(Mapping.kind == kind, Mapping.billing_id == billing_key))
    session().commit()


@dataclass(frozen=True)
class MappingRow:
    """One line of a mapping page."""

    kind: str
    billing_id: str
    billing_name: str
    netsuite_id: str | None
    netsuite_name: str | None
    netsuite_inactive: bool = False

    @property
    def unmapped(self) -> bool:
        return self.netsuite_id is None


def mapping_rows(kind: str, *, ctx: SyncContext | None = None) -> list[MappingRow]:
    """Billing values of ``kind`` (or its one default row) with their mapping and NetSuite names."""
    spec = mapping_kind(kind)
    if spec.billing_rows is None:
        billing = [("", spec.label)]
    else:
        billing = list(spec.billing_rows(ctx or SyncContext.from_settings()))
    mapped = {
        m.billing_id: m.netsuite_id for m in session().scalars(select(Mapping).where(Mapping.kind == kind))
    }
    names = {
        row.netsuite_id: row
        for row in session().scalars(
            select(ListCache).where(
                ListCache.kind == spec.netsuite_list, ListCache.netsuite_id.in_(set(mapped.values()))
            )
        )
    }
    rows = []
    for billing_id, billing_name in billing:
        netsuite_id = mapped.get(billing_id)
        listed = names.get(netsuite_id) if netsuite_id else None
        rows.append(
            MappingRow(
                kind=kind,
                billing_id=billing_id,
                billing_name=billing_name,
                netsuite_id=netsuite_id,
                netsuite_name=listed.name if listed else None,
                netsuite_inactive=bool(listed and listed.inactive),
            )
        )
    return rows


# -------------------------------------------------------------------------- auto-map

_NON_WORD = re.compile(r"[^a-z0-9]+")


def normalise_name(name: str) -> str:
    """A name reduced for matching: no case, accents or punctuation; '&' is 'and'; plurals singular."""
    text = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode().lower()
    text = text.replace("&", " and ")
    words = [word for word in _NON_WORD.split(text) if word]
    return " ".join(word[:-1] if len(word) > 3 and word.endswith("s") and not word.endswith("ss") else word
                    for word in words)  # fmt: skip


def automap_categories(ctx: SyncContext, ledger: RunLedger) -> None:
    """Operation: map transaction categories onto NetSuite items with the same (normalised) name.

    Categories already mapped are left alone; a name matching two items is not guessed.
    A dry run only proposes the pairs.
    """
    items = cached("item", active_only=True)
    if not items:
        refresh_list(ctx, ledger, "item")
        items = cached("item", active_only=True)
    by_name: dict[str, list[ListCache]] = {}
    for item in items:
        by_name.setdefault(normalise_name(item.name), []).append(item)
    mapped = {
        m.billing_id: m.netsuite_id
        for m in session().scalars(select(Mapping).where(Mapping.kind == "category"))
    }
    categories = list(ctx.billing.transaction_categories())
    ledger.phase("Pairing categories with items", total=len(categories))
    pairs = []
    for category in categories:
        billing_id = str(category.id)
        candidates = by_name.get(normalise_name(category.name), [])
        pair = {"category_id": billing_id, "category": category.name, "item_id": None, "item": None}
        if billing_id in mapped:
            pair.update(status="already_mapped", item_id=mapped[billing_id])
            outcome, message = "unchanged", f"Already mapped to NetSuite item {mapped[billing_id]}"
        elif len(candidates) == 1:
            item = candidates[0]
            pair.update(item_id=item.netsuite_id, item=item.name)
            if ledger.dry_run:
                pair["status"], outcome = "proposed", "would_match"
            else:
                save_mapping("category", billing_id, item.netsuite_id, billing_name=category.name)
                pair["status"], outcome = "saved", "matched"
            message = f'"{category.name}" → item "{item.name}"'
        elif candidates:
            ids = ", ".join(item.netsuite_id for item in candidates)
            pair["status"], outcome = "ambiguous", "skipped"
            message = f'"{category.name}" matches several items ({ids}); map it by hand'
        else:
            pair["status"], outcome = "unmatched", "skipped"
            message = f'No NetSuite item is named like "{category.name}"'
        pairs.append(pair)
        ledger.record(
            entity="category",
            billing_id=billing_id,
            outcome=outcome,
            action="automap",
            netsuite_id=pair["item_id"],
            direction="local",
            message=message,
            label=category.name,
        )
    ledger.set_result({"pairs": pairs})


# -------------------------------------------------------------------------- reset


def _flag(value) -> bool:
    if isinstance(value, str):
        return value.strip().lower() in {"1", "true", "yes", "on", "y"}
    return bool(value)


def _count_by(column, model, *where) -> dict[str, int]:
    rows = session().execute(select(column, func.count()).select_from(model).where(*where).group_by(column))
    return {str(key): count for key, count in rows}


def reset_accounting(ctx: SyncContext, ledger: RunLedger, links=False, logs=False) -> None:
    """Operation: erase the mappings (``links``: also the links, ``logs``: also log rows and problems).

    Only the add-on's own tables change: nothing in NetSuite or billing is touched.
    """
    erased: dict[str, object] = {"mappings": _count_by(Mapping.kind, Mapping)}
    session().execute(delete(Mapping))
    if _flag(links):
        erased["links"] = _count_by(Link.entity, Link)
        session().execute(delete(Link))
    if _flag(logs):
        keep = LogEntry.run_id.is_(None) | (LogEntry.run_id != ledger.run.id)
        erased["log_entries"] = session().scalar(select(func.count()).select_from(LogEntry).where(keep))
        erased["problems"] = session().scalar(select(func.count()).select_from(Problem))
        session().execute(delete(LogEntry).where(keep))
        session().execute(delete(ProblemRecord))
        session().execute(delete(Problem))
    session().commit()
    ledger.set_result({"erased": erased})
