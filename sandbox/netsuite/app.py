"""The WSGI application: NetSuite's REST paths, auth, governance and fault injection."""

from __future__ import annotations

import json
import re
import time
import uuid
from decimal import Decimal
from urllib.parse import quote

from werkzeug.wrappers import Request, Response

from . import errors
from .auth import NonceRegistry, OAuth2Error, TokenIssuer, verify_tba
from .render import collection, record_href, render_record, render_sublist
from .state import SandboxState

PREFIX = "/services/rest"
RECORD_CT = "application/vnd.oracle.resource+json; type=singular; charset=UTF-8"
COLLECTION_CT = "application/vnd.oracle.resource+json; type=collection; charset=UTF-8"
MAX_PAGE = 1000
_RECORD_PATH = re.compile(r"^/services/rest/record/v1/([^/]+)(?:/([^/]+)(?:/([^/]+))?)?/?$")
# Harness-only paths (no real NetSuite serves anything outside /services): answered before the
# concurrency gate, so reading the counters never takes a slot nor counts as a request.
STATS_PATH = "/__sandbox/stats"
RESET_PATH = "/__sandbox/reset"
_LIST_FILTER = re.compile(r'^\s*(\w+)\s+(IS|EQUAL|IS_NOT|START_WITH|CONTAIN)\s+"([^"]*)"\s*$', re.IGNORECASE)


def _json(body, status: int = 200, content_type: str = RECORD_CT) -> Response:
    # Money is Decimal inside; JSON numbers on the wire (as NetSuite sends them).
    return Response(json.dumps(body, default=_decimal), status=status, content_type=content_type)


def _decimal(value):
    if isinstance(value, Decimal):
        return float(value)
    raise TypeError(type(value).__name__)


def _error(error: errors.NetSuiteError) -> Response:
    response = Response(error.to_json(), status=error.status, content_type=errors.ERROR_CONTENT_TYPE)
    for name, value in error.headers.items():
        response.headers[name] = value
    return response


