"""Languages in a real browser (issue 21): a pseudo-locale (every message accented and about
40 % longer) on the buyer's pages at 390 px — nothing scrolls sideways, no button clips its
words — and an Indonesian viewer in the room, whose script words and prices come from the
page in Indonesian."""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path

from playwright.sync_api import Page, expect

from tests.browser.conftest import PHONE, Demo
from tests.browser.support import assert_no_sideways_scroll

BUYER = "buyer3@liveshop.demo"

# Buttons and button-like links whose words do not fit (cut off, or spilling out of them).
CLIPPED_JS = r"""
() => [...document.querySelectorAll('button, .btn, [role=button]')]
  .filter((el) => el.offsetParent !== null && /\p{L}{2,}/u.test(el.textContent))
  .filter((el) => el.scrollWidth > el.clientWidth + 1)
  .map((el) => `${el.className}: ${el.textContent.trim().slice(0, 60)}`)
"""


def _language(page: Page, demo: Demo, code: str) -> None:
    page.context.add_cookies([{"name": "liveshop_lang", "value": code, "url": demo.base_url}])


def _fits(page: Page, path: str) -> None:
    page.goto(path)
    expect(page.locator("main")).to_be_visible()
    assert_no_sideways_scroll(page, PHONE["width"])
    clipped = page.evaluate(CLIPPED_JS)
    assert clipped == [], f"{path}: buttons clip their words: {clipped}"


def test_pseudo_locale_buyer_pages_fit_a_phone(open_page: Callable[..., Page], demo: Demo) -> None:
    buyer = open_page(BUYER, viewport=PHONE)
    _language(buyer, demo, "en_XA")
    product = next(iter(demo.product_ids.values()))
    for path in ("/", f"/p/{product}", "/cart", "/orders", "/account", "/inbox"):
        _fits(buyer, path)
    expect(buyer.locator(".main-nav")).to_contain_text("[Dîsçövér")  # really pseudo-localised

    _fits(buyer, f"/live/{demo.live_session_id}")
    # The room's script words come from the page: pseudo too, and the buy sheet fits.
    buy = buyer.locator(".live-product .buy-btn").first
    expect(buy).to_have_text(re.compile(r"^\[.*[áéîöûý].*·+\]$"))
    buy.click()
    sheet = buyer.get_by_role("dialog")
    expect(sheet.locator("[data-sheet=pay]")).to_have_text(re.compile(r"^\["))
    assert_no_sideways_scroll(buyer, PHONE["width"])
    assert buyer.evaluate(CLIPPED_JS) == []


def test_an_indonesian_viewer_reads_the_room_in_indonesian(
    open_page: Callable[..., Page], demo: Demo, screenshots: Path
) -> None:
    viewer = open_page(viewport=PHONE)
    _language(viewer, demo, "id")
    viewer.goto(f"/live/{demo.live_session_id}")
    expect(viewer.locator("html")).to_have_attribute("lang", "id")
    expect(viewer.locator("[data-region=sound] span")).to_have_text("Ketuk untuk suara")
    card = viewer.locator(".live-product").first
    expect(card.locator(".buy-btn")).to_have_text(
        re.compile(r"^(Masuk untuk beli|Ketuk untuk klaim|Habis)$")
    )
    # Money: the script formats like the server (babel) — "£24,00" as Indonesian writes
    # pounds — never the browser's own "£ 24.00".
    expect(card.locator(".price").first).to_have_text(re.compile(r"^£\d[\d.]*,\d\d$"))
    viewer.screenshot(path=screenshots / "room-id.png")
    # The switcher in the header takes another language for this viewer.
    viewer.locator(".lang-switch summary").click()
    viewer.get_by_role("button", name="ไทย").click()
    expect(viewer.locator("html")).to_have_attribute("lang", "th")
    expect(viewer.locator("[data-region=sound] span")).to_have_text("แตะเพื่อเปิดเสียง")
    viewer.screenshot(path=screenshots / "room-th.png")
    viewer.locator(".lang-switch summary").click()
    viewer.get_by_role("button", name="Tiếng Việt").click()
    expect(viewer.locator("html")).to_have_attribute("lang", "vi")
    expect(viewer.locator(".live-product .buy-btn").first).to_have_text(
        re.compile(r"^(Đăng nhập để mua|Chạm để giữ|Hết hàng)$")
    )
    viewer.screenshot(path=screenshots / "room-vi.png")
