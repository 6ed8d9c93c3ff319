"""What an order (or a session's bonus) took of the promotions, and giving budget back.

Budget comes back when the subsidy does: an unpaid order that is cancelled returns its whole
claim, and a refund returns the share of the subsidy its ledger reversal takes back (pro rata
per unit, exactly the claim once the whole order is refunded); a session's GMV bonus reversed
because refunds took the session below the threshold returns its whole claim
(``creators.bonus_reversals``). ``SubsidyClaim.returned_minor`` records it;
``spent = Σ (amount − returned)`` over a campaign's claims.
"""

from __future__ import annotations

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from liveshop.promotions.campaigns import SHIPPING_KINDS, Claimed
from liveshop.promotions.models import CouponRedemption, SubsidyCampaign, SubsidyClaim


def record_claims(
    session: AsyncSession,
    *,
    order_id: int,
    buyer_id: int,
    subsidy: Claimed | None,
    coupon: Claimed | None,
    shipping: Claimed | None = None,
) -> None:
    """The audit rows of what this order took (added to the checkout's transaction)."""
    for claimed in (subsidy, shipping):
        if claimed is not None:
            session.add(
                SubsidyClaim(
                    campaign_id=claimed.id, order_id=order_id, amount_minor=claimed.amount_minor
                )
            )
    if coupon is not None:
        session.add(
            CouponRedemption(
                coupon_id=coupon.id,
                buyer_id=buyer_id,
                order_id=order_id,
                amount_minor=coupon.amount_minor,
            )
        )


def record_bonus_claim(
    session: AsyncSession, campaign_id: int, live_session_id: int, amount_minor: int
) -> None:
    """The audit row of a session bonus (unique per campaign and session: paid once)."""
    session.add(
        SubsidyClaim(
            campaign_id=campaign_id, live_session_id=live_session_id, amount_minor=amount_minor
        )
    )


async def release_order_claims(session: AsyncSession, order_id: int) -> int:
    """Give an unpaid, cancelled order's subsidy back to its campaign. Flushes only.

    Idempotent: the claim row is marked wholly returned (``returned_minor = amount_minor``)
    in the same conditional step that gives the budget back. Returns the amount released.
    """
    claims = (
        await session.scalars(
            select(SubsidyClaim)
            .where(
                SubsidyClaim.order_id == order_id,
                SubsidyClaim.returned_minor < SubsidyClaim.amount_minor,
            )
            .execution_options(populate_existing=True)
        )
    ).all()
    released = 0
    for claim in claims:
        seen, left = claim.returned_minor, claim.amount_minor - claim.returned_minor
        took = await session.execute(
            update(SubsidyClaim)
            .where(SubsidyClaim.id == claim.id, SubsidyClaim.returned_minor == seen)
            .values(returned_minor=SubsidyClaim.amount_minor)
            .execution_options(synchronize_session=False)
        )
        if getattr(took, "rowcount", 0) == 1:
            await _give_back(session, claim.campaign_id, left)
            released += left
    return released


async def return_refunded_subsidy(
    session: AsyncSession, order_id: int, *, goods_minor: int, shipping_minor: int
) -> bool:
    """A refund of a paid order reversed ``goods_minor`` of its platform discount and
    ``shipping_minor`` of its free-shipping subsidy (the amounts its ledger reversal credits
    back to ``platform_subsidy_expense``): give them back to the campaigns that paid them, so
    the budget funds other orders. Flushes only.

    The refund computes the amounts by cumulative floors, so the refunds of a whole order
    return exactly what it claimed; the conditional UPDATE (``returned + x <= amount``, backed
    by a CHECK) makes sure a claim never gives back more than it took. False (nothing
    returned: the caller rolls back) if that guard fails — a refund that raced another.
    """
    if goods_minor <= 0 and shipping_minor <= 0:
        return True
    rows = await session.execute(
        select(SubsidyClaim.id, SubsidyClaim.campaign_id, SubsidyCampaign.kind)
        .join(SubsidyCampaign, SubsidyCampaign.id == SubsidyClaim.campaign_id)
        .where(SubsidyClaim.order_id == order_id)
        .order_by(SubsidyClaim.id)
    )
    owed = {"goods": goods_minor, "shipping": shipping_minor}
    for claim_id, campaign_id, kind in rows.all():
        which = "shipping" if kind in SHIPPING_KINDS else "goods"
        amount = owed[which]
        if amount <= 0:
            continue
        took = await session.execute(
            update(SubsidyClaim)
            .where(
                SubsidyClaim.id == claim_id,
                SubsidyClaim.returned_minor + amount <= SubsidyClaim.amount_minor,
            )
            .values(returned_minor=SubsidyClaim.returned_minor + amount)
            .execution_options(synchronize_session=False)
        )
        if getattr(took, "rowcount", 0) != 1:
            return False
        await _give_back(session, int(campaign_id), amount)
        owed[which] = 0
    return True


async def return_bonus_claim(session: AsyncSession, campaign_id: int, live_session_id: int) -> int:
    """A session's GMV bonus was reversed (refunds took its GMV below the threshold): give the
    whole claim back to the campaign's budget, once. Flushes only; returns the amount given
    back (0 if it was already returned, or there is no claim)."""
    claim = await session.scalar(
        select(SubsidyClaim)
        .where(
            SubsidyClaim.campaign_id == campaign_id,
            SubsidyClaim.live_session_id == live_session_id,
        )
        .execution_options(populate_existing=True)
    )
    if claim is None or claim.returned_minor >= claim.amount_minor:
        return 0
    seen, left = claim.returned_minor, claim.amount_minor - claim.returned_minor
    took = await session.execute(
        update(SubsidyClaim)
        .where(SubsidyClaim.id == claim.id, SubsidyClaim.returned_minor == seen)
        .values(returned_minor=SubsidyClaim.amount_minor)
        .execution_options(synchronize_session=False)
    )
    if getattr(took, "rowcount", 0) != 1:
        return 0
    await _give_back(session, campaign_id, left)
    return left


async def _give_back(session: AsyncSession, campaign_id: int, amount_minor: int) -> None:
    await session.execute(
        update(SubsidyCampaign)
        .where(SubsidyCampaign.id == campaign_id)
        .values(spent_minor=SubsidyCampaign.spent_minor - amount_minor)
        .execution_options(synchronize_session=False)
    )
