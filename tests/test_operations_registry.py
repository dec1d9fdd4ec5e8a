"""Operations are declared once: a registered operation has its CLI command, its dashboard card,
its cron toggle and schedule; the Makefile's manual targets match the registry both ways."""

from __future__ import annotations

import re
import time
from pathlib import Path

import pytest

from addon import settings
from addon.extension import session
from addon.models import SyncRun
from addon.sync import operations
from addon.sync.operations import Operation, Param, Switch, register

MAKEFILE = Path(__file__).resolve().parents[1] / "Makefile"
# Targets that run `flask netsuite ...` but are the job processes, not operations.
JOB_PROCESSES = {"worker", "scheduler", "sweep"}


def paint(ctx, ledger, *, colour: str = "", loud: bool = False) -> None:
    """A toy operation: it keeps what it was given as its result."""
    ledger.set_result({"colour": colour, "loud": loud})


TOY = Operation(
    "paint_fence",
    "Paint the fence",
    paint,
    "Paint it, in a colour.",
    params=(
        Param("colour", "Which colour.", required=True),
        Param("loud", "Sing while painting.", flag=True),
    ),
    cron="5 3 * * *",
    card=5,
    systems=(),
)


# A variant run from the toy's command, as `import-payments --all` runs import_all_payments.
TWICE = Operation(
    "paint_fence_twice",
    "Paint the fence twice",
    paint,
    params=TOY.params,
    cli=Switch("paint_fence", "--twice", "Two coats."),
    systems=(),
)


@pytest.fixture
def toy(monkeypatch):
    """The toys registered for one test only (the registry and the settings put back after)."""
    monkeypatch.setattr(operations, "OPERATIONS", dict(operations.OPERATIONS))
    monkeypatch.setattr(settings, "SPECS", settings.SPECS)
    monkeypatch.setattr(settings, "SPEC_BY_KEY", dict(settings.SPEC_BY_KEY))
    registered = register(TOY)
    register(TWICE)
    return registered


def test_a_registered_operation_has_its_command_with_its_parameters_as_options(app_ctx, toy):
    runner = app_ctx.test_cli_runner()
    listing = runner.invoke(args=["netsuite", "--help"])
    assert "paint-fence" in listing.output

    missing = runner.invoke(args=["netsuite", "paint-fence"])
    assert missing.exit_code == 2 and "Missing option '--colour'" in missing.output

    result = runner.invoke(args=["netsuite", "paint-fence", "--colour", "red", "--loud", "--dry-run"])
    assert result.exit_code == 0, result.output
    run = session().query(SyncRun).filter_by(operation="paint_fence").one()
    assert (run.trigger, run.dry_run, run.params) == ("cli", True, {"colour": "red", "loud": True})
    assert run.result == {"colour": "red", "loud": True}

    assert "paint-fence-twice" not in listing.output, "a switch, not a command of its own"
    twice = runner.invoke(args=["netsuite", "paint-fence", "--twice", "--colour", "blue"])
    assert twice.exit_code == 0, twice.output
    again = session().query(SyncRun).filter_by(operation="paint_fence_twice").one()
    assert again.params == {"colour": "blue"}


def test_a_registered_operation_has_its_card_and_runs_from_it(client, auth, toy):
    auth.login()
    page = client.get("/netsuite/").get_data(as_text=True)
    cards = re.findall(r'<article class="ns-card" id="card-([a-z_]+)"', page)
    assert cards[0] == "paint_fence", "card 5 comes before the full sync's 10"
    assert cards == [op.name for op in operations.dashboard_cards()]
    card = page[page.index('id="card-paint_fence"') :].split("</article>", 1)[0]
    assert "Paint the fence" in card and "Cron is off (schedule At 03:05 UTC)" in card

    client.post("/netsuite/run", data={"csrf_token": auth.csrf_token(), "operation": "paint_fence"})
    started = re.search(
        r"Paint the fence started \(run (\d+)\)", client.get("/netsuite/").get_data(as_text=True)
    )
    assert started, "the card's button starts it"
    deadline = time.monotonic() + 30
    while not (progress := client.get(f"/netsuite/runs/{started.group(1)}/progress").get_json())["finished"]:
        assert time.monotonic() < deadline, progress
        time.sleep(0.05)
    # From the card it gets no colour, which it requires: the run says so.
    assert (progress["status"], progress["message"]) == ("failed", "Paint the fence needs parameter colour.")


