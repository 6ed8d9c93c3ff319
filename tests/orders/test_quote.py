"""``quote_order``: the checkout's pricing run dry — a seller's coupon is priced exactly as
the checkout will price it, and quoting never uses it up."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import func, select

from liveshop.accounts.models import Role
from liveshop.core.db import Database
from liveshop.core.errors import Problem
from liveshop.orders.checkout import place_order
from liveshop.orders.lines import CheckoutLine
from liveshop.orders.quote import Quote, quote_order
from liveshop.promotions import coupons
from liveshop.promotions.models import Coupon, CouponBuyerUse, CouponKind
from tests.orders.conftest import MakeStore
from tests.support import MakeActor

LINE = 1200  # the store's serum, £12.00 incl. VAT; UK shipping £3.00


async def _quote(db: Database, buyer_id: int | None, sku_id: int, **kw: Any) -> Quote:
    async with db.session() as s:
        return await quote_order(
            s,
            buyer_id=buyer_id,
            market_code="GB",
            lines=[CheckoutLine(sku_id=sku_id, quantity=2)],
            **kw,
        )


async def _coupon_state(db: Database) -> tuple[int, int]:
    async with db.session() as s:
        used = await s.scalar(select(func.sum(Coupon.used_count)))
        mine = await s.scalar(select(func.count()).select_from(CouponBuyerUse))
        return int(used or 0), int(mine or 0)


@pytest.mark.parametrize("code", [None, "GLOW25"])
async def test_a_coupon_is_quoted_as_checkout_charges_it_and_quoting_uses_none(
    code: str | None, db: Database, make_store: MakeStore, make_actor: MakeActor
) -> None:
    store = await make_store()
    buyer = await make_actor(Role.BUYER)
    async with db.session() as s:
        await coupons.create_coupon(
            s,
            shop_id=store.shop_id,
            market_code="GB",
            kind=CouponKind.PERCENT_BP,
            value=2500,
            code=code,
            per_buyer_limit=1,
        )

    quote = await _quote(db, buyer.id, store.sku_id, coupon_code=code)
    assert quote.coupon_minor == 600  # 25 % of 2 × £12.00
    assert (quote.totals.items_minor, quote.totals.total_minor) == (1800, 1800 + 300)
    assert quote.totals.tax_minor == 300 + 50  # VAT on the lower price, and on shipping
    assert quote.lines[0].gross_minor == 1800 and quote.lines[0].unit_price_minor == LINE
    assert await _coupon_state(db) == (0, 0)
    again = await _quote(db, buyer.id, store.sku_id, coupon_code=code)
    assert (again.totals, again.lines, again.coupon_minor) == (quote.totals, quote.lines, 600)

    async with db.session() as s:
        placed = await place_order(
            s,
            buyer_id=buyer.id,
            market_code="GB",
            lines=[CheckoutLine(sku_id=store.sku_id, quantity=2)],
            idempotency_key="k1",
            coupon_code=code,
            expected_total_minor=quote.totals.total_minor,
        )
        order = placed.order
        assert (order.items_minor, order.tax_minor, order.total_minor) == (1800, 350, 2100)
    assert await _coupon_state(db) == (1, 1)

    # The buyer has used their one: a named code is refused as checkout refuses it, an
    # automatic coupon no longer applies. Someone not signed in still sees it.
    if code is None:
        assert (await _quote(db, buyer.id, store.sku_id)).totals.total_minor == 2 * LINE + 300
    else:
        with pytest.raises(Problem) as refused:
            await _quote(db, buyer.id, store.sku_id, coupon_code=code)
        assert (refused.value.status, refused.value.code) == (409, "coupon-used-up")
    anonymous = await _quote(db, None, store.sku_id, coupon_code=code)
    assert anonymous.totals.total_minor == 2100


async def test_an_unknown_coupon_or_a_closed_market_is_refused_like_checkout(
    db: Database, make_store: MakeStore, make_actor: MakeActor
) -> None:
    store = await make_store()
    buyer = await make_actor(Role.BUYER)
    with pytest.raises(Problem) as unknown:
        await _quote(db, buyer.id, store.sku_id, coupon_code="NOPE")
    assert (unknown.value.status, unknown.value.code) == (422, "unknown-coupon")
    async with db.session() as s:
        with pytest.raises(Problem) as closed:
            await quote_order(
                s, buyer_id=buyer.id, market_code="DE", lines=[CheckoutLine(store.sku_id, 1)]
            )
    assert closed.value.code == "market-not-open"
    async with db.session() as s:
        with pytest.raises(Problem) as mixed:
            await quote_order(
                s,
                buyer_id=buyer.id,
                market_code="GB",
                lines=[CheckoutLine(store.sku_id, 1), CheckoutLine(store.sku_id, 2)],
            )
    assert mixed.value.code == "duplicate-sku"
