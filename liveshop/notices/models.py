"""One notice to one user: shown in their inbox, and e-mailed when an SMTP server is set."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import ForeignKey, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from liveshop.core.clock import utcnow
from liveshop.core.db import Base, BigIntPK, UTCDateTime


class EmailStatus(StrEnum):
    PENDING = "pending"  # to be e-mailed by the sender
    SENT = "sent"
    FAILED = "failed"  # gave up after MAX_ATTEMPTS
    SKIPPED = "skipped"  # no SMTP server configured: the inbox only


class Notice(Base):
    __tablename__ = "notices"
    __table_args__ = (
        Index("ix_notices_user", "user_id", "id"),
        Index("ix_notices_email", "email_status", "id"),
    )

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(40))  # e.g. "order.shipped"
    subject: Mapped[str] = mapped_column(String(200))
    body: Mapped[str] = mapped_column(String(2000))
    link: Mapped[str] = mapped_column(String(300), default="")  # a path in the app
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    read_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    email_status: Mapped[str] = mapped_column(String(10), default=EmailStatus.SKIPPED)
    email_attempts: Mapped[int] = mapped_column(Integer, default=0)
    emailed_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
