"""The accountant's pages against both sandboxes: money, deep links, records, pairing, dashboard."""

from __future__ import annotations

import html as html_lib
import re
from datetime import UTC, datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

from markupsafe import escape

from addon.extension import session
from addon.models import Link, LogEntry, SyncRun
from addon.sync.operations import run_operation

PERIOD = "date_from=2000-01-01&date_to=2099-12-31"
MONEY = re.compile(r"^-?\$[\d,]+\.\d\d$")


def _row(html: str, marker: str) -> str:
    """The table row whose first cell holds ``marker`` (as text, or as the text of its first link)."""
    for row in re.findall(r"<tr[^>]*>.*?</tr>", html, flags=re.S):
        if re.search(rf"<th scope=\"row\"[^>]*>(<a [^>]*>)?{re.escape(marker)}(</a>|</th>|\s)", row):
            return row
    raise AssertionError(f"no row for {marker}")


def _text(fragment: str) -> str:
    return " ".join(html_lib.unescape(re.sub(r"<[^>]+>", " ", fragment)).split())


def _cells(row: str) -> list[str]:
    return [_text(c) for c in re.findall(r"<td[^>]*>(.*?)</td>", row, flags=re.S)]


def _by_id(html: str, element_id: str) -> str:
    found = re.search(rf'<(\w+)[^>]*id="{re.escape(element_id)}"[^>]*>(.*?)</\1>', html, flags=re.S)
    assert found, f"no element #{element_id}"
    return _text(found.group(2))


def _money(text: str) -> Decimal:
    """'$1,234.50' -> Decimal('1234.50'); the text must be money in USD."""
    assert MONEY.match(text), f"{text!r} is not shown as US dollars"
    return Decimal(text.replace("$", "").replace(",", ""))


def _hrefs(html: str, system: str) -> set[str]:
    return {html_lib.unescape(h) for h in re.findall(rf'<a href="([^"]+)"[^>]*data-system="{system}"', html)}


# --------------------------------------------------------------------------- pairing by name


def test_a_customer_is_paired_by_name_from_a_suggestion(client, auth, configured):
    customer = configured.splynx.dataset.by_id("customers", 1)
    store = configured.netsuite.state.store
    twin = store.create(
        "customer",
        {"companyName": customer["name"], "email": customer["email"], "subsidiary": {"id": "1"},
         "currency": {"id": "1"}},
    ).id  # fmt: skip
    store.create("customer", {"companyName": "Unrelated Holdings", "subsidiary": {"id": "1"}})
    assert run_operation("load_netsuite_customers").status == "succeeded"
    auth.login()

    # Step 1: find the Splynx customer by a piece of its name, and choose it.
    word = max(customer["name"].split(), key=len)
    found = client.get(f"/netsuite/customers?who={word}").get_data(as_text=True)
    assert 'href="/netsuite/customers?billing_id=1"' in found
    # Step 2: the NetSuite customer with the same email and name comes first, with the reason.
    page = client.get("/netsuite/customers?billing_id=1").get_data(as_text=True)
    suggestions = re.search(r'id="suggestions".*?</table>', page, flags=re.S).group(0)
    first = re.findall(r"<tr><th scope=\"row\">.*?</tr>", suggestions, flags=re.S)[0]
    assert str(escape(customer["name"])) in first and "same email" in first and "same name" in first
    assert f'value="{twin}"' in first and "Unrelated Holdings" not in suggestions
    response = client.post(
        "/netsuite/customers/pair",
        data={"csrf_token": auth.csrf_token(), "billing_id": "1", "netsuite_id": twin},
    )
    assert response.status_code == 302
    page = client.get("/netsuite/customers").get_data(as_text=True)
    assert "Billing customer 1 is now paired." in page
    assert str(escape(customer["name"])) in _row(page, "1")
    record = client.get("/netsuite/records/customer/1").get_data(as_text=True)
    assert _by_id(record, "record-state") == "Synced" and "(paired by hand)" in record

    # A billing customer that does not exist is refused, whatever NetSuite customer is chosen.
    other = store.create("customer", {"companyName": "Nobody Ltd", "subsidiary": {"id": "1"}}).id
    run_operation("load_netsuite_customers")
    client.post(
        "/netsuite/customers/pair",
        data={"csrf_token": auth.csrf_token(), "billing_id": "987654", "netsuite_id": other},
    )
    assert "billing has no customer 987654" in client.get("/netsuite/customers").get_data(as_text=True)
    assert session().query(Link).filter_by(billing_id="987654").count() == 0


