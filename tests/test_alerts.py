"""Alerts arrive at a local SMTP server and a local HTTP receiver, for each event that sends one."""

from __future__ import annotations

import json
import socket
import threading
import time
from datetime import timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from aiosmtpd.controller import Controller
from sqlalchemy import select

from addon import alerts, settings
from addon.extension import session
from addon.models import Setting, utcnow

WEBHOOK_PATH = "/hooks/T000/B000/s3cr3t-token"


class _Inbox:
    def __init__(self):
        self.messages: list = []

    async def handle_DATA(self, server, session_, envelope):  # noqa: N802 - aiosmtpd's hook name
        self.messages.append(envelope)
        return "250 OK"


@pytest.fixture
def smtp_server():
    inbox = _Inbox()
    with socket.socket() as probe:  # aiosmtpd's start() connects to its own port: it needs a real one
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    yield controller, inbox
    controller.stop()


@pytest.fixture
def webhook():
    received: list[dict] = []

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self):  # noqa: N802
            body = self.rfile.read(int(self.headers["Content-Length"]))
            received.append(
                {"path": self.path, "type": self.headers["Content-Type"], "json": json.loads(body)}
            )
            self.send_response(200)
            self.end_headers()
            self.wfile.write(b"ok")

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}{WEBHOOK_PATH}", received
    server.shutdown()


def _configure(smtp_server, webhook_url):
    controller, _ = smtp_server
    settings.put_many(
        {
            "alert_email_to": "accounts@example.com, ops@example.com",
            "smtp_host": "127.0.0.1",
            "smtp_port": controller.port,
            "smtp_security": "none",
            "smtp_from": "sync@example.com",
            "alert_webhook_url": webhook_url,
        }
    )


def test_a_connection_that_needs_attention_is_alerted_by_email_and_webhook(configured, smtp_server, webhook):
    url, received = webhook
    _configure(smtp_server, url)
    configured.settings(netsuite_token_secret="wrong")
    from addon.sync.operations import run_operation

    run = run_operation("export_customers")
    assert run.status == "failed"
    _, inbox = smtp_server
    (mail,) = inbox.messages
    assert sorted(mail.rcpt_tos) == ["accounts@example.com", "ops@example.com"]
    content = mail.content.decode()
    assert "The NetSuite connection needs attention" in content and "refused the credentials" in content
    (hook,) = received
    assert hook["path"] == WEBHOOK_PATH and hook["type"] == "application/json"
    assert "NetSuite connection needs attention" in hook["json"]["text"]
    # The webhook URL is a secret: stored encrypted, never in the row as text.
    row = session().get(Setting, "alert_webhook_url")
    assert row.encrypted and "s3cr3t-token" not in row.value


def test_a_run_that_fails_is_alerted(configured, smtp_server, webhook):
    url, received = webhook
    _configure(smtp_server, url)
    configured.settings(splynx_url="http://127.0.0.1:9")  # nothing listens
    from addon.sync.operations import run_operation

    run = run_operation("export_customers")
    assert run.status == "failed"
    _, inbox = smtp_server
    assert len(inbox.messages) == 1 and len(received) == 1
    assert f"Run {run.id} (export customers) failed" in received[0]["json"]["text"]
    assert "could not be reached" in inbox.messages[0].content.decode()


def test_the_daily_digest_lists_new_problems_once_a_day(export_ready, smtp_server, webhook):
    url, received = webhook
    _configure(smtp_server, url)
    export_ready.unmap("tax_rate", export_ready.env.splynx.state.all("taxes")[0]["id"])
    export_ready.run("export_invoices")
    from jobs.sweeper import sweep

    sweep()
    (hook,) = received
    assert "new problem" in hook["json"]["text"] and "is not mapped" in hook["json"]["text"]
    _, inbox = smtp_server
    assert len(inbox.messages) == 1
    sweep()  # not due again for a day
    assert len(received) == 1
    later = utcnow() + timedelta(hours=25)
    assert alerts.new_problems_digest(now=later) is None  # due, but nothing new since


def test_a_channel_that_fails_does_not_stop_the_other(configured, smtp_server, webhook):
    url, received = webhook
    _configure(smtp_server, url)
    settings.put("smtp_port", 9)  # nothing listens there
    results = alerts.send(alerts.Alert("Test", "hello"))
    assert results["webhook"] == "sent"
    assert results["email"].startswith("not sent:")
    assert "s3cr3t-token" not in json.dumps(results)
    assert received


def test_alert_settings_refuse_nonsense(app_ctx):
    for key, value, words in (
        ("alert_email_to", "accounts at example", "not an email address"),
        ("smtp_port", "70000", "between 1 and 65535"),
        ("alert_webhook_url", "hooks.slack.com/x", "starting with https://"),
    ):
        with pytest.raises(settings.SettingError, match=words):
            settings.put(key, value)
    assert session().scalar(select(Setting).where(Setting.key == "alert_email_to")) is None


def _other_sweeper_claims(database_url, statement: str, **values):
    """A second process's transaction that has written the last-digest row but not committed."""
    from sqlalchemy import create_engine, text

    engine = create_engine(database_url)
    conn = engine.connect()
    conn.execute(text(statement), values)
    return engine, conn


def _digest_in_thread(app, now):
    outcome: dict = {}

    def run():
        with app.app_context():
            try:
                outcome["result"] = alerts.new_problems_digest(now=now)
            except Exception as exc:  # what a worker would die of
                outcome["error"] = exc
            finally:
                session().close()

    thread = threading.Thread(target=run)
    thread.start()
    return thread, outcome


def _wait_until_blocked(conn):
    from sqlalchemy import text

    deadline = time.monotonic() + 20
    query = "select count(*) from pg_stat_activity where wait_event_type = 'Lock' and pid <> pg_backend_pid()"
    while conn.execute(text(query)).scalar() == 0:
        assert time.monotonic() < deadline, "the digest never waited for the other sweeper's write"
        time.sleep(0.02)


def test_two_sweepers_at_once_send_one_digest_and_neither_fails(
    export_ready, smtp_server, webhook, database_url, app
):
    """Two workers starting together both sweep: the first digest row, and a due one, are
    claimed by one of them only (the other used to die of a duplicate key, or send it twice)."""
    if not database_url.startswith("postgresql"):
        pytest.skip("waits on PostgreSQL's row locks")
    url, received = webhook
    _configure(smtp_server, url)
    export_ready.unmap("tax_rate", export_ready.env.splynx.state.all("taxes")[0]["id"])
    export_ready.run("export_invoices")
    session().commit()
    first = utcnow() - timedelta(hours=1)  # the problems are newer than the digest the other one sent
    for now, statement in (
        (first, "insert into ns_setting (key, value, encrypted, updated_at) values (:k, :v, false, now())"),
        (first + timedelta(hours=25), "update ns_setting set value = :v where key = :k"),
    ):
        engine, conn = _other_sweeper_claims(
            database_url, statement, k="_alerts_last_digest", v=now.isoformat()
        )
        try:
            thread, outcome = _digest_in_thread(app, now)
            _wait_until_blocked(conn)
            conn.commit()  # the other sweeper sent this digest
            thread.join(timeout=20)
        finally:
            conn.close()
            engine.dispose()
        assert "error" not in outcome, outcome.get("error")
        assert outcome["result"] is None
        assert received == []
