"""Affiliate plans: which commission a shop pays a creator on which product, and when.

Invariants:

- A rate is 0..10000 basis points (checked here with a clear 422, and by the database).
- A plan never starts in the past: the rate in force when an order was placed is frozen on
  the order line and a later plan can only change future sales.
- A creator never has two overlapping targeted plans of one shop covering the same product
  (or category): which rate applies must never be ambiguous (409 ``overlapping-plan``).

Which rate applies to a sale is ``rates``' business.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from liveshop.accounts.models import Role
from liveshop.accounts.service import Principal, get_user
from liveshop.affiliates.models import (
    AffiliatePlan,
    AffiliatePlanCreator,
    AffiliatePlanItem,
    PlanKind,
)
from liveshop.catalog.products import get_product
from liveshop.catalog.service import ensure_staff_of
from liveshop.core.clock import utcnow
from liveshop.core.errors import Conflict, NotFound, Unprocessable
from liveshop.core.i18n import gettext as _

MAX_RATE_BP = 10_000
MAX_ITEMS = 200
PAST_SLACK = timedelta(minutes=5)  # "now" from a slightly slow clock is not "in the past"


@dataclass(frozen=True, slots=True)
class PlanItemSpec:
    rate_bp: int
    product_id: int | None = None
    category: str | None = None


def check_rate(rate_bp: int, what: str = "rate_bp") -> None:
    if isinstance(rate_bp, bool) or not isinstance(rate_bp, int):
        raise Unprocessable(
            _("%(what)s must be a whole number of basis points", what=what), code="bad-rate"
        )
    if not 0 <= rate_bp <= MAX_RATE_BP:
        raise Unprocessable(
            _(
                "%(what)s must be between 0 and %(max_rate_bp)s basis points (0-100 %%)",
                what=what,
                max_rate_bp=MAX_RATE_BP,
            ),
            code="bad-rate",
            rate_bp=rate_bp,
        )


def not_in_past(when: datetime, what: str, now: datetime | None = None) -> None:
    if when < (now or utcnow()) - PAST_SLACK:
        raise Unprocessable(
            _(
                "%(what)s is in the past: terms apply only from now on, never to past earnings",
                what=what,
            ),
            code="effective-date-in-past",
        )


def _windows_overlap(
    a_from: datetime, a_until: datetime | None, b_from: datetime, b_until: datetime | None
) -> bool:
    return (b_until is None or a_from < b_until) and (a_until is None or b_from < a_until)


async def _check_items(session: AsyncSession, shop_id: int, items: Sequence[PlanItemSpec]) -> None:
    if not items:
        raise Unprocessable(_("a plan needs at least one product or category"), code="empty-plan")
    if len(items) > MAX_ITEMS:
        raise Unprocessable(
            _("at most %(max_items)s items per plan", max_items=MAX_ITEMS), code="too-many-items"
        )
    seen: set[tuple[int | None, str | None]] = set()
    for item in items:
        check_rate(item.rate_bp)
        if (item.product_id is None) == (item.category is None or not item.category.strip()):
            raise Unprocessable(
                _("each plan item names a product_id or a category (not both)"),
                code="bad-plan-item",
            )
        key = (item.product_id, item.category)
        if key in seen:
            raise Unprocessable(_("each product or category may appear once"), code="bad-plan-item")
        seen.add(key)
        if item.product_id is not None:
            try:
                product = await get_product(session, item.product_id)
            except NotFound as exc:
                raise Unprocessable(
                    _("product %(product_id)s does not exist", product_id=item.product_id),
                    code="unknown-product",
                    product_id=item.product_id,
                ) from exc
            if product.shop_id != shop_id:
                raise Unprocessable(
                    _("product %(product_id)s is not this shop's", product_id=item.product_id),
                    code="not-shop-product",
                    product_id=item.product_id,
                )


async def _check_creators(session: AsyncSession, creator_ids: Sequence[int]) -> None:
    for creator_id in creator_ids:
        try:
            user = await get_user(session, creator_id)
        except NotFound as exc:
            raise Unprocessable(
                _("user %(creator_id)s does not exist", creator_id=creator_id),
                code="unknown-creator",
                creator_id=creator_id,
            ) from exc
        if Role.CREATOR not in user.role_names:
            raise Unprocessable(
                _("user %(creator_id)s is not a creator", creator_id=creator_id),
                code="unknown-creator",
                creator_id=creator_id,
            )


async def _check_overlap(
    session: AsyncSession,
    *,
    shop_id: int,
    creator_ids: Sequence[int],
    items: Sequence[PlanItemSpec],
    valid_from: datetime,
    valid_until: datetime | None,
    ignore: int | None = None,
) -> None:
    rows = await session.scalars(
        select(AffiliatePlan)
        .join(AffiliatePlanCreator, AffiliatePlanCreator.plan_id == AffiliatePlan.id)
        .where(
            AffiliatePlan.shop_id == shop_id,
            AffiliatePlan.kind == PlanKind.TARGETED,
            AffiliatePlanCreator.creator_id.in_(list(creator_ids)),
        )
        .distinct()
    )
    products = {i.product_id for i in items if i.product_id is not None}
    categories = {i.category for i in items if i.category is not None}
    for plan in rows.all():
        if plan.id == ignore:
            continue
        if not _windows_overlap(valid_from, valid_until, plan.valid_from, plan.valid_until):
            continue
        shared = [i for i in plan.items if i.product_id in products or (i.category in categories)]
        if shared:
            both = sorted({c.creator_id for c in plan.creators} & set(creator_ids))
            raise Conflict(
                _(
                    "targeted plan %(id)s already covers these products for creator(s) %(both)s in an overlapping period",  # noqa: E501
                    id=plan.id,
                    both=both,
                ),
                code="overlapping-plan",
                plan_id=plan.id,
                creator_ids=both,
            )


async def create_plan(
    session: AsyncSession,
    *,
    shop_id: int,
    kind: PlanKind,
    items: Sequence[PlanItemSpec],
    creator_ids: Sequence[int] = (),
    valid_from: datetime | None = None,
    valid_until: datetime | None = None,
    name: str = "",
    created_by: int | None = None,
) -> AffiliatePlan:
    """Validate and store a plan. Commits."""
    plan = await _new_plan(
        session,
        shop_id=shop_id,
        kind=kind,
        items=items,
        creator_ids=creator_ids,
        valid_from=valid_from,
        valid_until=valid_until,
        name=name,
        created_by=created_by,
    )
    await session.commit()
    return plan


async def _new_plan(
    session: AsyncSession,
    *,
    shop_id: int,
    kind: PlanKind,
    items: Sequence[PlanItemSpec],
    creator_ids: Sequence[int] = (),
    valid_from: datetime | None = None,
    valid_until: datetime | None = None,
    name: str = "",
    created_by: int | None = None,
    replacing: int | None = None,
) -> AffiliatePlan:
    now = utcnow()
    start = valid_from or now
    not_in_past(start, "valid_from", now)
    if valid_until is not None and valid_until <= start:
        raise Unprocessable(_("valid_until must be after valid_from"), code="bad-validity")
    creators = list(dict.fromkeys(creator_ids))
    if kind is PlanKind.TARGETED and not creators:
        raise Unprocessable(_("a targeted plan names its creators"), code="targeted-needs-creators")
    if kind is PlanKind.OPEN and creators:
        raise Unprocessable(_("an open plan is for every creator"), code="open-plan-with-creators")
    await _check_items(session, shop_id, items)
    await _check_creators(session, creators)
    if kind is PlanKind.TARGETED:
        await _check_overlap(
            session,
            shop_id=shop_id,
            creator_ids=creators,
            items=items,
            valid_from=start,
            valid_until=valid_until,
            ignore=replacing,
        )
    plan = AffiliatePlan(
        shop_id=shop_id,
        kind=str(kind),
        name=name,
        valid_from=start,
        valid_until=valid_until,
        created_by=created_by,
        items=[
            AffiliatePlanItem(
                product_id=i.product_id,
                category=i.category.strip() if i.category else None,
                rate_bp=i.rate_bp,
            )
            for i in items
        ],
        creators=[AffiliatePlanCreator(creator_id=c) for c in creators],
    )
    session.add(plan)
    await session.flush()
    return plan


async def revise_plan(
    session: AsyncSession,
    plan: AffiliatePlan,
    *,
    items: Sequence[PlanItemSpec],
    creator_ids: Sequence[int] = (),
    valid_until: datetime | None = None,
    name: str | None = None,
    created_by: int | None = None,
) -> AffiliatePlan:
    """Change a plan's rates, creators or end from now on: the plan ends now and a new one of
    the same kind starts now with the new terms, in one transaction. Orders already placed
    keep the rate frozen on them; the old plan stays readable as history. Commits."""
    now = utcnow()
    if plan.valid_until is not None and plan.valid_until <= now:
        raise Conflict(_("this plan has ended; create a new one"), code="plan-ended")
    start = max(now, plan.valid_from)
    new = await _new_plan(
        session,
        shop_id=plan.shop_id,
        kind=PlanKind(plan.kind),
        items=items,
        creator_ids=creator_ids,
        valid_from=start,
        valid_until=valid_until,
        name=plan.name if name is None else name,
        created_by=created_by,
        replacing=plan.id,
    )
    if plan.valid_from > now:  # never started: nothing was sold under it
        plan.valid_until = plan.valid_from
    else:
        plan.valid_until = now
    await session.commit()
    return new


def is_current(plan: AffiliatePlan, at: datetime) -> bool:
    return plan.valid_from <= at and (plan.valid_until is None or plan.valid_until > at)


async def plans_open_to(
    session: AsyncSession, creator_id: int, at: datetime | None = None
) -> list[AffiliatePlan]:
    """Plans a creator may sell under now: every open one, and the targeted ones naming them
    (newest first)."""
    when = at or utcnow()
    named = select(AffiliatePlanCreator.plan_id).where(
        AffiliatePlanCreator.creator_id == creator_id
    )
    rows = await session.scalars(
        select(AffiliatePlan)
        .where(
            AffiliatePlan.valid_from <= when,
            or_(AffiliatePlan.valid_until.is_(None), AffiliatePlan.valid_until > when),
            or_(AffiliatePlan.kind == PlanKind.OPEN, AffiliatePlan.id.in_(named)),
        )
        .order_by(AffiliatePlan.id.desc())
        .limit(200)
    )
    return list(rows.all())


async def get_plan(session: AsyncSession, plan_id: int) -> AffiliatePlan:
    plan = await session.get(AffiliatePlan, plan_id)
    if plan is None:
        raise NotFound(_("plan %(plan_id)s does not exist", plan_id=plan_id), code="plan-not-found")
    return plan


async def plan_for_staff(
    session: AsyncSession, principal: Principal, plan_id: int
) -> AffiliatePlan:
    """The plan, if the caller is staff of its shop (or admin): 404 unknown, 403 not staff."""
    return await ensure_staff_of(session, principal, await get_plan(session, plan_id))


async def end_plan(session: AsyncSession, plan: AffiliatePlan, at: datetime | None = None) -> None:
    """Stop a plan from ``at`` (default now) on; sales already made keep their rate."""
    now = utcnow()
    when = at or now
    not_in_past(when, "the end date", now)
    if plan.valid_until is not None and plan.valid_until <= when:
        return
    plan.valid_until = max(when, plan.valid_from)
    await session.commit()


async def list_plans(session: AsyncSession, shop_id: int) -> list[AffiliatePlan]:
    rows = await session.scalars(
        select(AffiliatePlan).where(AffiliatePlan.shop_id == shop_id).order_by(AffiliatePlan.id)
    )
    return list(rows.all())
