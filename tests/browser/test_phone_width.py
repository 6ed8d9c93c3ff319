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
    steps = buyer.locator(".tracker li, .order-tracker li, .steps li")
    if steps.count():
        last = steps.last
        expect(last).to_be_visible()
        box = last.bounding_box()
        assert box is not None and box["x"] >= 0 and box["x"] + box["width"] <= PHONE["width"]
