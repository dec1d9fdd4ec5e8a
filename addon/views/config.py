"""Module config: every setting, generated from the setting specs, and test-connection."""

from __future__ import annotations

from flask import flash, redirect, render_template, url_for

from addon import settings
from addon.extension import session
from addon.forms import AUTH_MODE_FIELDS, ActionForm, config_form_class
from addon.models import ConnectionStatus
from addon.sync.connections import SYSTEMS, check_connection
from addon.views import blueprint

SYSTEM_LABELS = {"netsuite": "NetSuite", "splynx": "Splynx"}


def _render(form, status: int = 200):
    form.forget_secrets()
    statuses = {row.system: row for row in session().query(ConnectionStatus).all()}
    sources = {item.key: settings.source(item.key) for item in settings.SPECS}
    return (
        render_template(
            "netsuite/config.html",
            form=form,
            action_form=ActionForm(),
            systems=[(key, SYSTEM_LABELS[key], statuses.get(key)) for key in SYSTEMS],
            sources=sources,
            auth_fields={key: mode for mode, keys in AUTH_MODE_FIELDS.items() for key in keys},
        ),
        status,
    )


@blueprint.get("/config")
def config():
    form = config_form_class()(formdata=None)
    form.load_saved()
    return _render(form)


@blueprint.post("/config")
def config_save():
    form = config_form_class()()
    if not form.validate():
        flash("Nothing was saved: correct the fields marked below.", "error")
        return _render(form, 400)
    try:
        settings.put_many(form.cleaned)
    except settings.SettingError as exc:  # a spec refusing what validate accepted: keep the page usable
        session().rollback()
        flash(f"Nothing was saved: {exc}", "error")
        return _render(form, 400)
    flash("Settings saved.", "info")
    return redirect(url_for("netsuite.config"))


@blueprint.post("/config/test/<system>")
def config_test(system: str):
    if system not in SYSTEMS:
        flash("Unknown system.", "error")
        return redirect(url_for("netsuite.config"))
    ActionForm().validate()
    ok, line = check_connection(system)
    flash(f"{SYSTEM_LABELS[system]}: {line}", "info" if ok else "error")
    return redirect(url_for("netsuite.config", _anchor=f"test-{system}"))
