"""Reservations: hold units for a checkout or a flash deal, then commit, release or expire them.

These are primitives other domains compose into one transaction: they FLUSH, NEVER COMMIT.
Releases and expiries live in :mod:`liveshop.inventory.release`.

Every state change of a reservation is a conditional UPDATE on its status (``WHERE status =
'held'``), so it happens exactly once even when a payment, a cancellation and the sweeper race
for the same reservation; the stock-level change follows in the same transaction. Invariant:
a stock level's ``held`` equals the sum of ``quantity`` over its HELD reservations.

Splits (flash deals): ``split_reservation`` moves units from a HELD parent ("deal:7") into a
new HELD child ("order:42") without touching ``available``. When a child is released or
expires while its parent is still HELD, its units go back into the parent (the deal can sell
them again); otherwise they go back to ``available``. A parent whose quantity reaches 0 stays
HELD with 0 until its owner releases it, so units from released children can still return.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import func, insert, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from liveshop.catalog.service import sku_shop_id
from liveshop.core.clock import utcnow
from liveshop.core.db import table_of
from liveshop.core.errors import NotFound, Unprocessable
from liveshop.core.i18n import gettext as _
from liveshop.core.settings import get_settings
from liveshop.inventory.errors import BadQuantity, OutOfStock, ReservationLost
from liveshop.inventory.levels import (
    move,
    movement,
    must_move,
    ordered_level_ids,
    record,
    record_all,
)
from liveshop.inventory.models import (
    MovementKind,
    Reservation,
    ReservationStatus,
    StockLevel,
    StockMovement,
)

MAX_RESERVE = 10_000
# The default hold. Passing this very object means "the configured hold"
# (settings.reservation_hold_minutes); pass another timedelta for an explicit hold.
DEFAULT_HOLD = timedelta(minutes=10)

HELD = ReservationStatus.HELD


def configured_hold() -> timedelta:
    return timedelta(minutes=get_settings().reservation_hold_minutes)


def _expiry(hold_for: timedelta | None, now: datetime) -> datetime | None:
    if hold_for is None:
        return None
    if hold_for is DEFAULT_HOLD:
        hold_for = configured_hold()
    if hold_for <= timedelta(0):
        raise Unprocessable(_("a hold must last longer than zero"), code="bad-hold")
    return now + hold_for


def check_quantity(quantity: int, maximum: int = MAX_RESERVE) -> None:
    if isinstance(quantity, bool) or not isinstance(quantity, int) or not 1 <= quantity <= maximum:
        raise BadQuantity(
            _("quantity must be a whole number from 1 to %(maximum)s", maximum=maximum),
            quantity=str(quantity),
        )


def _not_expired(now: datetime) -> Any:
    return or_(Reservation.expires_at.is_(None), Reservation.expires_at > now)


async def transition(
    session: AsyncSession,
    reservation_ids: Collection[int],
    *,
    from_statuses: Collection[ReservationStatus],
    to: ReservationStatus,
    now: datetime,
    extra: Sequence[Any] = (),
) -> list[Reservation]:
    """Move reservations between statuses; only rows still in ``from_statuses`` change."""
    stmt = (
        update(Reservation)
        .where(
            Reservation.id.in_(list(reservation_ids)),
            Reservation.status.in_([str(s) for s in from_statuses]),
            *extra,
        )
        .values(status=to, resolved_at=now)
        .returning(Reservation)
    )
    rows = await session.scalars(
        stmt, execution_options={"populate_existing": True, "synchronize_session": False}
    )
    return sorted(rows.all(), key=lambda r: r.id)


async def get_reservation(session: AsyncSession, reservation_id: int) -> Reservation:
    found = await session.get(Reservation, reservation_id, populate_existing=True)
    if found is None:
        raise NotFound(
            _("reservation %(reservation_id)s does not exist", reservation_id=reservation_id),
            code="reservation-not-found",
            reservation_id=reservation_id,
        )
    return found


async def _best_available(session: AsyncSession, sku_id: int) -> int:
    """The most units one reservation could get right now (one warehouse per reservation)."""
    best = await session.scalar(
        select(StockLevel.available)
        .where(StockLevel.sku_id == sku_id)
        .order_by(StockLevel.available.desc())
        .limit(1)
    )
    return int(best or 0)


async def reserve(
    session: AsyncSession,
    *,
    sku_id: int,
    quantity: int,
    reference: str,
    hold_for: timedelta | None = DEFAULT_HOLD,
) -> Reservation:
    """Hold ``quantity`` units of one SKU from one warehouse (default warehouse first).

    Each attempt is ``UPDATE stock_levels SET available = available - :n, held = held + :n
    WHERE id = :id AND available >= :n``; the first warehouse that matches wins. Raises
    OutOfStock (409, ``available`` = the most one reservation could hold now) when none can,
    404 ``unknown-sku`` for a SKU that does not exist. ``hold_for=None``: never expires.
    """
    check_quantity(quantity)
    now = utcnow()
    expires_at = _expiry(hold_for, now)
    level_ids = await ordered_level_ids(session, sku_id)
    # Sold-out fast path: a plain read does not queue behind the hot row's lock holders, so
    # refusals cost almost nothing in a flash sale. Only a hint: the UPDATE is the guard.
    if level_ids and await _best_available(session, sku_id) < quantity:
        level_ids = []
    for level_id in level_ids:
        if await move(session, level_id, available=-quantity, held=quantity):
            reservation = Reservation(
                sku_id=sku_id,
                stock_level_id=level_id,
                quantity=quantity,
                status=HELD,
                reference=reference,
                expires_at=expires_at,
                created_at=now,
            )
            session.add(reservation)
            await session.flush()
            record(
                session,
                kind=MovementKind.RESERVE,
                sku_id=sku_id,
                level_id=level_id,
                quantity=quantity,
                reference=reference,
                reservation_id=reservation.id,
                available=-quantity,
                held=quantity,
            )
            await session.flush()
            return reservation
    available = await _best_available(session, sku_id)
    if available == 0 and not await ordered_level_ids(session, sku_id):
        await sku_shop_id(session, sku_id)  # 404 for a SKU that does not exist
    raise OutOfStock(
        _(
            "only %(available)s unit(s) of SKU %(sku_id)s can be reserved, %(quantity)s asked",
            available=available,
            sku_id=sku_id,
            quantity=quantity,
        ),
        available=available,
        sku_id=sku_id,
        requested=quantity,
    )


async def reserve_many(
    session: AsyncSession,
    lines: Sequence[tuple[int, int]],
    *,
    reference: str,
    hold_for: timedelta | None = DEFAULT_HOLD,
) -> list[Reservation]:
    """Reserve several ``(sku_id, quantity)`` lines; the result is in the order of ``lines``.

    SKUs are locked in ascending id order so two multi-line checkouts cannot deadlock on
    PostgreSQL. The first line that cannot be held raises OutOfStock: roll back the transaction.
    """
    order = sorted(range(len(lines)), key=lambda i: lines[i][0])
    made: dict[int, Reservation] = {}
    for i in order:
        sku_id, quantity = lines[i]
        made[i] = await reserve(
            session, sku_id=sku_id, quantity=quantity, reference=reference, hold_for=hold_for
        )
    return [made[i] for i in range(len(lines))]


@dataclass(frozen=True, slots=True)
class BatchReserved:
    """What ``reserve_batch`` did: each wanted hold's reservation id (None: refused, not
    enough units in any one warehouse), and the SKU's units left after the batch."""

    ids: list[int | None]
    available: int  # units left across the SKU's warehouses
    best: int  # the most one reservation could still hold (one warehouse per reservation)
    # The SKU's newest stock movement when the batch was decided (its rows locked): figures
    # with a higher version are newer, whichever node sent them.
    version: int = 0


