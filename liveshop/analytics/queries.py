"""Reading the numbers: a session's audience and per-minute series, its buyers and top
products, a creator's, a shop's and a market's figures.

A session's series is its rolled-up minutes plus, for the minutes the rollup has not reached
yet, the same aggregate read from the raw events (``rollup.minute_aggregate``): the live
dashboard and the after-show page show the same numbers a later rollup keeps.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from sqlalchemy import Row, distinct, func, select, union
from sqlalchemy.ext.asyncio import AsyncSession

from liveshop.analytics.capture import epoch_minute
from liveshop.analytics.models import Kind, MinuteRollup, SessionViewer, events_table
from liveshop.analytics.rollup import MINUTE_COLUMNS, done_minute, minute_aggregate
from liveshop.core.clock import utcnow
from liveshop.live.deals.models import FlashDeal
from liveshop.live.models import LiveSession
from liveshop.orders.models import Order, OrderLine

E = events_table.c
CONCURRENT_WINDOW_S = 60  # a viewer is "watching now" with a heartbeat in the last minute


@dataclass
class Minute:
    minute: int
    viewers: int = 0
    heartbeats: int = 0
    watch_seconds: int = 0
    joins: int = 0
    comments: int = 0
    product_views: int = 0
    claims: int = 0
    checkouts: int = 0
    orders: int = 0
    gmv_minor: int = 0
    refunds: int = 0
    refunded_minor: int = 0
    pins: int = 0
    deals: int = 0

    @property
    def at(self) -> datetime:
        return datetime.fromtimestamp(self.minute * 60, UTC)


def _minute_of(row: Row[tuple[object, ...]] | MinuteRollup) -> Minute:
    values = {
        c: getattr(row, c) for c in MINUTE_COLUMNS[1:] if c not in ("market_code", "creator_id")
    }
    return Minute(**{k: int(v or 0) for k, v in values.items()})


async def minute_series(session: AsyncSession, session_id: int) -> list[Minute]:
    """Every minute of the session with any event, oldest first (rolled up, then the tail
    from the raw events)."""
    done = await done_minute(session)
    rolled = (
        await session.scalars(
            select(MinuteRollup)
            .where(MinuteRollup.session_id == session_id)
            .order_by(MinuteRollup.minute)
        )
    ).all()
    out = [_minute_of(r) for r in rolled]
    tail_from = done if done is not None else 0
    tail = (
        await session.execute(
            minute_aggregate(E.session_id == session_id, E.minute >= tail_from).order_by(E.minute)
        )
    ).all()
    out.extend(_minute_of(r) for r in tail)
    return out


async def raw_minute_series(session: AsyncSession, session_id: int) -> list[Minute]:
    """The same series read from the raw events only (what the rollup must equal)."""
    rows = (
        await session.execute(minute_aggregate(E.session_id == session_id).order_by(E.minute))
    ).all()
    return [_minute_of(r) for r in rows]


@dataclass
class Audience:
    concurrent_now: int  # viewers with a heartbeat in the last minute
    peak: int  # the most viewers in any minute
    unique: int  # distinct viewers who watched at all
    average: int  # watch time ÷ time live
    watch_seconds: int
    live_seconds: int

    @property
    def watch_hours(self) -> float:
        return self.watch_seconds / 3600


def _live_seconds(live: LiveSession, now: datetime) -> int:
    if live.actual_start is None:
        return 0
    end = live.actual_end or now
    return max(int((end - live.actual_start).total_seconds()), 0)


async def unique_viewers(session: AsyncSession, session_id: int) -> int:
    done = await done_minute(session)
    rolled = select(SessionViewer.viewer).where(SessionViewer.session_id == session_id)
    tail = select(E.viewer).where(
        E.session_id == session_id,
        E.kind == str(Kind.HEARTBEAT),
        E.viewer.is_not(None),
        E.minute >= (done if done is not None else 0),
    )
    both = union(rolled, tail).subquery()
    return int(await session.scalar(select(func.count()).select_from(both)) or 0)


async def concurrent_now(session: AsyncSession, session_id: int) -> int:
    since = utcnow() - timedelta(seconds=CONCURRENT_WINDOW_S)
    return int(
        await session.scalar(
            select(func.count(distinct(E.viewer))).where(
                E.session_id == session_id,
                E.kind == str(Kind.HEARTBEAT),
                E.minute >= epoch_minute(since),
                E.at >= since,
            )
        )
        or 0
    )


async def session_audience(
    session: AsyncSession, live: LiveSession, series: Sequence[Minute] | None = None
) -> Audience:
    minutes = series if series is not None else await minute_series(session, live.id)
    watch = sum(m.watch_seconds for m in minutes)
    seconds = _live_seconds(live, utcnow())
    return Audience(
        concurrent_now=await concurrent_now(session, live.id) if live.status == "live" else 0,
        peak=max((m.viewers for m in minutes), default=0),
        unique=await unique_viewers(session, live.id),
        average=watch // seconds if seconds > 0 else 0,
        watch_seconds=watch,
        live_seconds=seconds,
    )


PAID = Order.paid_at.is_not(None)


async def session_buyers(session: AsyncSession, session_id: int) -> int:
    return int(
        await session.scalar(
            select(func.count(distinct(Order.buyer_id))).where(
                Order.live_session_id == session_id, PAID
            )
        )
        or 0
    )


@dataclass(frozen=True)
class TopProduct:
    product_id: int
    title: str
    units: int
    gross_minor: int


async def top_products(
    session: AsyncSession, session_id: int, *, limit: int = 5
) -> list[TopProduct]:
    units = func.sum(OrderLine.quantity)
    gross = func.sum(OrderLine.gross_minor)
    rows = (
        await session.execute(
            select(OrderLine.product_id, func.max(OrderLine.title), units, gross)
            .join(Order, Order.id == OrderLine.order_id)
            .where(Order.live_session_id == session_id, PAID)
            .group_by(OrderLine.product_id)
            .order_by(gross.desc(), OrderLine.product_id)
            .limit(limit)
        )
    ).all()
    return [TopProduct(int(p), str(t), int(u), int(g)) for p, t, u, g in rows]


@dataclass(frozen=True)
class Marker:
    minute: int
    kind: str  # "pin" or "deal"
    label: str


async def markers(session: AsyncSession, session_id: int) -> list[Marker]:
    """Pins (captured) and flash deals (their start) of a session, for the charts."""
    pins = (
        await session.execute(
            select(E.minute, E.product_id)
            .where(E.session_id == session_id, E.kind == str(Kind.PIN))
            .order_by(E.minute)
        )
    ).all()
    out = [Marker(int(m), "pin", f"pin #{p}") for m, p in pins]
    deals = (
        await session.execute(
            select(FlashDeal.starts_at, FlashDeal.id, FlashDeal.product_id)
            .where(FlashDeal.session_id == session_id)
            .order_by(FlashDeal.starts_at)
        )
    ).all()
    out += [Marker(epoch_minute(at), "deal", f"deal {d} (#{p})") for at, d, p in deals]
    return sorted(out, key=lambda m: (m.minute, m.kind))


@dataclass
class SessionReport:
    live: LiveSession
    series: list[Minute]
    audience: Audience
    buyers: int
    top: list[TopProduct]
    markers: list[Marker] = field(default_factory=list)

    @property
    def conversion_bp(self) -> int | None:
        """Buyers per unique viewer, in basis points."""
        if self.audience.unique == 0:
            return None
        return self.buyers * 10_000 // self.audience.unique


async def session_report(session: AsyncSession, live: LiveSession) -> SessionReport:
    series = await minute_series(session, live.id)
    return SessionReport(
        live=live,
        series=series,
        audience=await session_audience(session, live, series),
        buyers=await session_buyers(session, live.id),
        top=await top_products(session, live.id),
        markers=await markers(session, live.id),
    )
