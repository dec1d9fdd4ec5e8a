"""Login throttling (Flask-Limiter): failed logins counted per client address and per username.

Counters live in Redis when ``REDIS_URL`` is set, so every web process shares them; in
memory otherwise (one process). Only failed attempts count: an admin who types the right
password is never locked out by their own earlier successes.
"""

from __future__ import annotations

import os

from flask import Flask, render_template, request
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address

# An attacker guessing one admin's password from many addresses meets the username limit;
# one address trying many usernames meets the address limit.
PER_USERNAME = "5 per minute; 30 per hour"
PER_ADDRESS = "20 per minute; 100 per hour"

limiter = Limiter(key_func=get_remote_address, default_limits=[], key_prefix="netsuite-sync-login")


def _failed(response) -> bool:
    # A successful login redirects; a refused one renders the form again (or a 400).
    return response.status_code != 302


def _username() -> str:
    return (request.form.get("username") or "").strip().lower()[:80]


def login_limits(view):
    """Both limits on the login view, counted on POSTs that fail."""
    view = limiter.limit(PER_ADDRESS, methods=["POST"], deduct_when=_failed, scope="login-address")(view)
    return limiter.limit(
        PER_USERNAME, key_func=_username, methods=["POST"], deduct_when=_failed, scope="login-username"
    )(view)


def init_app(app: Flask) -> None:
    app.config.setdefault("RATELIMIT_STORAGE_URI", os.environ.get("REDIS_URL") or "memory://")
    # Redis away: count in memory rather than refuse every login with a 500.
    app.config.setdefault("RATELIMIT_SWALLOW_ERRORS", True)
    app.config.setdefault("RATELIMIT_IN_MEMORY_FALLBACK_ENABLED", True)
    app.config.setdefault("RATELIMIT_HEADERS_ENABLED", True)
    limiter.init_app(app)

    @app.errorhandler(429)
    def too_many(error):
        return (
            render_template(
                "portal/throttled.html",
                limit=getattr(error, "description", ""),
            ),
            429,
            {"Retry-After": "60"},
        )
