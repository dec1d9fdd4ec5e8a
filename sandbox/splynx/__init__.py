"""A protocol-faithful fake of Splynx REST API v2 (see the Splynx API protocol reference the team keeps beside the project)."""

from __future__ import annotations

from .app import create_app
from .auth import sign
from .store import ApiError, SplynxState, ValidationFailed

__all__ = ["ApiError", "SplynxState", "ValidationFailed", "build_state", "create_app", "sign"]


def build_state(
    customers: int = 40, seed: int = 1, *, api_key=None, api_secret=None, **options
) -> SplynxState:
    """A state loaded with ``sandbox.dataset.generate(customers, seed, ...)`` and one API key.

    ``options`` go to ``generate`` except the ``SplynxState`` switches
    ``string_ids``, ``soft_delete_documents`` and ``nonce_policy``.
    """
    from sandbox.dataset import generate

    state_options = {
        k: options.pop(k) for k in ("string_ids", "soft_delete_documents", "nonce_policy") if k in options
    }
    state = SplynxState(**state_options)
    state.load_dataset(generate(customers=customers, seed=seed, **options))
    state.auth.add_key(api_key, api_secret)
    return state
