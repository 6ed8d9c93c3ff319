"""The simulated carrier's clock: sends each planned tracking webhook when it is due, signed
like a real carrier's, through the same verification as one POSTed over HTTP."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime

import structlog
from sqlalchemy import select, update

from liveshop.core.clock import utcnow
from liveshop.core.db import Database
from liveshop.core.tasks import stop_if_cancelled
from liveshop.logistics import signing
from liveshop.logistics.models import SimulatedCarrierEvent, TrackingStatus
from liveshop.logistics.shipments import CarrierEvent
from liveshop.logistics.webhooks import body_of

log = structlog.get_logger("liveshop.logistics.simulator")

Deliver = Callable[[bytes, dict[str, str]], Awaitable[str]]


async def send_due(
    db: Database, secret: str, deliver: Deliver, *, now: datetime | None = None, limit: int = 200
) -> int:
    """Send every planned event due by ``now`` (oldest first); each is marked sent once the
    receiver answered. The event's carrier time is its due time."""
    now = now or utcnow()
    async with db.session() as s:
        due = (
            await s.scalars(
                select(SimulatedCarrierEvent)
                .where(
                    SimulatedCarrierEvent.sent_at.is_(None), SimulatedCarrierEvent.send_at <= now
                )
                .order_by(SimulatedCarrierEvent.send_at, SimulatedCarrierEvent.id)
                .limit(limit)
            )
        ).all()
        await s.commit()
    sent = 0
    for planned in due:
        event = CarrierEvent(
            carrier="simulated",
            event_id=planned.event_id,
            tracking_number=planned.tracking_number,
            status=TrackingStatus(planned.status),
            occurred_at=planned.send_at.astimezone(UTC),
            description=planned.description,
            location=planned.location,
        )
        body = body_of(event)
        headers = {signing.SIGNATURE_HEADER: signing.sign(secret, body)}
        await deliver(body, headers)
        async with db.session() as s:
            await s.execute(
                update(SimulatedCarrierEvent)
                .where(SimulatedCarrierEvent.id == planned.id)
                .values(sent_at=utcnow())
            )
            await s.commit()
        sent += 1
    return sent


class SimulatedCarrierClock:
    def __init__(self) -> None:
        self._task: asyncio.Task[None] | None = None

    def start(self, db: Database, secret: str, deliver: Deliver, interval_s: float) -> None:
        if self._task is None:
            self._task = asyncio.create_task(
                self._run(db, secret, deliver, interval_s), name="simulated-carrier"
            )

    async def stop(self) -> None:
        task, self._task = self._task, None
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task

    async def _run(self, db: Database, secret: str, deliver: Deliver, interval_s: float) -> None:
        while True:
            await asyncio.sleep(interval_s)
            try:
                sent = await send_due(db, secret, deliver)
                if sent:
                    log.info("simulated carrier sent tracking events", sent=sent)
            except Exception:
                stop_if_cancelled()
                log.exception("simulated carrier run failed")
