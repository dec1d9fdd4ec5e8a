"""Problems: the causes holding records back, biggest first, each with the page that fixes it."""

from __future__ import annotations

from flask import render_template

from addon.sync.problems import open_problems
from addon.views import blueprint
from addon.views.helpers import fix_url

MAX_RECORDS_SHOWN = 50


@blueprint.get("/problems")
def problems():
    rows = [
        {"problem": problem, "fix_url": fix_url(problem.fix_kind, problem.fix_ref)}
        for problem in open_problems()
    ]
    return render_template("netsuite/problems.html", rows=rows, max_records=MAX_RECORDS_SHOWN)
