"""Support cases: a buyer's complaint to a shop, opened from a live room's chat, with the
order it is about (when the buyer has one from the shop), the messages both sides wrote,
and when it was resolved."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import BigInteger, Boolean, ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from liveshop.core.clock import utcnow
from liveshop.core.db import Base, BigIntPK, UTCDateTime

MESSAGE_MAX = 2000


class CaseStatus(StrEnum):
    OPEN = "open"
    RESOLVED = "resolved"


class RoutedBy(StrEnum):
    """How a case found its shop."""

    ORDER = "order"  # the author's order from that shop (the evidence)
    # No order of the author's matched any shop of the show:
    PINNED = "pinned"  # the shop of the product on screen (pinned) when they wrote
    OWNER = "owner"  # nothing pinned: the shop the show's host owns
    SHOWCASE = "showcase"  # the host owns no shop: the showcase's first


class SupportCase(Base):
    """One case in a shop's support inbox.

    ``session_id``/``creator_id``: the show it was raised in (the creator is shown how many,
    never who). ``comment_id``: the chat line (held from the room). ``order_id``: the buyer's
    order from this shop the complaint most likely concerns (the most recent one), or None.
    """

    __tablename__ = "support_cases"
    __table_args__ = (
        Index("ix_support_cases_shop_status", "shop_id", "status", "id"),
        Index("ix_support_cases_buyer", "buyer_id", "shop_id", "status"),
        Index("ix_support_cases_session", "session_id"),
    )

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True)
    shop_id: Mapped[int] = mapped_column(ForeignKey("shops.id", ondelete="CASCADE"))
    buyer_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    order_id: Mapped[int | None] = mapped_column(
        ForeignKey("orders.id", ondelete="SET NULL"), nullable=True
    )
    session_id: Mapped[int | None] = mapped_column(
        ForeignKey("live_sessions.id", ondelete="SET NULL"), nullable=True
    )
    creator_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL"), nullable=True
    )
    comment_id: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    category: Mapped[str] = mapped_column(String(10))  # a helpdesk.classify.Category
    status: Mapped[str] = mapped_column(String(10), default=CaseStatus.OPEN)
    routed_by: Mapped[str | None] = mapped_column(String(10), nullable=True)  # a RoutedBy
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    first_reply_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    resolved_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    resolved_by: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL"), nullable=True
    )


class SupportMessage(Base):
    """A line in a case: the buyer's comment (and later ones), the shop's replies."""

    __tablename__ = "support_messages"
    __table_args__ = (Index("ix_support_messages_case", "case_id", "id"),)

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("support_cases.id", ondelete="CASCADE"))
    author_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL"), nullable=True
    )
    from_shop: Mapped[bool] = mapped_column(Boolean, default=False)
    body: Mapped[str] = mapped_column(String(MESSAGE_MAX))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
