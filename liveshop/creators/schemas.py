"""Creator-economy request and response bodies (inputs forbid unknown fields).

Rates and amounts are plain ints here on purpose: the services check their ranges and answer
with a specific problem code (``bad-rate``, ``bad-amount``, ``effective-date-in-past``).
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from pydantic import AfterValidator, AwareDatetime, BaseModel, ConfigDict, Field

from liveshop.creators.models import CampaignKind, CouponKind, PlanKind

MarketCode = Annotated[str, Field(pattern=r"^[A-Za-z]{2}$"), AfterValidator(str.upper)]
Currency = Annotated[str, Field(pattern=r"^[A-Za-z]{3}$"), AfterValidator(str.upper)]


class _In(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


# --- plans and attribution -------------------------------------------------------------------


class PlanItemIn(_In):
    product_id: int | None = Field(default=None, gt=0)
    category: str | None = Field(default=None, min_length=1, max_length=40)
    rate_bp: int = Field(description="Commission in basis points of the net price: 0..10000")


class PlanIn(_In):
    kind: PlanKind
    name: str = Field(default="", max_length=120)
    items: list[PlanItemIn] = Field(min_length=1, max_length=200)
    creator_ids: list[Annotated[int, Field(gt=0)]] = Field(default_factory=list, max_length=500)
    valid_from: AwareDatetime | None = None
    valid_until: AwareDatetime | None = None


class PlanItemOut(BaseModel):
    product_id: int | None
    category: str | None
    rate_bp: int


class PlanOut(BaseModel):
    id: int
    shop_id: int
    kind: PlanKind
    name: str
    valid_from: datetime
    valid_until: datetime | None
    items: list[PlanItemOut]
    creator_ids: list[int]


class PlanEndIn(_In):
    at: AwareDatetime | None = None


class ClickIn(_In):
    product_id: int = Field(gt=0)


class ClickOut(BaseModel):
    id: int
    creator_id: int
    product_id: int
    clicked_at: datetime
    attribution_window_days: int


class RateOut(BaseModel):
    product_id: int
    rate_bp: int
    covered: bool


# --- agencies and contracts ------------------------------------------------------------------


class AgencyIn(_In):
    name: str = Field(min_length=1, max_length=120)
    owner_id: int = Field(gt=0, description="A user with the agency role")


class AgencyOut(BaseModel):
    id: int
    name: str
    owner_id: int
    member_ids: list[int]


class MemberIn(_In):
    creator_id: int = Field(gt=0)


class TierIn(_In):
    gmv_minor: int
    bonus_minor: int


class ContractIn(_In):
    agency_id: int | None = Field(default=None, gt=0)
    agency_share_bp: int = 0
    base_fee_minor: int = 0
    currency: Currency
    min_live_minutes: int = 0
    gmv_tiers: list[TierIn] = Field(default_factory=list, max_length=20)
    effective_from: AwareDatetime | None = None


class ContractOut(BaseModel):
    id: int
    creator_id: int
    version: int
    agency_id: int | None
    agency_share_bp: int
    base_fee_minor: int
    currency: str
    min_live_minutes: int
    gmv_tiers: list[dict[str, int]]
    effective_from: datetime


# --- incentives ------------------------------------------------------------------------------


class CampaignIn(_In):
    market: MarketCode
    kind: CampaignKind
    name: str = Field(default="", max_length=120)
    value: int = Field(description="basis points (live_discount_bp) or minor units")
    budget_minor: int
    per_order_cap_minor: int
    gmv_threshold_minor: int = 0
    valid_from: AwareDatetime | None = None
    valid_until: AwareDatetime | None = None


class CampaignOut(BaseModel):
    id: int
    market: str
    currency: str
    kind: CampaignKind
    name: str
    value: int
    budget_minor: int
    per_order_cap_minor: int
    spent_minor: int
    gmv_threshold_minor: int
    valid_from: datetime
    valid_until: datetime | None


class CouponIn(_In):
    market: MarketCode
    kind: CouponKind
    value: int
    code: str | None = Field(default=None, min_length=3, max_length=40, pattern=r"^[A-Za-z0-9-]+$")
    max_uses: int | None = None
    per_buyer_limit: int = 1
    valid_from: AwareDatetime | None = None
    valid_until: AwareDatetime | None = None


class CouponOut(BaseModel):
    id: int
    shop_id: int
    market: str
    code: str | None
    kind: CouponKind
    value: int
    max_uses: int | None
    used_count: int
    per_buyer_limit: int
    valid_from: datetime
    valid_until: datetime | None


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