def test_the_billing_search_says_when_it_cut_results_off_and_pages_on(client, auth, configured, monkeypatch):
    from addon.views import customers

    monkeypatch.setattr(customers, "BILLING_PAGE", 3)
    auth.login()
    page = client.get("/netsuite/customers?who=@").get_data(as_text=True)  # every email matches
    rows = re.findall(r"<tr><th scope=\"row\">.*?</tr>", re.search(r'id="billing-results".*?</table>', page,
                      flags=re.S).group(0), flags=re.S)  # fmt: skip
    assert len(rows) == 3 and "Only the first 3 matches are shown." in page
    more = html_lib.unescape(re.search(r'href="([^"]+)" rel="next">Search on', page).group(1))
    second = client.get(more).get_data(as_text=True)
    assert 'billing_id=4"' in second and 'billing_id=1"' not in second


def test_the_netsuite_search_says_when_there_are_more_matches_and_pages_both_ways(
    client, auth, configured, monkeypatch
):
    from addon.views import customers

    monkeypatch.setattr(customers, "NETSUITE_PAGE", 2)
    for number in range(1, 6):
        configured.netsuite.state.store.create("customer", {"companyName": f"Paging Co {number}",
                                                            "subsidiary": {"id": "1"}})  # fmt: skip
    assert run_operation("load_netsuite_customers").status == "succeeded"
    auth.login()

    def visit(url: str) -> tuple[list[str], str, dict[str, str]]:
        page = client.get(url).get_data(as_text=True)
        table = re.search(r'id="netsuite-results".*?</table>', page, flags=re.S).group(0)
        names = [_text(n) for n in re.findall(r'<th scope="row">(.*?)</th>', table, flags=re.S)]
        links = {
            rel: html_lib.unescape(href)
            for href, rel in re.findall(r'href="([^"]+)" rel="(next|prev)"', page)
        }
        return names, _by_id(page, "netsuite-more") if 'id="netsuite-more"' in page else "", links

    names, note, links = visit("/netsuite/customers?q=Paging&billing_id=1")
    assert names == ["Paging Co 1", "Paging Co 2"] and "Matches 1 to 2 are shown; there are more." in note
    assert set(links) == {"next"} and "billing_id=1" in links["next"]
    names, note, links = visit(links["next"])
    assert names == ["Paging Co 3", "Paging Co 4"] and set(links) == {"next", "prev"}
    names, note, links = visit(links["next"])
    assert (
        names == ["Paging Co 5"] and note.startswith("Matches 5 to 5 are shown.") and set(links) == {"prev"}
    )
    assert visit(links["prev"])[0] == ["Paging Co 3", "Paging Co 4"]
    # One page of matches says nothing about paging.
    assert visit("/netsuite/customers?q=Paging Co 5")[1] == ""


# --------------------------------------------------------------------------- records


