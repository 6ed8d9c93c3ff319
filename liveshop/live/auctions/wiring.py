"""Plugging auctions in: the node's bid desk (HTTP and the room socket's ``bid`` frames),
the auction clock (the hammer and the sale), and a closed room's lot withdrawn."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable
from functools import partial

import structlog
from fastapi import FastAPI
from sqlalchemy.ext.asyncio import AsyncSession

from liveshop.accounts.token_cache import TokenCache
from liveshop.core import domain_events
from liveshop.core.db import Database
from liveshop.core.tasks import stop_if_cancelled
from liveshop.live.auctions import service
from liveshop.live.auctions.desk import BidDesk
from liveshop.live.events import SessionClosed
from liveshop.orders.events import OrderCancelledUnpaid, OrdersPaid
from liveshop.orders.notify import OrderNotifier
from liveshop.orders.payments.provider import PaymentProvider
from liveshop.realtime.hub import Hub
from liveshop.realtime.publish import RoomPublisher, room_publisher

log = structlog.get_logger("liveshop.live.auctions")


async def withdraw_closed_rooms_lot(session: AsyncSession, event: SessionClosed) -> None:
    """A closed room sells nothing more: its lot still taking bids is withdrawn (units back
    on sale; no room event — ``session_ended`` closes the room)."""
    await service.cancel_running(session, event.live_session_id)


async def reoffer_unpaid_lot(session: AsyncSession, event: OrderCancelledUnpaid) -> None:
    """A winner's order cancelled unpaid (payment failed or timed out): the lot goes back to
    settling and the clock offers it to the runner-up (``service.reoffer_unpaid``)."""
    await service.reoffer_unpaid(session, event.order_id)


async def settle_paid_lots(session: AsyncSession, event: OrdersPaid) -> None:
    """A winner's order paid after the hammer (pending card, another card): the lot's offer
    is paid and its hold released, in the paying transaction. Only orders made in a show can
    be a lot's (an order outside one costs no statement here: the paid path's budget)."""
    await service.paid_offers(
        session, [o.order_id for o in event.orders if o.live_session_id is not None]
    )


def subscribe() -> None:
    """Idempotent (``liveshop.wiring.install_domain_events``)."""
    domain_events.subscribe(SessionClosed, withdraw_closed_rooms_lot)
    domain_events.subscribe(OrderCancelledUnpaid, reoffer_unpaid_lot)
    domain_events.subscribe(OrdersPaid, settle_paid_lots)


def install_auctions(app: FastAPI, db: Database, hub: Hub) -> BidDesk:
    desk = BidDesk(db, TokenCache(db), lambda: room_publisher(app))
    app.state.bid_desk = desk
    hub.bids = desk
    app.state.auction_clock = AuctionClock(
        db,
        lambda: room_publisher(app),
        lambda: app.state.payment_providers["sandbox"],
        app.state.order_notifier,
        desk,
    )
    return desk


class AuctionClock:
    """Brings the hammer down on lots whose time is up (every ``interval_s``, on every node:
    the guarded UPDATE lets one node take each) and sells them, each in a task of its own so
    a slow card never delays another lot's hammer."""

    def __init__(
        self,
        db: Database,
        publisher: Callable[[], RoomPublisher],
        provider: Callable[[], PaymentProvider],
        notifier: OrderNotifier | None,
        desk: BidDesk | None = None,
    ) -> None:
        self.db = db
        self.publisher = publisher
        self.provider = provider
        self.notifier = notifier
        self.desk = desk
        self._task: asyncio.Task[None] | None = None
        self._selling: dict[int, asyncio.Task[None]] = {}

    def start(self, interval_s: float = 0.2) -> None:
        if self._task is None:
            self._task = asyncio.create_task(self._run(interval_s), name="auction-clock")

    async def stop(self) -> None:
        task, self._task = self._task, None
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
        selling = list(self._selling.values())
        for t in selling:
            t.cancel()
        for t in selling:
            with contextlib.suppress(asyncio.CancelledError):
                await t

    async def tick(self) -> list[int]:
        """Hammer every lot due; returns the ids this node took (their sales run on)."""
        async with self.db.session(deferred=True) as s:
            ids = await service.due(s)
        taken: list[int] = []
        for auction_id in ids:
            if auction_id in self._selling:
                continue
            async with self.db.session() as s:
                room = self.publisher().on_commit(s)
                if not await service.bring_down_hammer(s, auction_id, room=room):
                    continue
            if self.desk is not None:
                self.desk.ended(auction_id)
            taken.append(auction_id)
            task = asyncio.create_task(self.sell(auction_id), name=f"auction-{auction_id}-sale")
            self._selling[auction_id] = task
            task.add_done_callback(partial(self._sold, auction_id))
        return taken

    def _sold(self, auction_id: int, _task: asyncio.Task[None]) -> None:
        self._selling.pop(auction_id, None)

    async def sell(self, auction_id: int) -> None:
        try:
            async with self.db.session() as s:
                await service.settle(
                    s,
                    auction_id,
                    self.provider(),
                    notifier=self.notifier,
                    room=self.publisher().on_commit(s),
                )
        except Exception:
            stop_if_cancelled()
            log.exception("auction sale failed; the clock takes it up again", id=auction_id)

    async def settled(self) -> None:
        """Wait for the sales this node is running (tests)."""
        while self._selling:
            await asyncio.gather(*self._selling.values(), return_exceptions=True)

    async def _run(self, interval_s: float) -> None:
        while True:
            await asyncio.sleep(interval_s)
            try:
                await self.tick()
            except Exception:
                stop_if_cancelled()
                log.exception("auction clock tick failed")
