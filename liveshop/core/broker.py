"""Broker: how events and hot counters cross nodes.

Two implementations behind one interface:

- ``InMemoryBroker`` (``memory://``, the embedded default): one process, no services.
- ``RedisBroker`` (``redis://…``): Redis pub/sub for fan-out between nodes, plain keys for
  counters, and small Lua scripts where two steps must be atomic.

What the live rooms rely on:

- ``publish_sequenced`` numbers an event and publishes it in one atomic step, so the order
  on the channel is the seq order and every node sees the same seq for the same event; it
  also keeps a bounded history ring for clients that reconnect.
- ``report``/``total``: each node reports its own count under its node id with a deadline,
  the total sums only live reports — a node that dies stops reporting and ages out.
- ``acquire_lease``: one node per room does the room's periodic chores (viewer count,
  like count, stats), and another takes over when it stops renewing.

And for the rate limits (``core/ratelimit.py``): ``hit`` counts in a fixed window (INCRBY
and PEXPIRE in one step), so every node counts the same attempts.

A subscriber callback is called with the raw bytes, in publish order, on the event loop;
it must not block (the live rooms only append to a list).
"""

from __future__ import annotations

import asyncio
import contextlib
import time
import uuid
from abc import ABC, abstractmethod
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

import structlog

from liveshop.core.events import with_seq

log = structlog.get_logger("liveshop.broker")

Callback = Callable[[bytes], None]
HISTORY_TTL_S = 2 * 24 * 3600  # a room's seq counter and history outlive any session


@dataclass(eq=False)
class Subscription:
    channel: str
    callback: Callback
    active: bool = field(default=True)


class Broker(ABC):
    """Pub/sub plus the few atomic counters the live rooms need across nodes."""

    node_id: str

    @abstractmethod
    async def publish(self, channel: str, data: bytes) -> None:
        """Deliver ``data`` to every subscriber of ``channel`` on every node."""

    @abstractmethod
    async def publish_sequenced(
        self, channel: str, body: bytes, *, history: int = 1000
    ) -> tuple[int, bytes]:
        """Atomically: seq = next number of ``channel``; publish ``with_seq(seq, body)``;
        append it to the channel's history ring (last ``history`` events). Returns both."""

    @abstractmethod
    async def history(self, channel: str) -> list[bytes]:
        """The channel's history ring, oldest first."""

    @abstractmethod
    async def last_seq(self, channel: str) -> int:
        """The last seq handed out on ``channel`` (0 if none)."""

    @abstractmethod
    async def subscribe(self, channel: str, callback: Callback) -> Subscription: ...

    @abstractmethod
    async def unsubscribe(self, subscription: Subscription) -> None: ...

    @abstractmethod
    async def incr(self, key: str, amount: int = 1) -> int:
        """Atomic add (negative to decrement); returns the new value."""

    @abstractmethod
    async def get_int(self, key: str) -> int: ...

    @abstractmethod
    async def report(self, key: str, value: int, *, ttl_s: float) -> None:
        """This node's contribution to ``key``, valid for ``ttl_s`` unless reported again."""

    @abstractmethod
    async def total(self, key: str) -> int:
        """Sum of the live contributions of all nodes (expired ones are dropped)."""

    @abstractmethod
    async def acquire_lease(self, key: str, *, ttl_s: float) -> bool:
        """Take or renew a lease held by this node; False while another node holds it."""

    @abstractmethod
    async def hit(self, key: str, *, window_s: float, amount: int = 1) -> tuple[int, float]:
        """Add ``amount`` to a counter that lives ``window_s`` from its first hit (a fixed
        window, atomically: the INCR and the EXPIRE are one step); returns the new value and
        the seconds until it resets. A negative amount on a gone counter does nothing."""

    @abstractmethod
    async def close(self) -> None: ...


def _new_node_id() -> str:
    return uuid.uuid4().hex[:12]


