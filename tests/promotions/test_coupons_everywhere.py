"""Promotions where a buyer pays, on SQLite and PostgreSQL: a seller's coupon in the room's
quote and buy (a held claim's: tests/live/deals/test_claim_coupons.py); the seller's coupon
list, usage and deactivation; an admin's campaign list, pause and resume — each with who may
do it."""

from __future__ import annotations

from typing import Any

import httpx

from liveshop.accounts.models import Role
from tests.live.helpers import new_session, showcase_product
from tests.support import Actor, MakeActor, assert_problem

CARD = "4242424242424242"
PRICE = 2400  # £24.00; UK shipping £3.00


async def _room(
    client: httpx.AsyncClient, make_actor: MakeActor, slug: str
) -> tuple[Actor, int, int, int]:
    """(seller, shop, live session, sku) with 10 units on show."""
    seller, shop_id, session_id, sku_id, _creator = await room_with_host(client, make_actor, slug)
    return seller, shop_id, session_id, sku_id


async def room_with_host(
    client: httpx.AsyncClient, make_actor: MakeActor, slug: str
) -> tuple[Actor, int, int, int, Actor]:
    """(seller, shop, live session, sku, its creator) with 10 units on show."""
    seller, creator = await make_actor(Role.SELLER), await make_actor(Role.CREATOR)
    product = await showcase_product(client, seller, slug, price_gb=PRICE)
    sku_id = product["skus"][0]["id"]
    got = await client.post(
        f"/api/v1/skus/{sku_id}/stock/receive",
        json={"quantity": 10, "reason": "launch"},
        headers=seller.headers,
    )
    assert got.status_code == 200, got.text
    live = await new_session(client, creator, [product["id"]], start=True)
    return seller, product["shop_id"], live["id"], sku_id, creator


async def _coupon(
    client: httpx.AsyncClient, seller: Actor, shop_id: int, **terms: Any
) -> dict[str, Any]:
    body = {"market": "GB", "kind": "percent_bp", "value": 1000, "code": "SAVE10", **terms}
    made = await client.post(f"/api/v1/shops/{shop_id}/coupons", json=body, headers=seller.headers)
    assert made.status_code == 201, made.text
    coupon: dict[str, Any] = made.json()
    return coupon


def _quote(client: httpx.AsyncClient, session_id: int, who: Actor, **body: Any) -> Any:
    return client.post(f"/api/v1/live/sessions/{session_id}/quote", json=body, headers=who.headers)


