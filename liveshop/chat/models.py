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


class ActorRole(StrEnum):
    """In what capacity someone moderated, as it was when they did (recorded, not derived:
    a moderator may be removed later)."""

    CREATOR = "creator"  # the session's creator
    MODERATOR = "moderator"  # one of the creator's moderators (all sessions or this one)
    ADMIN = "admin"
    PLATFORM_MODERATOR = "platform_moderator"  # the platform's chat moderators (Role.MODERATOR)


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
    """One moderator action in a session's chat, newest last (append-only).

    Read by ``chat.moderation_log`` (the log page and API): who (``actor_id`` in the capacity
    ``actor_role``), what (``action``), to whom (``target_user_id``), which comment, which
    mute."""

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
    # hide/unhide: the comment; every action: the viewer it was about (a comment's author).
    comment_id: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    target_user_id: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # An ActorRole; None only for rows older than revision 0011 whose actor it could not place.
    actor_role: Mapped[str | None] = mapped_column(String(20), nullable=True)
    # mute: the mute it gave; unmute: the mute it lifted; hide: the mute it came with, if any.
    mute_id: Mapped[int | None] = mapped_column(
        ForeignKey("chat_mutes.id", ondelete="SET NULL"), nullable=True
    )
