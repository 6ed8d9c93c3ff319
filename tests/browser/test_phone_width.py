"""No buyer page scrolls sideways on a 390 px phone (``scrollWidth <= 390``), none prints
``null``/``undefined``, and the order tracker shows its last step ("Delivered") whole."""

from __future__ import annotations

import re
from collections.abc import Callable

from playwright.sync_api import Page, expect

from tests.browser.conftest import PHONE, Demo
from tests.browser.support import assert_no_sideways_scroll

BUYER = "buyer2@liveshop.demo"  # has paid orders in the demo's sales history


def _check(page: Page, path: str) -> None:
    page.goto(path)
    expect(page.locator("main")).to_be_visible()
    assert_no_sideways_scroll(page, PHONE["width"])
    text = page.locator("main").inner_text()
    assert not re.search(r"\b(null|undefined|None)\b", text), f"{path}: {text[:400]}"


def test_every_buyer_page_fits_a_phone(open_page: Callable[..., Page], demo: Demo) -> None:
    visitor = open_page(viewport=PHONE)
    for path in ("/", "/login", "/signup", "/drops/fairness"):
        _check(visitor, path)

    buyer = open_page(BUYER, viewport=PHONE)
    product = next(iter(demo.product_ids.values()))
    for path in (
        "/",
        f"/p/{product}",
        "/cart",
        "/orders",
        "/account",
        "/account/addresses",
        "/inbox",
        f"/live/{demo.live_session_id}",
    ):
        _check(buyer, path)
    buyer.goto("/orders")
    buyer.locator(".order-row").first.click()
    expect(buyer).to_have_url(re.compile(r"/orders/\d+$"))
    assert_no_sideways_scroll(buyer, PHONE["width"])
    last = buyer.locator(".journey li").last  # the tracker's last step, whole on screen
    expect(last).to_contain_text("Delivered")
    box = last.bounding_box()
    assert box is not None and box["x"] >= 0 and box["x"] + box["width"] <= PHONE["width"]

    # Buy now → the pay page (a pending order) fits too.
    buyer.goto(f"/p/{product}")
    buyer.get_by_role("button", name="Buy now").click()
    expect(buyer).to_have_url(re.compile(r"/orders/\d+/pay$"))
    assert_no_sideways_scroll(buyer, PHONE["width"])


def test_the_shopping_bag_opens_the_showcase_over_the_video(
    open_page: Callable[..., Page], demo: Demo
) -> None:
    viewer = open_page(viewport=PHONE)
    viewer.goto(f"/live/{demo.live_session_id}")
    bag = viewer.get_by_role("button", name=re.compile(r"^Shop this show \(\d+ products\)$"))
    expect(bag).to_be_visible()
    box = bag.bounding_box()
    video = viewer.locator("[data-region=video]").bounding_box()
    assert box is not None and video is not None
    assert box["y"] + box["height"] <= video["y"] + video["height"]  # over the video
    bag.click()
    sheet = viewer.get_by_role("dialog", name="In this show")
    expect(sheet).to_be_visible()
    expect(sheet.get_by_role("link").first).to_be_visible()
    assert_no_sideways_scroll(viewer, PHONE["width"])
    sheet.get_by_role("button", name="Close").click()
    expect(sheet).to_be_hidden()
    desktop = open_page()
    desktop.goto(f"/live/{demo.live_session_id}")
    expect(desktop.locator("[data-region=bag]")).to_be_hidden()  # the side column has it
