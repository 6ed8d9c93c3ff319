"""Cancels orders whose stock hold ran out unpaid (their units are already back on sale)."""

from __future__ import annotations

import asyncio
import contextlib

import structlog

from liveshop.core.db import Database
from liveshop.core.tasks import stop_if_cancelled
from liveshop.orders.lifecycle import cancel_unpaid_expired

log = structlog.get_logger("liveshop.orders.sweeper")


class UnpaidOrderSweeper:
    def __init__(self) -> None:
        self._task: asyncio.Task[None] | None = None

    def start(self, db: Database, interval_s: float) -> None:
        if self._task is None:
            self._task = asyncio.create_task(self._run(db, interval_s), name="unpaid-order-sweeper")

    async def stop(self) -> None:
        task, self._task = self._task, None
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task

    async def _run(self, db: Database, interval_s: float) -> None:
        while True:
            await asyncio.sleep(interval_s)
            try:
                async with db.session() as session:
                    cancelled = await cancel_unpaid_expired(session)
                if cancelled:
                    log.info("cancelled unpaid orders", cancelled=cancelled)
            except Exception:
                stop_if_cancelled()
                log.exception("unpaid-order sweep failed")