class InMemoryBroker(Broker):
    """Everything in this process; delivery is scheduled on the loop like a network hop."""

    def __init__(self, *, node_id: str | None = None) -> None:
        self.node_id = node_id or _new_node_id()
        self._subs: dict[str, list[Subscription]] = {}
        self._counters: dict[str, int] = {}
        self._history: dict[str, deque[bytes]] = {}
        self._gauges: dict[str, dict[str, tuple[int, float]]] = {}
        self._leases: dict[str, tuple[str, float]] = {}
        self._windows: dict[str, tuple[int, float]] = {}  # key: (count, resets at)

    def _deliver(self, channel: str, data: bytes) -> None:
        subs = self._subs.get(channel)
        if not subs:
            return
        loop = asyncio.get_running_loop()
        for sub in list(subs):
            loop.call_soon(self._call, sub, data)

    @staticmethod
    def _call(sub: Subscription, data: bytes) -> None:
        if sub.active:
            sub.callback(data)

    async def publish(self, channel: str, data: bytes) -> None:
        self._deliver(channel, data)

    async def publish_sequenced(
        self, channel: str, body: bytes, *, history: int = 1000
    ) -> tuple[int, bytes]:
        # No await between numbering and delivering: atomic on the event loop.
        seq = self._counters.get(channel + ":seq", 0) + 1
        self._counters[channel + ":seq"] = seq
        data = with_seq(seq, body)
        ring = self._history.get(channel)
        if ring is None or ring.maxlen != history:
            ring = self._history[channel] = deque(ring or (), maxlen=history)
        ring.append(data)
        self._deliver(channel, data)
        return seq, data

    async def history(self, channel: str) -> list[bytes]:
        return list(self._history.get(channel, ()))

    async def last_seq(self, channel: str) -> int:
        return self._counters.get(channel + ":seq", 0)

    async def subscribe(self, channel: str, callback: Callback) -> Subscription:
        sub = Subscription(channel, callback)
        self._subs.setdefault(channel, []).append(sub)
        return sub

    async def unsubscribe(self, subscription: Subscription) -> None:
        subscription.active = False
        subs = self._subs.get(subscription.channel, [])
        if subscription in subs:
            subs.remove(subscription)
        if not subs:
            self._subs.pop(subscription.channel, None)

    async def incr(self, key: str, amount: int = 1) -> int:
        value = self._counters.get(key, 0) + amount
        self._counters[key] = value
        return value

    async def get_int(self, key: str) -> int:
        return self._counters.get(key, 0)

    async def report(self, key: str, value: int, *, ttl_s: float) -> None:
        self._gauges.setdefault(key, {})[self.node_id] = (value, time.monotonic() + ttl_s)

    async def total(self, key: str) -> int:
        now = time.monotonic()
        gauges = self._gauges.get(key, {})
        for node in [n for n, (_, deadline) in gauges.items() if deadline < now]:
            del gauges[node]
        return sum(v for v, _ in gauges.values())

    async def acquire_lease(self, key: str, *, ttl_s: float) -> bool:
        now = time.monotonic()
        holder = self._leases.get(key)
        if holder is None or holder[0] == self.node_id or holder[1] < now:
            self._leases[key] = (self.node_id, now + ttl_s)
            return True
        return False

    async def hit(self, key: str, *, window_s: float, amount: int = 1) -> tuple[int, float]:
        now = time.monotonic()
        count, resets = self._windows.get(key, (0, 0.0))
        if resets <= now:
            if amount < 0:
                return 0, 0.0
            count, resets = 0, now + window_s
            if len(self._windows) > 10_000:  # forget windows that are over
                for k in [k for k, (_, r) in self._windows.items() if r <= now]:
                    del self._windows[k]
        count += amount
        self._windows[key] = (count, resets)
        return count, resets - now

    async def close(self) -> None:
        for subs in self._subs.values():
            for sub in subs:
                sub.active = False
        self._subs.clear()


# KEYS: seq counter, channel, history list. ARGV: body, history length, ttl seconds.
_PUBLISH_SEQUENCED = """
local seq = redis.call('INCR', KEYS[1])
local data = '{"seq":' .. seq .. ',' .. string.sub(ARGV[1], 2)
redis.call('PUBLISH', KEYS[2], data)
redis.call('RPUSH', KEYS[3], data)
redis.call('LTRIM', KEYS[3], -tonumber(ARGV[2]), -1)
redis.call('EXPIRE', KEYS[1], ARGV[3])
redis.call('EXPIRE', KEYS[3], ARGV[3])
return seq
"""

