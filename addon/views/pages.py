"""Dashboard routes."""

from __future__ import annotations

from flask import render_template
from sqlalchemy import select

from addon.extension import session
from addon.models import ConnectionStatus, SyncRun
from addon.views import blueprint


@blueprint.get("/")
def dashboard():
    runs = session().scalars(select(SyncRun).order_by(SyncRun.id.desc()).limit(20)).all()
    connections = session().scalars(select(ConnectionStatus)).all()
    return render_template("netsuite/dashboard.html", runs=runs, connections=connections)
