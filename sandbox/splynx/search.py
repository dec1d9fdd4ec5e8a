"""The Splynx list-query model: PHP bracket parameters, filter operators, order, paging.

Splynx is PHP, so nested query parameters arrive in ``http_build_query`` form
(``main_attributes[id][0]=>``); see docs/splynx-api.md §5.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from decimal import Decimal, InvalidOperation

OPERATORS = frozenset(
    {"=", "!=", "<>", ">", "<", ">=", "<=", "IS", "REGEXP", "BETWEEN", "LIKE", "IN", "FIND_IN_SET"}
)

_KEY_PART = re.compile(r"\[([^\]]*)\]")


class SearchError(ValueError):
    """The query cannot be evaluated (unknown operator, malformed operand, bad paging)."""


def split_key(key: str) -> list[str]:
    """``a[b][0]`` -> ``['a', 'b', '0']``; ``a[]`` gives an empty segment (PHP append)."""
    head, bracket, _ = key.partition("[")
    if not bracket:
        return [key]
    return [head, *_KEY_PART.findall(key[len(head) :])]


def parse_php_pairs(pairs: Iterable[tuple[str, str]]) -> dict:
    """Rebuild the nested structure PHP's ``$_GET`` would see from flat bracket pairs.

    Dicts whose keys are exactly 0..n-1 become lists, as PHP arrays with numeric
    keys are what ``http_build_query`` encoded in the first place.
    """
    root: dict = {}
    for key, value in pairs:
        parts = split_key(key)
        node = root
        for part in parts[:-1]:
            if part == "":
                part = str(len(node))
            child = node.get(part)
            if not isinstance(child, dict):
                child = {}
                node[part] = child
            node = child
        last = parts[-1] if parts[-1] != "" else str(len(node))
        node[last] = value
    return _listify(root)


def _listify(node):
    if not isinstance(node, dict):
        return node
    converted = {k: _listify(v) for k, v in node.items()}
    if converted and all(k.isdigit() for k in converted):
        indexes = sorted(int(k) for k in converted)
        if indexes == list(range(len(indexes))):
            return [converted[str(i)] for i in indexes]
    return converted


def _number(value) -> Decimal | None:
    if isinstance(value, bool) or value is None:
        return None
    if isinstance(value, int | Decimal):
        return Decimal(value)
    if isinstance(value, float):
        return Decimal(str(value))
    text = str(value).strip()
    if not re.fullmatch(r"-?\d+(\.\d+)?", text):
        return None
    try:
        return Decimal(text)
    except InvalidOperation:
        return None


def _compare(left, right) -> int:
    """MySQL-like comparison: numerically when both sides look numeric, else as text."""
    ln, rn = _number(left), _number(right)
    if ln is not None and rn is not None:
        return (ln > rn) - (ln < rn)
    ls = "" if left is None else str(left)
    rs = "" if right is None else str(right)
    # Default MySQL collations compare case-insensitively.
    ls, rs = ls.lower(), rs.lower()
    return (ls > rs) - (ls < rs)


def _like(value, pattern: str) -> bool:
    text = "" if value is None else str(value)
    if "%" not in pattern and "_" not in pattern:
        # The doc example ['LIKE', 'durden'] finds "Tyler Durden": a bare operand is a
        # contains-match (unconfirmed whether the server adds the % itself, docs/splynx-api.md §5.1).
        return pattern.lower() in text.lower()
    regex = "".join(".*" if c == "%" else "." if c == "_" else re.escape(c) for c in pattern)
    return re.fullmatch(regex, text, flags=re.IGNORECASE | re.DOTALL) is not None


def _equality_key(value):
    """Values equal under ``_compare`` share this key (numbers numerically, text case-folded)."""
    number = _number(value)
    if number is not None:
        return ("n", number)
    return ("s", "" if value is None else str(value).lower())


def _as_list(condition):
    """A condition sent as PHP's indexed map (``[0]=>IN&[1]=>...``) as the list it stands for."""
    if isinstance(condition, dict):
        return [condition[k] for k in sorted(condition, key=str)]
    return condition


def _in_options(args: list) -> list:
    """IN's operands, sent either as one list or as separate values."""
    return args[0] if len(args) == 1 and isinstance(args[0], list) else args


def compile_condition(condition):
    """One condition as a predicate, so IN over many ids costs a set lookup per record."""
    condition = _as_list(condition)
    if isinstance(condition, list) and condition and str(condition[0]).upper() == "IN":
        keys = {_equality_key(option) for option in _in_options(condition[1:])}
        return lambda value: _equality_key(value) in keys
    matches(None, condition)  # a malformed condition is refused even when no record is tested
    return lambda value: matches(value, condition)


