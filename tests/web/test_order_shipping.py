"""Shipping on the order pages (both DBs): the cart, the pay page and the order page show the
goods, the market's flat shipping and the total charged; free shipping shows who paid it."""

from __future__ import annotations

import re

import httpx

from liveshop.accounts.models import Role
from liveshop.core.db import Database
from tests.support import MakeActor
from tests.web.test_pages import KEY, csrf_of, make_product, page_login


def text_of(html: str) -> str:
    """The page's text with tags and whitespace runs collapsed (for reading totals)."""
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html))


async def _buy_now(client: httpx.AsyncClient, product_id: int, sku_id: int) -> str:
    page = await client.get(f"/p/{product_id}")
    key = KEY.search(page.text)
    assert key is not None
    form = {
        "csrf_token": csrf_of(page),
        "idempotency_key": key.group(1),
        "market": "GB",
        "sku_id": str(sku_id),
        "quantity": "2",
    }
    bought = await client.post("/buy", data=form)
    assert bought.status_code == 303, bought.text
    return str(bought.headers["location"])  # /orders/{id}/pay


async def test_pages_show_shipping_and_the_total_charged(
    client: httpx.AsyncClient, make_actor: MakeActor, db: Database
) -> None:
    seller, buyer = await make_actor(Role.SELLER), await make_actor(Role.BUYER)
    product_id, sku_id = await make_product(db, seller, "pagoda", units=10)  # £12.50
    await page_login(client, buyer)
    form = await client.get(f"/p/{product_id}")
    added = await client.post(
        "/cart/add",
        data={"csrf_token": csrf_of(form), "sku_id": str(sku_id), "market": "GB"},
    )
    assert added.status_code == 303
    cart = text_of((await client.get("/cart")).text)
    # The cart prices each shop's lines with the checkout's own quote (as the pay page).
    assert "Items £12.50" in cart and "Shipping £3.00" in cart
    assert "Total incl. VAT £15.50" in cart

    pay_url = await _buy_now(client, product_id, sku_id)
    pay = text_of((await client.get(pay_url)).text)
    assert "Items £25.00" in pay and "Shipping £3.00" in pay
    assert "VAT (included) £4.67" in pay  # £4.17 on the goods + £0.50 on the shipping
    assert "Total £28.00" in pay and "Pay £28.00" in pay

    order_url = pay_url.removesuffix("/pay")
    order = text_of((await client.get(order_url)).text)
    assert "Shipping £3.00" in order and "Total £28.00" in order
    assert "Free shipping" not in order


async def test_free_shipping_shows_who_paid_it(
    client: httpx.AsyncClient, make_actor: MakeActor, db: Database
) -> None:
    admin, seller = await make_actor(Role.ADMIN), await make_actor(Role.SELLER)
    buyer = await make_actor(Role.BUYER)
    made = await client.post(
        "/api/v1/subsidy-campaigns",
        json={
            "market": "GB",
            "kind": "free_shipping",
            "value": 0,
            "per_order_cap_minor": 300,
            "budget_minor": 3_000,
        },
        headers=admin.headers,
    )
    assert made.status_code == 201, made.text
    product_id, sku_id = await make_product(db, seller, "quay", units=10)
    await page_login(client, buyer)
    pay_url = await _buy_now(client, product_id, sku_id)
    pay = text_of((await client.get(pay_url)).text)
    assert "Shipping £3.00" in pay and "Free shipping (paid by liveshop) −£3.00" in pay
    assert "Total £25.00" in pay
    order_id = int(pay_url.split("/")[2])
    shop_view = await client.get(f"/api/v1/orders/{order_id}", headers=buyer.headers)
    body = shop_view.json()
    assert (body["shipping_minor"], body["shipping_subsidy_minor"], body["total_minor"]) == (
        300,
        300,
        2500,
    )
