"""WSGI app speaking Splynx REST API v2 under ``/api/2.0/`` (docs/splynx-api.md §1–§5, §10)."""

from __future__ import annotations

import json
import re
import time
from urllib.parse import parse_qsl

from werkzeug.exceptions import HTTPException
from werkzeug.http import http_date
from werkzeug.wrappers import Request, Response

from . import hooks
from .auth import ApiKey, AuthError
from .entities import BY_PATH, SPECS, EntitySpec
from .search import SearchError, page_of, parse_php_pairs
from .store import ApiError, SplynxState, ValidationFailed

API_PREFIX = "/api/2.0/"
TOKENS = "admin/auth/tokens"
_ID = re.compile(r"^\d+$")


class _DropConnection(Exception):
    pass


def _json(body, status: int, headers: dict | None = None) -> Response:
    text = "" if body is None else json.dumps(body, ensure_ascii=False)
    return Response(
        text, status=status, headers=headers or {}, content_type="application/json; charset=UTF-8"
    )


def _error(status: int, internal_code: str, message: str) -> Response:
    return _json({"error": {"message": message, "code": status, "internal_code": internal_code}}, status)


def _client(request: Request) -> tuple[str, str]:
    return request.headers.get("User-Agent", ""), request.remote_addr or ""


def _body(request: Request) -> dict:
    if request.mimetype in ("application/x-www-form-urlencoded", "multipart/form-data"):
        # One third-party client posts form data and it works (docs/splynx-api.md §1): PHP parses brackets.
        return parse_php_pairs(request.form.items(multi=True))
    raw = request.get_data(as_text=True)
    if not raw.strip():
        return {}
    try:
        body = json.loads(raw)
    except ValueError as exc:
        raise ApiError(400, "BAD_REQUEST", "Invalid JSON in request body") from exc
    if not isinstance(body, dict):
        raise ApiError(400, "BAD_REQUEST", "Request body must be a JSON object")
    return body


def create_app(state: SplynxState, persist=None):
    """The WSGI callable serving ``state``; ``persist`` (a ``SqliteFile``) is saved after writes."""

    def app(environ, start_response):
        request = Request(environ)
        try:
            too_long = _request_line_too_long(state, environ)
            if too_long is not None:
                response = too_long
            elif request.path.startswith("/__sandbox/hooks"):
                response = hooks.control(state, request)
            else:
                response = _dispatch(state, request)
            if persist is not None and state.dirty:
                with state.lock:
                    touched, state.dirty = state.dirty, set()
                persist.save(state, touched)
        except _DropConnection:
            # sandbox.server closes the connection without writing anything on this exception.
            raise ConnectionAbortedError("sandbox fault: dropped connection") from None
        except HTTPException as exc:
            response = _error(exc.code or 400, "BAD_REQUEST", exc.description or "Bad request")
        # The server's clock, not the host's: tests that advance the sandbox clock
        # must see tokens expire as a client reading this header would.
        response.headers["Date"] = http_date(state.now())
        return response(environ, start_response)

    return app


_NGINX_PAGE = "<html>\r\n<head><title>{0}</title></head>\r\n<body>\r\n<center><h1>{0}</h1></center>\r\n<hr><center>nginx</center>\r\n</body>\r\n</html>\r\n"


def _nginx(status: int, reason: str) -> Response:
    """An answer of the nginx in front of PHP: its own HTML page, not the API's JSON."""
    return Response(_NGINX_PAGE.format(f"{status} {reason}"), status=status, content_type="text/html")


def _request_line_too_long(state: SplynxState, environ) -> Response | None:
    """nginx answers 414 when the request line exceeds its header buffer (8 KB by default)."""
    if state.max_request_line is None:
        return None
    uri = environ.get("REQUEST_URI") or environ.get("PATH_INFO", "") + (
        "?" + environ["QUERY_STRING"] if environ.get("QUERY_STRING") else ""
    )
    line = f"{environ.get('REQUEST_METHOD', 'GET')} {uri} {environ.get('SERVER_PROTOCOL', 'HTTP/1.1')}"
    if len(line) <= state.max_request_line:
        return None
    with state.lock:
        state.requests[("414", "request-line")] += 1
    return _nginx(414, "Request-URI Too Large")