def test_records_list_filters_by_state_searches_and_pages_both_ways(client, auth, configured, monkeypatch):
    from addon.views import records

    monkeypatch.setattr(records, "RECORDS_PER_PAGE", 10)
    session().add(Link(entity="customer", billing_id="2", netsuite_id="7702", status="synced"))
    session().add(
        LogEntry(entity="customer", billing_id="3", action="create", outcome="failed", message="old")
    )
    session().add(
        LogEntry(entity="customer", billing_id="3", action="skip", outcome="skipped", message="missing zip")
    )
    session().add(
        LogEntry(entity="customer", billing_id="5", action="upsert", outcome="failed", message="nope")
    )
    session().commit()
    auth.login()
    assert (
        client.post(
            "/netsuite/records/customer/6/ignore",
            data={"csrf_token": auth.csrf_token(), "reason": "test account"},
        ).status_code
        == 302
    )

    html = client.get("/netsuite/records/customer").get_data(as_text=True)
    name_2 = str(escape(configured.splynx.dataset.by_id("customers", 2)["name"]))
    synced = _row(html, "2")
    assert "7702" in synced and "Synced" in synced and name_2 in synced
    held = _row(html, "3")
    assert "Held back" in held and "missing zip" in held and "old" not in held
    assert "Failed" in _row(html, "5") and "Ignored" in _row(html, "6") and "test account" in _row(html, "6")
    assert "Not synced yet" in _row(html, "4")

    failed = client.get("/netsuite/records/customer?state=failed").get_data(as_text=True)
    assert "1 record failed" in _text(failed) and "nope" in _row(failed, "5")
    ignored = client.get("/netsuite/records/customer?state=ignored").get_data(as_text=True)
    assert "test account" in _row(ignored, "6") and "7702" not in ignored
    assert "missing zip" in _row(
        client.get("/netsuite/records/customer?state=held_back").get_data(as_text=True), "3"
    )
    by_name = client.get(f"/netsuite/records/customer?q={name_2.split()[0]}").get_data(as_text=True)
    assert name_2 in _row(by_name, "2")
    by_netsuite_id = client.get("/netsuite/records/customer?q=7702").get_data(as_text=True)
    assert name_2 in _row(by_netsuite_id, "2")

    # Paging: forwards to the second page of ten, and back to the first.
    nxt = html_lib.unescape(re.search(r'href="([^"]+)" rel="next"', html).group(1))
    second = client.get(nxt).get_data(as_text=True)
    assert '<th scope="row" class="ns-nowrap"><a href="/netsuite/records/customer/11">' in second
    prev = html_lib.unescape(re.search(r'href="([^"]+)" rel="prev"', second).group(1))
    assert '/netsuite/records/customer/1"' in client.get(prev).get_data(as_text=True)
    assert client.get("/netsuite/records/nothing").status_code == 404


def test_invoices_show_money_in_their_currency_with_a_page_total(client, auth, configured):
    configured.settings(display_currency="USD")
    auth.login()
    html = client.get("/netsuite/records/invoice").get_data(as_text=True)
    invoices = {str(i["id"]): i for i in configured.splynx.dataset.records["invoices"]}
    first = min(invoices, key=int)
    amount = _cells(_row(html, first))[2]
    assert _money(amount) == Decimal(str(invoices[first]["total"])).quantize(Decimal("0.01"))
    shown = [
        _money(_cells(r)[2]) for r in re.findall(r'<tr class="ns-state-[^"]*">.*?</tr>', html, flags=re.S)
    ]
    total = re.search(r"<tfoot>.*?</tfoot>", html, flags=re.S).group(0)
    assert _money(_cells(total)[0]) == sum(shown) and "(USD)" in total
    # The number format follows the configured locale.
    configured.settings(display_currency="EUR", display_locale="de_DE")
    amount = _cells(_row(client.get("/netsuite/records/invoice").get_data(as_text=True), first))[2]
    assert amount.endswith("€") and "," in amount


