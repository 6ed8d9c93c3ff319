"""Platform subsidy campaigns and seller-funded coupons, as checkout applies them.

Who pays shows in the ledger:

- a **subsidy** is platform money: the order line keeps its full price (the seller's net and
  the commissions do not change), ``OrderLine.subsidy_minor`` is what the platform pays
  instead of the buyer, and the sale posts it to ``platform_subsidy_expense``;
- a **coupon** is the seller's own discount: it lowers the line's price (gross), so the
  seller's net — and the commissions and tax computed from it — are lower. No one else pays;
- **free shipping** is platform money too: ``Order.shipping_subsidy_minor`` (up to the
  campaign's per-order cap) is the part of the order's shipping fee the platform pays instead
  of the buyer; the seller, who ships, still gets the whole fee net of its tax.

Budgets are never exceeded, even by concurrent checkouts: a claim is ONE conditional UPDATE
(``spent = spent + x WHERE spent + x <= budget``) inside the checkout transaction, so it is
rolled back with the checkout if anything later fails, and the database's own CHECK
(``spent <= budget``) backs it up. Coupon uses are guarded the same way.

Budget comes back when the subsidy does: an unpaid order that is cancelled returns its whole
claim, and a refund returns the share of the subsidy its ledger reversal takes back (pro rata
per unit, exactly the claim once the whole order is refunded); a session's GMV bonus reversed
because refunds took the session below the threshold returns its whole claim
(``creators.bonus_reversals``). ``SubsidyClaim.returned_minor``
records it; ``spent = Σ (amount − returned)`` over a campaign's claims.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import or_, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession

from liveshop.core.clock import utcnow
from liveshop.core.errors import Conflict, NotFound, Unprocessable
from liveshop.core.money import split_rate
from liveshop.creators.models import (
    CampaignKind,
    Coupon,
    CouponBuyerUse,
    CouponKind,
    CouponRedemption,
    SubsidyCampaign,
    SubsidyClaim,
)
from liveshop.creators.plans import check_rate, not_in_past
from liveshop.ledger.service import allocate

CHECKOUT_KINDS = (CampaignKind.LIVE_DISCOUNT_BP, CampaignKind.FIXED_DISCOUNT_MINOR)
SHIPPING_KINDS = (CampaignKind.FREE_SHIPPING,)


@dataclass(frozen=True, slots=True)
class Claimed:
    id: int  # campaign or coupon id
    amount_minor: int


# --- campaigns ------------------------------------------------------------------------------


async def create_campaign(
    session: AsyncSession,
    *,
    market_code: str,
    currency: str,
    kind: CampaignKind,
    value: int,
    budget_minor: int,
    per_order_cap_minor: int,
    valid_from: datetime | None = None,
    valid_until: datetime | None = None,
    gmv_threshold_minor: int = 0,
    name: str = "",
) -> SubsidyCampaign:
    """Validate and store a campaign. Commits."""
    now = utcnow()
    start = valid_from or now
    not_in_past(start, "valid_from", now)
    if valid_until is not None and valid_until <= start:
        raise Unprocessable("valid_until must be after valid_from", code="bad-validity")
    if kind is CampaignKind.LIVE_DISCOUNT_BP:
        check_rate(value, "value")
    for what, amount in (
        ("value", value),
        ("budget_minor", budget_minor),
        ("per_order_cap_minor", per_order_cap_minor),
        ("gmv_threshold_minor", gmv_threshold_minor),
    ):
        if amount < 0:
            raise Unprocessable(f"{what} must not be negative", code="bad-amount")
    campaign = SubsidyCampaign(
        market_code=market_code.upper(),
        currency=currency.upper(),
        kind=str(kind),
        value=value,
        budget_minor=budget_minor,
        per_order_cap_minor=per_order_cap_minor,
        spent_minor=0,
        valid_from=start,
        valid_until=valid_until,
        gmv_threshold_minor=gmv_threshold_minor,
        name=name,
    )
    session.add(campaign)
    await session.commit()
    return campaign


async def get_campaign(session: AsyncSession, campaign_id: int) -> SubsidyCampaign:
    campaign = await session.get(SubsidyCampaign, campaign_id)
    if campaign is None:
        raise NotFound(f"campaign {campaign_id} does not exist", code="campaign-not-found")
    return campaign


async def active_campaigns(
    session: AsyncSession,
    market_code: str,
    kinds: Sequence[CampaignKind],
    at: datetime,
    fresh: bool = False,
) -> list[SubsidyCampaign]:
    """``fresh``: reload rows already in the session (their ``spent_minor`` may be stale,
    since claims update it with ``synchronize_session=False``)."""
    query = select(SubsidyCampaign)
    if fresh:
        query = query.execution_options(populate_existing=True)
    rows = await session.scalars(
        query.where(
            SubsidyCampaign.market_code == market_code.upper(),
            SubsidyCampaign.kind.in_([str(k) for k in kinds]),
            SubsidyCampaign.valid_from <= at,
            or_(SubsidyCampaign.valid_until.is_(None), SubsidyCampaign.valid_until > at),
            SubsidyCampaign.spent_minor < SubsidyCampaign.budget_minor,
        ).order_by(SubsidyCampaign.id)
    )
    return list(rows.all())


async def claim_budget(session: AsyncSession, campaign_id: int, amount_minor: int) -> bool:
    """Take ``amount_minor`` of the campaign's budget, all or nothing. Flushes only.

    The WHERE is the guard: two concurrent claims cannot both fit into the last slice of
    budget (PostgreSQL re-checks the row after the first commits; SQLite runs writers one
    at a time).
    """
    if amount_minor <= 0:
        return False
    result = await session.execute(
        update(SubsidyCampaign)
        .where(
            SubsidyCampaign.id == campaign_id,
            SubsidyCampaign.spent_minor + amount_minor <= SubsidyCampaign.budget_minor,
        )
        .values(spent_minor=SubsidyCampaign.spent_minor + amount_minor)
        .execution_options(synchronize_session=False)
    )
    return getattr(result, "rowcount", 0) == 1


def checkout_subsidy(campaign: SubsidyCampaign, goods_minor: int, *, in_live: bool) -> int:
    """What this campaign would pay towards an order whose goods cost ``goods_minor``."""
    if goods_minor <= 0:
        return 0
    if campaign.kind == CampaignKind.LIVE_DISCOUNT_BP:
        if not in_live:
            return 0
        amount = split_rate(goods_minor, int(campaign.value))
    elif campaign.kind == CampaignKind.FIXED_DISCOUNT_MINOR:
        amount = int(campaign.value)
    else:
        return 0  # free shipping pays the shipping fee (below); bonuses are per session
    return max(0, min(amount, campaign.per_order_cap_minor, goods_minor))


def shipping_subsidy(campaign: SubsidyCampaign, shipping_minor: int) -> int:
    """What a free-shipping campaign pays of an order's shipping fee: all of it, up to the
    per-order cap (the buyer pays the rest)."""
    if campaign.kind != CampaignKind.FREE_SHIPPING or shipping_minor <= 0:
        return 0
    return max(0, min(shipping_minor, campaign.per_order_cap_minor))


async def _take_budget(
    session: AsyncSession, campaign: SubsidyCampaign, amount_minor: int, *, dry_run: bool
) -> bool:
    """Claim the amount (conditional UPDATE), or — for a price quote — only say whether the
    budget as it stands now would cover it (nothing is written)."""
    if dry_run:
        return campaign.spent_minor + amount_minor <= campaign.budget_minor
    return await claim_budget(session, campaign.id, amount_minor)


async def claim_checkout_subsidy(
    session: AsyncSession,
    *,
    market_code: str,
    goods_minor: int,
    in_live: bool,
    at: datetime,
    dry_run: bool = False,
) -> Claimed | None:
    """The first active campaign that still has the budget pays; at most one per order.
    ``dry_run`` (a quote) names the campaign that would pay now and takes nothing."""
    for campaign in await active_campaigns(session, market_code, CHECKOUT_KINDS, at, fresh=dry_run):
        amount = checkout_subsidy(campaign, goods_minor, in_live=in_live)
        if amount > 0 and await _take_budget(session, campaign, amount, dry_run=dry_run):
            return Claimed(campaign.id, amount)
    return None


async def claim_shipping_subsidy(
    session: AsyncSession,
    *,
    market_code: str,
    shipping_minor: int,
    at: datetime,
    dry_run: bool = False,
) -> Claimed | None:
    """The first active free-shipping campaign that still has the budget pays the order's
    shipping (up to its cap); the same all-or-nothing conditional UPDATE as the discounts, so
    concurrent checkouts never take more than the budget. At most one per order.
    ``dry_run`` as for :func:`claim_checkout_subsidy`."""
    if shipping_minor <= 0:
        return None
    for campaign in await active_campaigns(session, market_code, SHIPPING_KINDS, at, fresh=dry_run):
        amount = shipping_subsidy(campaign, shipping_minor)
        if amount > 0 and await _take_budget(session, campaign, amount, dry_run=dry_run):
            return Claimed(campaign.id, amount)
    return None


def spread(total: int, weights: Sequence[int]) -> list[int]:
    """``total`` split over lines in proportion to their prices (exact, largest remainder)."""
    if total == 0 or sum(weights) <= 0:
        return [0] * len(weights)
    return allocate(total, list(weights))


# --- coupons --------------------------------------------------------------------------------


async def create_coupon(
    session: AsyncSession,
    *,
    shop_id: int,
    market_code: str,
    kind: CouponKind,
    value: int,
    code: str | None = None,
    max_uses: int | None = None,
    per_buyer_limit: int = 1,
    valid_from: datetime | None = None,
    valid_until: datetime | None = None,
) -> Coupon:
    now = utcnow()
    start = valid_from or now
    not_in_past(start, "valid_from", now)
    if valid_until is not None and valid_until <= start:
        raise Unprocessable("valid_until must be after valid_from", code="bad-validity")
    if kind is CouponKind.PERCENT_BP:
        check_rate(value, "value")
    if value <= 0:
        raise Unprocessable("a coupon's value must be positive", code="bad-amount")
    if max_uses is not None and max_uses < 1:
        raise Unprocessable("max_uses must be at least 1", code="bad-amount")
    if per_buyer_limit < 1:
        raise Unprocessable("per_buyer_limit must be at least 1", code="bad-amount")
    clean = code.strip().upper() if code else None
    if clean is not None:
        taken = await session.scalar(
            select(Coupon.id).where(Coupon.shop_id == shop_id, Coupon.code == clean)
        )
        if taken is not None:
            raise Conflict(f"the shop already has a coupon {clean}", code="coupon-code-taken")
    coupon = Coupon(
        shop_id=shop_id,
        market_code=market_code.upper(),
        code=clean,
        kind=str(kind),
        value=value,
        max_uses=max_uses,
        used_count=0,
        per_buyer_limit=per_buyer_limit,
        valid_from=start,
        valid_until=valid_until,
    )
    session.add(coupon)
    await session.commit()
    return coupon


def coupon_discount(coupon: Coupon, goods_minor: int) -> int:
    if coupon.kind == CouponKind.PERCENT_BP:
        return min(goods_minor, split_rate(goods_minor, int(coupon.value)))
    return min(goods_minor, int(coupon.value))


async def find_coupon(
    session: AsyncSession, *, shop_id: int, market_code: str, code: str | None, at: datetime
) -> Coupon | None:
    """The coupon named by ``code`` (422 if it does not apply), else the shop's auto coupon."""
    base = select(Coupon).where(
        Coupon.shop_id == shop_id,
        Coupon.market_code == market_code.upper(),
        Coupon.valid_from <= at,
        or_(Coupon.valid_until.is_(None), Coupon.valid_until > at),
    )
    if code:
        found = await session.scalar(base.where(Coupon.code == code.strip().upper()))
        if found is None:
            raise Unprocessable(
                "this coupon code does not exist or does not apply here", code="unknown-coupon"
            )
        return found
    rows = await session.scalars(base.where(Coupon.code.is_(None)).order_by(Coupon.id))
    return rows.first()


