"""Creator economy over HTTP: settling a session's fees by hand; earnings are in
``router_earnings.py``. Payout statements are ``liveshop.payouts``'; plans, clicks, agencies
and contracts ``liveshop.affiliates``'; campaigns and coupons ``liveshop.promotions``'.
"""

from __future__ import annotations

from fastapi import APIRouter

from liveshop.accounts.deps import AdminPrincipal, SessionDep
from liveshop.core.errors import PROBLEM_RESPONSES
from liveshop.core.types import Id
from liveshop.creators import settlement
from liveshop.creators.router_earnings import router as earnings_router
from liveshop.creators.schemas import SettlementOut

router = APIRouter(prefix="/api/v1", tags=["creators"], responses=PROBLEM_RESPONSES)


@router.post("/live-sessions/{live_session_id}/settle")
async def settle_session(
    live_session_id: Id, principal: AdminPrincipal, session: SessionDep
) -> SettlementOut:
    """Post an ended session's base fee and bonuses (idempotent; normally run at session end)."""
    done = await settlement.settle_session(session, live_session_id)
    return SettlementOut(
        live_session_id=done.live_session_id,
        base_fee_minor=done.base_fee_minor,
        bonus_minor=done.bonus_minor,
        base_fee_status=done.status,
    )


# Statements and earnings live in their own module; one router for app.py to include.
router.include_router(earnings_router)
