"""Affiliates over HTTP: plans, commission rates, attribution clicks, agencies, contracts.

Who may call what: a shop's staff manage its plans; a creator reads their own rates; a buyer
records their own clicks; admins run agencies and contracts; an agency's owner adds its
creators or invites them (the invited creator accepts or declines). The URLs (and the
``creators`` tag) are the ones these routes had in the creators package.
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
from liveshop.affiliates import agencies, clicks, contracts, invitations, plans, rates
from liveshop.affiliates.access import ensure_can_see_creator
from liveshop.affiliates.models import (
    AffiliatePlan,
    PlanKind,
)
from liveshop.affiliates.schemas import (
    AgencyIn,
    AgencyOut,
    ClickIn,
    ClickOut,
    ContractIn,
    ContractOut,
    InvitationIn,
    InvitationOut,
    MemberIn,
    PlanEndIn,
    PlanIn,
    PlanItemOut,
    PlanOut,
    PlanReviseIn,
    RateOut,
)
from liveshop.catalog.products import get_product
from liveshop.catalog.service import ensure_shop_staff
from liveshop.core.clock import utcnow
from liveshop.core.errors import PROBLEM_RESPONSES, Forbidden, NotFound
from liveshop.core.i18n import gettext as _
from liveshop.core.types import Id

router = APIRouter(prefix="/api/v1", tags=["creators"], responses=PROBLEM_RESPONSES)
AgencyPrincipal = Annotated[Principal, Depends(require(Role.AGENCY))]


def _plan_out(plan: AffiliatePlan) -> PlanOut:
    return PlanOut(
        id=plan.id,
        shop_id=plan.shop_id,
        kind=PlanKind(plan.kind),
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
    shop_id: Id, body: PlanIn, principal: SellerPrincipal, session: SessionDep
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
async def list_plans(shop_id: Id, principal: SellerPrincipal, session: SessionDep) -> list[PlanOut]:
    await ensure_shop_staff(session, principal, shop_id)
    return [_plan_out(p) for p in await plans.list_plans(session, shop_id)]


@router.post("/affiliate-plans/{plan_id}/end")
async def end_plan(
    plan_id: Id, body: PlanEndIn, principal: SellerPrincipal, session: SessionDep
) -> PlanOut:
    """Stop a plan from now (or a later date); orders already placed keep their rate."""
    plan = await plans.plan_for_staff(session, principal, plan_id)
    await plans.end_plan(session, plan, body.at)
    return _plan_out(await plans.get_plan(session, plan_id))


@router.put("/affiliate-plans/{plan_id}")
async def revise_plan(
    plan_id: Id, body: PlanReviseIn, principal: SellerPrincipal, session: SessionDep
) -> PlanOut:
    """Change a plan from now on: it ends now and the plan returned starts now with the new
    terms (orders already placed keep their rate). 409 ``plan-ended`` for an ended plan."""
    plan = await plans.plan_for_staff(session, principal, plan_id)
    new = await plans.revise_plan(
        session,
        plan,
        items=[
            plans.PlanItemSpec(rate_bp=i.rate_bp, product_id=i.product_id, category=i.category)
            for i in body.items
        ],
        creator_ids=body.creator_ids,
        valid_until=body.valid_until,
        name=body.name,
        created_by=principal.user_id,
    )
    return _plan_out(await plans.get_plan(session, new.id))


@router.get("/creators/me/affiliate-plans")
async def my_plans(principal: CreatorPrincipal, session: SessionDep) -> list[PlanOut]:
    """Plans the signed-in creator may sell under now: open ones and those naming them."""
    return [_plan_out(p) for p in await plans.plans_open_to(session, principal.user_id)]


@router.get("/creators/me/rates/{product_id}")
async def my_rate(product_id: Id, principal: CreatorPrincipal, session: SessionDep) -> RateOut:
    """The commission the signed-in creator would earn on a product right now."""
    try:
        product = await get_product(session, product_id)
    except NotFound as exc:
        raise NotFound(
            _("product %(product_id)s does not exist", product_id=product_id),
            code="product-not-found",
        ) from exc
    rate = await rates.applicable_rate(
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
    creator_id: Id, body: ClickIn, principal: BuyerPrincipal, session: SessionDep
) -> ClickOut:
    """The signed-in buyer followed this creator's showcase or replay link to a product."""
    click = await clicks.record_click(
        session, buyer_id=principal.user_id, creator_id=creator_id, product_id=body.product_id
    )
    return ClickOut(
        id=click.id,
        creator_id=click.creator_id,
        product_id=click.product_id,
        clicked_at=click.clicked_at,
        attribution_window_days=clicks.ATTRIBUTION_WINDOW.days,
    )


# --- agencies and contracts -----------------------------------------------------------------


