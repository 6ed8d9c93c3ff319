"""Warehouses, receiving, adjusting, refund restocks and stock read-outs.

Writes go through :mod:`liveshop.inventory.levels` (one conditional UPDATE each) and leave a
movement behind. Like the reservation primitives these FLUSH and never COMMIT.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from liveshop.catalog.service import get_shop, sku_shop_id
from liveshop.core.errors import Conflict, Unprocessable
from liveshop.core.i18n import gettext as _
from liveshop.inventory.errors import BadQuantity, StockWouldGoNegative
from liveshop.inventory.levels import dialect_insert, move, must_move, ordered_level_ids, record
from liveshop.inventory.models import (
    DEFAULT_WAREHOUSE_NAME,
    MovementKind,
    StockLevel,
    StockMovement,
    Warehouse,
)
from liveshop.inventory.release import expire_due
from liveshop.inventory.reservations import check_quantity, get_reservation

MAX_RECEIVE = 1_000_000  # units per receive/adjust call; 10**9 is a typo, not a delivery


@dataclass(frozen=True, slots=True)
class StockSummary:
    """Counts of one SKU summed over its warehouses; received = available + held + sold."""

    sku_id: int
    received: int
    available: int
    held: int
    sold: int

    @property
    def sold_out(self) -> bool:
        return self.available <= 0


@dataclass(frozen=True, slots=True)
class WarehouseStock:
    warehouse_id: int
    name: str
    is_default: bool
    received: int
    available: int
    held: int
    sold: int


@dataclass(frozen=True, slots=True)
class StockDetail:
    summary: StockSummary
    warehouses: list[WarehouseStock]


# --- warehouses -------------------------------------------------------------------------


async def ensure_default_warehouse(session: AsyncSession, shop_id: int) -> int:
    """The shop's default warehouse id, creating "Main warehouse" on first use.

    Concurrent first receives cannot make two defaults: a partial unique index allows one
    default per shop and the INSERT is ``ON CONFLICT DO NOTHING``.
    """
    found = await _default_warehouse_id(session, shop_id)
    if found is not None:
        return found
    insert = dialect_insert(session)
    await session.execute(
        insert(Warehouse)
        .values(shop_id=shop_id, name=DEFAULT_WAREHOUSE_NAME, is_default=True)
        .on_conflict_do_nothing()
    )
    created = await _default_warehouse_id(session, shop_id)
    if created is None:  # pragma: no cover - the insert or a concurrent one made it
        raise RuntimeError(f"no default warehouse for shop {shop_id}")
    return created


async def _default_warehouse_id(session: AsyncSession, shop_id: int) -> int | None:
    return await session.scalar(
        select(Warehouse.id).where(Warehouse.shop_id == shop_id, Warehouse.is_default.is_(True))
    )


async def list_warehouses(session: AsyncSession, shop_id: int) -> list[Warehouse]:
    await get_shop(session, shop_id)
    rows = await session.scalars(
        select(Warehouse)
        .where(Warehouse.shop_id == shop_id)
        .order_by(Warehouse.is_default.desc(), Warehouse.id)
    )
    return list(rows.all())


async def create_warehouse(session: AsyncSession, shop_id: int, *, name: str) -> Warehouse:
    """A further, non-default warehouse (the default "Main warehouse" is made first)."""
    await get_shop(session, shop_id)
    clean = name.strip()
    if not clean:
        raise Unprocessable(_("a warehouse needs a name"), code="bad-warehouse-name")
    await ensure_default_warehouse(session, shop_id)
    warehouse = Warehouse(shop_id=shop_id, name=clean, is_default=False)
    session.add(warehouse)
    await session.flush()
    return warehouse


async def _target_warehouse(session: AsyncSession, shop_id: int, warehouse_id: int | None) -> int:
    if warehouse_id is None:
        return await ensure_default_warehouse(session, shop_id)
    owner = await session.scalar(select(Warehouse.shop_id).where(Warehouse.id == warehouse_id))
    if owner != shop_id:
        raise Unprocessable(
            _(
                "warehouse %(warehouse_id)s does not belong to shop %(shop_id)s",
                warehouse_id=warehouse_id,
                shop_id=shop_id,
            ),
            code="unknown-warehouse",
            warehouse_id=warehouse_id,
        )
    return warehouse_id


async def _level_id(
    session: AsyncSession, warehouse_id: int, sku_id: int, *, create: bool
) -> int | None:
    if create:
        insert = dialect_insert(session)
        await session.execute(
            insert(StockLevel)
            .values(warehouse_id=warehouse_id, sku_id=sku_id)
            .values(received=0, available=0, held=0, sold=0)
            .on_conflict_do_nothing()
        )
    return await session.scalar(
        select(StockLevel.id).where(
            StockLevel.warehouse_id == warehouse_id, StockLevel.sku_id == sku_id
        )
    )


# --- writes -----------------------------------------------------------------------------


async def receive(
    session: AsyncSession,
    *,
    sku_id: int,
    quantity: int,
    reason: str,
    actor_id: int | None,
    warehouse_id: int | None = None,
) -> StockSummary:
    """Units arrived: received += n, available += n (default warehouse unless one is named)."""
    check_quantity(quantity, MAX_RECEIVE)
    shop_id = await sku_shop_id(session, sku_id)
    target = await _target_warehouse(session, shop_id, warehouse_id)
    level_id = await _level_id(session, target, sku_id, create=True)
    assert level_id is not None
    await must_move(session, level_id, available=quantity)
    record(
        session,
        kind=MovementKind.RECEIVE,
        sku_id=sku_id,
        level_id=level_id,
        quantity=quantity,
        reference="receive",
        reason=reason,
        actor_id=actor_id,
        available=quantity,
    )
    await session.flush()
    return await _summary(session, sku_id)


async def adjust(
    session: AsyncSession,
    *,
    sku_id: int,
    delta: int,
    reason: str,
    actor_id: int | None,
    warehouse_id: int | None = None,
) -> StockSummary:
    """Count correction, damage, loss: received += delta, available += delta.

    A decrease is ``UPDATE … WHERE available >= -delta``: held and sold units cannot be
    adjusted away, and 409 ``stock-would-go-negative`` says how many could be.
    """
    if isinstance(delta, bool) or not isinstance(delta, int) or delta == 0:
        raise BadQuantity(_("delta must be a non-zero whole number"), delta=str(delta))
    if abs(delta) > MAX_RECEIVE:
        raise BadQuantity(
            _("delta must be within ±%(max_receive)s", max_receive=MAX_RECEIVE), delta=str(delta)
        )
    shop_id = await sku_shop_id(session, sku_id)
    target = await _target_warehouse(session, shop_id, warehouse_id)
    level_id = await _level_id(session, target, sku_id, create=delta > 0)
    if level_id is None or not await move(session, level_id, available=delta):
        available = 0
        if level_id is not None:
            available = int(
                await session.scalar(select(StockLevel.available).where(StockLevel.id == level_id))
                or 0
            )
        raise StockWouldGoNegative(
            _(
                "only %(available)s available unit(s) can be adjusted away, %(value)s asked",
                available=available,
                value=-delta,
            ),
            available=available,
            sku_id=sku_id,
        )
    record(
        session,
        kind=MovementKind.ADJUST,
        sku_id=sku_id,
        level_id=level_id,
        quantity=delta,
        reference="adjust",
        reason=reason,
        actor_id=actor_id,
        available=delta,
    )
    await session.flush()
    return await _summary(session, sku_id)


async def return_units(
    session: AsyncSession,
    *,
    sku_id: int,
    quantity: int,
    reference: str,
    actor_id: int | None = None,
    reservation_id: int | None = None,
) -> None:
    """Refund restock: sold -= n, available += n, guarded by ``sold >= n``.

    Taken from the warehouse the reservation was committed from when ``reservation_id`` is
    given, else the first warehouse (default first) that sold at least n. 409
    ``nothing-to-return`` if none did. Whether the order may return n more units is the
    orders domain's call; this only guarantees sold never goes negative.
    """
    check_quantity(quantity, MAX_RECEIVE)
    levels = await ordered_level_ids(session, sku_id)
    if not levels:
        await sku_shop_id(session, sku_id)  # 404 for an unknown SKU
    if reservation_id is not None:
        preferred = (await get_reservation(session, reservation_id)).stock_level_id
        levels.sort(key=lambda lid: lid != preferred)
    for level_id in levels:
        if await move(session, level_id, sold=-quantity, available=quantity):
            record(
                session,
                kind=MovementKind.RETURN,
                sku_id=sku_id,
                level_id=level_id,
                quantity=quantity,
                reference=reference,
                actor_id=actor_id,
                reservation_id=reservation_id,
                available=quantity,
                sold=-quantity,
            )
            await session.flush()
            return
    raise Conflict(
        _(
            "no warehouse has sold %(quantity)s unit(s) of SKU %(sku_id)s to take back",
            quantity=quantity,
            sku_id=sku_id,
        ),
        code="nothing-to-return",
        sku_id=sku_id,
    )


# --- reads ------------------------------------------------------------------------------


async def _summary(session: AsyncSession, sku_id: int) -> StockSummary:
    return (await _summaries(session, [sku_id]))[sku_id]


async def _summaries(session: AsyncSession, sku_ids: Sequence[int]) -> dict[int, StockSummary]:
    wanted = list(dict.fromkeys(sku_ids))
    out = {s: StockSummary(s, 0, 0, 0, 0) for s in wanted}
    if not wanted:
        return out
    rows = await session.execute(
        select(
            StockLevel.sku_id,
            func.sum(StockLevel.received),
            func.sum(StockLevel.available),
            func.sum(StockLevel.held),
            func.sum(StockLevel.sold),
        )
        .where(StockLevel.sku_id.in_(wanted))
        .group_by(StockLevel.sku_id)
    )
    for sku_id, received, available, held, sold in rows.all():
        out[sku_id] = StockSummary(sku_id, int(received), int(available), int(held), int(sold))
    return out


async def stock_summary(session: AsyncSession, sku_id: int) -> StockSummary:
    """The SKU's counts, after releasing its expired holds ("lazy release on read").

    The release only flushes: the caller commits (or rolls back and shows slightly old
    numbers — the sweeper releases them soon anyway). Unknown SKUs read as all zeros.
    """
    return (await stock_summaries(session, [sku_id]))[sku_id]


async def stock_summaries(session: AsyncSession, sku_ids: Sequence[int]) -> dict[int, StockSummary]:
    """Summaries for many SKUs (every asked id is in the result), expired holds released."""
    if sku_ids:
        await expire_due(session, sku_ids=list(set(sku_ids)))
    return await _summaries(session, sku_ids)


async def stock_detail(session: AsyncSession, sku_id: int) -> StockDetail:
    """Summary plus counts per warehouse (expired holds released first)."""
    summary = await stock_summary(session, sku_id)
    rows = await session.execute(
        select(Warehouse, StockLevel)
        .join(StockLevel, StockLevel.warehouse_id == Warehouse.id)
        .where(StockLevel.sku_id == sku_id)
        .order_by(Warehouse.is_default.desc(), Warehouse.id)
        .execution_options(populate_existing=True)
    )
    warehouses = [
        WarehouseStock(
            warehouse_id=w.id,
            name=w.name,
            is_default=w.is_default,
            received=level.received,
            available=level.available,
            held=level.held,
            sold=level.sold,
        )
        for w, level in rows.all()
    ]
    return StockDetail(summary=summary, warehouses=warehouses)


async def list_movements(
    session: AsyncSession, sku_id: int, *, limit: int = 50, offset: int = 0
) -> list[StockMovement]:
    """The SKU's audit trail, newest first."""
    rows = await session.scalars(
        select(StockMovement)
        .where(StockMovement.sku_id == sku_id)
        .order_by(StockMovement.id.desc())
        .limit(limit)
        .offset(offset)
    )
    return list(rows.all())
