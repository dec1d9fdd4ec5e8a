"""Module config page: generated from the specs, validation next to fields, secrets never rendered."""

from __future__ import annotations

SECRET = "s3cr3t-value-never-shown"


def _form(auth, **values):
    data = {"csrf_token": auth.csrf_token("/netsuite/config"), "netsuite_auth_mode": "tba",
            "payment_direction": "splynx_to_netsuite", "statement_grouping": "month", "tax_mode": "suitetax_override",
            "smtp_security": "starttls", "netsuite_concurrency": "4", "customer_name_pattern": "{name}",
            "netsuite_account_id": "1234567"}  # fmt: skip
    data.update(values)
    return data


def test_every_setting_has_a_labelled_field(client, auth):
    from addon.settings import specs

    auth.login()
    html = client.get("/netsuite/config").get_data(as_text=True)
    for spec in specs():
        assert f'for="{spec.key}"' in html, spec.key
        assert f'id="{spec.key}"' in html, spec.key


def test_invalid_values_are_shown_next_to_their_fields_and_nothing_is_saved(client, auth, app):
    auth.login()
    response = client.post(
        "/netsuite/config",
        data=_form(
            auth, netsuite_concurrency="many", export_from="31/12/2024", netsuite_account_id="1234567"
        ),
    )
    assert response.status_code == 400
    html = response.get_data(as_text=True)
    assert 'id="netsuite_concurrency-error"' in html
    assert 'id="export_from-error"' in html
    assert "Nothing was saved" in html
    with app.app_context():
        from addon import settings

        assert settings.get("netsuite_account_id") == ""


def test_secrets_are_saved_but_never_rendered_and_kept_when_left_blank(client, auth, app):
    auth.login()
    response = client.post(
        "/netsuite/config",
        data=_form(
            auth, netsuite_account_id="1234567", netsuite_consumer_secret=SECRET, splynx_api_secret=SECRET
        ),
    )
    assert response.status_code == 302
    html = client.get("/netsuite/config").get_data(as_text=True)
    assert SECRET not in html
    assert "Currently set." in html
    # Saving again with the secret fields blank keeps them (the destinations did not move).
    client.post(
        "/netsuite/config", data=_form(auth, netsuite_account_id="1234567", customer_name_pattern="{id}")
    )
    with app.app_context():
        from addon import settings

        assert settings.get("netsuite_consumer_secret") == SECRET
        assert settings.get("splynx_api_secret") == SECRET
        assert settings.get("customer_name_pattern") == "{id}"
    assert SECRET not in client.get("/netsuite/config").get_data(as_text=True)


def test_hostile_values_are_refused_and_shown_escaped(client, auth, app):
    auth.login()
    hostile = '<script>alert("x")</script>'
    response = client.post("/netsuite/config", data=_form(auth, customer_name_pattern=hostile))
    assert response.status_code == 400
    html = response.get_data(as_text=True)
    assert hostile not in html
    assert "&lt;script&gt;" in html
    assert "not markup" in html
    with app.app_context():
        from addon import settings

        assert settings.get("customer_name_pattern") == "{name}"


def test_test_connection_shows_one_line_for_each_system(client, auth, configured):
    auth.login()
    for system, expected in (
        ("netsuite", "Connected to NetSuite account"),
        ("billing", "Connected to Splynx at 127.0.0.1"),
    ):
        response = client.post(f"/netsuite/config/test/{system}", data={"csrf_token": auth.csrf_token()})
        assert response.status_code == 302
        html = client.get("/netsuite/config").get_data(as_text=True)
        assert expected in html
        assert "OK:" in html


def test_failed_test_connection_says_why(client, auth, configured):
    configured.settings(netsuite_token_secret="wrong")
    auth.login()
    client.post("/netsuite/config/test/netsuite", data={"csrf_token": auth.csrf_token()})
    html = client.get("/netsuite/config").get_data(as_text=True)
    assert "Failed:" in html and "refused the credentials" in html
    dashboard = client.get("/netsuite/").get_data(as_text=True)
    assert "needs attention" in dashboard