def test_a_failed_invoice_is_opened_on_its_page_fixed_and_retried(client, auth, export_ready):
    from jobs.inprocess import executor

    configured = export_ready.env
    configured.settings(display_currency="USD")
    assert export_ready.run("export_customers").status in ("succeeded", "partial")
    taxes = configured.splynx.state.all("taxes")
    for tax in taxes:
        export_ready.unmap("tax_rate", tax["id"])
    export_ready.run("export_invoices")
    customers = {
        link.billing_id
        for link in session().query(Link).filter_by(entity="customer", status="synced")
        if link.netsuite_id
    }
    invoice = next(
        i for i in configured.splynx.dataset.records["invoices"] if str(i["customer_id"]) in customers
    )
    key = str(invoice["id"])
    auth.login()
    held = client.get(f"/netsuite/records/invoice?state=failed&q={key}").get_data(as_text=True)
    assert "not mapped: tax rate" in _row(held, key)
    page = client.get(f"/netsuite/records/invoice/{key}").get_data(as_text=True)
    assert _by_id(page, "record-state") == "Failed" and "Caused by:" in page
    assert _money(_by_id(page, "record-amount")) == Decimal(str(invoice["total"])).quantize(Decimal("0.01"))
    assert "An export would not send it now" in page  # the mapping is still missing

    export_ready.map_all()  # the accountant fixes the tax mapping, then retries from the page
    client.post(f"/netsuite/records/invoice/{key}/retry", data={"csrf_token": auth.csrf_token()})
    executor(configured.app).join()
    run = session().query(SyncRun).filter_by(operation="export_record").one()
    assert run.params == {"entity": "invoice", "billing_id": key} and run.status == "succeeded"
    page = client.get(f"/netsuite/records/invoice/{key}").get_data(as_text=True)
    assert _by_id(page, "record-state") == "Synced"
    link = session().query(Link).filter_by(entity="invoice", billing_id=key).one()
    account = configured.netsuite.account_id.lower().replace("_", "-")
    assert (
        f"https://{account}.app.netsuite.com/app/accounting/transactions/custinvc.nl?id={link.netsuite_id}"
        in (_hrefs(page, "netsuite"))
    )
    assert f"{configured.splynx.url}/admin/finance/invoices/view?id={key}" in _hrefs(page, "splynx")
    assert "Nothing changed since it was last sent." in page and "<code>tranDate</code>" in page
    history = _by_id(page, "history-table")
    assert "created" in history and "failed" in history and str(run.id) in history

    # Unlink, then export again: the externalId finds the same NetSuite invoice, no duplicate.
    client.post(f"/netsuite/records/invoice/{key}/unlink", data={"csrf_token": auth.csrf_token()})
    assert session().query(Link).filter_by(entity="invoice", billing_id=key).count() == 0
    assert "Unlinked from NetSuite record" in client.get(f"/netsuite/records/invoice/{key}").get_data(
        as_text=True
    )
    before = len(export_ready.store.records("invoice"))
    client.post(f"/netsuite/records/invoice/{key}/retry", data={"csrf_token": auth.csrf_token()})
    executor(configured.app).join()
    assert (
        session().query(Link).filter_by(entity="invoice", billing_id=key).one().netsuite_id
        == link.netsuite_id
    )
    assert len(export_ready.store.records("invoice")) == before

    # Ignored needs a reason; it is then its own outcome and the exports leave it alone.
    client.post(
        f"/netsuite/records/invoice/{key}/ignore", data={"csrf_token": auth.csrf_token(), "reason": " "}
    )
    assert "say why this record is ignored" in client.get(f"/netsuite/records/invoice/{key}").get_data(
        as_text=True
    )
    client.post(
        f"/netsuite/records/invoice/{key}/ignore",
        data={"csrf_token": auth.csrf_token(), "reason": "disputed, settled outside"},
    )
    export_ready.run("export_invoices")
    rows = session().query(LogEntry).filter_by(entity="invoice", billing_id=key).order_by(LogEntry.id).all()
    assert rows[-1].outcome == "ignored" and rows[-2].action == "ignore"
    page = client.get(f"/netsuite/records/invoice/{key}").get_data(as_text=True)
    assert _by_id(page, "record-state") == "Ignored" and "disputed, settled outside" in page
    client.post(f"/netsuite/records/invoice/{key}/unignore", data={"csrf_token": auth.csrf_token()})
    writes = export_ready.writes()
    run = export_ready.run("export_invoices")
    last = (
        session()
        .query(LogEntry)
        .filter_by(entity="invoice", billing_id=key)
        .order_by(LogEntry.id.desc())
        .first()
    )
    # Exported again and found unchanged: counted on the run (not logged), nothing sent.
    assert last.action == "unignore" and run.counts["unchanged"] and export_ready.writes() == writes


