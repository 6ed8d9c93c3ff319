"""Chat moderation: who is muted in a creator's rooms, and the log of what moderators did.

A comment's visibility itself is ``live_comments.hidden`` (the live domain's table); the
who/when of hiding it is the latest ``hide`` row of the moderation log.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import BigInteger, ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from liveshop.core.clock import utcnow
from liveshop.core.db import Base, BigIntPK, UTCDateTime

REASON_MAX = 200


class ModerationAction(StrEnum):
    HIDE = "hide"  # a comment was hidden from the room
    UNHIDE = "unhide"  # ... and shown again
    MUTE = "mute"  # a viewer may no longer comment in the creator's rooms
    UNMUTE = "unmute"  # ... the mute was lifted before it ran out


class ChatMute(Base):
    """A viewer muted in all of a creator's rooms until ``expires_at`` (None: until lifted).

    Rows are never deleted: lifting sets ``lifted_at``. A mute is in force while it is not
    lifted and not expired; muting someone again lifts the mute in force and adds a new one.
    """

    __tablename__ = "chat_mutes"
    __table_args__ = (Index("ix_chat_mutes_creator_user", "creator_id", "user_id"),)

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True)
    creator_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    # The session the mute was given in (for the record; it applies to every session).
    session_id: Mapped[int | None] = mapped_column(
        ForeignKey("live_sessions.id", ondelete="SET NULL"), nullable=True
    )
    reason: Mapped[str] = mapped_column(String(REASON_MAX), default="")
    muted_by: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL"), nullable=True
    )
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    lifted_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    lifted_by: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL"), nullable=True
    )


class ModerationLogEntry(Base):
    """One moderator action in a session's chat, newest last (append-only)."""

    __tablename__ = "chat_moderation_log"
    __table_args__ = (
        Index("ix_chat_moderation_log_session", "session_id", "id"),
        Index("ix_chat_moderation_log_comment", "comment_id"),
    )

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True)
    session_id: Mapped[int] = mapped_column(ForeignKey("live_sessions.id", ondelete="CASCADE"))
    actor_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL"), nullable=True
    )
    action: Mapped[str] = mapped_column(String(10))
    # hide/unhide: the comment; mute/unmute: the viewer.
    comment_id: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    target_user_id: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