def test_a_scheduled_operation_has_its_toggle_and_its_cron_job(app_ctx, toy):
    from jobs.schedule import periodic_jobs

    assert settings.get("cron_paint_fence") is False
    settings.put("cron_paint_fence", "on")
    jobs = {job["name"]: job for job in periodic_jobs()}
    assert jobs["netsuite-sync:cron:paint_fence"]["cron"] == "5 3 * * *"
    app_ctx.config["NETSUITE_ADDON_CRON_PAINT_FENCE"] = ""  # an empty expression disables it
    assert "netsuite-sync:cron:paint_fence" not in {job["name"] for job in periodic_jobs()}


def test_a_name_is_registered_once_and_a_switch_needs_its_command():
    with pytest.raises(ValueError, match="'sync' is registered already"):
        register(Operation("sync", "Again", paint))
    with pytest.raises(ValueError, match="its CLI switch belongs to 'paint_fence', which is not registered"):
        register(TWICE)


def makefile_runs() -> dict[str, tuple[str, ...]]:
    """Per Makefile target whose recipe is ``$(FLASK) netsuite ...``: the arguments it passes."""
    runs: dict[str, tuple[str, ...]] = {}
    text = MAKEFILE.read_text().replace("\\\n", " ")
    for rule in re.finditer(r"^([a-z][\w\- ]*):[^\n=]*\n((?:\t[^\n]*\n?)+)", text, re.M):
        for recipe in rule.group(2).splitlines():
            command = re.match(r"\t\$\(FLASK\) netsuite (.+)$", recipe)
            if command:
                for target in rule.group(1).split():
                    runs[target] = tuple(command.group(1).replace("$@", target).split())
    return runs


def test_the_makefile_runs_exactly_the_registered_manual_operations():
    runs = {target: args for target, args in makefile_runs().items() if target not in JOB_PROCESSES}
    declared = {op.command: op.cli_args for op in operations.OPERATIONS.values() if op.make}
    assert runs == declared
    phony = re.search(r"^\.PHONY:(.*?)(?<!\\)\n", MAKEFILE.read_text(), re.M | re.S)
    assert phony is not None and set(declared) <= set(phony.group(1).replace("\\", " ").split())


def test_the_makefile_reader_sees_every_target_it_should():
    runs = makefile_runs()
    assert runs["import-all-payments"] == ("import-payments", "--all")
    assert runs["export-invoices"] == ("export-invoices",)
    assert {"worker", "scheduler", "sweep"} <= set(runs)


def test_the_readme_states_the_registered_cron_defaults():
    readme = (MAKEFILE.parent / "README.md").read_text()
    stated = dict(re.findall(r"^\| `NETSUITE_ADDON_CRON_(\w+)` \| `([^`]*)` \|$", readme, re.M))
    assert stated == {op.name.upper(): op.cron for op in operations.scheduled()}


def test_any_operation_runs_by_its_name_through_netsuite_run(app_ctx, toy):
    runner = app_ctx.test_cli_runner()
    result = runner.invoke(args=["netsuite", "run", "paint_fence", "--colour", "green", "--dry-run"])
    assert result.exit_code == 0, result.output
    run = session().query(SyncRun).filter_by(operation="paint_fence").one()
    assert (run.dry_run, run.params) == (True, {"colour": "green"})
    # A switch variant by its own name, and the command spelling, reach the same runs.
    assert runner.invoke(args=["netsuite", "run", "paint-fence-twice", "--colour", "blue"]).exit_code == 0
    assert session().query(SyncRun).filter_by(operation="paint_fence_twice").one().params == {
        "colour": "blue"
    }
    assert "--colour" in runner.invoke(args=["netsuite", "run", "paint-fence", "--help"]).output
    unknown = runner.invoke(args=["netsuite", "run", "paint_shed"])
    assert unknown.exit_code == 2 and "no operation 'paint_shed'" in unknown.output
    assert "paint_fence" in unknown.output
