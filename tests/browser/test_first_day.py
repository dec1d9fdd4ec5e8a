"""An accountant's first day, in Debian's chromium against both sandboxes.

Screenshots of each step land in ``test-artifacts/browser/`` (gitignored);
each page is checked with axe for labels and contrast at 1280 px and 390 px.
"""

from __future__ import annotations

import os
import re
from decimal import Decimal
from pathlib import Path

import pytest

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
AXE_RULES = ["label", "color-contrast", "select-name", "button-name", "link-name", "document-title"]

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
    from sandbox.server import serve_in_thread
    from tests.plugins.netsuite_sandbox import NetSuiteSandboxHandle

    state = SandboxState(seed_customers=SEED_CUSTOMERS, write_latency=0.04)
    state.store.insert(
        "salesTaxItem",
        {"itemId": "VAT 7.5%", "name": "VAT 7.5%", "fullName": "VAT 7.5%", "description": "VAT 7.5%",
         "rate": Decimal("7.5"), "taxType": "VAT", "isInactive": False},
    )  # fmt: skip
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

        results = Axe().run(self.page, options={"runOnly": {"type": "rule", "values": AXE_RULES}})
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


def run_from_dashboard(walk: Walk, operation: str, *, shot: str | None = None) -> dict[str, int]:
    walk.go("/netsuite/")
    walk.page.click(f"#card-{operation} button")
    if shot:
        from playwright.sync_api import expect

        expect(walk.page.locator(f"#card-{operation} progress")).to_be_visible()
        walk.shot(shot)
    walk.wait_for_run_to_finish()
    card = walk.page.locator(f"#card-{operation}").inner_text()
    # Skipped records do not make a run partial: only failed ones do, and none fails here.
    assert "succeeded" in card and "partial" not in card, card
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


def test_an_accountants_first_day(browser, live, seeded_netsuite, splynx_sandbox):
    netsuite, splynx = seeded_netsuite, splynx_sandbox
    manifest = splynx.dataset.manifest
    page = browser.new_page(viewport={"width": 1280, "height": 900}, accept_downloads=False)
    page.on("dialog", lambda dialog: dialog.accept())
    walk = Walk(page, live)

    # -- log in and fill the module config ------------------------------------------------------
    walk.go("/login")
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
    }.items():
        page.fill(f"#{field}", value)
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

    # -- bank accounts and tax rates -----------------------------------------------------------
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
    map_rows(page, "tax_rate", lambda name, value: ns_id(netsuite, "salesTaxItem", name=TAX_CODES[name]))
    page.click("button:text('Save')")
    assert page.locator("text=mapping change").is_visible()
    assert page.locator("strong:text-is('Not mapped')").count() == 0
    walk.shot("tax-rates")

    # -- export customers (progress bar), then invoices -------------------------------------------
    incomplete = {int(k) for k in manifest["incomplete_customers"]} | set(manifest["malformed_addresses"])
    counts = run_from_dashboard(walk, "export_customers", shot="export-customers-running")
    walk.shot("export-customers-done")
    assert counts.get("skipped") == len(incomplete), counts
    assert counts.get("created") == len(splynx.dataset.records["customers"]) - len(incomplete), counts

    counts = run_from_dashboard(walk, "export_invoices")
    walk.shot("export-invoices-done")
    # Every invoice goes, except those of the customers NetSuite could not be sent.
    invoices = splynx.dataset.records["invoices"]
    held = [i for i in invoices if int(i["customer_id"]) in incomplete]
    assert counts.get("created") == len(invoices) - len(held) > 0, counts
    # Held invoices are skipped under their customer's cause (the customers are not logged again).
    assert counts.get("skipped") == len(held) and not counts.get("failed"), counts

    # -- the log, filtered to what did not sync: a missing zip --------------------------------------
    no_zip = min(int(k) for k, missing in manifest["incomplete_customers"].items() if "zip_code" in missing)
    walk.go("/netsuite/logs")
    page.select_option("#entity", "customer")
    page.select_option("#outcome", "not_synced")
    page.click("button:text('Filter')")
    row = page.locator("tr", has=page.locator(f"td >> a:text-is('{no_zip}')")).first
    assert "missing zip" in row.inner_text(), row.inner_text()
    walk.shot("log-not-synced")
    walk.accessible()

    # -- pair the customer without a zip with an existing NetSuite customer -------------------------
    run_from_dashboard(walk, "load_netsuite_customers")
    walk.go(f"/netsuite/customers?billing_id={no_zip}")
    page.fill("#q", "Seed Customer 001")
    page.click("button:text('Search NetSuite customers')")
    result = page.locator("tr", has_text="Seed Customer 001")
    assert result.locator("input[name=billing_id]").input_value() == str(no_zip)
    result.locator("button:text('Pair')").click()
    assert page.locator(f"text=Billing customer {no_zip} is now paired.").is_visible()
    paired = page.locator("section[aria-labelledby=paired-heading] tbody tr").first
    assert str(no_zip) in paired.inner_text() and "Seed Customer 001" in paired.inner_text()
    walk.shot("customer-paired")
    walk.accessible()

    # -- payments the bank recorded in NetSuite come back to billing --------------------------------
    walk.go("/netsuite/config")
    page.select_option("#payment_direction", "bidirectional")
    page.click("text=Save settings")
    assert page.locator("text=Settings saved.").is_visible()
    store = netsuite.state.store
    exported = [
        r for r in store.records("invoice") if (r.get("externalId") or "").startswith("splynx-invoice-")
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

    # -- reconciliation: what was exported agrees ------------------------------------------------
    walk.go("/netsuite/")
    page.fill("#date_from", "2000-01-01")
    page.fill("#date_to", "2099-12-31")
    page.click("button:text('Reconcile the period')")
    verdict = page.locator("#reconcile-verdict").inner_text()
    assert "Every exported document agrees with NetSuite" in verdict, verdict
    invoices = page.locator("tr", has=page.locator("th:text-is('Invoices')")).locator("td").all_inner_texts()
    exported_total, netsuite_total = Decimal(invoices[3]), Decimal(invoices[4])
    assert exported_total == netsuite_total > 0, invoices
    walk.shot("reconciliation")
    walk.accessible()

    # -- phone width ---------------------------------------------------------------------------
    page.set_viewport_size({"width": 390, "height": 844})
    for path, name in (("/netsuite/", "dashboard-phone"), ("/netsuite/mappings/tax-rates", "mappings-phone")):
        walk.go(path)
        walk.shot(name)
        walk.accessible()
        assert page.evaluate("document.documentElement.scrollWidth") <= 400
    page.close()