async def reserve_batch(
    session: AsyncSession,
    sku_id: int,
    wanted: Sequence[tuple[int, str]],
    *,
    expires_at: datetime,
) -> BatchReserved:
    """Hold many ``(quantity, reference)`` of one SKU in a handful of statements, deciding
    them in the given (arrival) order, first come first served: each takes its units from
    the first warehouse that still has them (default warehouse first, as ``reserve``), or is
    refused. The SKU's stock-level rows are locked first (``FOR UPDATE``, ascending id: the
    lock order), so the plan made from them holds until the commit; each level then moves by
    one guarded UPDATE for its total, one multi-row INSERT adds the reservations and one
    their movements. Flushes nothing else; the caller commits."""
    for quantity, _reference in wanted:
        check_quantity(quantity)
    locked = (
        await session.execute(
            select(StockLevel.id, StockLevel.available)
            .where(StockLevel.sku_id == sku_id)
            .order_by(StockLevel.id)
            .with_for_update()
        )
    ).all()
    left = {int(level_id): int(available) for level_id, available in locked}
    order = [i for i in await ordered_level_ids(session, sku_id) if i in left]
    took: dict[int, int] = {}
    plan: list[int | None] = []
    for quantity, _reference in wanted:
        level = next((i for i in order if left[i] >= quantity), None)
        plan.append(level)
        if level is not None:
            left[level] -= quantity
            took[level] = took.get(level, 0) + quantity
    for level_id in sorted(took):
        await must_move(session, level_id, available=-took[level_id], held=took[level_id])
    granted = [
        (level, quantity, reference)
        for level, (quantity, reference) in zip(plan, wanted, strict=True)
        if level is not None
    ]
    ids: list[int] = []
    if granted:
        now = utcnow()
        table = table_of(Reservation)
        ids = list(
            (
                await session.execute(
                    insert(table).returning(table.c.id, sort_by_parameter_order=True),
                    [
                        {
                            "sku_id": sku_id,
                            "stock_level_id": level,
                            "parent_id": None,
                            "quantity": quantity,
                            "status": str(HELD),
                            "reference": reference,
                            "expires_at": expires_at,
                            "paying": False,
                            "created_at": now,
                            "resolved_at": None,
                        }
                        for level, quantity, reference in granted
                    ],
                )
            )
            .scalars()
            .all()
        )
        await record_all(
            session,
            [
                movement(
                    kind=MovementKind.RESERVE,
                    sku_id=sku_id,
                    level_id=level,
                    quantity=quantity,
                    reference=reference,
                    reservation_id=rid,
                    available=-quantity,
                    held=quantity,
                )
                | {"created_at": now}
                for rid, (level, quantity, reference) in zip(ids, granted, strict=True)
            ],
        )
    # Read under the rows' locks: every movement of this SKU committed before (by any node,
    # any path) has a lower id, every one after a higher (one sequence; index on sku, id).
    version = await session.scalar(
        select(func.max(StockMovement.id)).where(StockMovement.sku_id == sku_id)
    )
    made = iter(ids)
    return BatchReserved(
        ids=[next(made) if level is not None else None for level in plan],
        available=sum(left.values()),
        best=max(left.values(), default=0),
        version=int(version or 0),
    )


