"""Running engine operations in the background: RQ workers, or in-process without Redis.

``init_app(app)`` (after the add-on's own) gives the add-on its dispatcher, ``submit`` here:
it admits a run by the add-on's rules and hands it to RQ or to this app's in-process queue;
and adds ``worker``, ``scheduler`` and ``sweep`` to ``flask netsuite``. Jobs imports the
add-on; the add-on never imports jobs.
"""

from flask import Flask

from jobs.runs import JobsDispatcher, submit

__all__ = ["init_app", "submit"]


def init_app(app: Flask) -> None:
    from addon.cli import netsuite_cli
    from addon.extension import use_dispatcher
    from jobs.cli import scheduler_command, sweep_command, worker_command

    use_dispatcher(app, JobsDispatcher())
    for command in (worker_command, scheduler_command, sweep_command):
        netsuite_cli.add_command(command)
