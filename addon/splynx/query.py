"""Splynx search parameters and their PHP bracket wire format (docs/splynx-api.md §5)."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, datetime
from decimal import Decimal
from typing import Any
from urllib.parse import urlencode


def wire_value(value: Any) -> str:
    """Render one scalar the way Splynx stores it (dates ISO, datetimes with a space, bools 0/1)."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "1" if value else "0"
    if isinstance(value, datetime):
        return value.strftime("%Y-%m-%d %H:%M:%S")
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return format(value, "f")
    return str(value)


def php_pairs(params: Any, prefix: str | None = None) -> list[tuple[str, str]]:
    """Flatten nested dicts/lists into ``http_build_query``-style key/value pairs.

    Splynx's PHP server reads ``a[b][0]=x`` as nested arrays; lists get
    numeric indexes, as PHP's encoder gives them (docs/splynx-api.md §5.2).
    """
    pairs: list[tuple[str, str]] = []
    items = params.items() if isinstance(params, Mapping) else enumerate(params)
    for key, value in items:
        name = f"{prefix}[{key}]" if prefix is not None else str(key)
        if isinstance(value, Mapping | list | tuple):
            pairs.extend(php_pairs(value, name))
        else:
            pairs.append((name, wire_value(value)))
    return pairs


def php_query(params: Mapping[str, Any]) -> str:
    """Percent-encoded query string for ``params`` (brackets and operators encoded too)."""
    return urlencode(php_pairs(params))


def search_params(
    search: Mapping[str, Any] | None = None,
    additional: Mapping[str, Any] | None = None,
    order: Mapping[str, str] | None = None,
) -> dict[str, Any]:
    """Assemble ``main_attributes`` / ``additional_attributes`` / ``order`` parameters.

    A filter value is a bare value (equality) or ``[operator, operand...]``,
    e.g. ``{"partner_id": ["IN", [1, 2]], "date": [">=", date(2025, 1, 1)]}``.
    """
    params: dict[str, Any] = {}
    if search:
        params["main_attributes"] = dict(search)
    if additional:
        params["additional_attributes"] = dict(additional)
    if order:
        params["order"] = dict(order)
    return params
