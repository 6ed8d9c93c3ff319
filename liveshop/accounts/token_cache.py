"""Who a token belongs to, from the node's memory: the hot paths' authentication.

A drop's taps (and the room socket's frames) cannot afford a database read per request to
learn who is asking. This node keeps each token's answer — the principal, or "not valid" —
for ``ttl_s`` (1 s): a revoked or expired token, or a deactivated account, stops working on
every node within that second, as with a signed token of that lifetime, and a token is read
from the database at most once a second per node however fast its owner taps. Concurrent
first uses of one token share one read.
"""

from __future__ import annotations

import asyncio
import time

from liveshop.accounts.service import Principal, resolve_token
from liveshop.core.db import Database

TTL_S = 1.0
MAX_ENTRIES = 200_000


class TokenCache:
    def __init__(self, db: Database, *, ttl_s: float = TTL_S) -> None:
        self.db = db
        self.ttl_s = ttl_s
        self.reads = 0  # database reads (tests, metrics)
        self._entries: dict[tuple[str, bool], tuple[float, Principal | None]] = {}
        self._loading: dict[tuple[str, bool], asyncio.Future[Principal | None]] = {}

    async def principal(self, token: str, *, via_cookie: bool = False) -> Principal | None:
        key = (token, via_cookie)
        entry = self._entries.get(key)
        now = time.monotonic()
        if entry is not None and now - entry[0] < self.ttl_s:
            return entry[1]
        loading = self._loading.get(key)
        if loading is None:
            loading = asyncio.ensure_future(self._read(token, via_cookie))
            self._loading[key] = loading
            loading.add_done_callback(lambda _f: self._loading.pop(key, None))
        return await asyncio.shield(loading)

    async def _read(self, token: str, via_cookie: bool) -> Principal | None:
        self.reads += 1
        async with self.db.session() as session:
            principal = await resolve_token(session, token, via_cookie=via_cookie)
        if len(self._entries) >= MAX_ENTRIES:
            cutoff = time.monotonic() - self.ttl_s
            self._entries = {k: v for k, v in self._entries.items() if v[0] >= cutoff}
        self._entries[(token, via_cookie)] = (time.monotonic(), principal)
        return principal
