"""Which credentials worked and which failed, remembered as fingerprints, never as secrets.

A fingerprint is a SHA-256 over the settings that identify one system's credentials. It lets a
run know that the credentials it holds were accepted before (so a 401 from an overloaded
account is retried, docs/netsuite-oauth2-and-payments.md) and lets the 'needs attention' halt
lift by itself once the operator has configured different credentials, wherever they come from
(config page, ``config set`` or the environment).
"""

from __future__ import annotations

import hashlib
from typing import Any

from addon import billing_backends
from addon.extension import session
from addon.models import ConnectionStatus, utcnow

NETSUITE_CREDENTIAL_KEYS = (
    "netsuite_account_id",
    "netsuite_auth_mode",
    "netsuite_consumer_key",
    "netsuite_consumer_secret",
    "netsuite_token_id",
    "netsuite_token_secret",
    "netsuite_client_id",
    "netsuite_certificate_id",
    "netsuite_private_key",
    "netsuite_base_url",
)


def fingerprint(system: str, values: dict[str, Any]) -> str:
    """A stable digest of ``system``'s credentials in ``values`` (a settings snapshot).

    The billing digest is salted with the backend's name, so the fingerprints stored while the
    connection status was named after Splynx still match its credentials."""
    if system == billing_backends.SYSTEM:
        backend = billing_backends.selected()
        salt, keys = backend.name, backend.credential_keys
    else:
        salt, keys = system, NETSUITE_CREDENTIAL_KEYS
    digest = hashlib.sha256(f"netsuite-sync credentials {salt}".encode())
    for key in keys:
        text = str(values.get(key) or "").encode()
        digest.update(len(text).to_bytes(4, "big") + text)
    return digest.hexdigest()


def _row(system: str) -> ConnectionStatus:
    return session().get(ConnectionStatus, system) or ConnectionStatus(system=system, needs_attention=False)


def proven(system: str, values: dict[str, Any]) -> bool:
    """True when these exact credentials worked before (last run or a test connection)."""
    row = session().get(ConnectionStatus, system)
    return row is not None and row.working_fingerprint == fingerprint(system, values)


def remember_working(system: str, values: dict[str, Any]) -> None:
    """These credentials were accepted: keep their fingerprint, and lower a flag other
    credentials raised (a run with the corrected ones has just proven them)."""
    digest = fingerprint(system, values)
    row = _row(system)
    lift = row.needs_attention and row.failed_fingerprint != digest
    if row.working_fingerprint == digest and not lift:
        return
    row.working_fingerprint = digest
    if lift:
        row.needs_attention, row.failed_fingerprint = False, None
        row.message, row.checked_at = "Credentials accepted by a sync run", utcnow()
    session().add(row)
    session().commit()


def record_status(
    system: str, needs_attention: bool, message: str | None, values: dict[str, Any] | None = None
) -> None:
    """Store a connection verdict; with ``values`` also which credentials earned it."""
    row = _row(system)
    row.needs_attention, row.message, row.checked_at = needs_attention, message, utcnow()
    if values is not None:
        digest = fingerprint(system, values)
        if needs_attention:
            row.failed_fingerprint = digest
            if row.working_fingerprint == digest:
                row.working_fingerprint = None
        else:
            row.failed_fingerprint, row.working_fingerprint = None, digest
    session().add(row)
    session().commit()


def halted(systems: tuple[str, ...], values: dict[str, Any]) -> ConnectionStatus | None:
    """The first system whose connection still needs attention for the credentials in ``values``.

    A flag raised for other credentials than the current ones no longer holds: the operator has
    changed them, so the next run tries (and flags again if they fail too).
    """
    for system in systems:
        row = session().get(ConnectionStatus, system)
        if row is None or not row.needs_attention:
            continue
        if row.failed_fingerprint and row.failed_fingerprint != fingerprint(system, values):
            continue
        return row
    return None
