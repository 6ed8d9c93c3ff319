"""An honest delivery estimate before purchase, from the shop's own delivery history.

For each of the shop's parcels delivered in the market, its *delivery time* is the number of
the market's working days (weekends and public holidays left out, ``calendar``) from the
day the order was paid to the day it was delivered, in the market's time zone — dispatch
and carrier transit together. The estimate is the P50 and P90 of those counts (nearest
rank: the smallest value with at least p % of deliveries at or below it), added in working
days to today: "arrives Tue 9 – Thu 11 Dec". With fewer than ``MIN_HISTORY`` deliveries it
is the market's default (dispatch deadline + the carrier's usual transit) and says so.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from zoneinfo import ZoneInfo

from babel.dates import format_skeleton
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from liveshop.core import i18n
from liveshop.core.i18n import gettext as _
from liveshop.core.i18n import ngettext
from liveshop.logistics.calendar import add_working_days, working_days_between
from liveshop.logistics.carriers import TRANSIT_DAYS
from liveshop.logistics.models import Shipment, TrackingStatus
from liveshop.markets.models import Market
from liveshop.orders.models import Order

MIN_HISTORY = 5
HISTORY_LIMIT = 500  # the most recent deliveries counted
DISPATCH_DAYS = 2  # the market's dispatch deadline when it is not read (Market.dispatch_days)


@dataclass(frozen=True, slots=True)
class Eta:
    earliest: date  # P50
    latest: date  # P90
    p50_days: int
    p90_days: int
    deliveries: int  # how many past deliveries it is based on
    from_history: bool  # False: the market's default estimate

    @property
    def text(self) -> str:
        return _("arrives %(dates)s", dates=date_range(self.earliest, self.latest))

    @property
    def sentence(self) -> str:
        """'Arrives Tue 9 – Thu 11 Dec' (the day and month names keep their capitals)."""
        return _("Arrives %(dates)s", dates=date_range(self.earliest, self.latest))

    @property
    def basis(self) -> str:
        if self.from_history:
            return _(
                "from this shop's last %(deliveries)s deliveries here", deliveries=self.deliveries
            )
        return _("an estimate from the market's usual delivery times (too few deliveries yet)")


def _day(d: date) -> str:
    return f"{d:%a} {d.day}"


def date_range(a: date, b: date) -> str:
    """'Tue 9 – Thu 11 Dec', 'Wed 30 Dec – Mon 4 Jan', 'Tue 9 Dec' (one day); in another
    language, each day as that language writes a weekday, day and month ('Sel, 9 Des')."""
    language = i18n.get_locale()
    if language not in (i18n.DEFAULT_LOCALE, i18n.PSEUDO_LOCALE):
        locale = i18n.format_locale(language, None)
        first = format_skeleton("MMMEd", a, locale=locale)
        return first if a == b else f"{first} – {format_skeleton('MMMEd', b, locale=locale)}"
    if a == b:
        return f"{_day(a)} {a:%b}"
    if (a.year, a.month) == (b.year, b.month):
        return f"{_day(a)} – {_day(b)} {b:%b}"
    return f"{_day(a)} {a:%b} – {_day(b)} {b:%b}"


def percentile(values: Sequence[int], p: int) -> int:
    """Nearest rank: the smallest value with at least ``p`` % of values at or below it."""
    ordered = sorted(values)
    rank = max(1, math.ceil(p * len(ordered) / 100))
    return ordered[rank - 1]


def local_day(at: datetime, tz: str) -> date:
    return at.astimezone(ZoneInfo(tz)).date()


def delivery_days(paid_at: datetime, delivered_at: datetime, country: str, tz: str) -> int:
    return working_days_between(local_day(paid_at, tz), local_day(delivered_at, tz), country)


async def history(session: AsyncSession, shop_id: int, market: str, tz: str) -> list[int]:
    """Working days from payment to delivery of the shop's recent deliveries in ``market``."""
    rows = await session.execute(
        select(Order.paid_at, Shipment.delivered_at)
        .join(Order, Order.id == Shipment.order_id)
        .where(
            Shipment.shop_id == shop_id,
            Shipment.market_code == market,
            Shipment.status == TrackingStatus.DELIVERED,
            Shipment.delivered_at.is_not(None),
            Order.paid_at.is_not(None),
        )
        .order_by(Shipment.delivered_at.desc())
        .limit(HISTORY_LIMIT)
    )
    return [
        delivery_days(paid, done, market, tz)
        for paid, done in rows.all()
        if paid is not None and done is not None
    ]


