"""Affiliate tables: shops' plans (commission rates), buyers' attribution clicks, agencies and
versioned creator contracts.

Rates are basis points (0..10000), checked by the database as well as by the services. The
table names are the ones the creator economy gave them (migrations are unchanged).
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


class InvitationStatus(StrEnum):
    PENDING = "pending"  # sent by the agency, waiting for the creator
    ACCEPTED = "accepted"  # the creator joined: a member row and a contract version exist
    DECLINED = "declined"  # the creator said no
    WITHDRAWN = "withdrawn"  # the agency took it back before an answer


class AgencyInvitation(Base):
    """An agency's offer to manage a creator for a share of their money.

    Accepting it makes the creator a member and adds the contract version that gives the
    agency ``agency_share_bp`` from that moment on (never earlier): orders already placed keep
    the terms they were bought under.
    """

    __tablename__ = "agency_invitations"
    __table_args__ = (
        Index("ix_agency_invitations_creator", "creator_id", "status"),
        Index("ix_agency_invitations_agency", "agency_id"),
        CheckConstraint("agency_share_bp >= 0 AND agency_share_bp <= 10000", name="share_range"),
    )

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True)
    agency_id: Mapped[int] = mapped_column(ForeignKey("agencies.id", ondelete="CASCADE"))
    creator_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    agency_share_bp: Mapped[int] = mapped_column(Integer)
    currency: Mapped[str] = mapped_column(String(3))  # a first contract's, if the creator has none
    message: Mapped[str] = mapped_column(String(500), default="")
    status: Mapped[str] = mapped_column(String(10), default=InvitationStatus.PENDING)
    invited_by: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    answered_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    contract_id: Mapped[int | None] = mapped_column(
        ForeignKey("creator_contracts.id", ondelete="SET NULL"), nullable=True
    )
