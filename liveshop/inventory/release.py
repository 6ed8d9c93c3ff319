"""Giving held units back: cancellations (release) and expiries (the sweeper, lazy reads).

A reservation leaves HELD through one conditional status UPDATE, so however many releases,
payments and sweepers race for it, its units come back exactly once: into its parent if that
is still HELD (a flash deal can sell them again), otherwise into ``available``.

A hold whose units a payment is paying for (``paying``) never expires: the charge may still
succeed, so the units must not be sold again until the payment is resolved. ``keep_for_payment``
and ``end_payment`` flip the flag with guarded UPDATEs, and the expiry's own UPDATE is guarded on
``NOT paying``; on PostgreSQL the two meet on the reservation's row lock (the loser's WHERE is
re-checked), on SQLite on the write lock — so a hold is either kept or expired, never both.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Collection, Sequence
from datetime import datetime

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from liveshop.core.clock import utcnow
from liveshop.inventory.levels import must_move
from liveshop.inventory.models import MovementKind, Reservation, ReservationStatus
from liveshop.inventory.reservations import HELD, get_reservation, record_for, transition


async def _return_to_parent(session: AsyncSession, parent_id: int, quantity: int) -> bool:
    back = await session.scalar(
        update(Reservation)
        .where(Reservation.id == parent_id, Reservation.status == HELD)
        .values(quantity=Reservation.quantity + quantity)
        .returning(Reservation.id),
        execution_options={"synchronize_session": False},
    )
    return back is not None


async def _give_back(
    session: AsyncSession, resolved: Sequence[Reservation], kind: MovementKind, reason: str
) -> None:
    """Return the units of reservations that just left HELD: to a HELD parent, else available.

    Parents are locked first (ascending id), then stock levels (ascending id), one UPDATE per
    level — the lock order that keeps the sweeper and a deal ending at once deadlock-free.
    """
    per_level: dict[int, int] = defaultdict(int)
    for res in sorted(resolved, key=lambda r: (r.parent_id or 0, r.id)):
        if res.parent_id is not None and await _return_to_parent(
            session, res.parent_id, res.quantity
        ):
            record_for(session, res, kind, reason=f"{reason}; back to reservation {res.parent_id}")
            continue
        per_level[res.stock_level_id] += res.quantity
        record_for(session, res, kind, reason=reason, available=res.quantity, held=-res.quantity)
    for level_id in sorted(per_level):
        units = per_level[level_id]
        if units:
            await must_move(session, level_id, available=units, held=-units)
    await session.flush()


async def keep_for_payment(session: AsyncSession, reservation_ids: Collection[int]) -> int:
    """Mark HELD reservations as being paid for (they stop expiring); returns how many.

    A reservation that already left HELD is not touched: the payment then takes its units
    again when it completes, or gives the money back (``commit_reservation``).
    """
    if not reservation_ids:
        return 0
    kept = await session.execute(
        update(Reservation)
        .where(Reservation.id.in_(list(reservation_ids)), Reservation.status == HELD)
        .values(paying=True),
        execution_options={"synchronize_session": False},
    )
    return int(getattr(kept, "rowcount", 0) or 0)


async def end_payment(session: AsyncSession, reservation_ids: Collection[int]) -> None:
    """The payment is over without taking the units: the hold expires by its ``expires_at``
    again (at once if that has passed — the sweeper or the next stock read releases it)."""
    if reservation_ids:
        await session.execute(
            update(Reservation)
            .where(Reservation.id.in_(list(reservation_ids)), Reservation.paying.is_(True))
            .values(paying=False),
            execution_options={"synchronize_session": False},
        )


async def release_reservation(
    session: AsyncSession, reservation_id: int, *, reason: str = "cancelled"
) -> bool:
    """HELD -> RELEASED, units back (to a HELD parent, else available). False if not HELD.

    The status UPDATE comes first and is conditional, so two concurrent releases can never
    both give the units back. 404 for an unknown reservation.
    """
    done = await transition(
        session, [reservation_id], from_statuses=[HELD], to=ReservationStatus.RELEASED, now=utcnow()
    )
    if not done:
        await get_reservation(session, reservation_id)
        return False
    await _give_back(session, done, MovementKind.RELEASE, reason)
    return True


async def release_expired(
    session: AsyncSession,
    *,
    now: datetime | None = None,
    sku_id: int | None = None,
    limit: int = 500,
) -> int:
    """Expire HELD reservations whose ``expires_at`` has passed; return how many.

    Each one exactly once: the status UPDATE is conditional on ``status = 'held'``. On
    PostgreSQL the candidates are picked ``FOR UPDATE SKIP LOCKED``, so a reservation that a
    payment is committing right now is left alone instead of waited for.
    """
    return await expire_due(
        session, now=now, sku_ids=None if sku_id is None else [sku_id], limit=limit
    )


async def expire_due(
    session: AsyncSession,
    *,
    now: datetime | None = None,
    sku_ids: Collection[int] | None = None,
    limit: int = 500,
) -> int:
    """``release_expired`` for any set of SKUs (None: all). Holds being paid for are kept."""
    now = now or utcnow()
    due = (
        select(Reservation.id)
        .where(
            Reservation.status == HELD,
            Reservation.expires_at.is_not(None),
            Reservation.expires_at <= now,
            Reservation.paying.is_(False),
        )
        .order_by(Reservation.id)
        .limit(limit)
        .with_for_update(skip_locked=True)
    )
    if sku_ids is not None:
        due = due.where(Reservation.sku_id.in_(list(sku_ids)))
    ids = list((await session.scalars(due)).all())
    if not ids:
        return 0
    expired = await transition(
        session,
        ids,
        from_statuses=[HELD],
        to=ReservationStatus.EXPIRED,
        now=now,
        extra=[Reservation.expires_at <= now, Reservation.paying.is_(False)],
    )
    await _give_back(session, expired, MovementKind.EXPIRE, "hold expired")
    return len(expired)