def test_a_changed_billing_record_shows_what_changed_since_it_was_sent(client, auth, export_ready):
    configured = export_ready.env
    assert export_ready.run("export_customers").status in ("succeeded", "partial")
    link = session().query(Link).filter_by(entity="customer", status="synced").order_by(Link.id).first()
    auth.login()
    assert "Nothing changed since it was last sent." in client.get(
        f"/netsuite/records/customer/{link.billing_id}"
    ).get_data(as_text=True)
    configured.splynx.state.update("customers", int(link.billing_id), {"email": "changed@example.net"})
    page = client.get(f"/netsuite/records/customer/{link.billing_id}").get_data(as_text=True)
    assert "1 field changed since it was last sent" in _by_id(page, "fields-changes")
    changed = re.findall(r'<tr class="ns-changed">.*?</tr>', page, flags=re.S)
    assert len(changed) == 1 and "<code>email</code>" in changed[0] and "changed@example.net" in changed[0]


# --------------------------------------------------------------------------- deep links, money, reconciliation


def test_deep_links_follow_the_operator_templates(client, auth, configured):
    session().add(Link(entity="payment", billing_id="3", netsuite_id="901", status="synced"))
    session().add(
        LogEntry(entity="payment", billing_id="3", netsuite_id="901", action="create", outcome="created")
    )
    session().commit()
    auth.login()
    logs = client.get("/netsuite/logs").get_data(as_text=True)
    account = configured.netsuite.account_id.lower().replace("_", "-")
    assert _hrefs(logs, "netsuite") == {
        f"https://{account}.app.netsuite.com/app/accounting/transactions/custpymt.nl?id=901"
    }
    assert _hrefs(logs, "splynx") == {f"{configured.splynx.url}/admin/finance/payments/view?id=3"}
    configured.settings(
        link_netsuite_payment="https://erp.example.com/pay/{id}", link_splynx_payment="{host}/p/{id}"
    )
    logs = client.get("/netsuite/logs").get_data(as_text=True)
    assert _hrefs(logs, "netsuite") == {"https://erp.example.com/pay/901"}
    assert _hrefs(logs, "splynx") == {f"{configured.splynx.url}/p/3"}
    # A template that would not make a web address is refused, and never rendered as a link.
    import pytest

    from addon.deep_links import render
    from addon.settings import SettingError

    for bad in ("javascript:alert({id})", "https://erp.example.com/pay", "{host}/x?id={id}&{other}"):
        with pytest.raises(SettingError):
            configured.settings(link_netsuite_payment=bad)
    assert render("javascript:alert({id})", "https://h", "901") is None
    assert _hrefs(client.get("/netsuite/logs").get_data(as_text=True), "netsuite") == {
        "https://erp.example.com/pay/901"
    }


def test_display_settings_refuse_what_the_pages_could_not_use(configured):
    import pytest

    from addon import settings
    from addon.settings import SettingError

    for key, bad, words in (
        ("display_currency", "DOLLARS", "not a currency code"),
        ("display_locale", "xx_nowhere", "not a locale"),
        ("display_timezone", "Mars/Olympus", "not a time zone"),
    ):
        with pytest.raises(SettingError, match=words):
            configured.settings(**{key: bad})
    configured.settings(display_currency="eur", display_locale="en-GB", display_timezone="Europe/Paris")
    assert (settings.get("display_currency"), settings.get("display_locale")) == ("EUR", "en_GB")


