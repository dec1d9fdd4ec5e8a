"""A run's progress in words: the phase with its own counts, then the whole run's.

One text for the page as first rendered, the progress JSON the page then polls, and the CLI, so the
three never disagree. A full sync's phase label carries that phase's counts ("Exporting invoices:
120 of 520"), then the run's ("run: 302 of 1196 (25%)"); a run of one phase says its counts once.
"""

from __future__ import annotations

FINISHED = frozenset({"succeeded", "partial", "failed", "cancelled"})


def percent(run) -> int | None:
    """How far the whole run is (None while its total is unknown)."""
    if run.total:
        return min(100, int(100 * (run.done or 0) / run.total))
    return 100 if run.status in FINISHED else None


def _of(done: int, total: int | None) -> str:
    return f"{done} of {total}" if total else f"{done} so far"


def phase_label(run) -> str | None:
    """The current phase with its own counts ("Exporting invoices: 120 of 520"), or None."""
    if not run.phase:
        return None
    phase_done = (run.done or 0) if run.phase_done is None else run.phase_done
    return f"{run.phase}: {_of(phase_done, run.phase_total)}"


def progress_text(run) -> str:
    done, total = run.done or 0, run.total
    share = percent(run)
    overall = _of(done, total) + (f" ({share}%)" if share is not None else "")
    if not run.phase:
        return f"{run.status} — {overall}"
    if run.phase_done in (None, done) and run.phase_total == total:
        return f"{run.phase} — {overall}"  # the run is this one phase
    return f"{phase_label(run)} — run: {overall}"
