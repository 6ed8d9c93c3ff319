"""A lot served by two nodes over Redis: bids on both at once queue on the lot's row, both
nodes' clocks race for the hammer and one wins it, one order is made, and the viewers on
each node see the same winner."""

from __future__ import annotations

import asyncio
import random

from sqlalchemy import func, select

from liveshop.core.db import Database
from liveshop.live.auctions.models import AuctionBid, AuctionOffer, AuctionStatus
from liveshop.orders.models import Order
from tests.conftest import redis_broker_url
from tests.live.auctions.lots import (
    bid,
    bidder,
    burst_across_the_end,
    open_lot,
    sold_or_unsold,
    warm,
)
from tests.live.conftest import Serve, live_app
from tests.live.deals.drops import http_of, stock_identity
from tests.live.helpers import RoomClient
from tests.support import MakeActor


async def test_two_nodes_sell_a_lot_once_to_the_highest_bidder(
    db: Database, serve: Serve, make_actor: MakeActor, redis_url: str
) -> None:
    broker = redis_broker_url(redis_url)
    node_a, node_b = live_app(db, broker_url=broker), live_app(db, broker_url=broker)
    base_a, base_b = await serve(node_a), await serve(node_b)
    async with http_of(base_a) as a, http_of(base_b) as b:
        lot = await open_lot(a, make_actor, stock=3, mode="anti_snipe", snipe_seconds=2)
        viewers = [await RoomClient.open(base, lot.live["id"]) for base in (base_a, base_b)]
        for v in viewers:
            await v.snapshot()
        people = [await bidder(a, make_actor) for _ in range(8)]
        rng = random.Random(7)
        maxes = rng.sample(range(1000, 50_000), 240)
        await asyncio.gather(warm(a, 120), warm(b, 120))
        answers = await burst_across_the_end(
            db,
            lot.id,
            [bid((a, b)[i % 2], lot.id, people[i % len(people)], m) for i, m in enumerate(maxes)],
        )
        assert any(r.status_code == 200 for r in answers)
        row = await sold_or_unsold(db, node_a, lot.id)
        assert row.status == AuctionStatus.SOLD
        async with db.session() as s:
            top = await s.scalar(
                select(AuctionBid)
                .where(AuctionBid.auction_id == lot.id)
                .order_by(AuctionBid.max_minor.desc(), AuctionBid.id)
                .limit(1)
            )
            offers = await s.scalar(
                select(func.count())
                .select_from(AuctionOffer)
                .where(AuctionOffer.auction_id == lot.id)
            )
            orders = await s.scalar(
                select(func.count())
                .select_from(Order)
                .where(Order.buyer_id.in_([p.id for p in people]))
            )
        assert top is not None and row.winner_id == top.bidder_id
        assert row.hammer_minor is not None and row.hammer_minor <= top.max_minor
        assert offers == 1 and orders == 1
        assert (await stock_identity(db, lot.sku_id))[:3] == (2, 0, 1)
        for v in viewers:
            sold = await v.until("auction_ended", status="sold")
            assert sold["winner_id"] == row.winner_id and sold["hammer_minor"] == row.hammer_minor
            versions = [e["version"] for e in v.events if e["type"] == "auction_bid"]
            assert versions and max(versions) < sold["version"]
            await v.close()
