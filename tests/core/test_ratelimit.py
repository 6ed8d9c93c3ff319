"""The rate limiter's counters (memory and Redis brokers) and who counts as the client."""

from __future__ import annotations

from typing import Any

import pytest
from starlette.requests import Request

from liveshop.core.broker import Broker, make_broker
from liveshop.core.ratelimit import Bucket, Limit, RateLimiter, TooManyRequests, client_address
from liveshop.core.settings import Settings
from tests.conftest import redis_broker_url


async def test_a_window_counts_to_its_limit_then_refuses_with_retry_after(broker: Broker) -> None:
    limiter = RateLimiter(broker, {Bucket.CHECKOUT: Limit(3, 60)})
    for _ in range(3):
        await limiter.take(Bucket.CHECKOUT, 7)
    with pytest.raises(TooManyRequests) as refused:
        await limiter.take(Bucket.CHECKOUT, 7)
    assert refused.value.status == 429
    assert refused.value.headers is not None
    assert 1 <= int(refused.value.headers["Retry-After"]) <= 60
    await limiter.take(Bucket.CHECKOUT, 8)  # another subject has its own window


async def test_given_back_hits_do_not_count(broker: Broker) -> None:
    limiter = RateLimiter(broker, {Bucket.LOGIN_ACCOUNT: Limit(2, 60)})
    for _ in range(5):
        await limiter.take(Bucket.LOGIN_ACCOUNT, "a@example.com")
        await limiter.give_back(Bucket.LOGIN_ACCOUNT, "a@example.com")
    await limiter.take(Bucket.LOGIN_ACCOUNT, "a@example.com")
    await limiter.take(Bucket.LOGIN_ACCOUNT, "a@example.com")
    with pytest.raises(TooManyRequests):
        await limiter.take(Bucket.LOGIN_ACCOUNT, "a@example.com")


async def test_a_give_back_on_a_gone_window_creates_nothing(broker: Broker) -> None:
    assert await broker.hit("rl-gone", window_s=60, amount=-1) == (0, 0.0)
    count, left = await broker.hit("rl-gone", window_s=60)
    assert count == 1 and 0 < left <= 60


def _request(peer: str, headers: dict[str, str] | None = None) -> Request:
    scope: dict[str, Any] = {
        "type": "http",
        "method": "GET",
        "path": "/",
        "headers": [(k.lower().encode(), v.encode()) for k, v in (headers or {}).items()],
        "client": (peer, 40000),
    }
    return Request(scope)


def test_the_forwarded_header_is_believed_only_from_a_trusted_proxy() -> None:
    plain = Settings()
    proxied = Settings(trusted_proxy_header="X-Forwarded-For", trusted_proxies="10.0.0.0/8")
    spoof = {"X-Forwarded-For": "203.0.113.9"}
    # No header configured: the peer, whatever the client sends.
    assert client_address(_request("198.51.100.1", spoof), plain) == "198.51.100.1"
    # A peer that is not a trusted proxy cannot choose its address.
    assert client_address(_request("198.51.100.1", spoof), proxied) == "198.51.100.1"
    # From the proxy: the right-most address that is not a trusted proxy.
    chain = {"X-Forwarded-For": "1.2.3.4, 203.0.113.9, 10.0.0.7"}
    assert client_address(_request("10.0.0.2", chain), proxied) == "203.0.113.9"
    assert client_address(_request("10.0.0.2", {}), proxied) == "10.0.0.2"
    junk = {"X-Forwarded-For": "not-an-ip"}
    assert client_address(_request("10.0.0.2", junk), proxied) == "10.0.0.2"


def test_limits_are_count_per_seconds() -> None:
    assert Limit.parse("5/60") == Limit(5, 60)
    for bad in ("5", "0/60", "5/0", "x/y"):
        with pytest.raises(ValueError):
            Limit.parse(bad)


async def test_nodes_sharing_redis_count_together(redis_url: str) -> None:
    url = redis_broker_url(redis_url)
    a, b = make_broker(url), make_broker(url)  # two nodes, one Redis
    try:
        limits = {Bucket.LOGIN_ACCOUNT: Limit(5, 60)}
        node_a, node_b = RateLimiter(a, limits), RateLimiter(b, limits)
        for limiter in (node_a, node_b, node_a, node_b, node_a):
            await limiter.take(Bucket.LOGIN_ACCOUNT, "ann@example.com")
        with pytest.raises(TooManyRequests):
            await node_b.take(Bucket.LOGIN_ACCOUNT, "ann@example.com")
    finally:
        await a.close()
        await b.close()
