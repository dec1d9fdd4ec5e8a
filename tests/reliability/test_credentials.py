"""Refused credentials stop a run at once, with one clear message, and nothing written anywhere;
an OAuth 2.0 access token that expires mid-run is renewed without failing a record."""

from __future__ import annotations

import re
import threading

import pytest

from tests.reliability.audit import audit


def wrong_token_secret(env):
    env.settings(netsuite_token_secret="not-the-token-secret")
    return "NetSuite refused the credentials"


def revoked_token(env):
    env.netsuite.state.revoke_token(env.netsuite.token_id)
    return "NetSuite refused the credentials"


def unknown_account(env):
    env.settings(netsuite_account_id="7654321")
    return "NetSuite refused the credentials"


def wrong_splynx_key(env):
    env.settings(splynx_api_secret="not-the-splynx-secret")
    return "Splynx refused the credentials"


@pytest.mark.parametrize(
    "break_credentials", [wrong_token_secret, revoked_token, unknown_account, wrong_splynx_key]
)
def test_refused_credentials_stop_the_run_at_once_and_write_nothing(
    export_ready, client, auth, break_credentials
):
    from addon.extension import session
    from addon.models import Link, LogEntry, SyncRun
    from addon.sync.operations import run_operation

    env = export_ready.env
    expected = break_credentials(env)
    netsuite, splynx = env.netsuite.state, env.splynx.state
    splynx_writes_before = splynx.request_count("PUT") + splynx.request_count("DELETE")

    run = run_operation("sync")

    assert run.status == "failed"
    assert run.message.startswith(expected) and "\n" not in run.message, run.message
    assert "config" in run.message, "the message does not say where to fix it"
    assert netsuite.counters.writes == 0
    assert splynx.request_count("PUT") + splynx.request_count("DELETE") == splynx_writes_before
    assert session().query(Link).count() == 0
    rows = session().query(LogEntry).filter_by(run_id=run.id).all()
    assert [r for r in rows if r.outcome != "failed" or r.billing_id is not None] == [], (
        "records were attempted"
    )

    # The next run refuses to start until a test-connection succeeds, still writing nothing.
    again = run_operation("sync")
    assert again.status == "failed" and "needs attention" in again.message
    assert netsuite.counters.writes == 0
    assert session().query(SyncRun).filter(SyncRun.status != "failed").count() == 0

    auth.login()
    page = client.get("/netsuite/").get_data(as_text=True)
    # One banner, naming the system whose credentials were refused and the answer it gave.
    banners = re.findall(r"(\w+) connection needs attention: (\w[^<]*)<a", page)
    named = {"netsuite": "NetSuite", "splynx": "Splynx"}[expected.split()[0].lower()]
    assert [system for system, _ in banners] == [named], banners


class ClockJump(threading.Thread):
    """Moves the sandbox's clock forward once NetSuite has taken ``after_writes`` writes,
    so the access token the client holds expires in the middle of the run."""

    def __init__(self, state, after_writes: int, seconds: float):
        super().__init__(daemon=True)
        self.state, self.after_writes, self.seconds = state, after_writes, seconds
        self.offset = 0.0
        self.done = threading.Event()
        import time

        self._time = time.time
        state.clock = lambda: self._time() + self.offset

    def run(self) -> None:
        while not self.done.wait(0.01):
            if self.state.counters.writes >= self.after_writes:
                self.offset = self.seconds
                return


def test_oauth2_token_expiring_mid_run_is_renewed_without_failing_a_record(make_isp, netsuite_client_keypair):
    from addon.sync.operations import run_operation

    setup = make_isp(customers=30, invoices=60, payments=40)
    env = setup.env
    state = env.netsuite.state
    state.oauth2.access_token_ttl = 900
    env.settings(
        netsuite_auth_mode="oauth2",
        netsuite_client_id=env.netsuite.client_id,
        netsuite_certificate_id=env.netsuite.certificate_id,
        netsuite_private_key=env.netsuite.private_key_pem.decode(),
    )
    # Past the token's 900 s in the sandbox's eyes, within the 30-minute assertion the client signs.
    jump = ClockJump(state, after_writes=40, seconds=1000)
    jump.start()
    try:
        run = run_operation("sync")
    finally:
        jump.done.set()
        jump.join()

    assert jump.offset, "the clock never jumped: the run was too short"
    assert run.status == "succeeded", (run.message, run.counts)
    assert not run.counts.get("failed")
    assert state.counters.requests["POST token"] >= 2, "the token was never renewed"
    assert state.counters.requests["401"] >= 1, "the expiry was never seen mid-run"
    audit(env.splynx.state, state.store, require_all_synced=True).assert_clean()