# Deadlines use the Redis server's clock, so node clocks need not agree.
_REPORT = """
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
redis.call('HSET', KEYS[1], ARGV[1], ARGV[2] .. ':' .. (now + tonumber(ARGV[3])))
redis.call('PEXPIRE', KEYS[1], tonumber(ARGV[3]) * 10)
return 1
"""

_TOTAL = """
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local all = redis.call('HGETALL', KEYS[1])
local total = 0
for i = 1, #all, 2 do
  local v = all[i + 1]
  local sep = string.find(v, ':', 1, true)
  if tonumber(string.sub(v, sep + 1)) < now then
    redis.call('HDEL', KEYS[1], all[i])
  else
    total = total + tonumber(string.sub(v, 1, sep - 1))
  end
end
return total
"""

_LEASE = """
local holder = redis.call('GET', KEYS[1])
if holder == false or holder == ARGV[1] then
  redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
  return 1
end
return 0
"""

# A fixed-window counter: INCRBY, and PEXPIRE when the key is new, in one step. Returns the
# value and the milliseconds left (a negative amount on a gone key creates nothing).
_HIT = """
if tonumber(ARGV[1]) < 0 and redis.call('EXISTS', KEYS[1]) == 0 then
  return {0, 0}
end
local n = redis.call('INCRBY', KEYS[1], ARGV[1])
local ttl = redis.call('PTTL', KEYS[1])
if ttl < 0 then
  redis.call('PEXPIRE', KEYS[1], ARGV[2])
  ttl = tonumber(ARGV[2])
end
return {n, ttl}
"""


REDIS_POOL_SIZE = 64  # connections per node (process) to Redis
REDIS_POOL_WAIT_S = 10.0  # how long a command waits for one before failing


