"""A seller's coupon on an order already placed and not paid (the pay page's box), on both
databases: quoted without changing anything, applied through the promotions service to the
same total a checkout with the coupon charges, paid with a balanced ledger — and refused for
someone else's order, a paid one, a second coupon and bad input."""

from __future__ import annotations

import asyncio
import re
from typing import Any

import httpx
from sqlalchemy import select

from liveshop.accounts.models import Role
from liveshop.core.db import Database
from liveshop.ledger import service as ledger
from liveshop.orders.models import Payment, PaymentStatus
from liveshop.orders.payments.sandbox import CARD_SUCCEEDS
from tests.shopfront import MakeShopfront, buy, open_plan, start_session
from tests.support import MakeActor, assert_problem
from tests.web.test_promotion_pages import signed_in


async def _coupon(client: httpx.AsyncClient, shop: Any, **terms: Any) -> None:
    body = {"market": "GB", "kind": "percent_bp", "value": 1000, "code": "SAVE10", **terms}
    made = await client.post(
        f"/api/v1/shops/{shop.shop_id}/coupons", json=body, headers=shop.seller.headers
    )
    assert made.status_code == 201, made.text


async def test_a_coupon_on_an_unpaid_order(
    client: httpx.AsyncClient, db: Database, make_shopfront: MakeShopfront, make_actor: MakeActor
) -> None:
    buyer, other = await make_actor(Role.BUYER), await make_actor(Role.BUYER)
    creator = await make_actor(Role.CREATOR)
    shop = await make_shopfront()
    await open_plan(client, shop, [{"product_id": shop.product_id, "rate_bp": 1000}])
    await _coupon(client, shop, per_buyer_limit=5)
    live_id = await start_session(db, creator.id)
    order = await buy(client, buyer, shop.sku_id, quantity=3, live_session_id=live_id, pay=False)
    with_coupon = await buy(
        client,
        other,
        shop.sku_id,
        quantity=3,
        live_session_id=live_id,
        coupon_code="SAVE10",
        pay=False,
    )
    url = f"/api/v1/orders/{order['id']}/coupon"

    quote = await client.post(
        url, json={"coupon_code": "save10", "dry_run": True}, headers=buyer.headers
    )
    assert quote.status_code == 200, quote.text
    q = quote.json()
    assert (q["applied"], q["was_total_minor"]) == (False, order["total_minor"])
    assert q["total_minor"] == with_coupon["total_minor"] < order["total_minor"]
    unchanged = await client.get(f"/api/v1/orders/{order['id']}", headers=buyer.headers)
    assert unchanged.json()["total_minor"] == order["total_minor"]

    for body in (
        {"coupon_code": "SAVE10", "extra": 1},
        {"coupon_code": ""},
        {"coupon_code": "SAVE\x0010"},
        {"coupon_code": 10},
        {"coupon_code": "SAVE10", "dry_run": "yes"},
    ):
        assert_problem(await client.post(url, json=body, headers=buyer.headers), 422)
    assert_problem(
        await client.post(url, json={"coupon_code": "NOPE"}, headers=buyer.headers),
        422,
        "unknown-coupon",
    )
    assert_problem(
        await client.post(url, json={"coupon_code": "SAVE10"}, headers=other.headers), 404
    )

    applied = await client.post(url, json={"coupon_code": "SAVE10"}, headers=buyer.headers)
    assert applied.status_code == 200, applied.text
    assert applied.json()["total_minor"] == q["total_minor"]
    assert_problem(
        await client.post(url, json={"coupon_code": "SAVE10"}, headers=buyer.headers),
        409,
        "coupon-already-applied",
    )
    # The order now is what a checkout with the coupon makes: every line's amounts alike.
    seen = (await client.get(f"/api/v1/orders/{order['id']}", headers=shop.seller.headers)).json()
    same = (
        await client.get(f"/api/v1/orders/{with_coupon['id']}", headers=shop.seller.headers)
    ).json()
    fields = ("gross_minor", "tax_minor", "platform_commission_minor", "creator_commission_minor")
    assert [[ln[f] for f in fields] for ln in seen["lines"]] == [
        [ln[f] for f in fields] for ln in same["lines"]
    ]
    assert (seen["total_minor"], seen["tax_minor"]) == (same["total_minor"], same["tax_minor"])

    paid = await client.post(
        f"/api/v1/orders/{order['id']}/pay",
        json={"card_number": CARD_SUCCEEDS},
        headers=buyer.headers,
    )
    assert paid.status_code == 200 and paid.json()["status"] == "paid"
    assert_problem(
        await client.post(url, json={"coupon_code": "SAVE10"}, headers=buyer.headers),
        409,
        "order-not-payable",
    )
    async with db.session(deferred=True) as s:
        assert await ledger.is_balanced(s)
        tx = await ledger.transactions_by_reference_prefix(s, f"order:{order['id']}:paid")
        [paid_tx] = tx
        captured = sum(p.amount_minor for p in paid_tx.postings if p.amount_minor > 0)
    assert captured == q["total_minor"]


