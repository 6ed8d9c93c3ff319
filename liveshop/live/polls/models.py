"""Polls and Q&A in a live room."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

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
from sqlalchemy.orm import Mapped, mapped_column

from liveshop.core.clock import utcnow
from liveshop.core.db import Base, BigIntPK, UTCDateTime

MAX_OPTIONS = 4


class Poll(Base):
    """The host's question with 2-4 options. Each vote raises one ``votes_<n>`` in a guarded
    UPDATE (``closed_at IS NULL``) in the transaction that records it (once per viewer: the
    unique constraint on ``poll_votes``)."""

    __tablename__ = "polls"
    __table_args__ = (Index("ix_polls_session", "session_id", "closed_at"),)

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True)
    session_id: Mapped[int] = mapped_column(ForeignKey("live_sessions.id", ondelete="CASCADE"))
    question: Mapped[str] = mapped_column(String(200))
    options: Mapped[list[str]] = mapped_column(JSON)
    votes_0: Mapped[int] = mapped_column(Integer, default=0)
    votes_1: Mapped[int] = mapped_column(Integer, default=0)
    votes_2: Mapped[int] = mapped_column(Integer, default=0)
    votes_3: Mapped[int] = mapped_column(Integer, default=0)
    created_by: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)

    def counts(self) -> list[int]:
        every = [self.votes_0, self.votes_1, self.votes_2, self.votes_3]
        return [int(v or 0) for v in every[: len(self.options)]]


class PollVote(Base):
    __tablename__ = "poll_votes"
    __table_args__ = (
        UniqueConstraint("poll_id", "user_id", name="uq_poll_votes_user"),
        CheckConstraint(f"option >= 0 AND option < {MAX_OPTIONS}", name="option_range"),
    )

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True)
    poll_id: Mapped[int] = mapped_column(ForeignKey("polls.id", ondelete="CASCADE"))
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    option: Mapped[int] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class QuestionStatus(StrEnum):
    OPEN = "open"  # waiting, ordered by upvotes
    ANSWERING = "answering"  # the host answers it now (one per room), shown to everyone
    ANSWERED = "answered"
    HELD = "held"  # the chat filter held it: only its author sees it


class Question(Base):
    __tablename__ = "live_questions"
    __table_args__ = (
        Index("ix_live_questions_session_status", "session_id", "status"),
        CheckConstraint("votes >= 0", name="votes_not_negative"),
    )

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True)
    session_id: Mapped[int] = mapped_column(ForeignKey("live_sessions.id", ondelete="CASCADE"))
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    text: Mapped[str] = mapped_column(String(300))
    status: Mapped[str] = mapped_column(String(10), default=QuestionStatus.OPEN)
    votes: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    answered_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)


class QuestionVote(Base):
    __tablename__ = "live_question_votes"
    __table_args__ = (UniqueConstraint("question_id", "user_id", name="uq_question_votes_user"),)

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True)
    question_id: Mapped[int] = mapped_column(ForeignKey("live_questions.id", ondelete="CASCADE"))
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
