"""Alerts: a connection that needs attention, a run that failed, and a daily digest of new problems.

Each alert goes to every configured channel: email (SMTP settings) and a generic webhook that
receives Slack-compatible JSON, ``{"text": ...}`` POSTed as application/json, the shape Slack's
incoming webhooks take (docs/settings.md). The SMTP password and the webhook URL (which carries
its own token) are secrets, stored encrypted like every other one.

An alert never stops the work that raised it: a channel that fails is logged (without its
secrets) and the others still get the message.
"""

from __future__ import annotations

import json
import logging
import smtplib
import ssl
import urllib.request
from dataclasses import dataclass
from datetime import timedelta
from email.message import EmailMessage

from addon import settings

log = logging.getLogger(__name__)

TIMEOUT_SECONDS = 10
DIGEST_EVERY = timedelta(hours=24)
# Not a user setting: when the last digest went out.
_LAST_DIGEST_KEY = "_alerts_last_digest"


@dataclass(frozen=True)
class Alert:
    subject: str
    text: str


def channels() -> list[str]:
    """The channels configured now ('email', 'webhook')."""
    found = []
    if settings.get("alert_email_to") and settings.get("smtp_host"):
        found.append("email")
    if settings.get("alert_webhook_url"):
        found.append("webhook")
    return found


def send(alert: Alert) -> dict[str, str]:
    """Send ``alert`` on every configured channel; returns channel -> 'sent' or why not."""
    results = {}
    for channel in channels():
        try:
            (_send_email if channel == "email" else _send_webhook)(alert)
            results[channel] = "sent"
        except (OSError, smtplib.SMTPException, ValueError) as exc:
            # Never the URL or the password: only what failed.
            results[channel] = f"not sent: {type(exc).__name__}: {_safe(exc)}"
            log.warning("alert %r by %s not sent: %s", alert.subject, channel, results[channel])
    return results


def _safe(exc: Exception) -> str:
    text = str(exc)
    for secret in (settings.get("alert_webhook_url"), settings.get("smtp_password")):
        if secret:
            text = text.replace(secret, "••••")
    return text[:300]


def _send_email(alert: Alert) -> None:
    message = EmailMessage()
    message["Subject"] = f"[NetSuite sync] {alert.subject}"
    message["From"] = settings.get("smtp_from") or settings.get("smtp_username") or "netsuite-sync@localhost"
    message["To"] = ", ".join(settings.get("alert_email_to"))
    message.set_content(alert.text)
    host, port, security = settings.get("smtp_host"), settings.get("smtp_port"), settings.get("smtp_security")
    context = ssl.create_default_context()
    if security == "ssl":
        client: smtplib.SMTP = smtplib.SMTP_SSL(host, port, timeout=TIMEOUT_SECONDS, context=context)
    else:
        client = smtplib.SMTP(host, port, timeout=TIMEOUT_SECONDS)
    with client:
        if security == "starttls":
            client.starttls(context=context)
        if settings.get("smtp_username"):
            client.login(settings.get("smtp_username"), settings.get("smtp_password"))
        client.send_message(message)


def _send_webhook(alert: Alert) -> None:
    body = json.dumps({"text": f"*{alert.subject}*\n{alert.text}"}).encode("utf-8")
    request = urllib.request.Request(  # noqa: S310 - the scheme is checked by the setting (http/https)
        settings.get("alert_webhook_url"),
        data=body,
        headers={"Content-Type": "application/json"},
        method="POST",
    )
    with urllib.request.urlopen(request, timeout=TIMEOUT_SECONDS) as response:  # noqa: S310
        if response.status >= 300:
            raise ValueError(f"the webhook answered HTTP {response.status}")


# --------------------------------------------------------------------------- the events


def connection_needs_attention(system: str, message: str) -> dict[str, str]:
    from addon.sync.operations import system_name

    label = system_name(system)
    return send(
        Alert(
            f"The {label} connection needs attention",
            f"{message}\n\nSyncs that need {label} wait until the connection is fixed and tested on the "
            "module config page.",
        )
    )


def run_failed(run) -> dict[str, str]:
    return send(
        Alert(
            f"Run {run.id} ({run.operation.replace('_', ' ')}) failed",
            f"{run.message or 'The run stopped.'}\n\nTrigger: {run.trigger}. The log of run {run.id} "
            "has the details.",
        )
    )


def _claim_digest(seen: str | None, now: str) -> bool:
    """Move the last-digest time from ``seen`` to ``now`` unless another process did first:
    an insert that may collide, or an update conditional on the value read."""
    from sqlalchemy import update
    from sqlalchemy.exc import IntegrityError

    from addon.extension import session
    from addon.models import Setting

    if seen is None:
        try:
            with session().begin_nested():
                session().add(Setting(key=_LAST_DIGEST_KEY, value=now, encrypted=False))
        except IntegrityError:
            session().rollback()
            return False
        session().commit()
        return True
    moved = session().execute(
        update(Setting).where(Setting.key == _LAST_DIGEST_KEY, Setting.value == seen).values(value=now)
    )
    session().commit()
    return moved.rowcount == 1


def new_problems_digest(now=None) -> dict[str, str] | None:
    """Send the digest of problems first seen since the last one, once a day; None when not due
    or nothing is new (app context required)."""
    from datetime import datetime

    from sqlalchemy import func, select

    from addon.extension import session
    from addon.models import Problem, Setting, utcnow
    from addon.sync.problems import open_problems

    now = now or utcnow()
    row = session().get(Setting, _LAST_DIGEST_KEY)
    last = datetime.fromisoformat(row.value) if row is not None and row.value else None
    if last is not None and now - last < DIGEST_EVERY:
        return None
    since = last or now - DIGEST_EVERY
    if not _claim_digest(row.value if row is not None else None, now.isoformat()):
        return None  # another sweeper (a second worker starting at the same time) sends this one
    new = [p for p in open_problems() if p.first_seen >= since]
    if not new or not channels():
        return None
    lines = [f"- {p.title} ({p.count} record{'s' if p.count != 1 else ''})" for p in new]
    still_open = session().scalar(
        select(func.count()).select_from(Problem).where(Problem.resolved.is_(False))
    )
    return send(
        Alert(
            f"{len(new)} new problem{'s' if len(new) != 1 else ''} since {since:%Y-%m-%d %H:%M} UTC",
            "\n".join(lines)
            + f"\n\n{still_open} problem(s) open in all; the problems page says how to fix each.",
        )
    )
