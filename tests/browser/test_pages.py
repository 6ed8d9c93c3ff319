"""Every main page renders without console errors, passes the basic accessibility checks
(labels, alt text, landmarks, contrast of price and buy button) on a phone and a desktop,
and leaves a screenshot (docs/screenshots/ with `make screenshots`)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from tests.browser.conftest import DESKTOP, PHONE, Demo
from tests.browser.support import accessibility_problems, contrast

VIEWPORTS = {"phone": PHONE, "desktop": DESKTOP}
AA = 4.5


def _check(page: Page) -> None:
    assert accessibility_problems(page) == []


@pytest.mark.parametrize("device", list(VIEWPORTS))
def test_home_and_product(
    device: str, open_page: Callable[..., Page], demo: Demo, screenshots: Path
) -> None:
    page = open_page("buyer5@liveshop.demo", viewport=VIEWPORTS[device])
    page.goto("/")
    # creator1's show (and the test card `make run` streams into, live too)
    expect(
        page.locator(".live-card-live", has_text="Spring drop: organic tees live")
    ).to_be_visible()
    # (other tests of the same browser bundle may have scheduled shows of their own)
    expect(page.locator(".live-card-scheduled", has_text="Glow routine Q&A")).to_be_visible()
    expect(page.locator(".product-card").first).to_be_visible()
    _check(page)
    assert contrast(page, ".product-card .price") >= AA
    page.screenshot(path=screenshots / f"home-{device}.png", full_page=device == "desktop")

    page.goto(f"/p/{demo.product_ids['rosehip-serum']}")
    expect(page.locator("#price")).to_have_text("£16.00")  # the 15 ml is first and cheaper
    page.get_by_role("radio", name="30 ml").check()
    expect(page.locator("#price")).to_have_text("£24.00")
    _check(page)
    assert contrast(page, "#price") >= AA
    assert contrast(page, "#buy-now") >= AA
    if device == "phone":  # show the title, price and choice above the sticky buy bar
        page.locator(".product-info").evaluate(
            "el => window.scrollTo(0, el.getBoundingClientRect().top + window.scrollY - 240)"
        )
    page.screenshot(path=screenshots / f"product-{device}.png")


def test_prices_follow_the_market(open_page: Callable[..., Page], demo: Demo) -> None:
    page = open_page()
    page.goto(f"/p/{demo.product_ids['rosehip-serum']}")
    page.locator(".market-switch summary").click()
    page.get_by_role("link", name="VN Vietnam").click()
    expect(page.locator("#price")).to_have_text("329.000 ₫")
    expect(page.locator(".market-switch .market-code").first).to_have_text("VN")
    page.goto("/market/ID?next=/")
    expect(page.locator(".eyebrow").first).to_contain_text("prices in IDR")


@pytest.mark.parametrize("device", list(VIEWPORTS))
def test_seller_center(device: str, open_page: Callable[..., Page], screenshots: Path) -> None:
    page = open_page("seller1@liveshop.demo", viewport=VIEWPORTS[device])
    page.goto("/seller")
    expect(page.get_by_role("heading", level=1)).to_contain_text("Bloom & Botanic")
    expect(page.locator("svg.chart").first).to_be_visible()
    expect(page.locator(".kpi", has_text="Sales in GBP")).to_be_visible()
    expect(page.get_by_role("heading", name="Creators selling your products")).to_be_visible()
    expect(page.locator("section", has_text="Creators selling").locator("td").first).to_have_text(
        "Mia Thompson"
    )
    _check(page)
    page.screenshot(path=screenshots / f"seller-{device}.png", full_page=device == "desktop")

    page.goto("/seller/products")
    row = page.locator("tr", has_text="BB-VCM-50")
    available = row.locator("td.num").first
    expect(row.locator("td.num").nth(2)).to_have_text("2")  # sold: one order of 2 in the history
    before = int(available.inner_text())
    row.get_by_label("Units of BB-VCM-50 to receive").fill("12")
    row.get_by_role("button", name="Receive").click()
    expect(page.locator(".flash-success")).to_contain_text(
        f"Received 12 units; {before + 12} available now."
    )
    expect(available).to_have_text(str(before + 12))
    expect(page.locator("#movements tr, section:has(#movements) tbody tr").first).to_contain_text(
        "Receive 12"
    )
    _check(page)


@pytest.mark.parametrize("device", list(VIEWPORTS))
def test_admin_pages(device: str, open_page: Callable[..., Page], screenshots: Path) -> None:
    page = open_page("admin@liveshop.demo", viewport=VIEWPORTS[device])
    page.goto("/admin")
    expect(page.locator("#market-GB .badge")).to_have_text("Live")
    expect(page.locator(".user-chip .user-name")).to_have_text("Liveshop Admin")
    expect(page.locator(".user-chip .user-roles")).to_have_text("admin")
    expect(page.get_by_role("navigation", name="Main").get_by_role("link")).to_have_text(
        ["Discover", "Cart", "My orders", "Account", "Studio", "Seller center", "Admin"]
    )
    _check(page)
    page.screenshot(path=screenshots / f"admin-{device}.png", full_page=device == "desktop")
    page.goto("/admin/users?role=seller")
    expect(page.locator("tbody tr")).to_have_count(4)
    _check(page)


def test_buyer_pages_and_live_room(open_page: Callable[..., Page], demo: Demo) -> None:
    page = open_page("creator1@liveshop.demo", viewport=PHONE)
    for path in ("/cart", "/orders", "/studio", f"/live/{demo.live_session_id}"):
        page.goto(path)
        _check(page)
    card = page.locator(".live-product")  # pinned, and on a flash deal
    expect(card).to_contain_text("Heavyweight Organic Cotton Tee")
    expect(card.locator(".price")).to_have_text("£19.00")
    expect(card.locator(".was")).to_have_text("£28.00")
    page.goto("/studio")
    expect(page.locator("tbody tr")).to_have_count(1)
    expect(page.locator("tbody tr .badge")).to_have_text("Live")
