from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path

from liveshop.accounts.deps import AdminPrincipal, MaybePrincipal, SessionDep
from liveshop.core.errors import PROBLEM_RESPONSES
from liveshop.core.types import Line
from liveshop.markets import service
from liveshop.markets.models import LaunchState
from liveshop.markets.schemas import (
    CommissionIn,
    CommissionOut,
    LaunchEventOut,
    LaunchStateIn,
    MarketOut,
    RatesIn,
)

router = APIRouter(prefix="/api/v1/markets", tags=["markets"], responses=PROBLEM_RESPONSES)


@router.get("")
async def list_markets(
    session: SessionDep, _: MaybePrincipal, state: LaunchState | None = None
) -> list[MarketOut]:
    return [MarketOut.of(m) for m in await service.list_markets(session, state=state)]


@router.get("/{code}")
async def get_market(code: Line, session: SessionDep, _: MaybePrincipal) -> MarketOut:
    return MarketOut.of(await service.get_market(session, code))


@router.post("/{code}/launch-state")
async def change_launch_state(
    code: Line, body: LaunchStateIn, principal: AdminPrincipal, session: SessionDep
) -> MarketOut:
    market = await service.change_launch_state(
        session, code, body.state, changed_by=principal.user_id, reason=body.reason
    )
    return MarketOut.of(market)


@router.get("/{code}/launch-history")
async def launch_history(
    code: Line, _: AdminPrincipal, session: SessionDep
) -> list[LaunchEventOut]:
    return [LaunchEventOut.model_validate(e) for e in await service.launch_history(session, code)]


@router.patch("/{code}")
async def update_rates(
    code: Line, body: RatesIn, principal: AdminPrincipal, session: SessionDep
) -> MarketOut:
    """Admin: tax and platform rates, the return window, the flat shipping fee and the
    dispatch deadline and auto-cancel grace (working days), the giveaways' terms."""
    market = await service.update_rates(
        session,
        code,
        tax_rate_bp=body.tax_rate_bp,
        platform_commission_bp=body.platform_commission_bp,
        return_window_days=body.return_window_days,
        shipping_fee_minor=body.shipping_fee_minor,
        dispatch_days=body.dispatch_days,
        auto_cancel_days=body.auto_cancel_days,
        giveaway_terms=body.giveaway_terms,
        actor_id=principal.user_id,
    )
    return MarketOut.of(market)


Category = Annotated[str, Path(pattern=r"^[a-z][a-z0-9-]{1,39}$")]


@router.get("/{code}/commissions")
async def list_commissions(
    code: Line, session: SessionDep, _: MaybePrincipal
) -> list[CommissionOut]:
    """Category overrides of the market's default platform commission (public: sellers see fees)."""
    rows = await service.list_category_commissions(session, code)
    return [CommissionOut.model_validate(r) for r in rows]


@router.put("/{code}/commissions/{category}")
async def set_commission(
    code: Line,
    category: Category,
    body: CommissionIn,
    principal: AdminPrincipal,
    session: SessionDep,
) -> CommissionOut:
    row = await service.set_category_commission(
        session, code, category, body.rate_bp, actor_id=principal.user_id
    )
    return CommissionOut.model_validate(row)
