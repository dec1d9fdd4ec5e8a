"""Module config: a successful NetSuite test offers a concurrency default from governanceLimits."""

from __future__ import annotations

import re

import pytest


def concurrency_help(client) -> str:
    html = client.get("/netsuite/config").get_data(as_text=True)
    found = re.search(r'<p class="ns-help" id="netsuite_concurrency-help">(.*?)</p>', html, re.S)
    return found.group(1) if found else ""


def press_test_netsuite(client, auth) -> None:
    client.post("/netsuite/config/test/netsuite", data={"csrf_token": auth.csrf_token()})


@pytest.mark.parametrize(
    ("limit_type", "expected"),
    [
        ("accountLimit", "NetSuite allows 7 concurrent requests for this account; suggested: 6."),
        ("integrationSpecific", "NetSuite allows 7 concurrent requests for this integration; suggested: 7."),
    ],
)
def test_a_successful_test_suggests_a_limit_next_to_the_field(client, auth, configured, limit_type, expected):
    configured.netsuite.state.concurrency_limit = 7
    configured.netsuite.state.governance_limit_type = limit_type
    auth.login()
    assert "NetSuite allows" not in concurrency_help(client)
    press_test_netsuite(client, auth)
    assert expected in concurrency_help(client)
    assert configured.netsuite.state.counters.requests.get("GET governanceLimits", 0) >= 1


def test_a_failed_test_drops_the_suggestion(client, auth, configured):
    auth.login()
    press_test_netsuite(client, auth)
    assert "NetSuite allows" in concurrency_help(client)
    configured.settings(netsuite_token_secret="wrong")
    press_test_netsuite(client, auth)
    assert "NetSuite allows" not in concurrency_help(client)
