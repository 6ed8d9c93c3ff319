"""Affiliate plans, the rate in force at purchase, and who an order is attributed to."""

from __future__ import annotations

from datetime import timedelta

import httpx
from sqlalchemy import update

from liveshop.accounts.models import Role
from liveshop.affiliates import rates
from liveshop.affiliates.models import AttributionClick
from liveshop.core.clock import utcnow
from liveshop.core.db import Database
from liveshop.ledger import service as ledger
from liveshop.ledger.models import AccountType
from tests.shopfront import (
    MakeShopfront,
    buy,
    open_plan,
    order_financials,
    start_session,
)
from tests.support import MakeActor, assert_problem


async def test_bad_terms_are_refused_with_problems(
    client: httpx.AsyncClient, make_shopfront: MakeShopfront, make_actor: MakeActor
) -> None:
    shop = await make_shopfront()
    creator = await make_actor(Role.CREATOR)
    item = {"product_id": shop.product_id}
    assert_problem(await open_plan(client, shop, [{**item, "rate_bp": -1}]), 422, "bad-rate")
    assert_problem(await open_plan(client, shop, [{**item, "rate_bp": 10_001}]), 422, "bad-rate")
    past = (utcnow() - timedelta(days=1)).isoformat()
    assert_problem(
        await open_plan(client, shop, [{**item, "rate_bp": 500}], valid_from=past),
        422,
        "effective-date-in-past",
    )
    assert_problem(
        await open_plan(client, shop, [{**item, "rate_bp": 500}], kind="targeted"),
        422,
        "targeted-needs-creators",
    )
    first = await open_plan(
        client, shop, [{**item, "rate_bp": 1500}], kind="targeted", creator_ids=[creator.id]
    )
    assert first.status_code == 201, first.text
    # Same creator, same product, overlapping period: which rate would apply is ambiguous.
    assert_problem(
        await open_plan(
            client, shop, [{**item, "rate_bp": 1800}], kind="targeted", creator_ids=[creator.id]
        ),
        409,
        "overlapping-plan",
    )
    # After the first one ends it is fine.
    later = (utcnow() + timedelta(days=30)).isoformat()
    end = await client.post(
        f"/api/v1/affiliate-plans/{first.json()['id']}/end",
        json={"at": (utcnow() + timedelta(days=10)).isoformat()},
        headers=shop.seller.headers,
    )
    assert end.status_code == 200, end.text
    ok = await open_plan(
        client,
        shop,
        [{**item, "rate_bp": 1800}],
        kind="targeted",
        creator_ids=[creator.id],
        valid_from=later,
    )
    assert ok.status_code == 201, ok.text
    # Another shop's seller cannot touch this shop's plans.
    other = await make_shopfront()
    resp = await client.post(
        f"/api/v1/shops/{shop.shop_id}/affiliate-plans",
        json={"kind": "open", "items": [{**item, "rate_bp": 100}]},
        headers=other.seller.headers,
    )
    assert_problem(resp, 403)


async def test_targeted_beats_open_and_product_beats_category(
    client: httpx.AsyncClient,
    db: Database,
    make_shopfront: MakeShopfront,
    make_actor: MakeActor,
) -> None:
    shop = await make_shopfront()
    star, other = await make_actor(Role.CREATOR), await make_actor(Role.CREATOR)
    r = await open_plan(
        client,
        shop,
        [{"category": "beauty", "rate_bp": 800}, {"product_id": shop.product_id, "rate_bp": 1000}],
    )
    assert r.status_code == 201, r.text
    r = await open_plan(
        client,
        shop,
        [{"category": "beauty", "rate_bp": 1200}],
        kind="targeted",
        creator_ids=[star.id],
    )
    assert r.status_code == 201, r.text
    now = utcnow()
    async with db.session(deferred=True) as s:

        async def rate(creator_id: int, product_id: int, category: str) -> int:
            return await rates.commission_rate_bp(
                s,
                creator_id=creator_id,
                product_id=product_id,
                category=category,
                shop_id=shop.shop_id,
                at=now,
            )

        assert await rate(star.id, shop.product_id, "beauty") == 1200  # targeted wins
        assert await rate(other.id, shop.product_id, "beauty") == 1000  # product over category
        assert await rate(other.id, 999_999, "beauty") == 800
        assert await rate(other.id, shop.other_product_id, "fashion") == 0  # no plan
        assert await rate(star.id, shop.product_id, "beauty") == 1200
        # Before the plans existed nothing applied.
        assert await rate(star.id, shop.product_id, "beauty") != 0
        before = now - timedelta(hours=1)
        assert (
            await rates.commission_rate_bp(
                s,
                creator_id=star.id,
                product_id=shop.product_id,
                category="beauty",
                shop_id=shop.shop_id,
                at=before,
            )
            == 0
        )


