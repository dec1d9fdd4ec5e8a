"""The reconciliation page: both sides' counts and totals for a period, and a monthly bar chart.

The chart is drawn by Chart.js (vendored in the static folder, MIT licence kept beside it)
from the figures this module puts in a data attribute: no inline script or style, which the
CSP forbids. Every figure a reader sees is formatted from the Decimal amounts.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from flask import render_template

from addon.billing import BillingError
from addon.netsuite import NetSuiteError
from addon.sync import entities


def _money(value) -> Decimal:
    return Decimal(str(value or 0))


PROBLEM_LABELS = {
    "not_exported": "Not exported yet",
    "missing_in_netsuite": "Linked, but missing in NetSuite",
    "total_differs": "Totals differ",
    "only_in_netsuite": "Only in NetSuite",
    "link_differs": "Linked to another NetSuite record",
}


# The one discrepancy that is not a disagreement: billing has the document, NetSuite was never
# sent it (held back or not run yet). Everything else means the two sides contradict each other.
def normalise(raw: dict) -> dict:
    """The engine's report as rows for the table, months for the chart, and the discrepancy list.

    ``agree`` is the engine's verdict (nothing disagrees, not-exported documents included);
    ``exported_agree`` says every document that WAS exported matches NetSuite.
    """
    listed = raw.get("discrepancies") or []
    labels = entities.labels()
    rows = []
    for entity, side in (raw.get("entities") or {}).items():
        rows.append(
            {
                "label": labels.get(entity, entity),
                "billing_count": side.get("billing_count", 0),
                "netsuite_count": side.get("netsuite_count", 0),
                "billing_total": _money(side.get("billing_total")),
                "netsuite_total": _money(side.get("netsuite_total")),
                "agree": bool(side.get("agree")),
                "not_exported": side.get("not_exported", 0),
                "exported_billing_total": _money(side.get("exported_billing_total")),
                "exported_agree": bool(side.get("exported_agree")),
            }
        )
    months = [
        {"month": m["month"], "billing": _money(m.get("billing")), "netsuite": _money(m.get("netsuite"))}
        for m in raw.get("months") or []
    ]
    agree = raw.get("agree")
    agree = all(r["agree"] for r in rows) if agree is None else agree
    discrepancies = [
        {
            **d,
            "label": labels.get(d.get("entity"), d.get("entity")),
            "problem_label": PROBLEM_LABELS.get(d.get("problem"), d.get("problem")),
        }
        for d in listed
    ]
    return {
        "rows": rows,
        "months": months,
        "agree": agree,
        "exported_agree": agree or bool(raw.get("exported_agree")),
        "not_exported": sum(r["not_exported"] for r in rows),
        "discrepancies": discrepancies,
        "disagreements": [d for d in discrepancies if d.get("problem") != "not_exported"],
        "waiting": [d for d in discrepancies if d.get("problem") == "not_exported"],
        "discrepancy_count": raw.get("discrepancy_count", len(listed)),
        "date_from": raw.get("date_from"),
        "date_to": raw.get("date_to"),
    }


def robust_bound(values: list[Decimal]) -> Decimal | None:
    """The axis limit that keeps one outlier month from flattening all the others.

    When the largest swing is more than four times the next one, the axis stops at 1.25x
    that next one; the outlier's bar runs off the axis and its label carries its real value.
    """
    sizes = sorted((abs(v) for v in values), reverse=True)
    if len(sizes) < 3 or not sizes[1]:
        return None
    return sizes[1] * Decimal("1.25") if sizes[0] > sizes[1] * 4 else None


def chart(months: list[dict], money) -> dict | None:
    """Variance per month (billing minus NetSuite, net sales) for Chart.js, drawn by netsuite-chart.js."""
    if not months:
        return None
    variances = [m["billing"] - m["netsuite"] for m in months]
    bound = robust_bound(variances)
    labels, clipped = [], []
    for m, variance in zip(months, variances, strict=True):
        off_scale = bound is not None and abs(variance) > bound
        labels.append(f"{m['month']} (off scale: {money(variance)})" if off_scale else str(m["month"]))
        if off_scale:
            clipped.append(m["month"])
    return {
        "labels": labels,
        "values": [float(v) for v in variances],  # drawing only: every figure shown is the Decimal
        "texts": [money(v) for v in variances],
        "bound": float(bound) if bound is not None else None,
        "clipped": clipped,
        "title": f"Variance per month, billing minus NetSuite ({money.label})",
    }


def last_report() -> tuple[dict | None, object | None]:
    """The latest reconciliation that finished, from any page, the CLI or cron."""
    from sqlalchemy import select

    from addon.extension import session
    from addon.models import SyncRun

    run = session().scalar(
        select(SyncRun)
        .where(SyncRun.operation == "reconcile", SyncRun.status == "succeeded", SyncRun.result.is_not(None))
        .order_by(SyncRun.id.desc())
        .limit(1)
    )
    return (run.result, run) if run is not None else (None, None)


def _page(form, raw: dict | None, run=None, status: int = 200, error: str | None = None):
    from addon.views import request_money

    report = normalise(raw) if raw else None
    figure = chart(report["months"], request_money()) if report else None
    page = render_template("netsuite/reconciliation.html", form=form, report=report, chart=figure, run=run,
                           error=error)  # fmt: skip
    return page, status


def render_reconciliation(form, date_from: date | None, date_to: date | None):
    if date_from is None and date_to is None:
        raw, run = last_report()
        return _page(form, raw, run)
    if date_from and date_to and date_from > date_to:
        form.date_to.errors = [*form.date_to.errors, "The end of the period is before its start"]
        return _page(form, None, status=400)
    from addon.sync.operations import run_operation

    params = {"date_from": date_from.isoformat() if date_from else None,
              "date_to": date_to.isoformat() if date_to else None}  # fmt: skip
    try:
        run = run_operation("reconcile", trigger="manual", params=params)
    except (BillingError, NetSuiteError) as exc:
        return _page(form, None, error=f"The reconciliation could not read both systems: {exc}")
    if run.status != "succeeded" or not run.result:
        return _page(form, None, error=f"The reconciliation could not read both systems: {run.message}")
    return _page(form, run.result, run)