async def commit_reservation(session: AsyncSession, reservation_id: int) -> Reservation:
    """HELD -> COMMITTED: held -= n, sold += n. Idempotent when already committed.

    A reservation that already EXPIRED or was RELEASED (the buyer paid late) is committed if
    its units can be taken again atomically — a split's from its parent while that is still
    HELD (never from ordinary stock: a deal sells no more than it allocated), any other's from
    ``available`` — otherwise ReservationLost (409 ``reservation-expired``) and nothing changes.
    """
    return (await commit_reservations(session, [reservation_id]))[0]


async def commit_reservations(
    session: AsyncSession, reservation_ids: Sequence[int]
) -> list[Reservation]:
    """``commit_reservation`` for several reservations (one order's), in their order.

    The HELD ones move in one guarded status UPDATE, their movements are one multi-row
    INSERT, and each stock level then takes one guarded UPDATE (ascending id, last: the hot
    row's lock is held the shortest). The others (late payment, already committed) go one by
    one as in ``commit_reservation``.
    """
    if not reservation_ids:
        return []
    now = utcnow()
    done = {
        res.id: res
        for res in await transition(
            session, reservation_ids, from_statuses=[HELD], to=ReservationStatus.COMMITTED, now=now
        )
    }
    per_level: dict[int, int] = {}
    for res in done.values():
        per_level[res.stock_level_id] = per_level.get(res.stock_level_id, 0) + res.quantity
    await record_all(
        session,
        [
            movement(
                kind=MovementKind.COMMIT,
                sku_id=res.sku_id,
                level_id=res.stock_level_id,
                quantity=res.quantity,
                reference=res.reference,
                reservation_id=res.id,
                held=-res.quantity,
                sold=res.quantity,
            )
            for res in done.values()
        ],
    )
    for level_id in sorted(per_level):
        units = per_level[level_id]
        await must_move(session, level_id, held=-units, sold=units)
    out: list[Reservation] = []
    for reservation_id in reservation_ids:
        committed = done.get(reservation_id)
        if committed is None:
            committed = await get_reservation(session, reservation_id)
            if committed.status != ReservationStatus.COMMITTED:
                committed = await _late_commit(session, committed, now)
        out.append(committed)
    await session.flush()
    return out


