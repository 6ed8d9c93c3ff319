"""Promotions over HTTP: platform subsidy campaigns (admins) and seller coupons (shop staff).

The URLs (and the ``creators`` tag) are the ones these routes had in the creators package.
"""

from __future__ import annotations

from fastapi import APIRouter, status

from liveshop.accounts.deps import AdminPrincipal, SellerPrincipal, SessionDep
from liveshop.catalog.service import ensure_shop_staff
from liveshop.core.errors import PROBLEM_RESPONSES
from liveshop.core.types import Id
from liveshop.markets.service import require_market
from liveshop.promotions import campaigns, coupons
from liveshop.promotions.models import CampaignKind, Coupon, CouponKind, SubsidyCampaign
from liveshop.promotions.schemas import CampaignIn, CampaignOut, CouponIn, CouponOut

router = APIRouter(prefix="/api/v1", tags=["creators"], responses=PROBLEM_RESPONSES)


# --- campaigns -----------------------------------------------------------------------------


def _campaign_out(c: SubsidyCampaign) -> CampaignOut:
    return CampaignOut(
        id=c.id,
        market=c.market_code,
        currency=c.currency,
        kind=CampaignKind(c.kind),
        name=c.name,
        value=c.value,
        budget_minor=c.budget_minor,
        per_order_cap_minor=c.per_order_cap_minor,
        spent_minor=c.spent_minor,
        gmv_threshold_minor=c.gmv_threshold_minor,
        valid_from=c.valid_from,
        valid_until=c.valid_until,
    )


@router.post("/subsidy-campaigns", status_code=status.HTTP_201_CREATED)
async def create_campaign(
    body: CampaignIn, principal: AdminPrincipal, session: SessionDep
) -> CampaignOut:
    """Platform-funded incentive with a total budget and a per-order cap (never exceeded)."""
    market = await require_market(session, body.market)
    campaign = await campaigns.create_campaign(
        session,
        market_code=market.code,
        currency=market.currency,
        kind=body.kind,
        name=body.name,
        value=body.value,
        budget_minor=body.budget_minor,
        per_order_cap_minor=body.per_order_cap_minor,
        gmv_threshold_minor=body.gmv_threshold_minor,
        valid_from=body.valid_from,
        valid_until=body.valid_until,
    )
    return _campaign_out(campaign)


@router.get("/subsidy-campaigns/{campaign_id}")
async def get_campaign(
    campaign_id: Id, principal: AdminPrincipal, session: SessionDep
) -> CampaignOut:
    campaign = await campaigns.get_campaign(session, campaign_id)
    await session.refresh(campaign)
    return _campaign_out(campaign)


def _coupon_out(c: Coupon) -> CouponOut:
    return CouponOut(
        id=c.id,
        shop_id=c.shop_id,
        market=c.market_code,
        code=c.code,
        kind=CouponKind(c.kind),
        value=c.value,
        max_uses=c.max_uses,
        used_count=c.used_count,
        per_buyer_limit=c.per_buyer_limit,
        valid_from=c.valid_from,
        valid_until=c.valid_until,
    )


@router.post("/shops/{shop_id}/coupons", status_code=status.HTTP_201_CREATED)
async def create_coupon(
    shop_id: Id, body: CouponIn, principal: SellerPrincipal, session: SessionDep
) -> CouponOut:
    """A seller-funded discount (with a code, or auto-applied when ``code`` is omitted)."""
    await ensure_shop_staff(session, principal, shop_id)
    market = await require_market(session, body.market)
    coupon = await coupons.create_coupon(
        session,
        shop_id=shop_id,
        market_code=market.code,
        kind=body.kind,
        value=body.value,
        code=body.code,
        max_uses=body.max_uses,
        per_buyer_limit=body.per_buyer_limit,
        valid_from=body.valid_from,
        valid_until=body.valid_until,
    )
    return _coupon_out(coupon)
