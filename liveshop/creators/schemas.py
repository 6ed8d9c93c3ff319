"""Creator-economy request and response bodies (inputs forbid unknown fields).
from liveshop.core.types import Id

Rates and amounts are plain ints here on purpose: the services check their ranges and answer
with a specific problem code (``bad-rate``, ``bad-amount``, ``effective-date-in-past``).
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from pydantic import AfterValidator, BaseModel, ConfigDict, Field

Currency = Annotated[str, Field(pattern=r"^[A-Za-z]{3}$"), AfterValidator(str.upper)]


class _In(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


# --- earnings --------------------------------------------------------------------------------


class PendingCommissionOut(BaseModel):
    order_id: int
    live_session_id: int | None
    commission_minor: int
    return_window_days: int = Field(
        description="the market's return window when the order was placed (frozen)"
    )
    delivered_at: datetime | None
    payable_on: datetime | None = Field(
        description="delivery + return_window_days; null until the order is delivered"
    )


class BonusReversalOut(BaseModel):
    """A GMV bonus (or part of a tier bonus) taken back because refunds took the session's
    GMV below the threshold that earned it."""

    live_session_id: int
    at: datetime
    reference: str = Field(description="the reversal's ledger reference")
    source: str = Field(description="tier (the contract's GMV tiers) | campaign (platform)")
    campaign_id: int | None
    reversed_minor: int = Field(description="the creator's part taken back (agency's apart)")
    gmv_from_minor: int | None = Field(
        description="the session's GMV the bonus was judged on before (null: not recorded)"
    )
    gmv_to_minor: int = Field(description="the session's GMV after the refunds")
    threshold_minor: int = Field(description="the threshold the GMV fell below")
    bonus_before_minor: int = Field(description="the whole bonus (creator + agency) before")
    bonus_after_minor: int = Field(description="the whole bonus after (0: all reversed)")
    reason: str = Field(description="the line shown to the creator (also the ledger memo)")


class SessionEarningsOut(BaseModel):
    live_session_id: int
    title: str
    status: str
    currency: str
    live_minutes: int
    base_fee_minor: int
    base_fee_status: str = Field(description="pending | earned | not_met | none")
    bonus_minor: int
    commission_pending_minor: int
    commission_payable_minor: int
    commission_minor: int
    projected_total_minor: int
    per_live_hour_minor: int | None
    orders: int
    gmv_minor: int
    pending_commissions: list[PendingCommissionOut] = Field(
        description="the pending commission per order, soonest payable first"
    )
    bonus_reversals: list[BonusReversalOut] = Field(
        default_factory=list,
        description="bonuses reversed by refunds after the session (bonus_minor is net of them)",
    )


class EarningsOut(BaseModel):
    creator_id: int
    currency: str | None
    days: int
    sessions: list[SessionEarningsOut]
    base_fees_minor: int
    bonuses_minor: int
    commission_pending_minor: int
    commission_payable_minor: int
    off_session_commission_minor: int
    projected_total_minor: int
    live_minutes: int
    per_live_hour_minor: int | None
    owed_now_minor: int
    pending_commissions: list[PendingCommissionOut] = Field(
        description="every pending commission in commission_pending_minor, soonest first"
    )
    bonus_reversals: list[BonusReversalOut] = Field(
        default_factory=list,
        description="bonus reversals of these sessions or posted in these days, oldest first",
    )


class SessionCostOut(BaseModel):
    live_session_id: int
    creator_id: int
    title: str
    currency: str
    orders: int
    gmv_minor: int
    creator_commission_minor: int
    base_fee_minor: int
    total_cost_minor: int
    cost_share_bp: int | None


class CreatorCostsOut(BaseModel):
    shop_id: int
    sessions: list[SessionCostOut]


class SettlementOut(BaseModel):
    live_session_id: int
    base_fee_minor: int
    bonus_minor: int
    base_fee_status: str
