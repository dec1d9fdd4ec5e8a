"""The Splynx webhook receiver: the one add-on route outside the host's admin login.

It is authenticated by the signature alone: ``X-Splynx-Signature`` must be the HMAC-SHA1 of
the raw body keyed with the hook secret (docs/splynx-webhooks.md), compared in constant time.
That is also why it carries no CSRF token: a forged cross-site POST cannot sign its body.
It stores the event, commits, and answers; it never calls NetSuite or Splynx.
"""

from __future__ import annotations

import hashlib
import hmac
import logging

from flask import Blueprint, Response, request

from addon import settings
from addon.sync import live
from addon.views import security_headers

log = logging.getLogger(__name__)

hooks = Blueprint("netsuite_hooks", __name__)
hooks.after_request(security_headers)

# Splynx events carry one record's attributes: a few kilobytes. Anything far bigger is not one.
MAX_BODY = 256 * 1024
CONTENT_TYPES = ("application/json", "application/x-www-form-urlencoded")


def _answer(status: int, text: str) -> Response:
    return Response(text + "\n", status=status, mimetype="text/plain")


def signature_of(secret: str, body: bytes) -> str:
    return hmac.new(secret.encode(), body, hashlib.sha1).hexdigest()


def _signed(body: bytes) -> bool:
    secret = settings.get("splynx_hook_secret")
    given = (request.headers.get("X-Splynx-Signature") or "").strip().lower()
    if not secret or not given:
        return False
    return hmac.compare_digest(signature_of(secret, body).encode(), given.encode("utf-8", "replace"))


@hooks.post("/splynx")
def splynx():
    if (request.content_length or 0) > MAX_BODY:
        return _answer(413, f"body larger than {MAX_BODY} bytes")
    body = request.stream.read(MAX_BODY + 1)
    if len(body) > MAX_BODY:
        return _answer(413, f"body larger than {MAX_BODY} bytes")
    if not _signed(body):
        return _answer(401, "Unauthorized: missing or wrong X-Splynx-Signature")
    if request.mimetype not in CONTENT_TYPES:
        return _answer(415, f"content type must be one of {', '.join(CONTENT_TYPES)}")
    try:
        payload = live.parse_body(body, request.mimetype)
    except live.BadPayload as exc:
        return _answer(400, str(exc))
    kind = payload.get("type")
    if kind == "ping":
        return _answer(200, "ok")
    if kind != "event":
        return _answer(400, "type must be ping or event")
    event = live.record_event(payload)  # committed: from here a crash loses nothing
    if event.status == "waiting" and event.entity is not None:  # waiting: its entity is known
        from addon.runs import dispatcher

        try:
            dispatcher().nudge_live([event.entity])
        except Exception:  # stored all the same; the next event or run end starts its run
            log.warning("could not start the live %s run", event.entity, exc_info=True)
    return _answer(200, "ok")
