"""The layers point one way: the add-on imports none of its shells, and the engine no web or queue.

Every import counts, lazy ones inside functions included, and so does a module named to
``importlib.import_module``: the graph is read from the source, not from what happens to be
imported when the test runs.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
# What the add-on must never reach for: its job runner, and the project's harnesses.
OUTSIDE_THE_ADDON = ("jobs", "bench", "sandbox", "demo", "tests")


def imports_of(path: Path) -> list[tuple[int, str]]:
    """(line, module) for every import in ``path``; ``from a import b`` gives ``a.b`` too (b may be a module)."""
    found: list[tuple[int, str]] = []
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            found += [(node.lineno, alias.name) for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            found.append((node.lineno, node.module))
            found += [(node.lineno, f"{node.module}.{alias.name}") for alias in node.names]
        elif (
            isinstance(node, ast.Call)
            and _called(node) in ("import_module", "__import__")
            and node.args
            and isinstance(node.args[0], ast.Constant)
            and isinstance(node.args[0].value, str)
        ):
            found.append((node.lineno, node.args[0].value))
    return found


def _called(call: ast.Call) -> str:
    func = call.func
    return func.attr if isinstance(func, ast.Attribute) else func.id if isinstance(func, ast.Name) else ""


def _within(module: str, packages: tuple[str, ...]) -> bool:
    return any(module == package or module.startswith(package + ".") for package in packages)


def violations(folder: str, forbidden: tuple[str, ...]) -> list[str]:
    return [
        f"{path.relative_to(REPO)}:{line} imports {module}"
        for path in sorted((REPO / folder).rglob("*.py"))
        for line, module in imports_of(path)
        if _within(module, forbidden)
    ]


def test_the_add_on_imports_neither_jobs_nor_the_harnesses():
    assert violations("addon", OUTSIDE_THE_ADDON) == []


def test_the_engine_imports_neither_the_web_layer_nor_the_queue():
    assert violations("addon/sync", ("flask.request", "flask.views", "addon.views", "rq")) == []


def test_jobs_imports_the_add_on_and_nothing_of_the_harnesses():
    assert violations("jobs", ("bench", "sandbox", "demo", "tests")) == []
    assert any(
        _within(module, ("addon",))
        for path in (REPO / "jobs").rglob("*.py")
        for _, module in imports_of(path)
    )


@pytest.mark.parametrize(
    "source",
    [
        "from jobs.runs import submit\n",
        "def view():\n    from jobs import runtime\n",
        "import jobs.live\n",
        "import importlib\nimportlib.import_module('jobs.tasks')\n",
        "from sandbox.netsuite import create_app\n",
    ],
)
def test_the_walk_sees_every_way_of_importing(tmp_path, source):
    module = tmp_path / "probe.py"
    module.write_text(source)
    assert any(_within(name, OUTSIDE_THE_ADDON) for _, name in imports_of(module))


class RecordingDispatcher:
    """Takes the add-on's work and keeps it: no queue, no worker."""

    def __init__(self):
        self.submitted: list[tuple[str, dict]] = []
        self.nudged: list[str] = []

    def submit(self, operation, **options):
        from addon.extension import session
        from addon.models import SyncRun

        self.submitted.append((operation, options))
        run = SyncRun(operation=operation, trigger=options["trigger"], status="queued", params={})
        session().add(run)
        session().commit()
        return run

    def nudge_live(self, entities):
        self.nudged.extend(entities)

    def worker_listening(self):
        return None


def test_the_add_on_hands_its_work_to_the_dispatcher_it_is_given(app, client, auth):
    from addon.extension import use_dispatcher

    given = RecordingDispatcher()
    use_dispatcher(app, given)
    auth.login()
    client.post("/netsuite/run", data={"csrf_token": auth.csrf_token(), "operation": "export_invoices"})
    assert given.submitted == [("export_invoices", {"trigger": "manual", "dry_run": False})]
    app.test_cli_runner().invoke(args=["netsuite", "reconcile", "--from", "2025-01-01"])
    operation, options = given.submitted[-1]
    assert (operation, options["trigger"], options["params"], options["wait"]) == (
        "reconcile",
        "cli",
        {"date_from": "2025-01-01"},
        True,
    )
