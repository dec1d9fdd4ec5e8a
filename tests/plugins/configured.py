"""The add-on configured against both sandboxes, as an operator would set it up.

``configured`` pushes an app context, starts a fresh NetSuite sandbox and a
fresh Splynx sandbox (40 customers, seed 1) and saves the connection settings
through ``addon.settings``; the engine then builds its clients from settings
like in production.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pytest


@dataclass
class Configured:
    """Handles on both sandboxes plus helpers to change settings and build a context."""

    app: Any
    netsuite: Any  # tests.plugins.netsuite_sandbox.NetSuiteSandboxHandle
    splynx: Any  # tests.plugins.splynx_sandbox.SplynxSandbox

    def settings(self, **values: Any) -> None:
        """Save module settings (validated, atomically).

        Moving a destination (Splynx URL, NetSuite account or host) forgets that system's
        secrets unless the same save re-enters them: this helper re-enters the saved ones, as
        an operator moving a test setup would."""
        from addon import settings

        for group, keys in settings.destinations().items():
            if any(key in values for key in keys):
                for key in settings._secrets_of(group):
                    if key not in values and settings.source(key) == "saved":
                        values[key] = settings.get(key)
        settings.put_many(values)

    def use_oauth2(self) -> None:
        """Switch the saved NetSuite credentials to OAuth 2.0 client credentials (M2M)."""
        self.settings(
            netsuite_auth_mode="oauth2",
            netsuite_client_id=self.netsuite.client_id,
            netsuite_certificate_id=self.netsuite.certificate_id,
            netsuite_private_key=self.netsuite.private_key_pem.decode(),
        )

    def context(self):
        """A fresh ``SyncContext`` read from the saved settings."""
        from addon.sync.context import SyncContext

        return SyncContext.from_settings()


@pytest.fixture
def configured(app_ctx, netsuite_sandbox, splynx_sandbox) -> Configured:
    """App context + both sandboxes + connection settings saved (concurrency 4)."""
    from addon import settings

    settings.put_many(
        {
            "netsuite_account_id": netsuite_sandbox.account_id,
            "netsuite_auth_mode": "tba",
            "netsuite_consumer_key": netsuite_sandbox.consumer_key,
            "netsuite_consumer_secret": netsuite_sandbox.consumer_secret,
            "netsuite_token_id": netsuite_sandbox.token_id,
            "netsuite_token_secret": netsuite_sandbox.token_secret,
            "netsuite_base_url": netsuite_sandbox.url,
            "netsuite_concurrency": 4,
            "splynx_url": splynx_sandbox.url,
            "splynx_api_key": splynx_sandbox.api_key,
            "splynx_api_secret": splynx_sandbox.api_secret,
        }
    )
    return Configured(app=app_ctx, netsuite=netsuite_sandbox, splynx=splynx_sandbox)


@pytest.fixture(params=["tba", "oauth2"])
def both_auth_modes(request, configured) -> str:
    """Run a test once with token-based auth and once with OAuth 2.0 client credentials
    (a module opts in with ``pytest.mark.usefixtures("both_auth_modes")``)."""
    if request.param == "oauth2":
        configured.use_oauth2()
    return request.param