async def _agency_out(session: SessionDep, agency_id: Id) -> AgencyOut:
    agency = await agencies.get_agency(session, agency_id)
    return AgencyOut(
        id=agency.id,
        name=agency.name,
        owner_id=agency.owner_id,
        member_ids=await agencies.member_ids(session, agency.id),
    )


async def ensure_agency_owner(session: SessionDep, principal: Principal, agency_id: Id) -> None:
    agency = await agencies.get_agency(session, agency_id)
    if not (principal.is_admin or agency.owner_id == principal.user_id):
        raise Forbidden(_("only the agency's owner may do that"), code="not-agency-owner")


@router.post("/agencies", status_code=status.HTTP_201_CREATED)
async def create_agency(
    body: AgencyIn, principal: AdminPrincipal, session: SessionDep
) -> AgencyOut:
    agency = await agencies.create_agency(session, name=body.name, owner_id=body.owner_id)
    return await _agency_out(session, agency.id)


@router.get("/agencies/{agency_id}")
async def get_agency(agency_id: Id, principal: CurrentPrincipal, session: SessionDep) -> AgencyOut:
    """The agency's owner (or an admin) sees it and its members."""
    await ensure_agency_owner(session, principal, agency_id)
    return await _agency_out(session, agency_id)


@router.post("/agencies/{agency_id}/members", status_code=status.HTTP_201_CREATED)
async def add_member(
    agency_id: Id,
    body: MemberIn,
    principal: AgencyPrincipal,
    session: SessionDep,
) -> AgencyOut:
    await ensure_agency_owner(session, principal, agency_id)
    agency = await agencies.get_agency(session, agency_id)
    await agencies.add_member(session, agency, body.creator_id)
    return await _agency_out(session, agency_id)


@router.post("/agencies/{agency_id}/invitations", status_code=status.HTTP_201_CREATED)
async def invite_creator(
    agency_id: Id, body: InvitationIn, principal: AgencyPrincipal, session: SessionDep
) -> InvitationOut:
    """Invite a creator by e-mail to be managed for ``agency_share_bp`` of their earnings."""
    await ensure_agency_owner(session, principal, agency_id)
    agency = await agencies.get_agency(session, agency_id)
    sent = await invitations.invite(
        session,
        agency,
        email=body.email,
        agency_share_bp=body.agency_share_bp,
        currency=body.currency,
        message=body.message,
        invited_by=principal.user_id,
    )
    return InvitationOut.model_validate(sent)


@router.get("/agencies/{agency_id}/invitations")
async def agency_invitations(
    agency_id: Id, principal: AgencyPrincipal, session: SessionDep
) -> list[InvitationOut]:
    await ensure_agency_owner(session, principal, agency_id)
    return [
        InvitationOut.model_validate(i) for i in await invitations.of_agency(session, agency_id)
    ]


@router.post("/agency-invitations/{invitation_id}/withdraw")
async def withdraw_invitation(
    invitation_id: Id, principal: AgencyPrincipal, session: SessionDep
) -> InvitationOut:
    found = await invitations.get_invitation(session, invitation_id)
    await ensure_agency_owner(session, principal, found.agency_id)
    agency = await agencies.get_agency(session, found.agency_id)
    return InvitationOut.model_validate(await invitations.withdraw(session, found, agency=agency))


@router.get("/creators/me/invitations")
async def my_invitations(principal: CreatorPrincipal, session: SessionDep) -> list[InvitationOut]:
    return [
        InvitationOut.model_validate(i)
        for i in await invitations.for_creator(session, principal.user_id)
    ]


@router.post("/agency-invitations/{invitation_id}/accept")
async def accept_invitation(
    invitation_id: Id, principal: CreatorPrincipal, session: SessionDep
) -> InvitationOut:
    """Join the agency: a new contract version gives it its share from now on (409
    ``invitation-answered``, ``creator-has-agency`` or ``contract-change-scheduled``)."""
    found = await invitations.get_invitation(session, invitation_id)
    return InvitationOut.model_validate(
        await invitations.accept(session, found, creator_id=principal.user_id)
    )


@router.post("/agency-invitations/{invitation_id}/decline")
async def decline_invitation(
    invitation_id: Id, principal: CreatorPrincipal, session: SessionDep
) -> InvitationOut:
    found = await invitations.get_invitation(session, invitation_id)
    return InvitationOut.model_validate(
        await invitations.decline(session, found, creator_id=principal.user_id)
    )


@router.post("/creators/{creator_id}/contracts", status_code=status.HTTP_201_CREATED)
async def add_contract_version(
    creator_id: Id, body: ContractIn, principal: AdminPrincipal, session: SessionDep
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
    return ContractOut.model_validate(contract)


@router.get("/creators/{creator_id}/contracts")
async def list_contracts(
    creator_id: Id, principal: CurrentPrincipal, session: SessionDep
) -> list[ContractOut]:
    await ensure_can_see_creator(session, principal, creator_id)
    return [
        ContractOut.model_validate(c) for c in await contracts.contract_history(session, creator_id)
    ]
