"""Tools: reset the accounting mappings, after a confirmation that names what goes."""

from __future__ import annotations

from flask import flash, redirect, render_template, url_for
from sqlalchemy import func, select

from addon.extension import session
from addon.forms import ResetForm
from addon.models import Mapping
from addon.views import blueprint
from addon.views.mappings import KIND_TITLES


def _what_goes() -> list[tuple[str, int]]:
    counts = dict(session().execute(select(Mapping.kind, func.count()).group_by(Mapping.kind)).all())
    rows = [(title, counts.get(kind, 0)) for kind, title in KIND_TITLES.items()]
    return rows


@blueprint.get("/tools")
def tools():
    return render_template("netsuite/tools.html", form=ResetForm(formdata=None), erased=_what_goes())


@blueprint.post("/tools/reset")
def tools_reset():
    from addon.runs import AlreadyRunning, dispatcher

    form = ResetForm()
    if not form.validate():
        return render_template("netsuite/tools.html", form=form, erased=_what_goes()), 400
    try:
        run = dispatcher().submit("reset_accounting", trigger="manual")
    except AlreadyRunning as exc:
        flash(str(exc), "error")
        return redirect(url_for("netsuite.tools"))
    flash(f"Reset of the accounting mappings started (run {run.id}).", "info")
    return redirect(url_for("netsuite.dashboard"))
