"""The accountant's first week, in Debian's chromium: settings that refuse nonsense field by field,
and a mapping change previewed and applied to new records only.

Screenshots land in ``test-artifacts/browser/settings-week/`` (gitignored).
"""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import select

from tests.browser.test_first_day import browser, live  # noqa: F401 - the shared chromium and server

ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "browser" / "settings-week"
AXE_RULES = [
    "label",
    "color-contrast",
    "select-name",
    "button-name",
    "link-name",
    "document-title",
    "aria-valid-attr-value",
]

pytestmark = pytest.mark.browser


class Steps:
    def __init__(self, page, base: str, prefix: str):
        self.page, self.base, self.prefix, self.step = page, base, prefix, 0
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        for old in ARTIFACTS.glob(f"{prefix}-*.png"):
            old.unlink()

    def go(self, path: str) -> None:
        self.page.goto(self.base + path)

    def shot(self, name: str) -> None:
        self.step += 1
        self.page.screenshot(
            path=str(ARTIFACTS / f"{self.prefix}-{self.step:02d}-{name}.png"), full_page=True
        )

    def accessible(self) -> None:
        from axe_playwright_python.sync_playwright import Axe

        results = Axe().run(self.page, options={"runOnly": {"type": "rule", "values": AXE_RULES}})
        violations = results.response["violations"]
        assert not violations, [(v["id"], [n["target"] for n in v["nodes"]][:3]) for v in violations]

    def login(self) -> None:
        self.go("/login")
        self.page.fill("#username", "admin")
        self.page.fill("#password", "correct-horse-battery")
        self.page.click("button[type=submit]")


def _error(page, key: str) -> str:
    locator = page.locator(f"#{key}-error")
    return locator.inner_text() if locator.count() else ""


def _focused(page) -> str:
    return page.evaluate("document.activeElement && document.activeElement.id")


def test_set_up_with_invalid_values_refused_field_by_field(browser, live):  # noqa: F811
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    steps = Steps(page, live, "invalid")
    steps.login()
    steps.go("/netsuite/config")
    assert page.get_attribute("#export_from", "type") == "date"  # the browser's date picker
    assert page.locator("#mandatory_segments option").all_inner_texts() == [
        "Class",
        "Department",
        "Location",
        "Terms",
    ]
    bad = {
        "netsuite_account_id": ("acme corp", "not a NetSuite account ID"),
        "netsuite_concurrency": ("99999", "at most 140"),
        "customer_name_pattern": ("<b>{unknown}</b>", "not markup"),
        "splynx_url": ("splynx.example.com", "starting with https://"),
    }
    for key, (value, _) in bad.items():
        page.fill(f"#{key}", value)
    page.click("text=Save settings")
    steps.shot("all-refused")
    for key, (_, words) in bad.items():
        assert words in _error(page, key), key
        assert page.get_attribute(f"#{key}", "aria-invalid") == "true"
    assert "Invalid isoformat" not in page.content() and "Traceback" not in page.content()
    assert _focused(page) == "netsuite_account_id"  # focus on the first refusal
    steps.accessible()

    # Corrected one at a time: each save refuses what is still wrong, focus moves to the next.
    good = {  # in page order
        "netsuite_account_id": "1234567_SB1",
        "netsuite_concurrency": "4",
        "splynx_url": "https://splynx.example.com",
        "customer_name_pattern": "{name} ({id})",
    }
    keys = list(good)
    for index, key in enumerate(keys):
        page.fill(f"#{key}", good[key])
        page.click("text=Save settings")
        remaining = keys[index + 1 :]
        if remaining:
            assert not _error(page, key)
            assert _focused(page) == remaining[0], (key, _focused(page))
            for other in remaining:
                assert _error(page, other), other
        steps.shot(f"fixed-{key}")
    assert page.locator("text=Settings saved.").is_visible()
    assert page.input_value("#netsuite_account_id") == "1234567_SB1"
    assert page.input_value("#customer_name_pattern") == "{name} ({id})"


def test_a_mapping_change_previewed_and_applied_to_new_records_only(browser, live, export_ready):  # noqa: F811
    from addon.extension import session
    from addon.models import ListCache, Mapping

    setup = export_ready
    assert setup.run("load_mappings").status == "succeeded"
    assert setup.run("export_invoices").counts.get("created")
    category = next(
        c for c in setup.env.splynx.state.all("transaction_categories") if c["name"] == "Internet plans"
    )
    other = session().scalar(
        select(ListCache.netsuite_id).where(ListCache.kind == "item", ListCache.name == "Installation")
    )
    writes = setup.writes()

    page = browser.new_page(viewport={"width": 1280, "height": 900})
    steps = Steps(page, live, "mapping")
    steps.login()
    steps.go("/netsuite/mappings/categories")
    page.select_option(f"select[name='map:category:{category['id']}']", other)
    page.click("button:text('Save')")
    summary = page.locator("#impact-summary").inner_text()
    assert summary.startswith("This change would update") and "invoices already in NetSuite" in summary
    assert page.is_checked("#scope-new") and not page.is_checked("#scope-all")
    assert page.locator("table tbody tr").count() >= 1  # the dry run's list of touched records
    steps.shot("preview")
    steps.accessible()
    page.click("text=Save the change")
    assert page.locator("text=keep what was posted").is_visible()
    steps.shot("applied-new-only")
    saved = session().scalar(
        select(Mapping.netsuite_id).where(
            Mapping.kind == "category", Mapping.billing_id == str(category["id"])
        )
    )
    assert saved == other
    again = setup.run("export_invoices")
    assert not again.counts.get("updated"), again.counts
    assert setup.writes() == writes  # nothing posted was touched
