"""Rate limits where abuse is cheap: log-in and sign-up attempts, checkouts (the room's
one-tap buy too), payments, follows and reminders, HTTP bids, the room's engagement
(giveaway entries, poll votes, questions, upvotes), chat reports, and the quotes and
releases of held claims.

A limit is ``count`` hits per fixed window of ``window_s`` seconds per *subject* (a client
address, an account's e-mail, a buyer's id). The counters are the broker's (``Broker.hit``:
INCRBY and PEXPIRE in one Lua step on Redis, so every node counts together; a dict on the
embedded in-process broker). A hit over the limit is refused with 429 problem+json
``rate-limited`` and ``Retry-After`` (seconds until the window resets).

``take`` counts an attempt *before* the work it guards, so concurrent attempts cannot slip
past the limit together; ``give_back`` returns the hit when the attempt turns out not to
count (a successful log-in does not use up the failed-log-in allowance).

Behind a reverse proxy every request comes from the proxy: ``client_address`` believes the
configured header (``LIVESHOP_TRUSTED_PROXY_HEADER``) only when the peer is one of
``LIVESHOP_TRUSTED_PROXIES``, and otherwise uses the peer's own address — a client cannot
choose its address by sending the header itself.

No domain imports: routers use ``per_client(Bucket.X)`` as a dependency, or
``RateLimiterDep`` and ``take`` with their own subject (``accounts`` for log-ins).
"""

from __future__ import annotations

import ipaddress
import math
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from enum import StrEnum
from typing import Annotated, Any

from fastapi import Depends, Request

from liveshop.core.broker import Broker
from liveshop.core.errors import PROBLEM_MEDIA_TYPE, Problem
from liveshop.core.i18n import gettext
from liveshop.core.settings import Settings

IpNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network


class Bucket(StrEnum):
    LOGIN_ACCOUNT = "login_account"  # failed log-ins per account (e-mail)
    LOGIN_IP = "login_ip"  # failed log-ins per client address
    SIGNUP_IP = "signup_ip"  # sign-ups per client address
    CHECKOUT = "checkout"  # checkouts per buyer
    PAY = "pay"  # payments per buyer (orders and held claims)
    PASSWORD_CHANGE = "password_change"  # failed password changes per user
    FOLLOW = "follow"  # follows, unfollows and show reminders (set or removed) per user
    BID = "bid"  # HTTP bids on auction lots per bidder (the room socket's have its own budget)
    ENGAGE = "engage"  # giveaway entries, poll votes, questions and question upvotes per user
    REPORT = "report"  # chat reports (a line, a viewer, the show) per reporter
    HELD_CLAIM = "held_claim"  # quotes and releases of held drop and shelf claims per buyer


@dataclass(frozen=True, slots=True)
class Limit:
    count: int
    window_s: int

    @classmethod
    def parse(cls, text: str) -> Limit:
        """``"5/60"``: 5 per 60 seconds."""
        count, _, window = text.partition("/")
        try:
            limit = cls(int(count), int(window))
        except ValueError:
            raise ValueError(f"a rate limit is 'count/seconds', not {text!r}") from None
        if limit.count < 1 or limit.window_s < 1:
            raise ValueError(f"a rate limit needs a positive count and window: {text!r}")
        return limit


class TooManyRequests(Problem):
    status = 429
    code = "rate-limited"


RATE_LIMITED: dict[int | str, dict[str, Any]] = {
    429: {
        "description": "Too many attempts: try again after Retry-After seconds",
        "headers": {
            "Retry-After": {
                "description": "seconds until the window resets",
                "schema": {"type": "integer"},
            }
        },
        "content": {PROBLEM_MEDIA_TYPE: {"schema": {"$ref": "#/components/schemas/Problem"}}},
    }
}
"""A rate-limited route's ``responses=`` (documents the 429 in the OpenAPI)."""


class RateLimiter:
    def __init__(self, broker: Broker, limits: dict[Bucket, Limit], *, enabled: bool = True):
        self.broker = broker
        self.limits = limits
        self.enabled = enabled

    @classmethod
    def from_settings(cls, broker: Broker, settings: Settings) -> RateLimiter:
        limits = {b: Limit.parse(getattr(settings, f"rate_limit_{b.value}")) for b in Bucket}
        return cls(broker, limits, enabled=settings.rate_limits_enabled)

    @staticmethod
    def _key(bucket: Bucket, subject: str | int) -> str:
        return f"ratelimit:{bucket.value}:{subject}"

    async def take(self, bucket: Bucket, subject: str | int) -> None:
        """Count one attempt; 429 ``rate-limited`` (with ``Retry-After``) past the limit."""
        if not self.enabled:
            return
        limit = self.limits[bucket]
        count, left_s = await self.broker.hit(self._key(bucket, subject), window_s=limit.window_s)
        if count > limit.count:
            retry = max(1, math.ceil(left_s))
            raise TooManyRequests(
                gettext("Too many attempts; try again in %(retry)s s.", retry=retry),
                headers={"Retry-After": str(retry)},
                retry_after_s=retry,
            )

    async def give_back(self, bucket: Bucket, subject: str | int) -> None:
        """Undo one ``take`` that turned out not to count."""
        if self.enabled:
            limit = self.limits[bucket]
            await self.broker.hit(self._key(bucket, subject), window_s=limit.window_s, amount=-1)


def _networks(text: str) -> tuple[IpNetwork, ...]:
    parts = [p.strip() for p in text.split(",") if p.strip()]
    return tuple(ipaddress.ip_network(p, strict=False) for p in parts)


_trusted_cache: dict[str, tuple[IpNetwork, ...]] = {}


def _trusted(settings: Settings) -> tuple[IpNetwork, ...]:
    found = _trusted_cache.get(settings.trusted_proxies)
    if found is None:
        found = _trusted_cache[settings.trusted_proxies] = _networks(settings.trusted_proxies)
    return found


def _is_in(address: str, networks: tuple[IpNetwork, ...]) -> bool:
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return False
    return any(ip in net for net in networks)


def client_address(request: Request, settings: Settings) -> str:
    """The client's address: the peer's, or — when the peer is a trusted proxy — the
    right-most address in the configured header that is not itself a trusted proxy."""
    peer = request.client.host if request.client else "unknown"
    header = settings.trusted_proxy_header
    if not header:
        return peer
    trusted = _trusted(settings)
    if not _is_in(peer, trusted):
        return peer
    value = request.headers.get(header, "")
    hops = [h.strip() for h in value.split(",") if h.strip()]
    for hop in reversed(hops):
        if not _is_in(hop, trusted):
            return hop if _is_address(hop) else peer
    return hops[0] if hops and _is_address(hops[0]) else peer


def _is_address(text: str) -> bool:
    try:
        ipaddress.ip_address(text)
    except ValueError:
        return False
    return True


def rate_limiter(request: Request) -> RateLimiter:
    limiter: RateLimiter = request.app.state.rate_limiter
    return limiter


RateLimiterDep = Annotated[RateLimiter, Depends(rate_limiter)]


def request_client(request: Request) -> str:
    return client_address(request, request.app.state.settings)


ClientAddress = Annotated[str, Depends(request_client)]


def per_client(bucket: Bucket) -> Callable[[Request], Awaitable[None]]:
    """Dependency: one hit of ``bucket`` for the request's client address."""

    async def _limit(request: Request) -> None:
        await rate_limiter(request).take(bucket, request_client(request))

    return _limit
