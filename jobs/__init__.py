"""Running engine operations in the background: RQ workers, or in-process without Redis.

``submit`` refuses overlapping runs and hands a run to RQ (or to this app's
in-process executor); ``run_progress`` reads a run's progress for the pages.
"""

from jobs.runs import AlreadyRunning, run_progress, run_with_progress_bar, submit

__all__ = ["AlreadyRunning", "run_progress", "run_with_progress_bar", "submit"]