def _route_key(path: str) -> str:
    parts = path.split("/")
    if parts[:3] == ["admin", "auth", "tokens"] and len(parts) > 3:
        return TOKENS + "/<token>"
    return "/".join("<id>" if _ID.match(p) or "--" in p else p for p in parts)


def _dispatch(state: SplynxState, request: Request) -> Response:
    if not request.path.startswith(API_PREFIX):
        return _error(404, "NOT_FOUND", "Page not found")
    path = request.path[len(API_PREFIX) :].strip("/")
    method = request.method.upper()
    with state.lock:
        state.requests[(method, _route_key(path))] += 1
        state.request_log.append((method, request.full_path))
        fail = state.fail_next.popleft() if state.fail_next else None
        drop = state.drop_next > 0
        if drop:
            state.drop_next -= 1
        roll = state.rng.random()
    if state.latency:
        time.sleep(state.latency)
    if drop or roll < state.drop_rate:
        raise _DropConnection
    if fail is not None or roll < state.drop_rate + state.error_rate:
        status = fail or 500
        return _error(status, "SERVER_ERROR", "Internal server error")
    try:
        if path == TOKENS or path.startswith(TOKENS + "/"):
            return _tokens(state, request, method, path[len(TOKENS) + 1 :])
        if path == "admin/api/check":
            if request.args.get("checkAuth") == "true":
                state.auth.authenticate(request.headers.get("Authorization"), *_client(request))
            return _json({"status": "ok", "message": "API is valid", "same_server": False}, 200)
        api_key = state.auth.authenticate(request.headers.get("Authorization"), *_client(request))
        response = _resource(state, request, method, path, api_key)
        if method in ("POST", "PUT", "DELETE") and 200 <= response.status_code < 300:
            return _after_commit(state, method, path, response)
        return response
    except AuthError as exc:
        return _error(exc.status, exc.internal_code, exc.message)
    except ApiError as exc:
        return _error(exc.status, exc.internal_code, exc.message)
    except ValidationFailed as exc:
        return _json(exc.errors, 422)
    except SearchError as exc:
        return _error(400, "BAD_REQUEST", str(exc))


def _after_commit(state: SplynxState, method: str, path: str, response: Response) -> Response:
    """The write is committed; nginx may still lose PHP's answer and send its own 502."""
    if state.on_commit is not None:
        state.on_commit(method, path, response)
    with state.lock:
        fault = state.commit_then_502_next > 0 or state.rng.random() < state.commit_then_502_rate
        if state.commit_then_502_next > 0:
            state.commit_then_502_next -= 1
        if fault:
            state.requests[("502", "after-commit")] += 1
    return _nginx(502, "Bad Gateway") if fault else response


def _tokens(state: SplynxState, request: Request, method: str, token: str) -> Response:
    agent, ip = _client(request)
    if token and method in ("GET", "DELETE") and state.renew_needs_access_token:
        # The official clients send the pair's current access token (docs/splynx-installations.md).
        state.auth.check_pair_header(request.headers.get("Authorization"), token)
    if not token and method == "POST":
        issued = state.auth.issue(_body(request), agent, ip)
        return _json(issued.body(with_permissions=True), 201)
    if token and method == "GET":
        return _json(state.auth.renew(token, agent, ip).body(with_permissions=False), 200)
    if token and method == "DELETE":
        state.auth.revoke(token)
        return _json(None, 204)
    return _error(405, "METHOD_NOT_ALLOWED", "Method not allowed")


def _check_permission(api_key: ApiKey, base: str, method: str) -> None:
    if api_key.permissions is not None and base not in api_key.permissions:
        raise ApiError(403, "FORBIDDEN", f"You are not allowed to {method} {base}")


def _check_partner(state: SplynxState, api_key: ApiKey, spec: EntitySpec, record: dict) -> None:
    if api_key.partner_ids is None:
        return
    partner = state.partner_of(spec.name, record)
    if partner is not None and partner not in api_key.partner_ids:
        raise ApiError(405, "NOT_ALLOWED_BY_PARTNER_RESTRICTION", "Not allowed by partner restriction")


