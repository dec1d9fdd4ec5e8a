"""The run ledger: one sync run row, its log rows, its counts, progress and problems.

Every operation reports each record exactly once through ``RunLedger.record``;
that one call writes the log row, counts the outcome, advances progress and
files (or clears) the record's problem. Database writes happen only on the
thread that owns the ledger: worker threads hand results back to it.
"""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from typing import cast

from sqlalchemy import Table, delete, insert, select, update
from sqlalchemy.orm import lazyload

from addon.extension import session
from addon.models import Link, LogEntry, Problem, ProblemRecord, SyncRun, utcnow

# Outcomes that mean the record is fine now: its open problems are cleared.
SUCCESS_OUTCOMES = frozenset({"created", "updated", "matched", "paired", "unchanged", "imported"})
# Records found unchanged are counted on their run, not logged one by one: the log would
# otherwise grow by every record on every run. Their link keeps when they were last checked.
COUNTED_ONLY_OUTCOMES = frozenset({"unchanged"})
# Likewise a record skipped again for a cause it is already filed under: its first row says why,
# the open problem lists it until the cause is fixed. Failures (NetSuite was asked) are logged.
REPEATED_SKIP_OUTCOMES = frozenset({"skipped", "negative_total", "held"})

# Log rows are held in memory and inserted in bulk: one statement per commit, not per record.
COMMIT_EVERY_RECORDS = 1000
COMMIT_EVERY_SECONDS = 1.0
PROGRESS_EVERY_SECONDS = 0.5


@dataclass(frozen=True)
class Cause:
    """Why records are blocked, in the accountant's words.

    ``key`` groups records with the same cause (e.g. ``unmapped:tax_rate:3``);
    ``fix_kind``/``fix_ref`` tell the views which page fixes it (a mapping kind
    and billing id, or an entity and billing id).
    """

    key: str
    kind: str
    title: str
    fix_hint: str = ""
    fix_kind: str | None = None
    fix_ref: str | None = None


def _clip(label: str | None) -> str | None:
    """Labels are record names from billing: a 5,000-character name must not fail the run."""
    limit = ProblemRecord.__table__.c.label.type.length  # type: ignore[attr-defined]  # a String column
    return label if label is None or len(label) <= limit else label[: limit - 1] + "…"


class _ProblemBook:
    """The run's view of open problems, loaded once so each record costs no extra query.

    Only this ledger files or clears problems during its run; a concurrent run
    of another operation touches other entities' records. New problem records are
    held and inserted in bulk when the ledger commits.
    """

    def __init__(self) -> None:
        self._ids: dict[str, int] = {}  # cause key -> problem id (plain ints: no ORM reloads)
        self._new: list[dict] = []
        rows = session().execute(
            select(ProblemRecord.problem_id, ProblemRecord.entity, ProblemRecord.billing_id)
        )
        self._records: dict[tuple[str, str], set[int]] = {}
        for problem_id, entity, billing_id in rows:
            self._records.setdefault((entity, billing_id), set()).add(problem_id)

    def _problem_id(self, cause: Cause) -> int:
        problem_id = self._ids.get(cause.key)
        if problem_id is None:
            # Without its records: a cause may already hold thousands, none of which is needed here.
            query = select(Problem).where(Problem.cause_key == cause.key).options(lazyload(Problem.records))
            problem = session().scalar(query)
            if problem is None:
                problem = Problem(cause_key=cause.key, kind=cause.kind, title=cause.title)
                session().add(problem)
            problem.title, problem.fix_hint = cause.title, cause.fix_hint
            problem.fix_kind, problem.fix_ref = cause.fix_kind, cause.fix_ref
            problem.resolved, problem.resolved_at, problem.last_seen = False, None, utcnow()
            session().flush()
            problem_id = self._ids[cause.key] = problem.id
        return problem_id

    def file(self, cause: Cause, entity: str, billing_id: str, label: str | None) -> bool:
        """File the record under ``cause``; True when it was not filed there already."""
        problem_id = self._problem_id(cause)
        held = self._records.setdefault((entity, billing_id), set())
        if problem_id in held:
            return False
        self._new.append(
            {"problem_id": problem_id, "entity": entity, "billing_id": billing_id, "label": _clip(label)}
        )
        held.add(problem_id)
        return True

    def clear(self, entity: str, billing_id: str) -> None:
        if self._records.pop((entity, billing_id), None):
            self.write()  # the check for problems still blocking must see every record filed
            clear_record_problems(entity, billing_id)

    def write(self) -> None:
        """Insert the problem records filed since the last write (one statement)."""
        if self._new:
            session().execute(insert(ProblemRecord), self._new)
            self._new = []


