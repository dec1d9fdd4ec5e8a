"""An accountant's first day, in Debian's chromium against both sandboxes.

Screenshots of each step land in ``test-artifacts/browser/`` (gitignored);
each page is checked with axe for labels and contrast at 1280 px and 390 px.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

CHROMIUM = "/usr/bin/chromium"
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "browser"
CHROMIUM_ARGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
    "--disable-component-update", "--disable-sync", "--no-first-run",
]  # fmt: skip
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


def test_an_accountants_first_day(browser, live, netsuite_sandbox, splynx_sandbox):
    page = browser.new_page(viewport={"width": 1280, "height": 900}, accept_downloads=False)
    walk = Walk(page, live)

    walk.go("/login")
    page.fill("#username", "admin")
    page.fill("#password", "correct-horse-battery")
    page.click("button[type=submit]")
    walk.go("/netsuite/config")
    walk.shot("config-empty")
    walk.accessible()

    for field, value in {
        "netsuite_account_id": netsuite_sandbox.account_id,
        "netsuite_consumer_key": netsuite_sandbox.consumer_key,
        "netsuite_consumer_secret": netsuite_sandbox.consumer_secret,
        "netsuite_token_id": netsuite_sandbox.token_id,
        "netsuite_token_secret": netsuite_sandbox.token_secret,
        "netsuite_base_url": netsuite_sandbox.url,
        "splynx_url": splynx_sandbox.url,
        "splynx_api_key": splynx_sandbox.api_key,
        "splynx_api_secret": splynx_sandbox.api_secret,
    }.items():
        page.fill(f"#{field}", value)
    page.click("text=Save settings")
    assert page.locator("text=Settings saved.").is_visible()
    assert netsuite_sandbox.token_secret not in page.content()
    walk.shot("config-saved")

    page.click("text=Test NetSuite connection")
    assert page.locator("text=Connected to NetSuite account").first.is_visible()
    page.click("text=Test Splynx connection")
    assert page.locator(".ns-test-result[data-system=splynx] >> text=OK:").is_visible()
    walk.shot("connections-tested")

    walk.go("/netsuite/")
    page.click("#card-load_mappings button")
    walk.wait_for_run_to_finish()
    assert "succeeded" in page.locator("#card-load_mappings").inner_text()
    walk.shot("mappings-loaded")
    walk.accessible()

    walk.go("/netsuite/mappings/categories")
    page.click("text=Preview auto-map")
    walk.wait_for_run_to_finish()
    selects = page.locator("select[name^='map:category:']")
    assert selects.count() > 0
    first = selects.first
    options = first.locator("option").all()
    first.select_option(options[-1].get_attribute("value"))
    walk.shot("automap-preview")
    walk.accessible()
    page.click("button:text('Save')")
    assert page.locator("text=mapping change").is_visible()

    walk.go("/netsuite/")
    page.click("#card-export_customers button")
    walk.shot("export-customers-running")
    walk.wait_for_run_to_finish()
    walk.shot("export-customers-done")
    assert "Last run" in page.locator("#card-export_customers").inner_text()

    walk.go("/netsuite/logs?outcome=failed&entity=customer")
    walk.shot("log-failures")
    walk.accessible()

    page.set_viewport_size({"width": 390, "height": 844})
    walk.go("/netsuite/")
    walk.shot("dashboard-phone")
    walk.accessible()
    assert page.evaluate("document.documentElement.scrollWidth") <= 400
    page.close()