async def _late_commit(session: AsyncSession, res: Reservation, now: datetime) -> Reservation:
    res_id, quantity, sku_id = res.id, res.quantity, res.sku_id
    level_id, parent_id, reference = res.stock_level_id, res.parent_id, res.reference
    async with session.begin_nested():  # ReservationLost rolls the claim back
        claimed = await transition(
            session,
            [res_id],
            from_statuses=[ReservationStatus.EXPIRED, ReservationStatus.RELEASED],
            to=ReservationStatus.COMMITTED,
            now=now,
        )
        if not claimed:
            # Someone else resolved it between our two statements; it can only be committed now.
            return await get_reservation(session, res_id)
        if parent_id is not None:
            # A split's units belong to its parent's allocation (a flash deal's): taken again
            # from it or not at all — from ordinary stock the deal would sell more than it held.
            if not await _take_from_parent(session, parent_id, quantity, now):
                raise ReservationLost(
                    _(
                        "the hold on %(quantity)s unit(s) ran out and they went to another buyer",
                        quantity=quantity,
                    ),
                    reservation_id=res_id,
                    sku_id=sku_id,
                )
            record(
                session,
                kind=MovementKind.SPLIT,
                sku_id=sku_id,
                level_id=level_id,
                quantity=quantity,
                reference=reference,
                reason="late payment: taken again from the parent reservation",
                reservation_id=res_id,
            )
            await must_move(session, level_id, held=-quantity, sold=quantity)
            record_for(session, claimed[0], MovementKind.COMMIT, held=-quantity, sold=quantity)
            await session.flush()
            return claimed[0]
        levels = await ordered_level_ids(session, sku_id)
        for candidate in sorted(levels, key=lambda lid: lid != level_id):
            if await move(session, candidate, available=-quantity, sold=quantity):
                if candidate != level_id:
                    await session.execute(
                        update(Reservation)
                        .where(Reservation.id == res_id)
                        .values(stock_level_id=candidate),
                        execution_options={"synchronize_session": False},
                    )
                for kind, avail, held, sold in (
                    (MovementKind.RESERVE, -quantity, quantity, 0),
                    (MovementKind.COMMIT, 0, -quantity, quantity),
                ):
                    record(
                        session,
                        kind=kind,
                        sku_id=sku_id,
                        level_id=candidate,
                        quantity=quantity,
                        reference=reference,
                        reason="late payment: units reserved again",
                        reservation_id=res_id,
                        available=avail,
                        held=held,
                        sold=sold,
                    )
                await session.flush()
                return await get_reservation(session, res_id)
        raise ReservationLost(
            _("the hold on %(quantity)s unit(s) ran out and the stock is gone", quantity=quantity),
            reservation_id=res_id,
            sku_id=sku_id,
        )


async def _take_from_parent(
    session: AsyncSession, parent_id: int, quantity: int, now: datetime
) -> bool:
    taken = await session.scalar(
        update(Reservation)
        .where(
            Reservation.id == parent_id,
            Reservation.status == HELD,
            Reservation.quantity >= quantity,
            _not_expired(now),
        )
        .values(quantity=Reservation.quantity - quantity)
        .returning(Reservation.id),
        execution_options={"synchronize_session": False},
    )
    return taken is not None


def record_for(
    session: AsyncSession,
    res: Reservation,
    kind: MovementKind,
    *,
    reason: str = "",
    available: int = 0,
    held: int = 0,
    sold: int = 0,
) -> None:
    record(
        session,
        kind=kind,
        sku_id=res.sku_id,
        level_id=res.stock_level_id,
        quantity=res.quantity,
        reference=res.reference,
        reason=reason,
        reservation_id=res.id,
        available=available,
        held=held,
        sold=sold,
    )


async def split_reservation(
    session: AsyncSession,
    reservation_id: int,
    *,
    quantity: int,
    reference: str,
    hold_for: timedelta | None = DEFAULT_HOLD,
) -> Reservation:
    """Move ``quantity`` units from a HELD, unexpired reservation into a new HELD child.

    ``UPDATE reservations SET quantity = quantity - :n WHERE id = :id AND status = 'held' AND
    quantity >= :n``: stock levels do not change (the units stay held). OutOfStock (409,
    ``available`` = what the parent still holds) when the parent cannot give them.
    """
    check_quantity(quantity)
    now = utcnow()
    expires_at = _expiry(hold_for, now)
    parent = (
        await session.scalars(
            update(Reservation)
            .where(
                Reservation.id == reservation_id,
                Reservation.status == HELD,
                Reservation.quantity >= quantity,
                _not_expired(now),
            )
            .values(quantity=Reservation.quantity - quantity)
            .returning(Reservation),
            execution_options={"populate_existing": True, "synchronize_session": False},
        )
    ).one_or_none()
    if parent is None:
        current = await get_reservation(session, reservation_id)
        usable = current.status == HELD and (current.expires_at is None or current.expires_at > now)
        left = current.quantity if usable else 0
        raise OutOfStock(
            _(
                "reservation %(reservation_id)s holds %(left)s unit(s), %(quantity)s asked",
                reservation_id=reservation_id,
                left=left,
                quantity=quantity,
            ),
            available=left,
            sku_id=current.sku_id,
            reservation_id=reservation_id,
        )
    child = Reservation(
        sku_id=parent.sku_id,
        stock_level_id=parent.stock_level_id,
        parent_id=parent.id,
        quantity=quantity,
        status=HELD,
        reference=reference,
        expires_at=expires_at,
        created_at=now,
    )
    session.add(child)
    await session.flush()
    record_for(session, child, MovementKind.SPLIT, reason=f"from {parent.reference}")
    await session.flush()
    return child