def test_reconciliation_in_money_keeps_its_last_result_and_flags_a_change(client, auth, export_ready):
    export_ready.env.settings(display_currency="USD")
    assert export_ready.run("export_customers").status in ("succeeded", "partial")
    assert export_ready.run("export_invoices").status in ("succeeded", "partial")
    auth.login()
    assert 'href="/netsuite/reconciliation"' in client.get("/netsuite/").get_data(as_text=True)

    html = client.get(f"/netsuite/reconciliation?{PERIOD}").get_data(as_text=True)
    assert "Every exported document agrees with NetSuite" in html
    cells = _cells(_row(html, "Invoices"))
    billing_all, exported_only, netsuite_total = (_money(v) for v in cells[2:5])
    assert exported_only == netsuite_total < billing_all  # some customers' invoices were held back
    assert "Not exported yet" in html
    assert 'src="/netsuite/static/chart.umd.min.js"' in html and "<script>" not in html
    chart = html_lib.unescape(re.search(r'data-chart="([^"]+)"', html).group(1))
    assert '"texts"' in chart and "$" in chart

    # The page keeps the last result: opened again without a period it shows the same report.
    again = client.get("/netsuite/reconciliation").get_data(as_text=True)
    assert _cells(_row(again, "Invoices"))[2:5] == cells[2:5] and "reconciled" in _by_id(
        again, "reconcile-period"
    )

    # An accountant edits an exported invoice in NetSuite: now the sides truly differ.
    store = export_ready.store
    invoice = next(
        r for r in store.records("invoice") if r.get("externalId", "").startswith("splynx-invoice-")
    )
    item = export_ready.ns_id("serviceSaleItem", "Installation")
    store.update("invoice", invoice["id"], {"item": {"items": [
        {"item": {"id": item}, "quantity": 1, "rate": Decimal("5"), "amount": Decimal("5")}]}})  # fmt: skip
    html = client.get(f"/netsuite/reconciliation?{PERIOD}").get_data(as_text=True)
    assert "The two sides differ for this period" in html
    assert "differs" in _row(html, "Invoices") and "Totals differ" in html
    differing = re.search(r'<tr class="ns-row-total_differs">.*?</tr>', html, flags=re.S).group(0)
    assert f"custinvc.nl?id={invoice['id']}" in differing, differing
    assert all(MONEY.match(c) for c in _cells(differing)[-2:])


def test_the_chart_survives_one_outlier_month():
    from addon.money import Formatter
    from addon.views.reconcile_view import chart

    months = [{"month": f"2025-{m:02d}", "billing": Decimal(v), "netsuite": Decimal(0)}
              for m, v in ((1, "10"), (2, "-12"), (3, "1000000"), (4, "8"))]  # fmt: skip
    drawn = chart(months, Formatter("USD"))
    assert drawn["bound"] == 15.0 and drawn["clipped"] == ["2025-03"]
    assert drawn["labels"][2] == "2025-03 (off scale: $1,000,000.00)" and drawn["texts"][1] == "-$12.00"
    even = chart([{**m, "billing": Decimal(10 + i)} for i, m in enumerate(months)], Formatter("USD"))
    assert even["bound"] is None and not even["clipped"]


# --------------------------------------------------------------------------- dashboard


def test_dashboard_shows_the_full_sync_on_each_card_and_the_next_cron_run(client, auth, export_ready, app):
    configured = export_ready.env
    configured.settings(cron_export_invoices=True, display_timezone="America/New_York")
    run = export_ready.run("sync")
    assert run.status in ("succeeded", "partial")
    auth.login()
    page = client.get("/netsuite/").get_data(as_text=True)
    for card in ("export_customers", "export_invoices", "export_credit_notes"):
        text = _by_id(page, f"card-{card}")
        assert f"Last run {run.id}:" in text and f"as part of full sync run {run.id}" in text, text
    invoices = _by_id(page, "card-export_invoices")
    created = (run.result or {})["invoices"].get("created")
    assert created and f"created {created}" in invoices
    assert f"Last run {run.id}:" in _by_id(page, "card-sync") and "Never run." not in _by_id(
        page, "card-sync"
    )

    # 15 1 * * * in UTC (the default schedule), shown in New York time and in UTC.
    expected = datetime.now(UTC).replace(hour=1, minute=15, second=0, microsecond=0)
    if expected <= datetime.now(UTC):
        from datetime import timedelta

        expected += timedelta(days=1)
    local = expected.astimezone(ZoneInfo("America/New_York"))
    assert f"Next run {local:%Y-%m-%d %H:%M} America/New_York (01:15 UTC)" in invoices
    assert "At 01:15 UTC" in invoices
    assert "Cron is off" in _by_id(page, "card-export_customers")


def test_queued_work_without_a_worker_says_so(client, auth, redis_jobs):
    from jobs.runs import submit

    auth.login()
    run = submit("export_customers", trigger="manual")
    assert run.status == "queued"
    page = client.get("/netsuite/").get_data(as_text=True)
    assert "no worker is listening: start make worker" in _by_id(page, "no-worker")
    assert "Queued, no worker is listening" in _by_id(page, "card-export_customers")


