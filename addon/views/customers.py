"""Customers manual pairing: find a NetSuite customer in the cache, pair it with a billing customer."""

from __future__ import annotations

from flask import flash, redirect, render_template, request, url_for
from sqlalchemy import select

from addon.billing import BillingError, BillingNotFound
from addon.extension import session
from addon.forms import ActionForm, CustomerSearchForm, PairForm
from addon.models import Link, ListCache
from addon.netsuite import NetSuiteError
from addon.splynx import SplynxError
from addon.sync import matching
from addon.sync.addresses import billing_address
from addon.sync.context import SyncContext
from addon.sync.suggestions import addresses_loaded, suggest
from addon.views import blueprint

ENGINE_ERRORS = (BillingError, SplynxError, NetSuiteError, LookupError, ValueError)


BILLING_PAGE = 20
NETSUITE_PAGE = 25
# The billing search reads customers until it has a page of matches or has read this many.
BILLING_SCAN_LIMIT = 5000


def _billing_search(ctx: SyncContext, text: str, after: int | None) -> dict:
    """Billing customers whose name, login, email or id holds ``text``: one page, and where to go on."""
    needle = text.casefold()
    found, scanned, last_seen = [], 0, after
    for item in ctx.billing.customers(id_above=after):
        scanned += 1
        last_seen = item.id
        values = (str(item.id), item.name, item.login, item.email, item.billing_email)
        if any(needle in (v or "").casefold() for v in values):
            found.append(item)
            if len(found) == BILLING_PAGE:
                break
        if scanned >= BILLING_SCAN_LIMIT:
            break
    full = len(found) == BILLING_PAGE
    cut = scanned >= BILLING_SCAN_LIMIT and not full
    return {
        "items": found,
        "scanned": scanned,
        "cut_off": cut,
        "next_after": last_seen if (full or cut) else None,
    }


@blueprint.get("/customers")
def customers():
    search = CustomerSearchForm(formdata=request.args)
    query = (search.q.data or "").strip()
    who = (request.args.get("who") or "").strip()[:200]
    after = request.args.get("after", type=int)
    chosen_id = (request.args.get("billing_id") or "").strip()
    offset = max(0, request.args.get("start", 0, type=int))
    # One more than a page: whether there is a next page, without counting every match.
    results = (
        matching.search_netsuite_customers(query, limit=NETSUITE_PAGE + 1, offset=offset) if query else []
    )
    more = len(results) > NETSUITE_PAGE
    results = results[:NETSUITE_PAGE]
    cached = session().scalar(select(ListCache.id).where(ListCache.kind == "customer").limit(1)) is not None
    paired = (
        session()
        .scalars(
            select(Link).where(Link.entity == "customer", Link.status == "paired").order_by(Link.billing_id)
        )
        .all()
    )
    names = {
        row.netsuite_id: row.name
        for row in session().scalars(
            select(ListCache).where(
                ListCache.kind == "customer", ListCache.netsuite_id.in_([link.netsuite_id for link in paired])
            )
        )
    }
    chosen, suggestions, billing_found, error = None, [], None, None
    try:
        ctx = SyncContext.from_settings()
        if chosen_id.isdigit():
            try:
                chosen = ctx.billing.get_customer(int(chosen_id))
            except BillingNotFound:
                error = (
                    f"Billing has no customer {chosen_id}: search for the customer by name, login or email."
                )
            else:
                suggestions = suggest(chosen)
        elif chosen_id:
            error = "A billing customer is chosen by its number, e.g. 1042."
        if who:
            billing_found = _billing_search(ctx, who, after)
    except ENGINE_ERRORS as exc:
        error = f"The billing system could not be read: {exc}"
    pair_form = PairForm(formdata=None, billing_id=chosen_id if chosen is not None else "")
    return render_template(
        "netsuite/customers.html",
        search=search,
        query=query,
        who=who,
        results=results,
        results_from=offset,
        results_more=more,
        results_page=NETSUITE_PAGE,
        cached=cached,
        paired=paired,
        names=names,
        chosen=chosen,
        suggestions=suggestions,
        chosen_address=billing_address(chosen) if chosen is not None else None,
        addresses_loaded=addresses_loaded(),
        billing_found=billing_found,
        error=error,
        pair_form=pair_form,
        action_form=ActionForm(),
    )


@blueprint.post("/customers/pair")
def customers_pair():
    form = PairForm()
    back = url_for(
        "netsuite.customers",
        q=request.form.get("q") or None,
        billing_id=request.form.get("billing_id") or None,
    )
    if not form.validate():
        for field in (form.billing_id, form.netsuite_id):
            for error in field.errors:
                flash(f"{field.label.text}: {error}", "error")
        return redirect(back)
    billing_id = form.billing_id.data.strip()
    try:
        ctx = SyncContext.from_settings()
        ctx.billing.get_customer(int(billing_id))  # a customer billing does not have is refused
    except BillingNotFound:
        flash(f"Not paired: billing has no customer {billing_id}.", "error")
        return redirect(url_for("netsuite.customers"))
    except ENGINE_ERRORS as exc:
        flash(f"Not paired: the billing system could not be read: {exc}", "error")
        return redirect(back)
    try:
        matching.pair_customer(billing_id, form.netsuite_id.data.strip(), ctx=ctx)
    except ENGINE_ERRORS as exc:
        session().rollback()
        flash(f"Not paired: {exc}", "error")
        return redirect(back)
    flash(f"Billing customer {form.billing_id.data.strip()} is now paired.", "info")
    return redirect(back)


@blueprint.post("/customers/unpair")
def customers_unpair():
    ActionForm().validate()
    billing_id = (request.form.get("billing_id") or "").strip()
    if not billing_id:
        flash("Choose a paired customer to unpair.", "error")
        return redirect(url_for("netsuite.customers"))
    try:
        matching.unpair_customer(billing_id, ctx=SyncContext.from_settings())
    except ENGINE_ERRORS as exc:
        session().rollback()
        flash(f"Not unpaired: {exc}", "error")
        return redirect(url_for("netsuite.customers"))
    flash(f"Billing customer {billing_id} is no longer paired.", "info")
    return redirect(url_for("netsuite.customers"))
