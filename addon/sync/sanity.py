"""Sanity rules a document passes before it is sent: what no accountant would post unasked.

- An invoice whose total is negative is a credit in disguise: it is not sent as an invoice
  (outcome ``negative_total``) and the advice is to issue a credit note in billing instead.
- An amount far above the ISP's usual range (``amount_hold_factor`` times the median total of
  the last ``amount_hold_months`` months, 100 × over 3 months by default) is held (outcome
  ``held``) until the operator confirms that amount, from the problems page or with
  ``flask netsuite confirm-amount``. A confirmed document whose total later changes is held again.

The median is kept between runs (each export stores the median of what it read in the
window); only when none is known yet is it read from billing, once (a billing history too short
to say is remembered for the day, so small targeted runs do not read it again).
"""

from __future__ import annotations

import statistics
from datetime import date, timedelta
from decimal import Decimal

from sqlalchemy import delete, select

from addon.billing import BillingDocument, DocumentKind
from addon.extension import session
from addon.models import AmountConfirmation, Problem, ProblemRecord, Setting, utcnow
from addon.sync import entities
from addon.sync.exporter import ExportRun, Skip
from addon.sync.ledger import Cause, clear_record_problems

NEGATIVE_OUTCOME, HELD_OUTCOME = "negative_total", "held"
# Not a user setting: the median of the last run, per document kind.
_USUAL_KEY = "_usual_amount:{entity}"
# Fewer documents than this in the window say nothing about a usual range.
MIN_SAMPLE = 10
# Stored instead of a median when billing had too few documents: good for the day it was read.
_UNKNOWN = "unknown since "


class ConfirmError(ValueError):
    """The record cannot be confirmed (not held, or not in billing)."""


def _noun(entity: str) -> str:
    """The noun of a type whose amounts may be held (ConfirmError for any other)."""
    held = {t.name: t.noun for t in entities.amount_held()}
    if entity not in held:
        raise ConfirmError(
            f"only {' and '.join(n + 's' for n in held.values())} are held; {entity!r} is neither"
        )
    return held[entity]


def held_cause(entity: str) -> Cause:
    noun = _noun(entity)
    return Cause(
        key=f"held_amount:{entity}",
        kind="held_amount",
        title=f"{noun.capitalize()}s far above the usual amount, held until someone confirms them",
        fix_hint=(
            "Check each amount in billing. If it is right, confirm it here (or with "
            f"`flask netsuite confirm-amount {entity} ID`) and the next export sends it; if not, correct it in "
            "billing."
        ),
    )


def check(run: ExportRun, entity: str, doc: BillingDocument, label: str) -> Skip | None:
    """Why ``doc`` must not be sent as it is, or None."""
    if doc.date is not None and doc.total > 0:
        run.state.amounts(entity).seen_totals.append((doc.date, doc.total))
    if entity == "invoice" and doc.total < 0:
        return Skip(
            f"should be a credit note: the total is {doc.total:.2f}, and an invoice below zero would "
            "turn into a debt NetSuite cannot apply; issue a credit note in billing instead and void "
            "this invoice",
            label,
            Cause(
                key="negative_total:invoice",
                kind="negative_total",
                title="Invoices with a negative total: they should be credit notes",
                fix_hint="Issue a credit note in billing for each and void the invoice there; "
                "a negative invoice is never sent.",
            ),
            outcome=NEGATIVE_OUTCOME,
            action="skip",
        )
    factor = Decimal(str(run.setting("amount_hold_factor") or 0))
    usual = usual_amount(run, doc.kind)
    if factor <= 0 or usual is None or usual <= 0 or doc.total <= usual * factor:
        return None
    if _confirmed(run, entity, str(doc.id), doc.total):
        return None
    return Skip(
        f"held for confirmation: the total {doc.total:.2f} is more than {factor.normalize():f} times the usual "
        f"{_noun(entity)} ({usual:.2f}, the median of the last {run.setting('amount_hold_months')} months); "
        "confirm it if it is right",
        label,
        held_cause(entity),
        outcome=HELD_OUTCOME,
        action="hold",
    )


def _months(run: ExportRun) -> timedelta:
    return timedelta(days=31 * int(run.setting("amount_hold_months") or 3))


