"""A price quote: what a checkout of these lines would charge now, without checking out.

It runs ``orders.pricing`` — the code ``checkout.place_order`` charges with — as a dry run, so
the quote and the charge cannot disagree about how an amount is computed: deal prices, the
seller's coupon, tax as the market shows it, the platform's discount and free-shipping
campaigns, the market's shipping fee. Nothing is written: no stock is held, no order, no
ledger posting, no coupon use and no campaign budget is taken. Stock is not checked either
(the checkout's conditional UPDATE decides that at the tap).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncSession

from liveshop.core.clock import utcnow
from liveshop.markets.models import Market
from liveshop.orders import pricing
from liveshop.orders.checkout import validate_lines
from liveshop.orders.lines import Attribution, CheckoutLine


@dataclass(frozen=True, slots=True)
class QuoteLine:
    sku_id: int
    product_id: int
    title: str
    quantity: int
    list_price_minor: int  # per unit, the SKU's price in the market
    unit_price_minor: int  # per unit, what it sells at here (a flash deal's price)
    gross_minor: int  # the line, tax included, after the seller's coupon
    subsidy_minor: int  # of it, paid by a platform campaign
    tax_minor: int
    deal_id: int | None


@dataclass(frozen=True, slots=True)
class Quote:
    market: Market
    lines: list[QuoteLine]
    totals: pricing.Totals
    coupon_minor: int  # the seller's coupon (already taken off the lines' gross)
    subsidy_campaign_id: int | None
    shipping_campaign_id: int | None


async def quote_order(
    session: AsyncSession,
    *,
    buyer_id: int | None,
    market_code: str,
    lines: Sequence[CheckoutLine],
    attribution: Attribution | None = None,
    coupon_code: str | None = None,
) -> Quote:
    """What ``place_order`` with the same arguments would charge now. Writes nothing.

    ``buyer_id`` None (someone not signed in): a coupon's per-buyer limit cannot be checked,
    so the quote assumes this buyer has not used it yet.
    """
    validate_lines(lines)
    now = utcnow()
    goods = await pricing.price_goods(
        session,
        buyer_id=buyer_id,
        market_code=market_code,
        lines=lines,
        attribution=attribution,
        coupon_code=coupon_code,
        at=now,
        dry_run=True,
    )
    money = await pricing.platform_money(
        session,
        goods,
        in_live=attribution is not None and attribution.live_session_id is not None,
        at=now,
        dry_run=True,
    )
    return Quote(
        market=goods.market,
        lines=[
            QuoteLine(
                sku_id=ln.sku_id,
                product_id=ln.product_id,
                title=ln.title,
                quantity=ln.quantity,
                list_price_minor=ln.list_price_minor,
                unit_price_minor=ln.unit_price_minor,
                gross_minor=ln.gross_minor,
                subsidy_minor=ln.subsidy_minor,
                tax_minor=ln.tax_minor,
                deal_id=ln.deal_id,
            )
            for ln in goods.lines
        ],
        totals=pricing.totals(goods, money),
        coupon_minor=goods.coupon.amount_minor if goods.coupon else 0,
        subsidy_campaign_id=money.subsidy.id if money.subsidy else None,
        shipping_campaign_id=money.free_shipping.id if money.free_shipping else None,
    )
