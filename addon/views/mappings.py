"""Mapping pages: accounting categories (with the auto-map preview), bank accounts, tax rates, segments.

Every page posts the same shape of form, one select per row named
``map:<kind>:<billing id>`` (billing id empty for a default), so one handler
saves them all through the engine's ``save_mapping``/``unmap``.
"""

from __future__ import annotations

from flask import abort, flash, redirect, render_template, request, url_for

from addon import settings
from addon.billing import BillingError
from addon.extension import session
from addon.forms import ActionForm
from addon.models import ListCache, SyncRun
from addon.netsuite import NetSuiteError
from addon.splynx import SplynxError
from addon.sync import mappings as engine
from addon.sync.context import SyncContext
from addon.sync.impact import SCOPES
from addon.sync.impact import preview as preview_change
from addon.views import blueprint

# Mapping page -> the mapping kinds it edits.
MAPPING_PAGES = {
    "categories": ("category",),
    "bank-accounts": ("payment_method", "default_bank_account"),
    "tax-rates": ("tax_rate",),
    "segments": ("default_class", "default_department", "default_location", "default_terms"),
}
PAGE_TITLES = {
    "categories": "Accounting categories",
    "bank-accounts": "Bank accounts",
    "tax-rates": "Tax rates",
    "segments": "Classes, departments, locations and terms",
}
KIND_TITLES = {
    "category": "Transaction category → NetSuite item",
    "payment_method": "Payment method → NetSuite bank account",
    "default_bank_account": "Default bank account",
    "tax_rate": "Tax rate → NetSuite tax code",
    "default_class": "Default class",
    "default_department": "Default department",
    "default_location": "Default location",
    "default_terms": "Default terms",
}
DEFAULT_KINDS = {kind for kind in KIND_TITLES if kind.startswith("default_")}
SEGMENT_OF = {
    "default_class": "class",
    "default_department": "department",
    "default_location": "location",
    "default_terms": "terms",
}
FIELD_PREFIX = "map:"


def options(kind: str) -> list[ListCache]:
    """The NetSuite values a row of ``kind`` may map to, from the cache 'Load mappings' fills."""
    return engine.cached(engine.mapping_kind(kind).netsuite_list, active_only=True)


def _sections(page: str, ctx: SyncContext) -> list[dict]:
    sections = []
    for kind in MAPPING_PAGES[page]:
        rows = engine.mapping_rows(kind, ctx=ctx)
        sections.append(
            {
                "kind": kind,
                "title": KIND_TITLES[kind],
                "rows": rows,
                "options": options(kind),
                "is_default": kind in DEFAULT_KINDS,
                "mandatory": SEGMENT_OF.get(kind) in (settings.get("mandatory_segments") or []),
            }
        )
    return sections


def _preview(run_id: int | None) -> tuple[SyncRun | None, dict[str, str]]:
    """The auto-map run and its proposed pairs (billing id -> NetSuite id) once it finished."""
    if not run_id:
        return None, {}
    run = session().get(SyncRun, run_id)
    if run is None or run.operation != "automap_categories":
        return None, {}
    proposed = {}
    for pair in (run.result or {}).get("pairs", []):
        if pair.get("status") == "proposed" and pair.get("item_id"):
            proposed[str(pair["category_id"])] = str(pair["item_id"])
    return run, proposed


@blueprint.get("/mappings/")
def mappings_index():
    return redirect(url_for("netsuite.mappings", page="categories"))


@blueprint.get("/mappings/<page>")
def mappings(page: str):
    if page not in MAPPING_PAGES:
        abort(404)
    preview_run, proposed = (
        _preview(request.args.get("preview", type=int)) if page == "categories" else (None, {})
    )
    error = None
    try:
        sections = _sections(page, SyncContext.from_settings())
    except (BillingError, SplynxError, NetSuiteError) as exc:
        sections, error = [], f"The billing system's lists could not be read: {exc}"
    return render_template(
        "netsuite/mappings.html",
        page=page,
        pages=PAGE_TITLES,
        title=PAGE_TITLES[page],
        sections=sections,
        error=error,
        form=ActionForm(),
        preview_run=preview_run,
        proposed=proposed,
        field_prefix=FIELD_PREFIX,
    )


