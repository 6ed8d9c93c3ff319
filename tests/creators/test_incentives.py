"""Platform subsidies (budget never exceeded, even concurrently) and seller coupons: who pays
each discount shows in the ledger."""

from __future__ import annotations

import asyncio
from typing import Any

import httpx
from sqlalchemy import func, select

from liveshop.accounts.models import Role
from liveshop.core.db import Database
from liveshop.creators.models import SubsidyCampaign, SubsidyClaim
from liveshop.ledger import service as ledger
from liveshop.ledger.models import AccountType
from liveshop.orders.models import Order
from tests.creators.conftest import MakeShopfront, buy, order_financials, start_session
from tests.support import Actor, MakeActor, assert_problem


async def new_campaign(client: httpx.AsyncClient, admin: Actor, **terms: Any) -> httpx.Response:
    body = {"market": "GB", "per_order_cap_minor": 10_000, **terms}
    return await client.post("/api/v1/subsidy-campaigns", json=body, headers=admin.headers)


async def test_bad_campaign_terms(client: httpx.AsyncClient, make_actor: MakeActor) -> None:
    admin = await make_actor(Role.ADMIN)
    seller = await make_actor(Role.SELLER)
    bad = [
        ({"kind": "live_discount_bp", "value": 10_001, "budget_minor": 1}, "bad-rate"),
        ({"kind": "fixed_discount_minor", "value": 100, "budget_minor": -1}, "bad-amount"),
        (
            {
                "kind": "fixed_discount_minor",
                "value": 100,
                "budget_minor": 1,
                "valid_from": "2020-01-01T00:00:00Z",
            },
            "effective-date-in-past",
        ),
    ]
    for terms, code in bad:
        assert_problem(await new_campaign(client, admin, **terms), 422, code)
    resp = await new_campaign(client, seller, kind="fixed_discount_minor", value=1, budget_minor=1)
    assert_problem(resp, 403)


async def test_budget_for_ten_orders_funds_exactly_ten_of_a_hundred_concurrent(
    client: httpx.AsyncClient,
    db: Database,
    make_shopfront: MakeShopfront,
    make_actor: MakeActor,
) -> None:
    admin = await make_actor(Role.ADMIN)
    shop = await make_shopfront(stock=200)
    buyers = [await make_actor(Role.BUYER) for _ in range(4)]
    made = await new_campaign(
        client,
        admin,
        kind="fixed_discount_minor",
        value=500,
        per_order_cap_minor=500,
        budget_minor=5_000,
    )
    assert made.status_code == 201, made.text

    async def checkout(n: int) -> int:
        buyer = buyers[n % len(buyers)]
        resp = await client.post(
            "/api/v1/checkout",
            json={"market": "GB", "lines": [{"sku_id": shop.sku_id, "quantity": 1}]},
            headers={**buyer.headers, "Idempotency-Key": f"rush-{n}"},
        )
        assert resp.status_code == 201, resp.text
        return int(resp.json()["subsidy_minor"])

    subsidies = await asyncio.gather(*(checkout(n) for n in range(100)))
    assert sorted(subsidies, reverse=True)[:11] == [500] * 10 + [0]
    assert sum(subsidies) == 5_000
    async with db.session(deferred=True) as s:
        campaign = await s.get(SubsidyCampaign, made.json()["id"])
        assert campaign is not None and campaign.spent_minor == 5_000
        claims = await s.scalar(select(func.count()).select_from(SubsidyClaim))
        assert claims == 10
        funded = await s.scalar(
            select(func.count()).select_from(Order).where(Order.subsidy_minor == 500)
        )
        assert funded == 10


async def test_live_subsidy_is_platform_money_and_a_coupon_is_the_sellers(
    client: httpx.AsyncClient,
    db: Database,
    make_shopfront: MakeShopfront,
    make_actor: MakeActor,
) -> None:
    admin = await make_actor(Role.ADMIN)
    creator = await make_actor(Role.CREATOR)
    buyer = await make_actor(Role.BUYER)
    shop = await make_shopfront()
    r = await new_campaign(
        client,
        admin,
        kind="live_discount_bp",
        value=1000,
        per_order_cap_minor=300,
        budget_minor=100_000,
    )
    assert r.status_code == 201, r.text
    # Off-live: the live discount does not apply.
    plain = await buy(client, buyer, shop.sku_id)
    assert plain["subsidy_minor"] == 0 and plain["total_minor"] == 2400
    live_id = await start_session(db, creator.id)
    order = await buy(client, buyer, shop.sku_id, live_session_id=live_id)
    assert order["subsidy_minor"] == 240 and order["total_minor"] == 2160
    full = await order_financials(client, shop.seller, order["id"])
    assert full["lines"][0]["seller_net_minor"] == 1900  # the seller keeps the full net
    async with db.session(deferred=True) as s:
        expense = await ledger.balance(
            s, ledger.AccountKey(AccountType.PLATFORM_SUBSIDY_EXPENSE, "market:GB", "GBP")
        )
        assert expense == 240  # the platform paid the discount
        seller = ledger.owed_to_party(
            await ledger.balance(
                s, ledger.AccountKey(AccountType.SELLER_PAYABLE, f"shop:{shop.shop_id}", "GBP")
            )
        )
    # £24.00: VAT 400, platform 5 % of 2000 = 100 → seller 1900 on both orders.
    assert seller == 2 * 1900

    coupon = await client.post(
        f"/api/v1/shops/{shop.shop_id}/coupons",
        json={"market": "GB", "kind": "percent_bp", "value": 2500, "code": "glow25"},
        headers=shop.seller.headers,
    )
    assert coupon.status_code == 201, coupon.text
    discounted = await buy(client, buyer, shop.sku_id, coupon_code="GLOW25")
    # 25 % off £24.00 → £18.00: VAT 300, platform 75, seller 1425; the platform pays nothing.
    line = (await order_financials(client, shop.seller, discounted["id"]))["lines"][0]
    assert (line["gross_minor"], line["tax_minor"]) == (1800, 300)
    assert (line["platform_commission_minor"], line["seller_net_minor"]) == (75, 1425)
    assert discounted["subsidy_minor"] == 0 and discounted["total_minor"] == 1800
    async with db.session(deferred=True) as s:
        expense = await ledger.balance(
            s, ledger.AccountKey(AccountType.PLATFORM_SUBSIDY_EXPENSE, "market:GB", "GBP")
        )
        assert expense == 240
        assert await ledger.is_balanced(s)
    # One use per buyer; unknown codes are refused.
    again = await client.post(
        "/api/v1/checkout",
        json={
            "market": "GB",
            "lines": [{"sku_id": shop.sku_id, "quantity": 1}],
            "coupon_code": "GLOW25",
        },
        headers={**buyer.headers, "Idempotency-Key": "again"},
    )
    assert_problem(again, 409, "coupon-used-up")
    unknown = await client.post(
        "/api/v1/checkout",
        json={
            "market": "GB",
            "lines": [{"sku_id": shop.sku_id, "quantity": 1}],
            "coupon_code": "NOPE",
        },
        headers={**buyer.headers, "Idempotency-Key": "nope"},
    )
    assert_problem(unknown, 422, "unknown-coupon")
