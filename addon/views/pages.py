"""Dashboard routes: the operation cards, their runs and live progress, reconciliation."""

from __future__ import annotations

from flask import abort, flash, jsonify, redirect, render_template, request, url_for
from sqlalchemy import func, select

from addon.extension import session
from addon.forms import ReconcileForm, RunForm, parsed_date
from addon.models import ConnectionStatus, ListCache, Problem, ProblemRecord, SyncRun
from addon.runs import AlreadyRunning, dispatcher, run_progress, waiting_for
from addon.sync import entities
from addon.sync.live import live_status
from addon.sync.operations import dashboard_cards
from addon.views import blueprint
from addon.views.helpers import ACTIVE_STATUSES
from addon.views.schedule_info import last_runs, next_run


def sync_counts() -> list[dict]:
    """Per entity: records linked to NetSuite, and records whose last export failed or was held back."""
    from addon.views.records import _state_ids

    def count(entity: str, state: str) -> int:
        return session().scalar(select(func.count()).select_from(_state_ids(entity, state).subquery())) or 0

    return [
        {"entity": entity, "label": label, "synced": count(entity, "synced"), "failed": count(entity, "failed"),
         "held_back": count(entity, "held_back"), "ignored": count(entity, "ignored")}
        for entity, label in entities.labels().items()
    ]  # fmt: skip


def export_setting_warnings() -> list[dict]:
    """Settings the exports need but that are not chosen yet: message and the config field to fix."""
    from addon import settings

    warnings = []
    subsidiaries = session().scalar(
        select(func.count())
        .select_from(ListCache)
        .where(ListCache.kind == "subsidiary", ListCache.inactive.is_(False))
    )
    # A OneWorld account refuses a customer without a subsidiary (docs/netsuite-rest.md §4.5); with a single
    # subsidiary NetSuite has only one to choose, so only several make the setting mandatory.
    if not settings.get("subsidiary") and (subsidiaries or 0) > 1:
        warnings.append(
            {
                "message": f"No subsidiary is chosen for new customers and NetSuite has {subsidiaries}: "
                "customer exports will be refused until you choose one.",
                "field": "subsidiary",
            }
        )
    return warnings


def blocking_summary() -> tuple[int, int]:
    """(open problems, records they hold back)."""
    open_problems = session().scalar(
        select(func.count()).select_from(Problem).where(Problem.resolved.is_(False))
    )
    held = session().scalar(
        select(func.count())
        .select_from(ProblemRecord)
        .join(Problem, Problem.id == ProblemRecord.problem_id)
        .where(Problem.resolved.is_(False))
    )
    return open_problems or 0, held or 0


@blueprint.get("/")
def dashboard():
    shown_ops = dashboard_cards()
    runs = last_runs([op.name for op in shown_ops])
    cards = [{"op": op, "last": runs.get(op.name), "next": next_run(op.name)} for op in shown_ops]
    shown = [last.run for last in runs.values()]
    recent = session().scalars(select(SyncRun).order_by(SyncRun.id.desc()).limit(10)).all()
    queued = session().scalar(select(func.count()).select_from(SyncRun).where(SyncRun.status == "queued"))
    no_worker = bool(queued) and dispatcher().worker_listening() is False
    connections = session().scalars(select(ConnectionStatus).order_by(ConnectionStatus.system)).all()
    open_count, blocked = blocking_summary()
    reconcile_form = ReconcileForm(formdata=request.args)
    return render_template(
        "netsuite/dashboard.html",
        cards=cards,
        recent=recent,
        connections=connections,
        counts=sync_counts(),
        problems=open_count,
        setting_warnings=export_setting_warnings(),
        blocked=blocked,
        form=RunForm(),
        reconcile_form=reconcile_form,
        active=ACTIVE_STATUSES,
        live=live_status(),
        queued=queued or 0,
        no_worker=no_worker,
        waiting=waiting_for(shown + list(recent)),
    )


@blueprint.post("/run")
def run_operation_view():
    form = RunForm()
    name = request.form.get("operation", "")
    op = next((card for card in dashboard_cards() if card.name == name), None)
    if op is None or not form.validate():
        flash("Choose one of the operations on the dashboard.", "error")
        return redirect(url_for("netsuite.dashboard"))
    dry_run = bool(form.dry_run.data) and op.dry_run
    try:
        run = dispatcher().submit(name, trigger="manual", dry_run=dry_run)
    except AlreadyRunning as exc:
        flash(str(exc), "error")
        return redirect(url_for("netsuite.dashboard"))
    flash(f"{op.label} started (run {run.id}){' as a dry run' if dry_run else ''}.", "info")
    return redirect(url_for("netsuite.dashboard", _anchor=f"card-{name}"))


@blueprint.get("/runs/<int:run_id>/progress")
def run_progress_view(run_id: int):
    """JSON for the progress bar: status, phase, done, total, percent, counts, message, finished."""
    if session().get(SyncRun, run_id) is None:
        abort(404)
    return jsonify(run_progress(run_id))


@blueprint.get("/reconciliation")
def reconciliation():
    from addon.views.reconcile_view import render_reconciliation

    form = ReconcileForm(formdata=request.args)
    if request.args and not form.validate():
        return render_template("netsuite/reconciliation.html", form=form, report=None, chart=None), 400
    return render_reconciliation(form, parsed_date(form.date_from), parsed_date(form.date_to))


# The other pages register their routes on import.
from addon.views import certificate, config, customers, logs, mappings, problems, records, tools  # noqa: E402,F401
