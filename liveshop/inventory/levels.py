"""The one place that writes ``stock_levels`` — every change is a single conditional UPDATE.

Never read-then-write: the WHERE clause of the UPDATE is the guard. A decrease only matches
while the column still has enough (``available >= :n``), so two buyers racing for the last
unit cannot both win: on PostgreSQL the second UPDATE waits for the first's row lock and then
re-checks the guard; on SQLite every transaction is ``BEGIN IMMEDIATE`` so writers queue.
``received`` always moves by the sum of the other deltas, so ``received = available + held +
sold`` holds after every statement (and a CHECK constraint refuses anything else).

Lock order, to keep PostgreSQL free of deadlocks: an operation locks reservation rows (a child
before its parent) before stock-level rows, and stock-level rows in ascending id order.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from sqlalchemy import insert, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession

from liveshop.inventory.models import MovementKind, StockLevel, StockMovement, Warehouse


def dialect_insert(session: AsyncSession) -> Callable[..., Any]:
    """``insert`` of the session's dialect (both have ``on_conflict_do_nothing``)."""
    name = session.get_bind().dialect.name
    return postgresql.insert if name == "postgresql" else sqlite.insert


async def move(
    session: AsyncSession, level_id: int, *, available: int = 0, held: int = 0, sold: int = 0
) -> bool:
    """Add the deltas to one stock level if no count would go below zero; True if it did."""
    stmt = update(StockLevel).where(StockLevel.id == level_id)
    values: dict[str, Any] = {"received": StockLevel.received + (available + held + sold)}
    for column, delta in (
        (StockLevel.available, available),
        (StockLevel.held, held),
        (StockLevel.sold, sold),
    ):
        if delta:
            values[column.key] = column + delta
        if delta < 0:
            stmt = stmt.where(column >= -delta)
    result = await session.execute(
        stmt.values(values).returning(StockLevel.id),
        execution_options={"synchronize_session": False},
    )
    return result.scalar_one_or_none() is not None


async def must_move(
    session: AsyncSession, level_id: int, *, available: int = 0, held: int = 0, sold: int = 0
) -> None:
    """A move that cannot fail unless the held/sold bookkeeping is broken (a bug, not input)."""
    if not await move(session, level_id, available=available, held=held, sold=sold):
        raise RuntimeError(
            f"inventory invariant broken on stock level {level_id}: "
            f"cannot apply available{available:+d} held{held:+d} sold{sold:+d}"
        )


async def ordered_level_ids(session: AsyncSession, sku_id: int) -> list[int]:
    """The SKU's stock levels in the order stock is taken: default warehouse first, then by id."""
    rows = await session.scalars(
        select(StockLevel.id)
        .join(Warehouse, Warehouse.id == StockLevel.warehouse_id)
        .where(StockLevel.sku_id == sku_id)
        .order_by(Warehouse.is_default.desc(), Warehouse.id, StockLevel.id)
    )
    return list(rows.all())


def movement(
    *,
    kind: MovementKind,
    sku_id: int,
    level_id: int,
    quantity: int,
    reference: str = "",
    reason: str = "",
    actor_id: int | None = None,
    reservation_id: int | None = None,
    available: int = 0,
    held: int = 0,
    sold: int = 0,
) -> dict[str, Any]:
    """One movement row's values (for ``record`` or a multi-row ``record_all``)."""
    return {
        "sku_id": sku_id,
        "stock_level_id": level_id,
        "reservation_id": reservation_id,
        "kind": kind,
        "quantity": quantity,
        "available_delta": available,
        "held_delta": held,
        "sold_delta": sold,
        "reference": reference[:64],
        "reason": reason[:200],
        "actor_user_id": actor_id,
    }


def record(
    session: AsyncSession,
    *,
    kind: MovementKind,
    sku_id: int,
    level_id: int,
    quantity: int,
    reference: str = "",
    reason: str = "",
    actor_id: int | None = None,
    reservation_id: int | None = None,
    available: int = 0,
    held: int = 0,
    sold: int = 0,
) -> None:
    """Append one movement (flushed with the operation that made it)."""
    session.add(
        StockMovement(
            **movement(
                kind=kind,
                sku_id=sku_id,
                level_id=level_id,
                quantity=quantity,
                reference=reference,
                reason=reason,
                actor_id=actor_id,
                reservation_id=reservation_id,
                available=available,
                held=held,
                sold=sold,
            )
        )
    )


async def record_all(session: AsyncSession, rows: Sequence[dict[str, Any]]) -> None:
    """Append several movements in one multi-row INSERT (nothing read back)."""
    if rows:
        await session.execute(insert(StockMovement), list(rows))
