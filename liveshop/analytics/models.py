"""Analytics' tables: the raw events (append-only, per-day partitions on PostgreSQL), the
per-minute and per-viewer rollups built from them, and the admins' targets per market.

The raw table has no primary key on purpose: it is written in batches by the capture writer
and read by the rollup, never row by row; on PostgreSQL it is partitioned by day on ``at``
(declarative RANGE partitions in the ``analytics_parts`` schema, created ahead by
``rollup.ensure_partitions``, with a DEFAULT partition so an insert never fails), so old days
are dropped whole by the retention job. On SQLite it is a plain table.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import BigInteger, Column, ForeignKey, Index, Integer, String, Table
from sqlalchemy.orm import Mapped, mapped_column

from liveshop.core.clock import utcnow
from liveshop.core.db import Base, MinorUnits, UTCDateTime

PARTITION_SCHEMA = "analytics_parts"


class Kind(StrEnum):
    IMPRESSION = "impression"  # a show's card was seen (home page, creator page)
    JOIN = "join"  # a socket joined a room (counted viewers only)
    LEAVE = "leave"
    HEARTBEAT = "hb"  # a real player: the tab visible and the video playing
    COMMENT = "comment"
    PRODUCT_VIEW = "product_view"
    CLAIM = "claim"  # a tap on a drop that got units (or a cart add)
    CHECKOUT = "checkout"  # an order placed (not yet paid)
    PAYMENT = "payment"  # an order paid (amount: its goods, the GMV)
    REFUND = "refund"  # units refunded (amount: what went back)
    PIN = "pin"  # the host pinned a product (chart marker)
    DEAL = "deal"  # a flash deal started (chart marker)


events_table = Table(
    "analytics_events",
    Base.metadata,
    Column("at", UTCDateTime, nullable=False),
    Column("minute", BigInteger, nullable=False),  # minutes since the Unix epoch (UTC)
    Column("kind", String(16), nullable=False),
    Column("market_code", String(2), nullable=True),
    Column("session_id", BigInteger, nullable=True),
    Column("creator_id", BigInteger, nullable=True),
    Column("shop_id", BigInteger, nullable=True),
    Column("product_id", BigInteger, nullable=True),
    Column("order_id", BigInteger, nullable=True),
    Column("buyer_id", BigInteger, nullable=True),
    Column("viewer", String(24), nullable=True),  # anonymous but stable (see capture.viewer_key)
    Column("amount_minor", BigInteger, nullable=False, default=0),
    # A heartbeat: the seconds of watching it stands for (the player's interval, capped).
    Column("seconds", Integer, nullable=False, default=0),
    Index("ix_analytics_events_session_minute", "session_id", "minute"),
    Index("ix_analytics_events_market_minute", "market_code", "minute"),
)


class MinuteRollup(Base):
    """One live session's minute: counted viewers and what they did."""

    __tablename__ = "analytics_minutes"
    __table_args__ = (Index("ix_analytics_minutes_market_minute", "market_code", "minute"),)

    session_id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    minute: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    market_code: Mapped[str | None] = mapped_column(String(2), nullable=True)
    creator_id: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    viewers: Mapped[int] = mapped_column(Integer, default=0)  # distinct heartbeating viewers
    heartbeats: Mapped[int] = mapped_column(Integer, default=0)
    watch_seconds: Mapped[int] = mapped_column(BigInteger, default=0)
    joins: Mapped[int] = mapped_column(Integer, default=0)
    comments: Mapped[int] = mapped_column(Integer, default=0)
    product_views: Mapped[int] = mapped_column(Integer, default=0)
    claims: Mapped[int] = mapped_column(Integer, default=0)
    checkouts: Mapped[int] = mapped_column(Integer, default=0)
    orders: Mapped[int] = mapped_column(Integer, default=0)
    gmv_minor: Mapped[int] = mapped_column(MinorUnits, default=0)
    refunds: Mapped[int] = mapped_column(Integer, default=0)
    refunded_minor: Mapped[int] = mapped_column(MinorUnits, default=0)
    pins: Mapped[int] = mapped_column(Integer, default=0)
    deals: Mapped[int] = mapped_column(Integer, default=0)


class SessionViewer(Base):
    """One counted viewer of one session: unique viewers and watch time outlive the raw
    events' retention."""

    __tablename__ = "analytics_session_viewers"

    session_id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    viewer: Mapped[str] = mapped_column(String(24), primary_key=True)
    heartbeats: Mapped[int] = mapped_column(Integer, default=0)
    watch_seconds: Mapped[int] = mapped_column(BigInteger, default=0)
    first_minute: Mapped[int] = mapped_column(BigInteger)
    last_minute: Mapped[int] = mapped_column(BigInteger)


class ViewerDay(Base):
    """One viewer's day in one market: reached (a card seen or a room joined) and watched
    (heartbeats). The weekly funnel counts distinct viewers over seven of these days."""

    __tablename__ = "analytics_viewer_days"
    __table_args__ = (Index("ix_analytics_viewer_days_day", "market_code", "day"),)

    market_code: Mapped[str] = mapped_column(String(2), primary_key=True)
    day: Mapped[int] = mapped_column(Integer, primary_key=True)  # days since the Unix epoch
    viewer: Mapped[str] = mapped_column(String(24), primary_key=True)
    impressions: Mapped[int] = mapped_column(Integer, default=0)
    joins: Mapped[int] = mapped_column(Integer, default=0)
    heartbeats: Mapped[int] = mapped_column(Integer, default=0)
    watch_seconds: Mapped[int] = mapped_column(BigInteger, default=0)


class RollupState(Base):
    """How far the rollup has gone: every minute before ``done_minute`` is rolled up."""

    __tablename__ = "analytics_rollup_state"

    name: Mapped[str] = mapped_column(String(32), primary_key=True)
    done_minute: Mapped[int] = mapped_column(BigInteger)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class MarketTarget(Base):
    """What an admin wants a market to reach before it goes (or stays) live."""

    __tablename__ = "analytics_market_targets"

    market_code: Mapped[str] = mapped_column(
        ForeignKey("markets.code", ondelete="CASCADE"), primary_key=True
    )
    monthly_buyers: Mapped[int] = mapped_column(Integer, default=0)
    repeat_rate_bp: Mapped[int] = mapped_column(Integer, default=0)  # 2500 = 25 %
    creators_per_week: Mapped[int] = mapped_column(Integer, default=0)
    updated_by: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL"), nullable=True
    )
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
