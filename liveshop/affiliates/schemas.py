"""Affiliate request and response bodies: plans, clicks, rates, agencies, contracts (inputs
forbid unknown fields).

Rates and amounts are plain ints here on purpose: the services check their ranges and answer
with a specific problem code (``bad-rate``, ``bad-amount``, ``effective-date-in-past``).
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from pydantic import AfterValidator, AwareDatetime, BaseModel, ConfigDict, Field

from liveshop.affiliates.models import InvitationStatus, PlanKind
from liveshop.core.types import MAX_ID, BodyId, Integer, Line, SignedAmount

Currency = Annotated[str, Field(pattern=r"^[A-Za-z]{3}$"), AfterValidator(str.upper)]


class _In(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


# --- plans and attribution -------------------------------------------------------------------


class PlanItemIn(_In):
    product_id: int | None = Field(default=None, gt=0, strict=True, le=MAX_ID)
    category: Line | None = Field(default=None, min_length=1, max_length=40)
    rate_bp: Integer = Field(description="Commission in basis points of the net price: 0..10000")


class PlanIn(_In):
    kind: PlanKind
    name: Line = Field(default="", max_length=120)
    items: list[PlanItemIn] = Field(min_length=1, max_length=200)
    creator_ids: list[BodyId] = Field(default_factory=list, max_length=500)
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
    product_id: int = Field(gt=0, strict=True, le=MAX_ID)


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
    name: Line = Field(min_length=1, max_length=120)
    owner_id: int = Field(gt=0, description="A user with the agency role", strict=True, le=MAX_ID)


class AgencyOut(BaseModel):
    id: int
    name: str
    owner_id: int
    member_ids: list[int]


class MemberIn(_In):
    creator_id: int = Field(gt=0, strict=True, le=MAX_ID)


class TierIn(_In):
    gmv_minor: SignedAmount
    bonus_minor: SignedAmount


class ContractIn(_In):
    agency_id: int | None = Field(default=None, gt=0, strict=True, le=MAX_ID)
    agency_share_bp: Integer = 0
    base_fee_minor: SignedAmount = 0
    currency: Currency
    min_live_minutes: Integer = 0
    gmv_tiers: list[TierIn] = Field(default_factory=list, max_length=20)
    effective_from: AwareDatetime | None = None


class ContractOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)  # read from a CreatorContract row

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


class PlanReviseIn(_In):
    """New terms from now on (the plan ends now; its successor starts now with these)."""

    name: Line | None = Field(default=None, max_length=120)
    items: list[PlanItemIn] = Field(min_length=1, max_length=200)
    creator_ids: list[BodyId] = Field(default_factory=list, max_length=500)
    valid_until: AwareDatetime | None = None


class InvitationIn(_In):
    email: Line = Field(min_length=3, max_length=254)
    agency_share_bp: Integer = Field(description="The agency's share in basis points: 0..10000")
    currency: Currency = Field(description="A first contract's currency, if the creator has none")
    message: Line = Field(default="", max_length=500)


class InvitationOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)  # read from an AgencyInvitation row

    id: int
    agency_id: int
    creator_id: int
    agency_share_bp: int
    currency: str
    message: str
    status: InvitationStatus
    created_at: datetime
    answered_at: datetime | None
    contract_id: int | None
