"""An accountant's first day, in Debian's chromium against both sandboxes.

Screenshots of each step and of every page land in ``test-artifacts/browser/`` (gitignored);
every page is checked with axe at 1280 px and 390 px, and at 390 px nothing but a table's own
scrolling box may be wider than the screen.
"""

from __future__ import annotations

import os
import re
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from tests.plugins.jobs import wait_for

CHROMIUM = "/usr/bin/chromium"
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "browser"
CHROMIUM_ARGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
    "--disable-component-update", "--disable-sync", "--no-first-run",
]  # fmt: skip
SEED_CUSTOMERS = 3
# Billing category -> NetSuite item the accountant picks where the auto-map proposes nothing.
FALLBACK_ITEM = "Internet Plans"
TAX_CODES = {
    "VAT 20%": "VAT 20%",
    "Reduced rate 7.5%": "VAT 7.5%",
    "Zero rated": "Zero Rated",
    "Exempt": "Exempt",
}
MONEY = re.compile(r"^-?\$[\d,]+\.\d\d$")
# Elements reaching past a phone's screen, outside the boxes that scroll on purpose.
WIDER_THAN_SCREEN = """[...document.querySelectorAll('body *')]
  .filter(e => e.getBoundingClientRect().right > 392 && !e.closest('.ns-table-wrap, .ns-table'))
  .slice(-6).map(e => e.tagName + '#' + e.id + '.' + e.className + ' ' + Math.round(e.getBoundingClientRect().right))"""
# Every page of the add-on, for the screenshots and the checks at both widths.
EVERY_PAGE = (
    ("/netsuite/", "dashboard"), ("/netsuite/config", "config"), ("/netsuite/mappings/categories", "categories"),
    ("/netsuite/mappings/bank-accounts", "bank-accounts"), ("/netsuite/mappings/tax-rates", "tax-rates"),
    ("/netsuite/customers", "customers"), ("/netsuite/problems", "problems"), ("/netsuite/logs", "logs"),
    ("/netsuite/records/customer", "records-customers"), ("/netsuite/records/invoice", "records-invoices"),
    ("/netsuite/records/credit_note", "records-credit-notes"), ("/netsuite/records/payment", "records-payments"),
    ("/netsuite/records/invoice/1", "record-invoice"), ("/netsuite/reconciliation", "reconciliation"),
    ("/netsuite/tools", "tools"),
)  # fmt: skip

pytestmark = pytest.mark.browser


@pytest.fixture
def browser():
    if not Path(CHROMIUM).exists():
        message = f"BROWSER TESTS SKIPPED: {CHROMIUM} is missing (apt-get install chromium)"
        if os.environ.get("REQUIRE_SERVICES") == "1":
            pytest.fail(message)
        pytest.skip(message)
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        instance = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        yield instance
        instance.close()


@pytest.fixture
def seeded_netsuite():
    """A OneWorld NetSuite sandbox holding three customers from before the integration.

    Writes take 40 ms so an export lasts long enough for the page to show its progress bar.
    A 7.5 % tax code is added, as the accountant would, for the ISP's reduced rate.
    """
    from sandbox.netsuite import SandboxState, create_app
    from sandbox.netsuite.seed import add_tax_code
    from sandbox.server import serve_in_thread
    from tests.plugins.netsuite_sandbox import NetSuiteSandboxHandle

    state = SandboxState(seed_customers=SEED_CUSTOMERS, write_latency=0.04)
    add_tax_code(state.store, "VAT 7.5%", "7.5")  # a SuiteTax code: name and tax type, no rate
    server = serve_in_thread(create_app(state))
    yield NetSuiteSandboxHandle(url=server.url, state=state, private_key_pem=b"")
    server.stop()


@pytest.fixture
def live(app, auth):
    from sandbox.server import serve_in_thread

    auth.create()
    server = serve_in_thread(app)
    yield server.url
    server.stop()


