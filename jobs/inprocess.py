"""The embedded mode: no Redis, one background thread per app runs submissions in order.

The web request that submits returns at once and the page polls the run row;
the thread runs the very same ``tasks.run_job`` a worker would.
"""

from __future__ import annotations

import logging
import queue
import threading

from flask import Flask, current_app

from jobs.tasks import run_job

log = logging.getLogger(__name__)

_EXTENSION_KEY = "netsuite_jobs_executor"
_create_lock = threading.Lock()


class InProcessExecutor:
    """A FIFO of run ids drained by one daemon thread that pushes the app's context."""

    def __init__(self, app: Flask):
        self.app = app
        self._queue: queue.Queue[int] = queue.Queue()
        self.run_ids: set[int] = set()  # queued or running here: the sweeper leaves them alone
        self._thread = threading.Thread(target=self._drain, name="netsuite-jobs", daemon=True)
        self._thread.start()

    def put(self, run_id: int) -> None:
        self.run_ids.add(run_id)
        self._queue.put(run_id)

    def join(self) -> None:
        """Wait until every submitted run has finished (tests, shutdown)."""
        self._queue.join()

    def _drain(self) -> None:
        while True:
            run_id = self._queue.get()
            try:
                with self.app.app_context():
                    run_job(run_id)
            except Exception:  # run_job closes the run row itself; keep the thread alive
                log.exception("in-process run %s", run_id)
            finally:
                self.run_ids.discard(run_id)
                self._queue.task_done()


def executor(app: Flask | None = None) -> InProcessExecutor:
    """This app's executor, started on first use."""
    app = app or current_app._get_current_object()  # type: ignore[attr-defined]
    with _create_lock:
        if _EXTENSION_KEY not in app.extensions:
            app.extensions[_EXTENSION_KEY] = InProcessExecutor(app)
        return app.extensions[_EXTENSION_KEY]


def local_run_ids(app: Flask | None = None) -> set[int]:
    """Runs this process is executing or about to: alive whatever their heartbeat says."""
    app = app or current_app._get_current_object()  # type: ignore[attr-defined]
    found = app.extensions.get(_EXTENSION_KEY)
    return set(found.run_ids) if found is not None else set()
