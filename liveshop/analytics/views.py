"""Figures per creator (sessions over time, GMV and earnings per live hour), per shop (which
creators and shows sell its products, at what cost) and per market (admins), and their CSV.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import distinct, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from liveshop.accounts.models import User
from liveshop.analytics import queries
from liveshop.analytics.models import MinuteRollup, SessionViewer
from liveshop.core.clock import utcnow
from liveshop.creators import earnings
from liveshop.live.models import LiveSession, SessionStatus
from liveshop.orders.models import Order, OrderLine


def to_csv(header: Sequence[str], rows: Iterable[Sequence[object]]) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(header)
    for row in rows:
        writer.writerow(["" if v is None else v for v in row])
    return out.getvalue()


MINUTE_HEADER = (
    "minute_utc",
    "viewers",
    "watch_seconds",
    "joins",
    "comments",
    "claims",
    "orders",
    "gmv_minor",
    "refunds",
    "refunded_minor",
    "pins",
    "deals",
)


def minutes_csv(series: Sequence[queries.Minute]) -> str:
    return to_csv(
        MINUTE_HEADER,
        (
            (
                m.at.strftime("%Y-%m-%dT%H:%MZ"),
                m.viewers,
                m.watch_seconds,
                m.joins,
                m.comments,
                m.claims,
                m.orders,
                m.gmv_minor,
                m.refunds,
                m.refunded_minor,
                m.pins,
                m.deals,
            )
            for m in series
        ),
    )


def audience_csv(series: Sequence[queries.Minute]) -> str:
    """The public per-minute audience (the method page says how it is counted)."""
    return to_csv(
        ("minute_utc", "viewers", "watch_seconds"),
        ((m.at.strftime("%Y-%m-%dT%H:%MZ"), m.viewers, m.watch_seconds) for m in series),
    )


@dataclass
class ShowRow:
    session_id: int
    title: str
    status: str
    started: datetime | None
    live_minutes: int
    peak_viewers: int
    unique_viewers: int
    watch_seconds: int
    orders: int
    gmv_minor: int
    buyers: int
    earnings_minor: int
    currency: str
    market_code: str = ""

    @property
    def gmv_per_hour_minor(self) -> int | None:
        return earnings.per_hour(self.gmv_minor, self.live_minutes)

    @property
    def earnings_per_hour_minor(self) -> int | None:
        return earnings.per_hour(self.earnings_minor, self.live_minutes)

    @property
    def conversion_bp(self) -> int | None:
        return self.buyers * 10_000 // self.unique_viewers if self.unique_viewers else None


async def _audience_by_session(
    session: AsyncSession, ids: Sequence[int]
) -> dict[int, tuple[int, int, int]]:
    """(peak, unique, watch seconds) per session, from the rollups."""
    if not ids:
        return {}
    peaks = dict(
        (
            await session.execute(
                select(MinuteRollup.session_id, func.max(MinuteRollup.viewers))
                .where(MinuteRollup.session_id.in_(ids))
                .group_by(MinuteRollup.session_id)
            )
        ).all()
    )
    rows = (
        await session.execute(
            select(
                SessionViewer.session_id,
                func.count(),
                func.coalesce(func.sum(SessionViewer.watch_seconds), 0),
            )
            .where(SessionViewer.session_id.in_(ids))
            .group_by(SessionViewer.session_id)
        )
    ).all()
    seen = {int(s): (int(n), int(w)) for s, n, w in rows}
    return {
        i: (int(peaks.get(i) or 0), seen.get(i, (0, 0))[0], seen.get(i, (0, 0))[1]) for i in ids
    }


async def _buyers_by_session(session: AsyncSession, ids: Sequence[int]) -> dict[int, int]:
    if not ids:
        return {}
    rows = (
        await session.execute(
            select(Order.live_session_id, func.count(distinct(Order.buyer_id)))
            .where(Order.live_session_id.in_(ids), Order.paid_at.is_not(None))
            .group_by(Order.live_session_id)
        )
    ).all()
    return {int(s or 0): int(n) for s, n in rows}


async def creator_shows(session: AsyncSession, creator_id: int, *, days: int = 90) -> list[ShowRow]:
    """The creator's shows of the last ``days`` days, newest first, with their audience,
    sales and the creator's earnings."""
    mine = await earnings.creator_earnings(session, creator_id, days=days)
    by_id = {e.live_session_id: e for e in mine.sessions}
    lives = (
        await session.scalars(
            select(LiveSession)
            .where(
                LiveSession.creator_id == creator_id,
                LiveSession.status.in_([SessionStatus.LIVE, SessionStatus.ENDED]),
                LiveSession.actual_start >= utcnow() - timedelta(days=days),
            )
            .order_by(LiveSession.actual_start.desc())
        )
    ).all()
    ids = [lv.id for lv in lives]
    audience = await _audience_by_session(session, ids)
    buyers = await _buyers_by_session(session, ids)
    out = []
    for lv in lives:
        e = by_id.get(lv.id)
        peak, unique, watch = audience.get(lv.id, (0, 0, 0))
        minutes = e.live_minutes if e else queries._live_seconds(lv, utcnow()) // 60
        out.append(
            ShowRow(
                session_id=lv.id,
                title=lv.title,
                status=lv.status,
                started=lv.actual_start,
                live_minutes=minutes,
                peak_viewers=peak,
                unique_viewers=unique,
                watch_seconds=watch,
                orders=lv.orders_count,
                gmv_minor=lv.gmv_minor,
                buyers=buyers.get(lv.id, 0),
                earnings_minor=e.projected_total_minor if e else 0,
                currency=lv.currency,
                market_code=lv.market_code,
            )
        )
    return out