def _resource(state: SplynxState, request: Request, method: str, path: str, api_key: ApiKey) -> Response:
    head, _, tail = path.rpartition("/")
    if path in BY_PATH:
        spec, record_id = BY_PATH[path], None
    elif head in BY_PATH and tail:
        spec, record_id = BY_PATH[head], tail
    else:
        special = _SPECIAL.get(path) or _SPECIAL.get(head + "/*")
        if special is None:
            return _error(404, "NOT_FOUND", "Page not found")
        _check_permission(api_key, head if path not in _SPECIAL else path, method)
        return special(state, request, method, tail if path not in _SPECIAL else None, api_key)

    _check_permission(api_key, spec.path, method)
    if method not in spec.methods:
        return _error(405, "METHOD_NOT_ALLOWED", "Method not allowed")
    if record_id is None:
        if method in ("GET", "HEAD"):
            return _list(state, request, method, spec, api_key)
        if method == "OPTIONS":
            return _json(_describe(state, spec), 200)
        if method == "POST":
            body = _body(request)
            created = state.create(spec.name, body)
            return _json(state.present(spec.name, created), 201)
        # PUT/DELETE without an id: observed 400 (docs/splynx-api.md §4.3).
        return _error(400, "BAD_REQUEST", "Missing ID")
    record = state.get(spec.name, record_id)
    _check_partner(state, api_key, spec, record)
    if method == "GET":
        return _json(state.present(spec.name, record), 200)
    if method == "PUT":
        state.update(spec.name, record_id, _body(request))
        return _json(None, 202)
    if method == "DELETE":
        state.delete(spec.name, record_id)
        return _json(None, 204)
    return _error(405, "METHOD_NOT_ALLOWED", "Method not allowed")


def _list(state: SplynxState, request: Request, method: str, spec: EntitySpec, api_key: ApiKey) -> Response:
    query = parse_php_pairs(parse_qsl(request.query_string.decode("latin-1"), keep_blank_values=True))
    with state.lock:
        partners = tuple(sorted(api_key.partner_ids)) if api_key.partner_ids is not None else None
        selected = state.select(spec.name, query, partners)
        ignores_paging = "*" in state.paging_ignored or spec.path in state.paging_ignored
        page, total = page_of(selected, {} if ignores_paging else query)
        if method == "HEAD":
            # Count = HEAD with the same filters -> 204 + X-total-count (docs/splynx-api.md §5.3).
            return _json(
                None,
                204,
                {"X-total-count": str(total), "Access-Control-Expose-Headers": "X-total-count"},
            )
        return _json(state.present_locked(spec.name, page), 200)


def _describe(state: SplynxState, spec: EntitySpec) -> dict:
    # A real 2025 server answers OPTIONS with an object, not the blueprint's array (docs/splynx-api.md §3).
    attributes = [
        {
            "name": name,
            "title": spec.label(name),
            "type": _type_of(default),
            "required": name in spec.required,
        }
        for name, default in spec.defaults.items()
        if name != "additional_attributes"
    ]
    extra = list(state.additional_fields.get(spec.additional_module or "", {}).values())
    return {"attributes": attributes, "additional_attributes": extra}


def _type_of(default) -> str:
    if isinstance(default, int):
        return "integer"
    if isinstance(default, list):
        return "array"
    if isinstance(default, str) and default.startswith("0000-00-00 "):
        return "datetime"
    if default == "0000-00-00":
        return "date"
    if isinstance(default, str) and default.endswith(".0000"):
        return "decimal"
    return "string"


# -- endpoints that are not plain collections -----------------------------------------------


def _additional_fields(state, request, method, name, api_key) -> Response:
    module, sep, field_name = (name or "").partition("--")
    definitions = state.additional_fields.get(module, {})
    if not sep:
        if method == "GET":
            return _json(list(definitions.values()), 200)
        if method == "POST":
            body = _body(request)
            if not body.get("name"):
                raise ValidationFailed(
                    [{"field": "name", "is_additional_attribute": False, "message": "Name cannot be blank."}]
                )
            body = dict(body)
            created = state.define_additional_field(
                module, body.pop("name"), body.pop("type", "string"), **body
            )
            return _json(created, 201)
        return _error(405, "METHOD_NOT_ALLOWED", "Method not allowed")
    definition = definitions.get(field_name)
    if definition is None:
        return _error(404, "NOT_FOUND", "Additional field not found!")
    if method == "GET":
        return _json(definition, 200)
    if method == "PUT":
        body = _body(request)
        definition.update({k: v for k, v in body.items() if k not in ("name", "module")})
        return _json(None, 202)
    if method == "DELETE":
        del definitions[field_name]
        return _json(None, 204)
    return _error(405, "METHOD_NOT_ALLOWED", "Method not allowed")


