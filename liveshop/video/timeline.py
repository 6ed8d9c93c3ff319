"""The shoppable replay timeline: what was on screen, at which offset into the video.

Offsets are counted from the replay's first picture: each entry also keeps the wall time
of its event (``at_ms`` in the payload, not served), and when the replay is written
``realign`` places it on the recorded segments (named by the wall time their picture
arrived), so a chip lines up with the replay however late the first keyframe came or
however often the encoder reconnected. While the show runs, offsets count from the
publish's start (``VideoClock``).

Events come from the live room's own channel on the broker (``liveshop.realtime.publish``
publishes every pin, deal and purchase there once, whichever node it happens on), so
listening needs no change to the live domain: ``TimelineRecorder`` subscribes while a
session has video, queues the raw events (a broker callback must not block) and one task
writes them. Offsets come from the event's own ``ts`` and the stream's ``VideoClock``,
so a slow write never shifts an entry.

Replays sell at the normal price: deal prices are never stored here.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import structlog
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from liveshop.core.broker import Broker, Subscription
from liveshop.core.db import Database
from liveshop.core.events import EventType, decode, now_ms
from liveshop.core.tasks import stop_if_cancelled
from liveshop.realtime.publish import room_channel
from liveshop.video.hls import Segment, replay_offset_ms
from liveshop.video.models import TimelineEntry, TimelineKind, VideoStream

log = structlog.get_logger("liveshop.video.timeline")

SPIKE_WINDOW_MS = 10_000  # purchases are counted in windows this long …
SPIKE_MIN_UNITS = 3  # … and a window with at least this many units sold is a spike
FLUSH_EVERY_S = 1.0
STOP_WITHIN_S = 15.0
AT = "at_ms"  # an entry's wall time (epoch ms) in its payload: for ``realign``, never served


def _ms(at: datetime | None) -> float | None:
    return at.timestamp() * 1000 if at is not None else None


@dataclass
class VideoClock:
    """Wall time (epoch ms) → offset into the replay (ms); see ``VideoStream``.

    ``spans``: one ``[start, end or None, media before]`` per publish, oldest first.
    """

    spans: list[list[float | None]] = field(default_factory=list)

    @classmethod
    def of(cls, stream: VideoStream) -> VideoClock:
        clock = cls()
        start = _ms(stream.publish_started_at)
        if start is not None:
            end = None if stream.stopped_at is None else _ms(stream.stopped_at)
            before = float(stream.media_ms_before)
            if end is not None:  # media_ms_before already counts the finished publish
                before = max(0.0, before - (end - start))
            clock.spans.append([start, end, before])
        return clock

    def started(self, at_ms: float) -> None:
        self.spans.append([at_ms, None, self.media_ms(at_ms)])

    def stopped(self, at_ms: float) -> None:
        if self.spans and self.spans[-1][1] is None:
            self.spans[-1][1] = max(at_ms, float(self.spans[-1][0] or 0.0))

    def media_ms(self, at_ms: float) -> float:
        """Media time at wall time ``at_ms``; during gaps it stands still."""
        media = 0.0
        for start, end, before in self.spans:
            assert start is not None and before is not None
            if at_ms < start:
                break
            media = before + ((end if end is not None and at_ms > end else at_ms) - start)
        return media

    def offset(self, at_ms: float) -> int:
        return max(0, round(self.media_ms(at_ms)))


def entries_for(
    event: dict[str, Any], offset_ms: int, deals: dict[Any, Any]
) -> list[tuple[TimelineKind, dict[str, Any]]]:
    """Timeline entries for one room event (purchases are handled by the spike window)."""
    kind = event.get("type")
    if kind == EventType.PIN:
        product = event.get("product")
        if isinstance(product, dict) and product.get("product_id") is not None:
            return [
                (
                    TimelineKind.PIN,
                    {
                        "product_id": product.get("product_id"),
                        "title": product.get("title"),
                        "image_url": product.get("image_url"),
                    },
                )
            ]
        return [(TimelineKind.UNPIN, {})]
    if kind == EventType.DEAL_STARTED:
        deal = event.get("deal")
        if not isinstance(deal, dict):
            return []
        deals[deal.get("deal_id")] = deal.get("product_id")
        payload = {k: deal.get(k) for k in ("deal_id", "product_id", "sku_id", "units", "ends_at")}
        return [(TimelineKind.DEAL_STARTED, payload)]
    if kind == EventType.DEAL_ENDED:
        deal_id = event.get("deal_id")
        payload = {
            "deal_id": deal_id,
            "product_id": deals.get(deal_id),
            "reason": event.get("reason"),
            "sold": event.get("sold"),
        }
        return [(TimelineKind.DEAL_ENDED, payload)]
    return []


@dataclass
class SpikeWindow:
    """Purchases counted from ``start`` (offset, ms) for ``SPIKE_WINDOW_MS``."""

    start: int
    opened_at_ms: float
    units: dict[int, int] = field(default_factory=dict)

    def add(self, product_id: int, quantity: int) -> None:
        self.units[product_id] = self.units.get(product_id, 0) + quantity

    def entry(self) -> tuple[TimelineKind, dict[str, Any]] | None:
        total = sum(self.units.values())
        if total < SPIKE_MIN_UNITS:
            return None
        products = [
            {"product_id": p, "units": n}
            for p, n in sorted(self.units.items(), key=lambda kv: (-kv[1], kv[0]))
        ]
        return TimelineKind.PURCHASE_SPIKE, {"units": total, "products": products}


class TimelineRecorder:
    """Records one session's room events into ``video_timeline`` while it has video."""

    def __init__(
        self,
        db: Database,
        broker: Broker,
        session_id: int,
        clock: VideoClock,
        *,
        on_session_closed: Callable[[int], None] | None = None,
    ) -> None:
        self.db = db
        self.broker = broker
        self.session_id = session_id
        self.clock = clock
        self.on_session_closed = on_session_closed
        self.written = 0
        self._queue: asyncio.Queue[bytes | None] = asyncio.Queue()  # None: stop
        self._subscription: Subscription | None = None
        self._task: asyncio.Task[None] | None = None
        self._deals: dict[Any, Any] = {}
        self._spike: SpikeWindow | None = None

    async def start(self) -> None:
        channel = room_channel(self.session_id)
        self._subscription = await self.broker.subscribe(channel, self._queue.put_nowait)
        self._task = asyncio.get_running_loop().create_task(self._run())

    async def _run(self) -> None:
        closing = False
        while not closing:
            got: list[bytes | None] = []
            # asyncio.timeout, not wait_for: wait_for can drop an item that arrives as it
            # times out, and on Python 3.11 swallow a cancel that lands as the get ends.
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(FLUSH_EVERY_S):
                    got.append(await self._queue.get())
            while not self._queue.empty():
                got.append(self._queue.get_nowait())
            closing = None in got
            raws = [raw for raw in got if raw is not None]
            try:
                await self._write(self._collect(raws, closing=closing))
            except Exception:
                stop_if_cancelled()
                log.exception("timeline write failed", session_id=self.session_id)

    def _collect(
        self, raws: Sequence[bytes], *, closing: bool
    ) -> list[tuple[int, TimelineKind, dict[str, Any]]]:
        out: list[tuple[int, TimelineKind, dict[str, Any]]] = []
        for raw in raws:
            try:
                event = decode(raw)
            except ValueError:
                continue
            ts = float(event.get("ts") or now_ms())
            offset = self.clock.offset(ts)
            kind = event.get("type")
            if kind == EventType.PURCHASE:
                self._close_spike(out, at_ms=ts)
                if self._spike is None:
                    self._spike = SpikeWindow(offset, ts)
                with contextlib.suppress(TypeError, ValueError):
                    self._spike.add(int(event["product_id"]), int(event.get("quantity") or 1))
                continue
            if kind == EventType.SESSION_ENDED and self.on_session_closed is not None:
                self.on_session_closed(self.session_id)
            at = round(ts)
            out.extend(
                (offset, k, {**p, AT: at}) for k, p in entries_for(event, offset, self._deals)
            )
        self._close_spike(out, at_ms=now_ms(), force=closing)
        return out

    def _close_spike(
        self,
        out: list[tuple[int, TimelineKind, dict[str, Any]]],
        *,
        at_ms: float,
        force: bool = False,
    ) -> None:
        spike = self._spike
        if spike is None or not (force or at_ms - spike.opened_at_ms >= SPIKE_WINDOW_MS):
            return
        self._spike = None
        entry = spike.entry()
        if entry is not None:
            kind, payload = entry
            out.append((spike.start, kind, {**payload, AT: round(spike.opened_at_ms)}))

    async def _write(self, rows: list[tuple[int, TimelineKind, dict[str, Any]]]) -> None:
        if not rows:
            return
        async with self.db.session() as s:
            s.add_all(
                TimelineEntry(session_id=self.session_id, offset_ms=o, kind=str(k), payload=p)
                for o, k, p in rows
            )
            await s.commit()
        self.written += len(rows)

    async def stop(self) -> None:
        """Unsubscribe, then let the writer write what is queued (and an open spike
        window) and finish — never cut off in the middle of a write."""
        if self._subscription is not None:
            await self.broker.unsubscribe(self._subscription)
            self._subscription = None
        task, self._task = self._task, None
        if task is None:
            return
        self._queue.put_nowait(None)
        try:
            await asyncio.wait_for(asyncio.shield(task), STOP_WITHIN_S)
        except TimeoutError:
            log.error("timeline writer did not finish; entries lost", session_id=self.session_id)
            task.cancel()


