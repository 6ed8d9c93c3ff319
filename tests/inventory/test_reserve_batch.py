"""``reserve_batch``: a batch of taps on one SKU decided first come first served, each hold
from one warehouse (default first), never more than is there — on both databases."""

from __future__ import annotations

import asyncio
from datetime import timedelta

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import select

from liveshop.core.clock import utcnow
from liveshop.core.db import Database
from liveshop.inventory import service as inv
from liveshop.inventory.models import MovementKind, Reservation, StockMovement
from tests.inventory.conftest import MakeShelf, assert_stock_consistent

LATER = timedelta(minutes=5)


async def test_a_batch_is_decided_in_arrival_order_from_one_warehouse_each(
    db: Database, make_shelf: MakeShelf
) -> None:
    shelf = await make_shelf()
    async with db.session() as s:
        await inv.receive(s, sku_id=shelf.sku_id, quantity=2, reason="", actor_id=None)
        leeds = await inv.create_warehouse(s, shelf.shop_id, name="Leeds")
        await inv.receive(
            s, sku_id=shelf.sku_id, quantity=3, reason="", actor_id=None, warehouse_id=leeds.id
        )
        await s.commit()
    wanted = [(1, "a"), (3, "b"), (2, "c"), (1, "d"), (1, "e")]
    async with db.session() as s:
        got = await inv.reserve_batch(s, shelf.sku_id, wanted, expires_at=utcnow() + LATER)
        await s.commit()
    # a: 1 from Main (1 left); b: 3 only in Leeds (0 left there); c: 2 nowhere; d: Main's last;
    # e: nothing left.
    assert [i is not None for i in got.ids] == [True, True, False, True, False]
    assert (got.available, got.best) == (0, 0)
    async with db.session() as s:
        rows = (
            await s.execute(
                select(Reservation.reference, Reservation.quantity, Reservation.stock_level_id)
                .where(Reservation.id.in_([i for i in got.ids if i is not None]))
                .order_by(Reservation.id)
            )
        ).all()
        moves = await s.scalar(
            select(StockMovement.id).where(
                StockMovement.kind == MovementKind.RESERVE, StockMovement.reference == "b"
            )
        )
        await s.commit()
    assert [(r, q) for r, q, _l in rows] == [("a", 1), ("b", 3), ("d", 1)]
    assert rows[0][2] == rows[2][2] != rows[1][2]
    assert moves is not None
    await assert_stock_consistent(db, shelf.sku_id)


async def test_concurrent_batches_never_oversell(db: Database, make_shelf: MakeShelf) -> None:
    shelf = await make_shelf()
    async with db.session() as s:
        await inv.receive(s, sku_id=shelf.sku_id, quantity=10, reason="", actor_id=None)
        await s.commit()

    async def batch(n: int) -> int:
        async with db.session() as s:
            got = await inv.reserve_batch(
                s, shelf.sku_id, [(1, f"t{n}-{i}") for i in range(4)], expires_at=utcnow() + LATER
            )
            await s.commit()
        return sum(1 for i in got.ids if i is not None)

    granted = await asyncio.gather(*(batch(n) for n in range(6)))
    assert sum(granted) == 10
    async with db.session() as s:
        summary = await inv.stock_summary(s, shelf.sku_id)
        await s.commit()
    assert (summary.available, summary.held) == (0, 10)
    await assert_stock_consistent(db, shelf.sku_id)


@settings(
    max_examples=15,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    stock=st.lists(st.integers(0, 6), min_size=1, max_size=3),
    wanted=st.lists(st.integers(1, 4), max_size=12),
)
async def test_any_batch_gives_what_a_first_come_first_served_plan_gives(
    db: Database, make_shelf: MakeShelf, stock: list[int], wanted: list[int]
) -> None:
    shelf = await make_shelf()
    async with db.session() as s:
        await inv.receive(s, sku_id=shelf.sku_id, quantity=1, reason="", actor_id=None)
        await inv.adjust(s, sku_id=shelf.sku_id, delta=-1, reason="", actor_id=None)
        for n, units in enumerate(stock):
            house = await inv.create_warehouse(s, shelf.shop_id, name=f"W{n}")
            if units:
                await inv.receive(
                    s,
                    sku_id=shelf.sku_id,
                    quantity=units,
                    reason="",
                    actor_id=None,
                    warehouse_id=house.id,
                )
        await s.commit()
    async with db.session() as s:
        got = await inv.reserve_batch(
            s,
            shelf.sku_id,
            [(q, f"w{i}") for i, q in enumerate(wanted)],
            expires_at=utcnow() + LATER,
        )
        await s.commit()
    left = [0, *stock]  # the default warehouse (emptied), then the others in order
    expected = []
    for q in wanted:
        where = next((i for i, units in enumerate(left) if units >= q), None)
        expected.append(where is not None)
        if where is not None:
            left[where] -= q
    assert [i is not None for i in got.ids] == expected
    assert (got.available, got.best) == (sum(left), max(left))
    await assert_stock_consistent(db, shelf.sku_id)


async def test_each_batch_tells_a_newer_version_of_the_skus_figures(
    db: Database, make_shelf: MakeShelf
) -> None:
    """Two nodes' batches can reach a room out of order: the version (the SKU's newest
    movement, read under the lock) says which figures are newer — a batch that took nothing
    still counts what others did in between (a release, a checkout)."""
    shelf = await make_shelf()
    async with db.session() as s:
        await inv.receive(s, sku_id=shelf.sku_id, quantity=4, reason="", actor_id=None)
        await s.commit()
    versions = []
    for wanted in ([(1, "a")], [], [(1, "b")]):
        async with db.session() as s:
            got = await inv.reserve_batch(s, shelf.sku_id, wanted, expires_at=utcnow() + LATER)
            await s.commit()
        versions.append((got.version, got.available))
        if wanted == [(1, "a")]:
            async with db.session() as s:
                assert got.ids[0] is not None
                await inv.release_reservation(s, got.ids[0])
                await s.commit()
    (v1, left1), (v2, left2), (v3, left3) = versions
    assert (left1, left2, left3) == (3, 4, 3)
    assert 0 < v1 < v2 < v3
