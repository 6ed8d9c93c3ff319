"""Promotions over HTTP: platform subsidy campaigns (admins) and seller coupons (shop staff).

The URLs (and the ``creators`` tag) are the ones these routes had in the creators package.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, status

from liveshop.accounts.deps import AdminPrincipal, SellerPrincipal, SessionDep
from liveshop.catalog.service import ensure_shop_staff
from liveshop.core.clock import utcnow
from liveshop.core.errors import PROBLEM_RESPONSES
from liveshop.core.types import Id
from liveshop.markets.service import require_market
from liveshop.promotions import campaigns, coupons
from liveshop.promotions.models import Coupon, CouponKind
from liveshop.promotions.schemas import (
    CampaignIn,
    CampaignOut,
    CouponIn,
    CouponOut,
    CouponRedemptionOut,
)

router = APIRouter(prefix="/api/v1", tags=["creators"], responses=PROBLEM_RESPONSES)


# --- campaigns -----------------------------------------------------------------------------


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
    return CampaignOut.model_validate(campaign)


@router.get("/subsidy-campaigns")
async def list_campaigns(
    principal: AdminPrincipal,
    session: SessionDep,
    market: Annotated[str | None, Query(pattern=r"^[A-Za-z]{2}$")] = None,
) -> list[CampaignOut]:
    """Every campaign (of one market), newest first: budget, spent, remaining, paused."""
    rows = await campaigns.list_campaigns(session, market_code=market)
    return [CampaignOut.model_validate(c) for c in rows]


@router.post("/subsidy-campaigns/{campaign_id}/pause")
async def pause_campaign(
    campaign_id: Id, principal: AdminPrincipal, session: SessionDep
) -> CampaignOut:
    """No new order takes from the budget until resumed (audit-logged)."""
    campaign = await campaigns.set_paused(
        session, campaign_id, paused=True, actor_id=principal.user_id
    )
    return CampaignOut.model_validate(campaign)


@router.post("/subsidy-campaigns/{campaign_id}/resume")
async def resume_campaign(
    campaign_id: Id, principal: AdminPrincipal, session: SessionDep
) -> CampaignOut:
    campaign = await campaigns.set_paused(
        session, campaign_id, paused=False, actor_id=principal.user_id
    )
    return CampaignOut.model_validate(campaign)


@router.get("/subsidy-campaigns/{campaign_id}")
async def get_campaign(
    campaign_id: Id, principal: AdminPrincipal, session: SessionDep
) -> CampaignOut:
    campaign = await campaigns.get_campaign(session, campaign_id)
    await session.refresh(campaign)
    return CampaignOut.model_validate(campaign)


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
        deactivated_at=c.deactivated_at,
        state=coupons.coupon_state(c, utcnow()),
    )


@router.get("/shops/{shop_id}/coupons")
async def list_coupons(
    shop_id: Id, principal: SellerPrincipal, session: SessionDep
) -> list[CouponOut]:
    """The shop's coupons, newest first, with their uses and state (the shop's staff)."""
    await ensure_shop_staff(session, principal, shop_id)
    return [_coupon_out(c) for c in await coupons.list_coupons(session, shop_id)]


@router.get("/coupons/{coupon_id}/redemptions")
async def coupon_redemptions(
    coupon_id: Id, principal: SellerPrincipal, session: SessionDep
) -> list[CouponRedemptionOut]:
    """The orders that used the coupon (newest first, at most 100) and what each saved."""
    coupon = await coupons.coupon_for_staff(session, principal, coupon_id)
    return [
        CouponRedemptionOut(
            order_id=r.order_id,
            buyer_id=r.buyer_id,
            amount_minor=r.amount_minor,
            created_at=r.created_at,
        )
        for r in await coupons.redemptions(session, coupon.id)
    ]


@router.post("/coupons/{coupon_id}/deactivate")
async def deactivate_coupon(
    coupon_id: Id, principal: SellerPrincipal, session: SessionDep
) -> CouponOut:
    """No new order uses it; orders that did keep their discount (audit-logged)."""
    coupon = await coupons.coupon_for_staff(session, principal, coupon_id)
    return _coupon_out(await coupons.deactivate(session, coupon, actor_id=principal.user_id))


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