async def test_live_session_order_carries_the_rate_at_purchase(
    client: httpx.AsyncClient,
    db: Database,
    make_shopfront: MakeShopfront,
    make_actor: MakeActor,
) -> None:
    shop = await make_shopfront()
    creator = await make_actor(Role.CREATOR)
    buyer = await make_actor(Role.BUYER)
    r = await open_plan(client, shop, [{"product_id": shop.product_id, "rate_bp": 1200}])
    assert r.status_code == 201
    session_id = await start_session(db, creator.id)
    order = await buy(client, buyer, shop.sku_id, live_session_id=session_id)
    assert order["creator_id"] == creator.id and order["live_session_id"] == session_id
    full = await order_financials(client, shop.seller, order["id"])
    line = full["lines"][0]
    # £24.00 incl. VAT: net 2000; 12 % → 240.
    assert line["creator_commission_minor"] == 240
    # A product with no plan in the same order earns nothing.
    mixed = await client.post(
        "/api/v1/checkout",
        json={
            "market": "GB",
            "lines": [
                {"sku_id": shop.sku_id, "quantity": 1},
                {"sku_id": shop.other_sku_id, "quantity": 1},
            ],
            "attribution": {"live_session_id": session_id},
        },
        headers={**buyer.headers, "Idempotency-Key": "mixed"},
    )
    assert mixed.status_code == 201, mixed.text
    lines = (await order_financials(client, shop.seller, mixed.json()["id"]))["lines"]
    by_sku = {ln["sku_id"]: ln["creator_commission_minor"] for ln in lines}
    assert by_sku == {shop.sku_id: 240, shop.other_sku_id: 0}
    async with db.session(deferred=True) as s:
        owed = await ledger.balance(
            s, ledger.AccountKey(AccountType.CREATOR_PAYABLE, f"creator:{creator.id}", "GBP")
        )
    assert owed == -240  # only the paid order is in the ledger


async def test_naming_a_creator_is_not_enough_a_click_is(
    client: httpx.AsyncClient,
    db: Database,
    make_shopfront: MakeShopfront,
    make_actor: MakeActor,
) -> None:
    shop = await make_shopfront()
    creator = await make_actor(Role.CREATOR)
    buyer = await make_actor(Role.BUYER)
    await open_plan(client, shop, [{"category": "beauty", "rate_bp": 1000}])
    order = await buy(client, buyer, shop.sku_id, creator_id=creator.id, pay=False)
    assert order["creator_id"] is None
    click = await client.post(
        f"/api/v1/creators/{creator.id}/clicks",
        json={"product_id": shop.product_id},
        headers=buyer.headers,
    )
    assert click.status_code == 201, click.text
    order = await buy(client, buyer, shop.sku_id, pay=False)  # attributed by the click alone
    assert order["creator_id"] == creator.id
    line = (await order_financials(client, shop.seller, order["id"]))["lines"][0]
    assert line["creator_commission_minor"] == 200
    # The click does not cover another product.
    order = await buy(client, buyer, shop.other_sku_id, creator_id=creator.id, pay=False)
    assert order["creator_id"] is None
    # Eight days later the window is closed.
    async with db.session() as s:
        await s.execute(update(AttributionClick).values(clicked_at=utcnow() - timedelta(days=8)))
        await s.commit()
    order = await buy(client, buyer, shop.sku_id, creator_id=creator.id, pay=False)
    assert order["creator_id"] is None
    # Clicking for a non-creator is a 404.
    resp = await client.post(
        f"/api/v1/creators/{buyer.id}/clicks",
        json={"product_id": shop.product_id},
        headers=buyer.headers,
    )
    assert_problem(resp, 404, "creator-not-found")