def _config(state, request, method, _name, api_key) -> Response:
    args = request.args
    key = (args.get("module", ""), args.get("path", ""), args.get("partner_id", ""))
    settings = state.config_settings.setdefault(key, {})
    if method == "GET":
        wanted = args.get("key")
        if wanted:
            return _json({wanted: settings.get(wanted, "")}, 200)
        return _json(settings, 200)
    if method == "PUT":
        settings.update({k: "" if v is None else v for k, v in _body(request).items()})
        return _json(None, 202)
    return _error(405, "METHOD_NOT_ALLOWED", "Method not allowed")


def _customer_info(state, request, method, customer_id, api_key) -> Response:
    customer = state.get("customers", customer_id)
    _check_partner(state, api_key, SPECS["customers"], customer)
    info = state.customer_info.setdefault(
        customer["id"],
        {
            "customer_id": customer["id"],
            "birthday": "0000-00-00",
            "passport": "",
            "company_id": "",
            "vat_id": "",
            "contact_person": "",
            "updated_at": customer["last_update"],
        },
    )
    if method == "GET":
        return _json(state.present("customers", info), 200)
    if method == "PUT":
        allowed = {"birthday", "passport", "company_id", "vat_id", "contact_person"}
        info.update({k: "" if v is None else str(v) for k, v in _body(request).items() if k in allowed})
        info["updated_at"] = state.datetime_str()
        return _json(None, 202)
    return _error(405, "METHOD_NOT_ALLOWED", "Method not allowed")


def _statement_import(state, request, method, _name, api_key) -> Response:
    if method != "POST":
        return _error(405, "METHOD_NOT_ALLOWED", "Method not allowed")
    body = _body(request)
    rows, columns = body.get("data"), body.get("columns")
    if not isinstance(rows, list) or not isinstance(columns, dict):
        raise ValidationFailed(
            [{"field": "data", "is_additional_attribute": False, "message": "Data is invalid."}]
        )
    with state.lock:
        statement = state.create(
            "bank_statements", {"title": body.get("title") or "API import", "handler": "base"}
        )
        for row in rows:
            values = {columns[k]: v for k, v in (row or {}).items() if k in columns}
            record = {
                "bank_statements_process_id": statement["id"],
                "amount": values.get("amount", "0"),
                "payment_date": values.get("date", "0000-00-00"),
                "pairing_1": str(values.get("customer_id", "")),
                "pairing_2": str(values.get("invoice_number", "")),
                "customer_id": values.get("customer_id") or 0,
                "comment": str(values.get("comment", "")),
            }
            state.create("bank_statement_records", record)
    return _json({"id": statement["id"]}, 201)


def _company_info(state, request, method, partner_id, api_key) -> Response:
    if method != "GET":
        return _error(405, "METHOD_NOT_ALLOWED", "Method not allowed")
    partner = state.get("partners", partner_id or 1)
    return _json(
        {
            "partner_id": partner["id"],
            "company_name": partner["name"],
            "street_1": "",
            "street_2": "",
            "zip": "",
            "city": "",
            "country": "",
            "iso_country_code": "",
            "email": "",
            "phone": "",
            "company_id": "",
            "company_vat": "",
            "vat_percent": "0.0000",
            "splynx_url": "",
        },
        200,
    )


_SPECIAL = {
    "admin/config/additional-fields/*": _additional_fields,
    "admin/config/config": _config,
    "admin/customers/customer-info/*": _customer_info,
    "admin/finance/bank-statements-import": _statement_import,
    "admin/config/company-info": _company_info,
    "admin/config/company-info/*": _company_info,
}