def _recent_median(run: ExportRun, dated: list[tuple[date, Decimal]]) -> Decimal | None:
    """The median of the totals dated within the window that ends at the newest of them
    (a billing system's 'last months' are its own, whatever today's date)."""
    if not dated:
        return None
    start = max(day for day, _ in dated) - _months(run)
    return _median([total for day, total in dated if day >= start])


def usual_amount(run: ExportRun, entity: DocumentKind) -> Decimal | None:
    """The median total of ``entity`` documents of the last months (None: not enough known)."""
    state = run.state.amounts(entity)
    if not state.usual_known:
        known, state.usual = _stored_usual(entity)
        if not known:
            state.usual = _read_usual(run, entity)
            if not run.dry_run:
                # Kept at once, and "too few to say" too (for the day): otherwise every small
                # targeted run on a quiet installation (a webhook's one invoice) read it again.
                _store_usual(entity, state.usual if state.usual is not None else _unknown_today())
        state.usual_known = True
    return state.usual


def _unknown_today() -> str:
    return f"{_UNKNOWN}{date.today()}"


def _stored_usual(entity: str) -> tuple[bool, Decimal | None]:
    """(known, median): what an earlier run stored; an "unknown" of an earlier day is not known."""
    row = session().get(Setting, _USUAL_KEY.format(entity=entity))
    if row is None or not row.value:
        return False, None
    if row.value.startswith(_UNKNOWN):
        return row.value == _unknown_today(), None
    return True, Decimal(row.value)


def _read_usual(run: ExportRun, entity: DocumentKind) -> Decimal | None:
    """From billing: the window, or, when it is too quiet (an old installation), everything
    since export-from."""
    for since in (date.today() - _months(run), run.setting("export_from")):
        totals = run.ctx.billing.document_totals(entity, date_from=since)
        median = _recent_median(run, [(day, total) for day, total in totals if day and total > 0])
        if median is not None:
            return median
    return None


def _store_usual(entity: str, value: Decimal | str) -> None:
    name = _USUAL_KEY.format(entity=entity)
    row = session().get(Setting, name) or Setting(key=name, encrypted=False)
    row.value = str(value)
    session().add(row)
    session().commit()


def _median(totals: list[Decimal]) -> Decimal | None:
    positive = [t for t in totals if t > 0]
    return Decimal(statistics.median(positive)) if len(positive) >= MIN_SAMPLE else None


def remember_usual_amount(run: ExportRun, entity: str) -> None:
    """After an export: keep the median of what it read in the window for the next runs."""
    median = _recent_median(run, run.state.amounts(entity).seen_totals)
    if median is None or run.dry_run:
        return
    _store_usual(entity, median)


def _confirmed(run: ExportRun, entity: str, billing_id: str, total: Decimal) -> bool:
    state = run.state.amounts(entity)
    confirmations = state.confirmed
    if confirmations is None:
        rows = session().execute(
            select(AmountConfirmation.billing_id, AmountConfirmation.amount).where(
                AmountConfirmation.entity == entity
            )
        )
        confirmations = state.confirmed = {b: Decimal(a) for b, a in rows}
    return confirmations.get(billing_id) == total


def held_records() -> set[tuple[str, str]]:
    """(entity, billing id) of every document held for confirmation now."""
    rows = session().execute(
        select(ProblemRecord.entity, ProblemRecord.billing_id)
        .join(Problem, Problem.id == ProblemRecord.problem_id)
        .where(Problem.kind == "held_amount", Problem.resolved.is_(False))
    )
    return {(entity, billing_id) for entity, billing_id in rows}


def confirm_amount(ctx, entity: str, billing_id: str, confirmed_by: str | None = None) -> Decimal:
    """Confirm the current billing total of a held document; the next export sends it."""
    noun = _noun(entity)
    if (entity, str(billing_id)) not in held_records():
        raise ConfirmError(f"{noun} {billing_id} is not held for confirmation")
    total = ctx.billing.get_document(entity, int(billing_id)).total
    session().execute(
        delete(AmountConfirmation).where(
            AmountConfirmation.entity == entity, AmountConfirmation.billing_id == str(billing_id)
        )
    )
    session().add(
        AmountConfirmation(
            entity=entity,
            billing_id=str(billing_id),
            amount=total,
            confirmed_by=confirmed_by,
            confirmed_at=utcnow(),
        )
    )
    clear_record_problems(entity, str(billing_id))
    session().commit()
    return total
