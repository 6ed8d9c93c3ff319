"""Which commission a creator earns on a product, and whether they may show it at all.

``commission_rate_bp`` picks a targeted plan over an open one; within a plan a product's own
rate over its category's; among plans of the same kind, the best rate for the creator. The
rate in force at the moment of purchase is what checkout freezes on the order line.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from liveshop.affiliates.models import (
    AffiliatePlan,
    AffiliatePlanCreator,
    AffiliatePlanItem,
    PlanKind,
)
from liveshop.catalog.products import get_product
from liveshop.catalog.service import SkuOffer, get_sku_offer, is_shop_staff
from liveshop.core.clock import utcnow
from liveshop.core.errors import NotFound, Unprocessable
from liveshop.core.i18n import gettext as _


async def commission_rate_bp(
    session: AsyncSession,
    *,
    creator_id: int,
    product_id: int,
    category: str,
    shop_id: int,
    at: datetime,
) -> int:
    """The rate a creator earns on this product at ``at``; 0 when no plan applies."""
    found = await applicable_rate(
        session,
        creator_id=creator_id,
        product_id=product_id,
        category=category,
        shop_id=shop_id,
        at=at,
    )
    return 0 if found is None else found


async def applicable_rate(
    session: AsyncSession,
    *,
    creator_id: int,
    product_id: int,
    category: str,
    shop_id: int,
    at: datetime,
) -> int | None:
    """Like ``commission_rate_bp`` but ``None`` when no plan covers the product at all."""
    rows = await session.execute(
        select(AffiliatePlan.kind, AffiliatePlanItem.product_id, AffiliatePlanItem.rate_bp)
        .join(AffiliatePlanItem, AffiliatePlanItem.plan_id == AffiliatePlan.id)
        .outerjoin(
            AffiliatePlanCreator,
            (AffiliatePlanCreator.plan_id == AffiliatePlan.id)
            & (AffiliatePlanCreator.creator_id == creator_id),
        )
        .where(
            AffiliatePlan.shop_id == shop_id,
            AffiliatePlan.valid_from <= at,
            or_(AffiliatePlan.valid_until.is_(None), AffiliatePlan.valid_until > at),
            or_(AffiliatePlanItem.product_id == product_id, AffiliatePlanItem.category == category),
            or_(
                AffiliatePlan.kind == PlanKind.OPEN,
                AffiliatePlanCreator.creator_id.is_not(None),
            ),
        )
    )
    # Rank: targeted over open, product over category, then the higher rate.
    best: tuple[int, int, int] | None = None
    for kind, item_product, rate in rows.all():
        rank = (
            1 if kind == PlanKind.TARGETED else 0,
            1 if item_product is not None else 0,
            int(rate),
        )
        if best is None or rank > best:
            best = rank
    return None if best is None else best[2]


async def ensure_showcasable(
    session: AsyncSession,
    *,
    creator_id: int,
    product_ids: Sequence[int],
    at: datetime | None = None,
) -> None:
    """A creator may show a product only under a plan that covers it for them (422 otherwise).

    The shop's own staff may show its products without a plan (no commission is due).
    """
    when = at or utcnow()
    for product_id in dict.fromkeys(product_ids):
        try:
            product = await get_product(session, product_id)
        except NotFound:
            continue  # the live domain reports unknown products itself
        if await is_shop_staff(session, creator_id, product.shop_id):
            continue
        rate = await applicable_rate(
            session,
            creator_id=creator_id,
            product_id=product.id,
            category=product.category,
            shop_id=product.shop_id,
            at=when,
        )
        if rate is None:
            raise Unprocessable(
                _(
                    "product %(product_id)s has no affiliate plan open to you; a creator adds products only under a plan",  # noqa: E501
                    product_id=product_id,
                ),
                code="no-affiliate-plan",
                product_id=product_id,
            )


async def rates_for_offers(
    session: AsyncSession, creator_id: int, offers: Sequence[SkuOffer], at: datetime
) -> dict[int, int]:
    """The creator's rate (bp) per product of these offers at ``at`` (0 where no plan)."""
    out: dict[int, int] = {}
    for offer in offers:
        if offer.product_id not in out:
            out[offer.product_id] = await commission_rate_bp(
                session,
                creator_id=creator_id,
                product_id=offer.product_id,
                category=offer.category,
                shop_id=offer.shop_id,
                at=at,
            )
    return out


async def creator_rates_for(
    session: AsyncSession,
    *,
    creator_id: int,
    market_code: str,
    sku_ids: Sequence[int],
    at: datetime | None = None,
) -> dict[int, int]:
    """The creator's commission rates (bp per product) in force at ``at`` for these SKUs:
    what a purchase in the creator's own room freezes on the order. Raises the catalog's
    problem for a SKU not on sale in the market."""
    offers = [await get_sku_offer(session, sku_id, market_code) for sku_id in sku_ids]
    return await rates_for_offers(session, creator_id, offers, at or utcnow())
