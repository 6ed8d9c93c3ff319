"""Claims after the tap: the buyer's view, giving a claim up, and claims that run out.

A claim that is not checked out within the deal's hold expires: its units go back into the
deal's hold (or, once the deal is over, back on sale) and back to the buyer's per-buyer
allowance, in one transaction per sweep. Each step is a guarded UPDATE on the claim's status
(``WHERE status = 'held'``), so a checkout, a give-up and the sweep racing for one claim
resolve it exactly once. The inventory's own sweeper may expire the claim's reservation first
(same ``expires_at``): the units then came back already, and only the claim's row and the
allowance are left to settle here.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from liveshop.core.clock import utcnow
from liveshop.core.errors import Conflict, NotFound
from liveshop.core.i18n import gettext as _
from liveshop.inventory import service as inventory
from liveshop.live.deals.models import (
    ClaimStatus,
    DealClaim,
    DealEntry,
    FlashDeal,
    FlashDealBuyer,
)


@dataclass(frozen=True, slots=True)
class Settled:
    claim_id: int
    deal_id: int
    buyer_id: int
    quantity: int


async def _settle(session: AsyncSession, settled: Sequence[Settled], why: str) -> None:
    """Give settled claims' units back (reservation released: into the deal's hold while it is
    held, else on sale) and their buyers' allowance."""
    reservations = await session.execute(
        select(DealClaim.id, DealClaim.reservation_id).where(
            DealClaim.id.in_([c.claim_id for c in settled])
        )
    )
    for _claim_id, reservation_id in sorted(reservations.all(), key=lambda r: r[1]):
        await inventory.release_reservation(session, reservation_id, reason=why)
    for c in settled:
        await session.execute(
            update(FlashDealBuyer)
            .where(
                FlashDealBuyer.deal_id == c.deal_id,
                FlashDealBuyer.buyer_id == c.buyer_id,
                FlashDealBuyer.units >= c.quantity,
            )
            .values(units=FlashDealBuyer.units - c.quantity)
            .execution_options(synchronize_session=False)
        )


async def expire_claims(
    session: AsyncSession, *, now: datetime | None = None, limit: int = 500
) -> list[Settled]:
    """Expire held claims whose hold ran out (commits); returns them."""
    now = now or utcnow()
    due = select(DealClaim.id).where(
        DealClaim.status == ClaimStatus.HELD, DealClaim.expires_at <= now
    )
    rows = (
        await session.execute(
            update(DealClaim)
            .where(DealClaim.id.in_(due.limit(limit).scalar_subquery()))
            .where(DealClaim.status == ClaimStatus.HELD)
            .values(status=ClaimStatus.EXPIRED)
            .returning(DealClaim.id, DealClaim.deal_id, DealClaim.buyer_id, DealClaim.quantity)
            .execution_options(synchronize_session=False)
        )
    ).all()
    settled = [Settled(*row) for row in rows]
    if settled:
        await _settle(session, settled, "claim not paid in time")
    await session.commit()
    return settled


async def get_claim(session: AsyncSession, claim_id: int, buyer_id: int) -> DealClaim:
    claim = await session.get(DealClaim, claim_id, populate_existing=True)
    if claim is None or claim.buyer_id != buyer_id:
        raise NotFound(
            _("claim %(claim_id)s does not exist", claim_id=claim_id), code="claim-not-found"
        )
    return claim


async def give_up(session: AsyncSession, claim_id: int, buyer_id: int) -> Settled:
    """The buyer lets their held claim go (commits): the units go to the next buyer."""
    claim = await get_claim(session, claim_id, buyer_id)
    done = await session.scalar(
        update(DealClaim)
        .where(DealClaim.id == claim_id, DealClaim.status == ClaimStatus.HELD)
        .values(status=ClaimStatus.RELEASED)
        .returning(DealClaim.id)
        .execution_options(synchronize_session=False)
    )
    if done is None:
        await session.rollback()
        raise Conflict(
            _("this claim is %(status)s: only a held claim can be given up", status=claim.status),
            code="claim-not-held",
            status_now=claim.status,
        )
    settled = Settled(claim.id, claim.deal_id, buyer_id, claim.quantity)
    await _settle(session, [settled], "claim given up by the buyer")
    await session.commit()
    return settled


@dataclass(frozen=True, slots=True)
class MyDrop:
    """A buyer's standing in one drop."""

    claims: Sequence[DealClaim]
    entry: DealEntry | None
    units: int  # counted against the per-buyer limit
    deal: FlashDeal


async def my_drop(session: AsyncSession, deal: FlashDeal, buyer_id: int) -> MyDrop:
    claims = (
        await session.scalars(
            select(DealClaim)
            .where(DealClaim.deal_id == deal.id, DealClaim.buyer_id == buyer_id)
            .order_by(DealClaim.id)
        )
    ).all()
    entry = await session.scalar(
        select(DealEntry).where(DealEntry.deal_id == deal.id, DealEntry.buyer_id == buyer_id)
    )
    units = await session.scalar(
        select(FlashDealBuyer.units).where(
            FlashDealBuyer.deal_id == deal.id, FlashDealBuyer.buyer_id == buyer_id
        )
    )
    return MyDrop(claims=claims, entry=entry, units=int(units or 0), deal=deal)
