"""The dispatch promise: a paid order is handed to a carrier within its market's dispatch
deadline (working days after payment, to the end of that day in the market's time zone).

The seller's to-ship queue is sorted by deadline with late ones flagged; a shop's on-time
rate is the share of its dispatched orders (last ``RATE_DAYS`` days) that a carrier had by
the deadline. An order with no parcel at all ``AUTO_CANCEL_AFTER`` working days after its
deadline is cancelled and refunded through the ordinary cancellation (``orders.lifecycle.
cancel``: exact ledger reversal, commissions reversed, units back on sale) and the buyer is
told why (the order's ``cancel_reason``).
"""

from __future__ import annotations

import asyncio
import contextlib
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import structlog
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from liveshop.core.clock import utcnow
from liveshop.core.db import Database
from liveshop.core.errors import Problem
from liveshop.core.tasks import stop_if_cancelled
from liveshop.logistics import tell
from liveshop.logistics.calendar import add_working_days
from liveshop.logistics.models import Shipment
from liveshop.markets.models import Market
from liveshop.orders.lifecycle import cancel
from liveshop.orders.models import Order
from liveshop.orders.payments.provider import PaymentProvider
from liveshop.orders.status import OrderStatus

log = structlog.get_logger("liveshop.logistics.sla")

# Working days a seller has to hand a paid order to a carrier, per market.
DISPATCH_DAYS: dict[str, int] = {
    "GB": 2, "DE": 2, "FR": 2, "IT": 2, "ES": 2, "US": 2,
    "ID": 2, "TH": 2, "MY": 2, "VN": 2,
}  # fmt: skip
DEFAULT_DISPATCH_DAYS = 2
AUTO_CANCEL_AFTER = 3  # working days after the deadline with nothing shipped
RATE_DAYS = 90
WAITING = (OrderStatus.PAID, OrderStatus.FULFILLING)


def dispatch_days(market: str) -> int:
    return DISPATCH_DAYS.get(market, DEFAULT_DISPATCH_DAYS)


def _end_of(day: date, tz: str) -> datetime:
    return datetime.combine(day, time(23, 59, 59), tzinfo=ZoneInfo(tz))


def deadline(paid_at: datetime, market: str, tz: str) -> datetime:
    """The end of the ``dispatch_days``-th working day after the day of payment (local)."""
    paid_day = paid_at.astimezone(ZoneInfo(tz)).date()
    return _end_of(add_working_days(paid_day, dispatch_days(market), market), tz)


def cancel_after(paid_at: datetime, market: str, tz: str) -> datetime:
    last = deadline(paid_at, market, tz).date()
    return _end_of(add_working_days(last, AUTO_CANCEL_AFTER, market), tz)


@dataclass(frozen=True, slots=True)
class Due:
    order: Order
    deadline: datetime
    late: bool
    cancels_at: datetime


async def _timezones(session: AsyncSession) -> dict[str, str]:
    rows = await session.execute(select(Market.code, Market.timezone))
    return {code: tz for code, tz in rows.all()}


async def queue(session: AsyncSession, shop_id: int, *, now: datetime | None = None) -> list[Due]:
    """The shop's paid orders not yet handed to a carrier, soonest deadline first."""
    now = now or utcnow()
    zones = await _timezones(session)
    handed = select(Shipment.order_id).where(Shipment.picked_up_at.is_not(None))
    rows = await session.scalars(
        select(Order).where(
            Order.shop_id == shop_id,
            Order.status.in_(WAITING),
            Order.paid_at.is_not(None),
            Order.id.not_in(handed),
        )
    )
    out = []
    for order in rows:
        assert order.paid_at is not None
        tz = zones.get(order.market_code, "UTC")
        due = deadline(order.paid_at, order.market_code, tz)
        out.append(Due(order, due, now > due, cancel_after(order.paid_at, order.market_code, tz)))
    return sorted(out, key=lambda d: (d.deadline, d.order.id))


