"""Follows (a viewer follows a creator or a shop) and reminders for a scheduled show."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import CheckConstraint, ForeignKey, Index, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from liveshop.core.clock import utcnow
from liveshop.core.db import Base, BigIntPK, UTCDateTime


class Follow(Base):
    """One viewer following one creator or one shop (exactly one of the two)."""

    __tablename__ = "follows"
    __table_args__ = (
        UniqueConstraint("user_id", "creator_id", name="uq_follows_user_creator"),
        UniqueConstraint("user_id", "shop_id", name="uq_follows_user_shop"),
        Index("ix_follows_creator", "creator_id"),
        Index("ix_follows_shop", "shop_id"),
        CheckConstraint("(creator_id IS NULL) <> (shop_id IS NULL)", name="creator_or_shop"),
    )

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    creator_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), nullable=True
    )
    shop_id: Mapped[int | None] = mapped_column(
        ForeignKey("shops.id", ondelete="CASCADE"), nullable=True
    )
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class ShowReminder(Base):
    """ "Remind me": tell this viewer when this scheduled show goes live."""

    __tablename__ = "show_reminders"
    __table_args__ = (
        UniqueConstraint("user_id", "session_id", name="uq_show_reminders_user_session"),
        Index("ix_show_reminders_session", "session_id"),
    )

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    session_id: Mapped[int] = mapped_column(ForeignKey("live_sessions.id", ondelete="CASCADE"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
