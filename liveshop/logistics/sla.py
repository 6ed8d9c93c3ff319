"""The dispatch promise: a paid order is handed to a carrier within its market's dispatch
deadline (``Market.dispatch_days`` working days after payment, to the end of that day in the
market's time zone; admins set it per market).

The seller's to-ship queue is sorted by deadline with late ones flagged; a shop's on-time
rate is the share of its dispatched orders (last ``RATE_DAYS`` days) that a carrier had by
the deadline. An order no carrier has picked up (no parcel, or only labels never collected)
``Market.auto_cancel_days`` working days after its deadline is cancelled and refunded
through the ordinary cancellation (``orders.lifecycle.cancel``: exact ledger reversal,
commissions reversed, units back on sale), its uncollected bookings are called off with the
carrier, and the buyer is told why (the order's ``cancel_reason``).
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
from liveshop.core.errors import Conflict, Problem
from liveshop.core.i18n import gettext as _
from liveshop.core.tasks import stop_if_cancelled
from liveshop.logistics import tell
from liveshop.logistics.calendar import add_working_days
from liveshop.logistics.models import Shipment
from liveshop.logistics.shipments import call_off
from liveshop.markets.models import Market
from liveshop.orders.lifecycle import cancel
from liveshop.orders.models import Order
from liveshop.orders.payments.provider import PaymentProvider
from liveshop.orders.status import OrderStatus

log = structlog.get_logger("liveshop.logistics.sla")

# A market's defaults (the columns' defaults); admins change them per market.
DEFAULT_DISPATCH_DAYS = 2
DEFAULT_AUTO_CANCEL_DAYS = 3
RATE_DAYS = 90
WAITING = (OrderStatus.PAID, OrderStatus.FULFILLING)


@dataclass(frozen=True, slots=True)
class Policy:
    """A market's dispatch promise as it is now."""

    timezone: str = "UTC"
    dispatch_days: int = DEFAULT_DISPATCH_DAYS
    auto_cancel_days: int = DEFAULT_AUTO_CANCEL_DAYS


def _end_of(day: date, tz: str) -> datetime:
    return datetime.combine(day, time(23, 59, 59), tzinfo=ZoneInfo(tz))


def deadline(
    paid_at: datetime, market: str, tz: str, days: int = DEFAULT_DISPATCH_DAYS
) -> datetime:
    """The end of the ``days``-th working day after the day of payment (local)."""
    paid_day = paid_at.astimezone(ZoneInfo(tz)).date()
    return _end_of(add_working_days(paid_day, days, market), tz)


def cancel_after(
    paid_at: datetime,
    market: str,
    tz: str,
    days: int = DEFAULT_DISPATCH_DAYS,
    grace: int = DEFAULT_AUTO_CANCEL_DAYS,
) -> datetime:
    last = deadline(paid_at, market, tz, days).date()
    return _end_of(add_working_days(last, grace, market), tz)


@dataclass(frozen=True, slots=True)
class Due:
    order: Order
    deadline: datetime
    late: bool
    cancels_at: datetime


async def policies(session: AsyncSession) -> dict[str, Policy]:
    rows = await session.execute(
        select(Market.code, Market.timezone, Market.dispatch_days, Market.auto_cancel_days)
    )
    return {code: Policy(tz, days, grace) for code, tz, days, grace in rows.all()}


def _deadline(policy: Policy, paid_at: datetime, market: str) -> datetime:
    return deadline(paid_at, market, policy.timezone, policy.dispatch_days)


def _cancel_after(policy: Policy, paid_at: datetime, market: str) -> datetime:
    return cancel_after(
        paid_at, market, policy.timezone, policy.dispatch_days, policy.auto_cancel_days
    )


async def queue(session: AsyncSession, shop_id: int, *, now: datetime | None = None) -> list[Due]:
    """The shop's paid orders not yet handed to a carrier, soonest deadline first."""
    now = now or utcnow()
    rules = await policies(session)
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
        rule = rules.get(order.market_code, Policy())
        due = _deadline(rule, order.paid_at, order.market_code)
        out.append(
            Due(order, due, now > due, _cancel_after(rule, order.paid_at, order.market_code))
        )
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
    rules = await policies(session)
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
        if picked <= _deadline(rules.get(market, Policy()), paid_at, market)
    )
    return OnTime(on_time, len(first))


async def cancel_overdue(
    session: AsyncSession, provider: PaymentProvider, *, now: datetime | None = None
) -> list[int]:
    """Cancel and refund every paid order that no carrier has picked up by its auto-cancel
    time: no parcel, or only parcels booked and never collected (their bookings are called
    off: the simulated carrier's planned webhooks are dropped)."""
    now = now or utcnow()
    rules = await policies(session)
    # Nothing paid in the last (shortest dispatch + grace) calendar days can be overdue.
    shortest = min((r.dispatch_days + r.auto_cancel_days for r in rules.values()), default=1)
    oldest = now - timedelta(days=shortest)
    handed = select(Shipment.order_id).where(Shipment.picked_up_at.is_not(None))
    rows = await session.execute(
        select(Order.id, Order.market_code, Order.paid_at).where(
            Order.status.in_(WAITING),
            Order.paid_at.is_not(None),
            Order.paid_at < oldest,
            Order.id.not_in(handed),
        )
    )
    candidates = rows.all()
    await session.commit()
    cancelled = []
    for order_id, market, paid_at in candidates:
        if paid_at is None:
            continue
        rule = rules.get(market, Policy())
        if now <= _cancel_after(rule, paid_at, market):
            continue
        due = _deadline(rule, paid_at, market).astimezone(ZoneInfo(rule.timezone))
        reason = (
            f"not dispatched by the seller in time (deadline {due:%Y-%m-%d}): "
            "cancelled and refunded in full"
        )
        try:
            await _cancel_late(session, provider, order_id, reason, due.date())
        except Problem as exc:  # picked up or cancelled meanwhile
            await session.rollback()
            log.info("overdue order not cancelled", order_id=order_id, why=exc.code)
            continue
        cancelled.append(order_id)
    return cancelled


async def _cancel_late(
    session: AsyncSession, provider: PaymentProvider, order_id: int, reason: str, due: date
) -> None:
    """One transaction: the order's parcels and then its row locked (the order a tracking
    webhook takes them in: parcel, then order), none picked up (a pickup webhook waits on the
    parcel's lock, and then finds the booking called off), the uncollected bookings called
    off, the buyer told, the order cancelled and refunded."""
    parcels = (
        await session.scalars(
            select(Shipment)
            .where(Shipment.order_id == order_id)
            .with_for_update()
            .execution_options(populate_existing=True)
        )
    ).all()
    buyer_id = await session.scalar(
        select(Order.buyer_id).where(Order.id == order_id).with_for_update()
    )
    if any(p.picked_up_at is not None for p in parcels):
        raise Conflict(_("a carrier has the parcel now"), code="order-changed")
    for parcel in parcels:
        await call_off(session, parcel)
    if buyer_id is not None:
        await tell.cancelled_late(session, buyer_id, order_id, due)
    await cancel(session, provider, order_id, actor_id=None, reason=reason)


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
