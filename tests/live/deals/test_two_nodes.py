"""A drop served by two nodes over Redis: taps on both never take more than the deal has,
and a node that did not sell the last unit answers "sold out" from memory once it hears."""

from __future__ import annotations

import asyncio

import httpx

from liveshop.accounts.models import Role
from liveshop.core.db import Database
from tests.conftest import redis_broker_url
from tests.live.conftest import Serve, live_app
from tests.live.deals.drops import open_drop, stock_identity, tap
from tests.support import MakeActor, assert_problem


async def test_two_nodes_share_a_drop_without_overselling(
    db: Database, serve: Serve, make_actor: MakeActor, redis_url: str
) -> None:
    broker = redis_broker_url(redis_url)
    node_a, node_b = live_app(db, broker_url=broker), live_app(db, broker_url=broker)
    base_a, base_b = await serve(node_a), await serve(node_b)
    async with (
        httpx.AsyncClient(base_url=base_a.replace("ws://", "http://"), timeout=30) as a,
        httpx.AsyncClient(base_url=base_b.replace("ws://", "http://"), timeout=30) as b,
    ):
        drop = await open_drop(a, make_actor, units=9, per_buyer_limit=2)
        buyers = [await make_actor(Role.BUYER) for _ in range(20)]
        # Every buyer taps twice on each node at once.
        answers = await asyncio.gather(
            *(tap(node, drop.deal_id, buyer) for buyer in buyers for node in (a, b, a, b))
        )
        held = [r for r in answers if r.status_code == 201]
        assert sum(r.json()["quantity"] for r in held) == 9
        for r in answers:
            if r.status_code != 201:
                body = assert_problem(r, 409)
                assert body["type"].rsplit("/", 1)[-1] in ("deal-sold-out", "deal-limit-reached")
        assert (await stock_identity(db, drop.sku_id))[:3] == (41, 9, 0)

        # Both nodes now know it is sold out and answer from memory, without a batch.
        desks = [node_a.state.claim_desk, node_b.state.claim_desk]
        for desk in desks:
            await desk.info(drop.deal_id)
        deadline = asyncio.get_running_loop().time() + 5
        while any(d._info[drop.deal_id].available for d in desks):
            assert asyncio.get_running_loop().time() < deadline, "a node never heard"
            await asyncio.sleep(0.02)
        before = [d.batches for d in desks]
        late = await make_actor(Role.BUYER)
        for node in (a, b):
            assert_problem(await tap(node, drop.deal_id, late), 409, "deal-sold-out")
        assert [d.batches for d in desks] == before


async def test_two_nodes_share_a_shown_product_without_overselling(
    db: Database, serve: Serve, make_actor: MakeActor, redis_url: str
) -> None:
    broker = redis_broker_url(redis_url)
    node_a, node_b = live_app(db, broker_url=broker), live_app(db, broker_url=broker)
    base_a, base_b = await serve(node_a), await serve(node_b)
    async with (
        httpx.AsyncClient(base_url=base_a.replace("ws://", "http://"), timeout=30) as a,
        httpx.AsyncClient(base_url=base_b.replace("ws://", "http://"), timeout=30) as b,
    ):
        drop = await open_drop(a, make_actor, units=1, stock=7)  # 6 units off the deal
        session_id = drop.live["id"]
        buyers = [await make_actor(Role.BUYER) for _ in range(10)]
        answers = await asyncio.gather(
            *(
                node.post(
                    f"/api/v1/live/sessions/{session_id}/claim",
                    json={"sku_id": drop.sku_id},
                    headers=buyer.headers,
                )
                for buyer in buyers
                for node in (a, b)
            )
        )
        assert sum(1 for r in answers if r.status_code == 201) == 6
        for r in answers:
            if r.status_code != 201:
                assert_problem(r, 409, "sold-out")
        assert (await stock_identity(db, drop.sku_id))[:3] == (0, 7, 0)

        # Each node heard the other's batches (its memory answers sold out for a second
        # after each, ``ClaimDesk.tap_shelf``).
        desks = [node_a.state.claim_desk, node_b.state.claim_desk]
        key = (session_id, drop.sku_id)
        deadline = asyncio.get_running_loop().time() + 5
        while any(key not in d._shelf or d._shelf[key].best for d in desks):
            assert asyncio.get_running_loop().time() < deadline, "a node never heard"
            await asyncio.sleep(0.02)
        late = await make_actor(Role.BUYER)
        for node in (a, b):
            refused = await node.post(
                f"/api/v1/live/sessions/{session_id}/claim",
                json={"sku_id": drop.sku_id},
                headers=late.headers,
            )
            assert_problem(refused, 409, "sold-out")
