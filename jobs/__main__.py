"""``python -m jobs worker|scheduler|sweep``: the same commands without the flask CLI.

The app comes from ``NETSUITE_ADDON_APP_FACTORY`` (default ``wsgi:create_app``).
"""

from __future__ import annotations

import click

from jobs import runtime
from jobs.cli import scheduler_command, sweep_command, worker_command


@click.group()
def main() -> None:
    """NetSuite add-on job processes."""


main.add_command(worker_command)
main.add_command(scheduler_command)
main.add_command(sweep_command)

if __name__ == "__main__":
    with runtime.app().app_context():
        main()
