"""Creator economy over HTTP: affiliate plans, attribution clicks, agencies, contracts,
subsidy campaigns, coupons. Earnings are in ``router_earnings.py``; payout statements have a
package of their own (``payouts``, which builds on this one).

Who may call what: a shop's staff manage its plans and coupons; a buyer records their own
clicks; admins run agencies, contracts and campaigns; an agency's owner adds its creators.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, status

from liveshop.accounts.deps import (
    AdminPrincipal,
    BuyerPrincipal,
    CreatorPrincipal,
    CurrentPrincipal,
    SellerPrincipal,
    SessionDep,
    require,
)
from liveshop.accounts.models import Role
from liveshop.accounts.service import Principal
from liveshop.catalog.products import get_product
from liveshop.catalog.service import ensure_shop_staff
from liveshop.core.clock import utcnow
from liveshop.core.errors import PROBLEM_RESPONSES, Forbidden, NotFound
from liveshop.creators import attribution, contracts, incentives, plans
from liveshop.creators.access import ensure_can_see_creator
from liveshop.creators.models import AffiliatePlan, Coupon, CreatorContract, SubsidyCampaign
from liveshop.creators.router_earnings import router as earnings_router
from liveshop.creators.schemas import (
    AgencyIn,
    AgencyOut,
    CampaignIn,
    CampaignOut,
    ClickIn,
    ClickOut,
    ContractIn,
    ContractOut,
    CouponIn,
    CouponOut,
    MemberIn,
    PlanEndIn,
    PlanIn,
    PlanItemOut,
    PlanOut,
    RateOut,
    SettlementOut,
)
from liveshop.markets.service import require_market

router = APIRouter(prefix="/api/v1", tags=["creators"], responses=PROBLEM_RESPONSES)
AgencyPrincipal = Annotated[Principal, Depends(require(Role.AGENCY))]


def _plan_out(plan: AffiliatePlan) -> PlanOut:
    return PlanOut(
        id=plan.id,
        shop_id=plan.shop_id,
        kind=plans.PlanKind(plan.kind),
        name=plan.name,
        valid_from=plan.valid_from,
        valid_until=plan.valid_until,
        items=[
            PlanItemOut(product_id=i.product_id, category=i.category, rate_bp=i.rate_bp)
            for i in plan.items
        ],
        creator_ids=[c.creator_id for c in plan.creators],
    )


# --- affiliate plans ------------------------------------------------------------------------


@router.post("/shops/{shop_id}/affiliate-plans", status_code=status.HTTP_201_CREATED)
async def create_plan(
    shop_id: int, body: PlanIn, principal: SellerPrincipal, session: SessionDep
) -> PlanOut:
    """Offer creators commission on products (open: any creator; targeted: the named ones)."""
    await ensure_shop_staff(session, principal, shop_id)
    plan = await plans.create_plan(
        session,
        shop_id=shop_id,
        kind=body.kind,
        name=body.name,
        items=[
            plans.PlanItemSpec(rate_bp=i.rate_bp, product_id=i.product_id, category=i.category)
            for i in body.items
        ],
        creator_ids=body.creator_ids,
        valid_from=body.valid_from,
        valid_until=body.valid_until,
        created_by=principal.user_id,
    )
    return _plan_out(await plans.get_plan(session, plan.id))


@router.get("/shops/{shop_id}/affiliate-plans")
async def list_plans(
    shop_id: int, principal: SellerPrincipal, session: SessionDep
) -> list[PlanOut]:
    await ensure_shop_staff(session, principal, shop_id)
    return [_plan_out(p) for p in await plans.list_plans(session, shop_id)]


@router.post("/affiliate-plans/{plan_id}/end")
async def end_plan(
    plan_id: int, body: PlanEndIn, principal: SellerPrincipal, session: SessionDep
) -> PlanOut:
    """Stop a plan from now (or a later date); orders already placed keep their rate."""
    plan = await plans.get_plan(session, plan_id)
    await ensure_shop_staff(session, principal, plan.shop_id)
    await plans.end_plan(session, plan, body.at)
    return _plan_out(await plans.get_plan(session, plan_id))


@router.get("/creators/me/rates/{product_id}")
async def my_rate(product_id: int, principal: CreatorPrincipal, session: SessionDep) -> RateOut:
    """The commission the signed-in creator would earn on a product right now."""
    try:
        product = await get_product(session, product_id)
    except NotFound as exc:
        raise NotFound(f"product {product_id} does not exist", code="product-not-found") from exc
    rate = await plans.applicable_rate(
        session,
        creator_id=principal.user_id,
        product_id=product.id,
        category=product.category,
        shop_id=product.shop_id,
        at=utcnow(),
    )
    return RateOut(product_id=product.id, rate_bp=rate or 0, covered=rate is not None)


@router.post("/creators/{creator_id}/clicks", status_code=status.HTTP_201_CREATED)
async def record_click(
    creator_id: int, body: ClickIn, principal: BuyerPrincipal, session: SessionDep
) -> ClickOut:
    """The signed-in buyer followed this creator's showcase or replay link to a product."""
    click = await attribution.record_click(
        session, buyer_id=principal.user_id, creator_id=creator_id, product_id=body.product_id
    )
    return ClickOut(
        id=click.id,
        creator_id=click.creator_id,
        product_id=click.product_id,
        clicked_at=click.clicked_at,
        attribution_window_days=attribution.ATTRIBUTION_WINDOW.days,
    )


