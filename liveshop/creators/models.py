"""Creator economy tables: affiliate plans, attribution clicks, agencies, versioned contracts,
platform subsidy campaigns and seller coupons (payout statements: the ``payouts`` package).

Money is in minor units (BigInteger). Rates are basis points (0..10000), checked by the
database as well as by the services. Nothing here stores a balance: what a creator, agency or
shop is owed is always the ledger's SUM (see ``liveshop.ledger.parties``).
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    CheckConstraint,
    ForeignKey,
    Index,
    Integer,
    String,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from liveshop.core.clock import utcnow
from liveshop.core.db import Base, BigIntPK, MinorUnits, UTCDateTime


class PlanKind(StrEnum):
    OPEN = "open"  # any creator may promote the products at the plan's rates
    TARGETED = "targeted"  # only the named creators, usually at a better rate


class CampaignKind(StrEnum):
    LIVE_DISCOUNT_BP = "live_discount_bp"  # % off the price of goods bought in a live session
    FIXED_DISCOUNT_MINOR = "fixed_discount_minor"  # a fixed amount off each order
    FREE_SHIPPING = "free_shipping"  # the platform pays the order's shipping fee (up to the cap)
    CREATOR_GMV_BONUS = "creator_gmv_bonus"  # cash to the creator when a session's GMV is reached


class CouponKind(StrEnum):
    PERCENT_BP = "percent_bp"  # basis points off the order's goods
    FIXED_MINOR = "fixed_minor"  # a fixed amount off the order's goods


class AffiliatePlan(Base):
    """A shop's offer of commission to creators on some of its products."""

    __tablename__ = "affiliate_plans"
    __table_args__ = (Index("ix_affiliate_plans_shop", "shop_id"),)

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True)
    shop_id: Mapped[int] = mapped_column(ForeignKey("shops.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(10))
    name: Mapped[str] = mapped_column(String(120), default="")
    valid_from: Mapped[datetime] = mapped_column(UTCDateTime)
    valid_until: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    created_by: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    items: Mapped[list[AffiliatePlanItem]] = relationship(
        cascade="all, delete-orphan", lazy="selectin", order_by="AffiliatePlanItem.id"
    )
    creators: Mapped[list[AffiliatePlanCreator]] = relationship(
        cascade="all, delete-orphan", lazy="selectin", order_by="AffiliatePlanCreator.id"
    )


class AffiliatePlanItem(Base):
    """One rate: for a product, or for every product of a category (product wins)."""

    __tablename__ = "affiliate_plan_items"
    __table_args__ = (
        CheckConstraint("rate_bp >= 0 AND rate_bp <= 10000", name="rate_range"),
        CheckConstraint("(product_id IS NULL) <> (category IS NULL)", name="product_xor_category"),
        Index("ix_affiliate_plan_items_product", "product_id"),
    )

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True)
    plan_id: Mapped[int] = mapped_column(ForeignKey("affiliate_plans.id", ondelete="CASCADE"))
    product_id: Mapped[int | None] = mapped_column(
        ForeignKey("products.id", ondelete="CASCADE"), nullable=True
    )
    category: Mapped[str | None] = mapped_column(String(40), nullable=True)
    rate_bp: Mapped[int] = mapped_column(Integer)


class AffiliatePlanCreator(Base):
    """A creator named by a targeted plan."""

    __tablename__ = "affiliate_plan_creators"
    __table_args__ = (UniqueConstraint("plan_id", "creator_id"),)

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True)
    plan_id: Mapped[int] = mapped_column(ForeignKey("affiliate_plans.id", ondelete="CASCADE"))
    creator_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))


class AttributionClick(Base):
    """A buyer followed a creator's showcase or replay link to a product (7-day window)."""

    __tablename__ = "creator_attribution_clicks"
    __table_args__ = (
        Index("ix_creator_clicks_buyer_product", "buyer_id", "product_id", "clicked_at"),
    )

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True)
    buyer_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    creator_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    product_id: Mapped[int] = mapped_column(ForeignKey("products.id", ondelete="CASCADE"))
    clicked_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class Agency(Base):
    """An MCN: manages creators and takes the share their contracts give it."""

    __tablename__ = "agencies"

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True)
    name: Mapped[str] = mapped_column(String(120))
    owner_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class AgencyMember(Base):
    """A creator managed by an agency (one agency per creator at a time)."""

    __tablename__ = "agency_members"
    __table_args__ = (UniqueConstraint("creator_id"),)

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True)
    agency_id: Mapped[int] = mapped_column(ForeignKey("agencies.id", ondelete="CASCADE"))
    creator_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    joined_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class CreatorContract(Base):
    """One version of a creator's terms; it applies from ``effective_from`` until the next.

    Versions are append-only and never take effect in the past, so a cut can never rewrite
    what a creator already earned.
    """

    __tablename__ = "creator_contracts"
    __table_args__ = (
        UniqueConstraint("creator_id", "version"),
        Index("ix_creator_contracts_creator_from", "creator_id", "effective_from"),
        CheckConstraint("base_fee_minor >= 0", name="base_fee_not_negative"),
        CheckConstraint("min_live_minutes >= 0", name="min_minutes_not_negative"),
        CheckConstraint(
            "agency_share_bp >= 0 AND agency_share_bp <= 10000", name="agency_share_range"
        ),
    )

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True)
    creator_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    version: Mapped[int] = mapped_column(Integer)
    agency_id: Mapped[int | None] = mapped_column(
        ForeignKey("agencies.id", ondelete="RESTRICT"), nullable=True
    )
    agency_share_bp: Mapped[int] = mapped_column(Integer, default=0)
    base_fee_minor: Mapped[int] = mapped_column(MinorUnits, default=0)
    currency: Mapped[str] = mapped_column(String(3))
    min_live_minutes: Mapped[int] = mapped_column(Integer, default=0)
    # [{"gmv_minor": int, "bonus_minor": int}, ...] ascending; the highest tier reached pays.
    gmv_tiers: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    effective_from: Mapped[datetime] = mapped_column(UTCDateTime)
    created_by: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


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
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


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
