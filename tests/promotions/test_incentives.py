"""Platform subsidies (budget never exceeded, even concurrently) and seller coupons: who pays
each discount shows in the ledger."""

from __future__ import annotations

import asyncio
from typing import Any

import httpx
from sqlalchemy import func, select

from liveshop.accounts.models import Role
from liveshop.core.db import Database
from liveshop.ledger import service as ledger
from liveshop.ledger.models import AccountType
from liveshop.orders.models import Order
from liveshop.promotions.models import SubsidyCampaign, SubsidyClaim
from tests.shopfront import MakeShopfront, buy, new_campaign, order_financials, start_session
from tests.support import MakeActor, assert_problem


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
    assert plain["subsidy_minor"] == 0 and plain["total_minor"] == 2400 + 300  # + shipping
    live_id = await start_session(db, creator.id)
    order = await buy(client, buyer, shop.sku_id, live_session_id=live_id)
    assert order["subsidy_minor"] == 240 and order["total_minor"] == 2160 + 300
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
    # £24.00: VAT 400, platform 5 % of 2000 = 100 → seller 1900 on both orders, and the £3.00
    # shipping less its £0.50 VAT.
    assert seller == 2 * (1900 + 250)

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
    assert discounted["subsidy_minor"] == 0 and discounted["total_minor"] == 1800 + 300
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


async def balances(db: Database, shop_id: int) -> dict[str, int]:
    """What the platform spent, the shop and HMRC are owed, and the buyers' money holds."""
    async with db.session(deferred=True) as s:

        async def of(t: AccountType, party: str) -> int:
            return await ledger.balance(s, ledger.AccountKey(t, party, "GBP"))

        assert await ledger.is_balanced(s)
        return {
            "subsidy": await of(AccountType.PLATFORM_SUBSIDY_EXPENSE, "market:GB"),
            "seller": -await of(AccountType.SELLER_PAYABLE, f"shop:{shop_id}"),
            "tax": -await of(AccountType.TAX_PAYABLE, "market:GB"),
            "buyers": await of(AccountType.PAYMENT_CLEARING, "provider:sandbox"),
        }


async def test_free_shipping_is_paid_by_the_platform_up_to_the_cap(
    client: httpx.AsyncClient,
    db: Database,
    make_shopfront: MakeShopfront,
    make_actor: MakeActor,
) -> None:
    admin, buyer = await make_actor(Role.ADMIN), await make_actor(Role.BUYER)
    shop = await make_shopfront()
    made = await new_campaign(
        client, admin, kind="free_shipping", value=0, per_order_cap_minor=300, budget_minor=600
    )
    assert made.status_code == 201, made.text

    # The UK's £3.00 shipping (£0.50 VAT): the buyer pays only the goods.
    free = await buy(client, buyer, shop.sku_id, quantity=2)
    assert (free["items_minor"], free["shipping_minor"]) == (4800, 300)
    assert (free["shipping_subsidy_minor"], free["subsidy_minor"]) == (300, 0)
    assert free["total_minor"] == 4800
    # The seller, who ships, still gets the whole fee net of VAT; the platform funds it.
    assert await balances(db, shop.shop_id) == {
        "subsidy": 300,
        "seller": 2 * 1900 + 250,
        "tax": 2 * 400 + 50,
        "buyers": 4800,
    }
    page = await client.get(f"/api/v1/orders/{free['id']}", headers=buyer.headers)
    assert page.json()["shipping_subsidy_minor"] == 300

    # Refunding one of two units gives back half the shipping: the buyer half of what they
    # paid for it (nothing), the platform half of its subsidy.
    line = free["lines"][0]["id"]
    refunded = await client.post(
        f"/api/v1/orders/{free['id']}/refunds",
        json={"lines": [{"line_id": line, "quantity": 1}]},
        headers=shop.seller.headers,
    )
    assert refunded.status_code == 200, refunded.text
    assert refunded.json()["refunded_minor"] == 2400
    assert await balances(db, shop.shop_id) == {
        "subsidy": 150,
        "seller": 1900 + 125,
        "tax": 400 + 25,
        "buyers": 2400,
    }

    # The refund gives the campaign back the half of the subsidy it reversed (150 of 300);
    # the second order takes 300 more (450), so the 150 left cannot pay the third's shipping.
    second = await buy(client, buyer, shop.sku_id)
    assert (second["shipping_subsidy_minor"], second["total_minor"]) == (300, 2400)
    third = await buy(client, buyer, shop.sku_id)
    assert (third["shipping_subsidy_minor"], third["total_minor"]) == (0, 2700)
    async with db.session(deferred=True) as s:
        campaign = await s.get(SubsidyCampaign, made.json()["id"])
        assert campaign is not None and campaign.spent_minor == 450

    # A cap below the fee pays part of it; the buyer pays the rest.
    capped = await new_campaign(
        client, admin, kind="free_shipping", value=0, per_order_cap_minor=120, budget_minor=10_000
    )
    assert capped.status_code == 201, capped.text
    part = await buy(client, buyer, shop.sku_id)
    assert (part["shipping_subsidy_minor"], part["total_minor"]) == (120, 2400 + 180)


async def test_free_shipping_budget_holds_under_concurrent_checkouts(
    client: httpx.AsyncClient,
    db: Database,
    make_shopfront: MakeShopfront,
    make_actor: MakeActor,
) -> None:
    admin = await make_actor(Role.ADMIN)
    shop = await make_shopfront(stock=100)
    buyers = [await make_actor(Role.BUYER) for _ in range(4)]
    made = await new_campaign(
        client, admin, kind="free_shipping", value=0, per_order_cap_minor=300, budget_minor=2_700
    )
    assert made.status_code == 201, made.text

    async def checkout(n: int) -> dict[str, Any]:
        buyer = buyers[n % len(buyers)]
        resp = await client.post(
            "/api/v1/checkout",
            json={"market": "GB", "lines": [{"sku_id": shop.sku_id, "quantity": 1}]},
            headers={**buyer.headers, "Idempotency-Key": f"ship-{n}"},
        )
        assert resp.status_code == 201, resp.text
        body: dict[str, Any] = resp.json()
        return body

    placed = await asyncio.gather(*(checkout(n) for n in range(40)))
    paid_for = sorted((o["shipping_subsidy_minor"] for o in placed), reverse=True)
    assert paid_for[:10] == [300] * 9 + [0]  # a budget for exactly 9 orders' shipping
    assert sum(paid_for) == 2_700
    assert all(o["total_minor"] == 2700 - o["shipping_subsidy_minor"] for o in placed)

    # An unpaid order that is cancelled gives its shipping subsidy back to the budget.
    funded = next(o for o in placed if o["shipping_subsidy_minor"] == 300)
    owner = next(b for b in buyers if b.id == funded["buyer_id"])
    cancelled = await client.post(
        f"/api/v1/orders/{funded['id']}/cancel", json={"reason": "oops"}, headers=owner.headers
    )
    assert cancelled.status_code == 200, cancelled.text
    async with db.session(deferred=True) as s:
        campaign = await s.get(SubsidyCampaign, made.json()["id"])
        assert campaign is not None and campaign.spent_minor == 2_400
        claims = await s.scalar(
            select(func.sum(SubsidyClaim.amount_minor - SubsidyClaim.returned_minor)).where(
                SubsidyClaim.campaign_id == campaign.id
            )
        )
        assert claims == 2_400
