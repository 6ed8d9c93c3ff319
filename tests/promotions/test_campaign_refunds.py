"""A refund gives a platform campaign back the subsidy it reverses: pro rata for a partial
refund, exactly the claim once the whole order is refunded (or a paid order is cancelled),
never more, and once only when refunds race — the budget then funds other buyers."""

from __future__ import annotations

import asyncio
import itertools
from typing import Any

import httpx
from sqlalchemy import inspect as sa_inspect
from sqlalchemy import select, text
from sqlalchemy.ext.asyncio import async_sessionmaker, create_async_engine

from liveshop.accounts import service as accounts
from liveshop.accounts.models import Role
from liveshop.catalog.models import Product, Shop, Sku
from liveshop.core.db import Database
from liveshop.core.migrate import downgrade, upgrade
from liveshop.ledger import service as ledger
from liveshop.ledger.models import AccountType
from liveshop.orders.models import Order, OrderLine
from liveshop.orders.payments.sandbox import CARD_SUCCEEDS
from liveshop.promotions.models import SubsidyCampaign, SubsidyClaim
from tests.shopfront import MakeShopfront, buy, new_campaign
from tests.support import Actor, MakeActor, assert_problem

_keys = itertools.count(1)


async def spent(client: httpx.AsyncClient, admin: Actor, campaign_id: int) -> int:
    resp = await client.get(f"/api/v1/subsidy-campaigns/{campaign_id}", headers=admin.headers)
    assert resp.status_code == 200, resp.text
    return int(resp.json()["spent_minor"])


async def subsidy_expense(db: Database) -> int:
    async with db.session(deferred=True) as s:
        assert await ledger.is_balanced(s)
        return await ledger.balance(
            s, ledger.AccountKey(AccountType.PLATFORM_SUBSIDY_EXPENSE, "market:GB", "GBP")
        )


async def refund(
    client: httpx.AsyncClient, seller: Actor, order_id: int, *lines: tuple[int, int]
) -> httpx.Response:
    return await client.post(
        f"/api/v1/orders/{order_id}/refunds",
        json={"lines": [{"line_id": lid, "quantity": q} for lid, q in lines]},
        headers=seller.headers,
    )


async def test_refunds_give_the_subsidy_back_to_the_campaign_budget(
    client: httpx.AsyncClient,
    db: Database,
    make_shopfront: MakeShopfront,
    make_actor: MakeActor,
) -> None:
    admin, buyer = await make_actor(Role.ADMIN), await make_actor(Role.BUYER)
    shop = await make_shopfront()
    # £5.00 off for two orders, and free shipping (the UK's £3.00) for two.
    discount = await new_campaign(
        client,
        admin,
        kind="fixed_discount_minor",
        value=500,
        per_order_cap_minor=500,
        budget_minor=1_000,
    )
    shipping = await new_campaign(
        client, admin, kind="free_shipping", value=0, per_order_cap_minor=300, budget_minor=600
    )
    assert discount.status_code == shipping.status_code == 201
    d_id, s_id = discount.json()["id"], shipping.json()["id"]

    a = await buy(client, buyer, shop.sku_id, quantity=3)  # 3 × £24.00
    b = await buy(client, buyer, shop.sku_id)
    assert (a["subsidy_minor"], a["shipping_subsidy_minor"], a["total_minor"]) == (500, 300, 6700)
    assert (b["subsidy_minor"], b["shipping_subsidy_minor"], b["total_minor"]) == (500, 300, 1900)
    late = await buy(client, buyer, shop.sku_id)  # both budgets are spent
    assert (late["subsidy_minor"], late["shipping_subsidy_minor"], late["total_minor"]) == (
        0,
        0,
        2700,
    )
    assert (await spent(client, admin, d_id), await spent(client, admin, s_id)) == (1_000, 600)

    # Refunding one unit of three returns a third of each subsidy (cumulative floors, as the
    # ledger reverses it): 500·1//3 = 166 and 300·1//3 = 100.
    line = a["lines"][0]["id"]
    one = await refund(client, shop.seller, a["id"], (line, 1))
    assert one.status_code == 200, one.text
    assert one.json()["refunded_minor"] == 2400 - 166  # the buyer gets back what they paid
    assert (await spent(client, admin, d_id), await spent(client, admin, s_id)) == (834, 500)
    # What is left (166 and 100) is less than an order's subsidy: still nothing for the next.
    still = await buy(client, buyer, shop.sku_id)
    assert (still["subsidy_minor"], still["shipping_subsidy_minor"]) == (0, 0)

    # The other two units: 333 − 166 = 167, then 500 − 333 = 167 — the whole claim, no more.
    two = await refund(client, shop.seller, a["id"], (line, 1))
    assert two.status_code == 200, two.text
    assert (await spent(client, admin, d_id), await spent(client, admin, s_id)) == (667, 400)
    three = await refund(client, shop.seller, a["id"], (line, 1))
    assert three.status_code == 200, three.text
    assert three.json()["status"] == "refunded"
    assert (await spent(client, admin, d_id), await spent(client, admin, s_id)) == (500, 300)
    # Nothing more to give back: the order is refunded.
    again = await refund(client, shop.seller, a["id"], (line, 1))
    assert_problem(again, 409, "not-refundable")
    assert (await spent(client, admin, d_id), await spent(client, admin, s_id)) == (500, 300)

    # A buyer cancelling a paid order (a full refund) gives the rest back too.
    cancelled = await client.post(
        f"/api/v1/orders/{b['id']}/cancel",
        json={"reason": "changed my mind"},
        headers=buyer.headers,
    )
    assert cancelled.status_code == 200, cancelled.text
    assert (await spent(client, admin, d_id), await spent(client, admin, s_id)) == (0, 0)
    assert await subsidy_expense(db) == 0  # budget and ledger agree: nothing is funded now

    # The budget funds two more orders, as it was meant to.
    for _ in range(2):
        again_funded = await buy(client, buyer, shop.sku_id)
        assert (again_funded["subsidy_minor"], again_funded["shipping_subsidy_minor"]) == (500, 300)
    over = await buy(client, buyer, shop.sku_id)
    assert (over["subsidy_minor"], over["shipping_subsidy_minor"]) == (0, 0)
    assert (await spent(client, admin, d_id), await spent(client, admin, s_id)) == (1_000, 600)
    assert await subsidy_expense(db) == 1_600
    async with db.session(deferred=True) as s:
        claims = (
            await s.scalars(select(SubsidyClaim).where(SubsidyClaim.order_id == a["id"]))
        ).all()
        assert sorted((c.amount_minor, c.returned_minor) for c in claims) == [
            (300, 300),
            (500, 500),
        ]