class Walk:
    def __init__(self, page, base: str):
        self.page, self.base, self.step = page, base, 0
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        for old in ARTIFACTS.glob("*.png"):  # numbering changes as the walk grows
            old.unlink()

    def go(self, path: str):
        self.page.goto(self.base + path)

    def shot(self, name: str) -> None:
        self.step += 1
        self.page.screenshot(path=str(ARTIFACTS / f"{self.step:02d}-{name}.png"), full_page=True)

    def accessible(self) -> None:
        from axe_playwright_python.sync_playwright import Axe

        results = Axe().run(self.page)
        violations = results.response["violations"]
        assert not violations, [(v["id"], [n["target"] for n in v["nodes"]][:3]) for v in violations]

    def wait_for_run_to_finish(self) -> None:
        # The page polls the progress endpoint and reloads once the run is finished.
        from playwright.sync_api import expect

        expect(self.page.locator("[data-progress-url]")).to_have_count(0, timeout=60_000)


def ns_id(sandbox, *record_types: str, name: str) -> str:
    """The NetSuite internal id of the list row called ``name``."""
    for record_type in record_types:
        for record in sandbox.state.store.records(record_type):
            if name in (record.get("itemId"), record.get("name"), record.get("acctName")):
                return record["id"]
    raise KeyError(name)


def card_counts(page, operation: str) -> dict[str, int]:
    text = page.locator(f"#card-{operation} .ns-run-counts").inner_text()
    return {k.strip().replace(" ", "_"): int(v) for k, v in re.findall(r"([a-z_ ]+?) (\d+)", text)}


def run_from_dashboard(
    walk: Walk, operation: str, *, shot: str | None = None, status: str = "succeeded"
) -> dict[str, int]:
    walk.go("/netsuite/")
    walk.page.click(f"#card-{operation} button")
    if shot:
        from playwright.sync_api import expect

        expect(walk.page.locator(f"#card-{operation} progress")).to_be_visible()
        walk.shot(shot)
    walk.wait_for_run_to_finish()
    card = walk.page.locator(f"#card-{operation}").inner_text()
    # Skipped records do not make a run partial: only failed ones do.
    others = {"succeeded", "partial", "failed"} - {status}
    assert f": {status}," in card and not any(f": {other}," in card for other in others), card
    return card_counts(walk.page, operation)


def map_rows(page, kind: str, choose) -> int:
    """Select ``choose(billing name, current value)`` (a NetSuite id or None to keep) on every row."""
    changed = 0
    for select in page.locator(f"select[name^='map:{kind}:']").all():
        name = page.locator(f"label[for='{select.get_attribute('id')}']").inner_text()
        value = choose(name, select.input_value())
        if value is not None and value != select.input_value():
            select.select_option(value)
            changed += 1
    return changed


def money_cells(page, selector: str) -> list[str]:
    return [t.strip() for t in page.locator(selector).all_inner_texts()]


