"""Is this comment held by the automatic filter? Answered from memory on the chat hot path.

Each node keeps, per creator whose rooms it serves, the creator's list compiled into one
:class:`~liveshop.chat.filter_rules.Matcher` with their "hold links" switch, and, per market
it serves, the platform's terms for that market compiled the same way with the platform's
switch (one query each when first needed; compiling runs on a worker thread, so a long list
does not stall the room's fan-out). A comment then costs a fold and two regex searches — no
database read.

Changes follow ``chat.mutes``: once a list or switch change commits (queued on its
transaction by ``chat.filters``), the cache publishes on the broker's plain ``chat:filters``
channel (``{"creator_id": N}`` or ``{"platform": true}``), every node drops those entries
and reads them again on the next comment. Pub/sub can lose a
message (a Redis reconnect), so an entry is also read again after ``ttl_s`` at the latest —
recompiled only if its terms changed.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import time
from dataclasses import dataclass

import structlog

from liveshop.chat import filters
from liveshop.chat.filter_rules import Hit, Matcher, check
from liveshop.chat.models import FilterRule
from liveshop.core.broker import Broker, Subscription
from liveshop.core.db import Database

log = structlog.get_logger("liveshop.chat.filter_cache")

CHANNEL = "chat:filters"
CREATOR, PLATFORM = "creator", "platform"
Key = tuple[str, int | str]  # (CREATOR, creator_id) or (PLATFORM, market_code)


@dataclass(frozen=True, slots=True)
class Rules:
    matcher: Matcher
    hold_links: bool


class FilterCache:
    def __init__(
        self, broker: Broker, db: Database, *, ttl_s: float = 30.0, max_kept: int = 2000
    ) -> None:
        self.broker = broker
        self.db = db
        self.ttl_s = ttl_s
        self.max_kept = max_kept  # lists kept compiled; the longest unread go first
        self.loads = 0  # database reads (tests and metrics)
        self.compiles = 0  # lists compiled
        self._entries: dict[Key, tuple[float, Rules]] = {}
        self._compiled: dict[Key, Matcher] = {}  # the last compiled, reused if unchanged
        self._loading: dict[Key, asyncio.Future[Rules]] = {}
        self._generation: dict[Key, int] = {}
        self._subscription: Subscription | None = None
        self._subscribing: asyncio.Future[None] | None = None

    async def check(self, creator_id: int, market_code: str, text: str) -> Hit | None:
        """Why ``text`` is held in a room of ``creator_id`` in ``market_code``, or None."""
        mine = await self.rules((CREATOR, creator_id))
        platform = await self.rules((PLATFORM, market_code))
        hold_links = mine.hold_links or platform.hold_links
        if not mine.matcher and not platform.matcher and not hold_links:
            return None  # nothing to look for: no folding either
        return check(text, (mine.matcher, platform.matcher), hold_links=hold_links)

    async def rules(self, key: Key) -> Rules:
        entry = self._entries.get(key)
        if entry is not None and time.monotonic() - entry[0] <= self.ttl_s:
            return entry[1]
        return await self._load(key)

    # --- changes ------------------------------------------------------------------------

    def forget(self, key: Key) -> None:
        """This node's entry is stale (a change was committed)."""
        self._entries.pop(key, None)
        self._loading.pop(key, None)
        self._generation[key] = self._generation.get(key, 0) + 1

    def _forget_platform(self) -> None:
        for key in {*self._entries, *self._loading}:
            if key[0] == PLATFORM:
                self.forget(key)

    async def creator_changed(self, creator_id: int) -> None:
        """After committing a change to a creator's list or switch: every node (this one
        at once) reads it again."""
        self.forget((CREATOR, creator_id))
        await self._announce({"creator_id": creator_id})

    async def platform_changed(self) -> None:
        """After committing a change to the platform's list or switches."""
        self._forget_platform()
        await self._announce({"platform": True})

    async def _announce(self, message: dict[str, object]) -> None:
        try:
            await self.broker.publish(CHANNEL, json.dumps(message).encode())
        except Exception:  # the other nodes catch up within ttl_s
            log.exception("announcing a filter change failed", message=message)

    def _on_message(self, raw: bytes) -> None:
        try:
            message = json.loads(raw)
            if message.get("platform") is True:
                self._forget_platform()
            else:
                self.forget((CREATOR, int(message["creator_id"])))
        except (ValueError, KeyError, TypeError, AttributeError):
            log.warning("unreadable filter announcement dropped", raw=raw[:200])

    # --- loading ------------------------------------------------------------------------

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
            log.exception("subscribing to filter announcements failed; relying on the TTL")
            self._subscribing = None

    async def _load(self, key: Key) -> Rules:
        await self._subscribe()
        loading = self._loading.get(key)
        if loading is None:
            loading = asyncio.ensure_future(self._read(key))
            self._loading[key] = loading

            def done(fut: asyncio.Future[Rules]) -> None:
                if self._loading.get(key) is fut:
                    del self._loading[key]

            loading.add_done_callback(done)
        return await asyncio.shield(loading)

    async def _read(self, key: Key) -> Rules:
        generation = self._generation.get(key, 0)
        self.loads += 1
        kind, which = key
        async with self.db.session(deferred=True) as s:
            if kind == CREATOR:
                assert isinstance(which, int)
                terms, hold_links = await filters.creator_rules(s, which)
            else:
                terms, hold_links = await filters.platform_rules(s, str(which))
            await s.rollback()
        matcher = self._compiled.get(key)
        if matcher is None or matcher.terms != terms:
            rule = FilterRule.CREATOR_TERM if kind == CREATOR else FilterRule.PLATFORM_TERM
            self.compiles += 1
            matcher = await asyncio.to_thread(Matcher, terms, rule=str(rule))
            self._compiled[key] = matcher
        rules = Rules(matcher, hold_links)
        if self._generation.get(key, 0) == generation:  # nothing changed meanwhile
            self._entries[key] = (time.monotonic(), rules)
        if len(self._compiled) > self.max_kept:
            self._prune()
        return rules

    def _prune(self) -> None:
        """Forget the lists read longest ago (creators whose rooms this node no longer
        serves), down to three quarters of ``max_kept``."""
        keys = sorted(
            (k for k in {*self._compiled, *self._entries} if k not in self._loading),
            key=lambda k: self._entries[k][0] if k in self._entries else float("-inf"),
        )
        for key in keys[: max(0, len(keys) - self.max_kept * 3 // 4)]:
            self._entries.pop(key, None)
            self._compiled.pop(key, None)

    async def close(self) -> None:
        subscription, self._subscription = self._subscription, None
        if subscription is not None:
            with contextlib.suppress(Exception):
                await self.broker.unsubscribe(subscription)
        self._entries.clear()
        self._compiled.clear()