# --- agencies and contracts -----------------------------------------------------------------


async def _agency_out(session: SessionDep, agency_id: int) -> AgencyOut:
    agency = await contracts.get_agency(session, agency_id)
    return AgencyOut(
        id=agency.id,
        name=agency.name,
        owner_id=agency.owner_id,
        member_ids=await contracts.member_ids(session, agency.id),
    )


async def ensure_agency_owner(session: SessionDep, principal: Principal, agency_id: int) -> None:
    agency = await contracts.get_agency(session, agency_id)
    if not (principal.is_admin or agency.owner_id == principal.user_id):
        raise Forbidden("only the agency's owner may do that", code="not-agency-owner")


@router.post("/agencies", status_code=status.HTTP_201_CREATED)
async def create_agency(
    body: AgencyIn, principal: AdminPrincipal, session: SessionDep
) -> AgencyOut:
    agency = await contracts.create_agency(session, name=body.name, owner_id=body.owner_id)
    return await _agency_out(session, agency.id)


@router.get("/agencies/{agency_id}")
async def get_agency(agency_id: int, principal: CurrentPrincipal, session: SessionDep) -> AgencyOut:
    """The agency's owner (or an admin) sees it and its members."""
    await ensure_agency_owner(session, principal, agency_id)
    return await _agency_out(session, agency_id)


@router.post("/agencies/{agency_id}/members", status_code=status.HTTP_201_CREATED)
async def add_member(
    agency_id: int,
    body: MemberIn,
    principal: AgencyPrincipal,
    session: SessionDep,
) -> AgencyOut:
    await ensure_agency_owner(session, principal, agency_id)
    agency = await contracts.get_agency(session, agency_id)
    await contracts.add_member(session, agency, body.creator_id)
    return await _agency_out(session, agency_id)


def _contract_out(c: CreatorContract) -> ContractOut:
    return ContractOut(
        id=c.id,
        creator_id=c.creator_id,
        version=c.version,
        agency_id=c.agency_id,
        agency_share_bp=c.agency_share_bp,
        base_fee_minor=c.base_fee_minor,
        currency=c.currency,
        min_live_minutes=c.min_live_minutes,
        gmv_tiers=[dict(t) for t in c.gmv_tiers],
        effective_from=c.effective_from,
    )


@router.post("/creators/{creator_id}/contracts", status_code=status.HTTP_201_CREATED)
async def add_contract_version(
    creator_id: int, body: ContractIn, principal: AdminPrincipal, session: SessionDep
) -> ContractOut:
    """A new version of the creator's terms, from ``effective_from`` (never in the past)."""
    contract = await contracts.create_contract(
        session,
        creator_id=creator_id,
        currency=body.currency,
        base_fee_minor=body.base_fee_minor,
        min_live_minutes=body.min_live_minutes,
        agency_id=body.agency_id,
        agency_share_bp=body.agency_share_bp,
        gmv_tiers=[t.model_dump() for t in body.gmv_tiers],
        effective_from=body.effective_from,
        created_by=principal.user_id,
    )
    return _contract_out(contract)


@router.get("/creators/{creator_id}/contracts")
async def list_contracts(
    creator_id: int, principal: CurrentPrincipal, session: SessionDep
) -> list[ContractOut]:
    await ensure_can_see_creator(session, principal, creator_id)
    return [_contract_out(c) for c in await contracts.contract_history(session, creator_id)]


# --- incentives -----------------------------------------------------------------------------


def _campaign_out(c: SubsidyCampaign) -> CampaignOut:
    return CampaignOut(
        id=c.id,
        market=c.market_code,
        currency=c.currency,
        kind=incentives.CampaignKind(c.kind),
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
    campaign = await incentives.create_campaign(
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
    campaign_id: int, principal: AdminPrincipal, session: SessionDep
) -> CampaignOut:
    campaign = await incentives.get_campaign(session, campaign_id)
    await session.refresh(campaign)
    return _campaign_out(campaign)


def _coupon_out(c: Coupon) -> CouponOut:
    return CouponOut(
        id=c.id,
        shop_id=c.shop_id,
        market=c.market_code,
        code=c.code,
        kind=incentives.CouponKind(c.kind),
        value=c.value,
        max_uses=c.max_uses,
        used_count=c.used_count,
        per_buyer_limit=c.per_buyer_limit,
        valid_from=c.valid_from,
        valid_until=c.valid_until,
    )


@router.post("/shops/{shop_id}/coupons", status_code=status.HTTP_201_CREATED)
async def create_coupon(
    shop_id: int, body: CouponIn, principal: SellerPrincipal, session: SessionDep
) -> CouponOut:
    """A seller-funded discount (with a code, or auto-applied when ``code`` is omitted)."""
    await ensure_shop_staff(session, principal, shop_id)
    market = await require_market(session, body.market)
    coupon = await incentives.create_coupon(
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


@router.post("/live-sessions/{live_session_id}/settle")
async def settle_session(
    live_session_id: int, principal: AdminPrincipal, session: SessionDep
) -> SettlementOut:
    """Post an ended session's base fee and bonuses (idempotent; normally run at session end)."""
    done = await contracts.settle_session(session, live_session_id)
    return SettlementOut(
        live_session_id=done.live_session_id,
        base_fee_minor=done.base_fee_minor,
        bonus_minor=done.bonus_minor,
        base_fee_status=done.status,
    )


# Earnings live in their own module; one router for app.py to include.
router.include_router(earnings_router)
