"""Reconciliation: do billing and NetSuite agree on a period's invoices, credit notes and payments?

Billing side: every document/payment the exports would send (dated in the
period, not deleted, not before ``export_from``, payments of pushed methods,
not imported from NetSuite). NetSuite side: transactions whose externalId
starts with 'splynx-' (ours), read with one keyset SuiteQL stream per type
(docs/netsuite-rest.md §6.2 ``transaction``). Documents are paired by externalId and compared by
gross total; the report lists every one that disagrees. Money is Decimal,
written as strings so the report is JSON.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from itertools import islice

from sqlalchemy import select

from addon.extension import session
from addon.models import Link
from addon.sync import entities
from addon.sync.context import SyncContext
from addon.sync.entities import EntityType
from addon.sync.ledger import RunLedger
from addon.sync.links import external_prefix

MAX_LISTED = 500


@dataclass(frozen=True)
class Side:
    """One record on one side: what is compared."""

    id: str
    number: str
    day: date
    total: Decimal


def _as_date(value, default: date) -> date:
    if value in (None, ""):
        return default
    return value if isinstance(value, date) else date.fromisoformat(str(value))


def _chunks(items, size: int) -> Iterator[list]:
    iterator = iter(items)
    while chunk := list(islice(iterator, size)):
        yield chunk


def _billing_start(ctx: SyncContext, date_from: date) -> date:
    export_from = ctx.setting("export_from")
    return max(date_from, export_from) if export_from else date_from


def payment_sides(ctx: SyncContext, date_from: date, date_to: date) -> dict[str, Side]:
    """The billing payments the export would send: pushed methods only, none from NetSuite."""
    found: dict[str, Side] = {}
    pushed = {str(m) for m in ctx.setting("payment_methods_push")}
    listed = entities.PAYMENT.list(ctx.billing, date_from=_billing_start(ctx, date_from), date_to=date_to)
    for page in _chunks(listed, 500):
        imported = set(
            session().scalars(
                select(Link.billing_id).where(
                    Link.entity == entities.PAYMENT.name,
                    Link.origin == "netsuite",
                    Link.billing_id.in_([str(p.id) for p in page]),
                )
            )
        )
        for p in page:
            if str(p.id) in imported or (pushed and str(p.payment_method_id) not in pushed) or p.date is None:
                continue
            found[str(p.id)] = Side(str(p.id), p.receipt_number, p.date, abs(p.amount))
    return found


def document_sides(ctx: SyncContext, entity: str, date_from: date, date_to: date) -> dict[str, Side]:
    """The billing documents of one kind the export would send (not deleted, dated)."""
    found: dict[str, Side] = {}
    listed = entities.get(entity).list(ctx.billing, date_from=_billing_start(ctx, date_from), date_to=date_to)
    for doc in listed:
        if doc.is_deleted or doc.date is None:
            continue
        found[str(doc.id)] = Side(str(doc.id), doc.number, doc.date, abs(doc.total))
    return found


def _netsuite_records(ctx: SyncContext, spec: EntityType, date_from: date, date_to: date) -> dict[str, Side]:
    """Our transactions of one type in the period, keyed by billing id (from the externalId)."""
    prefix = external_prefix(spec.name)
    where = (
        f"t.type = '{spec.tran_type}' AND t.externalid LIKE '{prefix}%' "
        f"AND t.trandate >= TO_DATE('{date_from.isoformat()}', 'YYYY-MM-DD') "
        f"AND t.trandate <= TO_DATE('{date_to.isoformat()}', 'YYYY-MM-DD')"
    )
    rows = ctx.netsuite.suiteql_keyset(
        "SELECT t.id, t.tranid, t.externalid, t.foreigntotal, TO_CHAR(t.trandate, 'YYYY-MM-DD') AS trandate "
        "FROM transaction t",
        where=where,
        key="t.id",
    )
    found = {}
    for row in rows:
        billing_id = row["externalid"].removeprefix(prefix)
        # The sign NetSuite gives credit memos and payments in `foreigntotal` is unconfirmed
        # (docs/netsuite-rest.md §6.2).
        total = abs(Decimal(row.get("foreigntotal", "0")))
        found[billing_id] = Side(
            str(row["id"]), row.get("tranid", ""), date.fromisoformat(row["trandate"]), total
        )
    return found


def _links(entity: str, billing_ids: list[str]) -> dict[str, str | None]:
    links: dict[str, str | None] = {}
    for page in _chunks(billing_ids, 500):
        for billing_id, netsuite_id in session().execute(
            select(Link.billing_id, Link.netsuite_id).where(
                Link.entity == entity, Link.origin == "billing", Link.billing_id.in_(page)
            )
        ):
            links[billing_id] = netsuite_id
    return links


def _money(value: Decimal) -> str:
    return format(value.quantize(Decimal("0.01")), "f")


def reconciliation(ctx: SyncContext, date_from=None, date_to=None) -> dict:
    """The report for the period (default: the last twelve months up to today).

    ``entities``: per type, count and total per side, the difference and ``agree``;
    ``months``: net sales per month and side (for the chart) with each type's totals
    in ``by_entity``; ``agree``: nothing disagrees; ``discrepancies``: documents that disagree
    (``problem`` is missing_in_netsuite, total_differs, not_exported, only_in_netsuite
    or link_differs), at most 500 listed, ``discrepancy_count`` counts them all.
    """
    date_to = _as_date(date_to, date.today())
    date_from = _as_date(date_from, (date_to.replace(day=1) - timedelta(days=335)).replace(day=1))
    by_entity: dict[str, dict] = {}
    discrepancies: list[dict] = []
    monthly: dict[str, dict] = defaultdict(dict)
    for spec in entities.reconciled():
        assert spec.reconcile_sides is not None  # what reconciled() chooses by
        billing = spec.reconcile_sides(ctx, date_from, date_to)
        netsuite = _netsuite_records(ctx, spec, date_from, date_to)
        links = _links(spec.name, sorted(billing))
        sums = {"billing": Decimal(0), "netsuite": Decimal(0)}
        for side, records in (("billing", billing), ("netsuite", netsuite)):
            for record in records.values():
                sums[side] += record.total
                month = monthly[f"{record.day:%Y-%m}"].setdefault(
                    spec.name, {"billing": Decimal(0), "netsuite": Decimal(0)}
                )
                month[side] += record.total
        by_entity[spec.name] = {
            "billing_count": len(billing),
            "billing_total": _money(sums["billing"]),
            "netsuite_count": len(netsuite),
            "netsuite_total": _money(sums["netsuite"]),
            "difference": _money(sums["billing"] - sums["netsuite"]),
        }
        first_discrepancy = len(discrepancies)
        not_exported, not_exported_total = 0, Decimal(0)
        for billing_id in sorted(set(billing) | set(netsuite), key=lambda k: (len(k), k)):
            ours, theirs = billing.get(billing_id), netsuite.get(billing_id)
            problem = None
            if ours is None:
                problem = "only_in_netsuite"
            elif theirs is None:
                problem = "missing_in_netsuite" if links.get(billing_id) else "not_exported"
            elif ours.total != theirs.total:
                problem = "total_differs"
            elif links.get(billing_id) not in (None, theirs.id):
                problem = "link_differs"
            if problem == "not_exported":
                assert ours is not None
                not_exported += 1
                not_exported_total += ours.total
            if problem:
                shown = ours or theirs
                assert shown is not None  # the id came from one side or the other
                discrepancies.append(
                    {
                        "entity": spec.name,
                        "billing_id": billing_id,
                        "netsuite_id": theirs.id if theirs else links.get(billing_id),
                        "number": shown.number,
                        "date": shown.day.isoformat(),
                        "problem": problem,
                        "billing_total": _money(ours.total) if ours else None,
                        "netsuite_total": _money(theirs.total) if theirs else None,
                    }
                )
        found = len(discrepancies) - first_discrepancy
        by_entity[spec.name].update(
            discrepancies=found,
            agree=not found,
            # Documents never exported (blocked by a problem, or before export-from) are
            # listed too; what was exported agrees when nothing else disagrees.
            not_exported=not_exported,
            exported_billing_total=_money(sums["billing"] - not_exported_total),
            exported_agree=found == not_exported,
        )
    return {
        "date_from": date_from.isoformat(),
        "date_to": date_to.isoformat(),
        "entities": by_entity,
        "months": [_month(month, values) for month, values in sorted(monthly.items())],
        "agree": not discrepancies,
        "exported_agree": all(sides["exported_agree"] for sides in by_entity.values()),
        "discrepancy_count": len(discrepancies),
        "discrepancies": discrepancies[:MAX_LISTED],
    }


def _month(month: str, values: dict) -> dict:
    """One chart bar pair: net sales (invoices less credit notes) per side, plus each type's totals."""
    signs = {t.name: t.sales_sign for t in entities.reconciled() if t.sales_sign}
    net = {
        side: sum(
            (sign * values[entity][side] for entity, sign in signs.items() if entity in values), Decimal(0)
        )
        for side in ("billing", "netsuite")
    }
    return {
        "month": month,
        **{side: _money(total) for side, total in net.items()},
        "by_entity": {
            entity: {side: _money(v) for side, v in sides.items()} for entity, sides in values.items()
        },
    }


def reconcile(ctx: SyncContext, ledger: RunLedger, date_from=None, date_to=None) -> None:
    """Operation: build the reconciliation report, log one row per entity type, keep the report."""
    compared = entities.reconciled()
    ledger.phase("Reconciling", total=len(compared))
    report = reconciliation(ctx, date_from, date_to)
    from addon.money import Formatter

    money = Formatter.from_settings()  # the log (and its CSV) shows amounts as the pages do
    for spec in compared:
        sides = report["entities"][spec.name]
        disagree = sides["discrepancies"]
        ledger.record(
            entity=spec.name,
            billing_id=None,
            outcome="skipped" if disagree else "matched",
            action="reconcile",
            direction="local",
            message=(
                f"{report['date_from']}…{report['date_to']}: billing {sides['billing_count']} "
                f"({money(sides['billing_total'])}), NetSuite {sides['netsuite_count']} "
                f"({money(sides['netsuite_total'])}); {disagree or 'none'} disagreeing"
            ),
        )
    ledger.set_result(report)
