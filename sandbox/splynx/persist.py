"""Optional SQLite file behind a sandbox (``--db``), so a demo survives restarts.

Rows are whole records as JSON; after each successful write request the tables it
may have touched are rewritten. Tokens are not kept: a restarted server, like a
real one after a token purge, wants a new login.
"""

from __future__ import annotations

import json
import sqlite3
import threading

from .entities import SPECS

# Writing one entity can change others through the store's hooks.
_KNOCK_ON = {
    "invoices": ("transactions", "payments"),
    "credit_notes": ("transactions",),
    "payments": ("transactions", "invoices"),
    "bank_statement_records": ("bank_statements",),
    "customers": ("transactions", "invoices", "payments"),
}


class SqliteFile:
    """Load a state from, and write its changed tables to, one SQLite file."""

    def __init__(self, path: str):
        self.path = path
        self._lock = threading.Lock()
        with sqlite3.connect(path) as db:
            db.execute(
                "CREATE TABLE IF NOT EXISTS records (entity TEXT, id INTEGER, body TEXT, PRIMARY KEY (entity, id))"
            )
            db.execute("CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT)")

    def load(self, state) -> bool:
        """Fill ``state`` from the file; False when the file holds nothing yet."""
        with sqlite3.connect(self.path) as db:
            meta = dict(db.execute("SELECT key, value FROM meta"))
            if "keys" not in meta:
                return False
            for entity, body in db.execute("SELECT entity, body FROM records ORDER BY entity, id"):
                state.load(entity, [json.loads(body)])
        state.additional_fields = json.loads(meta["additional_fields"])
        state.config_settings = {tuple(k.split("\x1f")): v for k, v in json.loads(meta["config"]).items()}
        for key, secret in json.loads(meta["keys"]):
            state.auth.add_key(key, secret)
        return True

    def save(self, state, entities) -> None:
        """Rewrite the tables of ``entities`` (and those they touch) plus keys and settings."""
        names = set()
        for entity in entities:
            names.add(entity)
            names.update(_KNOCK_ON.get(entity, ()))
        with self._lock, state.lock, sqlite3.connect(self.path) as db:
            for entity in names & set(SPECS):
                db.execute("DELETE FROM records WHERE entity = ?", (entity,))
                db.executemany(
                    "INSERT INTO records (entity, id, body) VALUES (?, ?, ?)",
                    [
                        (entity, rid, json.dumps(r, ensure_ascii=False))
                        for rid, r in state.tables[entity].items()
                    ],
                )
            meta = {
                "additional_fields": json.dumps(state.additional_fields),
                "config": json.dumps({"\x1f".join(k): v for k, v in state.config_settings.items()}),
                "keys": json.dumps([(k.key, k.secret) for k in state.auth.keys.values()]),
            }
            db.executemany("INSERT OR REPLACE INTO meta (key, value) VALUES (?, ?)", meta.items())
