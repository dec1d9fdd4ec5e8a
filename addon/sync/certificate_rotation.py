"""The OAuth 2.0 (M2M) certificate in use, and the next one while it is being rotated in.

A rotation never leaves a run without a working key: a new key pair is kept as *pending*
(private key encrypted like every secret) while the current key and certificate id go on
signing. Once the operator has mapped the new certificate in NetSuite and enters the
certificate id NetSuite gave it, the pending key is tried with that id at the token endpoint;
only a token NetSuite grants makes it the key in use. The old certificate can then be
revoked in NetSuite (docs/netsuite-oauth2-and-payments.md).
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from flask import current_app

from addon import crypto, settings
from addon.extension import session
from addon.models import Setting
from addon.netsuite import NetSuiteAuthError, NetSuiteConfigError, NetSuiteError
from addon.netsuite import certificates as certs
from addon.netsuite.auth import ClientCredentialsAuth
from addon.netsuite.transport import Transport
from addon.sync.context import netsuite_config

# Rows of the settings table outside the setting specs (never on the config form).
ACTIVE_CERTIFICATE = "netsuite_certificate_pem"
PENDING_CERTIFICATE = "netsuite_pending_certificate_pem"
PENDING_KEY = "netsuite_pending_private_key"


class RotationError(ValueError):
    """A step of the rotation that cannot be done; the message says why and what to do."""


@dataclass(frozen=True)
class CertificateState:
    active: certs.CertificateInfo | None
    pending: certs.CertificateInfo | None
    key_configured: bool  # a private key is configured (generated here or pasted)

    @property
    def warning(self) -> str | None:
        return self.active.warning() if self.active else None


def _read(key: str) -> str | None:
    row = session().get(Setting, key)
    if row is None or row.value is None:
        return None
    return crypto.decrypt(current_app.config["SECRET_KEY"], row.value) if row.encrypted else row.value


def _write(key: str, value: str | None, *, secret: bool = False) -> None:
    row = session().get(Setting, key)
    if value is None:
        if row is not None:
            session().delete(row)
        return
    row = row or Setting(key=key)
    row.encrypted = secret
    row.value = crypto.encrypt(current_app.config["SECRET_KEY"], value) if secret else value
    session().add(row)


def state() -> CertificateState:
    """What the config page and ``certificate show`` tell about the certificates."""
    key = settings.get("netsuite_private_key")
    active_pem = _read(ACTIVE_CERTIFICATE)
    active = None
    # Shown only while it belongs to the configured key (a pasted key has no certificate here).
    if active_pem and key and _same_key(key, active_pem):
        active = certs.describe(active_pem)
    pending_pem = _read(PENDING_CERTIFICATE)
    return CertificateState(active, certs.describe(pending_pem) if pending_pem else None, bool(key))


def _same_key(private_key_pem: str, certificate_pem: str) -> bool:
    try:
        return certs.matches(private_key_pem, certificate_pem)
    except (ValueError, TypeError):
        return False


def generate_pending(key_type: str = certs.DEFAULT_KEY_TYPE) -> certs.CertificateInfo:
    """A new key pair kept as the pending one (replacing an earlier pending one)."""
    private_pem, certificate_pem = certs.generate(key_type)
    _write(PENDING_KEY, private_pem, secret=True)
    _write(PENDING_CERTIFICATE, certificate_pem)
    session().commit()
    return certs.describe(certificate_pem)


def certificate_pem(which: str) -> str:
    """The PEM of the 'pending' or 'active' certificate, for upload to NetSuite."""
    pem = _read(PENDING_CERTIFICATE if which == "pending" else ACTIVE_CERTIFICATE)
    if not pem or (which == "active" and state().active is None):
        raise RotationError(f"there is no {which} certificate")
    return pem


def discard_pending() -> None:
    _write(PENDING_KEY, None)
    _write(PENDING_CERTIFICATE, None)
    session().commit()


def activate(certificate_id: str) -> str:
    """Make the pending key the one in use under ``certificate_id``, once NetSuite grants a token.

    Nothing changes when NetSuite refuses: the current key and certificate id keep signing.
    """
    certificate_id = (certificate_id or "").strip()
    if not certificate_id:
        raise RotationError("enter the certificate ID NetSuite shows for the new certificate")
    pending_key, pending_pem = _read(PENDING_KEY), _read(PENDING_CERTIFICATE)
    if not pending_key or not pending_pem:
        raise RotationError("there is no new certificate to activate: generate one first")
    values = settings.snapshot()
    values.update(
        netsuite_auth_mode="oauth2", netsuite_certificate_id=certificate_id, netsuite_private_key=pending_key
    )
    try:
        config = replace(netsuite_config(values), max_attempts=1)
        ClientCredentialsAuth(config, Transport(config.origin, 1)).token()
    except NetSuiteConfigError as exc:
        raise RotationError(f"the OAuth 2.0 settings are incomplete: {exc.detail}") from exc
    except NetSuiteAuthError as exc:
        raise RotationError(
            f"NetSuite refused a token for certificate ID {certificate_id}: {exc}. Check that the new "
            "certificate is mapped to this integration, entity and role; the current key stays in use."
        ) from exc
    except NetSuiteError as exc:
        raise RotationError(f"NetSuite could not be reached to try the new certificate: {exc}") from exc
    settings.put("netsuite_private_key", pending_key, commit=False)
    settings.put("netsuite_certificate_id", certificate_id, commit=False)
    if settings.get("netsuite_auth_mode") != "oauth2":
        settings.put("netsuite_auth_mode", "oauth2", commit=False)
    _write(ACTIVE_CERTIFICATE, pending_pem)
    _write(PENDING_KEY, None)
    _write(PENDING_CERTIFICATE, None)
    session().commit()
    return f"Certificate ID {certificate_id} is now in use; NetSuite granted a token with it."
