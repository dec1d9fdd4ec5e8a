"""The registry of billing systems the add-on can sync from.

A billing system is a backend: it declares its name, its label, the settings it needs, how
to build its :class:`addon.billing.BillingSystem` from those settings and the prefix of the
NetSuite externalIds its records get. Everything that varies with the billing system reads
it from here (the settings page, the context builder, the connection status, the labels), so
a second system is one new package that calls :func:`register_backend`.

Which backend runs is the host's choice (``NETSUITE_ADDON_BILLING_SYSTEM``, default
``splynx``): a deployment syncs from one billing system, and its settings are that
system's.
"""

from __future__ import annotations

import importlib
import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from flask import current_app, has_app_context

from addon.billing import BillingConfigError, BillingSystem

if TYPE_CHECKING:
    from addon.settings import SettingSpec

CONFIG_KEY = "NETSUITE_ADDON_BILLING_SYSTEM"
DEFAULT_BACKEND = "splynx"
# The connection-status name of whichever billing system is configured.
SYSTEM = "billing"
# Imported on first use so that they register themselves (as Redash imports its query runners).
BUILTIN_MODULES = ("addon.splynx.backend",)


@dataclass(frozen=True)
class BillingBackend:
    """What the add-on needs to know about one billing system.

    ``settings`` are its setting specs (group ``billing``); ``build`` turns a settings
    snapshot into a client and raises :class:`BillingConfigError` when the values are
    unusable. ``credential_keys`` identify its credentials (their fingerprint lifts a
    'needs attention' halt once they change); ``destination_keys`` say where the secrets
    go (moving it forgets them). ``check`` refuses a combination of values on saving.
    ``accounting_id_setting`` names the setting holding the billing field the NetSuite id is
    written back into (for a system with the ACCOUNTING_IDS capability).
    """

    name: str
    label: str
    settings: tuple[SettingSpec, ...]
    build: Callable[[Mapping[str, Any]], BillingSystem]
    external_id_prefix: str
    credential_keys: tuple[str, ...] = ()
    destination_keys: tuple[str, ...] = ()
    check: Callable[[Callable[[str], Any]], None] | None = field(default=None, repr=False)
    accounting_id_setting: str | None = None

    def __post_init__(self) -> None:
        if not self.external_id_prefix.replace("-", "").isalnum():
            raise ValueError(f"external-id prefix {self.external_id_prefix!r}: letters, digits and '-' only")
        strays = [item.key for item in self.settings if item.group != SYSTEM]
        if strays:
            raise ValueError(
                f"backend {self.name!r}: settings {', '.join(strays)} must be in group 'billing'"
            )


_BACKENDS: dict[str, BillingBackend] = {}
_builtins_loaded = False


def register_backend(backend: BillingBackend) -> BillingBackend:
    """Make ``backend`` selectable; a name registers once (a second, different one is refused)."""
    known = _BACKENDS.get(backend.name)
    if known is not None and known != backend:
        raise ValueError(f"a billing backend named {backend.name!r} is registered already")
    _BACKENDS[backend.name] = backend
    return backend


def unregister_backend(name: str) -> None:
    """Forget a backend (a test's toy one)."""
    _BACKENDS.pop(name, None)


def _load_builtins() -> None:
    global _builtins_loaded
    if not _builtins_loaded:
        _builtins_loaded = True
        for module in BUILTIN_MODULES:
            importlib.import_module(module)


def backends() -> dict[str, BillingBackend]:
    """Every registered backend by name."""
    _load_builtins()
    return dict(_BACKENDS)


_last_configured: str | None = None


def selected_name() -> str:
    """The configured backend's name: the host's config, else the environment, else Splynx.

    A run's worker threads have no app context: they get what the process was last configured
    with in one (a process serves one host app)."""
    global _last_configured
    if has_app_context():
        _last_configured = str(current_app.config.get(CONFIG_KEY) or "") or None
    return _last_configured or os.environ.get(CONFIG_KEY) or DEFAULT_BACKEND


def selected() -> BillingBackend:
    """The backend this deployment syncs from; a name nothing registered is a config error."""
    name = selected_name()
    known = backends()
    found = known.get(name)
    if found is None:
        raise BillingConfigError(
            f"{CONFIG_KEY} names billing system {name!r}, which is not registered "
            f"(registered: {', '.join(sorted(known)) or 'none'})"
        )
    return found


def label() -> str:
    """How the configured billing system spells itself ("Splynx"); its configured name when
    nothing registered it (so the refusal that says so can still be worded)."""
    try:
        return selected().label
    except BillingConfigError:
        return selected_name()
