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


def format_reconciliation(report: dict) -> str:
    """Both sides per document type, exported-only totals, the verdict and what disagrees."""
    header = f"  {'type':<12}{'billing':>14}{'count':>7}{'exported':>14}{'NetSuite':>14}{'count':>7}  agrees"
    lines = [f"  period {report['date_from']} to {report['date_to']}", header]
    for entity, side in report["entities"].items():
        lines.append(
            f"  {entity:<12}{side['billing_total']:>14}{side['billing_count']:>7}"
            f"{side['exported_billing_total']:>14}{side['netsuite_total']:>14}{side['netsuite_count']:>7}"
            f"  {'yes' if side['exported_agree'] else 'NO'}"
        )
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
        lines += [
            f"    {d['entity']} {d['billing_id']} ({d['number']}): {d['problem']}, "
            f"billing {d['billing_total']} vs NetSuite {d['netsuite_total']}"
            for d in report["discrepancies"]
            if d["problem"] != "not_exported"
        ][:MAX_LIST_ROWS]
    return "\n".join(lines)


def format_result(operation: str, result: dict) -> str:
    """The result as text: the reconciliation as a table, anything else indented."""
    if not result:
        return ""
    if operation == "reconcile" and "entities" in result:
        return format_reconciliation(result)
    return "\n".join(_lines(result, 1))
