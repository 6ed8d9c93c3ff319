"""Chat moderation: who is muted in a creator's rooms, the log of what moderators (and the
automatic filter) did, and the filter's lists of blocked terms and switches.

A comment's visibility itself is ``live_comments.hidden`` (the live domain's table); the
who/when of hiding it is the latest ``hide`` row of the moderation log.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import (
    BigInteger,
    Boolean,
    ForeignKey,
    Index,
    String,
    UniqueConstraint,
    false,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column

from liveshop.chat.filter_rules import TERM_MAX
from liveshop.core.clock import utcnow
from liveshop.core.db import Base, BigIntPK, UTCDateTime

REASON_MAX = 200


class ModerationAction(StrEnum):
    HIDE = "hide"  # a comment was hidden from the room
    UNHIDE = "unhide"  # ... and shown again
    MUTE = "mute"  # a viewer may no longer comment in the creator's rooms
    UNMUTE = "unmute"  # ... the mute was lifted before it ran out
    BAN = "ban"  # a viewer may no longer comment (nor bid, nor enter) in the creator's rooms
    UNBAN = "unban"  # ... the ban was lifted


class ActorRole(StrEnum):
    """In what capacity someone moderated, as it was when they did (recorded, not derived:
    a moderator may be removed later)."""

    CREATOR = "creator"  # the session's creator
    MODERATOR = "moderator"  # one of the creator's moderators (all sessions or this one)
    ADMIN = "admin"
    PLATFORM_MODERATOR = "platform_moderator"  # the platform's chat moderators (Role.MODERATOR)
    FILTER = "filter"  # the automatic comment filter (no actor): a blocked term or a link


class FilterRule(StrEnum):
    """Which rule of the automatic filter held a comment."""

    CREATOR_TERM = "creator_term"  # a term of the creator's own list
    PLATFORM_TERM = "platform_term"  # a term of the platform's list
    LINK = "link"  # a URL, e-mail address or phone number, while links are held
    # A complaint about an order, stock or delivery (``helpdesk.classify``): held from the
    # room and routed to the seller as a support case.
    COMPLAINT = "complaint"


class ReportReason(StrEnum):
    """Why a viewer reported a comment or a viewer."""

    SPAM = "spam"
    ABUSE = "abuse"  # harassment, hate
    SCAM = "scam"  # fraud, off-platform payment
    OTHER = "other"


class ReportSubject(StrEnum):
    """What a report is about."""

    COMMENT = "comment"  # a comment (and so its author)
    VIEWER = "viewer"  # a viewer, for how they behave in the room
    SHOW = "show"  # the show itself (its target is the host)


class ReportStatus(StrEnum):
    OPEN = "open"  # in the moderators' queue
    DISMISSED = "dismissed"  # a moderator saw nothing to do
    ACTIONED = "actioned"  # a moderator hid, muted or banned because of it


class ChatMute(Base):
    """A viewer muted in all of a creator's rooms until ``expires_at`` (None: until lifted).

    A *ban* is a row with ``ban`` set: no end, lifted only by a moderator; besides
    commenting it also bars bids and giveaway entries. A mute never replaces a ban (muting a
    banned viewer is refused); a ban replaces the mute in force.

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
    ban: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())


class ChatReport(Base):
    """A viewer's report of a comment (and its author) or of a viewer, in a session's room:
    in the queue of the creator's moderators (and the platform's) until one handles it.

    One report per reporter and comment (a repeat changes nothing)."""

    __tablename__ = "chat_reports"
    __table_args__ = (
        UniqueConstraint("reporter_id", "comment_id", name="uq_chat_reports_reporter_comment"),
        Index("ix_chat_reports_session_status", "session_id", "status", "id"),
        Index("ix_chat_reports_creator_status", "creator_id", "status", "id"),
        Index(
            "uq_chat_reports_reporter_show",
            "reporter_id",
            "session_id",
            unique=True,
            postgresql_where=text("subject = 'show'"),
            sqlite_where=text("subject = 'show'"),
        ),
    )

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True)
    session_id: Mapped[int] = mapped_column(ForeignKey("live_sessions.id", ondelete="CASCADE"))
    creator_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    reporter_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    comment_id: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    target_user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    # A ReportSubject (None: from before it was recorded — a comment if comment_id is set).
    subject: Mapped[str | None] = mapped_column(String(8), nullable=True)
    reason: Mapped[str] = mapped_column(String(10))  # a ReportReason
    note: Mapped[str] = mapped_column(String(REASON_MAX), default="")
    status: Mapped[str] = mapped_column(String(10), default=ReportStatus.OPEN)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    handled_by: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL"), nullable=True
    )
    handled_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)


class ModerationLogEntry(Base):
    """One moderator action in a session's chat, newest last (append-only).

    Read by ``chat.moderation_log`` (the log page and API): who (``actor_id`` in the capacity
    ``actor_role``), what (``action``), to whom (``target_user_id``), which comment, which
    mute. A comment the automatic filter held is a ``hide`` with no actor, ``actor_role``
    "filter" and the rule and match in ``filter_rule`` / ``filter_match``."""

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
    # A hide by the automatic filter (actor_role "filter", no actor): the FilterRule, and
    # what matched — the term as listed, or the kind of link ("url", "email", "phone").
    filter_rule: Mapped[str | None] = mapped_column(String(20), nullable=True)
    filter_match: Mapped[str | None] = mapped_column(String(TERM_MAX), nullable=True)


class BlockedTerm(Base):
    """A term in a creator's own list: comments with it are held in all their rooms.

    ``term`` is folded (``chat.filter_rules.normalise_term``); the creator and their
    moderators of all sessions manage the list (``chat.filters``)."""

    __tablename__ = "chat_blocked_terms"
    __table_args__ = (UniqueConstraint("creator_id", "term"),)

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True)
    creator_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    term: Mapped[str] = mapped_column(String(TERM_MAX))
    created_by: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL"), nullable=True
    )
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class PlatformBlockedTerm(Base):
    """A term in the platform's list (admins): held in every room, or only in the rooms of
    one market (``market_code``) or of the markets of one language (``language``, the
    market locale's language). '' means no such limit."""

    __tablename__ = "chat_platform_blocked_terms"
    __table_args__ = (UniqueConstraint("market_code", "language", "term"),)

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True)
    market_code: Mapped[str] = mapped_column(String(2), default="", server_default="")
    language: Mapped[str] = mapped_column(String(8), default="", server_default="")
    term: Mapped[str] = mapped_column(String(TERM_MAX))
    created_by: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL"), nullable=True
    )
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class ChatFilterSettings(Base):
    """A creator's filter switches (no row: the defaults)."""

    __tablename__ = "chat_filter_settings"

    creator_id: Mapped[int] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), primary_key=True
    )
    # Hold comments carrying a URL, an e-mail address or a phone number.
    hold_links: Mapped[bool] = mapped_column(Boolean, default=False)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_by: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL"), nullable=True
    )


class PlatformFilterSettings(Base):
    """The platform's filter switches, for every market ('') or one market (no row: off)."""

    __tablename__ = "chat_platform_filter_settings"

    market_code: Mapped[str] = mapped_column(String(2), primary_key=True)
    hold_links: Mapped[bool] = mapped_column(Boolean, default=False)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_by: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL"), nullable=True
    )
