"""Live sessions, their showcase, who may control them, and the room's comments."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import (
    BigInteger,
    Boolean,
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

TITLE_MAX = 200
COMMENT_MAX = 500  # column size; the room's own limit (HubConfig.comment_max_chars) is lower


class SessionStatus(StrEnum):
    SCHEDULED = "scheduled"  # announced; the room is open as a waiting room
    LIVE = "live"  # the creator is streaming; comments, pins and deals happen now
    ENDED = "ended"  # over; stats are final
    CANCELLED = "cancelled"  # called off before it went live


# scheduled → live → ended, and scheduled → cancelled.
SESSION_TRANSITIONS: dict[SessionStatus, frozenset[SessionStatus]] = {
    SessionStatus.SCHEDULED: frozenset({SessionStatus.LIVE, SessionStatus.CANCELLED}),
    SessionStatus.LIVE: frozenset({SessionStatus.ENDED}),
    SessionStatus.ENDED: frozenset(),
    SessionStatus.CANCELLED: frozenset(),
}
OPEN_STATUSES = frozenset({SessionStatus.SCHEDULED, SessionStatus.LIVE})


class LiveSession(Base):
    __tablename__ = "live_sessions"
    __table_args__ = (
        Index("ix_live_sessions_status_market", "status", "market_code"),
        Index("ix_live_sessions_creator", "creator_id"),
        CheckConstraint(
            "planned_duration_minutes > 0 AND planned_duration_minutes <= 1440",
            name="duration_range",
        ),
        CheckConstraint("gmv_minor >= 0", name="gmv_not_negative"),
    )

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True)
    creator_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    title: Mapped[str] = mapped_column(String(TITLE_MAX))
    market_code: Mapped[str] = mapped_column(ForeignKey("markets.code"))
    # The market's currency when the session was created: gmv_minor is in it.
    currency: Mapped[str] = mapped_column(String(3))
    planned_start: Mapped[datetime] = mapped_column(UTCDateTime)
    planned_duration_minutes: Mapped[int] = mapped_column(Integer)
    status: Mapped[str] = mapped_column(String(10), default=SessionStatus.SCHEDULED)
    actual_start: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    actual_end: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    peak_viewers: Mapped[int] = mapped_column(Integer, default=0)
    # Time-weighted: viewer-seconds while live divided by seconds live.
    avg_viewers: Mapped[int] = mapped_column(Integer, default=0)
    likes: Mapped[int] = mapped_column(BigInteger, default=0)
    comments_count: Mapped[int] = mapped_column(Integer, default=0)
    orders_count: Mapped[int] = mapped_column(Integer, default=0)
    gmv_minor: Mapped[int] = mapped_column(MinorUnits, default=0)
    pinned_product_id: Mapped[int | None] = mapped_column(
        ForeignKey("products.id", ondelete="SET NULL"), nullable=True
    )
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class ShowcaseItem(Base):
    """A product the creator will present; only these can be pinned."""

    __tablename__ = "live_showcase_items"
    __table_args__ = (UniqueConstraint("session_id", "product_id"),)

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True)
    session_id: Mapped[int] = mapped_column(ForeignKey("live_sessions.id", ondelete="CASCADE"))
    product_id: Mapped[int] = mapped_column(ForeignKey("products.id", ondelete="CASCADE"))
    position: Mapped[int] = mapped_column(Integer, default=0)


class SessionModerator(Base):
    """A user who may run the room for a creator: all their sessions, or just one."""

    __tablename__ = "live_moderators"
    __table_args__ = (
        UniqueConstraint("creator_id", "session_id", "user_id"),
        Index("ix_live_moderators_user", "user_id"),
        CheckConstraint(
            "creator_id IS NOT NULL OR session_id IS NOT NULL", name="creator_or_session"
        ),
    )

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True)
    creator_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), nullable=True
    )
    session_id: Mapped[int | None] = mapped_column(
        ForeignKey("live_sessions.id", ondelete="CASCADE"), nullable=True
    )
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class LiveComment(Base):
    """A chat line. ``hidden`` is for moderation (the chat issue builds on it)."""

    __tablename__ = "live_comments"
    __table_args__ = (Index("ix_live_comments_session", "session_id", "id"),)

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True)
    session_id: Mapped[int] = mapped_column(ForeignKey("live_sessions.id", ondelete="CASCADE"))
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    text: Mapped[str] = mapped_column(String(COMMENT_MAX))
    hidden: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
