"""Languages in a real browser (issue 21): a pseudo-locale (every message accented and about
40 % longer) on the buyer's, the seller center's and the studio's pages at 390 px — nothing
scrolls sideways, no button clips its words — and an Indonesian viewer in the room, whose
script words and prices come from the page in Indonesian; an Indonesian browser
(Accept-Language, nothing else) buying in an Indonesian room in rupiah; a language picked in
the header sticking; a problem+json in it."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

from playwright.sync_api import Page, expect

from tests.browser.conftest import PHONE, Demo
from tests.browser.support import assert_no_sideways_scroll
from tests.browser.test_live_room import api

BUYER = "buyer3@liveshop.demo"

# Buttons and button-like links whose words do not fit (cut off, spilling out of them, or
# pushing them past the screen's edge inside a sheet that hides the overflow).
CLIPPED_JS = r"""
() => [...document.querySelectorAll('button, .btn, [role=button]')]
  .filter((el) => el.offsetParent !== null && /\p{L}{2,}/u.test(el.textContent))
  .filter((el) => el.scrollWidth > el.clientWidth + 1
    || el.getBoundingClientRect().right > window.innerWidth + 1)
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
    buyer.goto("/orders")
    order = buyer.locator("a.order-row").first.get_attribute("href")  # a delivered one
    assert order is not None
    for path in (order, "/drops/fairness"):  # parcels, tracking, returns; long sentences
        _fits(buyer, path)
    visitor = open_page(viewport=PHONE)
    _language(visitor, demo, "en_XA")
    for path in ("/login", "/signup"):
        _fits(visitor, path)

    _fits(buyer, f"/live/{demo.live_session_id}")
    # The room's script words come from the page: pseudo too, and the buy sheet fits.
    # The demo show's pinned product is in its flash deal: once the room is connected, a tap
    # claims a unit and opens the buy sheet to pay for it.
    expect(buyer.locator("#room")).to_have_attribute("data-connection", "open")
    buy = buyer.locator(".live-product.has-deal .buy-btn")
    expect(buy).to_have_text(re.compile(r"^\[.*[áéîöûý].*·+\]$"))
    buy.click()
    sheet = buyer.get_by_role("dialog")
    expect(sheet.locator("[data-sheet=pay]")).to_have_text(re.compile(r"^\["))
    assert_no_sideways_scroll(buyer, PHONE["width"])
    assert buyer.evaluate(CLIPPED_JS) == []


def test_pseudo_locale_seller_and_studio_pages_fit_a_phone(
    open_page: Callable[..., Page], demo: Demo
) -> None:
    for who, paths in (
        (
            "seller2@liveshop.demo",  # Northern Thread: orders, products, support cases
            ("/seller", "/seller/orders", "/seller/products", "/seller/support",
             "/seller/coupons", "/seller/affiliate-plans"),
        ),
        (
            "creator1@liveshop.demo",  # the demo's live show
            ("/studio", "/studio/analytics", "/studio/contract", "/studio/plans",
             "/studio/chat-filter", "/studio/moderation", "/studio/moderators",
             "/studio/earnings", f"/studio/sessions/{demo.live_session_id}"),
        ),
    ):  # fmt: skip
        page = open_page(who, viewport=PHONE)
        _language(page, demo, "en_XA")
        for path in paths:
            _fits(page, path)


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


CABLE = "Braided USB-C Cable 2 m, 2-pack"  # Voltbox; Rp 145.000 in Indonesia
RUPIAH = r"Rp\s?\d{1,3}(?:\.\d{3})+(?:,\d\d)?"  # "Rp145.000,00": dots for thousands


