"""What an order costs: the one piece of code that computes it, for a checkout and a quote.

``price_goods`` (offers, deal prices, the seller's coupon, tax and commissions per line) and
``platform_money`` (the market's shipping fee, the platform's discount and free-shipping
campaigns) are called by ``checkout.place_order`` to charge, and by ``quote`` to say before
the tap what that charge will be. With ``dry_run=True`` the same reads and the same arithmetic
run, but nothing is written: no coupon use, no campaign budget, no stock, no order, no ledger.

A quote is therefore the charge as things stand at that moment. It can differ from a later
charge only if something changed in between (a campaign's budget ran out, a coupon was used
up, a price, the deal or the fee changed); ``place_order(expected_total_minor=…)`` refuses to
charge anything but the total the buyer saw (409 ``price-changed``).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from liveshop.catalog.service import SkuOffer, get_sku_offer
from liveshop.core.errors import Conflict, Unprocessable
from liveshop.core.i18n import gettext as _
from liveshop.core.money import split_rate
from liveshop.markets.models import Market
from liveshop.markets.service import (
    TaxBreakdown,
    ensure_sellable,
    platform_commission_bp,
    shipping_breakdown,
    tax_breakdown,
)
from liveshop.orders.lines import Attribution, CheckoutLine
from liveshop.orders.models import OrderLine
from liveshop.promotions import campaigns, coupons
from liveshop.promotions.campaigns import Claimed


def _unit(offer: SkuOffer, line: CheckoutLine) -> int:
    unit = offer.price_minor if line.unit_price_minor is None else line.unit_price_minor
    if unit < 0:
        raise Unprocessable(_("a price cannot be negative"), code="bad-price")
    return unit


async def _priced_line(
    session: AsyncSession,
    market: Market,
    offer: SkuOffer,
    line: CheckoutLine,
    creator_bp: int,
    seller_discount: int = 0,
) -> OrderLine:
    """``seller_discount`` (a coupon's share of this line) lowers the price the line is sold
    at, so tax, commissions and the seller's net are all computed on the lower price."""
    unit = _unit(offer, line)
    split = tax_breakdown(market, unit * line.quantity - seller_discount)
    net = split.gross_minor - split.tax_minor
    platform_bp = await platform_commission_bp(session, market, offer.category)
    platform = split_rate(net, platform_bp)
    creator = split_rate(net, creator_bp)
    seller = split.gross_minor - split.tax_minor - platform - creator
    if seller < 0:
        raise Unprocessable(_(_("commission rates exceed the price")), code="bad-commission")
    return OrderLine(
        sku_id=offer.sku_id,
        product_id=offer.product_id,
        title=offer.title,
        sku_code=offer.sku_code,
        attributes=offer.attributes,
        category=offer.category,
        image_url=offer.image_url,
        quantity=line.quantity,
        list_price_minor=offer.price_minor,
        unit_price_minor=unit,
        gross_minor=split.gross_minor,
        subsidy_minor=0,
        tax_minor=split.tax_minor,
        platform_commission_bp=platform_bp,
        platform_commission_minor=platform,
        creator_commission_bp=creator_bp,
        creator_commission_minor=creator,
        seller_net_minor=seller,
        deal_id=line.deal_id,
    )


async def _coupon(
    session: AsyncSession,
    buyer_id: int | None,
    shop_id: int,
    market_code: str,
    code: str | None,
    goods_minor: int,
    at: datetime,
    *,
    dry_run: bool,
) -> Claimed | None:
    """The seller's coupon for this order, claimed (a named code that cannot be used is a
    4xx; an auto-applied one that ran out simply does not apply). A dry run only checks that
    it could be claimed (the buyer's own limit only when the buyer is known)."""
    coupon = await coupons.find_coupon(
        session, shop_id=shop_id, market_code=market_code, code=code, at=at
    )
    if coupon is None:
        return None
    amount = coupons.coupon_discount(coupon, goods_minor)
    if amount <= 0:
        return None
    if dry_run:
        usable = await coupons.coupon_usable(session, coupon, buyer_id)
    else:
        assert buyer_id is not None, "a coupon is claimed for a buyer"
        usable = await coupons.claim_coupon(session, coupon, buyer_id)
    if not usable:
        if code:
            raise Conflict(
                _("this coupon has been used up (or you used it as often as allowed)"),
                code="coupon-used-up",
            )
        return None
    return Claimed(coupon.id, amount)


async def seller_coupon(
    session: AsyncSession,
    *,
    buyer_id: int | None,
    shop_id: int,
    market_code: str,
    code: str,
    goods_minor: int,
    at: datetime,
    dry_run: bool,
) -> Claimed | None:
    """The named coupon on goods worth ``goods_minor``: claimed for the buyer unless
    ``dry_run`` (422 ``unknown-coupon``, 409 ``coupon-used-up``; None if it takes nothing)."""
    return await _coupon(
        session, buyer_id, shop_id, market_code, code, goods_minor, at, dry_run=dry_run
    )


def reprice_line(market: Market, line: OrderLine, seller_discount: int) -> None:
    """An unpaid order's line sold ``seller_discount`` lower (a coupon added after checkout):
    tax and commissions again on the lower price, at the rates frozen on the line."""
    split = tax_breakdown(market, line.unit_price_minor * line.quantity - seller_discount)
    net = split.gross_minor - split.tax_minor
    platform = split_rate(net, line.platform_commission_bp)
    creator = split_rate(net, line.creator_commission_bp)
    seller = net - platform - creator
    if seller < 0:
        raise Unprocessable(_("commission rates exceed the price"), code="bad-commission")
    line.gross_minor = split.gross_minor
    line.tax_minor = split.tax_minor
    line.platform_commission_minor = platform
    line.creator_commission_minor = creator
    line.seller_net_minor = seller


@dataclass(slots=True)
class PricedGoods:
    """The order's lines at the prices they sell at (deal prices, the seller's coupon)."""

    market: Market
    shop_id: int
    lines: list[OrderLine]  # priced; not added to any session
    coupon: Claimed | None

    @property
    def items_minor(self) -> int:
        return sum(ln.gross_minor for ln in self.lines)


async def price_goods(
    session: AsyncSession,
    *,
    buyer_id: int | None,
    market_code: str,
    lines: Sequence[CheckoutLine],
    attribution: Attribution | None,
    coupon_code: str | None,
    at: datetime,
    dry_run: bool,
) -> PricedGoods:
    """Offers, one shop, the market's currency, the coupon (claimed unless ``dry_run``), and
    each line's tax and commissions. Raises the 4xx a checkout of these lines would."""
    market = await ensure_sellable(session, market_code)
    offers = [await get_sku_offer(session, line.sku_id, market.code) for line in lines]
    shops = {o.shop_id for o in offers}
    if len(shops) != 1:
        raise Unprocessable(
            _("an order holds one shop's products; check out per shop"), code="mixed-shops"
        )
    for offer in offers:
        if offer.currency != market.currency:
            raise Unprocessable(
                _(
                    "SKU %(sku_id)s is priced in %(currency)s, not %(currency2)s",
                    sku_id=offer.sku_id,
                    currency=offer.currency,
                    currency2=market.currency,
                ),
                code="wrong-currency",
            )
    prices = [_unit(o, ln) * ln.quantity for o, ln in zip(offers, lines, strict=True)]
    shop_id = offers[0].shop_id
    coupon = await _coupon(
        session, buyer_id, shop_id, market.code, coupon_code, sum(prices), at, dry_run=dry_run
    )
    discounts = campaigns.spread(coupon.amount_minor if coupon else 0, prices)
    priced = [
        await _priced_line(
            session, market, o, ln, attribution.rate_for(o.product_id) if attribution else 0, d
        )
        for o, ln, d in zip(offers, lines, discounts, strict=True)
    ]
    return PricedGoods(market=market, shop_id=shop_id, lines=priced, coupon=coupon)


@dataclass(frozen=True, slots=True)
class PlatformMoney:
    """Shipping, and what the platform's campaigns pay of the goods and of the shipping."""

    shipping: TaxBreakdown
    subsidy: Claimed | None
    free_shipping: Claimed | None


def shipping_of(market: Market) -> TaxBreakdown:
    return shipping_breakdown(market)


async def platform_money(
    session: AsyncSession,
    goods: PricedGoods,
    *,
    in_live: bool,
    at: datetime,
    dry_run: bool,
) -> PlatformMoney:
    """Claim (unless ``dry_run``) at most one discount campaign and one free-shipping campaign,
    and spread the discount over the lines (``OrderLine.subsidy_minor``)."""
    market = goods.market
    shipping = shipping_of(market)
    subsidy = await campaigns.claim_checkout_subsidy(
        session,
        market_code=market.code,
        goods_minor=goods.items_minor,
        in_live=in_live,
        at=at,
        dry_run=dry_run,
    )
    shares = campaigns.spread(
        subsidy.amount_minor if subsidy else 0, [ln.gross_minor for ln in goods.lines]
    )
    for ln, share in zip(goods.lines, shares, strict=True):
        ln.subsidy_minor = share
    free_shipping = await campaigns.claim_shipping_subsidy(
        session,
        market_code=market.code,
        shipping_minor=shipping.gross_minor,
        at=at,
        dry_run=dry_run,
    )
    return PlatformMoney(shipping=shipping, subsidy=subsidy, free_shipping=free_shipping)


@dataclass(frozen=True, slots=True)
class Totals:
    """An order's amounts as ``Order`` stores them (and ``OrderOut`` shows them)."""

    items_minor: int  # the goods, tax included, after deals and the seller's coupon
    subsidy_minor: int  # of it, paid by a platform campaign
    shipping_minor: int  # the market's fee, tax included
    shipping_tax_minor: int
    shipping_subsidy_minor: int  # of it, paid by a free-shipping campaign
    tax_minor: int  # goods and shipping
    total_minor: int  # what the buyer pays


def totals(goods: PricedGoods, money: PlatformMoney | None) -> Totals:
    """``money=None``: before any campaign is applied (shipping at the market's fee)."""
    shipping = money.shipping if money is not None else shipping_of(goods.market)
    subsidy = money.subsidy.amount_minor if money is not None and money.subsidy else 0
    free = money.free_shipping.amount_minor if money is not None and money.free_shipping else 0
    items = goods.items_minor
    return Totals(
        items_minor=items,
        subsidy_minor=subsidy,
        shipping_minor=shipping.gross_minor,
        shipping_tax_minor=shipping.tax_minor,
        shipping_subsidy_minor=free,
        tax_minor=sum(ln.tax_minor for ln in goods.lines) + shipping.tax_minor,
        total_minor=items - subsidy + shipping.gross_minor - free,
    )
