"""Synchronization logs: filtered, paginated, exportable as CSV."""

from __future__ import annotations

import csv
import io
from datetime import datetime, time, timedelta

from flask import Response, render_template, request, stream_with_context
from sqlalchemy import func, select

from addon.extension import session
from addon.forms import LogFilterForm, parsed_date
from addon.models import LogEntry
from addon.sync import entities
from addon.views import blueprint
from addon.views.helpers import paginate

CSV_COLUMNS = (
    "created_at",
    "run_id",
    "entity",
    "billing_id",
    "netsuite_id",
    "direction",
    "action",
    "outcome",
    "message",
)
CSV_BATCH = 1000
# Filter values that stand for several outcomes: what never reached NetSuite, for whatever reason.
NOT_SYNCED = {"not_synced": ("failed", "skipped", "negative_total", "held")}


def _filtered(form: LogFilterForm):
    query = select(LogEntry)
    if form.run.data:
        query = query.where(LogEntry.run_id == int(form.run.data))
    if form.entity.data:
        query = query.where(LogEntry.entity == form.entity.data)
    if form.outcome.data in NOT_SYNCED:
        query = query.where(LogEntry.outcome.in_(NOT_SYNCED[form.outcome.data]))
    elif form.outcome.data:
        query = query.where(LogEntry.outcome == form.outcome.data)
    if form.billing_id.data:
        query = query.where(LogEntry.billing_id == form.billing_id.data.strip())
    if start := parsed_date(form.date_from):
        query = query.where(LogEntry.created_at >= datetime.combine(start, time.min))
    if end := parsed_date(form.date_to):
        query = query.where(LogEntry.created_at < datetime.combine(end + timedelta(days=1), time.min))
    return query


@blueprint.get("/logs")
def logs():
    form = LogFilterForm(formdata=request.args)
    if not form.validate():
        return render_template("netsuite/logs.html", form=form, page=None, entities=entities.labels()), 400
    query = _filtered(form)
    page = paginate(query.order_by(LogEntry.id.desc()), select(func.count()).select_from(query.subquery()))
    return render_template("netsuite/logs.html", form=form, page=page, entities=entities.labels())


def _csv_cell(value) -> str:
    text = "" if value is None else str(value)
    # A cell starting with = + - @ would run as a formula in a spreadsheet.
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text


@blueprint.get("/logs.csv")
def logs_csv():
    form = LogFilterForm(formdata=request.args)
    if not form.validate():
        return render_template("netsuite/logs.html", form=form, page=None, entities=entities.labels()), 400
    query = _filtered(form).order_by(LogEntry.id)

    def rows():
        buffer = io.StringIO()
        writer = csv.writer(buffer)
        writer.writerow(CSV_COLUMNS)
        last_id = 0
        while True:
            batch = session().scalars(query.where(LogEntry.id > last_id).limit(CSV_BATCH)).all()
            for entry in batch:
                writer.writerow([_csv_cell(getattr(entry, column)) for column in CSV_COLUMNS])
            yield buffer.getvalue()
            buffer.seek(0)
            buffer.truncate()
            if len(batch) < CSV_BATCH:
                return
            last_id = batch[-1].id

    return Response(
        stream_with_context(rows()),
        mimetype="text/csv",
        headers={"Content-Disposition": "attachment; filename=netsuite-sync-log.csv"},
    )