@blueprint.post("/mappings/<page>")
def mappings_save(page: str):
    if page not in MAPPING_PAGES:
        abort(404)
    ActionForm().validate()
    ctx = SyncContext.from_settings()
    kinds = MAPPING_PAGES[page]
    names = {}
    for kind in kinds:
        for row in engine.mapping_rows(kind, ctx=ctx):
            names[(kind, row.billing_id)] = (row.billing_name, row.netsuite_id)
    allowed = {kind: {item.netsuite_id for item in options(kind)} for kind in kinds}
    changes, errors = [], []
    for key, value in request.form.items():
        if not key.startswith(FIELD_PREFIX):
            continue
        kind, _, billing_id = key[len(FIELD_PREFIX) :].partition(":")
        if kind not in kinds or (kind, billing_id) not in names:
            errors.append(f"Unknown row {billing_id or 'default'} of {kind}.")
            continue
        value = value.strip()
        name, current = names[(kind, billing_id)]
        if value and value not in allowed[kind]:
            errors.append(
                f"{name or 'Default'}: choose a value from the list (load mappings again if it is missing)."
            )
            continue
        if value != str(current or ""):
            changes.append((kind, billing_id, name, value))
    if errors:
        for message in errors:
            flash(message, "error")
        flash("Nothing was saved.", "error")
        return redirect(url_for("netsuite.mappings", page=page))
    scope = request.form.get("scope")
    impact = None
    if changes:
        try:
            impact = preview_change(ctx, mappings={(k, b): v or None for k, b, _, v in changes})
        except (BillingError, SplynxError) as exc:
            flash(
                f"Nothing was saved: the records this change touches could not be counted ({exc}).", "error"
            )
            return redirect(url_for("netsuite.mappings", page=page))
        if impact.total and scope not in SCOPES:
            # Records already in NetSuite would change: say how many and let the accountant choose.
            return _impact_page(page, changes, impact)
    try:
        for kind, billing_id, name, value in changes:
            if value:
                engine.save_mapping(kind, billing_id, value, billing_name=name)
            else:
                engine.unmap(kind, billing_id)
    except (BillingError, SplynxError, NetSuiteError, engine.MappingError) as exc:
        session().rollback()
        flash(f"Saving stopped: {exc}", "error")
        return redirect(url_for("netsuite.mappings", page=page))
    flash(f"Saved {len(changes)} mapping change(s)." if changes else "Nothing changed.", "info")
    if impact is not None and impact.total:
        flash(_apply_scope(impact, scope), "info")
    return redirect(url_for("netsuite.mappings", page=page))


def _apply_scope(impact, scope: str | None) -> str:
    """Carry out the accountant's choice for the records already in NetSuite; the sentence to show."""
    if scope == "all":
        return f"{impact.summary()[len('This change would update ') :].rstrip('.')}: the next export updates them."
    kept = impact.keep_posted()
    session().commit()
    return f"New records only: {kept} record(s) already in NetSuite keep what was posted."


def _impact_page(page: str, changes, impact):
    kinds = {change[0] for change in changes}
    names = {kind: {item.netsuite_id: item.name for item in options(kind)} for kind in kinds}
    rows = [
        {
            "what": f"{KIND_TITLES[kind]}: {name or 'Default'}",
            "to": names[kind].get(value, value) if value else "not mapped",
        }
        for kind, billing_id, name, value in changes
    ]
    hidden = [(key, value) for key, value in request.form.items() if key.startswith(FIELD_PREFIX)]
    return render_template(
        "netsuite/change_preview.html",
        title=PAGE_TITLES[page],
        action=url_for("netsuite.mappings_save", page=page),
        back=url_for("netsuite.mappings", page=page),
        changes=rows,
        impact=impact,
        scopes=SCOPES,
        hidden=hidden,
        form=ActionForm(),
    )


@blueprint.post("/mappings/categories/automap")
def mappings_automap():
    from addon.runs import AlreadyRunning, dispatcher

    ActionForm().validate()
    try:
        run = dispatcher().submit("automap_categories", trigger="manual", dry_run=True)
    except AlreadyRunning as exc:
        flash(str(exc), "error")
        return redirect(url_for("netsuite.mappings", page="categories"))
    return redirect(url_for("netsuite.mappings", page="categories", preview=run.id))
