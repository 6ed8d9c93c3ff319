"""Buyer-facing writes in the live room are rate-limited per buyer (core/ratelimit.py): the
room's one-tap buy counts against the checkout limit, follows and reminders against their own;
past it the buyer gets 429 problem+json with Retry-After and nothing changes."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest
from sqlalchemy import func, select

from liveshop.accounts.models import Role
from liveshop.core.db import Database
from liveshop.orders.models import Order
from tests.live.helpers import live_room_with_stock
from tests.support import MakeActor, app_client, assert_problem


@pytest.fixture
async def limited(db: Database) -> AsyncIterator[httpx.AsyncClient]:
    """An app whose limits are small enough to reach in a test: 2 checkouts, 3 follows."""
    limits = {"rate_limit_checkout": "2/60", "rate_limit_follow": "3/60"}
    async with app_client(db, broker_url="memory://", **limits) as c:
        yield c


async def _orders(db: Database, buyer_id: int) -> int:
    async with db.session(deferred=True) as s:
        found = await s.scalar(select(func.count()).where(Order.buyer_id == buyer_id))
        return int(found or 0)


async def test_the_room_buy_past_the_checkout_limit_gets_429_and_orders_nothing(
    limited: httpx.AsyncClient, db: Database, make_actor: MakeActor
) -> None:
    _creator, live, sku_id, _product = await live_room_with_stock(
        limited, make_actor, stock=10, slug="limited-tee"
    )
    url = f"/api/v1/live/sessions/{live['id']}/buy"
    ann, bob = await make_actor(Role.BUYER), await make_actor(Role.BUYER)
    for tap in ("tap-1", "tap-2"):
        resp = await limited.post(
            url, json={"sku_id": sku_id}, headers={**ann.headers, "Idempotency-Key": tap}
        )
        assert resp.status_code == 201, resp.text
    third = await limited.post(
        url, json={"sku_id": sku_id}, headers={**ann.headers, "Idempotency-Key": "tap-3"}
    )
    body = assert_problem(third, 429, "rate-limited")
    retry = int(third.headers["Retry-After"])
    assert 1 <= retry <= 60 and body["retry_after_s"] == retry
    assert await _orders(db, ann.id) == 2  # the refused tap held and ordered nothing
    # The limit is the buyer's own: another buyer in the same room still buys.
    other = await limited.post(
        url, json={"sku_id": sku_id}, headers={**bob.headers, "Idempotency-Key": "tap-1"}
    )
    assert other.status_code == 201, other.text


async def test_follows_and_reminders_past_their_limit_get_429(
    limited: httpx.AsyncClient, make_actor: MakeActor
) -> None:
    creator, live, _sku, _product = await live_room_with_stock(
        limited, make_actor, stock=1, slug="follow-tee"
    )
    ann = await make_actor(Role.BUYER)
    follow = f"/api/v1/me/follows/creators/{creator.id}"
    assert (await limited.put(follow, headers=ann.headers)).status_code == 200
    assert (await limited.delete(follow, headers=ann.headers)).status_code == 200
    assert (await limited.put(follow, headers=ann.headers)).status_code == 200
    reminder = f"/api/v1/live/sessions/{live['id']}/reminder"
    refused = await limited.delete(reminder, headers=ann.headers)
    assert_problem(refused, 429, "rate-limited")
    assert "Retry-After" in refused.headers
    mine = await limited.get("/api/v1/me/follows", headers=ann.headers)
    assert [c["creator_id"] for c in mine.json()["creators"]] == [creator.id]
