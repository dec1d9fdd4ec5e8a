"""Baseline (b): customers exported the way a typical one-off sync script does it.

For each Splynx customer, one after another: a SuiteQL lookup by external id, then a POST
(or a PATCH when the lookup found it). No pooling of writes, no local ledger, no
concurrency: two NetSuite round trips per record, each paying the full latency. It talks
to NetSuite with plain ``requests`` + OAuth 1.0a, like such scripts do, so none of the
engine's machinery flatters it or holds it back.
"""

from __future__ import annotations

from collections import Counter

import requests
from oauthlib.oauth1 import SIGNATURE_HMAC_SHA256
from requests_oauthlib import OAuth1

CUSTOMERS_PATH = "admin/customers/customer"


def _session(credentials: dict) -> requests.Session:
    session = requests.Session()
    session.auth = OAuth1(
        client_key=credentials["consumer_key"],
        client_secret=credentials["consumer_secret"],
        resource_owner_key=credentials["token_id"],
        resource_owner_secret=credentials["token_secret"],
        # docs/netsuite-rest.md §1.1: realm is the canonical account id, upper case with the underscore.
        realm=credentials["account_id"].replace("-", "_").upper(),
        signature_method=SIGNATURE_HMAC_SHA256,
    )
    return session


def _suiteql(session: requests.Session, root: str, query: str) -> list[dict]:
    response = session.post(
        f"{root}/query/v1/suiteql",
        json={"q": query},
        headers={"Prefer": "transient"},  # docs/netsuite-rest.md §11: SuiteQL wants it
        timeout=60,
    )
    response.raise_for_status()
    return response.json().get("items", [])


def customer_payload(customer: dict, subsidiary: str) -> dict:
    """The fields a script would send for one Splynx customer record."""
    return {
        "externalId": f"splynx-customer-{customer['id']}",
        "companyName": (customer.get("name") or customer.get("login") or str(customer["id"]))[:83],
        "email": customer.get("email") or "",
        "phone": customer.get("phone") or "",
        "subsidiary": {"id": subsidiary},
    }


def export_customers(netsuite_credentials: dict, netsuite_url: str, splynx_client) -> dict:
    """Export every Splynx customer sequentially; returns outcome counts like a run's."""
    root = netsuite_url + "/services/rest"
    session = _session(netsuite_credentials)
    subsidiary = _suiteql(session, root, "SELECT id FROM subsidiary ORDER BY id")[0]["id"]
    counts: Counter[str] = Counter()
    for customer in splynx_client.list(CUSTOMERS_PATH):
        external_id = f"splynx-customer-{customer['id']}"
        try:
            # The id is an integer from Splynx, so the literal cannot carry a quote.
            query = f"SELECT id FROM customer WHERE externalid = '{external_id}'"  # noqa: S608
            found = _suiteql(session, root, query)
            body = customer_payload(customer, subsidiary)
            if found:
                response = session.patch(f"{root}/record/v1/customer/{found[0]['id']}", json=body, timeout=60)
            else:
                response = session.post(f"{root}/record/v1/customer", json=body, timeout=60)
            response.raise_for_status()
            counts["updated" if found else "created"] += 1
        except requests.RequestException:
            counts["failed"] += 1
    session.close()
    return dict(counts)
