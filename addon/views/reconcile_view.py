"""The reconciliation page: both sides' counts and totals for a period, and a monthly bar chart.

The chart is inline SVG computed here, so the page needs no script and no
inline style (the CSP forbids both).
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from flask import render_template

from addon.billing import BillingError
from addon.netsuite import NetSuiteError
from addon.splynx import SplynxError
from addon.sync.context import SyncContext
from addon.views.helpers import ENTITY_LABELS

CHART_WIDTH, CHART_HEIGHT, CHART_LEFT, CHART_BOTTOM = 640, 220, 4, 20


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
    rows = []
    for entity, side in (raw.get("entities") or {}).items():
        rows.append(
            {
                "label": ENTITY_LABELS.get(entity, entity),
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
            "label": ENTITY_LABELS.get(d.get("entity"), d.get("entity")),
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


def chart(months: list[dict]) -> dict | None:
    """Bar geometry for billing vs NetSuite per month (two bars per month, shared scale)."""
    if not months:
        return None
    peak = max(max(abs(m["billing"]), abs(m["netsuite"])) for m in months) or Decimal(1)
    plot_h = CHART_HEIGHT - CHART_BOTTOM - 14
    slot = (CHART_WIDTH - CHART_LEFT) / len(months)
    bar_w = max(2.0, slot * 0.38)
    base = CHART_HEIGHT - CHART_BOTTOM
    bars, labels = [], []
    for i, m in enumerate(months):
        x0 = CHART_LEFT + i * slot + slot * 0.1
        for j, side in enumerate(("billing", "netsuite")):
            value = m[side]
            h = float(abs(value) / peak) * plot_h
            bars.append(
                {"x": round(x0 + j * bar_w, 1), "y": round(base - h, 1), "w": round(bar_w, 1),
                 "h": round(h, 1), "side": side, "month": m["month"], "value": value}
            )  # fmt: skip
        labels.append({"x": round(x0, 1), "text": str(m["month"])[-5:]})
    return {"width": CHART_WIDTH, "height": CHART_HEIGHT, "left": CHART_LEFT, "base": base,
            "bars": bars, "labels": labels, "max": peak}  # fmt: skip


def render_reconciliation(form, date_from: date | None, date_to: date | None):
    if date_from is None and date_to is None:
        return render_template("netsuite/reconciliation.html", form=form, report=None, chart=None)
    if date_from and date_to and date_from > date_to:
        form.date_to.errors = [*form.date_to.errors, "The end of the period is before its start"]
        return render_template("netsuite/reconciliation.html", form=form, report=None, chart=None), 400
    from addon.sync.reconcile import reconciliation

    try:
        report = normalise(reconciliation(SyncContext.from_settings(), date_from, date_to))
    except (BillingError, SplynxError, NetSuiteError) as exc:
        return render_template(
            "netsuite/reconciliation.html", form=form, report=None, chart=None,
            error=f"The reconciliation could not read both systems: {exc}",
        )  # fmt: skip
    return render_template(
        "netsuite/reconciliation.html", form=form, report=report, chart=chart(report["months"])
    )
