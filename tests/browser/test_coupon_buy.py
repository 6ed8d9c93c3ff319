"""A coupon from the seller center to the live room: the shop's seller creates one on the
coupons page; a buyer on a 390 px phone types it in the room's buy sheet, sees the discount in
the breakdown before paying, and pays the discounted total (the claim's pay carries the code)."""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from pathlib import Path

from playwright.sync_api import Page, expect

from tests.browser.conftest import PHONE
from tests.browser.support import accessibility_problems, assert_no_sideways_scroll, go_live

PRODUCT = "Braided USB-C Cable 2 m, 2-pack"  # Voltbox (seller3), one option, £12.00 in GB
PAY_API = re.compile(r"/api/v1/live/shelf-claims/\d+/pay$")


def test_a_buyer_pays_less_with_a_coupon_in_the_buy_sheet(
    open_page: Callable[..., Page], screenshots: Path
) -> None:
    seller = open_page("seller3@liveshop.demo")
    seller.goto("/seller/coupons")
    form = seller.locator("#new-coupon")
    form.get_by_label("Code").fill("cable20")
    form.get_by_label("Percent or amount").fill("20")
    form.get_by_role("button", name="Create coupon").click()
    expect(seller.locator(".flash-success")).to_have_text("CABLE20 is live in United Kingdom.")
    expect(seller.locator("tr", has_text="CABLE20")).to_contain_text("20 % off")

    creator = open_page("creator3@liveshop.demo")
    session_id = go_live(creator, "Cables and coupons", PRODUCT)
    creator.get_by_role("button", name=f"Pin {PRODUCT}").click()
    expect(creator.locator(".pin-row.is-pinned")).to_contain_text(PRODUCT)

    buyer = open_page("buyer16@liveshop.demo", viewport=PHONE)
    buyer.goto(f"/live/{session_id}")
    expect(buyer.locator("#room")).to_have_attribute("data-connection", "open")
    buyer.locator(".live-product", has_text=PRODUCT).get_by_role("button", name="Buy").click()
    sheet = buyer.get_by_role("dialog")
    pay = sheet.get_by_role("button", name=re.compile(r"^Pay £\d+\.\d\d with"))
    expect(pay).to_be_enabled()
    before = int(re.sub(r"\D", "", re.findall(r"£\d+\.\d\d", pay.inner_text())[0]))

    # (A code the server refuses is said under the field and dropped: the quote's 422 would
    # be a console error here, so tests/promotions covers it at the API.)
    sheet.get_by_label("Coupon code").fill("cable20")
    sheet.get_by_role("button", name="Apply").click()
    expect(sheet.locator("[data-sheet=coupon-note]")).to_have_text("CABLE20: £2.40 off")
    rows = sheet.locator("[data-sheet=breakdown] > div")
    expect(rows.nth(0)).to_have_text("Items£12.00")
    expect(rows.nth(1)).to_have_text("Coupon CABLE20−£2.40")
    after = before - 240
    total = f"£{after // 100}.{after % 100:02d}"
    expect(pay).to_have_text(re.compile(rf"^Pay {re.escape(total)} with"))
    expect(sheet).not_to_contain_text("null")
    assert accessibility_problems(buyer) == []
    assert_no_sideways_scroll(buyer)
    buyer.screenshot(path=screenshots / "coupon-buy-sheet-phone.png")

    with buyer.expect_request(PAY_API) as sent:
        pay.click()
    body = json.loads(sent.value.post_data or "{}")
    assert (body["coupon_code"], body["expected_total_minor"]) == ("CABLE20", after)
    toast = buyer.locator("[data-region=toast]")
    expect(toast).to_contain_text("Paid!")
    expect(toast).to_contain_text(total)  # charged what the button said

    seller.goto("/seller/coupons")
    expect(seller.locator("tr", has_text="CABLE20")).to_contain_text("1")
