"""Room counters that change with every viewer's tap (giveaway entries, poll votes,
question upvotes), published at most once a second per thing and node.

Each tap commits its count (the guarded UPDATE's ``RETURNING``); the node publishes the
first at once and then, for the rest of the second, only the highest count it saw, once at
the end of the second. Counts only grow, so a room (and the page) keeps the highest it has
seen: two nodes' figures arriving out of order never show a smaller number. A burst of a
thousand entries is two or three room events, not a thousand (the room's history of 1,000
events is not flushed away by them).
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from typing import Any

import structlog

from liveshop.core.events import EventType
from liveshop.core.tasks import stop_if_cancelled
from liveshop.realtime.publish import RoomPublisher

log = structlog.get_logger("liveshop.live.counts")

INTERVAL_S = 1.0

Key = tuple[int, str, Any]  # (session_id, event type, the thing's id)


class RoomCounts:
    def __init__(
        self, publisher: Callable[[], RoomPublisher], *, interval_s: float = INTERVAL_S
    ) -> None:
        self.publisher = publisher
        self.interval_s = interval_s
        self._last: dict[Key, float] = {}  # when each key last went out
        self._pending: dict[Key, dict[str, Any]] = {}  # the highest waiting for its turn
        self._tasks: set[asyncio.Task[None]] = set()

    def note(
        self, session_id: int, event_type: EventType, key: Any, payload: dict[str, Any], count: int
    ) -> None:
        """A committed count (``count`` orders the payloads of one key: the highest wins)."""
        k = (session_id, str(event_type), key)
        waiting = self._pending.get(k)
        if waiting is not None:
            if count > waiting["_count"]:
                self._pending[k] = {**payload, "_count": count}
            return
        now = time.monotonic()
        due = self._last.get(k, 0.0) + self.interval_s
        self._pending[k] = {**payload, "_count": count}
        delay = max(0.0, due - now)
        task = asyncio.create_task(self._send(k, event_type, delay), name="room-count")
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _send(self, k: Key, event_type: EventType, delay: float) -> None:
        if delay:
            await asyncio.sleep(delay)
        payload = self._pending.pop(k, None)
        if payload is None:
            return
        payload.pop("_count", None)
        self._last[k] = time.monotonic()
        if len(self._last) > 10_000:  # forget the oldest things
            for old in sorted(self._last, key=self._last.__getitem__)[:5_000]:
                del self._last[old]
        try:
            await self.publisher().publish(k[0], event_type, payload)
        except Exception:
            stop_if_cancelled()
            log.exception("room count not published", key=k)

    async def flushed(self) -> None:
        """Wait until every count noted so far is out (tests)."""
        while self._tasks:
            await asyncio.gather(*list(self._tasks), return_exceptions=True)

    async def stop(self) -> None:
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*list(self._tasks), return_exceptions=True)
