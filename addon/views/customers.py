"""Customers manual pairing: find a NetSuite customer in the cache, pair it with a billing customer."""

from __future__ import annotations

from flask import flash, redirect, render_template, request, url_for
from sqlalchemy import select

from addon.billing import BillingError
from addon.extension import session
from addon.forms import ActionForm, CustomerSearchForm, PairForm
from addon.models import Link, ListCache
from addon.netsuite import NetSuiteError
from addon.splynx import SplynxError
from addon.sync import matching
from addon.sync.context import SyncContext
from addon.views import blueprint

ENGINE_ERRORS = (BillingError, SplynxError, NetSuiteError, LookupError, ValueError)


@blueprint.get("/customers")
def customers():
    search = CustomerSearchForm(formdata=request.args)
    query = (search.q.data or "").strip()
    results = matching.search_netsuite_customers(query) if query else []
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
    pair_form = PairForm(formdata=None, billing_id=request.args.get("billing_id", ""))
    return render_template(
        "netsuite/customers.html",
        search=search,
        query=query,
        results=results,
        cached=cached,
        paired=paired,
        names=names,
        pair_form=pair_form,
        action_form=ActionForm(),
    )


@blueprint.post("/customers/pair")
def customers_pair():
    form = PairForm()
    back = url_for("netsuite.customers", q=request.form.get("q", ""))
    if not form.validate():
        for field in (form.billing_id, form.netsuite_id):
            for error in field.errors:
                flash(f"{field.label.text}: {error}", "error")
        return redirect(back)
    try:
        matching.pair_customer(
            form.billing_id.data.strip(), form.netsuite_id.data.strip(), ctx=SyncContext.from_settings()
        )
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
