"""Background release of expired holds (lazy release on read covers the gaps between runs)."""

from __future__ import annotations

import asyncio
import contextlib

import structlog

from liveshop.core.db import Database
from liveshop.core.tasks import stop_if_cancelled
from liveshop.inventory.release import release_expired

log = structlog.get_logger("liveshop.inventory.sweeper")


class ReservationSweeper:
    """Every ``interval_s`` seconds, expire due holds in batches, each batch its own commit."""

    def __init__(self, *, batch: int = 500) -> None:
        self.batch = batch
        self._task: asyncio.Task[None] | None = None

    @property
    def running(self) -> bool:
        return self._task is not None and not self._task.done()

    def start(self, db: Database, interval_s: float) -> None:
        if self.running:
            return
        self._task = asyncio.create_task(self._run(db, interval_s), name="reservation-sweeper")

    async def stop(self) -> None:
        task, self._task = self._task, None
        if task is None:
            return
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task

    async def sweep_once(self, db: Database) -> int:
        """Release everything due now; returns how many holds expired."""
        total = 0
        while True:
            async with db.session() as session:
                released = await release_expired(session, limit=self.batch)
                await session.commit()
            total += released
            if released < self.batch:
                break
        if total:
            log.info("released expired reservations", released=total)
        return total

    async def _run(self, db: Database, interval_s: float) -> None:
        while True:
            await asyncio.sleep(interval_s)
            try:
                await self.sweep_once(db)
            except Exception:
                stop_if_cancelled()
                # A failed run (database restarting, a lock timeout) must not stop the loop.
                log.exception("reservation sweep failed")
