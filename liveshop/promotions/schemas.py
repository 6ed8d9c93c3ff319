"""Promotion request and response bodies: campaigns and coupons (inputs forbid unknown fields).

Amounts are plain ints here on purpose: the services check their ranges and answer with a
specific problem code (``bad-rate``, ``bad-amount``, ``effective-date-in-past``).
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from pydantic import AfterValidator, AliasChoices, AwareDatetime, BaseModel, ConfigDict, Field

from liveshop.core.types import Integer, Line, SignedAmount
from liveshop.promotions.models import CampaignKind, CouponKind

MarketCode = Annotated[str, Field(pattern=r"^[A-Za-z]{2}$"), AfterValidator(str.upper)]


class _In(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


# --- campaigns and coupons ----------------------------------------------------------------------


class CampaignIn(_In):
    market: MarketCode
    kind: CampaignKind
    name: Line = Field(default="", max_length=120)
    value: Integer = Field(description="basis points (live_discount_bp) or minor units")
    budget_minor: SignedAmount
    per_order_cap_minor: SignedAmount
    gmv_threshold_minor: SignedAmount = 0
    valid_from: AwareDatetime | None = None
    valid_until: AwareDatetime | None = None


class CampaignOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)  # read from a SubsidyCampaign row

    id: int
    market: str = Field(validation_alias=AliasChoices("market", "market_code"))
    currency: str
    kind: CampaignKind
    name: str
    value: int
    budget_minor: int
    per_order_cap_minor: int
    spent_minor: int
    remaining_minor: int = Field(description="budget_minor - spent_minor")
    gmv_threshold_minor: int
    valid_from: datetime
    valid_until: datetime | None
    paused_at: datetime | None = None


class CouponIn(_In):
    market: MarketCode
    kind: CouponKind
    value: Integer
    code: str | None = Field(default=None, min_length=3, max_length=40, pattern=r"^[A-Za-z0-9-]+$")
    max_uses: Integer | None = None
    per_buyer_limit: Integer = 1
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
    deactivated_at: datetime | None = None
    state: str = Field(description="active, scheduled, expired, used_up or deactivated")


class CouponRedemptionOut(BaseModel):
    order_id: int
    buyer_id: int
    amount_minor: int = Field(description="The discount this order got")
    created_at: datetime
