"""The open problems: each cause with the records it holds back, biggest first."""

from __future__ import annotations

from sqlalchemy import func, select

from addon.extension import session
from addon.models import Problem, ProblemRecord


def open_problems() -> list[Problem]:
    """Unresolved problems ordered by how many records they block (then most recent first).

    Each ``Problem`` carries ``count`` and ``records`` (entity, billing id, label)
    for the CLI and the Problems page; ``fix_kind``/``fix_ref`` say what fixes it.
    """
    blocked = (
        select(ProblemRecord.problem_id, func.count().label("n"))
        .group_by(ProblemRecord.problem_id)
        .subquery()
    )
    query = (
        select(Problem)
        .outerjoin(blocked, blocked.c.problem_id == Problem.id)
        .where(Problem.resolved.is_(False))
        .order_by(func.coalesce(blocked.c.n, 0).desc(), Problem.last_seen.desc(), Problem.id)
    )
    return list(session().scalars(query))
