"""Starting live runs: a short gathering window after an event, then one run per entity type.

The receiver stores an event and calls :func:`nudge`; every run calls :func:`after_run` when
it ends, so events that arrived meanwhile (or waited for a full sync) get their run too.

- Without Redis: one timer per app and entity type in this process; when it fires the live
  run is submitted to the in-process executor, in order with every other run.
- With Redis: the first event of a window sets ``netsuite-sync:live:<entity>`` (NX, expiring)
  and enqueues one :func:`tick` job; events meanwhile find the key and enqueue nothing. The
  job, on any worker of any host, waits out the window and submits the run like any other.

The window is the ``live_debounce`` setting. A run of the same entity (or a full sync) still
going makes the submission wait: its end calls ``after_run``, which nudges again.
"""

from __future__ import annotations

import logging
import threading
import time

from flask import Flask, current_app

from jobs import runtime

log = logging.getLogger(__name__)

KEY = "netsuite-sync:live:{entity}"
# The key outlives its window by this much, so a slow worker cannot let a second tick in.
KEY_SLACK_MS = 5000

_timers_lock = threading.Lock()
_TIMERS_KEY = "netsuite_live_timers"


def _window() -> float:
    from addon import settings

    return max(0.0, float(settings.get("live_debounce")))


def nudge(entities) -> None:
    """Make sure a live run of each entity type in ``entities`` starts after the window."""
    entities = sorted(set(entities))
    if not entities:
        return
    if runtime.redis_url():
        window = _window()
        connection = runtime.redis_connection()
        for entity in entities:
            deadline = time.time() + window
            if connection.set(
                KEY.format(entity=entity), str(deadline), nx=True, px=int(window * 1000) + KEY_SLACK_MS
            ):
                runtime.queue().enqueue(
                    tick,
                    entity,
                    deadline,
                    description=f"Live {entity} window",
                    job_timeout=600,
                    result_ttl=60,
                )
        return
    app = current_app._get_current_object()  # type: ignore[attr-defined]  # Flask types the proxy as the app itself
    with _timers_lock:
        pending = app.extensions.setdefault(_TIMERS_KEY, {})
        # During a burst a window is nearly always open: the setting is read only to open one.
        due = [entity for entity in entities if entity not in pending]
        window = _window() if due else 0.0
        for entity in due:
            timer = threading.Timer(window, _fire_local, args=(app, entity))
            timer.daemon = True
            pending[entity] = timer
            timer.start()


def _fire_local(app: Flask, entity: str) -> None:
    with _timers_lock:
        app.extensions.get(_TIMERS_KEY, {}).pop(entity, None)
    with app.app_context():
        _submit(entity)


def tick(entity: str, deadline: float) -> str:
    """RQ job: wait until the window ends, then submit the live run of ``entity``."""
    time.sleep(max(0.0, deadline - time.time()))
    with runtime.app().app_context():
        # Cleared before submitting: an event from now on opens the next window.
        runtime.redis_connection().delete(KEY.format(entity=entity))
        return _submit(entity)


def _submit(entity: str) -> str:
    from addon.runs import AlreadyRunning
    from addon.sync.live import OPERATIONS, entities_waiting
    from jobs.runs import submit

    try:
        if entity not in entities_waiting():
            return "nothing waiting"
        run = submit(OPERATIONS[entity], trigger="live")
    except AlreadyRunning as exc:
        # Its end calls after_run, which nudges again.
        log.info("live %s waits: %s", entity, exc)
        return "waiting for a run"
    except Exception:  # a timer thread must not die silently; the next event or run end retries
        log.exception("could not submit the live %s run", entity)
        return "failed"
    return f"submitted run {run.id}"


def after_run(operation: str, status: str) -> None:
    """A run ended: events that waited for it (or arrived during it) get their live run."""
    from addon.sync.live import ENTITY_OF_OPERATION, entities_waiting

    if operation in ENTITY_OF_OPERATION and status == "failed":
        # A live run that could not work (a connection needing attention) is not retried in a
        # loop: its events wait for the next event, the next run, or the cron's full sync.
        return
    try:
        nudge(entities_waiting())
    except Exception:  # the run is over and recorded; a missed nudge waits for the next event
        log.warning("could not start the live runs after %s", operation, exc_info=True)
