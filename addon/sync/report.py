"""Plain-text rendering of an operation's result (reconciliation, proposed pairs, ...)."""

from __future__ import annotations

from typing import Any

MAX_LIST_ROWS = 25


def _lines(value: Any, indent: int) -> list[str]:
    pad = "  " * indent
    if isinstance(value, dict):
        out = []
        for key, item in value.items():
            if isinstance(item, dict | list) and item:
                out.append(f"{pad}{key}:")
                out += _lines(item, indent + 1)
            else:
                out.append(f"{pad}{key}: {item if item not in (None, '') else '-'}")
        return out
    if isinstance(value, list):
        out = []
        for item in value[:MAX_LIST_ROWS]:
            if isinstance(item, dict):
                out.append(pad + "- " + ", ".join(f"{k}={v}" for k, v in item.items()))
            else:
                out.append(f"{pad}- {item}")
        if len(value) > MAX_LIST_ROWS:
            out.append(f"{pad}… and {len(value) - MAX_LIST_ROWS} more")
        return out
    return [f"{pad}{value}"]


def format_result(operation: str, result: dict) -> str:
    """The result as indented text; long lists are cut with a count of the rest."""
    return "\n".join(_lines(result, 1)) if result else ""