def start_run(
    operation: str,
    trigger: str = "manual",
    dry_run: bool = False,
    params: dict | None = None,
    job_id: str | None = None,
) -> SyncRun:
    """Create the run row in state 'queued' (committed, so others can see it)."""
    run = SyncRun(operation=operation, trigger=trigger, dry_run=dry_run, params=params or {}, job_id=job_id)
    session().add(run)
    session().commit()
    return run


class RunLedger:
    """Records one run. ``progress`` is called (throttled) with the ledger after changes."""

    def __init__(self, run: SyncRun, progress: Callable[[RunLedger], None] | None = None):
        self.run = run
        self.counts: Counter[str] = Counter()
        self._progress = progress
        self._pending = 0
        self._last_commit = time.monotonic()
        self._last_progress = 0.0
        self._problems = _ProblemBook()
        self._rows: list[dict] = []
        self._checked: dict[str, list[str]] = {}  # entity -> billing ids found unchanged
        self._run_id = run.id
        self._dry_run = bool(run.dry_run)
        # Counted here and copied to the run row on commit: touching the ORM row per record
        # would make every later query autoflush an UPDATE of it.
        self.done = run.done or 0
        self.total = run.total or 0
        self._planned = self._counted = False
        # The current phase: where the run's count stood when it began, and its own total.
        self._phase_start = self.done - (run.phase_done or 0)
        self._phase_total: int | None = run.phase_total
        self._phase_counted = False
        self._before_commit: list[Callable[[], None]] = []
        run.status = "running"
        run.started_at = run.started_at or utcnow()
        run.heartbeat_at = utcnow()
        session().commit()

    @property
    def dry_run(self) -> bool:
        return self._dry_run

    # -- progress -------------------------------------------------------------------

    def plan(self, total: int) -> None:
        """The whole run's record count, known before its first phase (billing counted first):
        phases then keep it instead of adding their own."""
        self.total, self._planned, self._counted = total, True, True
        self._flush(force=True)

    def phase(self, name: str, total: int | None = None) -> None:
        """Start a phase ('Exporting invoices') with its expected record count, if known."""
        self.run.phase = name
        if total is not None and not self._planned:
            self.total = self.total + total if self.done else total
        self._counted = self._planned or total is not None
        self._phase_start, self._phase_total, self._phase_counted = self.done, total, total is not None
        self._flush(force=True)

    @property
    def phase_done(self) -> int:
        return self.done - self._phase_start

    def add_total(self, count: int) -> None:
        """Grow the expected total as pages of records are discovered; a counted total only
        grows when more records come than were counted (one created meanwhile)."""
        self.total = max(self.total, self.done + count) if self._counted else self.total + count
        if self._phase_counted:
            self._phase_total = max(self._phase_total or 0, self.phase_done + count)
        else:
            self._phase_total = (self._phase_total or 0) + count
        self._flush()

    # -- records --------------------------------------------------------------------

    def record(
        self,
        *,
        entity: str,
        billing_id: str | int | None,
        outcome: str,
        action: str,
        netsuite_id: str | None = None,
        message: str | None = None,
        direction: str = "export",
        cause: Cause | None = None,
        causes: tuple[Cause, ...] | list[Cause] = (),
        label: str | None = None,
    ) -> None:
        """Log one record's outcome; file it under each cause that blocks it."""
        billing_key = None if billing_id is None else str(billing_id)
        self.counts[outcome] += 1
        self.done += 1
        blocking = ([cause] if cause is not None else []) + list(causes)
        newly_filed = False
        if billing_key is not None and not self.dry_run:
            if blocking:
                for each in blocking:
                    newly_filed |= self._problems.file(each, entity, billing_key, label)
            elif outcome in SUCCESS_OUTCOMES:
                self._problems.clear(entity, billing_key)
        if outcome in COUNTED_ONLY_OUTCOMES and billing_key is not None:  # a record, not a summary
            if not self.dry_run:
                self._checked.setdefault(entity, []).append(billing_key)
        elif outcome in REPEATED_SKIP_OUTCOMES and blocking and not newly_filed and not self.dry_run:
            pass  # held back by the open problem it was already filed under: the problem lists it
        else:
            self._rows.append(
                {
                    "run_id": self._run_id,
                    "direction": direction,
                    "entity": entity,
                    "billing_id": billing_key,
                    "netsuite_id": netsuite_id,
                    "action": action,
                    "outcome": outcome,
                    "message": message,
                    "created_at": utcnow(),
                }
            )
        self._pending += 1
        self._flush()

    # -- persistence ----------------------------------------------------------------

    def _flush(self, force: bool = False) -> None:
        now = time.monotonic()
        progress_due = self._progress is not None and (
            force or now - self._last_progress >= PROGRESS_EVERY_SECONDS
        )
        if (
            force
            or progress_due
            or self._pending >= COMMIT_EVERY_RECORDS
            or now - self._last_commit >= COMMIT_EVERY_SECONDS
        ):
            # Progress readers see the run row, so a progress report commits first.
            self._write()
            session().commit()
            self._pending, self._last_commit = 0, now
        if progress_due and self._progress is not None:
            self._last_progress = now
            self._progress(self)

    def _write(self) -> None:
        """Everything held in memory into the session: hooks, log rows, problems, the run row."""
        for hook in self._before_commit:
            hook()
        if self._rows:
            # Core executemany: the ORM's bulk path would cost as much per row as the row itself.
            session().connection().execute(insert(cast(Table, LogEntry.__table__)), self._rows)
            self._rows = []
        self._write_checked()
        self._problems.write()
        self.run.done, self.run.total = self.done, self.total
        self.run.phase_done, self.run.phase_total = self.phase_done, self._phase_total
        self.run.counts = dict(self.counts)
        self.run.heartbeat_at = utcnow()

    def _write_checked(self) -> None:
        """'Last checked' on the links of the records found unchanged since the last write."""
        now = utcnow()
        for entity, billing_ids in self._checked.items():
            for start in range(0, len(billing_ids), 500):
                session().connection().execute(
                    update(cast(Table, Link.__table__))
                    .where(Link.entity == entity, Link.billing_id.in_(billing_ids[start : start + 500]))
                    .values(last_checked_at=now)
                )
        self._checked = {}

    def before_commit(self, hook: Callable[[], None]) -> None:
        """Call ``hook`` (calling thread) before each commit, e.g. to write buffered links."""
        self._before_commit.append(hook)

    def note(self, message: str) -> None:
        """The run's one-line summary for the operator (kept when the run finishes)."""
        self.run.message = message
        self._flush(force=True)

    def set_result(self, result: dict) -> None:
        """Keep what the operation found (JSON-able), for the CLI and the pages."""
        self.run.result = result
        self._flush(force=True)

    def commit(self) -> None:
        """Make everything recorded so far durable now (e.g. right after NetSuite writes)."""
        self._flush(force=True)

    def finish(self, status: str | None = None, message: str | None = None) -> SyncRun:
        """Close the run: 'succeeded', 'partial' when records failed, or the status given."""
        if status is None:
            status = "partial" if self.counts.get("failed") else "succeeded"
        if status == "failed":
            # A stopped run was rolled back: what was held since the last commit goes with it,
            # exactly as rows still in the session would (later upserts make it good).
            self._rows, self._problems._new, self._checked = [], [], {}
            self.run.done, self.run.total, self.run.counts = self.done, self.total, dict(self.counts)
            self.run.phase_done = self.phase_done
        else:
            self._write()
        self.run.status = status
        if message is not None:
            self.run.message = message
        self.run.finished_at = utcnow()
        session().commit()
        if self._progress is not None:
            self._progress(self)
        return self.run


def clear_record_problems(entity: str, billing_id: str) -> None:
    """A record that now syncs no longer counts against any cause."""
    where = (ProblemRecord.entity == entity, ProblemRecord.billing_id == billing_id)
    problem_ids = set(session().scalars(select(ProblemRecord.problem_id).where(*where)))
    if not problem_ids:
        return
    session().execute(delete(ProblemRecord).where(*where))
    still_blocking = set(
        session().scalars(select(ProblemRecord.problem_id).where(ProblemRecord.problem_id.in_(problem_ids)))
    )
    for problem in session().scalars(select(Problem).where(Problem.id.in_(problem_ids - still_blocking))):
        problem.resolved, problem.resolved_at = True, utcnow()


def resolve_cause(key: str) -> None:
    """The cause was fixed (e.g. its mapping saved): the problem clears, its records retry."""
    problem = session().scalar(select(Problem).where(Problem.cause_key == key))
    if problem is not None and not problem.resolved:
        problem.resolved, problem.resolved_at = True, utcnow()
        session().execute(delete(ProblemRecord).where(ProblemRecord.problem_id == problem.id))
        session().commit()
