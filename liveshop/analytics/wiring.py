"""Analytics' subscriptions and its place in an app.

Paid orders, refunds, pins, flash-deal claims and checkouts (orders placed) are captured
**after their transaction commits**
(``core.db.on_commit``) into the node's buffer, never written in the paying transaction
(the paid path's statement budget stays as it was). Room joins, leaves, chat lines and
player heartbeats arrive through the realtime engine's ``Audience`` port
(``analytics.audience``); the creator's live figures leave through its ``Dashboard`` port.
A background loop (``AnalyticsLoop``) rolls the raw events up every
``analytics_rollup_seconds``, creates the coming days' partitions and applies the
retention.
"""

from __future__ import annotations

import asyncio
import contextlib
import weakref
from collections.abc import Sequence
from datetime import timedelta
from functools import partial
from typing import Any

import structlog
from fastapi import FastAPI
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from liveshop.analytics import rollup
from liveshop.analytics.audience import RoomAudience
from liveshop.analytics.capture import Capture, Facts, event_row, node_capture, set_node_capture
from liveshop.analytics.dashboard import LiveDashboard
from liveshop.analytics.models import Kind
from liveshop.core import domain_events
from liveshop.core.clock import utcnow
from liveshop.core.db import CommitHookSession, Database, on_commit
from liveshop.core.settings import Settings
from liveshop.core.tasks import stop_if_cancelled
from liveshop.live.events import DealClaimed, ProductPinned
from liveshop.live.models import LiveSession
from liveshop.orders.events import OrderRefunded, OrdersPaid, OrdersPlaced, PaidOrderFacts
from liveshop.realtime.hub import Hub

log = structlog.get_logger("liveshop.analytics")


def _after_commit(session: AsyncSession, rows: list[dict[str, Any]]) -> None:
    capture = node_capture()
    if capture is None or not capture.enabled or not rows:
        return
    if isinstance(session, CommitHookSession):
        on_commit(session, partial(_keep, capture, rows))


async def _keep(capture: Capture, rows: list[dict[str, Any]]) -> None:
    capture.add_many(rows)


def _capture_orders(session: AsyncSession, kind: Kind, orders: Sequence[PaidOrderFacts]) -> None:
    """One ``kind`` event per order (its buyer, show, creator, shop and goods' worth), kept
    after the commit."""
    capture = node_capture()
    if capture is None or not capture.enabled:
        return
    rows = [
        event_row(
            kind,
            Facts(o.market_code, o.live_session_id, o.creator_id, o.shop_id),
            order_id=o.order_id,
            buyer_id=o.buyer_id,
            viewer=capture.key(user_id=o.buyer_id),
            amount_minor=o.goods_minor,
        )
        for o in orders
    ]
    _after_commit(session, rows)


async def capture_paid(session: AsyncSession, event: OrdersPaid) -> None:
    _capture_orders(session, Kind.PAYMENT, event.orders)


async def capture_refund(session: AsyncSession, event: OrderRefunded) -> None:
    capture = node_capture()
    if capture is None:
        return
    facts = Facts(event.market_code or None, event.live_session_id, event.creator_id)
    row = event_row(
        Kind.REFUND,
        Facts(facts.market_code, facts.session_id, facts.creator_id, event.shop_id or None),
        order_id=event.order_id,
        buyer_id=event.buyer_id or None,
        amount_minor=event.amount_minor,
    )
    _after_commit(session, [row])


async def capture_pin(session: AsyncSession, event: ProductPinned) -> None:
    row = event_row(
        Kind.PIN,
        Facts(event.market_code, event.live_session_id, event.creator_id),
        product_id=event.product_id,
    )
    _after_commit(session, [row])


# A session's market and creator never change: read once per node and database (a claim
# batch then costs no extra statement), forgotten wholesale past _FACTS_MAX. Kept per engine:
# session ids are the database's own, and one process may serve several databases (the test
# suite does, one after another, where session 1 of one database is not session 1 of the next).
_session_facts: weakref.WeakKeyDictionary[Any, dict[int, Facts]] = weakref.WeakKeyDictionary()
_FACTS_MAX = 10_000


async def session_facts(session: AsyncSession, session_id: int | None) -> Facts:
    if session_id is None:
        return Facts()
    bind = session.bind
    known = _session_facts.setdefault(getattr(bind, "sync_engine", bind), {})
    facts = known.get(session_id)
    if facts is None:
        row = (
            await session.execute(
                select(LiveSession.market_code, LiveSession.creator_id).where(
                    LiveSession.id == session_id
                )
            )
        ).one_or_none()
        if row is None:
            return Facts(session_id=session_id)
        if len(known) >= _FACTS_MAX:
            known.clear()
        facts = known[session_id] = Facts(row[0], session_id, row[1])
    return facts


