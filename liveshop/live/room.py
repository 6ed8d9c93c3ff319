"""One live room on one node: its local viewers and the per-tick fan-out.

A node subscribes once per room that has local viewers. Events arrive numbered from the
broker; each tick the room turns what arrived into ONE frame (a JSON array of the raw event
bytes — nothing is re-encoded) and writes the same bytes to every local socket. In the same
step it coalesces counters (latest ``stock`` per SKU, ``like``, ``viewers``) and, in big
rooms, samples chat down to a per-tick cap — except the hosts' lines, and each viewer
still gets their own lines (they get a frame of their own for that tick). A frame that
leaves events out ends with ``{"type":"skipped","count":n,"through":seq}``.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections import deque
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

import structlog

from liveshop.core.broker import Subscription
from liveshop.core.events import EventType, decode, dumps
from liveshop.live.publish import room_channel
from liveshop.live.state import Ev, RoomState
from liveshop.live.wire import CLOSE_NORMAL, Conn, OutFrame

if TYPE_CHECKING:
    from liveshop.live.hub import Hub

log = structlog.get_logger("liveshop.live.room")

CLOSED_STATUSES = frozenset({"ended", "cancelled"})


def batch_payload(events: Iterable[Ev], *, skipped: int = 0, through: int = 0) -> bytes:
    parts = [ev.raw for ev in events]
    if skipped:
        parts.append(b'{"type":"skipped","count":%d,"through":%d}' % (skipped, through))
    return b"[" + b",".join(parts) + b"]"


def parse_event(raw: bytes) -> Ev | None:
    try:
        return Ev(raw, decode(raw))
    except (ValueError, KeyError, TypeError):
        log.warning("unreadable room event dropped", raw=raw[:200])
        return None


class Room:
    def __init__(self, hub: Hub, session_id: int, state: RoomState) -> None:
        self.hub = hub
        self.config = hub.config
        self.session_id = session_id
        self.channel = room_channel(session_id)
        self.state = state
        self.conns: set[Conn] = set()
        self.by_user: dict[int, set[Conn]] = {}
        self.pending: list[Ev] = []
        self.ring: deque[Ev] = deque(maxlen=self.config.history_size)
        self.received_seq = 0
        self.local_likes = 0  # likes from local sockets not yet added to the broker counter
        self.viewers_seen = 0  # last viewers/like counts published (by any node)
        self.likes_seen = 0
        self.dropped = 0
        self.gaps = 0
        self.closed = False
        self.lead_at: float | None = None  # when this node last did the leader's chores
        self.stats_at = 0.0
        self._ticks = 0
        self.subscription: Subscription | None = None
        self._buffer: list[Ev] | None = []  # events that arrive while the room is loading
        self._naive: deque[Ev] = deque()
        self._naive_wake = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self._idle: asyncio.TimerHandle | None = None

    # --- events in --------------------------------------------------------------------

    def on_message(self, raw: bytes) -> None:
        """Broker callback: never blocks, only queues for the next tick."""
        ev = parse_event(raw)
        if ev is None:
            return
        if self._buffer is not None:
            self._buffer.append(ev)
        else:
            self._accept(ev)

    def start(self, history: list[Ev], last_seq: int) -> None:
        """Loaded: apply the broker's history, then whatever arrived meanwhile, then tick.

        The subscription started before the history and the database were read, so any
        change newer than the history arrives as a buffered event and is applied last:
        each field ends at its latest value.
        """
        for ev in history:
            self.state.apply(ev)
            self.ring.append(ev)
        self.state.seq = max(self.state.seq, last_seq)
        self.received_seq = self.state.seq
        self.viewers_seen, self.likes_seen = self.state.viewers, self.state.likes
        buffered, self._buffer = self._buffer or [], None
        for ev in buffered:
            self._accept(ev)
        runner = self._run_naive() if self.config.fanout == "naive" else self._run()
        self._task = asyncio.get_running_loop().create_task(runner, name=f"room-{self.session_id}")

    def _accept(self, ev: Ev) -> None:
        if ev.seq <= self.received_seq:
            return  # duplicate (already in the loaded history)
        if ev.seq != self.received_seq + 1:
            self.gaps += 1
            log.warning("room event gap", room=self.session_id, after=self.received_seq, got=ev.seq)
        self.received_seq = ev.seq
        self.ring.append(ev)
        if ev.type == EventType.VIEWERS:
            self.viewers_seen = int(ev.data.get("count", 0))
        elif ev.type == EventType.LIKE:
            self.likes_seen = max(self.likes_seen, int(ev.data.get("count", 0)))
        if self.config.fanout == "naive":
            self._naive.append(ev)
            self._naive_wake.set()
        else:
            self.pending.append(ev)

    # --- events out -------------------------------------------------------------------

    def tick_s(self) -> float:
        c = self.config
        return min(max(self.hub.total_conns() / c.max_frames_per_s, c.tick_min_s), c.tick_max_s)

    async def _run(self) -> None:
        loop = asyncio.get_running_loop()
        while not self.closed:
            started = loop.time()
            try:
                await self.flush_async()
            except Exception:
                log.exception("room flush failed", room=self.session_id)
            await asyncio.sleep(max(0.0, started + self.tick_s() - loop.time()))

    def flush(self) -> None:
        """Send this tick's events as one frame to every local socket (in one go)."""
        prepared = self._prepare()
        if prepared is not None:
            frame, frames, events = prepared
            self._write(list(self.conns), frame, frames)
            self._finish(events)

    async def flush_async(self) -> None:
        """The same, yielding to the loop between chunks of sockets so that incoming
        comments and events are not held up behind a 20,000-socket loop."""
        prepared = self._prepare()
        if prepared is None:
            return
        frame, frames, events = prepared
        conns = list(self.conns)
        chunk = self.config.write_chunk
        for start in range(0, len(conns), chunk):
            if start:
                await asyncio.sleep(0)
            self._write(conns[start : start + chunk], frame, frames)
        self._finish(events)

    def _prepare(self) -> tuple[OutFrame, dict[Conn, OutFrame], list[Ev]] | None:
        events = self.pending
        if not events:
            return None
        self.pending = []
        for ev in events:
            self.state.apply(ev)
        shared, own, skipped = self._select(events)
        through = events[-1].seq
        frame = OutFrame(batch_payload(shared, skipped=skipped, through=through))
        frames = {
            conn: OutFrame(
                batch_payload(
                    sorted([*shared, *extra], key=lambda e: e.seq),
                    skipped=skipped - len(extra),
                    through=through,
                )
            )
            for conn, extra in own.items()
        }
        self._ticks += 1
        return frame, frames, events

    def _write(self, conns: list[Conn], frame: OutFrame, frames: dict[Conn, OutFrame]) -> None:
        """The hot loop: one ``transport.write`` of the same bytes per socket.

        Every few ticks it also looks at each socket's unsent bytes and drops the ones
        over the bound (a slow consumer is never waited for).
        """
        losers: list[Conn] = []
        wire = frame.wire
        check = self._ticks % self.config.buffer_check_every == 0
        limit = self.config.send_buffer_limit
        for conn in conns:
            transport = conn.transport
            own = frames.get(conn) if frames else None
            if transport is None or own is not None:
                if not conn.write(own or frame):
                    losers.append(conn)
                continue
            if check and transport.get_write_buffer_size() > limit:
                losers.append(conn)
                continue
            try:
                transport.write(wire)
            except RuntimeError:  # the transport is closed already
                losers.append(conn)
        for conn in losers:
            self._lose(conn)

    def _finish(self, events: list[Ev]) -> None:
        if self.state.status in CLOSED_STATUSES and any(
            ev.type == EventType.SESSION_ENDED for ev in events
        ):
            self.close_all(CLOSE_NORMAL, "session ended")

    def _comment_cap(self) -> int | None:
        c = self.config
        if len(self.conns) < c.sample_from_viewers:
            return None
        return max(1, round(c.comment_cap_per_s * self.tick_s()))

    def _select(self, events: list[Ev]) -> tuple[list[Ev], dict[Conn, list[Ev]], int]:
        """(events everyone gets, extra events per socket, how many were left out)."""
        last: dict[tuple[Any, ...], int] = {}
        for i, ev in enumerate(events):
            if ev.key is not None:
                last[ev.key] = i
        left_out = {i for i, ev in enumerate(events) if ev.key is not None and last[ev.key] != i}
        sampled: list[int] = []
        cap = self._comment_cap()
        if cap is not None:
            chat = [
                i for i, ev in enumerate(events) if ev.type == EventType.COMMENT and not ev.host
            ]
            if len(chat) > cap:
                kept = {chat[(k * len(chat)) // cap] for k in range(cap)}
                sampled = [i for i in chat if i not in kept]
                left_out.update(sampled)
        shared = [ev for i, ev in enumerate(events) if i not in left_out]
        own: dict[Conn, list[Ev]] = {}
        for i in sampled:
            ev = events[i]
            for conn in self.by_user.get(ev.author or 0, ()):
                own.setdefault(conn, []).append(ev)
        return shared, own, len(left_out)

    async def _run_naive(self) -> None:
        """Benchmark baseline: every event is its own send to every viewer, awaited in turn."""
        while not self.closed:
            await self._naive_wake.wait()
            self._naive_wake.clear()
            while self._naive:
                ev = self._naive.popleft()
                self.state.apply(ev)
                text = "[" + ev.raw.decode() + "]"
                for conn in list(self.conns):
                    try:
                        await conn.ws.send_text(text)
                    except Exception:
                        self._lose(conn)

    # --- viewers ----------------------------------------------------------------------

    def catch_up(self, since: int | None, history: Iterable[Ev] = ()) -> OutFrame | None:
        """What a (re)joining socket gets first, as of the last delivered seq.

        A snapshot when ``since`` is None or ahead of the room; the missed events when
        they are all at hand (ring, or ``history`` from the broker); None when they are not
        (the caller fetches the broker's history, then falls back to a snapshot).
        """
        delivered = self.state.seq
        if since is None or since > delivered:
            return OutFrame(self.state.snapshot())
        if since == delivered:
            return OutFrame(b"[]")
        found = {ev.seq: ev for ev in history if since < ev.seq <= delivered}
        found.update((ev.seq, ev) for ev in self.ring if since < ev.seq <= delivered)
        if len(found) != delivered - since:
            return None
        missed = (self._redacted(found[s]) for s in range(since + 1, delivered + 1))
        return OutFrame(batch_payload(missed))

    def _redacted(self, ev: Ev) -> Ev:
        """A replay never carries a comment moderators hid: in its place (same seq, so the
        client sees no gap) goes its removal."""
        cid = ev.data.get("id") if ev.type == EventType.COMMENT else None
        if cid is None or cid not in self.state.hidden:
            return ev
        data = {"seq": ev.seq, "type": str(EventType.COMMENT_HIDDEN), "ts": ev.data.get("ts")}
        data["ids"] = [cid]
        return Ev(dumps(data), data)

    def add(self, conn: Conn) -> None:
        if self._idle is not None:
            self._idle.cancel()
            self._idle = None
        self.conns.add(conn)
        if conn.user_id is not None:
            self.by_user.setdefault(conn.user_id, set()).add(conn)

    def remove(self, conn: Conn) -> None:
        self.conns.discard(conn)
        if conn.user_id is not None:
            mine = self.by_user.get(conn.user_id)
            if mine is not None:
                mine.discard(conn)
                if not mine:
                    del self.by_user[conn.user_id]
        if not self.conns and not self.closed and self._idle is None:
            loop = asyncio.get_running_loop()
            self._idle = loop.call_later(
                self.config.idle_room_grace_s, self.hub.close_if_idle, self
            )

    def _lose(self, conn: Conn) -> None:
        """A socket that could not take a frame: gone already, or too slow (dropped)."""
        self.remove(conn)
        if not conn.gone:
            conn.drop(self.config.drop_grace_s)
            self.dropped += 1
            self.hub.dropped += 1
            log.info("slow viewer dropped", room=self.session_id, user=conn.user_id)

    def close_all(self, code: int, reason: str) -> None:
        for conn in list(self.conns):
            self.remove(conn)
            conn.close_soon(code, reason)

    async def stop(self) -> None:
        self.closed = True
        self._naive_wake.set()
        if self._idle is not None:
            self._idle.cancel()
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await self._task