def test_an_accountants_first_day(browser, live, seeded_netsuite, splynx_sandbox, redis_conn, redis_url, app):
    from playwright.sync_api import expect

    netsuite, splynx = seeded_netsuite, splynx_sandbox
    manifest = splynx.dataset.manifest
    page = browser.new_page(viewport={"width": 1280, "height": 900}, accept_downloads=False)
    page.on("dialog", lambda dialog: dialog.accept())
    refused = []  # the CSP has no unsafe-inline: anything it blocks is a defect of the pages
    page.on("console", lambda m: refused.append(m.text) if "Content Security Policy" in m.text else None)
    walk = Walk(page, live)
    ui_host = "https://" + netsuite.account_id.lower().replace("_", "-") + ".app.netsuite.com"

    # -- log in and fill the module config ------------------------------------------------------
    walk.go("/login")
    walk.shot("login")
    walk.accessible()
    page.fill("#username", "admin")
    page.fill("#password", "correct-horse-battery")
    page.click("button[type=submit]")
    walk.go("/netsuite/config")
    walk.shot("config-empty")
    walk.accessible()
    for field, value in {
        "netsuite_account_id": netsuite.account_id,
        "netsuite_consumer_key": netsuite.consumer_key,
        "netsuite_consumer_secret": netsuite.consumer_secret,
        "netsuite_token_id": netsuite.token_id,
        "netsuite_token_secret": netsuite.token_secret,
        "netsuite_base_url": netsuite.url,
        "splynx_url": splynx.url,
        "splynx_api_key": splynx.api_key,
        "splynx_api_secret": splynx.api_secret,
        "display_currency": "USD",
        "display_timezone": "Europe/London",
    }.items():
        page.fill(f"#{field}", value)
    # New setups default to OAuth 2.0; this walk connects an existing TBA integration.
    page.select_option("#netsuite_auth_mode", "tba")
    page.click("text=Save settings")
    assert page.locator("text=Settings saved.").is_visible()
    assert netsuite.token_secret not in page.content()
    walk.shot("config-saved")

    page.click("text=Test NetSuite connection")
    assert page.locator("text=Connected to NetSuite account").first.is_visible()
    page.click("text=Test Splynx connection")
    assert page.locator(".ns-test-result[data-system=splynx] >> text=OK:").is_visible()
    walk.shot("connections-tested")

    # -- load NetSuite's lists; the dashboard then asks for the subsidiary ------------------------
    run_from_dashboard(walk, "load_mappings")
    warning = page.locator("text=No subsidiary is chosen for new customers")
    assert warning.is_visible()
    walk.shot("mappings-loaded")
    walk.accessible()
    page.click("text=Choose it in the module config")
    holdings = ns_id(netsuite, "subsidiary", name="ISP Holdings Inc.")
    assert page.locator("#subsidiary option").count() == 1 + 2  # 'not set' + both subsidiaries
    page.select_option("#subsidiary", holdings)
    page.select_option("#rounding_item", ns_id(netsuite, "otherChargeSaleItem", name="Rounding"))
    walk.shot("config-subsidiary")
    walk.accessible()
    page.click("text=Save settings")
    assert page.locator("text=Settings saved.").is_visible()
    assert page.locator("#subsidiary").input_value() == holdings
    walk.go("/netsuite/")
    assert page.locator("text=No subsidiary is chosen").count() == 0

    # -- categories: accept the auto-map preview after changing one pair ------------------------
    walk.go("/netsuite/mappings/categories")
    page.click("text=Preview auto-map")
    walk.wait_for_run_to_finish()
    assert page.locator("text=proposed").first.is_visible()
    rental = ns_id(netsuite, "nonInventorySaleItem", name="Equipment Rental")
    fallback = ns_id(netsuite, "serviceSaleItem", name=FALLBACK_ITEM)
    proposed = map_rows(page, "category", lambda name, value: rental if name == "Equipment" else None)
    assert proposed == 1, "the auto-map should have proposed an item for 'Equipment'"
    map_rows(page, "category", lambda name, value: None if value else fallback)
    walk.shot("automap-preview")
    walk.accessible()
    page.click("button:text('Save')")
    assert page.locator("text=mapping change").is_visible()
    equipment = page.locator("tr", has=page.locator("label", has_text=re.compile(r"^Equipment$")))
    assert equipment.locator("select").input_value() == rental

    # -- bank accounts and tax rates (the accountant forgets 'Exempt') ------------------------------
    walk.go("/netsuite/mappings/bank-accounts")
    checking = ns_id(netsuite, "account", name="Operating Checking")
    clearing = ns_id(netsuite, "account", name="Card Processor Clearing")
    map_rows(page, "payment_method", lambda name, value: clearing if name == "Credit card" else checking)
    map_rows(page, "default_bank_account", lambda name, value: checking)
    walk.shot("bank-accounts")
    walk.accessible()
    page.click("button:text('Save')")
    assert page.locator("text=mapping change").is_visible()
    assert page.locator("strong:text-is('Not mapped')").count() == 0

    walk.go("/netsuite/mappings/tax-rates")
    tax_code = {name: ns_id(netsuite, "salesTaxItem", name=code) for name, code in TAX_CODES.items()}
    map_rows(page, "tax_rate", lambda name, value: None if name == "Exempt" else tax_code[name])
    page.click("button:text('Save')")
    assert page.locator("text=mapping change").is_visible()
    assert page.locator("strong:text-is('Not mapped')").count() == 1
    walk.shot("tax-rates")

    # -- export customers (progress bar), then invoices -------------------------------------------
    incomplete = {int(k) for k in manifest["incomplete_customers"]} | set(manifest["malformed_addresses"])
    counts = run_from_dashboard(walk, "export_customers", shot="export-customers-running")
    walk.shot("export-customers-done")
    assert counts.get("skipped") == len(incomplete), counts
    assert counts.get("created") == len(splynx.dataset.records["customers"]) - len(incomplete), counts

    counts = run_from_dashboard(walk, "export_invoices", status="partial")  # 'Exempt' is not mapped
    walk.shot("export-invoices-done")
    invoices = splynx.dataset.records["invoices"]
    assert counts.get("created", 0) > 0 and counts.get("failed", 0) > 0, counts
    assert sum(counts.values()) == len(invoices), counts

    # -- a failed invoice: found from the dashboard, opened, fixed through its mapping, retried -----
    walk.go("/netsuite/")
    failed_link = page.locator("#counts-invoice a[href*='state=failed']")
    assert int(failed_link.inner_text()) == counts["failed"]
    failed_link.click()
    walk.shot("records-failed-invoices")
    walk.accessible()
    amounts = money_cells(page, "#records-table tbody td.ns-num")
    assert amounts and all(MONEY.match(a) for a in amounts), amounts
    first = page.locator("#records-table tbody tr").first
    assert "not mapped: tax rate" in first.inner_text() and "Exempt" in first.inner_text()
    invoice_id = first.locator("th a").first.inner_text()
    invoice = splynx.dataset.by_id("invoices", int(invoice_id))
    expected = f"${Decimal(str(invoice['total'])).quantize(Decimal('0.01')):,}"
    assert first.locator("td.ns-num").inner_text() == expected
    first.locator("th a").first.click()
    assert page.locator("#record-state").inner_text() == "Failed"
    assert page.locator("#record-amount").inner_text() == expected
    splynx_link = page.locator("#record-billing a")
    assert splynx_link.get_attribute("href") == f"{splynx.url}/admin/finance/invoices/view?id={invoice_id}"
    assert splynx_link.get_attribute("target") == "_blank"
    walk.shot("record-failed")
    walk.accessible()
    page.click("text=Caused by: >> a")
    page.locator(".ns-problem", has_text="Exempt").locator("text=Fix it").click()
    map_rows(page, "tax_rate", lambda name, value: tax_code["Exempt"] if name == "Exempt" else None)
    page.click("button:text('Save')")
    assert page.locator("strong:text-is('Not mapped')").count() == 0
    walk.go(f"/netsuite/records/invoice/{invoice_id}")
    page.click("#retry")
    walk.wait_for_run_to_finish()  # the page shows the retry's progress while it runs

    def synced() -> bool:
        page.reload()  # a retry that finished before the page loaded shows no progress bar
        return page.locator("#record-state").inner_text() == "Synced"

    wait_for(synced, "the retried invoice to be synced")
    netsuite_id = next(
        r["id"]
        for r in netsuite.state.store.records("invoice")
        if r.get("externalId") == f"splynx-invoice-{invoice_id}"
    )
    netsuite_link = page.locator("#record-netsuite a")
    assert (
        netsuite_link.get_attribute("href")
        == f"{ui_host}/app/accounting/transactions/custinvc.nl?id={netsuite_id}"
    )
    assert "Nothing changed since it was last sent." in page.locator("#fields-changes").inner_text()
    assert "created" in page.locator("#history-table").inner_text()
    walk.shot("record-retried")
    walk.accessible()

    # -- the log, filtered to what did not sync: a missing zip; its ids link out --------------------
    no_zip = min(int(k) for k, missing in manifest["incomplete_customers"].items() if "zip_code" in missing)
    walk.go("/netsuite/logs")
    page.select_option("#entity", "customer")
    page.select_option("#outcome", "not_synced")
    page.click("button:text('Filter')")
    row = page.locator("tr", has=page.locator(f"td >> a:text-is('{no_zip}')")).first
    assert "missing zip" in row.inner_text(), row.inner_text()
    assert row.locator("a[data-system=splynx]").get_attribute("href") == (
        f"{splynx.url}/admin/customers/view?id={no_zip}"
    )
    walk.shot("log-not-synced")
    walk.accessible()
    walk.go("/netsuite/logs?entity=invoice&outcome=created")
    link = page.locator("a[data-system=netsuite]").first
    assert re.fullmatch(
        re.escape(ui_host) + r"/app/accounting/transactions/custinvc\.nl\?id=\d+", link.get_attribute("href")
    )

    # -- pair the customer without a zip by name, from a suggestion ---------------------------------
    customer = splynx.dataset.by_id("customers", no_zip)
    # NetSuite holds the same door, written its own way (capitals, no space in the postcode).
    street, city, postcode = (
        part.strip() for part in customer["additional_attributes"]["service_address"].split(",")
    )
    address = {"addr1": street.upper(), "city": city, "zip": postcode.replace(" ", "").lower()}
    twin = netsuite.state.store.create(
        "customer",
        {"companyName": customer["name"], "email": customer["email"], "subsidiary": {"id": holdings},
         "addressBook": {"items": [{"defaultBilling": True, "addressBookAddress": address}]}},
    ).id  # fmt: skip
    run_from_dashboard(walk, "load_netsuite_customers")
    walk.go("/netsuite/customers")
    page.fill("#who", max(customer["name"].split(), key=len))
    page.click("button:text('Search Splynx customers')")
    page.locator("#billing-results tr", has=page.locator(f"th >> text='{no_zip}'")).locator(
        "text=Choose"
    ).click()
    assert str(no_zip) in page.locator("#chosen-customer").inner_text()
    suggestion = page.locator("#suggestions tbody tr").first
    assert "same email" in suggestion.inner_text() and customer["name"] in suggestion.inner_text()
    assert f"same billing address ({street.upper()}, {address['zip']} {city})" in suggestion.inner_text()
    assert suggestion.locator("a[data-system=netsuite]").get_attribute("href") == (
        f"{ui_host}/app/common/entity/custjob.nl?id={twin}"
    )
    walk.shot("customer-suggestions")
    walk.accessible()
    suggestion.locator("button:text('Pair')").click()
    assert page.locator(f"text=Billing customer {no_zip} is now paired.").is_visible()
    paired = page.locator("section[aria-labelledby=paired-heading] tbody tr").first
    assert str(no_zip) in paired.inner_text() and customer["name"] in paired.inner_text()
    walk.shot("customer-paired")
    walk.accessible()

    # -- payments the bank recorded in NetSuite come back to billing --------------------------------
    walk.go("/netsuite/config")
    page.select_option("#payment_direction", "bidirectional")
    page.check("#cron_export_invoices")
    page.click("text=Save settings")
    assert page.locator("text=Settings saved.").is_visible()
    store = netsuite.state.store
    exported = [
        r
        for r in store.records("invoice")
        if (r.get("externalId") or "").startswith("splynx-invoice-")
        # Still open in billing too: money for an invoice billing shows as paid goes elsewhere.
        and Decimal(splynx.state.get("invoices", int(r["externalId"].rsplit("-", 1)[1]))["due"])
        >= store.invoice_due(r["id"])
        > 0
    ]
    before = len(splynx.state.all("payments"))
    for invoice in exported[:2]:
        due = store.invoice_due(invoice["id"])
        store.create(
            "customerPayment",
            {"customer": {"id": invoice["entity"]}, "tranDate": invoice["tranDate"], "payment": due,
             "account": {"id": checking},
             "apply": {"items": [{"doc": {"id": invoice["id"]}, "apply": True, "amount": due}]}},
        )  # fmt: skip
    counts = run_from_dashboard(walk, "import_payments")
    walk.shot("payments-imported")
    assert counts == {"imported": 2}, counts
    assert len(splynx.state.all("payments")) == before + 2

    # -- a full sync: every card says it ran as part of it, and when it runs next -----------------------
    run_from_dashboard(walk, "sync")
    full = page.locator("#card-sync .ns-last-run").inner_text()
    run_id = re.search(r"Last run (\d+):", full).group(1)
    for card in ("export_customers", "export_invoices", "export_credit_notes", "export_payments"):
        text = page.locator(f"#card-{card} .ns-last-run").inner_text()
        assert f"Last run {run_id}:" in text and f"as part of full sync run {run_id}" in text, text
    now = datetime.now(UTC)
    due = now.replace(hour=1, minute=15, second=0, microsecond=0)
    due += timedelta(days=1) if due <= now else timedelta(0)
    london = due.astimezone(ZoneInfo("Europe/London"))
    next_run = page.locator("#card-export_invoices .ns-next-run").inner_text()
    assert f"Next run {london:%Y-%m-%d %H:%M} Europe/London (01:15 UTC)" in next_run, next_run
    assert "Cron is off" in page.locator("#card-export_customers .ns-next-run").inner_text()
    walk.shot("dashboard-after-full-sync")
    walk.accessible()

    # -- reconciliation from the navigation: what was exported agrees, in dollars ------------------
    page.click("nav >> text=Reconciliation")
    page.fill("#date_from", "2000-01-01")
    page.fill("#date_to", "2099-12-31")
    page.click("button:text('Reconcile the period')")
    verdict = page.locator("#reconcile-verdict").inner_text()
    assert "Every exported document agrees with NetSuite" in verdict or "agree" in verdict, verdict
    cells = page.locator("#reconcile-totals tr", has=page.locator("th:text-is('Invoices')")).locator("td")
    texts = cells.all_inner_texts()
    assert all(MONEY.match(t) for t in texts[2:5]), texts
    exported_total, netsuite_total = (Decimal(t.replace("$", "").replace(",", "")) for t in texts[3:5])
    assert exported_total == netsuite_total > 0, texts
    assert page.evaluate("Chart.getChart(document.getElementById('variance-chart')) !== undefined")
    walk.shot("reconciliation")
    walk.accessible()
    walk.go("/netsuite/reconciliation")  # the last result is kept
    assert (
        page.locator("#reconcile-totals tr", has=page.locator("th:text-is('Invoices')"))
        .locator("td")
        .all_inner_texts()
        == texts
    )

    # -- every page: a screenshot, axe, and usable at 390 px ------------------------------------------
    walk.go(f"/netsuite/records/invoice/{invoice_id}")
    for width in (1280, 390):
        page.set_viewport_size({"width": width, "height": 900 if width > 400 else 844})
        for path, name in EVERY_PAGE:
            walk.go(path.replace("/invoice/1", f"/invoice/{invoice_id}"))
            walk.shot(f"{name}-{width}")
            walk.accessible()
            if width == 390:
                # Nothing wider than the screen except inside a table's own scrolling box.
                wide = page.evaluate(WIDER_THAN_SCREEN)
                assert page.evaluate("document.documentElement.scrollWidth") <= 400, (path, wide)
                for wrap in page.locator(".ns-table-wrap").all():
                    if wrap.evaluate("e => e.scrollWidth > e.clientWidth"):
                        note = page.locator(".ns-scroll-note").first
                        assert note.is_visible() and "Scroll the table sideways" in note.inner_text(), path
        for path in ("/netsuite/records/invoice", "/netsuite/reconciliation"):
            walk.go(path)
            for amount in money_cells(page, "td.ns-num"):
                assert amount == "" or MONEY.match(amount) or amount.isdigit(), (path, amount)

    # -- queued work with no worker listening says so ----------------------------------------------
    page.set_viewport_size({"width": 1280, "height": 900})
    app.config["NETSUITE_ADDON_REDIS_URL"] = redis_url
    try:
        walk.go("/netsuite/")
        page.click("#card-load_mappings button")
        hint = page.locator("#no-worker")
        expect(hint).to_contain_text("no worker is listening: start make worker")
        assert "Queued, no worker is listening" in page.locator("#card-load_mappings").inner_text()
        walk.shot("dashboard-no-worker")
        walk.accessible()
    finally:
        app.config["NETSUITE_ADDON_REDIS_URL"] = None
    assert not refused, refused
    page.close()
