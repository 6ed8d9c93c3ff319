"""Every node is ready for a drop before its first tap, and a drop tapped on two nodes at
once gives winners on both (two nodes over Redis, on SQLite and PostgreSQL)."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

import pytest

from liveshop.accounts.models import Role
from liveshop.accounts.service import Principal
from liveshop.core.db import Database
from liveshop.live.deals import desk as desk_module
from liveshop.live.deals.desk import ClaimDesk
from tests.conftest import redis_broker_url
from tests.live.conftest import Serve, live_app
from tests.live.deals.drops import http_of, open_drop, stock_identity, tap
from tests.support import MakeActor


async def until(what: str, condition: Callable[[], bool], timeout_s: float = 10.0) -> None:
    deadline = asyncio.get_running_loop().time() + timeout_s
    while not condition():
        assert asyncio.get_running_loop().time() < deadline, f"never: {what}"
        await asyncio.sleep(0.02)


async def two_nodes(db: Database, serve: Serve, redis_url: str) -> tuple[Any, Any, str, str]:
    """Two apps (with their lifespans) sharing the database and a Redis broker, each desk
    listening to the other's announcements."""
    broker = redis_broker_url(redis_url)
    node_a, node_b = live_app(db, broker_url=broker), live_app(db, broker_url=broker)
    base_a, base_b = await serve(node_a), await serve(node_b)
    for node in (node_a, node_b):
        desk: ClaimDesk = node.state.claim_desk
        await until("the desk subscribed at start-up", lambda d=desk: d._subscription is not None)
    return node_a, node_b, base_a, base_b


async def test_a_node_that_never_saw_a_tap_knows_a_started_deal(
    db: Database, serve: Serve, make_actor: MakeActor, redis_url: str
) -> None:
    node_a, node_b, base_a, base_b = await two_nodes(db, serve, redis_url)
    desk_a: ClaimDesk = node_a.state.claim_desk
    desk_b: ClaimDesk = node_b.state.claim_desk
    async with http_of(base_a) as a, http_of(base_b) as b:
        drop = await open_drop(a, make_actor, units=7)  # started on node A
        deal_id = drop.deal_id
        # Node B served no request about it, yet loads it when the start is announced; so
        # does node A (the start's own announcement comes back to it).
        await until("node B knows the deal", lambda: deal_id in desk_b._info)
        await until("node A knows the deal", lambda: deal_id in desk_a._info)
        info = desk_b._info[deal_id]
        assert (info.available, info.active, desk_b.batches) == (7, True, 0)

        # Its first tap on node B is decided from memory and a batch: no read of the deal.
        async def no_load(deal_id: int) -> None:
            raise AssertionError("the deal was loaded on a tap")

        desk_b._load = no_load  # type: ignore[method-assign]
        buyer = await make_actor(Role.BUYER)
        held = await tap(b, deal_id, buyer)
        assert held.status_code == 201, held.text
        assert held.json()["quantity"] == 1

        # Node A hears node B's batch: 6 left, without a tap of its own.
        await until("node A heard the batch", lambda: desk_a._info[deal_id].available == 6)
        assert desk_a.batches == 0


async def test_winners_of_a_contested_drop_come_from_both_nodes(
    db: Database,
    serve: Serve,
    make_actor: MakeActor,
    redis_url: str,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # Small figures for a test: batches ask for 4 units at most, the drop has 10; without
    # the bound, the first node's first batch (all its 15 taps) would take all of them.
    monkeypatch.setattr(desk_module, "CONTESTED_UNITS", 4)
    node_a, node_b, base_a, _base_b = await two_nodes(db, serve, redis_url)
    desks: list[ClaimDesk] = [node_a.state.claim_desk, node_b.state.claim_desk]
    async with http_of(base_a) as a:
        drop = await open_drop(a, make_actor, units=10, stock=50)
    deal_id = drop.deal_id
    await until("both nodes know the deal", lambda: all(deal_id in d._info for d in desks))
    buyers = [await make_actor(Role.BUYER) for _ in range(30)]
    taps = {i: [Principal(u.id, u.roles, token_id=0) for u in buyers[i::2]] for i in range(2)}
    # Both nodes' taps arrive at once (the same turn of the loop), in a known order.
    answers = await asyncio.gather(*(desks[i].tap(p, deal_id) for i in range(2) for p in taps[i]))
    per_node = [answers[:15], answers[15:]]
    held = [[n for n, ans in enumerate(node) if ans.status == "held"] for node in per_node]
    assert sum(len(h) for h in held) == 10  # every unit, never more
    assert held[0] and held[1], f"winners on one node only: {held}"
    for node, winners in zip(per_node, held, strict=True):
        # Arrival order within a node: its winners are its first taps, the rest sold out.
        assert winners == list(range(len(winners)))
        assert {a.code for a in node[len(winners) :]} <= {"deal-sold-out"}
    assert [d.held for d in desks] == [len(h) for h in held]
    assert (await stock_identity(db, drop.sku_id))[:3] == (40, 10, 0)
