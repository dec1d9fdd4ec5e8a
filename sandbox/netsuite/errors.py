"""NetSuite's problem-JSON error bodies (docs/netsuite-rest.md §7) as one exception type."""

from __future__ import annotations

import json

ERROR_CONTENT_TYPE = "application/vnd.oracle.resource+json; type=error; charset=UTF-8"

_TITLES = {
    400: "Bad Request",
    401: "Unauthorized",
    403: "Forbidden",
    404: "Not Found",
    405: "Method Not Allowed",
    429: "Too Many Requests",
    500: "Internal Server Error",
    503: "Service Unavailable",
}

# docs/netsuite-rest.md §7.1: recent traffic links the RFC 9110 status sections; clients must not match on it.
_RFC_SECTIONS = {400: "15.5.1", 401: "15.5.2", 404: "15.5.5", 405: "15.5.6", 429: "15.5.1", 500: "15.6.1"}

PREFIX = "Error while accessing a resource. "


class NetSuiteError(Exception):
    """An error NetSuite reports as ``{"type", "title", "status", "o:errorDetails": [...]}``.

    ``extra`` holds the optional per-detail keys (``o:errorPath``, ``o:errorQueryParam``,
    ``o:errorHeader``, ...).
    """

    def __init__(self, status: int, code: str, detail: str, *, title: str | None = None, **extra: str):
        super().__init__(f"{status} {code}: {detail}")
        self.status = status
        self.code = code
        self.detail = detail
        self.title = title or _TITLES.get(status, "Error")
        self.extra = extra
        self.headers: dict[str, str] = {}

    def body(self) -> dict:
        """The JSON body NetSuite sends for this error."""
        detail = {"detail": self.detail, "o:errorCode": self.code}
        detail.update(self.extra)
        section = _RFC_SECTIONS.get(self.status, "15.5.1")
        return {
            "type": f"https://www.rfc-editor.org/rfc/rfc9110.html#section-{section}",
            "title": self.title,
            "status": self.status,
            "o:errorDetails": [detail],
        }

    def to_json(self) -> bytes:
        return json.dumps(self.body()).encode()


def invalid_login() -> NetSuiteError:
    """docs/netsuite-rest.md §3.1/§7.2: every TBA or bearer failure looks the same; the reason is only in the
    Login Audit Trail."""
    return NetSuiteError(
        401,
        "INVALID_LOGIN",
        "Invalid login attempt. For more details, see the Login Audit Trail in the NetSuite UI at "
        "Setup > Users/Roles > User Management > View Login Audit Trail.",
    )


def concurrency_exceeded() -> NetSuiteError:
    # docs/netsuite-rest.md §7.2: the title has been seen as "Bad Request" despite the 429 status.
    return NetSuiteError(
        429,
        "CONCURRENCY_LIMIT_EXCEEDED",
        "Concurrent request limit exceeded. Request blocked.",
        title="Bad Request",
    )


def user_error(message: str, **extra: str) -> NetSuiteError:
    return NetSuiteError(400, "USER_ERROR", PREFIX + message, **extra)


def invalid_reference(value: str, field: str, path: str) -> NetSuiteError:
    """docs/netsuite-rest.md §7.2/§10: an unknown reference id in a write body → 400 INVALID_CONTENT with
    ``o:errorPath``."""
    return NetSuiteError(
        400,
        "INVALID_CONTENT",
        PREFIX + f"You have entered an Invalid Field Value {value} for the following field: {field}",
        **{"o:errorPath": path},
    )


def invalid_search(reason: str) -> NetSuiteError:
    # docs/netsuite-rest.md §6.1/§9.12: SuiteQL rejections read "Invalid search query"; the error code is not
    # recorded in the reference — INVALID_PARAMETER is what NetSuite most plausibly sends (unconfirmed).
    return NetSuiteError(
        400,
        "INVALID_PARAMETER",
        "Invalid search query. Detailed unprocessed description follows. Search error occurred: " + reason,
    )


def invalid_parameter(param: str, message: str) -> NetSuiteError:
    # Code unconfirmed; NetSuite names the offending query parameter in o:errorQueryParam
    # (docs/netsuite-rest.md §7.1).
    return NetSuiteError(400, "INVALID_PARAMETER", PREFIX + message, **{"o:errorQueryParam": param})


def record_not_found() -> NetSuiteError:
    # docs/netsuite-rest.md §7.2: status and text confirmed; the error code is unconfirmed.
    return NetSuiteError(
        404, "NONEXISTENT_ID", "The record instance does not exist. Provide a valid record instance ID."
    )


def unknown_record_type(name: str) -> NetSuiteError:
    # docs/netsuite-rest.md §7.2: error code not recorded; status and text are.
    return NetSuiteError(404, "INVALID_RCRD_TYPE", f"Record type '{name}' does not exist.")


def no_rest_permission() -> NetSuiteError:
    # The issue this answer models reports a 400 saying the role "does not have permission"; the
    # exact code and wording are unconfirmed (docs/netsuite-oauth2-and-payments.md).
    return NetSuiteError(
        400,
        "USER_ERROR",
        PREFIX + "The role of this integration does not have permission to use REST Web Services.",
    )
