"""Promotion tables: platform subsidy campaigns (with their budget claims) and seller coupons.

Money is in minor units (BigInteger). A campaign's ``spent <= budget`` and a coupon's
``used_count <= max_uses`` are database CHECKs as well as the services' conditional UPDATEs.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import (
    BigInteger,
    CheckConstraint,
    ForeignKey,
    Index,
    Integer,
    String,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from liveshop.core.clock import utcnow
from liveshop.core.db import Base, BigIntPK, MinorUnits, UTCDateTime


class CampaignKind(StrEnum):
    LIVE_DISCOUNT_BP = "live_discount_bp"  # % off the price of goods bought in a live session
    FIXED_DISCOUNT_MINOR = "fixed_discount_minor"  # a fixed amount off each order
    FREE_SHIPPING = "free_shipping"  # the platform pays the order's shipping fee (up to the cap)
    CREATOR_GMV_BONUS = "creator_gmv_bonus"  # cash to the creator when a session's GMV is reached


class CouponKind(StrEnum):
    PERCENT_BP = "percent_bp"  # basis points off the order's goods
    FIXED_MINOR = "fixed_minor"  # a fixed amount off the order's goods


class SubsidyCampaign(Base):
    """Platform money for incentives in one market. ``spent <= budget`` always (the claim is a
    conditional UPDATE, and the database checks it too)."""

    __tablename__ = "subsidy_campaigns"
    __table_args__ = (
        Index("ix_subsidy_campaigns_market", "market_code"),
        CheckConstraint("budget_minor >= 0", name="budget_not_negative"),
        CheckConstraint("spent_minor >= 0 AND spent_minor <= budget_minor", name="within_budget"),
        CheckConstraint("per_order_cap_minor >= 0", name="cap_not_negative"),
        CheckConstraint("value >= 0", name="value_not_negative"),
    )

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True)
    market_code: Mapped[str] = mapped_column(ForeignKey("markets.code"))
    currency: Mapped[str] = mapped_column(String(3))
    kind: Mapped[str] = mapped_column(String(24))
    name: Mapped[str] = mapped_column(String(120), default="")
    value: Mapped[int] = mapped_column(MinorUnits, default=0)  # bp, or minor units, by kind
    # creator_gmv_bonus only: the session GMV that earns the bonus.
    gmv_threshold_minor: Mapped[int] = mapped_column(MinorUnits, default=0)
    budget_minor: Mapped[int] = mapped_column(MinorUnits)
    per_order_cap_minor: Mapped[int] = mapped_column(MinorUnits)
    spent_minor: Mapped[int] = mapped_column(MinorUnits, default=0)
    valid_from: Mapped[datetime] = mapped_column(UTCDateTime)
    valid_until: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    # Paused by an admin: no new order takes from its budget until it is resumed.
    paused_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    @property
    def remaining_minor(self) -> int:
        """What the budget still holds."""
        return self.budget_minor - self.spent_minor


class SubsidyClaim(Base):
    """Budget taken by one order (or one session's bonus); the audit trail of ``spent``.

    ``amount_minor`` is what was taken; ``returned_minor`` what came back to the budget (all of
    it when an unpaid order is cancelled, the refunded share when a paid one is refunded), so a
    campaign's ``spent = Σ (amount − returned)``. The database keeps ``returned <= amount``.
    """

    __tablename__ = "subsidy_claims"
    __table_args__ = (
        Index("ix_subsidy_claims_order", "order_id"),
        UniqueConstraint("campaign_id", "order_id"),
        UniqueConstraint("campaign_id", "live_session_id"),
        CheckConstraint(
            "returned_minor >= 0 AND returned_minor <= amount_minor", name="returned_within"
        ),
    )

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True)
    campaign_id: Mapped[int] = mapped_column(ForeignKey("subsidy_campaigns.id"))
    order_id: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    live_session_id: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    amount_minor: Mapped[int] = mapped_column(MinorUnits)
    returned_minor: Mapped[int] = mapped_column(MinorUnits, default=0, server_default="0")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class Coupon(Base):
    """A seller-funded discount: lowers the price the seller is paid on (not a subsidy)."""

    __tablename__ = "coupons"
    __table_args__ = (
        UniqueConstraint("shop_id", "code"),
        CheckConstraint("value > 0", name="value_positive"),
        CheckConstraint("used_count >= 0", name="used_not_negative"),
        CheckConstraint("max_uses IS NULL OR used_count <= max_uses", name="within_max_uses"),
        CheckConstraint("per_buyer_limit >= 1", name="per_buyer_positive"),
    )

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True)
    shop_id: Mapped[int] = mapped_column(ForeignKey("shops.id", ondelete="CASCADE"))
    market_code: Mapped[str] = mapped_column(ForeignKey("markets.code"))
    code: Mapped[str | None] = mapped_column(String(40), nullable=True)  # None: auto-applied
    kind: Mapped[str] = mapped_column(String(12))
    value: Mapped[int] = mapped_column(MinorUnits)
    max_uses: Mapped[int | None] = mapped_column(Integer, nullable=True)
    used_count: Mapped[int] = mapped_column(Integer, default=0)
    per_buyer_limit: Mapped[int] = mapped_column(Integer, default=1)
    valid_from: Mapped[datetime] = mapped_column(UTCDateTime)
    valid_until: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    # Deactivated by the shop: it applies to no new order (orders that used it keep it).
    deactivated_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class CouponBuyerUse(Base):
    """How often one buyer used one coupon (the per-buyer guard's row)."""

    __tablename__ = "coupon_buyer_uses"
    __table_args__ = (UniqueConstraint("coupon_id", "buyer_id"),)

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True)
    coupon_id: Mapped[int] = mapped_column(ForeignKey("coupons.id", ondelete="CASCADE"))
    buyer_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    uses: Mapped[int] = mapped_column(Integer, default=0)


class CouponRedemption(Base):
    __tablename__ = "coupon_redemptions"
    __table_args__ = (Index("ix_coupon_redemptions_order", "order_id"),)

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True)
    coupon_id: Mapped[int] = mapped_column(ForeignKey("coupons.id", ondelete="CASCADE"))
    buyer_id: Mapped[int] = mapped_column(BigInteger)
    order_id: Mapped[int] = mapped_column(BigInteger)
    amount_minor: Mapped[int] = mapped_column(MinorUnits)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
