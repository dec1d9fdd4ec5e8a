"""Module config: every setting, generated from the setting specs, and test-connection."""

from __future__ import annotations

from flask import flash, redirect, render_template, request, url_for
from flask import session as browser_session

from addon import settings, validation
from addon.billing import BillingError
from addon.extension import session
from addon.forms import AUTH_MODE_FIELDS, ActionForm, config_form_class
from addon.models import ConnectionStatus
from addon.netsuite import NetSuiteError, default_limit_from_governance
from addon.netsuite.certificates import KEY_TYPES
from addon.sync import certificate_rotation
from addon.sync import impact as impact_engine
from addon.sync.connections import SYSTEMS, check_connection, system_named
from addon.sync.context import SyncContext
from addon.sync.operations import system_name
from addon.views import blueprint

# Where the last successful NetSuite test leaves its concurrency suggestion for the page.
CONCURRENCY_HINT_KEY = "netsuite_concurrency_hint"


def concurrency_hint() -> tuple[str, int] | None:
    """('NetSuite allows N concurrent requests for this account; suggested: N-1', N), from the
    account's governance limits, or None when the role may not read them (docs/netsuite-rest.md §8)."""
    try:
        limits = SyncContext.from_settings().netsuite.governance_limits()
    except NetSuiteError:
        return None
    if not limits:
        return None
    # A limit allocated to this integration is ours alone; otherwise the account's pool is
    # shared with every other integration (default_limit_from_governance leaves them a slot).
    own = limits.get("integrationLimitType") == "integrationSpecific" and limits.get(
        "integrationConcurrencyLimit"
    )
    allowed = own or limits.get("accountConcurrencyLimit")
    if not allowed:
        return None
    scope = "this integration" if own else "this account"
    line = f"NetSuite allows {allowed} concurrent requests for {scope}; suggested: {default_limit_from_governance(limits)}"
    return line, int(allowed)


def _render(form, status: int = 200, impact=None):
    form.forget_secrets()
    statuses = {row.system: row for row in session().query(ConnectionStatus).all()}
    sources = {item.key: settings.source(item.key) for item in settings.specs()}
    return (
        render_template(
            "netsuite/config.html",
            form=form,
            action_form=ActionForm(),
            systems=[(key, system_name(key), statuses.get(key)) for key in SYSTEMS],
            sources=sources,
            auth_fields={key: mode for mode, keys in AUTH_MODE_FIELDS.items() for key in keys},
            concurrency_hint=browser_session.get(CONCURRENCY_HINT_KEY),
            certificate=certificate_rotation.state(),
            key_types=KEY_TYPES,
            impact=impact,
            scopes=impact_engine.SCOPES,
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
    scope = request.form.get("scope")
    changed = {
        key: value
        for key, value in form.cleaned.items()
        if key in impact_engine.SETTING_ENTITIES and value != settings.get(key)
    }
    impact = None
    if changed:
        try:
            impact = impact_engine.preview(SyncContext.from_settings(), settings=changed)
        except BillingError as exc:
            flash(
                f"Nothing was saved: the records this change touches could not be counted ({exc}).", "error"
            )
            return _render(form, 400)
        if impact.total and scope not in impact_engine.SCOPES:
            # Records already in NetSuite would change: say how many, let the accountant choose.
            return _render(form, 200, impact=impact)
    try:
        settings.put_many(form.cleaned)
    except settings.SettingError as exc:  # a spec refusing what validate accepted: keep the page usable
        session().rollback()
        flash(f"Nothing was saved: {exc}", "error")
        return _render(form, 400)
    flash("Settings saved.", "info")
    if impact is not None and impact.total:
        if scope == "all":
            flash(f"{impact.summary()} The next export updates them.", "info")
        else:
            kept = impact.keep_posted()
            session().commit()
            flash(f"New records only: {kept} record(s) already in NetSuite keep what was posted.", "info")
    return redirect(url_for("netsuite.config"))


@blueprint.post("/config/test/<system>")
def config_test(system: str):
    named = system_named(system)
    if named is None:
        flash("Unknown system.", "error")
        return redirect(url_for("netsuite.config"))
    system = named
    ActionForm().validate()
    ok, line = check_connection(system)
    flash(f"{system_name(system)}: {line}", "info" if ok else "error")
    if system == "netsuite":
        hint = concurrency_hint() if ok else None
        if hint:
            browser_session[CONCURRENCY_HINT_KEY] = hint[0]
            # The concurrency setting is then checked against this account's own limit.
            validation.remember_account_limit(hint[1])
        else:
            browser_session.pop(CONCURRENCY_HINT_KEY, None)
    return redirect(url_for("netsuite.config", _anchor=f"test-{system}"))
