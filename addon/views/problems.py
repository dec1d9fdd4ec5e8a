"""Problems: the causes holding records back, biggest first, each with the page that fixes it."""

from __future__ import annotations

from flask import flash, redirect, render_template, url_for

from addon.billing import BillingError
from addon.forms import ActionForm
from addon.sync.context import SyncContext
from addon.sync.problems import open_problems
from addon.sync.sanity import ConfirmError, confirm_amount
from addon.views import blueprint
from addon.views.helpers import fix_url

MAX_RECORDS_SHOWN = 50


@blueprint.get("/problems")
def problems():
    rows = [
        {"problem": problem, "fix_url": fix_url(problem.fix_kind, problem.fix_ref)}
        for problem in open_problems()
    ]
    return render_template(
        "netsuite/problems.html", rows=rows, max_records=MAX_RECORDS_SHOWN, action_form=ActionForm()
    )


@blueprint.post("/problems/confirm/<entity>/<billing_id>")
def problems_confirm_amount(entity: str, billing_id: str):
    """'This amount is right': a document held as far above the usual range goes out next export."""
    if not ActionForm().validate():
        flash("The form expired; try again.", "error")
        return redirect(url_for("netsuite.problems"))
    try:
        total = confirm_amount(SyncContext.from_settings(), entity, billing_id, confirmed_by="problems page")
    except (ConfirmError, BillingError) as exc:
        flash(f"Not confirmed: {exc}.", "error")
    else:
        flash(
            f"{entity.replace('_', ' ').capitalize()} {billing_id}: {total:.2f} confirmed; the next export sends it.",
            "info",
        )
    return redirect(url_for("netsuite.problems"))
