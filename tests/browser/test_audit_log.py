"""An admin reads the audit log on a 390 px phone: an admin's change is there, with its
before and after, and the filters narrow it."""

from __future__ import annotations

from collections.abc import Callable

from playwright.sync_api import Page, expect

from tests.browser.conftest import PHONE
from tests.browser.support import accessibility_problems, fits_width


def test_an_admin_reads_and_filters_the_audit_log_on_a_phone(
    open_page: Callable[..., Page],
) -> None:
    admin = open_page("admin@liveshop.demo", viewport=PHONE)
    admin.goto("/admin?rates=ID")
    row = admin.locator("tr", has=admin.get_by_label("Fashion commission in per cent"))
    row.get_by_label("Fashion commission in per cent").fill("4.25")
    row.get_by_role("button", name="Save").click()
    expect(admin.locator(".flash-success")).to_have_text("Fashion in ID: 4.25 %.")

    admin.get_by_role("link", name="Audit log").click()
    entry = admin.locator("tr", has_text="market ID/fashion")
    expect(entry).to_have_count(1)
    expect(entry).to_contain_text("market.category_commission")
    expect(entry.locator("td[data-label=After]")).to_contain_text("425")
    assert fits_width(admin, PHONE["width"])
    assert accessibility_problems(admin) == []

    admin.get_by_label("Action").select_option("video.")
    admin.get_by_role("button", name="Filter").click()
    expect(admin.locator("tr", has_text="market ID/fashion")).to_have_count(0)
    admin.get_by_label("Action").select_option("market.category_commission")
    admin.get_by_label("From").fill("2020-01-01")
    admin.get_by_role("button", name="Filter").click()
    expect(admin.locator("tr", has_text="market ID/fashion")).to_have_count(1)
