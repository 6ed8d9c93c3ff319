"""A flash deal's per-buyer limit in a real browser: the creator sets it in the studio, a
viewer on a 390 px phone sees "Limit 2 per buyer" on the deal card, claims and pays one unit
at a time, and is told the limit is reached at the third tap, with nothing taken."""

from __future__ import annotations

import re
from collections.abc import Callable

from playwright.sync_api import Page, expect

from tests.browser.conftest import PHONE, Demo
from tests.browser.support import accessibility_problems, fill_flash_deal, fits_width, go_live


def test_a_viewer_sees_the_per_buyer_limit_and_cannot_buy_past_it(
    open_page: Callable[..., Page], demo: Demo
) -> None:
    creator = open_page("creator3@liveshop.demo")
    session_id = go_live(creator, "Two speakers each", "Pocket Bluetooth Speaker, waterproof")
    fill_flash_deal(creator, demo.sku_ids["VB-POCKET-CORAL"], "25", 5, per_buyer=2)
    assert accessibility_problems(creator) == []
    creator.get_by_role("button", name="Start flash deal").click()
    expect(creator.locator(".flash-success")).to_contain_text("Limit 2 per buyer.")
    expect(creator.locator(".deal-now .deal-limit")).to_have_text("Limit 2 per buyer")

    viewer = open_page("buyer9@liveshop.demo", viewport=PHONE)
    viewer.goto(f"/live/{session_id}")
    expect(viewer.locator("#room")).to_have_attribute("data-connection", "open")
    card = viewer.locator(".live-product.has-deal")
    expect(card.locator(".deal-limit")).to_have_text("Limit 2 per buyer")
    expect(card.locator(".stock-text")).to_have_text("5 of 5 left")
    assert fits_width(viewer, PHONE["width"])

    # A tap claims one unit, held for the buyer to pay; the limit counts claims.
    sheet = viewer.get_by_role("dialog")
    for left in ("4 of 5 left", "3 of 5 left"):
        card.get_by_role("button", name="Tap to claim").click()
        expect(card.locator(".deal-standing")).to_have_text(re.compile(r"^Yours — pay within"))
        expect(card.locator(".stock-text")).to_have_text(left)
        expect(sheet.locator("[data-sheet=kicker]")).to_have_text("Yours — held for you")
        assert accessibility_problems(viewer) == []
        assert fits_width(viewer, PHONE["width"])
        sheet.get_by_role("button", name=re.compile(r"^Pay £\d+\.\d\d")).click()
        expect(viewer.locator("[data-region=toast]")).to_contain_text("Paid!")
        expect(card.locator(".deal-standing")).to_have_text("Yours — order placed")
        viewer.reload()  # the card starts over: the next tap is a new claim
        expect(viewer.locator("#room")).to_have_attribute("data-connection", "open")

    card.get_by_role("button", name="Tap to claim").click()
    expect(card.locator(".deal-standing")).to_have_text("You've reached the limit of 2 per buyer")
    expect(card.locator(".stock-text")).to_have_text("3 of 5 left")

    creator.get_by_role("button", name="End show").click()
    expect(creator.locator(".flash-info")).to_contain_text("The show has ended")
