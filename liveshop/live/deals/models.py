"""Flash deals: a deal price on units allocated out of real stock for a limited time."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import BigInteger, CheckConstraint, ForeignKey, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from liveshop.core.clock import utcnow
from liveshop.core.db import Base, BigIntPK, MinorUnits, UTCDateTime


class DealStatus(StrEnum):
    ACTIVE = "active"  # on sale in the room until ends_at or sold out
    ENDED = "ended"  # over (sold out, timed out or ended early); unsold units released


class DealEndReason(StrEnum):
    SOLD_OUT = "sold_out"
    EXPIRED = "expired"
    ENDED_EARLY = "ended_early"


class FlashDeal(Base):
    """``reservation_id`` holds the deal's units (inventory reference ``deal:<id>``); each
    buyer's units are split off it, so the room can never sell more than was allocated."""

    __tablename__ = "flash_deals"
    __table_args__ = (
        Index("ix_flash_deals_session_status", "session_id", "status"),
        CheckConstraint("units > 0", name="units_positive"),
        CheckConstraint("price_minor >= 0", name="price_not_negative"),
        CheckConstraint("sold >= 0 AND sold <= units", name="sold_within_units"),
        CheckConstraint(
            "per_buyer_limit IS NULL OR (per_buyer_limit >= 1 AND per_buyer_limit <= units)",
            name="per_buyer_limit_within_units",
        ),
    )

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True)
    session_id: Mapped[int] = mapped_column(ForeignKey("live_sessions.id", ondelete="CASCADE"))
    product_id: Mapped[int] = mapped_column(BigInteger)
    sku_id: Mapped[int] = mapped_column(ForeignKey("skus.id"))
    price_minor: Mapped[int] = mapped_column(MinorUnits)
    regular_price_minor: Mapped[int] = mapped_column(MinorUnits)
    currency: Mapped[str] = mapped_column(String(3))
    units: Mapped[int] = mapped_column(Integer)
    # Units one buyer may take from this deal (None: no limit). Fixed when the deal starts.
    per_buyer_limit: Mapped[int | None] = mapped_column(Integer, nullable=True)
    sold: Mapped[int] = mapped_column(Integer, default=0)
    reservation_id: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    status: Mapped[str] = mapped_column(String(10), default=DealStatus.ACTIVE)
    end_reason: Mapped[str | None] = mapped_column(String(12), nullable=True)
    created_by: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    starts_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    ends_at: Mapped[datetime] = mapped_column(UTCDateTime)
    ended_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)


class FlashDealBuyer(Base):
    """How many of a limited deal's units one buyer holds or bought (``live.deals.limits``).

    Only the guarded ``UPDATE … SET units = units + n WHERE units + n <= limit`` moves it up,
    so two taps of one buyer on two connections can never together pass the deal's limit."""

    __tablename__ = "flash_deal_buyers"
    __table_args__ = (CheckConstraint("units >= 0", name="units_not_negative"),)

    deal_id: Mapped[int] = mapped_column(
        ForeignKey("flash_deals.id", ondelete="CASCADE"), primary_key=True
    )
    buyer_id: Mapped[int] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), primary_key=True
    )
    units: Mapped[int] = mapped_column(Integer, default=0)
