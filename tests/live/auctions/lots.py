"""Helpers for auction tests: a live room with stock and a lot up, bidders with saved
cards, time moved on (the lot's end set in the database), the sale awaited."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import httpx
from fastapi import FastAPI
from sqlalchemy import update

from liveshop.accounts.models import Role
from liveshop.core.clock import utcnow
from liveshop.core.db import Database
from liveshop.live.auctions.models import Auction, AuctionStatus
from tests.live.helpers import eventually, live_room_with_stock
from tests.support import Actor, MakeActor

GOOD_CARD = "4242424242424242"
DECLINED_CARD = "4000000000000002"


@dataclass
class Lot:
    creator: Actor
    live: dict[str, Any]
    sku_id: int
    auction: dict[str, Any]

    @property
    def id(self) -> int:
        return int(self.auction["auction_id"])


async def open_lot(
    http: httpx.AsyncClient,
    make_actor: MakeActor,
    *,
    stock: int = 10,
    slug: str = "lot",
    **lot: Any,
) -> Lot:
    creator, live, sku_id, _product = await live_room_with_stock(
        http, make_actor, stock=stock, slug=slug
    )
    body = {"sku_id": sku_id, "start_minor": 1000, "duration_seconds": 60, **lot}
    started = await http.post(
        f"/api/v1/live/sessions/{live['id']}/auctions", json=body, headers=creator.headers
    )
    assert started.status_code == 201, started.text
    return Lot(creator, live, sku_id, started.json())


async def bidder(
    http: httpx.AsyncClient, make_actor: MakeActor, card: str = GOOD_CARD, **kw: Any
) -> Actor:
    who = await make_actor(Role.BUYER, **kw)
    saved = await http.post(
        "/api/v1/me/cards",
        json={"card_number": card, "exp_month": 12, "exp_year": 2040},
        headers=who.headers,
    )
    assert saved.status_code == 201, saved.text
    return who


def bid(http: httpx.AsyncClient, lot_id: int, who: Actor, max_minor: int) -> Any:
    return http.post(
        f"/api/v1/live/auctions/{lot_id}/bids", json={"max_minor": max_minor}, headers=who.headers
    )


async def end_in(db: Database, lot_id: int, seconds: float) -> None:
    """Time moves on: the lot now ends ``seconds`` from now."""
    async with db.session() as s:
        await s.execute(
            update(Auction)
            .where(Auction.id == lot_id)
            .values(ends_at=utcnow() + timedelta(seconds=seconds))
        )
        await s.commit()


async def lot_row(db: Database, lot_id: int) -> Auction:
    async with db.session() as s:
        row = await s.get(Auction, lot_id)
        assert row is not None
        s.expunge(row)
        return row


async def sold_or_unsold(db: Database, app: FastAPI, lot_id: int, within: float = 60) -> Auction:
    """Wait until the hammer fell and the sale is over (the app's auction clock runs it)."""

    async def done() -> bool:
        row = await lot_row(db, lot_id)
        return row.status in (AuctionStatus.SOLD, AuctionStatus.UNSOLD)

    await eventually(done, within=within)
    return await lot_row(db, lot_id)


async def warm(http: httpx.AsyncClient, connections: int = 100) -> None:
    """Open the client's connections before a burst, so the burst's bids are not late
    because their connections were still being made."""
    await asyncio.gather(*(http.get("/healthz") for _ in range(connections)))


async def burst_across_the_end(
    db: Database, lot_id: int, bids: list[Any], *, then_ends_in: float = 0.5
) -> list[Any]:
    """Send the bids all at once; when a third of them have been answered (whatever the
    machine's load), the lot's end is set ``then_ends_in`` seconds away, so the rest race the
    hammer: some are decided in time, the late ones are refused by the server's clock."""
    tasks = [asyncio.ensure_future(b) for b in bids]
    pending = set(tasks)
    while len(tasks) - len(pending) < len(tasks) // 3:
        _done, pending = await asyncio.wait(pending, return_when=asyncio.FIRST_COMPLETED)
    await end_in(db, lot_id, then_ends_in)
    return list(await asyncio.gather(*tasks))