def matches(value, condition) -> bool:
    """True when a stored value satisfies one ``main_attributes`` condition."""
    condition = _as_list(condition)
    if not isinstance(condition, list):
        return _compare(value, condition) == 0
    if not condition:
        raise SearchError("Empty condition")
    op = str(condition[0]).upper()
    args = condition[1:]
    if op not in OPERATORS:
        raise SearchError(f"Unknown operator {condition[0]!r}")
    if op == "IN":
        options = _in_options(args)
        return any(_compare(value, option) == 0 for option in options)
    if op == "BETWEEN":
        if len(args) != 2:
            raise SearchError("BETWEEN needs two operands")
        return _compare(value, args[0]) >= 0 and _compare(value, args[1]) <= 0
    if len(args) != 1:
        raise SearchError(f"{op} needs one operand")
    operand = args[0]
    if op == "=":
        return _compare(value, operand) == 0
    if op in ("!=", "<>"):
        return _compare(value, operand) != 0
    if op == ">":
        return _compare(value, operand) > 0
    if op == "<":
        return _compare(value, operand) < 0
    if op == ">=":
        return _compare(value, operand) >= 0
    if op == "<=":
        return _compare(value, operand) <= 0
    if op == "LIKE":
        return _like(value, str(operand))
    if op == "REGEXP":
        return re.search(str(operand), "" if value is None else str(value), flags=re.IGNORECASE) is not None
    if op == "FIND_IN_SET":
        return str(operand) in ("" if value is None else str(value)).split(",")
    # IS: operand form unconfirmed (docs/splynx-api.md §5.1); accept NULL / NOT NULL, empty strings count as
    # NULL.
    is_null = value is None or value == ""
    wanted = str(operand).strip().upper()
    if wanted == "NULL":
        return is_null
    if wanted == "NOT NULL":
        return not is_null
    raise SearchError("IS accepts NULL or NOT NULL")


def _int_param(query: dict, name: str) -> int | None:
    raw = query.get(name)
    if raw in (None, ""):
        return None
    try:
        number = int(str(raw))
    except ValueError as exc:
        raise SearchError(f"{name} must be an integer") from exc
    if number < 0:
        raise SearchError(f"{name} must not be negative")
    return number


def select(
    records: Iterable[dict],
    query: dict,
    known_fields: set[str],
    known_additional: set[str],
    by_id: Mapping[int, dict] | None = None,
) -> list[dict]:
    """Filter and order ``records`` per a parsed query (paging aside).

    ``known_fields`` are the main attributes of the entity; filtering or ordering by
    anything else is a bad request (MySQL would fail on an unknown column). With ``by_id``
    (the table by id), an ``id`` condition of ``=`` or ``IN`` reads only those rows, as the
    primary key would.
    """
    main = query.get("main_attributes") or {}
    extra = query.get("additional_attributes") or {}
    if not isinstance(main, dict) or not isinstance(extra, dict):
        raise SearchError("main_attributes and additional_attributes must be maps")
    for name in main:
        if name not in known_fields:
            raise SearchError(f"Unknown attribute {name!r}")
    for name in extra:
        if name not in known_additional:
            raise SearchError(f"Unknown additional attribute {name!r}")

    main_tests = [(name, compile_condition(cond)) for name, cond in main.items()]
    extra_tests = [(name, compile_condition(cond)) for name, cond in extra.items()]
    keys = _primary_keys(main.get("id")) if by_id is not None and "id" in main else None
    if keys is not None:
        records = [by_id[key] for key in keys if key in by_id]
    selected = [
        r
        for r in records
        if all(test(r.get(name)) for name, test in main_tests)
        and all(test((r.get("additional_attributes") or {}).get(name)) for name, test in extra_tests)
    ]

    order = query.get("order") or {"id": "ASC"}
    if not isinstance(order, dict):
        raise SearchError("order must be a map")
    for name, direction in reversed(list(order.items())):
        if name not in known_fields:
            raise SearchError(f"Unknown order attribute {name!r}")
        if str(direction).upper() not in ("ASC", "DESC"):
            raise SearchError("order direction must be ASC or DESC")
        selected.sort(key=lambda r, n=name: _sort_key(r.get(n)), reverse=str(direction).upper() == "DESC")
    return selected


def _primary_keys(condition) -> list[int] | None:
    """Integer ids an ``id`` condition names (``=`` or ``IN``), or None for any other test."""
    condition = _as_list(condition)
    if not isinstance(condition, list):
        condition = ["=", condition]
    if not condition or str(condition[0]).upper() not in ("=", "IN"):
        return None
    numbers = [_number(option) for option in _in_options(condition[1:])]
    if any(n is None or n != n.to_integral_value() for n in numbers):
        return None
    return sorted({int(n) for n in numbers})


def page_of(selected: list[dict], query: dict) -> tuple[list[dict], int]:
    """The page ``limit``/``offset`` ask for, and how many records matched in all."""
    offset = _int_param(query, "offset") or 0
    limit = _int_param(query, "limit")
    # Default page size is unconfirmed (docs/splynx-api.md §5.3); real servers appear to return everything.
    page = selected[offset:] if limit is None else selected[offset : offset + limit]
    return page, len(selected)


def _sort_key(value):
    if isinstance(value, int) and not isinstance(value, bool):
        return (0, value, "")  # ids and counters: no text parsing for the common case
    number = _number(value)
    if number is not None:
        return (0, number, "")
    return (1, Decimal(0), "" if value is None else str(value).lower())
