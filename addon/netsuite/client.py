"""SuiteTalk REST client: records, SuiteQL, governance, with retries and a concurrency governor.

Thread-safe: one client (one connection pool, one signer, one governor) is meant to be
shared by the sync engine's worker threads.
"""

from __future__ import annotations

import json
import re
import secrets
import time
from collections.abc import Iterator, Mapping
from decimal import Decimal
from typing import Any
from urllib.parse import quote, urlencode, urlsplit

from addon.untrusted import excerpt

from .auth import ClientCredentialsAuth, make_auth
from .config import AUTH_TBA, NetSuiteConfig
from .errors import (
    NetSuiteAuthError,
    NetSuiteBadAnswer,
    NetSuiteConfigError,
    NetSuiteConnectionError,
    NetSuiteError,
    NetSuiteNotFound,
    NetSuiteServerError,
    NetSuiteValidationError,
    SuiteQLRowCeiling,
    error_from_response,
    lacks_permission,
)
from .governor import Governor, LocalGovernor
from .retry import RetryBudget
from .transport import Reply, Transport

SUITEQL_PAGE_MAX = 1000
# Offset paging stops at 100,000 rows (docs/netsuite-rest.md §6.1, §8).
SUITEQL_ROW_CEILING = 100_000

_RECORD_TYPE = re.compile(r"^[A-Za-z][A-Za-z0-9_]*$")
_INTERNAL_ID = re.compile(r"^-?\d+$")
# `eid:` URLs only work for letters, digits, `_` and `-`; a `|` breaks them
# (docs/netsuite-rest.md §4.3, §9.16).
_EXTERNAL_ID = re.compile(r"^[A-Za-z0-9_-]+$")
_COLUMN = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*(?:\.[A-Za-z_][A-Za-z0-9_]*)?$")


def build_url(root: str, path: str, params: Mapping[str, Any] | None = None) -> str:
    """``root + path`` plus the query, with spaces sent as ``%20``.

    A ``+`` is read as a space when signing, but whether NetSuite reads
    a literal ``+`` as a space is unconfirmed (docs/netsuite-rest.md §3.2 vector 3, §9.3), so never send one.
    """
    if not params:
        return root + path
    pairs = {key: _query_value(value) for key, value in params.items() if value is not None}
    return f"{root}{path}?{urlencode(pairs, quote_via=quote)}"


def _query_value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list | tuple):
        return ",".join(str(v) for v in value)
    return str(value)


# One pattern for every body (compiling one per body cost more than the rest of the encoding);
# the replacement still unquotes only this body's own mark.
_MARKED_AMOUNT = re.compile(r'"(decimal-[0-9a-f]{32}:)(-?[0-9.]+)"')


def encode_json(body: Any) -> str:
    """JSON text for a request body; ``Decimal`` amounts become exact JSON numbers, never floats.

    Amounts travel through ``json.dumps`` as marked strings that are then unquoted. The mark
    is drawn afresh for each body, so no string from billing can carry it and turn into a number.
    """
    marker = f"decimal-{secrets.token_hex(16)}:"

    def mark(value: Any) -> Any:
        if isinstance(value, Decimal):
            if not value.is_finite():
                raise ValueError(f"cannot send {value} to NetSuite")
            return marker + format(value, "f")
        if isinstance(value, Mapping):
            return {key: mark(item) for key, item in value.items()}
        if isinstance(value, list | tuple):
            return [mark(item) for item in value]
        return value

    text = json.dumps(mark(body), ensure_ascii=False)
    return _MARKED_AMOUNT.sub(lambda m: m[2] if m[1] == marker else m[0], text)


def _check_type(record_type: str) -> str:
    if not _RECORD_TYPE.match(record_type or ""):
        raise ValueError(f"invalid record type {record_type!r}")
    return record_type


def _check_id(record_id: str | int) -> str:
    text = str(record_id)
    if not _INTERNAL_ID.match(text):
        raise ValueError(f"invalid internal id {record_id!r}")
    return text