async def test_a_coupon_in_the_room_is_quoted_then_charged_and_the_seller_sees_it(
    client: httpx.AsyncClient, make_actor: MakeActor
) -> None:
    seller, shop_id, session_id, sku_id = await _room(client, make_actor, "coupon-room")
    coupon = await _coupon(client, seller, shop_id)
    buyer = await make_actor(Role.BUYER)

    plain = (await _quote(client, session_id, buyer, sku_id=sku_id)).json()
    assert (plain["coupon_minor"], plain["total_minor"]) == (0, PRICE + 300)
    quoted = await _quote(client, session_id, buyer, sku_id=sku_id, coupon_code="save10")
    assert quoted.status_code == 200, quoted.text
    q = quoted.json()
    assert (q["coupon_minor"], q["total_minor"]) == (240, PRICE - 240 + 300)
    assert (q["display"]["coupon"], q["display"]["items_before_coupon"]) == ("£2.40", "£24.00")
    assert_problem(
        await _quote(client, session_id, buyer, sku_id=sku_id, coupon_code="NOPE"),
        422,
        "unknown-coupon",
    )

    bought = await client.post(
        f"/api/v1/live/sessions/{session_id}/buy",
        json={
            "sku_id": sku_id,
            "card_number": CARD,
            "coupon_code": "SAVE10",
            "expected_total_minor": q["total_minor"],
        },
        headers={**buyer.headers, "Idempotency-Key": "coupon-1"},
    )
    assert bought.status_code == 201, bought.text
    order = bought.json()
    assert (order["status"], order["total_minor"]) == ("paid", PRICE - 240 + 300)
    # Once per buyer: the second quote says so.
    again = await _quote(client, session_id, buyer, sku_id=sku_id, coupon_code="SAVE10")
    assert again.status_code in (409, 422) and "used" in again.json()["detail"]

    listed = await client.get(f"/api/v1/shops/{shop_id}/coupons", headers=seller.headers)
    [row] = listed.json()
    assert (row["code"], row["used_count"], row["state"]) == ("SAVE10", 1, "active")
    usage = await client.get(f"/api/v1/coupons/{coupon['id']}/redemptions", headers=seller.headers)
    assert [(u["order_id"], u["amount_minor"]) for u in usage.json()] == [(order["id"], 240)]

    # Another shop's seller and a buyer see and change nothing.
    other = await make_actor(Role.SELLER)
    for who, status in ((other, 403), (buyer, 403)):
        assert_problem(
            await client.get(f"/api/v1/shops/{shop_id}/coupons", headers=who.headers), status
        )
        for method, path in (
            ("GET", f"/api/v1/coupons/{coupon['id']}/redemptions"),
            ("POST", f"/api/v1/coupons/{coupon['id']}/deactivate"),
        ):
            assert_problem(await client.request(method, path, headers=who.headers), status)
    assert_problem(
        await client.post("/api/v1/coupons/999999999/deactivate", headers=seller.headers), 404
    )

    off = await client.post(f"/api/v1/coupons/{coupon['id']}/deactivate", headers=seller.headers)
    assert off.status_code == 200 and off.json()["state"] == "deactivated"
    newcomer = await make_actor(Role.BUYER)
    assert_problem(
        await _quote(client, session_id, newcomer, sku_id=sku_id, coupon_code="SAVE10"),
        422,
        "unknown-coupon",
    )
    # The order that used it keeps its discount.
    kept = await client.get(f"/api/v1/orders/{order['id']}", headers=buyer.headers)
    assert kept.json()["total_minor"] == PRICE - 240 + 300


async def test_an_admin_sees_and_pauses_campaigns(
    client: httpx.AsyncClient, make_actor: MakeActor
) -> None:
    _seller, _shop, session_id, sku_id = await _room(client, make_actor, "campaign-room")
    admin, buyer = await make_actor(Role.ADMIN), await make_actor(Role.BUYER)
    made = await client.post(
        "/api/v1/subsidy-campaigns",
        json={
            "market": "GB",
            "kind": "live_discount_bp",
            "value": 1000,
            "name": "Live week",
            "budget_minor": 100_000,
            "per_order_cap_minor": 10_000,
        },
        headers=admin.headers,
    )
    assert made.status_code == 201, made.text
    cid = made.json()["id"]
    assert (await _quote(client, session_id, buyer, sku_id=sku_id)).json()["subsidy_minor"] == 240

    paused = await client.post(f"/api/v1/subsidy-campaigns/{cid}/pause", headers=admin.headers)
    assert paused.status_code == 200 and paused.json()["paused_at"] is not None
    assert (await _quote(client, session_id, buyer, sku_id=sku_id)).json()["subsidy_minor"] == 0
    listed = await client.get("/api/v1/subsidy-campaigns?market=gb", headers=admin.headers)
    [row] = [c for c in listed.json() if c["id"] == cid]
    assert (row["budget_minor"], row["spent_minor"], row["remaining_minor"]) == (
        100_000,
        0,
        100_000,
    )
    resumed = await client.post(f"/api/v1/subsidy-campaigns/{cid}/resume", headers=admin.headers)
    assert resumed.json()["paused_at"] is None
    assert (await _quote(client, session_id, buyer, sku_id=sku_id)).json()["subsidy_minor"] == 240

    for path in ("", f"/{cid}/pause", f"/{cid}/resume"):
        method = "GET" if not path else "POST"
        resp = await client.request(
            method, f"/api/v1/subsidy-campaigns{path}", headers=buyer.headers
        )
        assert_problem(resp, 403)
