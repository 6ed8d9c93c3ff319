"""The node's hub: which rooms this node serves, joining them, and the rooms' chores.

Chores, once per ``viewers_interval_s`` for every room with local viewers: report this
node's viewer count to the broker (with a deadline, so a dead node ages out), add local
likes to the room's counter, and — on the one node holding the room's lease — publish the
total viewer and like counts when they changed, and keep the audience stats.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable, Callable

import structlog
from sqlalchemy.ext.asyncio import AsyncSession

from liveshop.core.broker import Broker
from liveshop.core.db import Database
from liveshop.core.events import EventType, dumps
from liveshop.core.tasks import stop_if_cancelled
from liveshop.realtime.batch import parse_event
from liveshop.realtime.comment_writer import CommentWriter
from liveshop.realtime.config import HubConfig
from liveshop.realtime.ports import (
    NO_CHECKS,
    Audience,
    BidDesk,
    ClaimDesk,
    ClaimPayer,
    CommentChecks,
    CommentStore,
    ComplaintDesk,
    Dashboard,
    RoomDirectory,
    RoomStats,
)
from liveshop.realtime.publish import RoomPublisher, room_channel
from liveshop.realtime.room import Room
from liveshop.realtime.state import Ev, RoomState
from liveshop.realtime.wire import CLOSE_NORMAL, Conn, OutFrame

log = structlog.get_logger("liveshop.realtime.hub")


def _key(session_id: int, what: str) -> str:
    return f"{room_channel(session_id)}:{what}"


async def load_state(directory: RoomDirectory, session_id: int, *, comments: int) -> RoomState:
    """Session, pinned product (price, stock), running deal and last comments, as the
    session domain has them."""
    snap = await directory.snapshot(session_id, comments=comments)
    state = RoomState(session=snap.session, comments_kept=comments)
    state.pinned = snap.pinned
    # A deal started before this node opened the room is in the snapshot too.
    state.deal = snap.deal
    state.auction = snap.auction
    state.giveaway = snap.giveaway
    state.poll = snap.poll
    state.answering = snap.answering
    creator_id = snap.session.get("creator_id")
    for c in snap.comments:
        state.add_comment(
            {
                "type": "comment",
                "id": c.id,
                "user": {"id": c.user_id, "name": c.display_name},
                "text": c.text,
                "host": c.user_id == creator_id,
                "ts": round(c.created_at.timestamp() * 1000, 3),
            }
        )
    return state


class Hub:
    """``directory`` and ``store`` come from the session domain; ``checks`` (who may not
    comment, which comments are held) are set by chat's wiring — without them nobody is
    muted and nothing is held."""

    def __init__(
        self,
        broker: Broker,
        db: Database,
        config: HubConfig | None = None,
        *,
        directory: RoomDirectory,
        store: CommentStore,
        checks: CommentChecks = NO_CHECKS,
    ) -> None:
        self.broker = broker
        self.db = db
        self.directory = directory
        self.checks = checks
        self.publisher = RoomPublisher(broker)
        self.comments = CommentWriter(db, store)
        self.claims: ClaimDesk | None = None  # taps on a drop (handed in by the deals domain)
        self.payer: ClaimPayer | None = None  # one-tap pay of a claim (the deals domain)
        # Heartbeats, joins, chat lines (capture) and the creator's live figures: handed in
        # by analytics; without them nothing is counted and no dashboard is sent.
        self.audience: Audience | None = None
        self.dashboard: Dashboard | None = None
        self.bids: BidDesk | None = None  # bids on a lot (handed in by the auctions domain)
        # Held complaints become support cases (handed in by the helpdesk domain).
        self.complaints: ComplaintDesk | None = None
        self._closers: list[Callable[[], Awaitable[None]]] = []
        self.config = config or HubConfig()
        self.rooms: dict[int, Room] = {}
        self.dropped = 0
        self._opening: dict[int, asyncio.Future[Room]] = {}
        self._chores: asyncio.Task[None] | None = None
        self._closed = False

    @property
    def config(self) -> HubConfig:
        return self._config

    @config.setter
    def config(self, config: HubConfig) -> None:
        """Set before the first room opens (rooms keep the config they started with)."""
        self._config = config
        self.publisher.history = config.history_size
        self.comments.linger_s = config.comment_linger_s

    def on_close(self, closer: Callable[[], Awaitable[None]]) -> None:
        """Close something of the node's with the hub (before its rooms and the broker):
        chat's caches, subscribed on the hub's broker."""
        self._closers.append(closer)

    def total_conns(self) -> int:
        return sum(len(r.conns) for r in self.rooms.values())

    # --- rooms ------------------------------------------------------------------------

    async def room(self, session_id: int) -> Room:
        """The node's room for a session, opened (subscribed, loaded) on first use.

        Raises NotFound for an unknown session. Concurrent first joins share one opening.
        """
        room = self.rooms.get(session_id)
        if room is not None and not room.closed:
            return room
        opening = self._opening.get(session_id)
        if opening is None:
            opening = asyncio.ensure_future(self._open(session_id))
            self._opening[session_id] = opening
            opening.add_done_callback(lambda _: self._opening.pop(session_id, None))
        return await asyncio.shield(opening)

    async def _open(self, session_id: int) -> Room:
        c = self.config
        channel = room_channel(session_id)
        state = RoomState(session={"id": session_id})
        room = Room(self, session_id, state)
        room.subscription = await self.broker.subscribe(channel, room.on_message)
        try:
            last_seq = await self.broker.last_seq(channel)
            history = [e for e in map(parse_event, await self.broker.history(channel)) if e]
            room.state = await load_state(self.directory, session_id, comments=c.snapshot_comments)
            room.state.likes = await self.broker.get_int(_key(session_id, "likes"))
            room.state.viewers = await self.broker.total(_key(session_id, "viewers"))
        except BaseException:
            await self.broker.unsubscribe(room.subscription)
            raise
        room.start(history, last_seq)
        self.rooms[session_id] = room
        if self._chores is None or self._chores.done():
            self._chores = asyncio.get_running_loop().create_task(self._run_chores())
        return room

    def close_if_idle(self, room: Room) -> None:
        if room.conns or room.closed:
            return
        room.closed = True
        if self.rooms.get(room.session_id) is room:
            del self.rooms[room.session_id]
        asyncio.get_running_loop().create_task(self._close_room(room))

    async def _close_room(self, room: Room) -> None:
        await room.stop()
        with contextlib.suppress(Exception):
            if room.subscription is not None:
                await self.broker.unsubscribe(room.subscription)
            await self.broker.report(_key(room.session_id, "viewers"), 0, ttl_s=self._ttl())

    # --- viewers ----------------------------------------------------------------------

    async def join(self, session_id: int, conn: Conn, since: int | None) -> Room:
        """Catch the socket up (snapshot or missed events) and add it to the room.

        From computing the catch-up to adding the socket there is no await, so the next
        tick frame continues exactly where the catch-up ended.
        """
        while True:
            room = await self.room(session_id)
            frame = await self._catch_up(room, conn, since)
            if room.closed:
                continue  # went idle while we fetched history; open it again
            conn.write(frame)
            if room.state.status in ("ended", "cancelled"):
                conn.close_soon(CLOSE_NORMAL, "session ended")
            else:
                room.add(conn)
            return room

    async def resume(self, room: Room, conn: Conn, since: int) -> None:
        """A connected socket noticed a gap: send it everything after ``since``."""
        conn.write(await self._catch_up(room, conn, since))
        conn.batch_done = room.batch_index  # caught up: its group's next frame continues

    async def _catch_up(self, room: Room, conn: Conn, since: int | None) -> OutFrame:
        """The missed events from the room's ring, else from the broker's history, else a
        snapshot — as ``conn``'s viewer may see them. Suspends only to fetch the history."""
        who = conn.user_id
        frame = room.catch_up(since, user_id=who)
        if frame is None:
            history = await self._history(room)
            frame = room.catch_up(since, history, user_id=who) or room.catch_up(None, user_id=who)
        assert frame is not None
        return frame

    async def _history(self, room: Room) -> list[Ev]:
        raw = await self.broker.history(room.channel)
        return [e for e in map(parse_event, raw) if e]

    def leave(self, room: Room, conn: Conn) -> None:
        room.remove(conn)

    # --- chores -----------------------------------------------------------------------

    def _ttl(self) -> float:
        return 3 * self.config.viewers_interval_s

    async def _run_chores(self) -> None:
        while not self._closed and self.rooms:
            await asyncio.sleep(self.config.viewers_interval_s)
            for room in list(self.rooms.values()):
                try:
                    await self._room_chores(room)
                except Exception:
                    stop_if_cancelled()
                    log.exception("room chores failed", room=room.session_id)

    def _send_dashboard(self, room: Room) -> None:
        """The creator's sockets get the live figures every ``dashboard_interval_s`` (in a
        task of its own: the chores never wait for the database)."""
        if self.dashboard is None or room.state.status not in ("scheduled", "live"):
            return
        creator = room.state.session.get("creator_id")
        if not isinstance(creator, int) or not room.by_user.get(creator):
            return
        now = asyncio.get_running_loop().time()
        task = room.dashboard_task
        if now - room.dashboard_at < self.config.dashboard_interval_s or (
            task is not None and not task.done()
        ):
            return
        room.dashboard_at = now
        room.dashboard_task = asyncio.get_running_loop().create_task(self._dashboard(room))

    async def _dashboard(self, room: Room) -> None:
        assert self.dashboard is not None
        try:
            figures = await self.dashboard.figures(room.session_id)
        except Exception:
            stop_if_cancelled()
            log.exception("dashboard figures failed", room=room.session_id)
            return
        frame = OutFrame(dumps({"type": "dashboard", **figures}))
        creator = room.state.session.get("creator_id")
        if isinstance(creator, int):
            for conn in list(room.by_user.get(creator, ())):
                conn.write(frame)

    async def _room_chores(self, room: Room) -> None:
        b, sid = self.broker, room.session_id
        self._send_dashboard(room)
        await b.report(_key(sid, "viewers"), len(room.conns), ttl_s=self._ttl())
        if room.local_likes:
            likes, room.local_likes = room.local_likes, 0
            await b.incr(_key(sid, "likes"), likes)
        if not await b.acquire_lease(_key(sid, "leader"), ttl_s=self._ttl()):
            room.lead_at = None
            return
        now = asyncio.get_running_loop().time()
        total = await b.total(_key(sid, "viewers"))
        if total != room.viewers_seen:
            room.viewers_seen = total
            await self.publisher.publish(sid, EventType.VIEWERS, {"count": total})
        likes_total = await b.get_int(_key(sid, "likes"))
        if likes_total > room.likes_seen:
            room.likes_seen = likes_total
            await self.publisher.publish(sid, EventType.LIKE, {"count": likes_total})
        if room.state.status == "live":
            if room.lead_at is not None:
                elapsed = min(now - room.lead_at, self._ttl())
                await b.incr(_key(sid, "viewer_ms"), int(total * elapsed * 1000))
            peak = await b.get_int(_key(sid, "peak"))
            if total > peak:
                await b.incr(_key(sid, "peak"), total - peak)
            if now - room.stats_at >= self.config.stats_interval_s:
                room.stats_at = now
                await self.save_stats(sid)
        room.lead_at = now

    async def save_stats(self, session_id: int, *, session: AsyncSession | None = None) -> None:
        """Write peak, time-weighted average viewers and likes to the session row.

        Pass the caller's ``session`` when it holds one (on SQLite a second writer would
        wait for the first).
        """
        if session is None:
            async with self.db.session() as own:
                await self._save_stats(own, session_id)
        else:
            await self._save_stats(session, session_id)

    async def _save_stats(self, s: AsyncSession, session_id: int) -> None:
        b = self.broker
        stats = RoomStats(
            peak_viewers=await b.get_int(_key(session_id, "peak")),
            viewer_ms=await b.get_int(_key(session_id, "viewer_ms")),
            likes=await b.get_int(_key(session_id, "likes")),
        )
        await self.directory.record_stats(s, session_id, stats)

    async def close(self) -> None:
        self._closed = True
        await self.comments.close()
        for closer in self._closers:
            await closer()
        if self._chores is not None:
            self._chores.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await self._chores
        for room in list(self.rooms.values()):
            room.closed = True
            await self._close_room(room)
        self.rooms.clear()
