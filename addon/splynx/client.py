"""HTTP client for the Splynx REST API v2 (splynx-api.md).

Knows authentication, paging, retries and error mapping; knows nothing about
what the records mean (that is :mod:`addon.splynx.records`).
"""

from __future__ import annotations

import builtins
import json
import logging
import random
import threading
import time
from collections.abc import Callable, Iterable, Iterator, Mapping
from email.utils import parsedate_to_datetime
from typing import Any, TypedDict
from urllib.parse import quote, urlsplit

import requests
from requests.utils import guess_json_utf
from urllib3.exceptions import NewConnectionError

from addon.billing import FieldError
from addon.untrusted import excerpt, loads_clean

from . import auth
from .config import SplynxConfig
from .errors import (
    SplynxAuthError,
    SplynxConnectionError,
    SplynxError,
    SplynxNotFound,
    SplynxPermissionError,
    SplynxServerError,
    SplynxValidationError,
)
from .query import php_query, search_params, wire_value


class _Where(TypedDict):
    """Where an error happened, as :class:`SplynxError` takes it."""

    status: int
    method: str
    path: str


log = logging.getLogger(__name__)

# Logins tried when Splynx says a nonce was already used (by another process of the same key).
NONCE_ATTEMPTS = 3
RETRY_STATUSES = frozenset({500, 502, 503, 504})
# Methods safe to send again after an ambiguous answer. A POST is not: nginx in front of PHP
# can answer 502/504 after PHP committed (docs/splynx-installations.md), so a create is
# retried only by ``create`` and only after looking the record up.
IDEMPOTENT = frozenset({"GET", "HEAD", "PUT", "DELETE", "OPTIONS"})
# Longest request line we send: half of nginx's default 8 KB header buffer, which answers
# 414 beyond it (docs/splynx-installations.md). ``list_by_ids`` splits id lists to fit.
MAX_REQUEST_LINE = 4096
# 405 doubles as "record belongs to another partner" (docs/splynx-api.md §4.1).
PERMISSION_CODES = frozenset(
    {"FORBIDDEN", "NOT_ALLOWED_BY_PARTNER_RESTRICTION", "NOT_ALLOWED_BY_USER_RESTRICTION"}
)


def _json_default(value: Any) -> str:
    # Money goes out as a string: JSON numbers would force a float somewhere.
    return wire_value(value)


def _record_path(path: str, record_id: int | str) -> str:
    return f"{path.strip('/')}/{quote(str(record_id), safe='-')}"


def _row_key(row: Any) -> str:
    """What tells two listed rows apart: the id, else the whole row."""
    if isinstance(row, Mapping) and row.get("id") not in (None, ""):
        return str(row["id"])
    return json.dumps(row, sort_keys=True, default=str)


def _never_sent(exc: Exception) -> bool:
    """The connection could not be made (refused, or timed out connecting): nothing was sent."""
    if isinstance(exc, requests.ConnectTimeout):
        return True
    reason = getattr(exc.args[0], "reason", None) if exc.args else None
    return isinstance(reason, NewConnectionError)


def _server_time(response: requests.Response) -> float | None:
    """The server's clock from its ``Date`` header, if it sent a parsable one."""
    try:
        return parsedate_to_datetime(response.headers["Date"]).timestamp()
    except (KeyError, TypeError, ValueError):
        return None