def test_a_listening_worker_silences_the_hint(client, auth, redis_jobs, redis_conn):
    from rq import Queue, Worker

    from jobs import runtime
    from jobs.runs import submit

    worker = Worker([Queue(runtime.queue_name(), connection=redis_conn)], connection=redis_conn, name="probe")
    worker.register_birth()
    try:
        auth.login()
        submit("export_customers", trigger="manual")
        page = client.get("/netsuite/").get_data(as_text=True)
        assert 'id="no-worker"' not in page and "Queued, no worker" not in page
    finally:
        worker.register_death()


def test_reconciliation_refuses_a_reversed_or_malformed_period(client, auth):
    auth.login()
    assert "Reconcile the period" in client.get("/netsuite/reconciliation").get_data(as_text=True)
    reversed_ = client.get("/netsuite/reconciliation?date_from=2025-02-01&date_to=2025-01-01")
    assert reversed_.status_code == 400 and "before its start" in reversed_.get_data(as_text=True)
    malformed = client.get("/netsuite/reconciliation?date_from=01/02/2025")
    assert malformed.status_code == 400 and "YYYY-MM-DD" in malformed.get_data(as_text=True)


def test_dashboard_asks_for_the_subsidiary_once_netsuite_has_several(client, auth, configured):
    auth.login()
    warning = "No subsidiary is chosen for new customers"
    assert warning not in client.get("/netsuite/").get_data(as_text=True)  # nothing loaded yet
    config = client.get("/netsuite/config").get_data(as_text=True)
    assert re.search(r'<input [^>]*id="subsidiary"', config) and "Load mappings" in config

    assert run_operation("load_mappings").status == "succeeded"
    dashboard = client.get("/netsuite/").get_data(as_text=True)
    assert warning in dashboard and 'href="/netsuite/config#subsidiary"' in dashboard
    config = client.get("/netsuite/config").get_data(as_text=True)
    assert re.search(r'<select [^>]*id="subsidiary"', config)
    assert re.search(r'<option value="\d+">[^<]*ISP Networks UK Ltd', config)
    # The rounding item is a select of the cached items too.
    assert re.search(r'<select [^>]*id="rounding_item"[^>]*>.*?Rounding \(\d+\)', config, flags=re.S)

    configured.settings(subsidiary="1")
    assert warning not in client.get("/netsuite/").get_data(as_text=True)
    configured.settings(subsidiary="99")  # an id the loaded list does not offer stays visible
    assert "99 (not in the loaded list)" in client.get("/netsuite/config").get_data(as_text=True)


def test_log_filter_for_everything_that_did_not_sync(client, auth, app):
    with app.app_context():
        for outcome in ("failed", "skipped", "created"):
            session().add(LogEntry(entity="customer", billing_id="5", action="x", outcome=outcome))
        session().commit()
    auth.login()
    assert "2 rows" in client.get("/netsuite/logs?outcome=not_synced").get_data(as_text=True)


def test_cli_summaries_are_aligned_tables_with_money():
    from addon.money import Formatter
    from addon.sync.report import format_reconciliation, format_result

    text = format_result("sync", {"customers": {"created": 35, "skipped": 5}, "invoices": {"created": 1200}})
    lines = text.splitlines()
    assert "{" not in text and lines[0].split() == ["records", "created", "skipped"]
    assert lines[2].split() == ["customers", "35", "5"] and lines[3].split() == ["invoices", "1200", "0"]
    assert len({len(line) for line in lines[:2]}) == 1  # header and rule line up
    report = {
        "date_from": "2024-01-01", "date_to": "2024-12-31", "agree": True, "exported_agree": True,
        "discrepancies": [],
        "entities": {"invoice": {"billing_total": "1200053765.48", "billing_count": 3, "exported_billing_total":
                     "1200053765.48", "netsuite_total": "1200053765.48", "netsuite_count": 3,
                     "exported_agree": True, "not_exported": 0}},
    }  # fmt: skip
    row = format_reconciliation(report, Formatter("USD")).splitlines()[3]
    assert row.split()[:2] == ["invoice", "$1,200,053,765.48"] and row.count("$1,200,053,765.48") == 3
