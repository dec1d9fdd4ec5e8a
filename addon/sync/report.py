"""Plain-text rendering of an operation's result for the CLI: aligned tables, money as money.

Columns holding numbers or amounts are right-aligned; amounts go through the same formatter
as the pages (addon/money.py) so a terminal and a browser show the same figures.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from addon.money import Formatter

MAX_LIST_ROWS = 25


def _formatter() -> Formatter:
    try:
        return Formatter.from_settings()
    except RuntimeError:  # outside an application context: no settings to read
        return Formatter()


def table(headers: Sequence[str], rows: Sequence[Sequence[Any]], right: Sequence[bool] | None = None,
          indent: str = "  ") -> list[str]:  # fmt: skip
    """Lines of a table whose columns are as wide as their widest cell; ``right`` aligns per column."""
    cells = [[("-" if v in (None, "") else str(v)) for v in row] for row in rows]
    right = list(right) if right is not None else [False] * len(headers)
    widths = [max([len(h)] + [len(r[i]) for r in cells]) for i, h in enumerate(headers)]

    def line(values: Sequence[str]) -> str:
        parts = [
            v.rjust(w) if right[i] else v.ljust(w)
            for i, (v, w) in enumerate(zip(values, widths, strict=True))
        ]
        return (indent + "  ".join(parts)).rstrip()

    return [line(list(headers)), indent + "  ".join("-" * w for w in widths), *(line(r) for r in cells)]


def format_counts(result: dict[str, dict]) -> list[str]:
    """{'customers': {'created': 3}, 'invoices': {...}} as one row per part, one column per outcome."""
    parts = {
        k: v for k, v in result.items() if isinstance(v, dict) and all(isinstance(n, int) for n in v.values())
    }
    outcomes = sorted({o for counts in parts.values() for o in counts})
    rows = [[part.replace("_", " "), *(counts.get(o, 0) for o in outcomes)] for part, counts in parts.items()]
    lines = table(
        ["records", *(o.replace("_", " ") for o in outcomes)], rows, [False] + [True] * len(outcomes)
    )
    for key, value in result.items():
        if key not in parts:
            lines.append(
                f"  {key.replace('_', ' ')}: {value if not isinstance(value, dict) else _inline(value)}"
            )
    return lines


def _inline(value: dict) -> str:
    return ", ".join(f"{k.replace('_', ' ')} {v}" for k, v in value.items())


def format_reconciliation(report: dict, money: Callable[[Any], str] | None = None) -> str:
    """Both sides per document type, exported-only totals, the verdict and what disagrees."""
    money = money or _formatter()
    label = getattr(money, "label", "")
    lines = [
        f"  period {report['date_from']} to {report['date_to']}" + (f", amounts in {label}" if label else "")
    ]
    rows = [
        [entity.replace("_", " "), money(side["billing_total"]), side["billing_count"],
         money(side["exported_billing_total"]), money(side["netsuite_total"]), side["netsuite_count"],
         "agrees" if side["exported_agree"] else "DIFFERS"]
        for entity, side in report["entities"].items()
    ]  # fmt: skip
    lines += table(
        ["type", "billing", "count", "exported", "NetSuite", "count", "exported docs"],
        rows, [False, True, True, True, True, True, False],
    )  # fmt: skip
    waiting = sum(side["not_exported"] for side in report["entities"].values())
    if report["agree"]:
        lines.append("  Both systems agree to the cent.")
    elif report["exported_agree"]:
        lines.append(
            f"  Every exported document agrees to the cent; {waiting} billing documents are not "
            "exported yet (see the problems list)."
        )
    else:
        lines.append("  The systems DISAGREE on these documents:")
        wrong = [d for d in report["discrepancies"] if d["problem"] != "not_exported"][:MAX_LIST_ROWS]
        lines += table(
            ["type", "billing id", "number", "problem", "billing", "NetSuite"],
            [[d["entity"].replace("_", " "), d["billing_id"], d["number"], d["problem"].replace("_", " "),
              money(d["billing_total"]), money(d["netsuite_total"])] for d in wrong],
            [False, True, False, False, True, True], indent="    ",
        )  # fmt: skip
    return "\n".join(lines)


def _is_counts(value: Any) -> bool:
    return isinstance(value, dict) and bool(value) and all(isinstance(n, int) for n in value.values())


def _rows_table(items: list[dict], indent: str = "  ") -> list[str]:
    headers = list(dict.fromkeys(k for item in items for k in item))
    rows = [[item.get(h) for h in headers] for item in items[:MAX_LIST_ROWS]]
    right = [
        all(isinstance(item.get(h), int | float) for item in items if item.get(h) is not None)
        for h in headers
    ]
    lines = table([h.replace("_", " ") for h in headers], rows, right, indent=indent)
    if len(items) > MAX_LIST_ROWS:
        lines.append(f"{indent}… and {len(items) - MAX_LIST_ROWS} more")
    return lines


def _generic(value: Any) -> list[str]:
    if isinstance(value, list) and value and all(isinstance(v, dict) for v in value):
        return _rows_table(value)
    if not isinstance(value, dict):
        return [f"  {value}"]
    if any(_is_counts(v) for v in value.values()):
        lines = format_counts({k: v for k, v in value.items() if _is_counts(v)})
        rest = {k: v for k, v in value.items() if not _is_counts(v)}
    else:
        lines, rest = [], value
    for key, item in rest.items():
        if isinstance(item, list) and item and all(isinstance(v, dict) for v in item):
            lines.append(f"  {key.replace('_', ' ')}:")
            lines += _rows_table(item, indent="    ")
        else:
            shown = _inline_any(item) if isinstance(item, dict | list) else item
            lines.append(f"  {key.replace('_', ' ')}: {'-' if shown in (None, '') else shown}")
    return lines


def _inline_any(value: Any) -> str:
    if isinstance(value, dict):
        return _inline(value)
    return ", ".join(str(v) for v in value[:MAX_LIST_ROWS]) + (" …" if len(value) > MAX_LIST_ROWS else "")


def format_result(operation: str, result: dict) -> str:
    """The result as text: the reconciliation as its table, counts per part as a table, else key/value rows."""
    if not result:
        return ""
    if operation == "reconcile" and "entities" in result:
        return format_reconciliation(result)
    return "\n".join(_generic(result))


def format_run(run) -> str:
    """A finished run as the CLI and the demo print it: status, counts aligned, message, result."""
    counts = run.counts or {}
    width = max([len(k) for k in counts] + [7])
    lines = [f"run {run.id} {run.operation}: {run.status}"]
    lines += [f"  {outcome:<{width}}  {count:>7}" for outcome, count in sorted(counts.items())]
    if run.message:
        lines.append(f"  {run.message}")
    if run.result:
        lines.append(format_result(run.operation, run.result))
    return "\n".join(lines)