async def capture_claims(session: AsyncSession, event: DealClaimed) -> None:
    capture = node_capture()
    if capture is None or not capture.enabled:
        return
    facts = await session_facts(session, event.live_session_id)
    rows = [
        event_row(
            Kind.CLAIM,
            facts,
            product_id=event.product_id,
            buyer_id=buyer_id,
            viewer=capture.key(user_id=buyer_id),
        )
        for buyer_id, _quantity in event.claims
    ]
    _after_commit(session, rows)


async def capture_placed(session: AsyncSession, event: OrdersPlaced) -> None:
    _capture_orders(session, Kind.CHECKOUT, event.orders)


async def capture_product_view(
    session: AsyncSession,
    capture: Capture,
    *,
    product_id: int,
    shop_id: int,
    market_code: str,
    live_session_id: int | None = None,
    user_id: int | None = None,
) -> None:
    """A product's page was opened (from a show's room: ``live_session_id``); appended to
    the buffer at once (nothing is written: a page view has no transaction of its own)."""
    if not capture.enabled:
        return
    facts = await session_facts(session, live_session_id)
    capture.add(
        event_row(
            Kind.PRODUCT_VIEW,
            Facts(market_code, facts.session_id, facts.creator_id, shop_id),
            product_id=product_id,
            viewer=capture.key(user_id=user_id) if user_id is not None else None,
        )
    )


def subscribe() -> None:
    """Idempotent (``liveshop.wiring.install_domain_events``)."""
    domain_events.subscribe(OrdersPaid, capture_paid)
    domain_events.subscribe(OrderRefunded, capture_refund)
    domain_events.subscribe(ProductPinned, capture_pin)
    domain_events.subscribe(DealClaimed, capture_claims)
    domain_events.subscribe(OrdersPlaced, capture_placed)


class AnalyticsLoop:
    """Rolls up, keeps partitions ahead, applies the retention (once an hour)."""

    def __init__(self, db: Database, settings: Settings) -> None:
        self.db = db
        self.settings = settings
        self.runs = 0
        self.failures = 0
        self.last_run_at: float | None = None
        self._task: asyncio.Task[None] | None = None
        self._purged_at = -1e9

    def start(self) -> None:
        if self.settings.analytics_rollup_seconds > 0:
            self._task = asyncio.get_running_loop().create_task(self._run(), name="analytics")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await self._task

    async def once(self) -> None:
        s = self.settings
        now = utcnow()
        async with self.db.session() as session:
            await rollup.ensure_partitions(
                session, now - timedelta(days=1), now + timedelta(days=7)
            )
            await rollup.roll_up(session, lag_minutes=s.analytics_rollup_lag_minutes)
            loop_now = asyncio.get_running_loop().time()
            if loop_now - self._purged_at >= 3600:
                self._purged_at = loop_now
                await rollup.purge(session, retention_days=s.analytics_retention_days)
        self.runs += 1
        self.last_run_at = asyncio.get_running_loop().time()

    async def _run(self) -> None:
        while True:
            await asyncio.sleep(self.settings.analytics_rollup_seconds)
            try:
                await self.once()
            except Exception:
                stop_if_cancelled()
                self.failures += 1
                log.exception("analytics rollup failed")


def install_analytics(app: FastAPI, settings: Settings, db: Database, hub: Hub) -> Capture:
    """The node's capture (``app.state.analytics``), handed to the room engine as its
    audience; the creator's dashboard; the rollup loop (started by ``start_analytics``)."""
    capture = Capture(
        db,
        settings.secret_key,
        flush_ms=settings.analytics_flush_ms,
        flush_events=settings.analytics_flush_events,
        enabled=settings.analytics_capture,
        late_hook=partial(rollup.absorb_late, retention_days=settings.analytics_retention_days),
        late_after_minutes=settings.analytics_rollup_lag_minutes,
    )
    app.state.analytics = capture
    app.state.analytics_loop = AnalyticsLoop(db, settings)
    if settings.analytics_capture:
        hub.audience = RoomAudience(capture)
    hub.dashboard = LiveDashboard(db)
    return capture


async def start_analytics(app: FastAPI) -> None:
    capture: Capture = app.state.analytics
    set_node_capture(capture)
    capture.start()
    app.state.analytics_loop.start()


async def stop_analytics(app: FastAPI) -> None:
    capture: Capture = app.state.analytics
    await app.state.analytics_loop.stop()
    await capture.stop()
    if node_capture() is capture:
        set_node_capture(None)
