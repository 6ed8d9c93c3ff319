"""Who a token belongs to, from the node's memory: the hot paths' authentication.

A drop's taps (and the room socket's frames) cannot afford a database read per request to
learn who is asking. This node keeps each token's answer — the principal, or "not valid" —
for ``ttl_s`` (1 s): a revoked or expired token, or a deactivated account, stops working on
every node within that second, as with a signed token of that lifetime, and a token is read
from the database at most once a second per node however fast its owner taps.

Misses are read together: the tokens asked for while a read is in the database wait for the
next one, which resolves them all in three statements (``accounts.service.resolve_tokens``)
— at a drop, thousands of buyers' first taps arrive within milliseconds of each other.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import time

import structlog

from liveshop.accounts.service import Principal, resolve_tokens
from liveshop.core.db import Database

log = structlog.get_logger("liveshop.accounts.token_cache")

TTL_S = 1.0
MAX_ENTRIES = 200_000
MAX_READ = 500  # tokens per database read


class TokenCache:
    def __init__(self, db: Database, *, ttl_s: float = TTL_S) -> None:
        self.db = db
        self.ttl_s = ttl_s
        self.reads = 0  # database reads (tests, metrics)
        self._entries: dict[str, tuple[float, Principal | None]] = {}
        self._waiting: dict[str, asyncio.Future[Principal | None]] = {}
        self._queue: list[str] = []
        self._reader: asyncio.Task[None] | None = None

    async def principal(self, token: str, *, via_cookie: bool = False) -> Principal | None:
        entry = self._entries.get(token)
        if entry is not None and time.monotonic() - entry[0] < self.ttl_s:
            found = entry[1]
        else:
            waiting = self._waiting.get(token)
            if waiting is None:
                waiting = asyncio.get_running_loop().create_future()
                self._waiting[token] = waiting
                self._queue.append(token)
                if self._reader is None:
                    self._reader = asyncio.create_task(self._read_all(), name="token-reads")
            found = await asyncio.shield(waiting)
        if found is not None and via_cookie:
            return dataclasses.replace(found, via_cookie=True)
        return found

    async def _read_all(self) -> None:
        try:
            while self._queue:
                batch = self._queue[:MAX_READ]
                del self._queue[:MAX_READ]
                # An answer is as old as the read's start: stamped when it ends, a read slowed
                # by load would keep a token revoked meanwhile valid for longer than ``ttl_s``.
                started = time.monotonic()
                try:
                    self.reads += 1
                    async with self.db.session() as session:
                        found = await resolve_tokens(session, batch)
                except Exception as exc:
                    log.exception("reading tokens failed", tokens=len(batch))
                    for token in batch:
                        future = self._waiting.pop(token, None)
                        if future is not None and not future.done():
                            future.set_exception(exc)
                    continue
                now = time.monotonic()
                if len(self._entries) + len(found) > MAX_ENTRIES:
                    self._entries = {
                        k: v for k, v in self._entries.items() if now - v[0] < self.ttl_s
                    }
                for token, principal in found.items():
                    self._entries[token] = (started, principal)
                    future = self._waiting.pop(token, None)
                    if future is not None and not future.done():
                        future.set_result(principal)
        finally:
            self._reader = None

    async def close(self) -> None:
        reader, self._reader = self._reader, None
        if reader is not None:
            reader.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await reader
