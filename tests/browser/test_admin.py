"""An admin changes a market's launch state; the shop's market menu follows."""

from __future__ import annotations

from collections.abc import Callable

from playwright.sync_api import Page, expect


def test_admin_pilots_a_planned_market(open_page: Callable[..., Page]) -> None:
    admin = open_page("admin@liveshop.demo")
    admin.goto("/admin")
    france = admin.locator("#market-FR")
    expect(france.locator(".badge")).to_have_text("Planned")
    expect(admin.locator(".market-switch .menu a[href^='/market/FR']")).to_have_count(0)

    france.get_by_label("New launch state for France").select_option("pilot")
    france.get_by_label("Reason for France").fill("Paris pilot with 3 shops")
    france.get_by_role("button", name="Apply").click()

    expect(admin.locator(".flash-success")).to_have_text("France is now pilot.")
    expect(admin.locator("#market-FR .badge")).to_have_text("Pilot")
    expect(admin.locator(".market-switch .menu a[href^='/market/FR']")).to_have_count(1)


def test_admin_sets_a_category_commission(open_page: Callable[..., Page]) -> None:
    admin = open_page("admin@liveshop.demo")
    admin.goto("/admin?rates=VN")
    row = admin.locator("tr", has=admin.get_by_label("Beauty commission in per cent"))
    row.get_by_label("Beauty commission in per cent").fill("7.5")
    row.get_by_role("button", name="Save").click()
    expect(admin.locator(".flash-success")).to_have_text("Beauty in VN: 7.5 %.")
    expect(admin.get_by_label("Beauty commission in per cent")).to_have_value("7.5")
