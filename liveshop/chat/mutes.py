"""Is this viewer muted (or banned)? Answered from memory on the chat hot path, on every node.

Each node keeps, per creator whose rooms it serves, the ``{user_id: expires_at}`` of the
mutes in force and which of them are bans (one read when first needed). A mute, unmute,
ban or unban, once it commits (queued on its transaction by ``chat.service``), is
announced on the broker's ``chat:mutes`` channel (``{"creator_id": N}``): every node drops
that creator's entry and reads it again on the next comment. The announcement is not a
room event, so viewers never learn who was muted. Pub/sub can lose a message (a Redis
reconnect), so an entry is also read again after ``ttl_s`` at the latest; expiry needs no
message (the cached ``expires_at`` is compared with the clock).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import time
from dataclasses import dataclass
from datetime import datetime

import structlog

from liveshop.chat import service
from liveshop.core.broker import Broker, Subscription
from liveshop.core.clock import utcnow
from liveshop.core.db import Database

log = structlog.get_logger("liveshop.chat.mutes")

CHANNEL = "chat:mutes"

# ({user_id: expires_at} of the mutes and bans in force, the banned user ids)
_Restrictions = tuple[dict[int, datetime | None], set[int]]


@dataclass(frozen=True, slots=True)
class MutedUntil:
    expires_at: datetime | None  # None: until lifted
    banned: bool = False  # a ban (no end), not a mute


class MuteCache:
    def __init__(self, broker: Broker, db: Database, *, ttl_s: float = 30.0) -> None:
        self.broker = broker
        self.db = db
        self.ttl_s = ttl_s
        self.loads = 0  # database reads (tests and metrics)
        self._entries: dict[int, tuple[float, _Restrictions]] = {}
        self._loading: dict[int, asyncio.Future[_Restrictions]] = {}
        self._generation: dict[int, int] = {}
        self._subscription: Subscription | None = None
        self._subscribing: asyncio.Future[None] | None = None

    async def check(self, creator_id: int, user_id: int) -> MutedUntil | None:
        """The mute in force on ``user_id`` in ``creator_id``'s rooms, if any."""
        entry = self._entries.get(creator_id)
        if entry is not None and time.monotonic() - entry[0] <= self.ttl_s:
            mutes, banned = entry[1]
        else:
            mutes, banned = await self._load(creator_id)
        if user_id in banned:
            return MutedUntil(None, banned=True)
        if user_id not in mutes:
            return None
        until = mutes[user_id]
        if until is not None and until <= utcnow():
            return None
        return MutedUntil(until)

    def forget(self, creator_id: int) -> None:
        """This node's entry for the creator is stale (a mute or unmute was committed)."""
        self._entries.pop(creator_id, None)
        self._loading.pop(creator_id, None)
        self._generation[creator_id] = self._generation.get(creator_id, 0) + 1

    async def changed(self, creator_id: int) -> None:
        """After committing a mute or unmute: every node (this one at once) reads again."""
        self.forget(creator_id)
        try:
            await self.broker.publish(CHANNEL, json.dumps({"creator_id": creator_id}).encode())
        except Exception:  # the other nodes catch up within ttl_s
            log.exception("announcing a mute change failed", creator_id=creator_id)

    def _on_message(self, raw: bytes) -> None:
        try:
            creator_id = int(json.loads(raw)["creator_id"])
        except (ValueError, KeyError, TypeError):
            log.warning("unreadable mute announcement dropped", raw=raw[:200])
            return
        self.forget(creator_id)

    async def _subscribe(self) -> None:
        """Listen before the first read, so no announcement can fall between the two."""
        if self._subscription is not None:
            return
        if self._subscribing is None:
            self._subscribing = asyncio.ensure_future(self._do_subscribe())
        await asyncio.shield(self._subscribing)

    async def _do_subscribe(self) -> None:
        try:
            self._subscription = await self.broker.subscribe(CHANNEL, self._on_message)
        except Exception:
            log.exception("subscribing to mute announcements failed; relying on the TTL")
            self._subscribing = None

    async def _load(self, creator_id: int) -> _Restrictions:
        await self._subscribe()
        loading = self._loading.get(creator_id)
        if loading is None:
            loading = asyncio.ensure_future(self._read(creator_id))
            self._loading[creator_id] = loading

            def done(fut: asyncio.Future[_Restrictions]) -> None:
                if self._loading.get(creator_id) is fut:
                    del self._loading[creator_id]

            loading.add_done_callback(done)
        return await asyncio.shield(loading)

    async def _read(self, creator_id: int) -> _Restrictions:
        generation = self._generation.get(creator_id, 0)
        self.loads += 1
        async with self.db.session(deferred=True) as s:
            found = (
                await service.muted_users(s, creator_id),
                await service.banned_users(s, creator_id),
            )
            await s.rollback()
        if self._generation.get(creator_id, 0) == generation:  # nothing changed meanwhile
            self._entries[creator_id] = (time.monotonic(), found)
        return found

    async def close(self) -> None:
        subscription, self._subscription = self._subscription, None
        if subscription is not None:
            with contextlib.suppress(Exception):
                await self.broker.unsubscribe(subscription)
        self._entries.clear()