async def coupon_usable(session: AsyncSession, coupon: Coupon, buyer_id: int | None) -> bool:
    """Whether :func:`claim_coupon` would succeed now, read-only (for a price quote): the
    overall limit, and the buyer's own when the buyer is known."""
    used = await session.scalar(select(Coupon.used_count).where(Coupon.id == coupon.id))
    if coupon.max_uses is not None and (used or 0) >= coupon.max_uses:
        return False
    if buyer_id is None:
        return True
    mine = await session.scalar(
        select(CouponBuyerUse.uses).where(
            CouponBuyerUse.coupon_id == coupon.id, CouponBuyerUse.buyer_id == buyer_id
        )
    )
    return (mine or 0) < coupon.per_buyer_limit


async def claim_coupon(session: AsyncSession, coupon: Coupon, buyer_id: int) -> bool:
    """One use of the coupon by this buyer, if both limits allow it. Flushes only."""
    ins: Any = (
        postgresql.insert(CouponBuyerUse)
        if session.get_bind().dialect.name == "postgresql"
        else sqlite.insert(CouponBuyerUse)
    )
    await session.execute(
        ins.values(coupon_id=coupon.id, buyer_id=buyer_id, uses=0).on_conflict_do_nothing(
            index_elements=["coupon_id", "buyer_id"]
        )
    )
    mine = await session.execute(
        update(CouponBuyerUse)
        .where(
            CouponBuyerUse.coupon_id == coupon.id,
            CouponBuyerUse.buyer_id == buyer_id,
            CouponBuyerUse.uses < coupon.per_buyer_limit,
        )
        .values(uses=CouponBuyerUse.uses + 1)
        .execution_options(synchronize_session=False)
    )
    if getattr(mine, "rowcount", 0) != 1:
        return False
    overall = update(Coupon).where(Coupon.id == coupon.id)
    if coupon.max_uses is not None:
        overall = overall.where(Coupon.used_count < Coupon.max_uses)
    total = await session.execute(
        overall.values(used_count=Coupon.used_count + 1).execution_options(
            synchronize_session=False
        )
    )
    return getattr(total, "rowcount", 0) == 1


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
