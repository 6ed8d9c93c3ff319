"""Creator economy tables: payout statements.

Money is in minor units (BigInteger). Nothing here stores a balance: what a creator, agency or
shop is owed is always the ledger's SUM (see ``payouts.py``). Plans, clicks, agencies and
contracts are ``liveshop.affiliates``'; campaigns and coupons ``liveshop.promotions``'.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import (
    BigInteger,
    Index,
    Integer,
    String,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from liveshop.core.clock import utcnow
from liveshop.core.db import Base, BigIntPK, MinorUnits, UTCDateTime


class PartyKind(StrEnum):
    CREATOR = "creator"  # a creator's creator_payable account
    AGENCY = "agency"  # an agency's agency_payable account
    SHOP = "shop"  # a shop's seller_payable account


class StatementStatus(StrEnum):
    OPEN = "open"  # computed; nothing paid yet
    PAID = "paid"  # the payout transaction is in the ledger
    NOTHING_DUE = "nothing_due"  # nothing payable (a negative balance carries forward)


class PayoutStatement(Base):
    """A period's statement for one party and currency, built from the ledger.

    The lines are the ledger's (immutable), so they are re-read, not copied; the totals are
    stored as they were when the statement was made. A party's statements in one currency
    form a chain, ``seq`` 1, 2, 3 … in period order, each starting where the previous one
    ended or later (the unique ``seq`` is the guard: two statements made at once cannot both
    follow the same one), so periods never overlap and each one is made knowing every earlier
    one's payout.
    """

    __tablename__ = "payout_statements"
    __table_args__ = (
        UniqueConstraint("party_kind", "party_id", "currency", "period_start"),
        Index("ix_payout_statements_party", "party_kind", "party_id"),
        Index(
            "uq_payout_statements_party_currency_seq",
            "party_kind",
            "party_id",
            "currency",
            "seq",
            unique=True,
        ),
    )

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True)
    party_kind: Mapped[str] = mapped_column(String(10))
    party_id: Mapped[int] = mapped_column(BigInteger)
    currency: Mapped[str] = mapped_column(String(3))
    seq: Mapped[int] = mapped_column(Integer)  # 1, 2, … per party and currency, period order
    period_start: Mapped[datetime] = mapped_column(UTCDateTime)
    period_end: Mapped[datetime] = mapped_column(UTCDateTime)
    opening_owed_minor: Mapped[int] = mapped_column(MinorUnits)
    earned_minor: Mapped[int] = mapped_column(MinorUnits)  # credits in the period
    deducted_minor: Mapped[int] = mapped_column(MinorUnits)  # debits (refunds, payouts)
    closing_owed_minor: Mapped[int] = mapped_column(MinorUnits)
    pending_minor: Mapped[int] = mapped_column(MinorUnits)  # not yet past the return window
    # Earlier statements' payouts the ledger had not deducted by period_end (still open, or
    # paid after it): already promised, so not paid again by this one.
    earlier_payouts_minor: Mapped[int] = mapped_column(MinorUnits, default=0, server_default="0")
    payout_minor: Mapped[int] = mapped_column(MinorUnits)
    status: Mapped[str] = mapped_column(String(12), default=StatementStatus.OPEN)
    paid_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
