"""Both broker implementations honour the same contract (memory and real Redis)."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from liveshop.core.broker import Broker, InMemoryBroker, RedisBroker, make_broker
from liveshop.core.events import EventType, decode, encode_body, seq_of, with_seq
from tests.conftest import redis_broker_url
from tests.live.helpers import eventually


class Inbox:
    def __init__(self) -> None:
        self.items: list[bytes] = []
        self._changed = asyncio.Event()

    def __call__(self, data: bytes) -> None:
        self.items.append(data)
        self._changed.set()

    async def wait_for(self, n: int) -> list[bytes]:
        async with asyncio.timeout(5):
            while len(self.items) < n:
                self._changed.clear()
                await self._changed.wait()
        return self.items


async def test_sequenced_publish_numbers_in_order_and_same_bytes_everywhere(
    broker: Broker,
) -> None:
    a, b = Inbox(), Inbox()
    await broker.subscribe("room:1", a)
    await broker.subscribe("room:1", b)
    other = Inbox()
    await broker.subscribe("room:2", other)
    sent = [
        await broker.publish_sequenced(
            "room:1", encode_body(EventType.COMMENT, {"text": f"hi {n}"}), history=3
        )
        for n in range(5)
    ]
    assert [seq for seq, _ in sent] == [1, 2, 3, 4, 5]
    assert await a.wait_for(5) == [data for _, data in sent]
    assert await b.wait_for(5) == [data for _, data in sent]
    assert [seq_of(d) for d in a.items] == [1, 2, 3, 4, 5]
    assert decode(a.items[4]) | {"ts": 0} == {"seq": 5, "type": "comment", "ts": 0, "text": "hi 4"}
    assert other.items == []
    # History is a bounded ring of the last events, oldest first.
    assert [seq_of(d) for d in await broker.history("room:1")] == [3, 4, 5]
    assert await broker.last_seq("room:1") == 5
    assert await broker.last_seq("room:2") == 0


async def test_unsubscribe_stops_delivery(broker: Broker) -> None:
    kept, gone = Inbox(), Inbox()
    await broker.subscribe("room:9", kept)
    sub = await broker.subscribe("room:9", gone)
    await broker.unsubscribe(sub)
    await broker.publish("room:9", b"x")
    assert await kept.wait_for(1) == [b"x"]
    assert gone.items == []


async def test_counters_and_reports(broker: Broker) -> None:
    assert await broker.incr("likes", 3) == 3
    assert await broker.incr("likes", -1) == 2
    assert await broker.get_int("likes") == 2
    assert await broker.get_int("nothing") == 0
    await broker.report("viewers", 7, ttl_s=30)
    await broker.report("viewers", 5, ttl_s=30)  # a node's new report replaces its old one
    assert await broker.total("viewers") == 5
    assert await broker.acquire_lease("leader", ttl_s=30)
    assert await broker.acquire_lease("leader", ttl_s=30)  # renewing is fine


async def test_a_dead_nodes_report_ages_out(broker: Broker) -> None:
    await broker.report("viewers", 4, ttl_s=0.05)

    async def gone() -> bool:
        return await broker.total("viewers") == 0

    await eventually(gone)


async def test_nodes_sum_their_reports_and_share_one_lease(redis_url: str) -> None:
    url = redis_broker_url(redis_url)
    one, two = make_broker(url), make_broker(url)
    try:
        await one.report("room:1:viewers", 2, ttl_s=30)
        await two.report("room:1:viewers", 1, ttl_s=30)
        assert await one.total("room:1:viewers") == 3
        assert await one.acquire_lease("room:1:leader", ttl_s=30)
        assert not await two.acquire_lease("room:1:leader", ttl_s=30)
        # Sequence numbers are shared: whichever node publishes, the next number follows.
        inbox = Inbox()
        await two.subscribe("room:1", inbox)
        await one.publish_sequenced("room:1", b'{"type":"like"}')
        await two.publish_sequenced("room:1", b'{"type":"like"}')
        assert [seq_of(d) for d in await inbox.wait_for(2)] == [1, 2]
    finally:
        await one.close()
        await two.close()


async def test_lease_expires_when_not_renewed(redis_url: str) -> None:
    url = redis_broker_url(redis_url)
    one, two = make_broker(url), make_broker(url)
    try:
        assert await one.acquire_lease("lease", ttl_s=0.05)
        assert not await two.acquire_lease("lease", ttl_s=30)

        async def taken_over() -> bool:
            return await two.acquire_lease("lease", ttl_s=30)

        await eventually(taken_over)
        assert not await one.acquire_lease("lease", ttl_s=30)
    finally:
        await one.close()
        await two.close()


@pytest.mark.parametrize(
    ("url", "kind", "prefix"),
    [
        ("memory://", InMemoryBroker, None),
        ("redis://127.0.0.1:6379/15", RedisBroker, "liveshop:"),
        ("redis://127.0.0.1:6379/15?prefix=shop7:", RedisBroker, "shop7:"),
    ],
)
async def test_make_broker_reads_the_url(url: str, kind: type[Any], prefix: str | None) -> None:
    b = make_broker(url)
    try:
        assert isinstance(b, kind)
        if prefix is not None:
            assert isinstance(b, RedisBroker) and b.prefix == prefix
    finally:
        await b.close()


def test_unknown_broker_scheme_is_refused() -> None:
    with pytest.raises(ValueError, match="memory:// or redis://"):
        make_broker("kafka://somewhere")


def test_seq_is_spliced_in_front_without_reencoding() -> None:
    body = encode_body(EventType.STOCK, {"sku_id": 3, "available": 0}, ts=1.5)
    assert with_seq(42, body) == b'{"seq":42,"type":"stock","ts":1.5,"sku_id":3,"available":0}'
    assert seq_of(with_seq(42, body)) == 42
    with pytest.raises(ValueError):
        with_seq(1, b"[]")
