"""`flask netsuite ...` end to end: one-line connection checks, exit codes, scripted setup."""

from __future__ import annotations

from sqlalchemy import select

from addon import settings
from addon.cli import EXIT_CONFIG, EXIT_OK, EXIT_SOME_FAILED


def invoke(runner, *args, **kwargs):
    return runner.invoke(args=["netsuite", *args], catch_exceptions=False, **kwargs)


def test_test_connection_reports_both_systems_in_one_line_each(configured, runner):
    result = invoke(runner, "test-connection")
    assert result.exit_code == EXIT_OK, result.output
    lines = result.output.strip().splitlines()
    assert [line.split(":")[0] for line in lines] == ["netsuite", "billing"]


def test_test_connection_names_the_refused_credentials_and_exits_2(configured, runner):
    settings.put("netsuite_token_secret", "not-the-secret")
    result = invoke(runner, "test-connection", "--system", "netsuite")
    assert result.exit_code == EXIT_CONFIG
    assert "refused the credentials" in result.output
    assert "not-the-secret" not in result.output
    assert len(result.output.strip().splitlines()) == 1


def test_test_connection_reports_an_unreachable_host(configured, runner):
    # discard port: nothing listens (the secret is re-entered: a moved URL forgets it otherwise)
    settings.put_many(
        {"splynx_url": "http://127.0.0.1:9", "splynx_api_secret": settings.get("splynx_api_secret")}
    )
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
    assert result.exit_code == EXIT_OK, result.output
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
    assert invoke(runner, "export-invoices").exit_code == EXIT_OK
    result = invoke(runner, "reconcile", "--from", "2023-01-01", "--to", "2025-06-30")
    assert result.exit_code == EXIT_OK, result.output
    rows = {line.split()[0]: line.split() for line in result.output.splitlines() if line.strip()}
    assert rows["invoice"][-1] == "agrees", result.output
    # Only invoices were exported: what is exported agrees, the rest waits, and the verdict says both.
    verdict = result.output.strip().splitlines()[-1].strip()
    assert verdict.startswith("Every exported document agrees to the cent; "), result.output
    assert verdict.endswith(" billing documents are not exported yet (see the problems list)."), result.output


def test_problems_lists_the_biggest_cause_first_then_the_latest(app_ctx, runner):
    from datetime import datetime

    from addon.extension import session
    from addon.models import Problem, SyncRun
    from addon.sync.ledger import Cause, RunLedger

    run = SyncRun(operation="export_invoices")
    session().add(run)
    session().commit()
    ledger = RunLedger(run)
    blocked = {"Big": 3, "Older A": 1, "Older B": 1, "Recent": 1}
    for title, count in blocked.items():
        cause = Cause(f"test:{title}", "invalid_fields", title, fix_hint=f"fix {title}")
        for n in range(count):
            ledger.record(
                entity="invoice", billing_id=f"{title}-{n}", outcome="failed", action="create", cause=cause
            )
    ledger.finish()
    # A cause whose records were all written off (e.g. a run that stopped before filing them).
    session().add(Problem(cause_key="test:Empty", kind="invalid_fields", title="Empty"))
    session().commit()
    seen = {"Big": datetime(2025, 1, 1), "Older A": datetime(2025, 2, 1), "Older B": datetime(2025, 2, 1),
            "Recent": datetime(2025, 3, 1), "Empty": datetime(2025, 4, 1)}  # fmt: skip
    # Updated last id first, one commit each, so the table's own row order is not the id order.
    for problem in session().scalars(select(Problem).order_by(Problem.id.desc())):
        problem.last_seen = seen[problem.title]
        session().commit()
    result = invoke(runner, "problems")
    assert result.exit_code == EXIT_OK, result.output
    # Most records blocked first; among equals the latest seen; among those the first filed.
    assert [line.strip() for line in result.output.strip().splitlines()] == [
        "3  Big",
        "fix: fix Big",
        "1  Recent",
        "fix: fix Recent",
        "1  Older A",
        "fix: fix Older A",
        "1  Older B",
        "fix: fix Older B",
        "0  Empty",
    ]


def test_mapping_a_value_resolves_its_problem_and_frees_its_records(export_ready, runner):
    from addon.extension import session
    from addon.models import Problem, ProblemRecord
    from addon.sync.operations import run_operation
    from sandbox.dataset import INTERNET

    run_operation("load_mappings")
    item = export_ready.ns_id("serviceSaleItem", "Internet Plans")
    export_ready.unmap("category", INTERNET)
    assert invoke(runner, "export-invoices").exit_code == EXIT_SOME_FAILED
    key = f"unmapped:category:{INTERNET}"
    problem = session().scalar(select(Problem).where(Problem.cause_key == key))
    assert problem.count > 0 and not problem.resolved
    result = invoke(runner, "map", "category", str(INTERNET), item)
    assert result.exit_code == EXIT_OK, result.output
    session().expire_all()
    problem = session().scalar(select(Problem).where(Problem.cause_key == key))
    assert problem.resolved and problem.resolved_at is not None
    assert session().scalars(select(ProblemRecord).where(ProblemRecord.problem_id == problem.id)).all() == []
    assert problem.title not in invoke(runner, "problems").output
