"""Service semantics of stock and reservations (both databases)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from liveshop.core.clock import utcnow
from liveshop.core.db import Database
from liveshop.core.errors import NotFound, Unprocessable
from liveshop.inventory import release as release_module
from liveshop.inventory import reservations as reservations_module
from liveshop.inventory import service as inv
from liveshop.inventory.models import MovementKind, ReservationStatus, StockMovement
from tests.inventory.conftest import MakeShelf, assert_stock_consistent

LATER = timedelta(hours=1)


async def _stocked(db: Database, make_shelf: MakeShelf, units: int) -> int:
    shelf = await make_shelf()
    async with db.session() as s:
        await inv.receive(s, sku_id=shelf.sku_id, quantity=units, reason="delivery", actor_id=None)
        await s.commit()
    return shelf.sku_id


async def _summary(db: Database, sku_id: int) -> tuple[int, int, int, int]:
    async with db.session() as s:
        got = await inv.stock_summary(s, sku_id)
        await s.commit()
    return got.received, got.available, got.held, got.sold


async def test_first_receive_creates_the_default_warehouse(
    db: Database, make_shelf: MakeShelf
) -> None:
    shelf = await make_shelf()
    async with db.session() as s:
        got = await inv.receive(s, sku_id=shelf.sku_id, quantity=7, reason="po-1", actor_id=None)
        again = await inv.receive(s, sku_id=shelf.sku_id, quantity=3, reason="po-2", actor_id=None)
        await s.commit()
        houses = await inv.list_warehouses(s, shelf.shop_id)
    assert got == inv.StockSummary(shelf.sku_id, 7, 7, 0, 0)
    assert again == inv.StockSummary(shelf.sku_id, 10, 10, 0, 0)
    assert [(w.name, w.is_default) for w in houses] == [("Main warehouse", True)]
    await assert_stock_consistent(db, shelf.sku_id)


async def test_adjust_cannot_take_more_than_is_available(
    db: Database, make_shelf: MakeShelf
) -> None:
    sku_id = await _stocked(db, make_shelf, 5)
    async with db.session() as s:
        await inv.reserve(s, sku_id=sku_id, quantity=2, reference="order:1")
        await s.commit()
    async with db.session() as s:
        with pytest.raises(inv.StockWouldGoNegative) as err:
            await inv.adjust(s, sku_id=sku_id, delta=-4, reason="damaged", actor_id=None)
        assert err.value.extra["available"] == 3
        await s.rollback()
    assert await _summary(db, sku_id) == (5, 3, 2, 0)
    async with db.session() as s:
        down = await inv.adjust(s, sku_id=sku_id, delta=-3, reason="damaged", actor_id=None)
        up = await inv.adjust(s, sku_id=sku_id, delta=1, reason="found one", actor_id=None)
        await s.commit()
    assert (down.received, down.available) == (2, 0)
    assert (up.received, up.available) == (3, 1)
    await assert_stock_consistent(db, sku_id)


@pytest.mark.parametrize("quantity", [0, -1, 10_001, 10**9])
async def test_reserve_refuses_bad_quantities(
    db: Database, make_shelf: MakeShelf, quantity: int
) -> None:
    sku_id = await _stocked(db, make_shelf, 5)
    async with db.session() as s:
        with pytest.raises(Unprocessable) as err:
            await inv.reserve(s, sku_id=sku_id, quantity=quantity, reference="order:1")
        assert err.value.code == "bad-quantity"
    assert await _summary(db, sku_id) == (5, 5, 0, 0)


async def test_reserve_unknown_sku_and_out_of_stock(db: Database, make_shelf: MakeShelf) -> None:
    sku_id = await _stocked(db, make_shelf, 3)
    async with db.session() as s:
        with pytest.raises(NotFound):
            await inv.reserve(s, sku_id=999_999, quantity=1, reference="order:1")
        with pytest.raises(inv.OutOfStock) as err:
            await inv.reserve(s, sku_id=sku_id, quantity=4, reference="order:1")
        assert err.value.available == 3
        assert err.value.status == 409 and err.value.code == "out-of-stock"
        await s.rollback()
    assert await _summary(db, sku_id) == (3, 3, 0, 0)


async def test_reserve_takes_the_default_warehouse_first(
    db: Database, make_shelf: MakeShelf
) -> None:
    shelf = await make_shelf()
    async with db.session() as s:
        await inv.receive(s, sku_id=shelf.sku_id, quantity=2, reason="", actor_id=None)
        leeds = await inv.create_warehouse(s, shelf.shop_id, name="Leeds")
        await inv.receive(
            s, sku_id=shelf.sku_id, quantity=5, reason="", actor_id=None, warehouse_id=leeds.id
        )
        first = await inv.reserve(s, sku_id=shelf.sku_id, quantity=2, reference="order:1")
        second = await inv.reserve(s, sku_id=shelf.sku_id, quantity=2, reference="order:2")
        with pytest.raises(inv.OutOfStock) as err:
            await inv.reserve(s, sku_id=shelf.sku_id, quantity=4, reference="order:3")
        detail = await inv.stock_detail(s, shelf.sku_id)
        await s.commit()
    assert first.stock_level_id != second.stock_level_id
    assert err.value.available == 3  # one reservation comes from one warehouse
    assert [(w.name, w.available, w.held) for w in detail.warehouses] == [
        ("Main warehouse", 0, 2),
        ("Leeds", 3, 2),
    ]
    await assert_stock_consistent(db, shelf.sku_id)


async def test_receive_into_another_shops_warehouse_is_refused(
    db: Database, make_shelf: MakeShelf
) -> None:
    mine, theirs = await make_shelf(), await make_shelf()
    async with db.session() as s:
        other = await inv.create_warehouse(s, theirs.shop_id, name="Theirs")
        await s.commit()
        with pytest.raises(Unprocessable) as err:
            await inv.receive(
                s, sku_id=mine.sku_id, quantity=1, reason="", actor_id=None, warehouse_id=other.id
            )
        assert err.value.code == "unknown-warehouse"


async def test_commit_is_idempotent_and_release_happens_once(
    db: Database, make_shelf: MakeShelf
) -> None:
    sku_id = await _stocked(db, make_shelf, 10)
    async with db.session() as s:
        paid = await inv.reserve(s, sku_id=sku_id, quantity=3, reference="order:1")
        cancelled = await inv.reserve(s, sku_id=sku_id, quantity=2, reference="order:2")
        await s.commit()
    async with db.session() as s:
        assert (await inv.commit_reservation(s, paid.id)).status == ReservationStatus.COMMITTED
        assert (await inv.commit_reservation(s, paid.id)).status == ReservationStatus.COMMITTED
        assert await inv.release_reservation(s, cancelled.id) is True
        assert await inv.release_reservation(s, cancelled.id) is False
        assert await inv.release_reservation(s, paid.id) is False
        with pytest.raises(NotFound):
            await inv.release_reservation(s, 987_654)
        await s.commit()
    assert await _summary(db, sku_id) == (10, 7, 0, 3)
    await assert_stock_consistent(db, sku_id)


async def test_release_expired_expires_each_hold_once(db: Database, make_shelf: MakeShelf) -> None:
    sku_id = await _stocked(db, make_shelf, 10)
    async with db.session() as s:
        short = await inv.reserve(
            s, sku_id=sku_id, quantity=2, reference="order:1", hold_for=timedelta(minutes=1)
        )
        await inv.reserve(s, sku_id=sku_id, quantity=3, reference="order:2", hold_for=LATER * 2)
        await inv.reserve(s, sku_id=sku_id, quantity=4, reference="deal:1", hold_for=None)
        await s.commit()
    async with db.session() as s:
        assert await inv.release_expired(s) == 0  # nothing is due yet
        assert await inv.release_expired(s, now=utcnow() + LATER) == 1
        assert await inv.release_expired(s, now=utcnow() + LATER) == 0
        await s.commit()
        assert (await inv.get_reservation(s, short.id)).status == ReservationStatus.EXPIRED
    assert await _summary(db, sku_id) == (10, 3, 7, 0)
    async with db.session() as s:
        assert await inv.release_expired(s, now=utcnow() + timedelta(days=365)) == 1
        await s.commit()
    assert await _summary(db, sku_id) == (10, 6, 4, 0)  # the no-expiry hold stays
    await assert_stock_consistent(db, sku_id)


async def test_reading_stock_releases_expired_holds(
    db: Database, make_shelf: MakeShelf, monkeypatch: pytest.MonkeyPatch
) -> None:
    sku_id = await _stocked(db, make_shelf, 4)
    async with db.session() as s:
        await inv.reserve(s, sku_id=sku_id, quantity=4, reference="order:1")
        await s.commit()
    assert await _summary(db, sku_id) == (4, 0, 4, 0)
    future = utcnow() + timedelta(minutes=11)  # past the default 10-minute hold
    monkeypatch.setattr(release_module, "utcnow", lambda: future)
    assert await _summary(db, sku_id) == (4, 4, 0, 0)
    await assert_stock_consistent(db, sku_id)


async def test_default_hold_follows_settings(
    db: Database, make_shelf: MakeShelf, monkeypatch: pytest.MonkeyPatch
) -> None:
    sku_id = await _stocked(db, make_shelf, 5)
    settings = reservations_module.get_settings()
    monkeypatch.setattr(settings, "reservation_hold_minutes", 3)
    async with db.session() as s:
        configured = await inv.reserve(s, sku_id=sku_id, quantity=1, reference="order:1")
        explicit = await inv.reserve(
            s, sku_id=sku_id, quantity=1, reference="order:2", hold_for=timedelta(minutes=10)
        )
        await s.commit()
    assert configured.expires_at is not None and explicit.expires_at is not None
    assert configured.expires_at - configured.created_at == timedelta(minutes=3)
    assert explicit.expires_at - explicit.created_at == timedelta(minutes=10)


async def test_split_moves_units_without_touching_available(
    db: Database, make_shelf: MakeShelf
) -> None:
    sku_id = await _stocked(db, make_shelf, 10)
    async with db.session() as s:
        deal = await inv.reserve(s, sku_id=sku_id, quantity=5, reference="deal:7", hold_for=None)
        order = await inv.split_reservation(s, deal.id, quantity=2, reference="order:42")
        await s.commit()
        assert (order.parent_id, order.quantity, order.status) == (deal.id, 2, "held")
        assert (await inv.get_reservation(s, deal.id)).quantity == 3
    assert await _summary(db, sku_id) == (10, 5, 5, 0)

    async with db.session() as s:
        with pytest.raises(inv.OutOfStock) as err:
            await inv.split_reservation(s, deal.id, quantity=4, reference="order:43")
        assert err.value.available == 3
        await s.rollback()
    async with db.session() as s:
        await inv.commit_reservation(s, order.id)
        rest = await inv.split_reservation(s, deal.id, quantity=3, reference="order:44")
        await s.commit()
        # A deal that gave away its last unit stays HELD with 0 until it is ended.
        emptied = await inv.get_reservation(s, deal.id)
        assert (emptied.status, emptied.quantity) == ("held", 0)
    assert await _summary(db, sku_id) == (10, 5, 3, 2)

    async with db.session() as s:  # a cancelled child gives its units back to the live deal
        assert await inv.release_reservation(s, rest.id)
        await s.commit()
        assert (await inv.get_reservation(s, deal.id)).quantity == 3
    assert await _summary(db, sku_id) == (10, 5, 3, 2)

    async with db.session() as s:  # ending the deal returns what it still holds
        late = await inv.split_reservation(s, deal.id, quantity=1, reference="order:45")
        assert await inv.release_reservation(s, deal.id, reason="deal ended")
        await s.commit()
    assert await _summary(db, sku_id) == (10, 7, 1, 2)
    async with db.session() as s:  # after the deal ended, a child's units go to available
        assert await inv.release_reservation(s, late.id)
        await s.commit()
    assert await _summary(db, sku_id) == (10, 8, 0, 2)
    await assert_stock_consistent(db, sku_id)


async def test_split_refuses_an_expired_or_resolved_parent(
    db: Database, make_shelf: MakeShelf
) -> None:
    sku_id = await _stocked(db, make_shelf, 10)
    async with db.session() as s:
        parent = await inv.reserve(s, sku_id=sku_id, quantity=5, reference="deal:1")
        await inv.release_reservation(s, parent.id)
        await s.commit()
        with pytest.raises(inv.OutOfStock) as err:
            await inv.split_reservation(s, parent.id, quantity=1, reference="order:1")
        assert err.value.available == 0
        with pytest.raises(NotFound):
            await inv.split_reservation(s, 424_242, quantity=1, reference="order:1")


async def test_late_commit_takes_the_units_again_when_they_exist(
    db: Database, make_shelf: MakeShelf
) -> None:
    sku_id = await _stocked(db, make_shelf, 2)
    async with db.session() as s:
        res = await inv.reserve(s, sku_id=sku_id, quantity=2, reference="order:1")
        await s.commit()
    async with db.session() as s:
        assert await inv.release_expired(s, now=utcnow() + LATER) == 1
        await s.commit()
    async with db.session() as s:
        paid = await inv.commit_reservation(s, res.id)
        await s.commit()
    assert paid.status == ReservationStatus.COMMITTED
    assert await _summary(db, sku_id) == (2, 0, 0, 2)
    await assert_stock_consistent(db, sku_id)


async def test_late_commit_after_the_stock_is_gone_is_reservation_lost(
    db: Database, make_shelf: MakeShelf
) -> None:
    sku_id = await _stocked(db, make_shelf, 1)
    async with db.session() as s:
        slow = await inv.reserve(s, sku_id=sku_id, quantity=1, reference="order:1")
        await s.commit()
    async with db.session() as s:
        await inv.release_expired(s, now=utcnow() + LATER)
        fast = await inv.reserve(s, sku_id=sku_id, quantity=1, reference="order:2")
        await inv.commit_reservation(s, fast.id)
        await s.commit()
    async with db.session() as s:
        with pytest.raises(inv.ReservationLost) as err:
            await inv.commit_reservation(s, slow.id)
        assert (err.value.status, err.value.code) == (409, "reservation-expired")
        # The failed attempt left nothing behind, even in this same transaction.
        assert (await inv.get_reservation(s, slow.id)).status == ReservationStatus.EXPIRED
        await s.commit()
    assert await _summary(db, sku_id) == (1, 0, 0, 1)
    await assert_stock_consistent(db, sku_id)


async def test_late_commit_of_a_deal_order_comes_back_from_the_deal(
    db: Database, make_shelf: MakeShelf
) -> None:
    sku_id = await _stocked(db, make_shelf, 3)
    async with db.session() as s:
        deal = await inv.reserve(s, sku_id=sku_id, quantity=3, reference="deal:1", hold_for=None)
        order = await inv.split_reservation(s, deal.id, quantity=2, reference="order:1")
        await s.commit()
    async with db.session() as s:
        await inv.release_expired(s, now=utcnow() + LATER)  # back into the deal
        await s.commit()
        assert (await inv.get_reservation(s, deal.id)).quantity == 3
    async with db.session() as s:
        await inv.commit_reservation(s, order.id)
        await s.commit()
        assert (await inv.get_reservation(s, deal.id)).quantity == 1
    assert await _summary(db, sku_id) == (3, 0, 1, 2)
    await assert_stock_consistent(db, sku_id)


async def test_late_commit_of_a_deal_order_never_takes_units_beyond_the_deal(
    db: Database, make_shelf: MakeShelf
) -> None:
    """A deal order paid after its hold ran out, once its unit went back into the deal and
    on to another buyer, is lost: a split's units come out of its parent's allocation or
    not at all — taken from ordinary stock, the deal would sell more than it allocated."""
    sku_id = await _stocked(db, make_shelf, 3)
    async with db.session() as s:
        deal = await inv.reserve(s, sku_id=sku_id, quantity=1, reference="deal:1", hold_for=None)
        slow = await inv.split_reservation(s, deal.id, quantity=1, reference="order:1")
        await s.commit()
    async with db.session() as s:
        await inv.release_expired(s, now=utcnow() + LATER)  # back into the deal
        fast = await inv.split_reservation(s, deal.id, quantity=1, reference="order:2")
        await inv.commit_reservation(s, fast.id)
        await s.commit()
    for ended in (False, True):
        async with db.session() as s:
            if ended:  # the deal is over: its (empty) hold is released
                assert await inv.release_reservation(s, deal.id, reason="deal ended")
                await s.commit()
            with pytest.raises(inv.ReservationLost):
                await inv.commit_reservation(s, slow.id)
            await s.commit()
        assert await _summary(db, sku_id) == (3, 2, 0, 1)
    await assert_stock_consistent(db, sku_id)


async def test_return_units_restocks_only_what_was_sold(
    db: Database, make_shelf: MakeShelf
) -> None:
    sku_id = await _stocked(db, make_shelf, 5)
    async with db.session() as s:
        res = await inv.reserve(s, sku_id=sku_id, quantity=3, reference="order:1")
        await inv.commit_reservation(s, res.id)
        await inv.return_units(
            s, sku_id=sku_id, quantity=2, reference="refund:1", reservation_id=res.id
        )
        await s.commit()
    assert await _summary(db, sku_id) == (5, 4, 0, 1)
    async with db.session() as s:
        with pytest.raises(Exception) as err:
            await inv.return_units(s, sku_id=sku_id, quantity=2, reference="refund:2")
        assert getattr(err.value, "code", None) == "nothing-to-return"
        await s.rollback()
    assert await _summary(db, sku_id) == (5, 4, 0, 1)
    await assert_stock_consistent(db, sku_id)


async def test_every_change_leaves_a_movement(db: Database, make_shelf: MakeShelf) -> None:
    sku_id = await _stocked(db, make_shelf, 5)
    async with db.session() as s:
        a = await inv.reserve(s, sku_id=sku_id, quantity=2, reference="order:1")
        b = await inv.reserve(s, sku_id=sku_id, quantity=1, reference="order:2")
        await inv.commit_reservation(s, a.id)
        await inv.release_reservation(s, b.id)
        await inv.adjust(s, sku_id=sku_id, delta=-1, reason="broken", actor_id=None)
        await s.commit()
        kinds = (
            await s.scalars(
                select(StockMovement.kind)
                .where(StockMovement.sku_id == sku_id)
                .order_by(StockMovement.id)
            )
        ).all()
    assert kinds == [
        MovementKind.RECEIVE,
        MovementKind.RESERVE,
        MovementKind.RESERVE,
        MovementKind.COMMIT,
        MovementKind.RELEASE,
        MovementKind.ADJUST,
    ]


async def test_reserve_many_returns_lines_in_order(db: Database, make_shelf: MakeShelf) -> None:
    x = await _stocked(db, make_shelf, 5)
    y = await _stocked(db, make_shelf, 5)
    async with db.session() as s:
        got = await inv.reserve_many(s, [(y, 2), (x, 1)], reference="order:9")
        await s.commit()
    assert [(r.sku_id, r.quantity) for r in got] == [(y, 2), (x, 1)]


async def test_sweeper_releases_due_holds_and_commits(
    db: Database, make_shelf: MakeShelf, monkeypatch: pytest.MonkeyPatch
) -> None:
    sku_id = await _stocked(db, make_shelf, 6)
    async with db.session() as s:
        for i in range(3):
            await inv.reserve(s, sku_id=sku_id, quantity=2, reference=f"order:{i}")
        await s.commit()
    future = utcnow() + LATER
    monkeypatch.setattr(release_module, "utcnow", lambda: future)
    sweeper = inv.ReservationSweeper(batch=2)  # two batches: 2 + 1
    assert await sweeper.sweep_once(db) == 3
    assert await sweeper.sweep_once(db) == 0
    assert await _summary(db, sku_id) == (6, 6, 0, 0)

    sweeper.start(db, 3600)
    assert sweeper.running
    await sweeper.stop()
    assert not sweeper.running