def test_an_indonesian_browser_buys_in_an_indonesian_room_in_rupiah(
    open_page: Callable[..., Page], demo: Demo, screenshots: Path
) -> None:
    """Accept-Language: id-ID, no cookie, not signed in: the Indonesian room in Indonesian;
    logging in to buy and paying, every label Indonesian and every price in rupiah as
    Indonesians write it (dots for thousands)."""
    login = {"email": "creator3@liveshop.demo", "password": demo.password}
    token = api(demo, "/api/v1/auth/login", login)["token"]
    starts = (datetime.now(UTC) + timedelta(minutes=2)).isoformat()
    show = api(
        demo,
        "/api/v1/live/sessions",
        {"title": "Kabel & lampu", "market": "ID", "planned_start": starts}
        | {
            "planned_duration_minutes": 60,
            "product_ids": [demo.product_ids["braided-usb-c-cable"]],
        },
        token,
    )
    api(demo, f"/api/v1/live/sessions/{show['id']}/start", {}, token)
    cable = {"product_id": demo.product_ids["braided-usb-c-cable"]}
    api(demo, f"/api/v1/live/sessions/{show['id']}/pin", cable, token)

    viewer = open_page(viewport=PHONE)
    viewer.set_extra_http_headers({"Accept-Language": "id-ID,id;q=0.9,en-US;q=0.8,en;q=0.7"})
    viewer.goto(f"/live/{show['id']}")
    expect(viewer.locator("html")).to_have_attribute("lang", "id")
    card = viewer.locator(".live-product", has_text=CABLE)
    expect(card.locator(".price").first).to_have_text(re.compile(rf"^{RUPIAH}$"))
    card.get_by_role("link", name="Masuk untuk beli").click()

    expect(viewer.locator("html")).to_have_attribute("lang", "id")  # the log-in page too
    viewer.locator("#email").fill("buyer11@liveshop.demo")
    viewer.locator("#password").fill(demo.password)
    viewer.get_by_role("button", name="Masuk").click()
    expect(viewer).to_have_url(re.compile(rf"/live/{show['id']}$"))
    expect(viewer.locator("#room")).to_have_attribute("data-connection", "open")
    viewer.locator(".live-product", has_text=CABLE).get_by_role("button", name="Beli").click()
    sheet = viewer.get_by_role("dialog")
    expect(sheet.locator("fieldset.variants legend")).to_have_text("Pilih panjang")  # "length"
    pay = sheet.get_by_role("button", name=re.compile(rf"^Bayar {RUPIAH} pakai"))
    expect(pay).to_be_enabled()
    total = re.findall(RUPIAH, pay.inner_text())[0]
    assert_no_sideways_scroll(viewer, PHONE["width"])
    assert viewer.evaluate(CLIPPED_JS) == []
    expect(sheet.locator(".sheet-ship-to")).to_contain_text("ke ")  # "to" the address
    settled = "() => document.querySelector('dialog[open]').getAnimations({subtree: true})"
    viewer.wait_for_function(f"{settled}.every((a) => a.playState !== 'running')")
    viewer.screenshot(path=screenshots / "room-id-buy-sheet.png")
    pay.click()
    toast = viewer.locator("[data-region=toast]")
    expect(toast).to_contain_text("Lunas!")
    expect(toast).to_contain_text(total)  # charged what the button said, in rupiah
    toast.get_by_role("link", name="Lihat pesanan").click()
    expect(viewer.locator("html")).to_have_attribute("lang", "id")
    expect(viewer.locator(".order-head .badge")).to_have_text("Dibayar")


def test_a_language_picked_in_the_header_sticks_and_errors_come_in_it(
    open_page: Callable[..., Page], demo: Demo
) -> None:
    """A Thai pick in the header outlives a reload and another page; a problem+json answered
    to this browser is in Thai too."""
    viewer = open_page("buyer4@liveshop.demo", viewport=PHONE)
    viewer.goto("/")
    viewer.locator(".lang-switch summary").click()
    viewer.get_by_role("button", name="ไทย").click()
    expect(viewer.locator("html")).to_have_attribute("lang", "th")
    viewer.reload()
    expect(viewer.locator("html")).to_have_attribute("lang", "th")
    viewer.goto("/orders")
    expect(viewer.locator("html")).to_have_attribute("lang", "th")
    # An API error answered to this browser (its cookies: the signed-in buyer, the pick).
    answer = viewer.request.get("/api/v1/live/sessions/999999999")
    assert (answer.status, answer.headers["content-type"]) == (404, "application/problem+json")
    body = answer.json()
    assert body["title"] == "ไม่พบ"
    assert re.search(r"[\u0e00-\u0e7f]", body["detail"]), body  # the detail in Thai script
    viewer.locator(".lang-switch summary").click()
    viewer.get_by_role("button", name="English (UK)").click()  # leave buyer4 as found
    expect(viewer.locator("html")).to_have_attribute("lang", "en-GB")