def estimate(
    days: Sequence[int], *, market: str, today: date, dispatch_days: int = DISPATCH_DAYS
) -> Eta:
    """P50–P90 of the history; with too little of it, the market's default: a day to the
    carrier and its fastest transit, up to the dispatch deadline and its slowest."""
    if len(days) >= MIN_HISTORY:
        p50, p90 = percentile(days, 50), percentile(days, 90)
        from_history = True
    else:
        fast, slow = TRANSIT_DAYS.get(market, (2, 5))
        p50, p90 = 1 + fast, max(1, dispatch_days) + slow
        from_history = False
    return Eta(
        earliest=add_working_days(today, p50, market),
        latest=add_working_days(today, p90, market),
        p50_days=p50,
        p90_days=p90,
        deliveries=len(days),
        from_history=from_history,
    )


async def shop_eta(
    session: AsyncSession, shop_id: int, market: str, tz: str, *, now: datetime
) -> Eta:
    """The estimate for an order paid ``now`` from this shop in this market."""
    days = await history(session, shop_id, market, tz)
    deadline = await session.scalar(select(Market.dispatch_days).where(Market.code == market))
    return estimate(
        days, market=market, today=local_day(now, tz), dispatch_days=deadline or DISPATCH_DAYS
    )


@dataclass(frozen=True, slots=True)
class Promise:
    """How the estimate shown when the order was paid compared with its delivery."""

    eta: Eta
    delivered: date
    working_days_late: int  # > 0 late, 0 within the range, < 0 early (working days)

    @property
    def text(self) -> str:
        said = date_range(self.eta.earliest, self.eta.latest)
        came = date_range(self.delivered, self.delivered)
        if self.working_days_late > 0:
            return ngettext(
                "We estimated %(said)s; it arrived %(came)s, %(num)d working day late.",
                "We estimated %(said)s; it arrived %(came)s, %(num)d working days late.",
                self.working_days_late,
                said=said,
                came=came,
            )
        if self.working_days_late < 0:
            return _("We estimated %(said)s; it arrived %(came)s, early.", said=said, came=came)
        return _("We estimated %(said)s; it arrived %(came)s, as estimated.", said=said, came=came)


async def promise_for(
    session: AsyncSession, order: Order, delivered_at: datetime, tz: str
) -> Promise | None:
    """The estimate as it was when the order was paid — the same computation over the
    deliveries known then (delivered before the payment) — against the delivery. None for an
    unpaid order."""
    if order.paid_at is None:
        return None
    rows = await session.execute(
        select(Order.paid_at, Shipment.delivered_at)
        .join(Order, Order.id == Shipment.order_id)
        .where(
            Shipment.shop_id == order.shop_id,
            Shipment.market_code == order.market_code,
            Shipment.status == TrackingStatus.DELIVERED,
            Shipment.delivered_at < order.paid_at,
            Order.paid_at.is_not(None),
        )
        .order_by(Shipment.delivered_at.desc())
        .limit(HISTORY_LIMIT)
    )
    days = [
        delivery_days(paid, done, order.market_code, tz)
        for paid, done in rows.all()
        if paid is not None and done is not None
    ]
    eta = estimate(days, market=order.market_code, today=local_day(order.paid_at, tz))
    arrived = local_day(delivered_at, tz)
    if arrived > eta.latest:
        late = working_days_between(eta.latest, arrived, order.market_code)
    elif arrived < eta.earliest:
        late = -max(1, working_days_between(arrived, eta.earliest, order.market_code))
    else:
        late = 0
    return Promise(eta, arrived, late)
