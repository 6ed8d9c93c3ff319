"""A commission becomes payable once the goods are delivered and the order's market's return
window has passed: 7 days in Vietnam, 14 in the UK (admin-editable per market)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import httpx

from liveshop.accounts.models import Role
from liveshop.core.clock import utcnow
from liveshop.core.db import Database
from liveshop.creators import order_facts
from tests.creators.conftest import MakeShopfront, buy, deliver, open_plan, start_session
from tests.orders.conftest import add_sku
from tests.support import Actor, MakeActor, assert_problem


async def commission(client: httpx.AsyncClient, creator: Actor, live_id: int) -> tuple[int, int]:
    """(pending, payable) as the creator's studio shows it for one session."""
    resp = await client.get(
        f"/api/v1/creators/me/sessions/{live_id}/earnings", headers=creator.headers
    )
    assert resp.status_code == 200, resp.text
    e: dict[str, Any] = resp.json()
    return e["commission_pending_minor"], e["commission_payable_minor"]


async def test_payable_after_delivery_plus_the_markets_return_window(
    client: httpx.AsyncClient, db: Database, make_shopfront: MakeShopfront, make_actor: MakeActor
) -> None:
    admin, creator, buyer = (
        await make_actor(Role.ADMIN),
        await make_actor(Role.CREATOR),
        await make_actor(Role.BUYER),
    )
    shop = await make_shopfront()
    # £24.00 in GB (net £20.00), 275,000 ₫ in VN (10 % VAT inside: net 250,000 ₫).
    sku = await add_sku(
        db,
        shop.shop_id,
        title="Glow duo",
        category="beauty",
        prices={"GB": ("GBP", 2400), "VN": ("VND", 275_000)},
        stock=10,
    )
    made = await open_plan(client, shop, [{"category": "beauty", "rate_bp": 1000}])
    assert made.status_code == 201, made.text
    markets = {m["code"]: m for m in (await client.get("/api/v1/markets")).json()}
    assert (markets["GB"]["return_window_days"], markets["VN"]["return_window_days"]) == (14, 7)

    gb_live = await start_session(db, creator.id)
    vn_live = await start_session(db, creator.id, market="VN")
    gb = await buy(client, buyer, sku, live_session_id=gb_live)
    vn = await buy(client, buyer, sku, live_session_id=vn_live, market="VN")
    assert await commission(client, creator, gb_live) == (200, 0)
    assert await commission(client, creator, vn_live) == (25_000, 0)

    # Delivered 6 days ago: both windows still open.
    await deliver(client, db, shop, gb["id"], days_ago=6)
    await deliver(client, db, shop, vn["id"], days_ago=6)
    assert await commission(client, creator, gb_live) == (200, 0)
    assert await commission(client, creator, vn_live) == (25_000, 0)

    # 8 days after delivery: Vietnam's 7 days are over, the UK's 14 are not.
    async with db.session() as s:
        at = utcnow() + timedelta(days=2)
        states = await order_facts.accrual_by_order(s, [gb["id"], vn["id"]], now=at)
    assert {oid: state for oid, (state, _) in states.items()} == {
        gb["id"]: order_facts.PENDING,
        vn["id"]: order_facts.PAYABLE,
    }
    async with db.session() as s:
        later = utcnow() + timedelta(days=8, minutes=1)  # 14 days and a minute after delivery
        states = await order_facts.accrual_by_order(s, [gb["id"]], now=later)
    assert states[gb["id"]][0] == order_facts.PAYABLE

    # The admin shortens the UK window to 5 days: the GB order (delivered 6 days ago) is
    # payable now; Vietnam going to 30 days puts its order back to pending.
    for code, days in (("GB", 5), ("VN", 30)):
        changed = await client.patch(
            f"/api/v1/markets/{code}", json={"return_window_days": days}, headers=admin.headers
        )
        assert changed.status_code == 200, changed.text
        assert changed.json()["return_window_days"] == days
    assert await commission(client, creator, gb_live) == (0, 200)
    assert await commission(client, creator, vn_live) == (25_000, 0)


async def test_only_admins_set_the_return_window_and_only_sensible_values(
    client: httpx.AsyncClient, make_actor: MakeActor
) -> None:
    admin, seller = await make_actor(Role.ADMIN), await make_actor(Role.SELLER)
    url = "/api/v1/markets/TH"
    assert_problem(await client.patch(url, json={"return_window_days": 10}), 401)
    refused = await client.patch(url, json={"return_window_days": 10}, headers=seller.headers)
    assert_problem(refused, 403, "wrong-role")
    for bad in (-1, 366, 100_000, 7.5, "a week", None):
        resp = await client.patch(url, json={"return_window_days": bad}, headers=admin.headers)
        if bad is None:
            assert resp.status_code == 200  # null: unchanged
            continue
        assert_problem(resp, 422)
    assert (await client.get(url)).json()["return_window_days"] == 7
    ok = await client.patch(url, json={"return_window_days": 0}, headers=admin.headers)
    assert ok.status_code == 200 and ok.json()["return_window_days"] == 0