@dataclass(frozen=True, slots=True)
class OnTime:
    on_time: int
    dispatched: int

    @property
    def percent(self) -> int | None:
        return None if not self.dispatched else 100 * self.on_time // self.dispatched


async def on_time_rate(
    session: AsyncSession, shop_id: int, *, now: datetime | None = None
) -> OnTime:
    """Of the shop's orders paid in the last RATE_DAYS days that a carrier has, how many it
    had by their deadline (an order's first parcel counts)."""
    now = now or utcnow()
    zones = await _timezones(session)
    rows = await session.execute(
        select(Order.id, Order.market_code, Order.paid_at, Shipment.picked_up_at)
        .join(Shipment, Shipment.order_id == Order.id)
        .where(
            Order.shop_id == shop_id,
            Order.paid_at >= now - timedelta(days=RATE_DAYS),
            Shipment.picked_up_at.is_not(None),
        )
    )
    first: dict[int, tuple[str, datetime, datetime]] = {}
    for order_id, market, paid_at, picked in rows.all():
        if paid_at is None or picked is None:
            continue
        if order_id not in first or picked < first[order_id][2]:
            first[order_id] = (market, paid_at, picked)
    on_time = sum(
        1
        for market, paid_at, picked in first.values()
        if picked <= deadline(paid_at, market, zones.get(market, "UTC"))
    )
    return OnTime(on_time, len(first))


async def cancel_overdue(
    session: AsyncSession, provider: PaymentProvider, *, now: datetime | None = None
) -> list[int]:
    """Cancel and refund every paid order with no parcel past its auto-cancel time."""
    now = now or utcnow()
    zones = await _timezones(session)
    oldest = now - timedelta(days=DEFAULT_DISPATCH_DAYS + AUTO_CANCEL_AFTER)
    any_parcel = select(Shipment.order_id)
    rows = await session.execute(
        select(Order.id, Order.market_code, Order.paid_at).where(
            Order.status.in_(WAITING),
            Order.paid_at.is_not(None),
            Order.paid_at < oldest,
            Order.id.not_in(any_parcel),
        )
    )
    candidates = rows.all()
    await session.commit()
    cancelled = []
    for order_id, market, paid_at in candidates:
        if paid_at is None:
            continue
        tz = zones.get(market, "UTC")
        if now <= cancel_after(paid_at, market, tz):
            continue
        due = deadline(paid_at, market, tz).astimezone(ZoneInfo(tz))
        reason = (
            f"not dispatched by the seller in time (deadline {due:%a %d %b}): "
            "cancelled and refunded in full"
        )
        buyer_id = await session.scalar(select(Order.buyer_id).where(Order.id == order_id))
        try:
            if buyer_id is not None:  # told in the cancellation's own transaction
                tell.cancelled_late(session, buyer_id, order_id, reason)
            await cancel(session, provider, order_id, actor_id=None, reason=reason)
        except Problem as exc:  # shipped or cancelled meanwhile
            await session.rollback()
            log.info("overdue order not cancelled", order_id=order_id, why=exc.code)
            continue
        cancelled.append(order_id)
    return cancelled


class OverdueSweeper:
    """Every ``interval_s``: cancel and refund the orders past their auto-cancel time."""

    def __init__(self) -> None:
        self._task: asyncio.Task[None] | None = None

    def start(self, db: Database, provider: PaymentProvider, interval_s: float) -> None:
        if self._task is None:
            self._task = asyncio.create_task(
                self._run(db, provider, interval_s), name="dispatch-sla-sweeper"
            )

    async def stop(self) -> None:
        task, self._task = self._task, None
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task

    async def _run(self, db: Database, provider: PaymentProvider, interval_s: float) -> None:
        while True:
            await asyncio.sleep(interval_s)
            try:
                async with db.session() as session:
                    cancelled = await cancel_overdue(session, provider)
                if cancelled:
                    log.info("cancelled orders not dispatched in time", orders=cancelled)
            except Exception:
                stop_if_cancelled()
                log.exception("dispatch SLA sweep failed")
