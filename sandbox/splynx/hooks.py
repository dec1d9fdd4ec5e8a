"""Webhooks from the Splynx sandbox: signed POSTs when records are created, changed or deleted.

As Splynx does (docs/splynx-webhooks.md): the body is JSON or form-encoded (PHP-style
``data[attributes][id]``), ``type`` is "event" (or "ping"), ``data`` holds source, model,
action, date, time, administrator, customer, result, attributes and changed attributes, and
``X-Splynx-Signature`` is the HMAC-SHA1 of the raw body keyed with the hook's secret.
Deliveries leave from sender threads, never under the store's lock, so a slow receiver never
slows the API.

Switches, for what public sources leave open (each hook chooses):
- ``content``: "json" or "form" (the PHP handler in Splynx's docs accepts both).
- ``models``: "models" (``models\\admin\\finance\\Invoices``), "api" (``api\\admin\\finance\\Invoices``)
  or "short" (``invoice`` with actions create/edit/delete, ``payment`` with add): the exact model
  strings of these records are not published; the receiver must cope with each.

Over HTTP (for sandboxes in their own process):
- ``POST /__sandbox/hooks`` {"url", "secret", "content", "models"} adds a hook; ``DELETE`` removes all;
- ``GET /__sandbox/hooks`` lists the deliveries (record, action, sent_at, status);
- ``POST /__sandbox/hooks/ping`` sends a ping to every hook;
- ``POST /__sandbox/hooks/burst`` {"invoices": N, "customer_ids": [...]} issues N invoices at once,
  as a billing run does (for the customers given, else for all).
"""

from __future__ import annotations

import copy
import hashlib
import hmac
import json
import queue
import threading
import time
from collections import deque
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from urllib.parse import quote

import requests
from werkzeug.wrappers import Request, Response

MODEL_NAMES = {
    "models": {
        "customers": "models\\admin\\customers\\Customer",
        "invoices": "models\\admin\\finance\\Invoices",
        "credit_notes": "models\\admin\\finance\\CreditNotes",
        "payments": "models\\admin\\finance\\Payments",
    },
    "api": {
        "customers": "api\\admin\\customers\\Customer",
        "invoices": "api\\admin\\finance\\Invoices",
        "credit_notes": "api\\admin\\finance\\CreditNotes",
        "payments": "api\\admin\\finance\\Payments",
    },
    # Hook event names as add-ons subscribe to them ("invoice/create", "payment/add", "customer/edit").
    "short": {
        "customers": "customer",
        "invoices": "invoice",
        "credit_notes": "credit_note",
        "payments": "payment",
    },
}
# The actions of the "short" style: edits are "edit", a new payment is "add".
SHORT_ACTIONS = {("payments", "create"): "add", "update": "edit"}
CONTENT_TYPES = {"json": "application/json", "form": "application/x-www-form-urlencoded"}
SENDER_THREADS = 4
TIMEOUT = 10.0


@dataclass
class Hook:
    url: str
    secret: str
    content: str = "json"
    models: str = "models"


def form_encode(value: Any, prefix: str = "") -> list[str]:
    """PHP ``http_build_query`` style: nested keys in brackets, lists by index, null as empty."""
    if isinstance(value, dict):
        items = list(value.items())
    elif isinstance(value, list | tuple):
        items = list(enumerate(value))
    else:
        text = "" if value is None else str(value)
        return [f"{quote(prefix, safe='')}={quote(text, safe='')}"]
    parts: list[str] = []
    for key, child in items:
        parts += form_encode(child, f"{prefix}[{key}]" if prefix else str(key))
    return parts


def body_of(payload: dict, content: str) -> bytes:
    if content == "form":
        return "&".join(form_encode(payload)).encode()
    return json.dumps(payload, separators=(",", ":")).encode()


def sign(secret: str, body: bytes) -> str:
    return hmac.new(secret.encode(), body, hashlib.sha1).hexdigest()


