"""Every admin page: login required, CSRF refused without a token, renders for an admin."""

from __future__ import annotations

import pytest

GET_PAGES = [
    "/netsuite/",
    "/netsuite/config",
    "/netsuite/customers",
    "/netsuite/problems",
    "/netsuite/logs",
    "/netsuite/logs.csv",
    "/netsuite/tools",
    "/netsuite/reconciliation",
    "/netsuite/mappings/categories",
    "/netsuite/records/customer",
]
POST_FORMS = [
    "/netsuite/run",
    "/netsuite/config",
    "/netsuite/config/test/netsuite",
    "/netsuite/mappings/categories",
    "/netsuite/mappings/categories/automap",
    "/netsuite/customers/pair",
    "/netsuite/customers/unpair",
    "/netsuite/tools/reset",
]


@pytest.mark.parametrize("path", GET_PAGES + ["/netsuite/runs/1/progress"])
def test_pages_require_login(client, path):
    response = client.get(path)
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/login?next=")


@pytest.mark.parametrize("path", POST_FORMS)
def test_posts_require_login(client, app, path):
    from addon.models import SyncRun

    response = client.post(path, data={"operation": "export_customers"})
    # The host's own CSRF protection refuses a post without a token before any view runs.
    assert response.status_code == 400
    assert "Form expired" in response.get_data(as_text=True)
    with app.app_context():
        from addon.extension import session

        assert session().query(SyncRun).count() == 0


@pytest.mark.parametrize("path", POST_FORMS)
def test_posts_without_csrf_token_are_refused(client, auth, path):
    auth.login()
    response = client.post(path, data={"operation": "export_customers", "confirm": "RESET"})
    assert response.status_code == 400
    assert "Form expired" in response.get_data(as_text=True)


@pytest.mark.parametrize(
    "path",
    [p for p in GET_PAGES if "mappings" not in p and "records" not in p],
)
def test_pages_render_for_an_admin_with_nothing_configured(client, auth, path):
    auth.login()
    response = client.get(path)
    assert response.status_code == 200, response.get_data(as_text=True)[:500]
    if path.endswith(".csv"):
        assert response.mimetype == "text/csv"
    else:
        html = response.get_data(as_text=True)
        assert "<h1>" in html and "Traceback" not in html
        assert "'unsafe-inline'" not in response.headers["Content-Security-Policy"]
        assert " style=" not in html and "<script>" not in html and " onclick=" not in html


@pytest.mark.parametrize("path", ["/netsuite/mappings/categories", "/netsuite/records/invoice"])
def test_pages_needing_billing_explain_an_unconfigured_system(client, auth, path):
    auth.login()
    response = client.get(path)
    assert response.status_code == 200
    assert "could not be read" in response.get_data(as_text=True)


def test_unknown_pages_are_404(client, auth):
    auth.login()
    assert client.get("/netsuite/mappings/nope").status_code == 404
    assert client.get("/netsuite/records/nope").status_code == 404
    assert client.get("/netsuite/runs/999/progress").status_code == 404