def _eid(external_id: str) -> str:
    if not _EXTERNAL_ID.match(external_id or ""):
        raise ValueError(f"external id {external_id!r} may hold only letters, digits, '_' and '-'")
    return f"eid:{external_id}"


def replace_sublists(body: Mapping[str, Any], replace: tuple[str, ...] | list[str] | None) -> str | None:
    """The ``replace=`` value for a PATCH/PUT.

    ``None`` means automatic: the transaction ``item`` sublist is replaced whenever the body
    carries one, because NetSuite appends non-keyed lines on PATCH and re-sending an invoice
    would duplicate them (docs/netsuite-rest.md §4.4, §9.10). Keyed sublists such as ``apply`` merge by
    ``doc`` and are left alone. Pass ``()`` to append deliberately, or name sublists yourself.
    """
    if replace is None:
        item = body.get("item")
        replace = ("item",) if isinstance(item, Mapping) and "items" in item else ()
    return ",".join(replace) or None


# The only Location read as a record id: the record URL on the configured origin (docs/netsuite-rest.md §4.1).
_RECORD_LOCATION = re.compile(r"^/services/rest/record/v1/[A-Za-z][A-Za-z0-9_]*/(\d+)$")


def _id_from_location(response: Reply, origin: str) -> str:
    location = response.headers.get("Location", "")
    parts = urlsplit(location)
    match = _RECORD_LOCATION.match(parts.path)
    same_origin = not parts.netloc or f"{parts.scheme}://{parts.netloc}".lower() == origin.lower()
    if not (match and same_origin and not parts.query and not parts.fragment):
        raise NetSuiteBadAnswer(
            f"write answered HTTP {response.status_code} without a record Location on {origin} "
            f"(got {excerpt(location)}); nothing is recorded for it",
            status=response.status_code,
        )
    return match.group(1)


def _json(response: Reply) -> Any:
    """The body of a 2xx as JSON, or ``NetSuiteBadAnswer`` saying what came instead."""
    try:
        return response.json()
    except ValueError:
        raise NetSuiteBadAnswer(
            f"NetSuite answered HTTP {response.status_code} with a body that is not JSON: "
            f"{excerpt(response.content)}",
            status=response.status_code,
        ) from None


def _found_id(found: Any, what: str) -> str:
    record_id = found.get("id") if isinstance(found, dict) else None
    if not _INTERNAL_ID.match(str(record_id or "")):
        raise NetSuiteBadAnswer(f"NetSuite answered the lookup of {what} without a record id")
    return str(record_id)