class NetSuiteSandbox:
    """A WSGI app behaving like SuiteTalk REST for one account (``state``)."""

    def __init__(self, state: SandboxState):
        self.state = state
        self.nonces = NonceRegistry()
        self.tokens = TokenIssuer()

    def __call__(self, environ, start_response):
        request = Request(environ)
        harness = self._harness(request)
        if harness is not None:
            return harness(environ, start_response)
        if not self.state.enter():
            response = _error(errors.concurrency_exceeded())
        else:
            try:
                response = self._handle(request)
            finally:
                self.state.leave()
        response.headers["X-N-OperationId"] = str(uuid.uuid4())
        response.headers["X-NetSuite-JobId"] = str(uuid.uuid4())
        return response(environ, start_response)

    def _harness(self, request: Request) -> Response | None:
        """The benchmark's counters: ``GET /__sandbox/stats`` and ``POST /__sandbox/reset``."""
        if request.path == STATS_PATH and request.method == "GET":
            body = {
                **self.state.counters.snapshot(),
                "concurrency_limit": self.state.concurrency_limit,
            }
            return Response(json.dumps(body), content_type="application/json")
        if request.path == RESET_PATH and request.method == "POST":
            self.state.reset_counters()
            return Response(status=204)
        return None

    # -- request pipeline ------------------------------------------------------------------------

    def _handle(self, request: Request) -> Response:
        state = self.state
        before, after = state.draw_faults()
        if before == "429":
            state.count_429()
            return _error(errors.concurrency_exceeded())
        if before == "5xx":
            return _error(errors.NetSuiteError(500, "UNEXPECTED_ERROR", "An unexpected error has occurred."))
        started = time.monotonic()
        is_write = request.method in ("POST", "PATCH", "PUT", "DELETE") and "/record/" in request.path
        try:
            response = self._dispatch(request, is_write)
        except errors.NetSuiteError as error:
            response = _error(error)
        # The latency is the request's whole service time, as NetSuite's own is: the sandbox's
        # processing counts towards it rather than on top (so N × L / C stays the true bound).
        delay = state.write_latency if (is_write and state.write_latency is not None) else state.latency
        remaining = delay - (time.monotonic() - started)
        if remaining > 0:
            time.sleep(remaining)  # outside every lock: slow requests hold only their concurrency slot
        if after == "slow":
            time.sleep(state.faults.slow_seconds)
        elif after == "drop":
            self._drop_connection(request)
        return response

    @staticmethod
    def _drop_connection(request: Request):
        """Close the socket with no response: the client sees a dropped connection after commit."""
        # sandbox.server closes the connection without writing anything on this exception.
        raise ConnectionAbortedError("sandbox fault: dropped connection")

    def _urls(self, request: Request) -> tuple[str, str]:
        """(base URL the client used, full URL for the OAuth base string) — from Host, not config."""
        environ = request.environ
        origin = f"{environ['wsgi.url_scheme']}://{request.host}"
        raw = environ.get("RAW_URI") or environ.get("REQUEST_URI")
        if not raw:
            raw = quote(environ.get("PATH_INFO", "")) + (
                "?" + environ["QUERY_STRING"] if environ.get("QUERY_STRING") else ""
            )
        return origin + PREFIX, origin + raw

    def _authenticate(self, request: Request, url: str) -> str:
        authorization = request.headers.get("Authorization", "")
        if authorization.startswith("Bearer "):
            return self.tokens.verify(self.state, authorization[7:].strip())
        if authorization.startswith("OAuth "):
            return verify_tba(self.state, request.method, url, authorization, request.get_data(), self.nonces)
        raise errors.invalid_login()

    def _dispatch(self, request: Request, is_write: bool) -> Response:
        state = self.state
        base, url = self._urls(request)
        path = request.path
        if path == PREFIX + "/auth/oauth2/v1/token" and request.method == "POST":
            state.count("POST token")
            if state.take_token_5xx():
                return _error(
                    errors.NetSuiteError(503, "SERVICE_UNAVAILABLE", "Service temporarily unavailable.")
                )
            return self._token(request, base)
        try:
            principal = self._authenticate(request, url)
            if state.take_401():
                raise errors.invalid_login()
        except errors.NetSuiteError:
            state.count("401")
            raise
        if not state.rest_permission:
            state.count("400 permission", token=principal)
            raise errors.no_rest_permission()
        if path == PREFIX + "/query/v1/suiteql":
            state.count("POST suiteql", token=principal, suiteql=True)
            if request.method != "POST":
                raise errors.NetSuiteError(405, "INVALID_METHOD", "Only POST is supported for SuiteQL.")
            return self._suiteql(request, base)
        if path == PREFIX + "/system/v1/governanceLimits" and request.method == "GET":
            state.count("GET governanceLimits", token=principal)
            return _json(state.governance_limits())
        match = _RECORD_PATH.match(path)
        if match is None:
            state.count(f"{request.method} unknown", token=principal)
            raise errors.NetSuiteError(404, "INVALID_URL", f"Invalid URL: {path}")
        type_name, key, sub = match.groups()
        record_type = state.store.record_type(type_name)
        state.count(f"{request.method} {record_type.name}", token=principal, write=is_write)
        return self._record(request, base, record_type, key, sub)

    # -- endpoints -------------------------------------------------------------------------------

    def _token(self, request: Request, base: str) -> Response:
        try:
            body = self.tokens.exchange(self.state, request.form.to_dict(), base + "/auth/oauth2/v1/token")
        except OAuth2Error as exc:
            return Response(
                json.dumps({"error": exc.error, "error_description": exc.description}),
                status=400,
                content_type="application/json",
            )
        return Response(json.dumps(body), status=200, content_type="application/json")

    @staticmethod
    def _paging(request: Request) -> tuple[int, int]:
        try:
            limit = int(request.args.get("limit", MAX_PAGE))
            offset = int(request.args.get("offset", 0))
        except ValueError:
            raise errors.invalid_parameter("limit", "Invalid value for limit or offset.") from None
        if not 1 <= limit <= MAX_PAGE:
            # docs/netsuite-rest.md §6.1/§8: ≤1000 rows per page; NetSuite's reply to a larger value is
            # unconfirmed.
            raise errors.invalid_parameter("limit", f"The limit must be between 1 and {MAX_PAGE}.")
        if offset < 0 or offset % limit:
            # docs/netsuite-rest.md §9.12: an offset that is not a multiple of the limit is rejected.
            raise errors.invalid_parameter("offset", "The offset must be a multiple of the limit.")
        return limit, offset

    def _suiteql(self, request: Request, base: str) -> Response:
        # docs/netsuite-rest.md §11: whether `Prefer: transient` is strictly required is unconfirmed; the
        # sandbox insists (configurable) so a client that forgets it is caught.
        prefer = request.headers.get("Prefer", "")
        if self.state.require_prefer_transient and "transient" not in prefer.lower():
            raise errors.NetSuiteError(
                400,
                "INVALID_HEADER",
                errors.PREFIX + "SuiteQL requests must carry the header 'Prefer: transient'.",
                **{"o:errorHeader": "Prefer"},
            )
        limit, offset = self._paging(request)
        body = self._body(request)
        query = body.get("q") if isinstance(body, dict) else None
        if not isinstance(query, str) or not query.strip():
            raise errors.invalid_search("The q property is missing.")
        rows = self.state.store.suiteql(query)
        page = rows[offset : offset + limit]
        envelope = collection(page, len(rows), limit=limit, offset=offset, href=base + "/query/v1/suiteql")
        response = _json(envelope, content_type=COLLECTION_CT)
        response.headers["Preference-Applied"] = "transient"
        return response

    @staticmethod
    def _body(request: Request):
        data = request.get_data()
        if not data:
            return {}
        try:
            return json.loads(data, parse_float=Decimal)
        except ValueError:
            raise errors.NetSuiteError(
                400, "INVALID_CONTENT", "Invalid content in the request body."
            ) from None

    def _record(self, request: Request, base: str, record_type, key: str | None, sub: str | None) -> Response:
        store = self.state.store
        method = request.method
        replace = [name for name in request.args.get("replace", "").split(",") if name]
        validation = request.headers.get("X-NetSuite-PropertyNameValidation", "Warning").strip().lower()
        if key is None:
            if method == "GET":
                return self._list(request, base, record_type)
            if method == "POST":
                result = store.create(record_type.name, self._body(request), name_validation=validation)
                return self._written(base, result)
        elif sub is None:
            if method == "GET":
                record = store.get(record_type.name, key)
                expand = request.args.get("expandSubResources", "").lower() == "true"
                simple = request.args.get("simpleEnumFormat", "").lower() == "true"
                return _json(
                    render_record(store, record_type, record, base, expand=expand, simple_enum=simple)
                )
            if method == "PATCH":
                result = store.update(
                    record_type.name, key, self._body(request), replace=replace, name_validation=validation
                )
                return self._written(base, result)
            if method == "PUT":
                if not key.startswith("eid:"):
                    raise errors.user_error("PUT is supported only with an external ID (eid:) in the URL.")
                result = store.upsert(
                    record_type.name,
                    key[4:],
                    self._body(request),
                    replace=replace,
                    name_validation=validation,
                )
                # Oracle does not say what Location holds after an upsert: the profile decides.
                as_requested = self.state.profile.upsert_location == "eid"
                return self._written(base, result, location_key=key if as_requested else None)
            if method == "DELETE":
                store.delete(record_type.name, key)
                return Response(status=204)
        elif method == "GET":
            canonical = {name.lower(): name for name in record_type.sublists}
            if sub.lower() not in canonical:
                raise errors.NetSuiteError(404, "INVALID_URL", f"Invalid URL: {request.path}")
            record = store.get(record_type.name, key)
            return _json(
                render_sublist(store, record_type, record, canonical[sub.lower()], base),
                content_type=COLLECTION_CT,
            )
        raise errors.NetSuiteError(405, "INVALID_METHOD", f"Method {method} is not allowed here.")

    @staticmethod
    def _written(base: str, result, location_key: str | None = None) -> Response:
        response = Response(status=204)
        response.headers["Location"] = record_href(base, result.record_type, location_key or result.id)
        for warning in result.warnings:
            response.headers.add("X-NetSuite-Warning", warning)
        for name in result.unknown_fields:
            response.headers.add("X-NetSuite-PropertyValidation", f"Unknown field name {name}.")
        return response

    def _list(self, request: Request, base: str, record_type) -> Response:
        limit, offset = self._paging(request)
        store = self.state.store
        ids = store.ids(record_type.name)
        query = request.args.get("q")
        if query:
            ids = [record_id for record_id in ids if _matches(store.get(record_type.name, record_id), query)]
        items = [
            {
                "links": [{"rel": "self", "href": record_href(base, record_type.name, record_id)}],
                "id": record_id,
            }
            for record_id in ids[offset : offset + limit]
        ]
        href = f"{base}/record/v1/{record_type.name.lower()}"
        extra = {"q": query} if query else None
        return _json(
            collection(items, len(ids), limit=limit, offset=offset, href=href, extra=extra),
            content_type=COLLECTION_CT,
        )


def _matches(record: dict, query: str) -> bool:
    """A small subset of the record-list ``q`` filter (docs/netsuite-rest.md §4.2): ``field OP "value"``
    joined by AND."""
    fields = {name.lower(): value for name, value in record.items()}
    for clause in re.split(r"\s+AND\s+", query, flags=re.IGNORECASE):
        match = _LIST_FILTER.match(clause)
        if match is None:
            raise errors.invalid_parameter("q", f"Invalid search query: {clause}")
        name, operator, expected = match.groups()
        actual = str(fields.get(name.lower(), "") or "")
        operator = operator.upper()
        ok = {
            "IS": actual == expected,
            "EQUAL": actual == expected,
            "IS_NOT": actual != expected,
            "START_WITH": actual.startswith(expected),
            "CONTAIN": expected in actual,
        }[operator]
        if not ok:
            return False
    return True


def create_app(state: SandboxState | None = None) -> NetSuiteSandbox:
    """Build the sandbox WSGI app; ``app.state`` is the live configuration and data."""
    return NetSuiteSandbox(state or SandboxState())
