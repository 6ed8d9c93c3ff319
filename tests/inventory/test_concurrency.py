"""Races on real databases: every attempt is its own session and transaction, run at once.

On PostgreSQL these race on row locks; on SQLite BEGIN IMMEDIATE serialises the writers, and
the tests still prove the counts come out exact.
"""

from __future__ import annotations

import asyncio
from datetime import timedelta

from liveshop.core.clock import utcnow
from liveshop.core.db import Database
from liveshop.inventory import service as inv
from tests.inventory.conftest import MakeShelf, assert_stock_consistent

BUYERS = 300
UNITS = 50


async def _stocked(db: Database, make_shelf: MakeShelf, units: int) -> int:
    shelf = await make_shelf()
    async with db.session() as s:
        await inv.receive(s, sku_id=shelf.sku_id, quantity=units, reason="launch", actor_id=None)
        await s.commit()
    return shelf.sku_id


async def _summary(db: Database, sku_id: int) -> inv.StockSummary:
    async with db.session() as s:
        got = await inv.stock_summary(s, sku_id)
        await s.commit()
    return got


async def test_300_buyers_for_50_units_sell_exactly_50(db: Database, make_shelf: MakeShelf) -> None:
    sku_id = await _stocked(db, make_shelf, UNITS)

    async def buy(n: int) -> str:
        try:
            async with db.session() as s:
                r = await inv.reserve(s, sku_id=sku_id, quantity=1, reference=f"order:{n}")
                await inv.commit_reservation(s, r.id)
                await s.commit()
                return "sold"
        except inv.OutOfStock:
            return "out"

    results = await asyncio.gather(*(buy(n) for n in range(BUYERS)))
    assert results.count("sold") == UNITS
    assert results.count("out") == BUYERS - UNITS
    assert await _summary(db, sku_id) == inv.StockSummary(sku_id, UNITS, 0, 0, UNITS)
    await assert_stock_consistent(db, sku_id)


async def test_expired_holds_give_every_unit_back(db: Database, make_shelf: MakeShelf) -> None:
    sku_id = await _stocked(db, make_shelf, UNITS)

    async def hold(n: int) -> int | None:
        try:
            async with db.session() as s:
                r = await inv.reserve(
                    s,
                    sku_id=sku_id,
                    quantity=1,
                    reference=f"order:{n}",
                    hold_for=timedelta(seconds=30),
                )
                await s.commit()
                return r.id
        except inv.OutOfStock:
            return None

    held = [r for r in await asyncio.gather(*(hold(n) for n in range(BUYERS))) if r]
    assert len(held) == UNITS
    assert await _summary(db, sku_id) == inv.StockSummary(sku_id, UNITS, 0, UNITS, 0)

    # Several sweepers at once (and the clock past the holds): each hold expires exactly once.
    later = utcnow() + timedelta(minutes=5)

    async def sweep() -> int:
        async with db.session() as s:
            n = await inv.release_expired(s, now=later, limit=20)
            await s.commit()
            return n

    expired = 0
    while True:
        rounds = await asyncio.gather(*(sweep() for _ in range(4)))
        expired += sum(rounds)
        if not any(rounds):
            break
    assert expired == UNITS
    assert await _summary(db, sku_id) == inv.StockSummary(sku_id, UNITS, UNITS, 0, 0)
    await assert_stock_consistent(db, sku_id)

    # …and the freed units can be sold again, still exactly.
    async def buy(n: int) -> bool:
        try:
            async with db.session() as s:
                r = await inv.reserve(s, sku_id=sku_id, quantity=1, reference=f"again:{n}")
                await inv.commit_reservation(s, r.id)
                await s.commit()
                return True
        except inv.OutOfStock:
            return False

    assert sum(await asyncio.gather(*(buy(n) for n in range(BUYERS)))) == UNITS
    assert await _summary(db, sku_id) == inv.StockSummary(sku_id, UNITS, 0, 0, UNITS)


async def test_double_release_and_release_vs_expire_give_units_back_once(
    db: Database, make_shelf: MakeShelf
) -> None:
    sku_id = await _stocked(db, make_shelf, 40)
    async with db.session() as s:
        ids = [
            (await inv.reserve(s, sku_id=sku_id, quantity=2, reference=f"order:{n}")).id
            for n in range(20)
        ]
        await s.commit()
    later = utcnow() + timedelta(hours=1)

    async def release(rid: int) -> int:
        async with db.session() as s:
            done = await inv.release_reservation(s, rid)
            await s.commit()
            return int(done)

    async def expire() -> int:
        async with db.session() as s:
            n = await inv.release_expired(s, now=later, sku_id=sku_id)
            await s.commit()
            return n

    # Each reservation: two releases racing, plus sweepers racing all of them.
    outcomes = await asyncio.gather(
        *(release(rid) for rid in ids for _ in range(2)), *(expire() for _ in range(3))
    )
    assert sum(outcomes) == 20  # every reservation resolved by exactly one of its racers
    assert await _summary(db, sku_id) == inv.StockSummary(sku_id, 40, 40, 0, 0)
    await assert_stock_consistent(db, sku_id)


async def test_racing_commit_and_release_resolve_each_hold_once(
    db: Database, make_shelf: MakeShelf
) -> None:
    sku_id = await _stocked(db, make_shelf, 30)
    async with db.session() as s:
        ids = [
            (await inv.reserve(s, sku_id=sku_id, quantity=1, reference=f"order:{n}")).id
            for n in range(30)
        ]
        await s.commit()

    async def pay(rid: int) -> str:
        try:
            async with db.session() as s:
                await inv.commit_reservation(s, rid)
                await s.commit()
                return "paid"
        except inv.ReservationLost:
            return "lost"

    async def cancel(rid: int) -> str:
        async with db.session() as s:
            done = await inv.release_reservation(s, rid)
            await s.commit()
            return "cancelled" if done else "noop"

    await asyncio.gather(*(f(rid) for rid in ids for f in (pay, cancel)))
    got = await _summary(db, sku_id)
    # A payment that lost the race to its cancellation takes the unit again (late payment),
    # so every unit is sold exactly once and nothing is held or double-returned.
    assert got == inv.StockSummary(sku_id, 30, 0, 0, 30)
    await assert_stock_consistent(db, sku_id)


async def test_flash_deal_of_20_with_100_buyers_sells_20(
    db: Database, make_shelf: MakeShelf
) -> None:
    sku_id = await _stocked(db, make_shelf, 100)
    async with db.session() as s:
        deal = await inv.reserve(s, sku_id=sku_id, quantity=20, reference="deal:1", hold_for=None)
        await s.commit()

    async def buy(n: int) -> bool:
        try:
            async with db.session() as s:
                r = await inv.split_reservation(s, deal.id, quantity=1, reference=f"order:{n}")
                await inv.commit_reservation(s, r.id)
                await s.commit()
                return True
        except inv.OutOfStock:
            return False

    assert sum(await asyncio.gather(*(buy(n) for n in range(100)))) == 20
    assert await _summary(db, sku_id) == inv.StockSummary(sku_id, 100, 80, 0, 20)
    await assert_stock_consistent(db, sku_id)
