"""`flask netsuite ...` end to end: one-line connection checks, exit codes, scripted setup."""

from __future__ import annotations

from addon import settings
from addon.cli import EXIT_CONFIG, EXIT_OK, EXIT_SOME_FAILED


def invoke(runner, *args, **kwargs):
    return runner.invoke(args=["netsuite", *args], catch_exceptions=False, **kwargs)


def test_test_connection_reports_both_systems_in_one_line_each(configured, runner):
    result = invoke(runner, "test-connection")
    assert result.exit_code == EXIT_OK, result.output
    lines = result.output.strip().splitlines()
    assert [line.split(":")[0] for line in lines] == ["netsuite", "splynx"]


def test_test_connection_names_the_refused_credentials_and_exits_2(configured, runner):
    settings.put("netsuite_token_secret", "not-the-secret")
    result = invoke(runner, "test-connection", "--system", "netsuite")
    assert result.exit_code == EXIT_CONFIG
    assert "refused the credentials" in result.output
    assert "not-the-secret" not in result.output
    assert len(result.output.strip().splitlines()) == 1


def test_test_connection_reports_an_unreachable_host(configured, runner):
    # discard port: nothing listens (the secret is re-entered: a moved URL forgets it otherwise)
    settings.put_many({"splynx_url": "http://127.0.0.1:9", "splynx_api_secret": settings.get("splynx_api_secret")})
    result = invoke(runner, "test-connection", "--system", "splynx")
    assert result.exit_code == EXIT_CONFIG
    assert "could not be reached" in result.output


def test_an_unconfigured_add_on_exits_2_with_the_reason(app_ctx, runner):
    result = invoke(runner, "export-customers")
    assert result.exit_code == EXIT_CONFIG
    assert "not configured" in result.output


def test_export_exit_codes_follow_the_outcomes(export_ready, runner):
    result = invoke(runner, "export-customers")
    assert result.exit_code == EXIT_OK, result.output
    assert "created" in result.output
    # NetSuite refuses every invoice dated in a closed period: those records fail, the rest go on.
    export_ready.store.set_period_closed("2025-03")
    result = invoke(runner, "export-invoices")
    assert result.exit_code == EXIT_SOME_FAILED, result.output
    assert "failed" in result.output and "created" in result.output


def test_dry_run_writes_nothing_to_netsuite(export_ready, runner):
    before = export_ready.writes()
    result = invoke(runner, "sync", "--dry-run")
    assert result.exit_code in (EXIT_OK, EXIT_SOME_FAILED), result.output
    assert "would_create" in result.output
    assert export_ready.writes() == before


def test_config_and_map_commands_configure_a_deployment_by_script(configured, runner):
    from addon.sync.mappings import cached
    from addon.sync.operations import run_operation

    run_operation("load_mappings")
    result = invoke(runner, "config", "set", "payment_direction", "bidirectional")
    assert result.exit_code == 0 and "bidirectional" in result.output
    bank = cached("bank_account")[0]
    result = invoke(runner, "map", "default_bank_account", "-", bank.netsuite_id)
    assert result.exit_code == 0, result.output
    result = invoke(runner, "map", "category", "1", "no-such-item")
    assert result.exit_code == EXIT_CONFIG and "error" in result.output


def test_reconcile_prints_the_table_and_the_verdict(export_ready, runner):
    assert invoke(runner, "export-invoices").exit_code in (EXIT_OK, EXIT_SOME_FAILED)
    result = invoke(runner, "reconcile", "--from", "2023-01-01", "--to", "2025-06-30")
    assert result.exit_code == EXIT_OK, result.output
    assert "invoice" in result.output and "agrees" in result.output
    assert (
        "Every exported document agrees to the cent" in result.output or "agree to the cent" in result.output
    )


def test_problems_lists_the_biggest_cause_first(export_ready, runner):
    invoke(runner, "export-customers")
    result = invoke(runner, "problems")
    assert result.exit_code == 0
    first = result.output.strip().splitlines()[0]
    assert "missing" in first.lower() or "address" in first.lower()