class RedisBroker(Broker):
    """Redis pub/sub: one subscriber connection per node, one reader task, local dispatch.

    Every key and channel is prefixed (``?prefix=`` in the URL; default ``liveshop:``):
    pub/sub channels are global to a Redis server whatever the database number.
    """

    def __init__(self, url: str, *, prefix: str = "liveshop:", node_id: str | None = None) -> None:
        import redis.asyncio as redis

        self.node_id = node_id or _new_node_id()
        self.prefix = prefix
        # A pool that waits for a free connection instead of failing: when 500 winners pay at
        # once, each request's rate-limit step and the node's publishes share these (redis-py
        # 8's plain pool raises "Too many connections" at its cap of 100).
        pool = redis.BlockingConnectionPool.from_url(
            url, max_connections=REDIS_POOL_SIZE, timeout=REDIS_POOL_WAIT_S
        )
        self._redis: Any = redis.Redis.from_pool(pool)  # closed with it
        self._pubsub: Any = self._redis.pubsub()
        self._subs: dict[str, list[Subscription]] = {}
        self._wake = asyncio.Event()
        self._reader: asyncio.Task[None] | None = None
        self._closed = False
        self._publish_sequenced = self._redis.register_script(_PUBLISH_SEQUENCED)
        self._report = self._redis.register_script(_REPORT)
        self._total = self._redis.register_script(_TOTAL)
        self._lease = self._redis.register_script(_LEASE)
        self._hit = self._redis.register_script(_HIT)

    def _k(self, name: str) -> str:
        return self.prefix + name

    async def ping(self) -> bool:
        return bool(await self._redis.ping())

    async def publish(self, channel: str, data: bytes) -> None:
        await self._redis.publish(self._k(channel), data)

    async def publish_sequenced(
        self, channel: str, body: bytes, *, history: int = 1000
    ) -> tuple[int, bytes]:
        keys = [self._k(channel + ":seq"), self._k(channel), self._k(channel + ":history")]
        seq = int(await self._publish_sequenced(keys=keys, args=[body, history, HISTORY_TTL_S]))
        return seq, with_seq(seq, body)

    async def history(self, channel: str) -> list[bytes]:
        return list(await self._redis.lrange(self._k(channel + ":history"), 0, -1))

    async def last_seq(self, channel: str) -> int:
        return await self.get_int(channel + ":seq")

    async def subscribe(self, channel: str, callback: Callback) -> Subscription:
        sub = Subscription(channel, callback)
        full = self._k(channel)
        subs = self._subs.setdefault(full, [])
        subs.append(sub)
        if len(subs) == 1:
            await self._pubsub.subscribe(full)
        self._wake.set()
        if self._reader is None or self._reader.done():
            self._reader = asyncio.create_task(self._read_loop(), name="redis-broker-reader")
        return sub

    async def unsubscribe(self, subscription: Subscription) -> None:
        subscription.active = False
        full = self._k(subscription.channel)
        subs = self._subs.get(full, [])
        if subscription in subs:
            subs.remove(subscription)
        if not subs and full in self._subs:
            del self._subs[full]
            with contextlib.suppress(Exception):
                await self._pubsub.unsubscribe(full)

    async def _read_loop(self) -> None:
        backoff = 0.05
        while not self._closed:
            if not self._pubsub.subscribed:
                self._wake.clear()
                await self._wake.wait()
                continue
            try:
                message = await self._pubsub.get_message(
                    ignore_subscribe_messages=True, timeout=1.0
                )
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # connection lost: redis-py resubscribes on reconnect
                log.warning("redis subscriber error", error=repr(exc), retry_in_s=backoff)
                await asyncio.sleep(backoff)
                backoff = min(backoff * 2, 2.0)
                continue
            backoff = 0.05
            if message is None or message.get("type") != "message":
                continue
            channel = message["channel"]
            if isinstance(channel, bytes):
                channel = channel.decode()
            for sub in list(self._subs.get(channel, ())):
                if sub.active:
                    try:
                        sub.callback(message["data"])
                    except Exception:
                        log.exception("broker subscriber failed", channel=channel)

    async def incr(self, key: str, amount: int = 1) -> int:
        async with self._redis.pipeline(transaction=True) as pipe:
            pipe.incrby(self._k(key), amount)
            pipe.expire(self._k(key), HISTORY_TTL_S)
            value, _ = await pipe.execute()
        return int(value)

    async def get_int(self, key: str) -> int:
        value = await self._redis.get(self._k(key))
        return int(value) if value is not None else 0

    async def report(self, key: str, value: int, *, ttl_s: float) -> None:
        await self._report(keys=[self._k(key)], args=[self.node_id, value, int(ttl_s * 1000)])

    async def total(self, key: str) -> int:
        return int(await self._total(keys=[self._k(key)]))

    async def acquire_lease(self, key: str, *, ttl_s: float) -> bool:
        got = await self._lease(keys=[self._k(key)], args=[self.node_id, int(ttl_s * 1000)])
        return bool(got)

    async def hit(self, key: str, *, window_s: float, amount: int = 1) -> tuple[int, float]:
        window_ms = max(1, int(window_s * 1000))
        count, ttl_ms = await self._hit(keys=[self._k(key)], args=[amount, window_ms])
        return int(count), int(ttl_ms) / 1000

    async def close(self) -> None:
        self._closed = True
        self._wake.set()
        if self._reader is not None:
            self._reader.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await self._reader
        for subs in self._subs.values():
            for sub in subs:
                sub.active = False
        self._subs.clear()
        with contextlib.suppress(Exception):
            await self._pubsub.aclose()
        with contextlib.suppress(Exception):
            await self._redis.aclose()


def make_broker(url: str, *, node_id: str | None = None) -> Broker:
    """``memory://`` or ``redis://host:port/db[?prefix=name:]`` (also ``rediss://``)."""
    scheme = url.split(":", 1)[0].lower()
    if scheme == "memory":
        return InMemoryBroker(node_id=node_id)
    if scheme in ("redis", "rediss", "unix"):
        parts = urlsplit(url)
        query = parse_qsl(parts.query, keep_blank_values=True)
        prefix = next((v for k, v in query if k == "prefix"), "liveshop:")
        rest = urlencode([(k, v) for k, v in query if k != "prefix"])
        return RedisBroker(urlunsplit(parts._replace(query=rest)), prefix=prefix, node_id=node_id)
    raise ValueError(f"unknown broker URL scheme {scheme!r}: use memory:// or redis://")
