"""Module config, OAuth 2.0 certificate: generate a key pair, download the certificate, activate it."""

from __future__ import annotations

from flask import Response, flash, redirect, request, url_for

from addon.extension import session
from addon.netsuite.certificates import DEFAULT_KEY_TYPE, KEY_TYPES
from addon.sync import certificate_rotation
from addon.views import blueprint

ANCHOR = "oauth2-certificate"


def _back():
    return redirect(url_for("netsuite.config", _anchor=ANCHOR))


@blueprint.post("/config/certificate/generate")
def certificate_generate():
    key_type = request.form.get("key_type", DEFAULT_KEY_TYPE)
    if key_type not in KEY_TYPES:
        flash("Choose one of the offered key types.", "error")
        return _back()
    info = certificate_rotation.generate_pending(key_type)
    flash(
        f"New {info.key} key pair generated. Download the certificate, map it in NetSuite, "
        "then enter the certificate ID NetSuite shows. The current key stays in use until then.",
        "info",
    )
    return _back()


@blueprint.get("/config/certificate/<which>.pem")
def certificate_download(which: str):
    if which not in ("pending", "active"):
        flash("Unknown certificate.", "error")
        return _back()
    try:
        pem = certificate_rotation.certificate_pem(which)
    except certificate_rotation.RotationError as exc:
        flash(f"Nothing to download: {exc}.", "error")
        return _back()
    return Response(
        pem,
        mimetype="application/x-pem-file",
        headers={"Content-Disposition": f'attachment; filename="netsuite-sync-{which}-certificate.pem"'},
    )


@blueprint.post("/config/certificate/activate")
def certificate_activate():
    try:
        message = certificate_rotation.activate(request.form.get("certificate_id", ""))
    except certificate_rotation.RotationError as exc:
        session().rollback()
        flash(f"Not activated: {exc}", "error")
        return _back()
    flash(message, "info")
    return _back()


@blueprint.post("/config/certificate/discard")
def certificate_discard():
    certificate_rotation.discard_pending()
    flash("The new key pair was discarded; the current one stays in use.", "info")
    return _back()