class HookSender:
    """The hooks of one sandbox and the threads delivering their events in order of issue."""

    def __init__(self):
        self.hooks: list[Hook] = []
        self.deliveries: deque[dict] = deque(maxlen=200_000)
        self._queue: queue.Queue = queue.Queue()
        self._threads: list[threading.Thread] = []
        self._lock = threading.Lock()
        self._sent = 0
        self._http = threading.local()

    def add(self, url: str, secret: str, content: str = "json", models: str = "models") -> Hook:
        if content not in CONTENT_TYPES or models not in MODEL_NAMES:
            raise ValueError(
                f"content must be one of {list(CONTENT_TYPES)}, models one of {list(MODEL_NAMES)}"
            )
        hook = Hook(url, secret, content, models)
        with self._lock:
            self.hooks.append(hook)
            while len(self._threads) < SENDER_THREADS:
                thread = threading.Thread(target=self._deliver, name="splynx-hooks", daemon=True)
                self._threads.append(thread)
                thread.start()
        return hook

    def clear(self) -> None:
        with self._lock:
            self.hooks = []
            self.deliveries.clear()

    def emit(self, entity: str, action: str, record: dict, before: dict | None = None) -> None:
        """Queue one event per hook (called under the store's lock: copies, never sends)."""
        if not self.hooks or entity not in MODEL_NAMES["models"]:
            return
        now = datetime.now()
        attributes = {k: v for k, v in record.items() if k != "additional_attributes"}
        changed = None
        if before is not None:
            changed = {k: v for k, v in record.items() if before.get(k) != v and k != "additional_attributes"}
        data = {
            "source": "api",
            "action": action,
            "date": now.strftime("%Y-%m-%d"),
            "time": now.strftime("%H:%M:%S"),
            "administrator_id": "1",
            "customer_id": record["id"] if entity == "customers" else record.get("customer_id"),
            "result": "success",
            "attributes": copy.deepcopy(attributes),
            "attributes_additional": copy.deepcopy(record.get("additional_attributes") or []),
            "changed_attributes": copy.deepcopy(changed),
            "extra": None,
            "errors": None,
            "ip": "127.0.0.1",
        }
        for hook in list(self.hooks):
            said = action
            if hook.models == "short":
                said = SHORT_ACTIONS.get((entity, action)) or SHORT_ACTIONS.get(action) or action
            model = MODEL_NAMES[hook.models][entity]
            payload = {"type": "event", "data": {**data, "model": model, "action": said}}
            self._queue.put((hook, payload, entity, record["id"], action))

    def ping(self) -> None:
        for hook in list(self.hooks):
            self._queue.put((hook, {"type": "ping"}, None, None, "ping"))

    def wait_idle(self, timeout: float = 30.0) -> bool:
        """Until every queued event was delivered (tests)."""
        deadline = time.monotonic() + timeout
        while self._queue.unfinished_tasks:
            if time.monotonic() >= deadline:
                return False
            time.sleep(0.01)
        return True

    def _session(self) -> requests.Session:
        if not hasattr(self._http, "session"):
            self._http.session = requests.Session()
        return self._http.session

    def _deliver(self) -> None:
        while True:
            hook, payload, entity, record_id, action = self._queue.get()
            try:
                body = body_of(payload, hook.content)
                headers = {
                    "Content-Type": CONTENT_TYPES[hook.content],
                    "X-Splynx-Signature": sign(hook.secret, body),
                }
                sent_at = time.time()
                status = None
                # Splynx retries a failed delivery (docs/splynx-webhooks.md); the sandbox once, at once.
                for _attempt in range(2):
                    try:
                        status = (
                            self._session()
                            .post(hook.url, data=body, headers=headers, timeout=TIMEOUT)
                            .status_code
                        )
                    except requests.RequestException:
                        status = None
                    if status is not None and status < 500:
                        break
                self.deliveries.append(
                    {
                        "entity": entity,
                        "id": record_id,
                        "action": action,
                        "sent_at": sent_at,
                        "status": status,
                    }
                )
            finally:
                self._queue.task_done()


# -- the billing run's burst --------------------------------------------------------------------


def issue_invoices(state, count: int, customer_ids=None) -> list[int]:
    """Issue ``count`` invoices at once, for customers in turn (all, or ``customer_ids``), each like
    that customer's latest invoice: what Splynx's monthly billing run does. Returns the new ids."""
    wanted = None if customer_ids is None else {int(c) for c in customer_ids}
    with state.lock:
        latest: dict[int, dict] = {}
        for invoice in state.tables["invoices"].values():
            customer = int(invoice["customer_id"])
            if (
                invoice.get("status") != "deleted"
                and invoice.get("items")
                and (wanted is None or customer in wanted)
            ):
                latest[customer] = invoice
        templates = [latest[c] for c in sorted(latest)]
    if not templates:
        raise ValueError("no invoice to copy: the sandbox has no invoices")
    created = []
    for n in range(count):
        template = templates[n % len(templates)]
        items = []
        for item in template["items"]:
            transaction = state.tables["transactions"].get(item.get("transaction_id"), {})
            items.append(
                {
                    "description": item["description"],
                    "quantity": item["quantity"],
                    "unit": item.get("unit") or "month",
                    "price": item["price"],
                    "tax": item.get("tax", "0"),
                    "tax_id": item.get("tax_id") or 0,
                    "categoryIdForTransaction": transaction.get("category"),
                }
            )
        record = state.create(
            "invoices",
            {"customer_id": template["customer_id"], "date_created": state.date_str(), "items": items},
        )
        created.append(record["id"])
    return created


def control(state, request: Request) -> Response:
    """``/__sandbox/hooks``: configure hooks, read deliveries, ping, burst (see the module doc)."""
    sender: HookSender = state.hooks
    path = request.path.rstrip("/")
    body = request.get_json(silent=True) or {}
    try:
        if path == "/__sandbox/hooks" and request.method == "POST":
            sender.add(body["url"], body["secret"], body.get("content", "json"), body.get("models", "models"))
            return _json({"hooks": len(sender.hooks)})
        if path == "/__sandbox/hooks" and request.method == "DELETE":
            sender.clear()
            return _json({"hooks": 0})
        if path == "/__sandbox/hooks" and request.method == "GET":
            return _json({"deliveries": list(sender.deliveries)})
        if path == "/__sandbox/hooks/ping" and request.method == "POST":
            sender.ping()
            return _json({"pinged": len(sender.hooks)})
        if path == "/__sandbox/hooks/burst" and request.method == "POST":
            issued = issue_invoices(state, int(body.get("invoices", 1)), body.get("customer_ids"))
            return _json({"invoices": issued})
    except (KeyError, ValueError) as exc:
        return _json({"error": str(exc)}, 400)
    return _json({"error": "not found"}, 404)


def _json(data: Any, status: int = 200) -> Response:
    return Response(json.dumps(data), status=status, mimetype="application/json")