class SplynxClient:
    """A Splynx API v2 session authenticated with an API key.

    Thread-safe: the access token is shared and renewed under a lock.
    ``session`` lets the caller supply a configured ``requests.Session``.
    """

    def __init__(
        self,
        config: SplynxConfig,
        session: requests.Session | None = None,
        clock: Callable[[], float] = time.time,
    ):
        self.config = config
        self.session = session or requests.Session()
        # Unix-seconds clock used for token expiry; injectable for long-running simulations.
        self.clock = clock
        self._nonces = auth.nonce_source(config.api_key, clock)
        self._token: auth.Token | None = None
        self._token_lock = threading.Lock()

    # ------------------------------------------------------------------ public API

    def get(
        self, path: str, record_id: int | str | None = None, params: Mapping[str, Any] | None = None
    ) -> Any:
        """GET one record (``path/<id>``) or any other resource; returns the decoded JSON."""
        target = _record_path(path, record_id) if record_id is not None else path
        return self.request("GET", target, params=params)

    def pages(
        self,
        path: str,
        search: Mapping[str, Any] | None = None,
        additional: Mapping[str, Any] | None = None,
        order: Mapping[str, str] | None = None,
        page_size: int | None = None,
    ) -> Iterator[list[dict[str, Any]]]:
        """Yield the result of a list/search request one page at a time.

        Pages with ``limit``/``offset`` and stops on an empty page, on a short one
        (fewer rows than ``limit``), or on a page that brings no id not seen
        before: an endpoint that ignores ``limit``/``offset`` answers every request
        with the same rows, and must not be read forever (docs/splynx-installations.md).
        Rows already yielded are never yielded again.
        Ordered by ``id`` ascending unless ``order`` says otherwise.
        """
        size = page_size or self.config.page_size
        base = search_params(search, additional, order or {"id": "ASC"})
        offset = 0
        seen: set[str] = set()
        while True:
            page = self.request("GET", path, params={**base, "limit": size, "offset": offset})
            if not isinstance(page, list):
                raise SplynxError(f"expected a JSON array from {path}, got {type(page).__name__}", path=path)
            fresh = [row for row in page if _row_key(row) not in seen]
            if fresh:
                seen.update(_row_key(row) for row in fresh)
                yield fresh
            if page and not fresh:
                log.warning(
                    "Splynx sent the same rows again at offset %d of %s: it ignores paging", offset, path
                )
            if len(page) < size or not fresh:
                return
            offset += len(page)

    def list_by_ids(
        self,
        path: str,
        ids: Iterable[int],
        field: str = "id",
        search: Mapping[str, Any] | None = None,
    ) -> Iterator[dict[str, Any]]:
        """Records whose ``field`` is one of ``ids``: ``field IN [...]`` in as many requests as
        keep each request line within MAX_REQUEST_LINE. Every id-list lookup goes through here."""
        wanted = sorted(set(ids))
        for chunk in self._id_chunks(path, wanted, field, search):
            search_chunk = {**(search or {}), field: ["IN", chunk]}
            got = 0
            for page in self.pages(path, search_chunk, page_size=len(chunk)):
                yield from page
                got += len(page)
                if field == "id" and got >= len(chunk):
                    break  # all there: skip the request that would only confirm the end

    def _id_chunks(
        self, path: str, ids: list[int], field: str, search: Mapping[str, Any] | None
    ) -> Iterator[list[int]]:
        """Split ``ids`` so that each request line (with paging parameters) fits the limit."""
        if not ids:
            return
        # "GET <url> HTTP/1.1" with the widest paging values this chunk could send.
        fixed = len("GET  HTTP/1.1") + len(urlsplit(self.config.api_root).path) + len(path) + 1
        base = {**search_params({**(search or {}), field: ["IN", []]}, None, {"id": "ASC"})}
        fixed += len(php_query({**base, "limit": 10**6, "offset": 10**9}))
        chunk: list[int] = []
        length = fixed
        for value in ids:
            name = f"main_attributes[{field}][1][{len(chunk)}]"
            cost = len(php_query({name: value})) + 1
            if chunk and length + cost > MAX_REQUEST_LINE:
                yield chunk
                chunk, length = [], fixed
                cost = len(php_query({f"main_attributes[{field}][1][0]": value})) + 1
            chunk.append(value)
            length += cost
        yield chunk

    def list(
        self,
        path: str,
        search: Mapping[str, Any] | None = None,
        additional: Mapping[str, Any] | None = None,
        order: Mapping[str, str] | None = None,
        page_size: int | None = None,
    ) -> Iterator[dict[str, Any]]:
        """Stream every matching record; see :meth:`pages` for filters and paging."""
        for page in self.pages(path, search, additional, order, page_size):
            yield from page

    def count(
        self, path: str, search: Mapping[str, Any] | None = None, additional: Mapping[str, Any] | None = None
    ) -> int:
        """Number of matching records, from ``HEAD`` and its ``X-total-count`` header
        (docs/splynx-api.md §5.3)."""
        response = self._call("HEAD", path, params=search_params(search, additional))
        raw = response.headers.get("X-total-count")
        try:
            return int(raw or "")  # an absent header fails like a blank one
        except ValueError:
            raise SplynxError(
                f"no usable X-total-count header ({raw!r})",
                status=response.status_code,
                method="HEAD",
                path=path,
            ) from None

    def create(
        self,
        path: str,
        body: Mapping[str, Any],
        find: Callable[[], Mapping[str, Any] | None] | None = None,
    ) -> dict[str, Any]:
        """POST a new record; returns the response body, which always holds the new ``id``.

        Splynx documents ``{"id": ...}`` and some versions return the whole
        record (docs/splynx-api.md §3, unconfirmed); either way ``id`` is there.

        An ambiguous answer (5xx, or the connection lost after sending) may follow a commit,
        so the POST is never simply resent: ``find`` looks the record up by what identifies
        it and the record found is returned; only when it finds nothing is the POST sent
        again (at most ``max_retries`` times). Without ``find`` the error is raised.
        """
        attempts = self.config.max_retries + 1
        for attempt in range(attempts):
            try:
                result = self.request("POST", path, body=body)
            except (SplynxServerError, SplynxConnectionError) as exc:
                if find is None:
                    raise
                found = find()
                if found is not None:
                    log.warning("Splynx answered %s but had created the record on %s: linking it", exc, path)
                    return dict(found)
                if attempt == attempts - 1:
                    raise
                self._pause(attempt, None, f"POST {path}: {exc}; not created, sending again")
                continue
            if not isinstance(result, dict) or "id" not in result:
                raise SplynxError(f"create on {path} returned no id: {result!r}", method="POST", path=path)
            return result
        raise AssertionError("unreachable")  # pragma: no cover

    def update(self, path: str, record_id: int | str, body: Mapping[str, Any]) -> None:
        """PUT changes to a record (202, empty body). Fields not sent are left alone
        (docs/splynx-api.md §3)."""
        self.request("PUT", _record_path(path, record_id), body=body)

    def delete(self, path: str, record_id: int | str) -> None:
        """DELETE a record (204)."""
        self.request("DELETE", _record_path(path, record_id))

    def test_connection(self) -> str:
        """Authenticate, probe the API and count customers; returns one line for the settings page."""
        check = self.get("admin/api/check")
        message = check.get("message", "ok") if isinstance(check, dict) else "ok"
        customers = self.count("admin/customers/customer")
        host = urlsplit(self.config.api_root).netloc
        return f"Connected to Splynx at {host}: {message}; {customers} customers visible to this API key."

    def close(self) -> None:
        """Revoke the token pair (best effort) and close the HTTP session."""
        token, self._token = self._token, None
        if token is not None and token.refresh_token:
            try:
                # The official clients revoke with the refresh token in the path and the current
                # access token in the header (docs/splynx-installations.md).
                path = _record_path(auth.TOKENS_PATH, token.refresh_token)
                self._call("DELETE", path, authorization=auth.token_header(token.access_token))
            except SplynxError as exc:
                log.debug("token revoke failed: %s", exc)
        self.session.close()

    def request(
        self,
        method: str,
        path: str,
        params: Mapping[str, Any] | None = None,
        body: Mapping[str, Any] | builtins.list[Any] | None = None,
    ) -> Any:
        """Send an authenticated request and return the decoded JSON body (None when empty)."""
        return self._decode(self._call(method, path, params=params, body=body), method, path)

    # ------------------------------------------------------------------ token life-cycle

    def _authorization(self, force_new: bool = False) -> str:
        """Header value with a usable access token, obtaining or renewing it when needed."""
        with self._token_lock:
            now = self.clock()
            token = self._token
            if force_new or token is None or not token.access_fresh(now, self.config.token_renew_margin):
                token = self._renewed(token, now) if token is not None else self._login()
                self._token = token
            return auth.token_header(token.access_token)

    def _renewed(self, token: auth.Token, now: float) -> auth.Token:
        if token.refreshable(now):
            try:
                # Renewal carries the current access token in the header, as the official PHP and
                # Python clients send it (docs/splynx-installations.md).
                path = _record_path(auth.TOKENS_PATH, token.refresh_token)
                response = self._call("GET", path, authorization=auth.token_header(token.access_token))
                return self._token_from(response, "GET", now)
            except SplynxError as exc:
                # Any refusal (NOT_FOUND, EXPIRED_REFRESH_TOKEN, TOKEN_BANNED, a missing header, a
                # server error...): the API key can always start over.
                log.info("Splynx token refresh refused (%s); logging in again", exc.code or exc.message)
        return self._login()

    def _login(self) -> auth.Token:
        def body() -> dict[str, Any]:
            # A fresh nonce per attempt: a retried login must not replay one (docs/splynx-api.md §2.1).
            return auth.token_request_body(self.config.api_key, self.config.api_secret, self._nonces.next())

        attempt = 1
        while True:
            now = self.clock()
            try:
                # A login may be sent again: each attempt signs a new nonce, and a token issued
                # to an answer we never read is simply never used.
                response = self._call("POST", auth.TOKENS_PATH, body=body, repeatable=True)
                return self._token_from(response, "POST", now)
            except SplynxAuthError as exc:
                # Another process logging in with the same key (web and worker share one) may
                # have taken this centisecond's nonce first; the next one is ours.
                if attempt >= NONCE_ATTEMPTS or not auth.is_nonce_refusal(exc.message):
                    raise
                log.info("Splynx refused the login nonce (%s); trying the next one", exc.message)
                attempt += 1

    def _token_from(self, response: requests.Response, method: str, now: float) -> auth.Token:
        data = self._decode(response, method, auth.TOKENS_PATH)
        try:
            return auth.Token.from_response(data, now, _server_time(response))
        except (KeyError, TypeError, ValueError):
            raise SplynxAuthError(
                "Splynx answered the token request without a usable access token",
                status=response.status_code,
                method=method,
                path=auth.TOKENS_PATH,
            ) from None

    # ------------------------------------------------------------------ transport

    def _call(
        self,
        method: str,
        path: str,
        params: Mapping[str, Any] | None = None,
        body: Any = None,
        authorization: str | None = None,
        repeatable: bool = False,
    ) -> requests.Response:
        """Send with retries; on a 401 re-obtain the token once and resend. Raises on any non-2xx.

        ``authorization`` given (token endpoints) replaces the session's token and is never
        renewed here; ``repeatable`` lets a POST be resent after an ambiguous answer.
        """
        url = self.config.api_root + path.lstrip("/")
        if params:
            url += "?" + php_query(params)
        make_body: Callable[[], Any] = body if callable(body) else (lambda: body)
        authenticate = authorization is None and not path.startswith(auth.TOKENS_PATH)
        header = self._authorization() if authenticate else authorization
        repeatable = repeatable or method in IDEMPOTENT
        response = self._send(method, url, make_body, header, repeatable)
        if response.status_code == 401 and authenticate:
            # Expired/banned token, or the key was rotated: one fresh token, one more try.
            response = self._send(method, url, make_body, self._authorization(force_new=True), repeatable)
        if 300 <= response.status_code < 400:
            # Never followed: a signed login or a write resent to a host nobody configured.
            raise SplynxError(
                f"Splynx answered HTTP {response.status_code} (a redirect, not followed) to "
                f"{excerpt(response.headers.get('Location', ''))}: the Splynx URL must be the "
                "address that serves the API itself",
                status=response.status_code,
                method=method,
                path=path,
            )
        if not 200 <= response.status_code < 300:
            raise self._error(response, method, path)
        return response

    def _send(
        self,
        method: str,
        url: str,
        make_body: Callable[[], Any],
        authorization: str | None,
        repeatable: bool,
    ) -> requests.Response:
        """One logical request: resent on 5xx and dropped connections only, at most ``max_retries`` times.

        A request that is not ``repeatable`` (a create) is resent only when it cannot have
        reached the server (the connection was never made); a 5xx or a lost answer is
        returned or raised for :meth:`create` to resolve by a lookup. 4xx answers are final.
        """
        headers = {"User-Agent": self.config.user_agent, "Accept": "application/json"}
        if authorization:
            headers["Authorization"] = authorization
        attempts = self.config.max_retries + 1
        for attempt in range(attempts):
            payload = make_body()
            data = None
            if payload is not None:
                headers["Content-Type"] = "application/json"
                data = json.dumps(payload, default=_json_default)
            last = attempt == attempts - 1
            try:
                response = self.session.request(
                    method,
                    url,
                    data=data,
                    headers=headers,
                    timeout=self.config.timeout,
                    allow_redirects=False,
                )
            except (requests.ConnectionError, requests.Timeout) as exc:
                if last or not (repeatable or _never_sent(exc)):
                    raise SplynxConnectionError(
                        f"cannot reach Splynx: {exc}", method=method, path=urlsplit(url).path
                    ) from exc
                self._pause(attempt, None, f"{method} {url}: {exc.__class__.__name__}")
                continue
            if response.status_code in RETRY_STATUSES and repeatable and not last:
                self._pause(
                    attempt, response.headers.get("Retry-After"), f"{method} {url}: {response.status_code}"
                )
                continue
            return response
        raise AssertionError("unreachable")  # pragma: no cover

    def _pause(self, attempt: int, retry_after: str | None, why: str) -> None:
        """Exponential backoff with full jitter, honouring a numeric Retry-After, capped."""
        cap = min(self.config.backoff_max, self.config.backoff_base * 2**attempt)
        delay = random.uniform(cap / 2, cap)
        if retry_after and retry_after.isdigit():
            delay = max(delay, min(float(retry_after), self.config.backoff_max))
        log.warning("Splynx retry %d in %.2fs after %s", attempt + 1, delay, why)
        time.sleep(delay)

    # ------------------------------------------------------------------ decoding

    @staticmethod
    def _decode(response: requests.Response, method: str, path: str) -> Any:
        if not response.content or method == "HEAD":
            return None
        try:
            # Control characters (a NUL in a customer name) stop here, for every record.
            # As requests' own .json() decodes: the declared charset, else JSON's UTF detection
            # (never .text's slow statistical guess).
            encoding = response.encoding or guess_json_utf(response.content) or "utf-8"
            return loads_clean(response.content.decode(encoding))
        except ValueError:
            raise SplynxError(
                f"Splynx returned non-JSON: {excerpt(response.content)}",
                status=response.status_code,
                method=method,
                path=path,
            ) from None

    @staticmethod
    def _error(response: requests.Response, method: str, path: str) -> SplynxError:
        """Map an error response to a typed error that keeps the API's own message (docs/splynx-api.md §4)."""
        status = response.status_code
        where: _Where = {"status": status, "method": method, "path": path}
        try:
            body = response.json() if response.content else None
        except ValueError:
            body = None
        if isinstance(body, list):
            # 422 validation: a bare array of {field, is_additional_attribute, message}
            # (docs/splynx-api.md §4.2).
            field_errors = [
                FieldError(
                    field=str(item.get("field") or ""),
                    message=str(item.get("message") or ""),
                    is_additional_attribute=bool(item.get("is_additional_attribute")),
                )
                for item in body
                if isinstance(item, dict)
            ]
            message = "; ".join(str(fe) for fe in field_errors) or "validation failed"
            return SplynxValidationError(message, field_errors, code="INVALID_INPUT_DATA", **where)
        error = body.get("error") if isinstance(body, dict) else None
        if isinstance(error, dict):
            message = str(error.get("message") or f"HTTP {status}")
            code = error.get("internal_code")
        else:
            message = f"HTTP {status} {response.reason or ''}".strip()
            if response.content:
                message += f": {excerpt(response.content)}"
            code = None
        cls: type[SplynxError]
        if status == 401:
            cls = SplynxAuthError
        elif status == 403 or (status == 405 and code in PERMISSION_CODES):
            cls = SplynxPermissionError
        elif status == 404:
            cls = SplynxNotFound
        elif status == 422:
            cls = SplynxValidationError
        elif status >= 500:
            cls = SplynxServerError
        else:
            cls = SplynxError
        return cls(message, code=code, **where)
