"""Platform subsidy campaigns: their budgets and what a checkout (or a session) claims of them.

Budgets are never exceeded, even by concurrent checkouts: a claim is ONE conditional UPDATE
(``spent = spent + x WHERE spent + x <= budget``) inside the checkout transaction, so it is
rolled back with the checkout if anything later fails, and the database's own CHECK
(``spent <= budget``) backs it up. Giving budget back is ``claims``' business.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from liveshop.affiliates.plans import check_rate, not_in_past
from liveshop.audit import log as audit
from liveshop.core.clock import utcnow
from liveshop.core.errors import NotFound, Unprocessable
from liveshop.core.i18n import gettext as _
from liveshop.core.money import split_rate
from liveshop.ledger.service import allocate
from liveshop.promotions.models import CampaignKind, SubsidyCampaign

CHECKOUT_KINDS = (CampaignKind.LIVE_DISCOUNT_BP, CampaignKind.FIXED_DISCOUNT_MINOR)
SHIPPING_KINDS = (CampaignKind.FREE_SHIPPING,)


@dataclass(frozen=True, slots=True)
class Claimed:
    id: int  # campaign or coupon id
    amount_minor: int


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
        raise Unprocessable(_("valid_until must be after valid_from"), code="bad-validity")
    if kind is CampaignKind.LIVE_DISCOUNT_BP:
        check_rate(value, "value")
    for what, amount in (
        ("value", value),
        ("budget_minor", budget_minor),
        ("per_order_cap_minor", per_order_cap_minor),
        ("gmv_threshold_minor", gmv_threshold_minor),
    ):
        if amount < 0:
            raise Unprocessable(_("%(what)s must not be negative", what=what), code="bad-amount")
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
        raise NotFound(
            _("campaign %(campaign_id)s does not exist", campaign_id=campaign_id),
            code="campaign-not-found",
        )
    return campaign


async def list_campaigns(
    session: AsyncSession, *, market_code: str | None = None
) -> list[SubsidyCampaign]:
    """Every campaign (of one market), newest first, with fresh ``spent_minor``."""
    query = select(SubsidyCampaign).execution_options(populate_existing=True)
    if market_code is not None:
        query = query.where(SubsidyCampaign.market_code == market_code.upper())
    return list((await session.scalars(query.order_by(SubsidyCampaign.id.desc()))).all())


async def set_paused(
    session: AsyncSession, campaign_id: int, *, paused: bool, actor_id: int
) -> SubsidyCampaign:
    """Pause (no new order or session takes from the budget) or resume; audit-logged.
    Commits. Claims already taken stay (a refund still gives its share back)."""
    campaign = await get_campaign(session, campaign_id)
    was = campaign.paused_at is not None
    if was != paused:
        await session.execute(
            update(SubsidyCampaign)
            .where(SubsidyCampaign.id == campaign_id)
            .values(paused_at=utcnow() if paused else None)
            .execution_options(synchronize_session=False)
        )
        audit.record(
            session,
            actor_id=actor_id,
            action=audit.Action.CAMPAIGN_PAUSED,
            target_type="subsidy_campaign",
            target_id=campaign_id,
            before={"paused": was},
            after={"paused": paused},
        )
    await session.commit()
    await session.refresh(campaign)
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
            SubsidyCampaign.paused_at.is_(None),
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
            SubsidyCampaign.paused_at.is_(None),  # a pause that committed meanwhile wins
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
