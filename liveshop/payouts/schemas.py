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


class LedgerEntryOut(BaseModel):
    at: datetime
    reference: str
    reason: str = Field(
        description="order, refund, base_fee, bonus, bonus_reversal, payout or other"
    )
    memo: str
    order_id: int | None
    live_session_id: int | None
    statement_id: int | None
    amount_minor: int = Field(description="+ owed to the party, - taken back or paid out")
    owed_after_minor: int


class HeldOut(BaseModel):
    order_id: int
    amount_minor: int
    why: str = Field(description="awaiting_delivery or return_window")
    return_window_days: int
    delivered_at: datetime | None
    payable_on: datetime | None = Field(description="None until the order is delivered")


class PartyLedgerOut(BaseModel):
    party: str
    currency: str
    owed_minor: int
    held_minor: int
    payable_now_minor: int
    entries: list[LedgerEntryOut]
    held: list[HeldOut]


class PayoutRunIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    until: AwareDatetime = Field(description="the run's statements end here (in the past)")
    pay: bool = Field(default=False, strict=True)


class PayoutRunResultOut(BaseModel):
    party_kind: str
    party_id: int
    currency: str
    statement_id: int | None
    made: bool
    paid: bool
    payout_minor: int | None
    status: str | None
    error: str
