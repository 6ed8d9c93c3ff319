"""Inventory test helpers: catalog rows inserted directly (no catalog API needed) and a
checker for every stock invariant."""

from __future__ import annotations

import itertools
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

import pytest
from sqlalchemy import func, select

from liveshop.catalog.models import Product, ProductStatus, Shop, ShopStaff, ShopStaffRole, Sku
from liveshop.core.db import Database
from liveshop.inventory.models import Reservation, ReservationStatus, StockLevel, StockMovement

_seq = itertools.count(1)


@dataclass(frozen=True)
class Shelf:
    shop_id: int
    sku_id: int


async def insert_shop(db: Database, *, staff_user_id: int | None = None) -> int:
    n = next(_seq)
    async with db.session() as s:
        shop = Shop(slug=f"inv-shop-{n}", name=f"Inventory shop {n}", home_market="GB")
        s.add(shop)
        await s.flush()
        if staff_user_id is not None:
            s.add(ShopStaff(shop_id=shop.id, user_id=staff_user_id, role=ShopStaffRole.OWNER))
        await s.commit()
        return shop.id


async def insert_sku(db: Database, shop_id: int) -> int:
    n = next(_seq)
    async with db.session() as s:
        product = Product(
            shop_id=shop_id,
            title=f"Serum {n}",
            category="beauty",
            status=ProductStatus.PUBLISHED,
            images=[],
        )
        s.add(product)
        await s.flush()
        sku = Sku(product_id=product.id, shop_id=shop_id, code=f"SERUM-{n}", attributes={})
        s.add(sku)
        await s.commit()
        return sku.id


MakeShelf = Callable[..., Awaitable[Shelf]]


@pytest.fixture
def make_shelf(db: Database) -> MakeShelf:
    """``await make_shelf(staff_user_id=None, shop_id=None)`` -> a shop (new unless given) and
    a new published SKU in it."""

    async def _make(*, staff_user_id: int | None = None, shop_id: int | None = None) -> Shelf:
        if shop_id is None:
            shop_id = await insert_shop(db, staff_user_id=staff_user_id)
        return Shelf(shop_id=shop_id, sku_id=await insert_sku(db, shop_id))

    return _make


async def assert_stock_consistent(db: Database, sku_id: int) -> None:
    """Every invariant of every stock level of the SKU, read fresh from the database:
    counts never negative, received = available + held + sold, held = units of HELD
    reservations, and the movement log rebuilds the counts exactly."""
    async with db.session(deferred=True) as s:
        levels = (await s.scalars(select(StockLevel).where(StockLevel.sku_id == sku_id))).all()
        for lv in levels:
            assert min(lv.available, lv.held, lv.sold) >= 0, lv.__dict__
            assert lv.received == lv.available + lv.held + lv.sold, lv.__dict__
            held = await s.scalar(
                select(func.coalesce(func.sum(Reservation.quantity), 0)).where(
                    Reservation.stock_level_id == lv.id,
                    Reservation.status == ReservationStatus.HELD,
                )
            )
            assert held == lv.held, (held, lv.__dict__)
            a, h, so = (
                await s.execute(
                    select(
                        func.coalesce(func.sum(StockMovement.available_delta), 0),
                        func.coalesce(func.sum(StockMovement.held_delta), 0),
                        func.coalesce(func.sum(StockMovement.sold_delta), 0),
                    ).where(StockMovement.stock_level_id == lv.id)
                )
            ).one()
            assert (a, h, so) == (lv.available, lv.held, lv.sold), lv.__dict__
        await s.rollback()


async def movement_count(db: Database) -> int:
    async with db.session(deferred=True) as s:
        n = await s.scalar(select(func.count()).select_from(StockMovement))
        await s.rollback()
        return int(n or 0)
