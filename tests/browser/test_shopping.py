"""A buyer buys in two steps after choosing the variant; the seller ships; the buyer sees it."""

from __future__ import annotations

import re
from collections.abc import Callable

from playwright.sync_api import Page, expect

from tests.browser.conftest import Demo

BUYER = "buyer1@liveshop.demo"
SELLER = "seller2@liveshop.demo"  # owns Northern Thread, which sells the tee


def test_buy_pay_ship_and_track(open_page: Callable[..., Page], demo: Demo) -> None:
    buyer = open_page(BUYER)
    buyer.goto(f"/p/{demo.product_ids['heavyweight-tee']}")
    expect(buyer.get_by_role("heading", level=1)).to_have_text("Heavyweight Organic Cotton Tee")
    expect(buyer.locator("#price")).to_have_text("£28.00")

    buyer.get_by_role("radio", name=re.compile(r"^M · Oatmeal")).check()
    # Step 1 of 2: buy now holds the stock and opens the payment page.
    buyer.get_by_role("button", name="Buy now").click()
    expect(buyer).to_have_url(re.compile(r"/orders/\d+/pay$"))
    expect(buyer.get_by_role("note")).to_contain_text("TEST MODE")
    expect(buyer.get_by_label("Card number")).to_have_value("4242 4242 4242 4242")
    order_id = int(re.findall(r"/orders/(\d+)/pay", buyer.url)[0])
    # Step 2 of 2: pay with the prefilled sandbox card.
    buyer.get_by_role("button", name=re.compile(r"^Pay £31\.00")).click()  # £28 + £3 shipping
    expect(buyer).to_have_url(re.compile(rf"/orders/{order_id}$"))
    expect(buyer.locator(".flash-success")).to_contain_text("Paid")
    expect(buyer.locator(".order-head .badge")).to_have_text("Paid")
    expect(buyer.get_by_text("M · Oatmeal · × 1")).to_be_visible()

    buyer.goto("/orders")
    row = buyer.locator(".order-row", has_text=f"#{order_id}")
    expect(row).to_contain_text("Heavyweight Organic Cotton Tee")
    expect(row.locator(".badge")).to_have_text("Paid")

    seller = open_page(SELLER)
    seller.goto("/seller")
    shipping = seller.locator(f"#order-{order_id}")
    expect(shipping).to_contain_text("Heavyweight Organic Cotton Tee")
    shipping.get_by_label(f"Carrier for order {order_id}").select_option("Royal Mail")
    shipping.get_by_label(f"Tracking number for order {order_id}").fill("RM123456785GB")
    shipping.get_by_role("button", name="Mark shipped").click()
    expect(seller.locator(".flash-success")).to_contain_text("shipped with Royal Mail")
    expect(seller.locator(f"#order-{order_id}")).to_have_count(0)  # no longer to ship

    buyer.goto(f"/orders/{order_id}")
    expect(buyer.locator("#tracking-number")).to_have_text("RM123456785GB")
    expect(buyer.locator(".order-head .badge")).to_have_text("Shipped")
    expect(buyer.locator(".journey li.current")).to_contain_text("Shipped")


def test_double_submitted_buy_now_makes_one_order(
    open_page: Callable[..., Page], demo: Demo
) -> None:
    """The form's idempotency key: posting the same rendered form twice gives one order."""
    buyer = open_page("buyer2@liveshop.demo")
    buyer.goto(f"/p/{demo.product_ids['gan-charger-65w']}")
    form = buyer.locator("#buy-form")
    fields = {
        name: form.locator(f"input[name={name}]").first.input_value()
        for name in ("csrf_token", "market", "idempotency_key")
    }
    sku = form.locator("input[name=sku_id]:checked").input_value()
    data = {**fields, "sku_id": sku, "quantity": "1"}
    first = buyer.request.post("/buy", form=data, max_redirects=0)
    second = buyer.request.post("/buy", form=data, max_redirects=0)
    assert first.status == second.status == 303
    assert first.headers["location"] == second.headers["location"]
    assert re.fullmatch(r"/orders/\d+/pay", first.headers["location"])
    buyer.goto("/orders")
    expect(buyer.locator(".order-row", has_text="65 W GaN Charger")).to_have_count(1)