SHOW_HEADER = (
    "session_id",
    "title",
    "started_utc",
    "live_minutes",
    "peak_viewers",
    "unique_viewers",
    "watch_seconds",
    "orders",
    "buyers",
    "gmv_minor",
    "gmv_per_live_hour_minor",
    "earnings_minor",
    "earnings_per_live_hour_minor",
    "currency",
)


def shows_csv(rows: Sequence[ShowRow]) -> str:
    return to_csv(
        SHOW_HEADER,
        (
            (
                r.session_id,
                r.title,
                r.started.strftime("%Y-%m-%dT%H:%MZ") if r.started else None,
                r.live_minutes,
                r.peak_viewers,
                r.unique_viewers,
                r.watch_seconds,
                r.orders,
                r.buyers,
                r.gmv_minor,
                r.gmv_per_hour_minor,
                r.earnings_minor,
                r.earnings_per_hour_minor,
                r.currency,
            )
            for r in rows
        ),
    )


@dataclass
class ShopSeller:
    """Who sold a shop's goods: a creator (or None: the shop's own page) in one show (or
    none: off-show), what it sold and what it cost the shop in creator commission."""

    creator_id: int | None
    creator_name: str
    session_id: int | None
    session_title: str
    orders: int
    units: int
    gross_minor: int
    creator_commission_minor: int
    currency: str

    @property
    def cost_bp(self) -> int | None:
        return (
            self.creator_commission_minor * 10_000 // self.gross_minor if self.gross_minor else None
        )


async def shop_sellers(session: AsyncSession, shop_id: int, *, days: int = 90) -> list[ShopSeller]:
    from_ = utcnow() - timedelta(days=days)
    rows = (
        await session.execute(
            select(
                Order.creator_id,
                func.max(User.display_name),
                Order.live_session_id,
                func.max(LiveSession.title),
                func.count(distinct(Order.id)),
                func.sum(OrderLine.quantity),
                func.sum(OrderLine.gross_minor),
                func.sum(OrderLine.creator_commission_minor),
                func.max(Order.currency),
            )
            .join(OrderLine, OrderLine.order_id == Order.id)
            .outerjoin(User, User.id == Order.creator_id)
            .outerjoin(LiveSession, LiveSession.id == Order.live_session_id)
            .where(Order.shop_id == shop_id, Order.paid_at.is_not(None), Order.paid_at >= from_)
            .group_by(Order.creator_id, Order.live_session_id)
            .order_by(func.sum(OrderLine.gross_minor).desc())
        )
    ).all()
    return [
        ShopSeller(
            creator_id=c,
            creator_name=name or "the shop itself",
            session_id=s,
            session_title=title or "off-show",
            orders=int(n),
            units=int(u or 0),
            gross_minor=int(g or 0),
            creator_commission_minor=int(cc or 0),
            currency=str(cur),
        )
        for c, name, s, title, n, u, g, cc, cur in rows
    ]


def sellers_csv(rows: Sequence[ShopSeller]) -> str:
    return to_csv(
        (
            "creator_id",
            "creator",
            "session_id",
            "show",
            "orders",
            "units",
            "gross_minor",
            "creator_commission_minor",
            "cost_bp",
            "currency",
        ),
        (
            (
                r.creator_id,
                r.creator_name,
                r.session_id,
                r.session_title,
                r.orders,
                r.units,
                r.gross_minor,
                r.creator_commission_minor,
                r.cost_bp,
                r.currency,
            )
            for r in rows
        ),
    )
