"""The address book page (/account/addresses) and "Deliver to" on the pay, order and seller's
order pages, over HTTP on both databases."""

from __future__ import annotations

import httpx

from liveshop.accounts.models import Role
from liveshop.core.db import Database
from tests.addresses.examples import address
from tests.support import MakeActor
from tests.web.test_pages import KEY, csrf_of, make_product, page_login


async def test_address_book_page_and_deliver_to(
    client: httpx.AsyncClient, make_actor: MakeActor, db: Database
) -> None:
    seller = await make_actor(Role.SELLER)
    product_id, sku_id = await make_product(db, seller, "addr-shop")
    buyer = await make_actor(Role.BUYER)
    await page_login(client, buyer)
    page = await client.get("/account/addresses")
    assert page.status_code == 200 and "No addresses yet" in page.text

    bad = await client.post(
        "/account/addresses",
        data={"csrf_token": csrf_of(page), **address("GB", postal_code="XX")},
    )
    assert bad.status_code == 200
    assert "Postcode / ZIP is not valid in this country" in bad.text
    assert 'value="10 Downing Street"' in bad.text or "10 Downing Street</textarea>" in bad.text

    saved = await client.post(
        "/account/addresses", data={"csrf_token": csrf_of(page), **address("GB")}
    )
    assert saved.status_code == 303
    page = await client.get("/account/addresses")
    assert "SW1A 2AA" in page.text and "Default in GB" in page.text

    product = await client.get(f"/p/{product_id}")
    key = KEY.search(product.text)
    assert key is not None
    placed = await client.post(
        "/buy",
        data={
            "csrf_token": csrf_of(product),
            "idempotency_key": key.group(1),
            "market": "GB",
            "sku_id": str(sku_id),
        },
    )
    pay_page = await client.get(placed.headers["location"])
    assert "Deliver to" in pay_page.text and "10 Downing Street" in pay_page.text
    order_id = placed.headers["location"].split("/")[2]
    assert "SW1A 2AA" in (await client.get(f"/orders/{order_id}")).text

    client.cookies.clear()
    await page_login(client, seller)
    seller_page = await client.get(f"/seller/orders/{order_id}")
    assert seller_page.status_code == 200 and "10 Downing Street" in seller_page.text