class NetSuiteClient:
    """Typed access to one account's SuiteTalk REST API.

    Every HTTP request (retries included) holds a governor slot; the OAuth 2.0 token call
    runs inside the slot of the request that needed it, so it never takes a second one.
    """

    def __init__(
        self, config: NetSuiteConfig, governor: Governor | None = None, *, credentials_proven: bool = False
    ):
        """``credentials_proven``: these credentials were accepted before (the caller remembers a
        fingerprint of the last ones that worked). It becomes True, too, on the first request
        NetSuite authenticates; while it is True a 401 is retried before it is believed."""
        self.config = config
        self.credentials_proven = credentials_proven
        self.governor = governor or LocalGovernor(config.concurrency_limit)
        pool_size = max(config.concurrency_limit, getattr(self.governor, "limit", 0))
        self.transport = Transport(config.origin, pool_size)
        self.auth = make_auth(config, self.transport)

    # -- records ---------------------------------------------------------------------------------

    def create(self, record_type: str, body: Mapping[str, Any]) -> str:
        """POST a new record and return its internal id (from ``Location``).

        If the answer is lost after the request may have reached NetSuite (timeout, dropped
        connection, 5xx), the POST is never repeated blindly (docs/netsuite-rest.md §9.9): with an
        ``externalId`` in the body the record is looked up by it and, if absent, upserted;
        without one a ``NetSuiteConnectionError`` / ``NetSuiteServerError`` is raised.
        """
        path = f"/record/v1/{_check_type(record_type)}"
        external_id = body.get("externalId")
        try:
            response = self._request("POST", path, body=body, write=True, idempotent=False)
        except (NetSuiteConnectionError, NetSuiteServerError) as error:
            maybe = getattr(error, "maybe_committed", True)
            if not (external_id and maybe):
                raise
            found = self.get_by_external_id(record_type, external_id, fields="id")
            if found is not None:
                return _found_id(found, external_id)
            return self.upsert(record_type, external_id, body)
        return _id_from_location(response, self.config.origin)

    def get(self, record_type: str, record_id: str | int, **params: Any) -> dict:
        """GET one record; ``params`` pass through (``expandSubResources=True``, ``fields=...``)."""
        path = f"/record/v1/{_check_type(record_type)}/{_check_id(record_id)}"
        return _json(self._request("GET", path, params=params))

    def get_by_external_id(self, record_type: str, external_id: str, **params: Any) -> dict | None:
        """GET a record by ``eid:``; None when no record of that type has this external id."""
        path = f"/record/v1/{_check_type(record_type)}/{_eid(external_id)}"
        try:
            return _json(self._request("GET", path, params=params))
        except NetSuiteNotFound:
            return None

    def update(
        self,
        record_type: str,
        record_id: str | int,
        body: Mapping[str, Any],
        replace: tuple[str, ...] | None = None,
    ) -> None:
        """PATCH a record. ``replace`` follows ``replace_sublists`` (``item`` replaced by default)."""
        path = f"/record/v1/{_check_type(record_type)}/{_check_id(record_id)}"
        params = {"replace": replace_sublists(body, replace)}
        self._request("PATCH", path, params=params, body=body, write=True)

    def upsert(
        self,
        record_type: str,
        external_id: str,
        body: Mapping[str, Any],
        replace: tuple[str, ...] | None = None,
    ) -> str:
        """PUT ``eid:<external_id>``: create or update, safe to repeat. Returns the internal id."""
        path = f"/record/v1/{_check_type(record_type)}/{_eid(external_id)}"
        params = {"replace": replace_sublists(body, replace)}
        response = self._request("PUT", path, params=params, body=body, write=True)
        location = response.headers.get("Location", "")
        # What Location holds after PUT is undocumented: a numeric id, the `eid:` we sent, or
        # nothing (docs/netsuite-accounts.md). An id is still only read from a record path on
        # the configured origin; otherwise the id is read back.
        if location and not urlsplit(location).path.rstrip("/").rsplit("/", 1)[-1].startswith("eid:"):
            return _id_from_location(response, self.config.origin)
        found = self.get_by_external_id(record_type, external_id, fields="id")
        if found is None:
            raise NetSuiteServerError(
                f"upsert of {record_type} {external_id} succeeded but the record is missing"
            )
        return _found_id(found, external_id)

    def delete(self, record_type: str, record_id: str | int) -> None:
        """DELETE a record. A 404 on a retry means an earlier attempt already deleted it."""
        path = f"/record/v1/{_check_type(record_type)}/{_check_id(record_id)}"
        try:
            self._request("DELETE", path, write=True)
        except NetSuiteNotFound as error:
            if getattr(error, "attempts", 1) <= 1:
                raise

    # -- SuiteQL ---------------------------------------------------------------------------------

    def suiteql(self, query: str, page_size: int = SUITEQL_PAGE_MAX) -> Iterator[dict]:
        """Stream the rows of a SuiteQL query page by page (``limit``/``offset``).

        Only one page is held in memory. Rows come back as NetSuite sends them: lower-case
        keys, string values, NULL columns omitted (docs/netsuite-rest.md §6.1); the empty ``links`` is
        dropped. The query must ``ORDER BY`` a unique column or pages may skip or repeat rows.
        Offset paging ends at 100,000 rows with ``SuiteQLRowCeiling``: for bigger sets use
        ``suiteql_keyset``, which pages by id ranges.
        """
        if not 1 <= page_size <= SUITEQL_PAGE_MAX:
            raise ValueError(f"page_size must be 1..{SUITEQL_PAGE_MAX}")
        offset = 0
        while True:
            page = self._suiteql_page(query, page_size, offset)
            yield from page["items"]
            if not page["hasMore"]:
                return
            offset += page_size
            if offset >= SUITEQL_ROW_CEILING:
                raise SuiteQLRowCeiling(
                    f"SuiteQL result exceeds {SUITEQL_ROW_CEILING:,} rows; order by a unique id and page "
                    "by id ranges (suiteql_keyset)",
                    status=400,
                )

    def suiteql_keyset(
        self,
        select_from: str,
        where: str | None = None,
        key: str = "id",
        page_size: int = SUITEQL_PAGE_MAX,
        start_after: int | None = None,
    ) -> Iterator[dict]:
        """Stream any number of rows by keyset paging: ``WHERE (<where>) AND <key> > <last>``.

        ``select_from`` is ``SELECT ... FROM ...`` (joins allowed, no WHERE/ORDER BY); ``key``
        is a unique integer column (``id`` or ``t.id``) that must also be selected. Each page
        is a fresh query ordered by ``key``, so the 100,000-row offset ceiling never applies.
        """
        if not _COLUMN.match(key):
            raise ValueError(f"invalid key column {key!r}")
        if not 1 <= page_size <= SUITEQL_PAGE_MAX:
            raise ValueError(f"page_size must be 1..{SUITEQL_PAGE_MAX}")
        field = key.rsplit(".", 1)[-1].lower()
        last = start_after
        while True:
            conditions = [f"({where})"] if where else []
            if last is not None:
                conditions.append(f"{key} > {int(last)}")
            clause = f" WHERE {' AND '.join(conditions)}" if conditions else ""
            page = self._suiteql_page(f"{select_from}{clause} ORDER BY {key} ASC", page_size, 0)
            yield from page["items"]
            if not page["hasMore"] or not page["items"]:
                return
            last = int(page["items"][-1][field])

    def _suiteql_page(self, query: str, limit: int, offset: int) -> dict:
        response = self._request(
            "POST",
            "/query/v1/suiteql",
            params={"limit": limit, "offset": offset},
            body={"q": query},
            headers={"Prefer": "transient"},
        )
        payload = _json(response)
        rows = payload.get("items") if isinstance(payload, dict) else None
        if not isinstance(rows, list) or not all(isinstance(row, dict) for row in rows):
            raise NetSuiteBadAnswer(
                f"NetSuite answered a SuiteQL query without its items list: {excerpt(response.content)}",
                status=response.status_code,
            )
        items = [{k: v for k, v in row.items() if k != "links"} for row in rows]
        return {"items": items, "hasMore": bool(payload.get("hasMore"))}

    # -- account ---------------------------------------------------------------------------------

    def governance_limits(self) -> dict | None:
        """The account's concurrency limits (docs/netsuite-rest.md §8), or None when the role may not read
        them."""
        try:
            limits = _json(self._request("GET", "/system/v1/governanceLimits"))
            return limits if isinstance(limits, dict) else None
        except NetSuiteAuthError as error:
            if error.status == 403:
                return None
            raise
        except NetSuiteValidationError:
            return None

    def test_connection(self) -> str:
        """One line saying the credentials work; raises the typed error otherwise."""
        try:
            next(self.suiteql("SELECT id FROM currency ORDER BY id ASC", page_size=1), None)
        except NetSuiteValidationError as error:
            if lacks_permission(error):
                # Authenticated, but the role may not use REST web services: not "connected".
                raise NetSuiteAuthError(
                    f"the integration's role lacks a permission NetSuite requires: {error.detail}",
                    status=error.status,
                    code=error.code,
                    url=error.url,
                ) from error
            # Authenticated, the role merely may not read currencies: but only NetSuite's own
            # error document says so; a host answering 400 to everything is not NetSuite.
            if not error.details:
                raise
        mode = "token-based auth" if self.config.auth_mode == AUTH_TBA else "OAuth 2.0"
        text = f"Connected to NetSuite account {self.config.account_id} ({mode})"
        limits = self.governance_limits()
        if limits and limits.get("accountConcurrencyLimit"):
            text += f"; account concurrency limit {limits['accountConcurrencyLimit']}"
        return text

    # -- transport -------------------------------------------------------------------------------

    def _budget(self) -> RetryBudget:
        c = self.config
        return RetryBudget(c.max_attempts, c.max_retry_seconds, c.backoff_base, c.backoff_cap)

    def _request(
        self,
        method: str,
        path: str,
        *,
        params: Mapping[str, Any] | None = None,
        body: Any = None,
        headers: Mapping[str, str] | None = None,
        write: bool = False,
        idempotent: bool = True,
    ) -> Reply:
        """Send with retries: 429 always, 5xx and lost connections only when repeating is safe."""
        url = build_url(self.config.rest_root, path, params)
        budget = self._budget()
        token_renewed = False
        while True:
            budget.start_attempt()
            try:
                response, authorization = self._send(method, url, body, headers, write)
                if (
                    response.status_code == 401
                    and isinstance(self.auth, ClientCredentialsAuth)
                    and self.credentials_proven
                    and not token_renewed
                ):
                    # An expired or revoked bearer: fetch a new token once, then retry
                    # (docs/netsuite-rest.md §3.4). Credentials that never worked get no second try: the token
                    # was just issued.
                    token_renewed = True
                    self.auth.invalidate(authorization)
                    continue
                if response.status_code != 401 and not 300 <= response.status_code < 400:
                    self.credentials_proven = True  # NetSuite authenticated this request
                if response.status_code >= 400:
                    raise error_from_response(response)
                if not 200 <= response.status_code < 300:
                    # Redirects are never followed (a signed request must not go elsewhere), and
                    # a 3xx is no success: nothing was written.
                    raise NetSuiteConfigError(
                        f"NetSuite host answered HTTP {response.status_code} (a redirect, not followed)"
                        f" to {excerpt(response.headers.get('Location', ''))}: check the account id"
                        " and REST host override",
                        status=response.status_code,
                        url=url,
                    )
                return response
            except NetSuiteError as error:
                error.attempts = budget.attempts
                if not self._may_retry(error, idempotent):
                    raise
                delay = budget.next_delay(getattr(error, "retry_after", None))
                if delay is None:
                    raise
                time.sleep(delay)

    def _may_retry(self, error: NetSuiteError, idempotent: bool) -> bool:
        if isinstance(error, NetSuiteAuthError):
            # An overloaded account answers valid requests with 401 "Invalid login attempt"
            # (docs/netsuite-oauth2-and-payments.md): with credentials that already worked it is
            # retried within the budget, a POST included (a refused login committed nothing).
            # Credentials that never worked, and the token endpoint's refusals, stop at once.
            if error.login_refused and self.credentials_proven:
                if isinstance(self.auth, ClientCredentialsAuth):
                    self.auth.invalidate(f"Bearer {self.auth.cached_token}")
                return True
            return False
        if not error.retryable:
            return False
        if idempotent:
            return True
        # A POST is repeated only when NetSuite surely did not act on it: a 429 rejection or a
        # connection that never opened. A 5xx or a lost answer may hide a committed write.
        if isinstance(error, NetSuiteConnectionError):
            return not error.maybe_committed
        return error.status == 429

    def _send(
        self,
        method: str,
        url: str,
        body: Any,
        extra_headers: Mapping[str, str] | None,
        write: bool,
    ) -> tuple[Reply, str]:
        """The answer and the Authorization header it was sent with (a 401 names the token)."""
        headers = dict(extra_headers or {})
        data = None
        if body is not None:
            headers["Content-Type"] = "application/json"
            data = encode_json(body).encode("utf-8")
        if write and self.config.property_name_validation:
            headers["X-NetSuite-PropertyNameValidation"] = self.config.property_name_validation
        read_timeout = self.config.write_timeout if write else self.config.read_timeout
        with self.governor.slot():
            # Signed inside the slot: a token fetch then runs in the slot of the request that
            # needed it, and a signature's timestamp never ages while waiting for a slot.
            headers["Authorization"] = authorization = self.auth.authorization(method, url)
            timeout = (self.config.connect_timeout, read_timeout)
            reply = self.transport.send(method, url, body=data, headers=headers, timeout=timeout)
        return reply, authorization
