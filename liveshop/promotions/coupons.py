"""Seller-funded coupons: the shop's own discount, lowering the price the seller is paid on.

A coupon named by its code applies or is refused (422/409); a shop's auto-applied coupon
(no code) simply stops applying once used up. Uses are guarded like budgets: the per-buyer
and the overall limits are each one conditional UPDATE inside the checkout's transaction,
backed by the database's CHECK (``used_count <= max_uses``).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import or_, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession

from liveshop.accounts.service import Principal
from liveshop.affiliates.plans import check_rate, not_in_past
from liveshop.audit import log as audit
from liveshop.catalog.service import ensure_staff_of
from liveshop.core.clock import utcnow
from liveshop.core.errors import Conflict, NotFound, Unprocessable
from liveshop.core.i18n import gettext as _
from liveshop.core.money import split_rate
from liveshop.promotions.models import Coupon, CouponBuyerUse, CouponKind, CouponRedemption


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
        raise Unprocessable(_("valid_until must be after valid_from"), code="bad-validity")
    if kind is CouponKind.PERCENT_BP:
        check_rate(value, "value")
    if value <= 0:
        raise Unprocessable(_("a coupon's value must be positive"), code="bad-amount")
    if max_uses is not None and max_uses < 1:
        raise Unprocessable(_("max_uses must be at least 1"), code="bad-amount")
    if per_buyer_limit < 1:
        raise Unprocessable(_("per_buyer_limit must be at least 1"), code="bad-amount")
    clean = code.strip().upper() if code else None
    if clean is not None:
        taken = await session.scalar(
            select(Coupon.id).where(Coupon.shop_id == shop_id, Coupon.code == clean)
        )
        if taken is not None:
            raise Conflict(
                _("the shop already has a coupon %(clean)s", clean=clean), code="coupon-code-taken"
            )
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


async def coupon_for_staff(session: AsyncSession, principal: Principal, coupon_id: int) -> Coupon:
    """The coupon, if the caller is staff of its shop (or admin): 404 unknown, 403 not staff."""
    return await ensure_staff_of(session, principal, await get_coupon(session, coupon_id))


async def get_coupon(session: AsyncSession, coupon_id: int) -> Coupon:
    coupon = await session.get(Coupon, coupon_id, populate_existing=True)
    if coupon is None:
        raise NotFound(
            _("coupon %(coupon_id)s does not exist", coupon_id=coupon_id), code="coupon-not-found"
        )
    return coupon


async def list_coupons(session: AsyncSession, shop_id: int) -> list[Coupon]:
    """The shop's coupons, newest first, with fresh use counts."""
    rows = await session.scalars(
        select(Coupon)
        .where(Coupon.shop_id == shop_id)
        .order_by(Coupon.id.desc())
        .execution_options(populate_existing=True)
    )
    return list(rows.all())


async def redemptions(
    session: AsyncSession, coupon_id: int, *, limit: int = 100
) -> list[CouponRedemption]:
    """The orders that used the coupon, newest first."""
    rows = await session.scalars(
        select(CouponRedemption)
        .where(CouponRedemption.coupon_id == coupon_id)
        .order_by(CouponRedemption.id.desc())
        .limit(limit)
    )
    return list(rows.all())


async def order_coupon(session: AsyncSession, order_id: int) -> tuple[str | None, int]:
    """(code, discount) of the seller's coupon an order used; (None, 0) if none."""
    row = (
        await session.execute(
            select(Coupon.code, CouponRedemption.amount_minor)
            .join(Coupon, Coupon.id == CouponRedemption.coupon_id)
            .where(CouponRedemption.order_id == order_id)
        )
    ).first()
    return (None, 0) if row is None else (row[0], int(row[1]))


async def order_has_coupon(session: AsyncSession, order_id: int) -> bool:
    """Whether the order used a seller's coupon (named or automatic): one per order."""
    found = await session.scalar(
        select(CouponRedemption.id).where(CouponRedemption.order_id == order_id).limit(1)
    )
    return found is not None


def coupon_state(coupon: Coupon, at: datetime) -> str:
    """active, scheduled, expired, used_up or deactivated."""
    if coupon.deactivated_at is not None:
        return "deactivated"
    if coupon.max_uses is not None and coupon.used_count >= coupon.max_uses:
        return "used_up"
    if coupon.valid_until is not None and coupon.valid_until <= at:
        return "expired"
    if coupon.valid_from > at:
        return "scheduled"
    return "active"


async def deactivate(session: AsyncSession, coupon: Coupon, *, actor_id: int) -> Coupon:
    """No new order uses the coupon (orders that did keep their discount); audit-logged.
    Idempotent. Commits."""
    if coupon.deactivated_at is None:
        await session.execute(
            update(Coupon)
            .where(Coupon.id == coupon.id, Coupon.deactivated_at.is_(None))
            .values(deactivated_at=utcnow())
            .execution_options(synchronize_session=False)
        )
        audit.record(
            session,
            actor_id=actor_id,
            action=audit.Action.COUPON_DEACTIVATED,
            target_type="coupon",
            target_id=coupon.id,
            after={"code": coupon.code, "used_count": coupon.used_count},
        )
    await session.commit()
    await session.refresh(coupon)
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
        Coupon.deactivated_at.is_(None),
    )
    if code:
        found = await session.scalar(base.where(Coupon.code == code.strip().upper()))
        if found is None:
            raise Unprocessable(
                _("this coupon code does not exist or does not apply here"), code="unknown-coupon"
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