async def lock_reservation(session: AsyncSession, reservation_id: int) -> int:
    """Lock a reservation's row until the transaction ends (``FOR UPDATE``; SQLite's write
    lock is already held) and return the units it can give now: its quantity while HELD and
    unexpired, else 0."""
    now = utcnow()
    row = (
        await session.execute(
            select(Reservation.quantity, Reservation.status, Reservation.expires_at)
            .where(Reservation.id == reservation_id)
            .with_for_update()
        )
    ).one_or_none()
    if row is None:
        return 0
    quantity, status, expires_at = row
    if status != HELD or (expires_at is not None and expires_at <= now):
        return 0
    return int(quantity)


async def split_many(
    session: AsyncSession,
    reservation_id: int,
    children: Sequence[tuple[int, str, datetime]],
) -> list[int]:
    """Split many HELD children ``(quantity, reference, expires_at)`` off one HELD parent in
    three statements, whatever their number: one guarded UPDATE takes their total from the
    parent (``… WHERE quantity >= total``; all or none), one multi-row INSERT adds the
    children and one the SPLIT movements. Returns the children's ids in the given order;
    OutOfStock if the parent cannot give the total. Flushes nothing else; the caller commits.
    """
    if not children:
        return []
    for quantity, _reference, _expires in children:
        check_quantity(quantity)
    total = sum(q for q, _r, _e in children)
    now = utcnow()
    parent = (
        await session.execute(
            update(Reservation)
            .where(
                Reservation.id == reservation_id,
                Reservation.status == HELD,
                Reservation.quantity >= total,
                _not_expired(now),
            )
            .values(quantity=Reservation.quantity - total)
            .returning(Reservation.sku_id, Reservation.stock_level_id, Reservation.reference),
            execution_options={"synchronize_session": False},
        )
    ).one_or_none()
    if parent is None:
        raise OutOfStock(
            _(
                "reservation %(reservation_id)s cannot give %(total)s unit(s)",
                reservation_id=reservation_id,
                total=total,
            ),
            available=await lock_reservation(session, reservation_id),
            reservation_id=reservation_id,
        )
    sku_id, level_id, parent_reference = parent
    table = table_of(Reservation)
    ids = (
        (
            await session.execute(
                insert(table).returning(table.c.id, sort_by_parameter_order=True),
                [
                    {
                        "sku_id": sku_id,
                        "stock_level_id": level_id,
                        "parent_id": reservation_id,
                        "quantity": quantity,
                        "status": str(HELD),
                        "reference": reference,
                        "expires_at": expires_at,
                        "paying": False,
                        "created_at": now,
                        "resolved_at": None,
                    }
                    for quantity, reference, expires_at in children
                ],
            )
        )
        .scalars()
        .all()
    )
    await session.execute(
        insert(table_of(StockMovement)),
        [
            movement(
                kind=MovementKind.SPLIT,
                sku_id=sku_id,
                level_id=level_id,
                quantity=quantity,
                reference=reference,
                reason=f"from {parent_reference}",
                reservation_id=child_id,
            )
            | {"created_at": now}
            for child_id, (quantity, reference, _expires) in zip(ids, children, strict=True)
        ],
    )
    return list(ids)


async def held_children(session: AsyncSession, parent_id: int) -> int:
    """How many HELD reservations were split off ``parent_id`` and are not resolved yet."""
    count = await session.scalar(
        select(func.count())
        .select_from(Reservation)
        .where(Reservation.parent_id == parent_id, Reservation.status == HELD)
    )
    return int(count or 0)
