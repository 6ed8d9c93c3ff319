from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import (
    Boolean,
    CheckConstraint,
    ForeignKey,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy import true as sa_true
from sqlalchemy.orm import Mapped, mapped_column

from liveshop.core.clock import utcnow
from liveshop.core.db import Base, BigIntPK, MinorUnits, UTCDateTime


class LaunchState(StrEnum):
    PLANNED = "planned"  # on the roadmap: catalog can be prepared, nothing can be sold
    PILOT = "pilot"  # selling to a limited audience while adoption is measured
    LIVE = "live"  # open to everyone
    PAUSED = "paused"  # selling stopped (was pilot or live); orders in flight continue


SELLABLE_STATES = frozenset({LaunchState.PILOT, LaunchState.LIVE})

MAX_RETURN_WINDOW_DAYS = 365  # a longer "return window" is a typo, not a policy
MAX_SHIPPING_FEE_MINOR = 10**9  # an overflow guard; sensible fees are far below it
MAX_DISPATCH_DAYS = 30  # working days a seller may have to hand a paid order to a carrier
MAX_AUTO_CANCEL_DAYS = 60  # working days of grace after that before it is cancelled

# planned → pilot → live → paused, and back from paused to pilot or live.
LAUNCH_TRANSITIONS: dict[LaunchState, frozenset[LaunchState]] = {
    LaunchState.PLANNED: frozenset({LaunchState.PILOT}),
    LaunchState.PILOT: frozenset({LaunchState.LIVE, LaunchState.PAUSED}),
    LaunchState.LIVE: frozenset({LaunchState.PAUSED}),
    LaunchState.PAUSED: frozenset({LaunchState.PILOT, LaunchState.LIVE}),
}


class Market(Base):
    __tablename__ = "markets"
    __table_args__ = (
        CheckConstraint("tax_rate_bp >= 0 AND tax_rate_bp <= 10000", name="tax_rate_range"),
        CheckConstraint("currency_exponent >= 0 AND currency_exponent <= 4", name="exponent_range"),
        CheckConstraint(
            f"return_window_days >= 0 AND return_window_days <= {MAX_RETURN_WINDOW_DAYS}",
            name="return_window_range",
        ),
        CheckConstraint("shipping_fee_minor >= 0", name="shipping_fee_not_negative"),
    )

    code: Mapped[str] = mapped_column(String(2), primary_key=True)  # ISO 3166-1 alpha-2
    name: Mapped[str] = mapped_column(String(80))
    currency: Mapped[str] = mapped_column(String(3))  # ISO 4217 alphabetic code
    currency_exponent: Mapped[int] = mapped_column(Integer)  # ISO 4217 minor unit
    locale: Mapped[str] = mapped_column(String(16))  # babel/CLDR locale for display
    timezone: Mapped[str] = mapped_column(String(64))
    tax_name: Mapped[str] = mapped_column(String(32))
    tax_rate_bp: Mapped[int] = mapped_column(Integer)  # basis points: 2000 = 20 %
    prices_include_tax: Mapped[bool] = mapped_column(Boolean)
    platform_commission_bp: Mapped[int] = mapped_column(Integer, default=500)
    launch_state: Mapped[str] = mapped_column(String(10), default=LaunchState.PLANNED)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # Days after delivery a buyer may still return goods; commission is pending until then.
    return_window_days: Mapped[int] = mapped_column(Integer, default=14, server_default="14")
    # Flat shipping charged per shop order, in minor units, written like the market's prices
    # (tax included where prices include tax).
    shipping_fee_minor: Mapped[int] = mapped_column(MinorUnits, default=0, server_default="0")
    # The dispatch promise (``logistics.sla``): a paid order is handed to a carrier within
    # ``dispatch_days`` working days; one still not with a carrier ``auto_cancel_days``
    # working days after that deadline is cancelled and refunded.
    dispatch_days: Mapped[int] = mapped_column(Integer, default=2, server_default="2")
    auto_cancel_days: Mapped[int] = mapped_column(Integer, default=3, server_default="3")
    # Whether live auctions may run in this market's rooms (some markets regulate them).
    auctions_enabled: Mapped[bool] = mapped_column(Boolean, default=True, server_default=sa_true())
    # The terms of the market's live giveaways (shown on every giveaway; an admin edits them,
    # ``PATCH /markets/{code}``); None: the platform's default wording.
    giveaway_terms: Mapped[str | None] = mapped_column(Text, nullable=True)


class MarketLaunchEvent(Base):
    """Every launch-state change, kept so adoption can be read against launch dates."""

    __tablename__ = "market_launch_events"

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True)
    market_code: Mapped[str] = mapped_column(ForeignKey("markets.code", ondelete="CASCADE"))
    from_state: Mapped[str] = mapped_column(String(10))
    to_state: Mapped[str] = mapped_column(String(10))
    changed_by: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL"), nullable=True
    )
    reason: Mapped[str] = mapped_column(String(500), default="")
    changed_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class CategoryCommission(Base):
    """Platform commission for one product category in one market (overrides the default)."""

    __tablename__ = "category_commissions"
    __table_args__ = (
        UniqueConstraint("market_code", "category"),
        CheckConstraint("rate_bp >= 0 AND rate_bp <= 10000", name="rate_range"),
    )

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True)
    market_code: Mapped[str] = mapped_column(ForeignKey("markets.code", ondelete="CASCADE"))
    category: Mapped[str] = mapped_column(String(40))
    rate_bp: Mapped[int] = mapped_column(Integer)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
