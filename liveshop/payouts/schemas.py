"""Payout statement request and response bodies (inputs forbid unknown fields)."""

from __future__ import annotations

from datetime import datetime

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field

from liveshop.core.types import MAX_ID
from liveshop.creators.schemas import Currency
from liveshop.ledger.parties import PartyKind


class StatementIn(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    party_kind: PartyKind
    party_id: int = Field(gt=0, strict=True, le=MAX_ID)
    period_start: AwareDatetime
    period_end: AwareDatetime
    currency: Currency


class StatementLineOut(BaseModel):
    at: datetime
    reference: str
    kind: str
    memo: str
    amount_minor: int = Field(description="+ earned (owed to the party), - deducted")
    owed_after_minor: int


class StatementOut(BaseModel):
    id: int
    party_kind: str
    party_id: int
    currency: str
    seq: int = Field(description="1, 2, … : the party's statements in this currency, in order")
    period_start: datetime
    period_end: datetime
    opening_owed_minor: int
    earned_minor: int
    deducted_minor: int
    closing_owed_minor: int
    pending_minor: int = Field(
        description="owed on orders whose return window had not passed by period_end"
    )
    earlier_payouts_minor: int = Field(
        description="earlier statements' payouts not yet deducted by period_end (not paid again)"
    )
    payout_minor: int = Field(description="max(0, closing_owed - pending - earlier_payouts)")
    status: str
    paid_at: datetime | None
    lines: list[StatementLineOut]
