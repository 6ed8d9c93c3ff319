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
import time
from collections import deque
from collections.abc import Iterable
from typing import Protocol

import structlog

from liveshop.core.broker import Subscription
from liveshop.core.events import EventType, dumps
from liveshop.core.metrics import FANOUT_LAG
from liveshop.realtime.batch import (
    KEPT_BATCHES,
    MAX_PHASES,
    Batch,
    Group,
    batch_payload,
    batch_payload_raw,
    parse_event,
    select,
)
from liveshop.realtime.config import HubConfig
from liveshop.realtime.publish import room_channel
from liveshop.realtime.state import Ev, RoomState
from liveshop.realtime.wire import CLOSE_NORMAL, Conn, OutFrame

log = structlog.get_logger("liveshop.realtime.room")

CLOSED_STATUSES = frozenset({"ended", "cancelled"})


class RoomHost(Protocol):
    """What a room needs of the node serving it (the hub): its tunables, its size (a
    bigger node ticks slower), a count of dropped sockets, and closing a room gone idle."""

    config: HubConfig
    dropped: int

    def total_conns(self) -> int: ...

    def close_if_idle(self, room: Room) -> None: ...


class Room:
    def __init__(self, hub: RoomHost, session_id: int, state: RoomState) -> None:
        self.hub = hub
        self.config = hub.config
        self.session_id = session_id
        self.channel = room_channel(session_id)
        self.state = state
        self.conns: set[Conn] = set()
        self.by_user: dict[int, set[Conn]] = {}
        self.hosts: set[Conn] = set()  # the creator's and their moderators' sockets
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
        self.dashboard_at = -1e9  # when the creator's sockets last got their figures
        self.dashboard_task: asyncio.Task[None] | None = None
        self._ticks = 0
        self.batch_index = 0  # batches made so far (a socket's ``batch_done`` counts them)
        self.batches: deque[Batch] = deque(maxlen=KEPT_BATCHES)
        self.groups: list[Group] = [Group()]
        self._group_of: dict[Conn, Group] = {}
        self._phase = 0
        self._rounds = 0
        self._cap_credit = 0.0
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
    #
    # Rolling fan-out. Every *phase* (tick / P) the events that arrived become one batch
    # (state advanced, counters coalesced, chat sampled) and ONE group of sockets — a P-th
    # of the room, at most ``write_chunk`` of them — is written everything it has not had
    # yet, as one frame built once and shared by the group. So each socket still gets one
    # frame per tick, but the room never writes all its sockets in one burst: an event
    # waits at most a tick for its group plus the time to write one group, not a tick plus
    # a write of the whole room. A small room (P = 1) is flushed whole every tick.

    def tick_s(self) -> float:
        c = self.config
        budget = c.max_frames_per_s / max(1, c.workers)  # frames/s this process may write
        return min(max(self.hub.total_conns() / budget, c.tick_min_s), c.tick_max_s)

    def phases(self) -> int:
        """Groups the room's sockets are written in, one group per phase of the tick."""
        n = len(self.conns)
        return max(1, min(MAX_PHASES, -(-n // max(1, self.config.write_chunk))))

    async def _run(self) -> None:
        loop = asyncio.get_running_loop()
        while not self.closed:
            started = loop.time()
            try:
                self.step()
            except Exception:
                log.exception("room flush failed", room=self.session_id)
            pause = self.tick_s() / len(self.groups)
            await asyncio.sleep(max(0.0, started + pause - loop.time()))

    def flush(self) -> None:
        """Everything that arrived goes out to every local socket now (all groups)."""
        batch = self._prepare(self.tick_s())
        for group in self.groups:
            self._write_group(group)
        if batch is not None and batch.ends:
            self.close_all(CLOSE_NORMAL, "session ended")

    def step(self) -> None:
        """One phase: make a batch of what arrived, write the next group of sockets."""
        self._regroup()
        batch = self._prepare(self.tick_s() / len(self.groups))
        if batch is not None and batch.ends:  # the last frame goes to everyone at once
            for group in self.groups:
                self._write_group(group)
            self.close_all(CLOSE_NORMAL, "session ended")
            return
        self._phase = (self._phase + 1) % len(self.groups)
        if self._phase == 0:
            self._rounds += 1
        self._write_group(self.groups[self._phase])

    def _regroup(self) -> None:
        """Keep the number of groups in step with the room's size (rarely changes)."""
        wanted = self.phases()
        if wanted == len(self.groups):
            return
        conns = [c for g in self.groups for c in g.members]
        self.groups = [Group() for _ in range(wanted)]
        for i, conn in enumerate(conns):
            group = self.groups[i % wanted]
            group.add(conn)
            self._group_of[conn] = group
        for group in self.groups:  # members ahead of the group get frames of their own
            group.done = min((c.batch_done for c in group.members), default=self.batch_index)
        self._phase = 0

    def _prepare(self, period_s: float) -> Batch | None:
        events = self.pending
        cap = self._comment_cap(period_s)
        if not events:
            return None
        self.pending = []
        ts = events[0].data.get("ts")
        if isinstance(ts, int | float):
            FANOUT_LAG.observe(max(time.time() - ts / 1000, 0.0))
        for ev in events:
            self.state.apply(ev)
        shared, own, skipped, charged = select(events, cap, self.by_user, self.hosts)
        self._cap_credit -= charged
        self.batch_index += 1
        ends = self.state.status in CLOSED_STATUSES and any(
            ev.type == EventType.SESSION_ENDED for ev in events
        )
        batch = Batch(self.batch_index, shared, own, skipped, events[-1].seq, ends)
        self.batches.append(batch)
        self._ticks += 1
        return batch

    def _window(self, done: int) -> list[Batch] | None:
        """The batches after ``done`` (oldest first); None if some are no longer kept."""
        found: list[Batch] = []
        for batch in reversed(self.batches):
            if batch.index <= done:
                break
            found.append(batch)
        found.reverse()
        first = found[0].index if found else self.batch_index + 1
        return found if first == done + 1 else None

    def _frame(self, done: int, conn: Conn | None = None) -> OutFrame:
        """Everything after batch ``done`` as one frame — with ``conn``'s own sampled-out
        lines when given — or a fresh snapshot if that is no longer at hand."""
        window = self._window(done)
        if window is None:
            return OutFrame(self.state.snapshot())
        parts: list[bytes] = []
        skipped = 0
        for batch in window:
            extra = batch.own.get(conn) if conn is not None else None
            if extra:
                merged = sorted([*batch.shared, *extra], key=lambda e: e.seq)
                parts.extend(ev.raw for ev in merged)
                skipped += batch.skipped - len(extra)
            else:
                parts.extend(ev.raw for ev in batch.shared)
                skipped += batch.skipped
        through = window[-1].through if window else 0
        return OutFrame(batch_payload_raw(parts, skipped=skipped, through=through))

    def _write_group(self, group: Group) -> None:
        """The hot loop: one ``transport.write`` of the same bytes per socket.

        Sockets are at the group's last batch except those that joined or moved since
        (and those whose own lines were sampled out): they get a frame of their own. Every
        few rounds it also looks at each socket's unsent bytes and drops the ones over
        the bound (a slow consumer is never waited for).
        """
        current = self.batch_index
        last = group.done
        if last >= current:
            return
        own: set[Conn] = set()
        for batch in reversed(self.batches):
            if batch.index <= last:
                break
            own.update(batch.own)
        shared = self._frame(last)
        wire = shared.wire
        others: dict[int, OutFrame] = {}  # frames for sockets at another batch, by batch
        check = self._rounds % self.config.buffer_check_every == 0
        limit = self.config.send_buffer_limit
        losers: list[Conn] = []
        for conn in group.members:
            done = conn.batch_done
            if done >= current:
                continue
            conn.batch_done = current
            transport = conn.transport
            if done != last or conn in own or transport is None:
                if conn in own:
                    frame = self._frame(done, conn)
                elif done == last:
                    frame = shared
                else:
                    frame = others.get(done) or others.setdefault(done, self._frame(done))
                if not conn.write(frame):
                    losers.append(conn)
                continue
            if check and transport.get_write_buffer_size() > limit:
                losers.append(conn)
                continue
            try:
                transport.write(wire)
            except RuntimeError:  # the transport is closed already
                losers.append(conn)
        group.done = current
        for conn in losers:
            self._lose(conn)

    def _comment_cap(self, period_s: float) -> int | None:
        """Chat lines everyone gets in a batch covering ``period_s`` (None: no sampling).

        The allowance accrues per batch and carries over, so short phases still average
        ``comment_cap_per_s`` (at most a tick's worth saved up)."""
        c = self.config
        if len(self.conns) < c.sample_from_viewers:
            self._cap_credit = 0.0
            return None
        most = max(1.0, c.comment_cap_per_s * self.tick_s())
        self._cap_credit = min(most, self._cap_credit + c.comment_cap_per_s * period_s)
        return int(self._cap_credit)

    async def _run_naive(self) -> None:
        """Benchmark baseline: every event is its own send to every viewer, awaited in turn."""
        while not self.closed:
            await self._naive_wake.wait()
            self._naive_wake.clear()
            while self._naive:
                ev = self._naive.popleft()
                self.state.apply(ev)
                text = "[" + ev.raw.decode() + "]"
                to = self.by_user.get(ev.author or 0, set()) if ev.held else self.conns
                if ev.hosts_only:
                    to = self.hosts
                sends = [(conn, text) for conn in to]
                if ev.held and ev.host_raw is not None:
                    twin = "[" + ev.for_hosts().raw.decode() + "]"
                    sends += [(conn, twin) for conn in self.hosts if conn not in to]
                for conn, frame in sends:
                    try:
                        await conn.ws.send_text(frame)
                    except Exception:
                        self._lose(conn)

    # --- viewers ----------------------------------------------------------------------

    def catch_up(
        self, since: int | None, history: Iterable[Ev] = (), *, user_id: int | None = None
    ) -> OutFrame | None:
        """What a (re)joining socket of ``user_id`` gets first, as of the last delivered seq.

        A snapshot when ``since`` is None or ahead of the room; the missed events when
        they are all at hand (ring, or ``history`` from the broker); None when they are not
        (the caller fetches the broker's history, then falls back to a snapshot). The
        viewer's own held comments are in either; nobody else's are.
        """
        delivered = self.state.seq
        if since is None or since > delivered:
            return OutFrame(self.state.snapshot_for(user_id))
        if since == delivered:
            return OutFrame(b"[]")
        found = {ev.seq: ev for ev in history if since < ev.seq <= delivered}
        found.update((ev.seq, ev) for ev in self.ring if since < ev.seq <= delivered)
        if len(found) != delivered - since:
            return None
        missed = (self._redacted(found[s], user_id) for s in range(since + 1, delivered + 1))
        return OutFrame(batch_payload(missed))

    def _redacted(self, ev: Ev, user_id: int | None = None) -> Ev:
        """A replay never carries a comment moderators hid, nor one the filter held (but
        to its author), nor an event for the hosts only: in its place (same seq, so the
        client sees no gap) goes its removal (for a hosts-only event, removing nothing: the
        moderator screen re-reads what it needs when it joins again)."""
        if ev.hosts_only:
            data = {"seq": ev.seq, "type": str(EventType.COMMENT_HIDDEN), "ids": []}
            return Ev(dumps(data), data)
        cid = ev.data.get("id") if ev.type == EventType.COMMENT else None
        if cid is None:
            return ev
        if ev.held:
            if user_id is not None and ev.author == user_id and cid not in self.state.hidden:
                return ev
        elif cid not in self.state.hidden:
            return ev
        data = {"seq": ev.seq, "type": str(EventType.COMMENT_HIDDEN), "ts": ev.data.get("ts")}
        data["ids"] = [cid]
        return Ev(dumps(data), data)

    def add(self, conn: Conn) -> None:
        if self._idle is not None:
            self._idle.cancel()
            self._idle = None
        self.conns.add(conn)
        # The socket was just caught up to the current batch (no await in between).
        conn.batch_done = self.batch_index
        group = min(self.groups, key=lambda g: len(g.members)) if len(self.groups) > 1 else None
        group = group or self.groups[0]
        group.add(conn)
        self._group_of[conn] = group
        if conn.user_id is not None:
            self.by_user.setdefault(conn.user_id, set()).add(conn)
        if conn.is_host:
            self.hosts.add(conn)

    def remove(self, conn: Conn) -> None:
        self.conns.discard(conn)
        self.hosts.discard(conn)
        group = self._group_of.pop(conn, None)
        if group is not None:
            group.members.pop(conn, None)
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
