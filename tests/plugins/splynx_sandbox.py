"""Fixtures serving the Splynx sandbox over loopback HTTP.

``splynx_sandbox`` is a fresh 40-customer installation (seed 1) per test;
``make_splynx_sandbox(customers=..., seed=..., bad_inputs=...)`` builds others.
Each handle has ``.url`` (installation root; the API is under ``/api/2.0/``),
``.api_key``, ``.api_secret``, ``.state`` (edits, counters, faults) and ``.dataset``.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass

import pytest

from sandbox.server import RunningServer, serve_in_thread
from sandbox.splynx import SplynxState, build_state, create_app


@dataclass
class SplynxSandbox:
    server: RunningServer
    state: SplynxState
    api_key: str
    api_secret: str

    @property
    def url(self) -> str:
        return self.server.url

    @property
    def api_url(self) -> str:
        return self.server.url + "/api/2.0/"

    @property
    def dataset(self):
        return self.state.dataset


@pytest.fixture
def make_splynx_sandbox():
    """Factory: ``make_splynx_sandbox(customers=40, seed=1, bad_inputs=False, **options)``."""
    running: list[RunningServer] = []

    def make(customers: int = 40, seed: int = 1, **options) -> SplynxSandbox:
        state = build_state(customers, seed, **options)
        key = next(iter(state.auth.keys.values()))
        server = serve_in_thread(create_app(state))
        running.append(server)
        return SplynxSandbox(server=server, state=state, api_key=key.key, api_secret=key.secret)

    yield make
    # RunningServer.stop() waits out serve_forever's 0.5 s poll; stopping in the
    # background keeps each test's teardown instant.
    for server in running:
        threading.Thread(target=server.stop, daemon=True).start()


@pytest.fixture
def splynx_sandbox(make_splynx_sandbox) -> SplynxSandbox:
    """A fresh small Splynx installation (40 customers, seed 1) served on loopback."""
    return make_splynx_sandbox()
