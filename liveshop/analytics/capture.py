"""Event capture off the hot path: callers append to a node's buffer (no ``await``, no
database), and one writer flushes it every ``flush_ms`` or as soon as ``flush_events`` are
waiting, as one multi-row INSERT in a transaction of its own.

What a crash loses is at most the last ``flush_ms`` of viewer activity (heartbeats, joins,
impressions): counts, never money — payments and refunds are written in the paying or
refunding transaction itself (``analytics.wiring``). A buffer that outgrows ``max_buffer``
(the database down for long) drops its oldest events and counts them (``dropped``).

Viewers are anonymous but stable: ``viewer_key`` is a keyed hash (HMAC-SHA256 with the
node's secret) of the user id, or of the player's own random id for anonymous viewers, cut
to 20 hex digits — the same person gets the same key on every node and every day, and the
key says nothing about who they are.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import hmac
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import structlog
from sqlalchemy.ext.asyncio import AsyncSession

from liveshop.analytics.models import Kind, events_table
from liveshop.core.clock import utcnow
from liveshop.core.db import Database
from liveshop.core.tasks import stop_if_cancelled

log = structlog.get_logger("liveshop.analytics.capture")

KEY_LENGTH = 20


def viewer_key(secret: str, *, user_id: int | None = None, client_id: str | None = None) -> str:
    if user_id is not None:
        subject = f"u:{user_id}"
    elif client_id:
        subject = f"c:{client_id}"
    else:
        raise ValueError("a viewer is a user or a player's own id")
    digest = hmac.new(secret.encode(), subject.encode(), hashlib.sha256).hexdigest()
    return digest[:KEY_LENGTH]


def epoch_minute(at: datetime) -> int:
    return int(at.timestamp()) // 60


@dataclass(frozen=True, slots=True)
class Facts:
    """Where an event happened (any part may be unknown)."""

    market_code: str | None = None
    session_id: int | None = None
    creator_id: int | None = None
    shop_id: int | None = None


def event_row(
    kind: Kind,
    facts: Facts,
    *,
    at: datetime | None = None,
    viewer: str | None = None,
    product_id: int | None = None,
    order_id: int | None = None,
    buyer_id: int | None = None,
    amount_minor: int = 0,
    seconds: int = 0,
) -> dict[str, Any]:
    when = at or utcnow()
    return {
        "at": when,
        "minute": epoch_minute(when),
        "kind": str(kind),
        "market_code": facts.market_code,
        "session_id": facts.session_id,
        "creator_id": facts.creator_id,
        "shop_id": facts.shop_id,
        "product_id": product_id,
        "order_id": order_id,
        "buyer_id": buyer_id,
        "viewer": viewer,
        "amount_minor": amount_minor,
        "seconds": seconds,
    }


@dataclass
class Capture:
    """One per node (``app.state.analytics``). ``enabled=False`` keeps nothing (the
    benchmark's capture-off run, ``LIVESHOP_ANALYTICS_CAPTURE=0``)."""

    db: Database
    secret: str
    flush_ms: int = 1000
    flush_events: int = 5000
    max_buffer: int = 500_000
    enabled: bool = True
    # Rows older than ``late_after_minutes`` go to ``late_hook`` in the writing transaction
    # (``rollup.absorb_late``: the rollup may already have passed their minutes).
    late_hook: Callable[[AsyncSession, list[dict[str, Any]]], Awaitable[int]] | None = None
    late_after_minutes: int = 2
    late: int = 0
    captured: int = 0
    written: int = 0
    dropped: int = 0
    flushes: int = 0
    last_flush_ms: float = 0.0
    _buffer: list[dict[str, Any]] = field(default_factory=list)
    _wake: asyncio.Event | None = None
    _task: asyncio.Task[None] | None = None
    _lock: asyncio.Lock | None = None
    _stopping: bool = False

    def key(self, *, user_id: int | None = None, client_id: str | None = None) -> str:
        return viewer_key(self.secret, user_id=user_id, client_id=client_id)

    def add(self, row: dict[str, Any]) -> None:
        """Keep one event (see :func:`event_row`); never waits."""
        if not self.enabled:
            return
        self._buffer.append(row)
        self.captured += 1
        if len(self._buffer) > self.max_buffer:
            over = len(self._buffer) - self.max_buffer
            del self._buffer[:over]
            self.dropped += over
        if len(self._buffer) >= self.flush_events and self._wake is not None:
            self._wake.set()

    def add_many(self, rows: Sequence[dict[str, Any]]) -> None:
        for row in rows:
            self.add(row)

    @property
    def waiting(self) -> int:
        return len(self._buffer)

    def start(self) -> None:
        if self._task is None or self._task.done():
            self._stopping = False
            self._wake = asyncio.Event()
            self._task = asyncio.get_running_loop().create_task(self._run(), name="capture")

    async def stop(self) -> None:
        """The writer's last flush, then it ends (told by a flag, not a cancellation: a
        cancelled ``wait_for`` can be swallowed on Python 3.11)."""
        task, self._task = self._task, None
        if task is not None:
            self._stopping = True
            if self._wake is not None:
                self._wake.set()
            done, _ = await asyncio.wait({task}, timeout=10)
            if not done:
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError, Exception):
                    await task
        with contextlib.suppress(Exception):
            await self.flush()

    async def _run(self) -> None:
        assert self._wake is not None
        wake = self._wake
        while not self._stopping:
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(self.flush_ms / 1000):
                    await wake.wait()
            wake.clear()
            try:
                await self.flush()
            except Exception:
                stop_if_cancelled()
                log.exception("analytics events not written; kept for the next flush")

    async def flush(self) -> int:
        """Write what is waiting (one INSERT per 5,000 rows, one transaction); the rows go
        back to the front of the buffer if the write fails."""
        if self._lock is None:
            self._lock = asyncio.Lock()
        async with self._lock:
            rows, self._buffer = self._buffer, []
            if not rows:
                return 0
            started = asyncio.get_running_loop().time()
            try:
                async with self.db.session() as s:
                    if self.db.dialect == "postgresql":
                        await _copy(s, rows)
                    else:
                        for i in range(0, len(rows), 5000):
                            await s.execute(events_table.insert(), rows[i : i + 5000])
                    late = 0
                    if self.late_hook is not None:
                        horizon = epoch_minute(utcnow()) - self.late_after_minutes
                        old = [r for r in rows if r["minute"] < horizon]
                        if old:
                            late = await self.late_hook(s, old)
                    await s.commit()
            except BaseException:
                self._buffer[:0] = rows
                raise
            self.written += len(rows)
            self.late += late
            self.flushes += 1
            self.last_flush_ms = (asyncio.get_running_loop().time() - started) * 1000
            return len(rows)


COLUMNS = tuple(c.name for c in events_table.columns)


async def _copy(session: AsyncSession, rows: list[dict[str, Any]]) -> None:
    """PostgreSQL: the batch as one binary ``COPY`` (asyncpg encodes it in C; an INSERT of
    thousands of rows costs the event loop tens of milliseconds of Python per flush), in the
    session's transaction."""
    conn = await session.connection()
    raw = await conn.get_raw_connection()
    driver: Any = raw.driver_connection
    await driver.copy_records_to_table(
        events_table.name,
        records=[
            tuple(r.get(c, 0 if c in ("amount_minor", "seconds") else None) for c in COLUMNS)
            for r in rows
        ],
        columns=COLUMNS,
    )


# The node's capture, for the domain events' handlers (they get a database session, not the
# app): set by ``install_analytics`` while its app runs. Without one (the CLI, tests calling
# services directly) nothing is captured.
_node: Capture | None = None


def set_node_capture(capture: Capture | None) -> None:
    global _node
    _node = capture


def node_capture() -> Capture | None:
    return _node
