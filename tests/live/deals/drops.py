"""Helpers for drop tests: a live room with stock, a deal under a policy, taps, counts."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import httpx
from sqlalchemy import func, select

from liveshop.core.db import Database
from liveshop.inventory.models import Reservation, ReservationStatus, StockLevel
from liveshop.ledger.service import trial_balance
from tests.live.helpers import live_room_with_stock
from tests.support import Actor, MakeActor

CARD = "4242424242424242"


@dataclass
class Drop:
    creator: Actor
    live: dict[str, Any]
    sku_id: int
    deal: dict[str, Any]

    @property
    def deal_id(self) -> int:
        return int(self.deal["deal_id"])


async def open_drop(
    http: httpx.AsyncClient,
    make_actor: MakeActor,
    *,
    stock: int = 50,
    units: int = 10,
    slug: str = "drop",
    **deal: Any,
) -> Drop:
    creator, live, sku_id, _product = await live_room_with_stock(
        http, make_actor, stock=stock, slug=slug
    )
    body = {"sku_id": sku_id, "price_minor": 999, "units": units, "duration_seconds": 600, **deal}
    started = await http.post(
        f"/api/v1/live/sessions/{live['id']}/deals", json=body, headers=creator.headers
    )
    assert started.status_code == 201, started.text
    return Drop(creator, live, sku_id, started.json())


def http_of(base: str) -> httpx.AsyncClient:
    """An HTTP client for a live test server (``serve`` gives its ws:// base)."""
    return httpx.AsyncClient(base_url=base.replace("ws://", "http://"), timeout=30)


def tap(
    http: httpx.AsyncClient, deal_id: int, buyer: Actor, quantity: int | None = 1, **kw: Any
) -> Any:
    body = None if quantity is None else {"quantity": quantity}
    return http.post(f"/api/v1/live/deals/{deal_id}/claim", json=body, headers=buyer.headers, **kw)


async def mine(http: httpx.AsyncClient, deal_id: int, buyer: Actor) -> dict[str, Any]:
    got = await http.get(f"/api/v1/live/deals/{deal_id}/mine", headers=buyer.headers)
    assert got.status_code == 200, got.text
    out: dict[str, Any] = got.json()
    return out


async def pay_claim(
    http: httpx.AsyncClient, claim_id: int, buyer: Actor, *, card: str | None = CARD
) -> httpx.Response:
    body = {} if card is None else {"card_number": card}
    return await http.post(f"/api/v1/live/claims/{claim_id}/pay", json=body, headers=buyer.headers)


async def stock_identity(db: Database, sku_id: int) -> tuple[int, int, int, int]:
    """(available, held, sold, received) summed over the SKU's levels, after checking that
    every level balances and that held = the HELD reservations' units."""
    async with db.session(deferred=True) as s:
        levels = (await s.scalars(select(StockLevel).where(StockLevel.sku_id == sku_id))).all()
        held_res = await s.scalar(
            select(func.coalesce(func.sum(Reservation.quantity), 0)).where(
                Reservation.sku_id == sku_id, Reservation.status == ReservationStatus.HELD
            )
        )
        assert sum(lv.held for lv in levels) == held_res
        for lv in levels:
            assert lv.received == lv.available + lv.held + lv.sold
        balance = await trial_balance(s)
        counts = (
            sum(lv.available for lv in levels),
            sum(lv.held for lv in levels),
            sum(lv.sold for lv in levels),
            sum(lv.received for lv in levels),
        )
        await s.rollback()
    assert all(v == 0 for v in balance.values()), balance
    return counts