async def _two_line_order(
    client: httpx.AsyncClient, buyer: Actor, skus: tuple[int, int]
) -> dict[str, Any]:
    placed = await client.post(
        "/api/v1/checkout",
        json={
            "market": "GB",
            "lines": [{"sku_id": skus[0], "quantity": 2}, {"sku_id": skus[1], "quantity": 1}],
        },
        headers={**buyer.headers, "Idempotency-Key": f"two-{next(_keys)}"},
    )
    assert placed.status_code == 201, placed.text
    paid = await client.post(
        f"/api/v1/orders/{placed.json()['id']}/pay",
        json={"card_number": CARD_SUCCEEDS},
        headers=buyer.headers,
    )
    assert paid.status_code == 200, paid.text
    body: dict[str, Any] = paid.json()
    return body


async def test_racing_refunds_give_the_budget_back_once(
    client: httpx.AsyncClient,
    db: Database,
    make_shopfront: MakeShopfront,
    make_actor: MakeActor,
) -> None:
    admin, buyer = await make_actor(Role.ADMIN), await make_actor(Role.BUYER)
    shop = await make_shopfront()
    discount = await new_campaign(
        client,
        admin,
        kind="fixed_discount_minor",
        value=701,
        per_order_cap_minor=701,
        budget_minor=100_000,
    )
    shipping = await new_campaign(
        client, admin, kind="free_shipping", value=0, per_order_cap_minor=300, budget_minor=10_000
    )
    assert discount.status_code == shipping.status_code == 201
    ids = (discount.json()["id"], shipping.json()["id"])
    # Each round: one order (2 serums + 1 shirt), then every refund below sent at once. Only
    # the ones that fit can succeed; the budget gets back exactly what the ledger reversed.
    for _ in range(3):
        order = await _two_line_order(client, buyer, (shop.sku_id, shop.other_sku_id))
        serum, shirt = (ln["id"] for ln in order["lines"])
        attempts = [
            [(serum, 1)],
            [(serum, 1)],
            [(serum, 2)],
            [(shirt, 1)],
            [(serum, 1), (shirt, 1)],
        ]
        answers = await asyncio.gather(
            *(refund(client, shop.seller, order["id"], *lines) for lines in attempts)
        )
        for resp in answers:
            assert resp.status_code in (200, 409, 422), resp.text
        assert any(resp.status_code == 200 for resp in answers)

    async with db.session(deferred=True) as s:
        orders = (await s.scalars(select(Order).where(Order.shop_id == shop.shop_id))).all()
        held_goods = held_shipping = 0
        for o in orders:
            lines = (await s.scalars(select(OrderLine).where(OrderLine.order_id == o.id))).all()
            units = sum(ln.quantity for ln in lines)
            back = sum(ln.refunded_quantity for ln in lines)
            held_goods += sum(
                ln.subsidy_minor - ln.subsidy_minor * ln.refunded_quantity // ln.quantity
                for ln in lines
            )
            held_shipping += o.shipping_subsidy_minor - o.shipping_subsidy_minor * back // units

            # Each refund's share telescopes (cumulative floors) only if each one counted from
            # the units refunded before it: the buyer got back exactly the whole reversal.
            def back_of(x: int, r: int, q: int) -> int:
                return x * r // q

            assert o.refunded_minor == sum(
                back_of(ln.gross_minor, ln.refunded_quantity, ln.quantity)
                - back_of(ln.subsidy_minor, ln.refunded_quantity, ln.quantity)
                for ln in lines
            ) + back_of(o.shipping_minor, back, units) - back_of(
                o.shipping_subsidy_minor, back, units
            )
        claims = (await s.scalars(select(SubsidyClaim))).all()
        assert all(0 <= c.returned_minor <= c.amount_minor for c in claims)
    assert (await spent(client, admin, ids[0]), await spent(client, admin, ids[1])) == (
        held_goods,
        held_shipping,
    )
    assert await subsidy_expense(db) == held_goods + held_shipping


