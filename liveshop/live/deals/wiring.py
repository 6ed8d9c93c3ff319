"""What the room does when orders are paid, the deal clock (deals ending, claims expiring,
lotteries drawn), the node's claim desk, a closed room's deal, and a buyer's per-buyer
allowance when their unpaid deal order is cancelled."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable

import structlog
from fastapi import FastAPI
from sqlalchemy.ext.asyncio import AsyncSession

from liveshop.accounts.token_cache import TokenCache
from liveshop.core import domain_events
from liveshop.core.db import Database
from liveshop.core.errors import Unprocessable
from liveshop.core.tasks import stop_if_cancelled
from liveshop.live import activity
from liveshop.live.deals import claim_upkeep, claims, fast, limits, lottery
from liveshop.live.deals import service as deals
from liveshop.live.deals.desk import ClaimDesk
from liveshop.live.deals.models import DealEndReason
from liveshop.live.deals.pay_desk import PayDesk
from liveshop.live.deals.room_pay import RoomPay
from liveshop.live.deals.router import publish_deal_stock
from liveshop.live.deals.tally import SaleTally
from liveshop.live.events import SessionClosed
from liveshop.orders.events import OrderCancelledUnpaid, OrdersPaid
from liveshop.orders.notify import OrderNotifier
from liveshop.realtime.hub import Hub
from liveshop.realtime.publish import RoomPublisher, room_publisher

log = structlog.get_logger("liveshop.live.deals")


async def end_closed_rooms_deal(session: AsyncSession, event: SessionClosed) -> None:
    """A closed room sells nothing more: its running flash deal ends early (unsold units
    back on sale; no room event — ``session_ended`` closes the room)."""
    running = await deals.active_deal(session, event.live_session_id)
    if running is not None:
        await deals.end_deal(session, running.deal.id, reason=DealEndReason.ENDED_EARLY)


async def count_paid(session: AsyncSession, event: OrdersPaid) -> None:
    """A show's orders and GMV and a deal's units sold, in the paying transaction (one
    UPDATE per show and per deal for a whole batch; in id order, as every payer locks them)."""
    for show in event.shows:
        try:
            await activity.record_sale(
                session,
                show.live_session_id,
                gmv_minor=show.goods_minor,
                currency=show.currency,
                orders=show.orders,
            )
        except Unprocessable:  # a figure never stops a payment (nothing was written)
            log.warning("a show's sales not counted", session_id=show.live_session_id)
    for units in event.deal_units:
        await deals.record_deal_sale(session, units.deal_id, units.quantity)


def subscribe() -> None:
    """Idempotent (``liveshop.wiring.install_domain_events``)."""
    domain_events.subscribe(OrdersPaid, count_paid)
    domain_events.subscribe(SessionClosed, end_closed_rooms_deal)
    domain_events.subscribe(OrderCancelledUnpaid, limits.give_back_unpaid)


def install_deals(app: FastAPI, db: Database, hub: Hub) -> ClaimDesk:
    """Listen for paid orders (session stats, deal counts, stock and ticker events); open the
    node's claim desk (``app.state.claim_desk``: the drop's taps over HTTP — its plain routes
    go first — and over the room's socket); start the deal clock with the app."""
    notifier: OrderNotifier = app.state.order_notifier

    tally = SaleTally(db, lambda: room_publisher(app))
    notifier.on_paid(tally.record)
    app.state.pay_desk = PayDesk(db, lambda: app.state.payment_providers["sandbox"], notifier)
    desk = ClaimDesk(db, hub.broker, TokenCache(db), lambda: room_publisher(app))
    hub.publisher.deal_stock = desk  # ``publish_deal_stock``: this node's desk hears it
    app.state.claim_desk = desk
    app.state.token_cache = desk.tokens  # ``accounts.deps.require_cached``: paying claims
    hub.claims = desk
    hub.payer = RoomPay(desk.tokens, app.state.pay_desk)
    hub.on_close(desk.close)
    app.router.routes[0:0] = fast.routes()
    app.state.deal_clock = DealClock(db, lambda: room_publisher(app), desk)
    return desk


def start_deals(app: FastAPI) -> None:
    """At the app's start (its lifespan; an app driven without one subscribes on its first
    tap): the deal clock, and the claim desk listening to every node's deal announcements
    (``ClaimDesk.start``: a deal started anywhere is in this node's memory before its first
    tap here)."""
    app.state.deal_clock.start()
    app.state.claim_desk.start()


class DealClock:
    """Ends deals whose time is up (every ``interval_s``), announcing it in the room."""

    def __init__(
        self, db: Database, publisher: Callable[[], RoomPublisher], desk: ClaimDesk | None = None
    ) -> None:
        self.db = db
        self.publisher = publisher
        self.desk = desk
        self._task: asyncio.Task[None] | None = None

    def start(self, interval_s: float = 1.0) -> None:
        if self._task is None:
            self._task = asyncio.create_task(self._run(interval_s), name="deal-clock")

    async def stop(self) -> None:
        task, self._task = self._task, None
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task

    async def tick(self) -> int:
        """End deals whose time is up; expire claims not paid in time and draw lotteries
        that are due, then serve their lines (``ClaimDesk.serve``: the room hears it), and
        the lines of deals whose units came back some other way (``claims.starved_lines``)."""
        done = 0
        touched: set[int] = set()
        async with self.db.session() as s:
            touched.update(c.deal_id for c in await claim_upkeep.expire_claims(s))
            for deal_id in await lottery.due_draws(s):
                if await lottery.draw(s, deal_id):
                    touched.add(deal_id)
            touched.update(await claims.starved_lines(s))
        if self.desk is not None:
            for deal_id in sorted(touched):
                await self.desk.serve(deal_id)
        async with self.db.session() as s:
            for deal_id in await deals.expired_deal_ids(s):
                publisher = self.publisher()
                room = publisher.on_commit(s)  # ``deal_ended`` goes out with the commit
                if await deals.end_deal(s, deal_id, reason=DealEndReason.EXPIRED, room=room):
                    await publish_deal_stock(s, publisher, await deals.get_deal(s, deal_id))
                    done += 1
            await s.commit()
        return done

    async def _run(self, interval_s: float) -> None:
        while True:
            await asyncio.sleep(interval_s)
            try:
                await self.tick()
            except Exception:
                stop_if_cancelled()
                log.exception("deal clock tick failed")
