"""Encryption at rest for secret settings.

The key is derived from the host's ``SECRET_KEY`` with HKDF, so rotating
``SECRET_KEY`` means re-entering the secrets (README, threat model).
"""

from __future__ import annotations

import base64

from cryptography.fernet import Fernet, InvalidToken
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

_INFO = b"netsuite-sync/settings-encryption/v1"


class SecretUnreadable(Exception):
    """A stored secret cannot be decrypted (``SECRET_KEY`` changed?)."""


def _fernet(secret_key: str | bytes) -> Fernet:
    if not secret_key:
        raise ValueError("SECRET_KEY is required to store secrets")
    material = secret_key.encode() if isinstance(secret_key, str) else secret_key
    key = HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=_INFO).derive(material)
    return Fernet(base64.urlsafe_b64encode(key))


def encrypt(secret_key: str | bytes, plaintext: str) -> str:
    return _fernet(secret_key).encrypt(plaintext.encode()).decode()


def decrypt(secret_key: str | bytes, token: str) -> str:
    try:
        return _fernet(secret_key).decrypt(token.encode()).decode()
    except InvalidToken as exc:
        raise SecretUnreadable(
            "a stored secret cannot be decrypted with the current SECRET_KEY; enter it again"
        ) from exc