async def add_entry(
    session: AsyncSession,
    session_id: int,
    offset_ms: int,
    kind: TimelineKind,
    payload: dict[str, Any],
) -> None:
    """One entry, in the caller's transaction (flush only)."""
    session.add(
        TimelineEntry(session_id=session_id, offset_ms=offset_ms, kind=str(kind), payload=payload)
    )
    await session.flush()


async def realign(session: AsyncSession, session_id: int, segments: list[Segment]) -> int:
    """Count the session's entries from the replay's first picture (see the module
    docstring); entries without a wall time keep their offset. Flushes; returns how many
    moved."""
    if not segments:
        return 0
    moved = 0
    for row in await entries(session, session_id):
        at = row.payload.get(AT) if isinstance(row.payload, dict) else None
        if not isinstance(at, int | float):
            continue
        offset = replay_offset_ms(segments, float(at))
        if offset is not None and offset != row.offset_ms:
            row.offset_ms = offset
            moved += 1
    await session.flush()
    return moved


def served(payload: dict[str, Any]) -> dict[str, Any]:
    """An entry's payload as the API shows it (without its wall time)."""
    return {k: v for k, v in payload.items() if k != AT}


async def entries(session: AsyncSession, session_id: int) -> Sequence[TimelineEntry]:
    rows = await session.scalars(
        select(TimelineEntry)
        .where(TimelineEntry.session_id == session_id)
        .order_by(TimelineEntry.offset_ms, TimelineEntry.id)
    )
    return rows.all()
