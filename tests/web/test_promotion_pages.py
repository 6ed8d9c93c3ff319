"""Promotion pages on both databases: a seller creates a coupon, a buyer applies it in the
cart and sees the discount before paying, the seller reads its usage and deactivates it; an
admin creates and pauses a campaign — and the wrong people get 403."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import httpx

from liveshop.accounts.models import Role
from liveshop.core.db import Database
from tests.support import Actor, MakeActor
from tests.web.test_pages import KEY, csrf_of, make_product, page_login


@asynccontextmanager
async def signed_in(app: Any, actor: Actor) -> AsyncIterator[tuple[httpx.AsyncClient, str]]:
    """A browser-like client signed in as ``actor`` through the login form, and its CSRF."""
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as c:
        await page_login(c, actor)
        yield c, csrf_of(await c.get("/"))


def _find(pattern: str, text: str) -> int:
    found = re.search(pattern, text)
    assert found, pattern
    return int(found.group(1))


def _text(page: httpx.Response) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", page.text))


async def test_a_coupon_from_the_seller_center_to_the_buyers_cart(
    app: Any, db: Database, make_actor: MakeActor
) -> None:
    seller, buyer, other = (
        await make_actor(Role.SELLER),
        await make_actor(Role.BUYER),
        await make_actor(Role.SELLER),
    )
    _product, sku_id = await make_product(db, seller, "couponmugs")
    async with signed_in(app, seller) as (s, token):
        page = await s.get("/seller/coupons")
        assert page.status_code == 200
        shop_id = _find(r'name="shop_id" value="(\d+)"', page.text)
        made = await s.post(
            "/seller/coupons",
            data={
                "csrf_token": token,
                "shop_id": shop_id,
                "market": "GB",
                "kind": "percent_bp",
                "amount": "10",
                "code": "save10",
                "per_buyer_limit": 1,
            },
        )
        assert made.status_code == 303
        listing = _text(await s.get(f"/seller/coupons?shop={shop_id}"))
        assert "SAVE10" in listing and "10 % off" in listing and "active" in listing
        coupon_id = _find(r'href="/seller/coupons/(\d+)"', (await s.get("/seller/coupons")).text)

    async with signed_in(app, buyer) as (b, token):
        await b.post("/cart/add", data={"csrf_token": token, "sku_id": sku_id, "market": "GB"})
        wrong = _text(await b.get(f"/cart?market=GB&coupon_shop={shop_id}&coupon=NOPE"))
        assert "does not exist" in wrong and "£15.50" in wrong  # £12.50 + £3.00 shipping
        cart = await b.get(f"/cart?market=GB&coupon_shop={shop_id}&coupon=save10")
        shown = _text(cart)
        assert "Coupon SAVE10" in shown and "−£1.25" in shown and "£14.25" in shown
        assert "null" not in shown and "None" not in shown
        placed = await b.post(
            "/checkout",
            data={
                "csrf_token": token,
                "market": "GB",
                "shop_id": shop_id,
                "idempotency_key": KEY.findall(cart.text)[0],
                "coupon_code": "SAVE10",
                "expected_total_minor": 1425,
            },
        )
        assert placed.status_code == 303, placed.text
        pay_path = placed.headers["location"]
        pay = _text(await b.get(pay_path))
        assert "Coupon SAVE10" in pay and "−£1.25" in pay and "£14.25" in pay
        order_id = int(pay_path.split("/")[2])

    async with signed_in(app, other) as (o, token):
        assert (await o.get(f"/seller/coupons/{coupon_id}")).status_code == 403
        await o.post(f"/seller/coupons/{coupon_id}/deactivate", data={"csrf_token": token})
    async with signed_in(app, buyer) as (b, _token):
        assert (await b.get("/seller/coupons")).status_code == 403

    async with signed_in(app, seller) as (s, token):
        usage = _text(await s.get(f"/seller/coupons/{coupon_id}"))
        assert f"#{order_id}" in usage and "Discount given: £1.25" in usage
        off = await s.post(f"/seller/coupons/{coupon_id}/deactivate", data={"csrf_token": token})
        assert off.status_code == 303
        assert "deactivated" in _text(await s.get(f"/seller/coupons?shop={shop_id}"))


async def test_an_admin_runs_and_pauses_a_campaign(app: Any, make_actor: MakeActor) -> None:
    admin, seller = await make_actor(Role.ADMIN), await make_actor(Role.SELLER)
    async with signed_in(app, admin) as (a, token):
        made = await a.post(
            "/admin/campaigns",
            data={
                "csrf_token": token,
                "market": "GB",
                "kind": "free_shipping",
                "name": "Ship free in May",
                "value": "3",
                "budget": "1,000.00",
                "per_order_cap": "3",
            },
        )
        assert made.status_code == 303, made.text
        page = await a.get("/admin/campaigns?market=GB")
        shown = _text(page)
        assert "Ship free in May" in shown and "£1,000.00" in shown and "running" in shown
        cid = _find(r'id="campaign-(\d+)"', page.text)
        paused = await a.post(f"/admin/campaigns/{cid}/pause", data={"csrf_token": token})
        assert paused.status_code == 303
        assert "paused" in _text(await a.get("/admin/campaigns"))
        resumed = await a.post(f"/admin/campaigns/{cid}/resume", data={"csrf_token": token})
        assert resumed.status_code == 303
    async with signed_in(app, seller) as (s, token):
        assert (await s.get("/admin/campaigns")).status_code == 403
        await s.post(f"/admin/campaigns/{cid}/pause", data={"csrf_token": token})
    async with signed_in(app, admin) as (a, _token):
        assert "running" in _text(await a.get("/admin/campaigns?market=GB"))
