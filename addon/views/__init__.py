"""The add-on's blueprint: every route behind the host's authorization hook and CSRF.

Views are thin: they parse input, call the engine or enqueue a job, and render.
"""

from __future__ import annotations

import logging

import redis.exceptions
from flask import Blueprint, render_template, request
from flask_wtf.csrf import CSRFError, generate_csrf, validate_csrf
from wtforms import ValidationError

from addon.extension import authorize_request
from addon.untrusted import first_control

log = logging.getLogger(__name__)

blueprint = Blueprint(
    "netsuite",
    __name__,
    template_folder="../templates",
    static_folder="../static/netsuite",
    static_url_path="/static",
)

STATE_CHANGING = {"POST", "PUT", "PATCH", "DELETE"}

# No inline scripts or styles anywhere: the pages load their JS and CSS from
# the blueprint's static folder, so the policy can forbid inline code.
CONTENT_SECURITY_POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "object-src 'none'; base-uri 'self'; form-action 'self'; frame-ancestors 'none'"
)


@blueprint.before_request
def require_admin_and_csrf():
    if request.endpoint == "netsuite.static":
        return None  # the stylesheet and script: the host's login page needs them too
    refusal = authorize_request()
    if refusal is not None:
        return refusal
    if request.method in STATE_CHANGING:
        # The add-on checks CSRF on its own routes instead of switching on
        # CSRFProtect for the whole host, which may have its own scheme.
        token = request.form.get("csrf_token") or request.headers.get("X-CSRFToken")
        try:
            validate_csrf(token)
        except ValidationError as exc:
            raise CSRFError(str(exc)) from exc
    # Form input is one entrance for control characters: refused here, for every route.
    hostile = first_control([*request.args.values(), *request.form.values(), *request.form.keys()])
    if hostile is not None:
        return (
            render_template(
                "netsuite/error.html",
                title="Input refused",
                message="A field holds a control character (such as a NUL byte); nothing was changed. "
                "Remove it and try again.",
            ),
            400,
        )
    return None


@blueprint.after_request
def security_headers(response):
    return apply_security_headers(response)


def apply_security_headers(response):
    """The headers every add-on page sends (the portal's login page sends them too)."""
    response.headers.setdefault("Content-Security-Policy", CONTENT_SECURITY_POLICY)
    response.headers.setdefault("X-Content-Type-Options", "nosniff")
    response.headers.setdefault("X-Frame-Options", "DENY")
    response.headers.setdefault("Referrer-Policy", "same-origin")
    response.headers.setdefault("Cache-Control", "no-store")
    return response


@blueprint.errorhandler(CSRFError)
def csrf_refused(error):
    return render_template("netsuite/error.html", title="Form expired", message=error.description), 400


@blueprint.errorhandler(redis.exceptions.ConnectionError)
@blueprint.errorhandler(redis.exceptions.TimeoutError)
def redis_unreachable(error):
    log.warning("Redis unreachable: %s", error)
    message = (
        "Redis, which queues runs and shares locks, is not answering, so this could not be done; "
        "nothing was started. Check that Redis is running (NETSUITE_ADDON_REDIS_URL / REDIS_URL), "
        "then try again."
    )
    return render_template("netsuite/error.html", title="Job queue unreachable", message=message), 503


@blueprint.context_processor
def inject_csrf():
    return {"netsuite_csrf_token": generate_csrf}


# Globals rather than context values, so macros imported without context can format and link too.
@blueprint.app_template_global("ns_money")
def request_money():
    """The request's money formatter (currency and locale read once per request)."""
    from addon.money import Formatter

    # Kept on the request (not on g, which an app context can share between requests).
    if "netsuite.money" not in request.environ:
        request.environ["netsuite.money"] = Formatter.from_settings()
    return request.environ["netsuite.money"]


@blueprint.app_template_global("ns_logout_url")
def logout_url():
    """The host's logout route (config NETSUITE_ADDON_LOGOUT_ENDPOINT), or None when it has none."""
    from flask import current_app, url_for
    from werkzeug.routing import BuildError

    endpoint = current_app.config.get("NETSUITE_ADDON_LOGOUT_ENDPOINT", "portal.logout")
    try:
        return url_for(endpoint) if endpoint else None
    except BuildError:
        return None


@blueprint.app_template_global("ns_progress_text")
def progress_text(run) -> str:
    """A run's progress in words, as the progress JSON gives it (``addon.sync.progress``)."""
    from addon.sync.progress import progress_text as text

    return text(run)


@blueprint.app_template_global("ns_links")
def request_links():
    """The request's deep-link builder (templates and hosts read once per request)."""
    from addon.deep_links import Links

    if "netsuite.links" not in request.environ:
        request.environ["netsuite.links"] = Links.from_settings()
    return request.environ["netsuite.links"]


from addon.views import pages  # noqa: E402,F401  (routes register on import)
