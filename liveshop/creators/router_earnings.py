"""Creators' earnings and what creators cost a shop, over HTTP.

Who may see what: a creator their own earnings (and the owner of the agency that manages
them, or an admin); a shop's staff the shop's creator costs. Payout statements are the
``payouts`` package's (it builds on this one; nothing here imports it).
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from liveshop.accounts.deps import CreatorPrincipal, CurrentPrincipal, SellerPrincipal, SessionDep
from liveshop.affiliates.access import ensure_can_see_creator
from liveshop.catalog.service import ensure_shop_staff
from liveshop.core.errors import PROBLEM_RESPONSES, NotFound
from liveshop.core.i18n import gettext as _
from liveshop.core.types import FormCount, Id
from liveshop.creators import earnings
from liveshop.creators.bonus_reversals import BonusReversal
from liveshop.creators.schemas import (
    BonusReversalOut,
    CreatorCostsOut,
    EarningsOut,
    PendingCommissionOut,
    SessionCostOut,
    SessionEarningsOut,
)
from liveshop.live.service import get_session

# No prefix of its own: liveshop.creators.router includes it under /api/v1.
router = APIRouter(tags=["creators"], responses=PROBLEM_RESPONSES)
Days = Annotated[FormCount, Query(ge=1, le=366)]


def _pending_out(rows: list[earnings.PendingCommission]) -> list[PendingCommissionOut]:
    return [
        PendingCommissionOut(
            order_id=p.order_id,
            live_session_id=p.live_session_id,
            commission_minor=p.commission_minor,
            return_window_days=p.return_window_days,
            delivered_at=p.delivered_at,
            payable_on=p.payable_on,
        )
        for p in rows
    ]


def _reversals_out(rows: list[BonusReversal]) -> list[BonusReversalOut]:
    return [
        BonusReversalOut(
            live_session_id=r.live_session_id,
            at=r.at,
            reference=r.reference,
            source=r.source,
            campaign_id=r.campaign_id,
            reversed_minor=r.reversed_minor,
            gmv_from_minor=r.gmv_from_minor,
            gmv_to_minor=r.gmv_to_minor,
            threshold_minor=r.threshold_minor,
            bonus_before_minor=r.bonus_before_minor,
            bonus_after_minor=r.bonus_after_minor,
            reason=r.reason,
        )
        for r in rows
    ]


def _session_out(s: earnings.SessionEarnings) -> SessionEarningsOut:
    return SessionEarningsOut(
        live_session_id=s.live_session_id,
        title=s.title,
        status=s.status,
        currency=s.currency,
        live_minutes=s.live_minutes,
        base_fee_minor=s.base_fee_minor,
        base_fee_status=s.base_fee_status,
        bonus_minor=s.bonus_minor,
        commission_pending_minor=s.commission_pending_minor,
        commission_payable_minor=s.commission_payable_minor,
        commission_minor=s.commission_minor,
        projected_total_minor=s.projected_total_minor,
        per_live_hour_minor=s.per_live_hour_minor,
        orders=s.orders,
        gmv_minor=s.gmv_minor,
        pending_commissions=_pending_out(s.pending),
        bonus_reversals=_reversals_out(s.bonus_reversals),
    )


def _earnings_out(e: earnings.CreatorEarnings) -> EarningsOut:
    return EarningsOut(
        creator_id=e.creator_id,
        currency=e.currency,
        days=e.days,
        sessions=[_session_out(s) for s in e.sessions],
        base_fees_minor=sum(
            s.base_fee_minor for s in e.sessions if s.base_fee_status in ("pending", "earned")
        ),
        bonuses_minor=sum(s.bonus_minor for s in e.sessions),
        commission_pending_minor=sum(s.commission_pending_minor for s in e.sessions)
        + e.off_session_pending_minor,
        commission_payable_minor=sum(s.commission_payable_minor for s in e.sessions)
        + e.off_session_commission_minor
        - e.off_session_pending_minor,
        off_session_commission_minor=e.off_session_commission_minor,
        projected_total_minor=e.projected_total_minor,
        live_minutes=e.live_minutes,
        per_live_hour_minor=e.per_live_hour_minor,
        owed_now_minor=e.owed_now_minor,
        pending_commissions=_pending_out(e.pending),
        bonus_reversals=_reversals_out(e.bonus_reversals),
    )


@router.get("/creators/me/earnings")
async def my_earnings(
    principal: CreatorPrincipal, session: SessionDep, days: Days = 30
) -> EarningsOut:
    """Per session and for the last ``days`` days: base fee status, commission pending vs
    payable, projected total and earnings per live hour."""
    return _earnings_out(await earnings.creator_earnings(session, principal.user_id, days=days))


@router.get("/creators/{creator_id}/earnings")
async def creator_earnings(
    creator_id: Id, principal: CurrentPrincipal, session: SessionDep, days: Days = 30
) -> EarningsOut:
    """A creator's earnings for the owner of the agency that manages them (or an admin)."""
    await ensure_can_see_creator(session, principal, creator_id)
    return _earnings_out(await earnings.creator_earnings(session, creator_id, days=days))


@router.get("/creators/me/sessions/{live_session_id}/earnings")
async def my_session_earnings(
    live_session_id: Id, principal: CreatorPrincipal, session: SessionDep
) -> SessionEarningsOut:
    """This session so far (also while it is live)."""
    live = await get_session(session, live_session_id)
    if live.creator_id != principal.user_id and not principal.is_admin:
        raise NotFound(
            _("live session %(live_session_id)s does not exist", live_session_id=live_session_id),
            code="live-session-not-found",
        )
    return _session_out(await earnings.one_session_earnings(session, live))


@router.get("/shops/{shop_id}/creator-costs")
async def creator_costs(
    shop_id: Id, principal: SellerPrincipal, session: SessionDep
) -> CreatorCostsOut:
    """Per live session that sold the shop's goods: commission (and the platform-paid base
    fee) against the GMV it produced."""
    await ensure_shop_staff(session, principal, shop_id)
    rows = await earnings.shop_creator_costs(session, shop_id)
    return CreatorCostsOut(
        shop_id=shop_id,
        sessions=[
            SessionCostOut(
                live_session_id=r.live_session_id,
                creator_id=r.creator_id,
                title=r.title,
                currency=r.currency,
                orders=r.orders,
                gmv_minor=r.gmv_minor,
                creator_commission_minor=r.creator_commission_minor,
                base_fee_minor=r.base_fee_minor,
                total_cost_minor=r.total_cost_minor,
                cost_share_bp=r.cost_share_bp,
            )
            for r in rows
        ],
    )