async def test_migration_returns_the_subsidy_of_earlier_refunds(fresh_url: str) -> None:
    """Refunds made before revision 0010 gave nothing back; the migration returns their share
    (as the ledger reversed it) and downgrading keeps the budget as it is."""
    url = fresh_url
    await asyncio.to_thread(upgrade, url)
    engine = create_async_engine(url)
    sessions = async_sessionmaker(engine, expire_on_commit=False)
    async with sessions() as s:
        user = await accounts.create_user(
            s, email="b@example.com", password="pass-word-1", display_name="B", roles=(Role.BUYER,)
        )
        shop = Shop(slug="m", name="M", home_market="GB")
        s.add(shop)
        await s.flush()
        serum = Product(shop_id=shop.id, title="Serum", category="beauty")
        s.add(serum)
        await s.flush()
        sku = Sku(product_id=serum.id, shop_id=shop.id, code="S")
        s.add(sku)
        await s.flush()
        goods = SubsidyCampaign(
            market_code="GB",
            currency="GBP",
            kind="fixed_discount_minor",
            value=500,
            budget_minor=5_000,
            per_order_cap_minor=500,
            spent_minor=1_000,
            valid_from=user.created_at,
        )
        free = SubsidyCampaign(
            market_code="GB",
            currency="GBP",
            kind="free_shipping",
            value=0,
            budget_minor=5_000,
            per_order_cap_minor=300,
            spent_minor=600,
            valid_from=user.created_at,
        )
        s.add_all([goods, free])
        await s.flush()
        for n, refunded in enumerate((1, 0)):  # one unit of three refunded; not refunded
            order = Order(
                buyer_id=user.id,
                shop_id=shop.id,
                market_code="GB",
                currency="GBP",
                status="paid",
                items_minor=7200,
                subsidy_minor=500,
                tax_minor=1250,
                shipping_minor=300,
                shipping_tax_minor=50,
                shipping_subsidy_minor=300,
                total_minor=6700,
                return_window_days=14,
                refunded_minor=2234 if refunded else 0,
                idempotency_key=f"k{n}",
                request_fingerprint="x",
                paid_at=user.created_at,
            )
            s.add(order)
            await s.flush()
            s.add(
                OrderLine(
                    order_id=order.id,
                    sku_id=sku.id,
                    product_id=serum.id,
                    title="Serum",
                    sku_code="S",
                    category="beauty",
                    quantity=3,
                    list_price_minor=2400,
                    unit_price_minor=2400,
                    gross_minor=7200,
                    subsidy_minor=500,
                    tax_minor=1200,
                    platform_commission_bp=500,
                    platform_commission_minor=300,
                    seller_net_minor=5700,
                    refunded_quantity=refunded,
                )
            )
            s.add(SubsidyClaim(campaign_id=goods.id, order_id=order.id, amount_minor=500))
            s.add(SubsidyClaim(campaign_id=free.id, order_id=order.id, amount_minor=300))
        await s.commit()
    await engine.dispose()

    def state() -> tuple[list[tuple[int, ...]], list[int]]:
        async def read() -> tuple[list[tuple[int, ...]], list[int]]:
            eng = create_async_engine(url)
            async with eng.connect() as conn:
                cols = await conn.run_sync(lambda c: sa_inspect(c).get_columns("subsidy_claims"))
                has_returned = any(c["name"] == "returned_minor" for c in cols)
                returned = "returned_minor" if has_returned else "0"
                claims = await conn.execute(
                    text(f"SELECT amount_minor, {returned} FROM subsidy_claims ORDER BY id")
                )
                spent = await conn.execute(
                    text("SELECT spent_minor FROM subsidy_campaigns ORDER BY id")
                )
                out = [tuple(r) for r in claims.all()], [int(r[0]) for r in spent.all()]
            await eng.dispose()
            return out

        return asyncio.run(read())

    # Written at head as the old code would have left it; go back to 0009 and up again.
    await asyncio.to_thread(downgrade, url, "0009")
    await asyncio.to_thread(upgrade, url)
    claims, budgets = await asyncio.to_thread(state)
    # Order 1: a third of each subsidy back (166 of 500, 100 of 300); order 2: nothing.
    assert claims == [(500, 166), (300, 100), (500, 0), (300, 0)]
    assert budgets == [1_000 - 166, 600 - 100]
    # Downgrading folds the returns into the claims (the old representation).
    await asyncio.to_thread(downgrade, url, "0009")
    claims, budgets = await asyncio.to_thread(state)
    assert claims == [(334, 0), (200, 0), (500, 0), (300, 0)]
    assert budgets == [834, 500]