async def test_the_pay_page_quotes_then_applies_a_coupon(
    app: Any, client: httpx.AsyncClient, make_shopfront: MakeShopfront, make_actor: MakeActor
) -> None:
    buyer = await make_actor(Role.BUYER)
    shop = await make_shopfront()
    await _coupon(client, shop)
    order = await buy(client, buyer, shop.sku_id, pay=False)
    async with signed_in(app, buyer) as (c, token):
        page = await c.get(f"/orders/{order['id']}/pay", params={"coupon": "nope"})
        assert "does not exist or does not apply" in page.text
        quoted = await c.get(f"/orders/{order['id']}/pay", params={"coupon": "save10"})
        assert "With SAVE10:" in quoted.text and "Apply coupon" in quoted.text
        applied = await c.post(
            f"/orders/{order['id']}/coupon",
            data={"csrf_token": token, "coupon_code": "SAVE10"},
            follow_redirects=True,
        )
        assert "Coupon SAVE10 applied." in applied.text
        assert re.search(r"Coupon SAVE10</dt><dd>−£2\.40", applied.text), applied.text[-3000:]
        assert 'id="coupon-box"' not in applied.text  # one coupon per order


async def test_a_coupon_racing_a_payment_never_changes_what_is_charged(
    client: httpx.AsyncClient, db: Database, make_shopfront: MakeShopfront, make_actor: MakeActor
) -> None:
    """The pay page's coupon box and the Pay button at the same moment: the coupon lands
    before the payment reads the total (the charge is the lower total) or is refused while
    the payment is in flight — a charge never differs from the order's total."""
    shop = await make_shopfront()
    await _coupon(client, shop, per_buyer_limit=5)
    buyer = await make_actor(Role.BUYER)
    orders = [await buy(client, buyer, shop.sku_id, pay=False) for _ in range(6)]

    async def pay(order_id: int) -> int:
        got = await client.post(
            f"/api/v1/orders/{order_id}/pay",
            json={"card_number": CARD_SUCCEEDS},
            headers=buyer.headers,
        )
        return got.status_code

    async def coupon(order_id: int) -> int:
        got = await client.post(
            f"/api/v1/orders/{order_id}/coupon",
            json={"coupon_code": "SAVE10"},
            headers=buyer.headers,
        )
        assert got.status_code in (200, 409), got.text
        return got.status_code

    for order in orders:
        paid, couponed = await asyncio.gather(pay(order["id"]), coupon(order["id"]))
        assert paid == 200
        after = (await client.get(f"/api/v1/orders/{order['id']}", headers=buyer.headers)).json()
        assert after["status"] == "paid"
        async with db.session(deferred=True) as s:
            charged = await s.scalar(
                select(Payment.amount_minor).where(
                    Payment.order_id == order["id"], Payment.status == PaymentStatus.SUCCEEDED
                )
            )
        assert charged == after["total_minor"]
        assert (after["total_minor"] < order["total_minor"]) == (couponed == 200)
    async with db.session(deferred=True) as s:
        assert all(v == 0 for v in (await ledger.trial_balance(s)).values())
