"""Earnings pages over HTTP on both databases: the creator's studio earnings, the show's
panel and the seller's creator costs, with who may open them."""

from __future__ import annotations

import re

import httpx

from liveshop.accounts.models import Role
from liveshop.affiliates import contracts
from liveshop.core.db import Database
from tests.shopfront import MakeShopfront, buy, end_session, open_plan, start_session
from tests.support import Actor, MakeActor


def kpi(page: httpx.Response, name: str) -> str:
    found = re.search(rf'data-kpi="{name}">([^<]*)<', page.text)
    assert found, page.text[:500]
    return found.group(1)


async def _one_show(
    client: httpx.AsyncClient, db: Database, shopfront: MakeShopfront, make_actor: MakeActor
) -> tuple[Actor, int, Actor, int]:
    """A creator with a £1,500 base fee (60 min), a 12 % plan, a 90-minute show and one
    paid £24.00 order in it: (creator, live session id, seller, shop id)."""
    creator, buyer = await make_actor(Role.CREATOR), await make_actor(Role.BUYER)
    shop = await shopfront()
    async with db.session() as s:
        await contracts.create_contract(
            s, creator_id=creator.id, currency="GBP", base_fee_minor=150_000, min_live_minutes=60
        )
    plan = await open_plan(client, shop, [{"product_id": shop.product_id, "rate_bp": 1200}])
    assert plan.status_code == 201, plan.text
    live_id = await start_session(db, creator.id)
    await buy(client, buyer, shop.sku_id, live_session_id=live_id)
    await end_session(db, live_id, minutes=90)
    return creator, live_id, shop.seller, shop.shop_id


async def test_creator_sees_their_earnings_and_no_one_else_does(
    client: httpx.AsyncClient,
    db: Database,
    make_shopfront: MakeShopfront,
    make_actor: MakeActor,
) -> None:
    creator, live_id, _, _ = await _one_show(client, db, make_shopfront, make_actor)

    page = await client.get("/studio/earnings", headers=creator.headers)
    assert page.status_code == 200, page.text
    # Base fee £1,500 (90 min ≥ 60) + 12 % of £20.00 net = £2.40, still in the return window.
    assert kpi(page, "total") == "£1,502.40"
    assert kpi(page, "commission-pending") == "£2.40"
    assert kpi(page, "commission-payable") == "£0.00"
    assert kpi(page, "fees-earned") == "£1,500.00"
    assert kpi(page, "fees-pending") == "£0.00"
    assert kpi(page, "per-hour") == "£1,001.60"  # 150,240 × 60 ÷ 90
    row = page.text.split(f'id="show-{live_id}"', 1)[1].split("</tr>", 1)[0]
    assert "Glow hour" in row and "1 h 30 min" in row and "£24.00" in row and "Earned" in row
    assert '<svg class="chart"' in page.text and "Earnings per show" in page.text
    assert 'href="/studio/earnings"' in (await client.get("/studio", headers=creator.headers)).text

    show = await client.get(f"/studio/sessions/{live_id}", headers=creator.headers)
    assert show.status_code == 200, show.text
    assert "Your earnings this show" in show.text
    assert 'data-earnings="projected">£1,502.40<' in show.text

    other, buyer = await make_actor(Role.CREATOR), await make_actor(Role.BUYER)
    theirs = await client.get(f"/studio/sessions/{live_id}", headers=other.headers)
    assert theirs.status_code in (403, 404) and "£1,502.40" not in theirs.text
    empty = await client.get("/studio/earnings", headers=other.headers)
    assert empty.status_code == 200 and "No earnings yet" in empty.text
    assert "£1,502.40" not in empty.text
    denied = await client.get("/studio/earnings", headers=buyer.headers)
    assert denied.status_code == 403 and "£" not in denied.text


async def test_seller_sees_creator_costs_of_their_shop_only(
    client: httpx.AsyncClient,
    db: Database,
    make_shopfront: MakeShopfront,
    make_actor: MakeActor,
) -> None:
    _, live_id, seller, shop_id = await _one_show(client, db, make_shopfront, make_actor)

    page = await client.get(f"/seller/creator-costs?shop={shop_id}", headers=seller.headers)
    assert page.status_code == 200, page.text
    row = page.text.split(f'id="cost-{live_id}"', 1)[1].split("</tr>", 1)[0]
    cells = re.findall(r'class="num">(?:<b>)?([^<]*)<', row)
    # orders, GMV, commission, platform-paid base fee, total, share of GMV
    assert cells == ["1", "£24.00", "£2.40", "£1,500.00", "£1,502.40", "6260.00 %"]
    assert '<svg class="chart"' in page.text
    assert 'href="/seller/creator-costs?shop=' in page.text

    stranger = (await make_shopfront()).seller
    resp = await client.get(f"/seller/creator-costs?shop={shop_id}", headers=stranger.headers)
    assert resp.status_code == 403 and "£24.00" not in resp.text
    own = await client.get("/seller/creator-costs", headers=stranger.headers)
    assert own.status_code == 200 and "No creator sales yet" in own.text
