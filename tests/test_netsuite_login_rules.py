"""When NetSuite refuses a login: what halts, what is retried, and when the halt lifts.

Over real HTTP against the sandbox, in both authentication modes: a transient 401 from an
overloaded account is survived when the credentials already worked (this run or the last),
credentials that never worked stop at once, the token endpoint's refusals halt while its 5xx
is retried, a changed credential lifts the halt, and a role without REST permission is not
"connected".
"""

from __future__ import annotations

import pytest

from addon import settings
from addon.extension import session
from addon.models import ConnectionStatus
from addon.netsuite import NetSuiteAuthError, NetSuiteClient, NetSuiteConfig
from addon.sync.connections import check_connection
from addon.sync.operations import run_operation

MODES = ("tba", "oauth2")
OPERATION = "load_netsuite_customers"  # talks to NetSuite only; its first request is a SuiteQL


def use_mode(env, mode: str) -> None:
    if mode == "oauth2":
        env.settings(
            netsuite_auth_mode="oauth2",
            netsuite_client_id=env.netsuite.client_id,
            netsuite_certificate_id=env.netsuite.certificate_id,
            netsuite_private_key=env.netsuite.private_key_pem.decode(),
        )


def break_credentials(env, mode: str) -> tuple[str, str]:
    """Save a wrong credential; returns (setting, the right value)."""
    if mode == "tba":
        env.settings(netsuite_token_secret="not-the-token-secret")
        return "netsuite_token_secret", env.netsuite.token_secret
    env.settings(netsuite_certificate_id="not-the-certificate-id")
    return "netsuite_certificate_id", env.netsuite.certificate_id


def client_for(sandbox, mode: str, **options) -> NetSuiteClient:
    credentials = sandbox.tba_credentials() if mode == "tba" else sandbox.oauth2_credentials()
    config = NetSuiteConfig(
        auth_mode=mode, base_url=sandbox.url, backoff_base=0.001, **credentials, **options
    )
    return NetSuiteClient(config)


def api_401s(state) -> int:
    return state.counters.faults["401"]


@pytest.mark.parametrize("mode", MODES)
def test_a_transient_401_on_a_runs_first_request_is_retried_when_the_credentials_worked_last_run(
    configured, mode
):
    use_mode(configured, mode)
    assert run_operation(OPERATION).status == "succeeded"
    state = configured.netsuite.state
    state.set_faults(burst_401=2)

    run = run_operation(OPERATION)

    assert run.status == "succeeded", run.message
    assert api_401s(state) == 2
    assert not session().get(ConnectionStatus, "netsuite").needs_attention


@pytest.mark.parametrize("mode", MODES)
def test_a_401_with_credentials_that_never_worked_stops_the_run_at_once(configured, mode):
    use_mode(configured, mode)
    state = configured.netsuite.state
    state.set_faults(burst_401=1)  # a retry would succeed: the run must not make one

    run = run_operation(OPERATION)

    assert run.status == "failed" and "refused the credentials" in run.message
    assert api_401s(state) == 1
    assert state.counters.requests["POST suiteql"] == 0  # the refused request is never repeated
    assert session().get(ConnectionStatus, "netsuite").needs_attention


@pytest.mark.parametrize("mode", MODES)
def test_a_401_after_the_credentials_worked_earlier_in_the_run_is_retried(netsuite_sandbox, mode):
    client = client_for(netsuite_sandbox, mode)
    assert not client.credentials_proven
    client.get("currency", 1)
    netsuite_sandbox.state.set_faults(burst_401=2)

    assert client.get("currency", 1)["id"] == "1"
    assert api_401s(netsuite_sandbox.state) == 2


@pytest.mark.parametrize("mode", MODES)
def test_a_401_that_persists_through_the_retries_stops(netsuite_sandbox, mode):
    client = client_for(netsuite_sandbox, mode, max_attempts=4)
    client.get("currency", 1)
    netsuite_sandbox.state.set_faults(burst_401=100)

    with pytest.raises(NetSuiteAuthError):
        client.get("currency", 1)
    assert api_401s(netsuite_sandbox.state) == 4  # bounded by the retry budget


@pytest.mark.parametrize("mode", MODES)
def test_a_post_refused_with_a_transient_401_is_sent_again_and_creates_one_record(netsuite_sandbox, mode):
    client = client_for(netsuite_sandbox, mode)
    client.get("currency", 1)
    netsuite_sandbox.state.set_faults(burst_401=1)
    body = {"companyName": "Transient Login Ltd", "subsidiary": {"id": "1"}}

    client.create("customer", body)

    names = [c.get("companyName") for c in netsuite_sandbox.state.store.records("customer")]
    assert names.count("Transient Login Ltd") == 1


