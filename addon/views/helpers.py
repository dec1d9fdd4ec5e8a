"""Small pieces the page modules share: pagination, run summaries, fix links."""

from __future__ import annotations

from dataclasses import dataclass
from math import ceil
from typing import Any

from flask import request, url_for
from sqlalchemy import func, select

from addon.extension import session
from addon.models import SyncRun
from addon.sync import entities

PAGE_SIZE = 50
ACTIVE_STATUSES = ("queued", "running")


@dataclass
class Page:
    items: list
    number: int
    pages: int
    total: int

    def url(self, number: int) -> str:
        values: dict[str, Any] = {**(request.view_args or {}), **request.args.to_dict(), "page": number}
        return url_for(request.endpoint or "", **values)


def paginate(query, count_query, size: int = PAGE_SIZE) -> Page:
    """One page of ``query`` (``?page=N``), with the total from ``count_query``."""
    total = session().scalar(count_query) or 0
    pages = max(1, ceil(total / size))
    number = min(max(request.args.get("page", 1, type=int) or 1, 1), pages)
    items = session().scalars(query.limit(size).offset((number - 1) * size)).all()
    return Page(items=list(items), number=number, pages=pages, total=total)


def last_runs(operations) -> dict[str, SyncRun]:
    """The latest run of each operation in ``operations``."""
    latest = (
        select(SyncRun.operation, func.max(SyncRun.id).label("id"))
        .where(SyncRun.operation.in_(list(operations)))
        .group_by(SyncRun.operation)
        .subquery()
    )
    runs = session().scalars(select(SyncRun).join(latest, SyncRun.id == latest.c.id))
    return {run.operation: run for run in runs}


def fix_url(fix_kind: str | None, fix_ref: str | None) -> str | None:
    """The page that fixes a problem: its mapping row, or its record."""
    if not fix_kind:
        return None
    from addon.views.mappings import MAPPING_PAGES

    for page, kinds in MAPPING_PAGES.items():
        if fix_kind in kinds:
            anchor = f"row-{fix_kind}-{fix_ref}" if fix_ref else None
            return url_for("netsuite.mappings", page=page, _anchor=anchor)
    if entities.find(fix_kind) is not None:
        if fix_kind == entities.CUSTOMER.name and fix_ref:
            return url_for("netsuite.customers", billing_id=fix_ref)
        if fix_ref and fix_ref.isdigit():
            return url_for("netsuite.record_detail", entity=fix_kind, billing_id=fix_ref)
        return url_for("netsuite.records", entity=fix_kind)
    if fix_kind in ("config", "settings", "connection"):
        return url_for("netsuite.config")
    from addon import settings

    if fix_kind in settings.spec_by_key():  # a setting, e.g. the rounding item
        return url_for("netsuite.config", _anchor=fix_kind)
    return None
