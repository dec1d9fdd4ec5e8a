"""Text from outside (billing records, form fields, command arguments, foreign answers).

C0 control characters have no place in a customer name or a setting, and NUL cannot even be
stored in a PostgreSQL text column: one such byte in one record must not stop a whole export.
Each entrance calls this module once: the Splynx client on every decoded answer, the add-on's
blueprint and the portal on every form, the CLI on every argument.

Answers from a host that does not speak the expected protocol are shown only as a short,
escaped excerpt: never echoed whole into a page or a log line.
"""

from __future__ import annotations

import json
import re
from typing import Any

# C0 controls and DEL, except tab, line feed and carriage return (addresses and notes keep lines).
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
EXCERPT_CHARS = 80


def has_control(text: str) -> bool:
    return bool(_CONTROL.search(text))


def strip_controls(value: Any) -> Any:
    """``value`` with control characters removed from every string in it (keys included)."""
    if isinstance(value, str):
        return _CONTROL.sub("", value) if _CONTROL.search(value) else value
    if isinstance(value, dict):
        return {strip_controls(key): strip_controls(item) for key, item in value.items()}
    if isinstance(value, list):
        return [strip_controls(item) for item in value]
    return value


# Where a JSON text can hold a control character once decoded: a strict parser refuses raw
# C0 bytes in strings, so only a \u escape of one, or a raw DEL, can bring one in.
_JSON_CONTROL = re.compile(r"\\u00[01][0-9a-fA-F]|\\u007[fF]|\x7f")


def loads_clean(text: str) -> Any:
    """``json.loads(text)`` with control characters removed from every string in it.

    Most answers hold none, so the walk over every value runs only when the text could.
    """
    value = json.loads(text)
    return strip_controls(value) if _JSON_CONTROL.search(text) else value


def first_control(values) -> str | None:
    """The first of ``values`` (strings) holding a control character, for a refusal message."""
    for text in values:
        if isinstance(text, str) and has_control(text):
            return text
    return None


def excerpt(content: bytes | str | None, limit: int = EXCERPT_CHARS) -> str:
    """A short, escaped rendering of a foreign body: printable ASCII only, at most ``limit``."""
    if not content:
        return "(empty body)"
    text = content.decode("utf-8", errors="replace") if isinstance(content, bytes) else content
    text = " ".join(text.split())
    escaped = text.encode("ascii", errors="backslashreplace").decode("ascii")
    escaped = _CONTROL.sub(lambda match: f"\\x{ord(match.group()):02x}", escaped)
    return repr(escaped[:limit] + ("..." if len(escaped) > limit else ""))