def test_invalid_grant_from_the_token_endpoint_halts_the_run(configured):
    use_mode(configured, "oauth2")
    configured.settings(netsuite_certificate_id="not-the-certificate-id")

    run = run_operation(OPERATION)

    assert run.status == "failed" and "refused the credentials" in run.message
    assert "invalid_grant" in run.message
    assert session().get(ConnectionStatus, "netsuite").needs_attention
    assert run_operation(OPERATION).message.startswith("NetSuite connection needs attention")


def test_a_5xx_from_the_token_endpoint_is_retried_even_before_a_post(netsuite_sandbox):
    client = client_for(netsuite_sandbox, "oauth2")
    netsuite_sandbox.state.set_faults(token_5xx=2)

    client.create("customer", {"companyName": "Token Outage Ltd", "subsidiary": {"id": "1"}})

    state = netsuite_sandbox.state
    assert state.counters.faults["token 5xx"] == 2 and state.counters.requests["POST token"] == 3
    assert [c.get("companyName") for c in state.store.records("customer")].count("Token Outage Ltd") == 1


def test_a_token_endpoint_that_stays_down_is_a_connection_problem_not_a_credentials_one(configured):
    use_mode(configured, "oauth2")
    configured.netsuite.state.set_faults(token_5xx=100)
    configured.settings(netsuite_concurrency=1)

    from addon.sync.context import SyncContext

    ctx = SyncContext.from_settings()
    ctx.values["netsuite_concurrency"] = 1
    client = ctx.netsuite
    object.__setattr__(client.config, "max_attempts", 2)
    object.__setattr__(client.config, "backoff_base", 0.001)
    run = run_operation(OPERATION, context=ctx)

    assert run.status == "failed" and "could not be reached" in run.message
    row = session().get(ConnectionStatus, "netsuite")
    assert row is None or not row.needs_attention


@pytest.mark.parametrize("mode", MODES)
def test_changed_credentials_lift_the_halt_without_a_test_connection(configured, mode):
    use_mode(configured, mode)
    key, right = break_credentials(configured, mode)
    assert run_operation(OPERATION).status == "failed"
    state = configured.netsuite.state
    state.reset_counters()
    blocked = run_operation(OPERATION)
    assert "needs attention" in blocked.message
    assert sum(state.counters.requests.values()) == 0  # halted: NetSuite is not even asked

    settings.put(key, right)  # as the config page or `config set` would

    run = run_operation(OPERATION)
    assert run.status == "succeeded", run.message
    assert not session().get(ConnectionStatus, "netsuite").needs_attention


def test_credentials_fixed_in_the_environment_lift_the_halt(configured, monkeypatch):
    key, right = break_credentials(configured, "tba")
    assert run_operation(OPERATION).status == "failed"
    settings.clear(key)
    monkeypatch.setenv("NETSUITE_TOKEN_SECRET", right)

    assert run_operation(OPERATION).status == "succeeded"


def test_the_same_wrong_credentials_stay_halted(configured, runner):
    break_credentials(configured, "tba")
    assert run_operation(OPERATION).status == "failed"
    configured.settings(netsuite_concurrency=3)  # not a credential

    assert "needs attention" in run_operation(OPERATION).message


@pytest.mark.parametrize("mode", MODES)
def test_test_connection_fails_when_the_role_lacks_rest_permission(configured, mode):
    use_mode(configured, mode)
    configured.netsuite.state.rest_permission = False

    ok, line = check_connection("netsuite")

    assert not ok and "permission" in line
    assert session().get(ConnectionStatus, "netsuite").needs_attention
    configured.netsuite.state.rest_permission = True
    ok, line = check_connection("netsuite")
    assert ok and line.startswith("Connected")


def test_new_setups_default_to_oauth2_and_tba_only_setups_keep_tba(app_ctx, monkeypatch):
    assert settings.get("netsuite_auth_mode") == "oauth2"
    monkeypatch.setenv("NETSUITE_CONSUMER_KEY", "ck")
    monkeypatch.setenv("NETSUITE_TOKEN_ID", "tk")
    assert settings.get("netsuite_auth_mode") == "tba"  # an environment configured before OAuth 2.0
    settings.put("netsuite_client_id", "client")
    assert settings.get("netsuite_auth_mode") == "oauth2"
    monkeypatch.setenv("NETSUITE_AUTH_MODE", "tba")
    assert settings.get("netsuite_auth_mode") == "tba"  # an explicit choice always wins
