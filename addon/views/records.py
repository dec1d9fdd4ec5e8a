"""Records view: billing records with their NetSuite id, or 'not synced' and the last failure."""

from __future__ import annotations

from itertools import islice

from flask import abort, render_template, request
from sqlalchemy import func, select

from addon.billing import BillingError
from addon.extension import session
from addon.models import Link, LogEntry
from addon.netsuite import NetSuiteError
from addon.splynx import SplynxError
from addon.sync.context import SyncContext
from addon.views import blueprint
from addon.views.helpers import ENTITY_LABELS

RECORDS_PER_PAGE = 50


def _billing_page(ctx: SyncContext, entity: str, after: int | None, only: int | None):
    billing = ctx.billing
    if only is not None:
        if entity == "customer":
            return [billing.get_customer(only)]
        if entity == "payment":
            return [billing.get_payment(only)]
        return [billing.get_document(entity, only)]
    source = {
        "customer": billing.customers,
        "invoice": billing.invoices,
        "credit_note": billing.credit_notes,
        "payment": billing.payments,
    }[entity]
    return list(islice(source(id_above=after), RECORDS_PER_PAGE))


def _last_failures(entity: str, ids: list[str]) -> dict[str, str]:
    latest = (
        select(func.max(LogEntry.id))
        .where(
            LogEntry.entity == entity,
            LogEntry.billing_id.in_(ids),
            LogEntry.outcome.in_(("failed", "skipped")),
        )
        .group_by(LogEntry.billing_id)
    )
    rows = session().execute(select(LogEntry.billing_id, LogEntry.message).where(LogEntry.id.in_(latest)))
    return {billing_id: message for billing_id, message in rows}


@blueprint.get("/records/<entity>")
def records(entity: str):
    if entity not in ENTITY_LABELS:
        abort(404)
    after = request.args.get("after", type=int)
    only = request.args.get("billing_id", type=int)
    error, items = None, []
    try:
        items = _billing_page(SyncContext.from_settings(), entity, after, only)
    except (BillingError, SplynxError, NetSuiteError) as exc:
        error = f"The billing system could not be read: {exc}"
    ids = [str(item.id) for item in items]
    links = {
        link.billing_id: link
        for link in session().scalars(select(Link).where(Link.entity == entity, Link.billing_id.in_(ids)))
    }
    failures = _last_failures(entity, ids)
    rows = [
        {"item": item, "link": links.get(str(item.id)), "failure": failures.get(str(item.id))}
        for item in items
    ]
    next_after = items[-1].id if len(items) == RECORDS_PER_PAGE and only is None else None
    return render_template(
        "netsuite/records.html",
        entity=entity,
        entities=ENTITY_LABELS,
        rows=rows,
        error=error,
        next_after=next_after,
        only=only,
    )
