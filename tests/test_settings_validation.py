"""Settings refuse nonsense in the accountant's words: on the config page and in `config set` alike."""

from __future__ import annotations

import re

import pytest

from addon import settings

# (setting, typed value, words the refusal must contain)
NONSENSE = [
    ("netsuite_account_id", "", "enter the NetSuite account ID"),
    ("netsuite_account_id", "acme corp", "not a NetSuite account ID"),
    ("netsuite_concurrency", "99999", "at most 140"),
    ("netsuite_concurrency", "-3", "at least 1"),
    ("netsuite_concurrency", "0", "at least 1"),
    ("netsuite_concurrency", "many", "whole number"),
    ("export_from", "2024-13-01", "not a date in the calendar"),
    ("export_from", "2024-02-30", "not a date in the calendar"),
    ("import_from", "31/12/2024", "YYYY-MM-DD"),
    ("customer_name_pattern", "{unknown}", "unknown variable {unknown}"),
    ("customer_name_pattern", "<script>{name}</script>", "not markup"),
    ("customer_name_pattern", "{name", "brace is not closed"),
    ("customer_name_pattern", "ACME", "at least one variable"),
    ("customer_name_pattern", "", "enter a pattern"),
    ("mandatory_segments", "colour", "not a segment"),
    ("splynx_url", "splynx.example.com", "starting with https://"),
]
PYTHON_WORDS = ("isoformat", "must be in 1..12", "invalid literal", "Traceback", "day is out of range")
VALID = {
    "csrf_token": None,
    "netsuite_account_id": "1234567_SB1",
    "netsuite_auth_mode": "tba",
    "payment_direction": "splynx_to_netsuite",
    "statement_grouping": "month",
    "smtp_security": "starttls",
    "tax_mode": "suitetax_override",
    "netsuite_concurrency": "4",
    "customer_name_pattern": "{name} ({id})",
}


def _post(client, auth, **values):
    data = {**VALID, "csrf_token": auth.csrf_token("/netsuite/config"), **values}
    return client.post("/netsuite/config", data=data)


def _error_text(html: str, key: str) -> str:
    found = re.search(rf'<p class="ns-error" id="{key}-error">(.*?)</p>', html, re.S)
    assert found, f"no error shown next to {key}"
    return found.group(1)


@pytest.mark.parametrize(("key", "value", "words"), NONSENSE)
def test_the_config_page_refuses_nonsense_next_to_the_field(client, auth, app, key, value, words):
    auth.login()
    response = _post(client, auth, **{key: value})
    assert response.status_code == 400
    html = response.get_data(as_text=True)
    error = _error_text(html, key)
    assert words in error.replace("&#123;", "{").replace("&#125;", "}")
    assert not any(w in html for w in PYTHON_WORDS)
    # Focus goes to the first refused field; the summary links to it.
    assert f'data-first-error="{key}"' in html
    assert f'href="#{key}"' in html
    with app.app_context():
        assert settings.source("netsuite_account_id") == "default"  # nothing saved


@pytest.mark.parametrize(("key", "value", "words"), NONSENSE)
def test_config_set_refuses_the_same_nonsense_in_the_same_words(app_ctx, runner, key, value, words):
    result = runner.invoke(args=["netsuite", "config", "set", key, value])
    assert result.exit_code != 0
    assert words in result.output
    assert settings.spec(key).label in result.output
    assert not any(w in result.output for w in PYTHON_WORDS)
    assert settings.source(key) == "default"


def test_sensible_values_are_saved_from_the_page(client, auth, app):
    auth.login()
    response = _post(client, auth, export_from="2024-01-31", mandatory_segments=["class", "terms"])
    assert response.status_code == 302
    with app.app_context():
        assert str(settings.get("export_from")) == "2024-01-31"
        assert settings.get("mandatory_segments") == ["class", "terms"]
        assert settings.get("customer_name_pattern") == "{name} ({id})"


def test_dates_have_a_date_picker_and_segments_are_a_choice_of_four(client, auth):
    auth.login()
    html = client.get("/netsuite/config").get_data(as_text=True)
    for key in ("export_from", "import_from"):
        assert re.search(
            rf'<input[^>]*id="{key}"[^>]*type="date"|<input[^>]*type="date"[^>]*id="{key}"', html
        )
    select = re.search(r'<select[^>]*id="mandatory_segments"[^>]*>(.*?)</select>', html, re.S)
    assert select and "multiple" in select.group(0)
    assert re.findall(r'value="(\w+)"', select.group(1)) == ["class", "department", "location", "terms"]
    assert 'src="/netsuite/static/config.js"' in html or "config.js" in html
    assert "<script>" not in html  # no inline script


def test_partners_and_payment_methods_are_chosen_from_billing(configured, client, auth):
    partners = configured.splynx.state.all("partners")
    methods = configured.splynx.state.all("payment_methods")
    auth.login()
    html = client.get("/netsuite/config").get_data(as_text=True)
    for key, rows in (("partners_ignore", partners), ("payment_methods_push", methods)):
        select = re.search(rf'<select[^>]*id="{key}"[^>]*>(.*?)</select>', html, re.S)
        assert select and "multiple" in select.group(0), key
        assert sorted(re.findall(r'value="(\d+)"', select.group(1))) == sorted(str(r["id"]) for r in rows)
    form = {**VALID, "netsuite_account_id": configured.netsuite.account_id}
    response = client.post(
        "/netsuite/config",
        data={**form, "csrf_token": auth.csrf_token("/netsuite/config"), "partners_ignore": ["999"]},
    )
    assert response.status_code == 400
    assert "billing has no partner 999" in _error_text(response.get_data(as_text=True), "partners_ignore")
    response = client.post(
        "/netsuite/config",
        data={
            **form,
            "csrf_token": auth.csrf_token("/netsuite/config"),
            "partners_ignore": [str(partners[1]["id"])],
            "payment_methods_push": [str(methods[0]["id"])],
        },
    )
    assert response.status_code == 302
    assert settings.get("partners_ignore") == [str(partners[1]["id"])]


def test_config_set_checks_partners_against_billing_and_accepts_a_name(configured, runner):
    partner = configured.splynx.state.all("partners")[1]
    result = runner.invoke(args=["netsuite", "config", "set", "partners_ignore", "999"])
    assert result.exit_code != 0 and "billing has no partner 999" in result.output
    result = runner.invoke(args=["netsuite", "config", "set", "partners_ignore", partner["name"]])
    assert result.exit_code == 0, result.output
    assert settings.get("partners_ignore") == [str(partner["id"])]


def test_concurrency_is_bounded_by_the_limit_netsuite_reports(configured, client, auth):
    auth.login()
    limit = configured.netsuite.state.concurrency_limit
    client.post("/netsuite/config/test/netsuite", data={"csrf_token": auth.csrf_token()})
    form = {**VALID, "netsuite_account_id": configured.netsuite.account_id}
    response = client.post(
        "/netsuite/config",
        data={
            **form,
            "csrf_token": auth.csrf_token("/netsuite/config"),
            "netsuite_concurrency": str(limit + 1),
        },
    )
    assert response.status_code == 400
    error = _error_text(response.get_data(as_text=True), "netsuite_concurrency")
    assert f"at most {limit}" in error and "this account" in error
    assert f'max="{limit}"' in response.get_data(as_text=True)


def test_cron_expressions_are_checked_in_words():
    from addon import validation

    validation.cron_expression("0 2 * * *")
    validation.cron_expression("")
    for bad in ("every night", "61 * * * *", "* * *"):
        with pytest.raises(ValueError, match="not a cron schedule"):
            validation.cron_expression(bad)
