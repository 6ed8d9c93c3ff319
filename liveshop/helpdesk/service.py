"""Support cases: opened from a complaint in a live room's chat, answered and resolved by the
shop's staff in the seller center.

Opening (``open_from_comment``, only for a line the rules recognised — ``helpdesk.classify``
— and the room held): the session's shops are those of its showcase; the author's recent
orders from them are the evidence, and the case carries the one the complaint most likely
concerns (for a delivery complaint an order on its way, for a wrong or broken item one that
arrived, else the newest). An author with an open case at that shop has the line added to
it instead of a second case. The author is told in their inbox (and by the room socket,
``case_opened``); the shop sees the case in its inbox with an SLA timer
(``FIRST_REPLY_HOURS``); the creator of the show sees how many cases it raised, never who.

Replying and resolving are the shop staff's (``catalog.service.ensure_shop_staff``; admins
may act); each tells the buyer through ``notices`` in the same transaction (inbox, and the
e-mail outbox when SMTP is configured).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from liveshop.accounts.models import User
from liveshop.accounts.service import Principal
from liveshop.catalog.models import Product, Shop, ShopStaff, ShopStaffRole
from liveshop.catalog.service import ensure_shop_staff, is_shop_staff
from liveshop.core.clock import utcnow
from liveshop.core.errors import Conflict, Forbidden, NotFound, Unprocessable
from liveshop.core.i18n import gettext as _
from liveshop.core.i18n import lazy, lazy_gettext
from liveshop.helpdesk.classify import Category
from liveshop.helpdesk.models import (
    MESSAGE_MAX,
    CaseStatus,
    RoutedBy,
    SupportCase,
    SupportMessage,
)
from liveshop.live.models import LiveSession, ShowcaseItem
from liveshop.notices.service import notify
from liveshop.orders.models import Order
from liveshop.orders.status import OrderStatus

FIRST_REPLY_HOURS = 24  # the shop's target for a first answer to a case (the SLA)
EVIDENCE_DAYS = 90  # how far back the author's orders count as evidence
EVIDENCE_ORDERS = 10
INBOX_PAGE = 100

S = OrderStatus
# Which of the author's orders a complaint of each kind most likely concerns (lower first).
_PREFERENCE: dict[Category, dict[str, int]] = {
    Category.DELIVERY: {S.SHIPPED: 0, S.FULFILLING: 1, S.PAID: 1, S.DELIVERED: 2},
    Category.ORDER: {S.DELIVERED: 0, S.SHIPPED: 1, S.REFUND_REQUESTED: 1, S.COMPLETED: 2},
    Category.STOCK: {S.CANCELLED: 0, S.PENDING_PAYMENT: 0, S.PAID: 1},
}


@dataclass(frozen=True, slots=True)
class Opened:
    case_id: int
    new: bool  # False: the line was added to the author's open case at this shop
    order_id: int | None
    shop_name: str


@dataclass(frozen=True, slots=True)
class CaseRow:
    """A case as the shop's inbox lists it."""

    id: int
    shop_id: int
    buyer_id: int
    buyer_name: str
    order_id: int | None
    session_id: int | None
    category: Category
    status: CaseStatus
    created_at: datetime
    first_reply_at: datetime | None
    resolved_at: datetime | None
    first_line: str
    routed_by: str | None = None  # a RoutedBy (None: a case from before it was recorded)

    @property
    def due_at(self) -> datetime:
        return self.created_at + timedelta(hours=FIRST_REPLY_HOURS)

    def sla(self, now: datetime) -> tuple[str, int]:
        """('met' | 'due' | 'overdue', seconds): answered in time (or not: 'overdue' with
        how late the first reply was), due in so many seconds, or overdue by so many."""
        if self.first_reply_at is not None:
            late = int((self.first_reply_at - self.due_at).total_seconds())
            return ("overdue", late) if late > 0 else ("met", -late)
        left = int((self.due_at - now).total_seconds())
        if self.status == CaseStatus.RESOLVED:
            return ("met", max(left, 0))
        return ("due", left) if left >= 0 else ("overdue", -left)


@dataclass(frozen=True, slots=True)
class MessageView:
    id: int
    from_shop: bool
    author_name: str
    body: str
    created_at: datetime


@dataclass(frozen=True, slots=True)
class CaseDetail:
    case: CaseRow
    shop_name: str
    order: Order | None
    messages: list[MessageView]


# --- opening -------------------------------------------------------------------------------


async def session_shops(session: AsyncSession, session_id: int) -> list[int]:
    """The shops whose products the show presents (in showcase order)."""
    rows = await session.execute(
        select(Product.shop_id, func.min(ShowcaseItem.position))
        .join(Product, Product.id == ShowcaseItem.product_id)
        .where(ShowcaseItem.session_id == session_id)
        .group_by(Product.shop_id)
        .order_by(func.min(ShowcaseItem.position), Product.shop_id)
    )
    return [shop_id for shop_id, _position in rows.all()]


async def shop_without_order(
    session: AsyncSession, live: LiveSession, shops: list[int]
) -> tuple[int, RoutedBy] | None:
    """Where a complaint goes when its author has no order from any shop of the show: the
    shop of the product on screen (pinned) now, else the shop the host owns (one of the
    show's first), else the showcase's first shop; None: nobody to route it to."""
    if live.pinned_product_id is not None:
        pinned = await session.scalar(
            select(Product.shop_id).where(Product.id == live.pinned_product_id)
        )
        if pinned is not None:
            return int(pinned), RoutedBy.PINNED
    owned = list(
        (
            await session.scalars(
                select(ShopStaff.shop_id)
                .where(
                    ShopStaff.user_id == live.creator_id,
                    ShopStaff.role == str(ShopStaffRole.OWNER),
                )
                .order_by(ShopStaff.shop_id)
            )
        ).all()
    )
    if owned:
        in_show = [shop for shop in shops if shop in owned]
        return (in_show or owned)[0], RoutedBy.OWNER
    if shops:
        return shops[0], RoutedBy.SHOWCASE
    return None


async def evidence(
    session: AsyncSession, buyer_id: int, shop_ids: list[int], category: Category
) -> Order | None:
    """The author's order the complaint most likely concerns, among their recent orders from
    ``shop_ids`` (None: no such order)."""
    if not shop_ids:
        return None
    since = utcnow() - timedelta(days=EVIDENCE_DAYS)
    orders = list(
        (
            await session.scalars(
                select(Order)
                .where(
                    Order.buyer_id == buyer_id,
                    Order.shop_id.in_(shop_ids),
                    Order.created_at >= since,
                )
                .order_by(Order.id.desc())
                .limit(EVIDENCE_ORDERS)
            )
        ).all()
    )
    if not orders:
        return None
    rank = _PREFERENCE[category]
    return min(orders, key=lambda o: (rank.get(o.status, 9), -o.id))


async def open_from_comment(
    session: AsyncSession,
    *,
    session_id: int,
    buyer_id: int,
    comment_id: int,
    text: str,
    category: Category,
) -> Opened | None:
    """Open a case (or add to the author's open one at that shop) for a held complaint: at
    the shop of the author's matching order, or — none matched — the one
    ``shop_without_order`` picks, the case recording which (``routed_by``). None when there
    is nobody to route it to. Commits."""
    live = await session.get(LiveSession, session_id)
    if live is None:
        return None
    shops = await session_shops(session, session_id)
    order = await evidence(session, buyer_id, shops, category)
    if order is not None:
        shop_id, routed_by = order.shop_id, RoutedBy.ORDER
    else:
        routed = await shop_without_order(session, live, shops)
        if routed is None:
            return None
        shop_id, routed_by = routed
    shop = await session.get(Shop, shop_id)
    assert shop is not None
    existing = await session.scalar(
        select(SupportCase)
        .where(
            SupportCase.buyer_id == buyer_id,
            SupportCase.shop_id == shop_id,
            SupportCase.status == str(CaseStatus.OPEN),
        )
        .order_by(SupportCase.id.desc())
        .limit(1)
    )
    new = existing is None
    if existing is None:
        case = SupportCase(
            shop_id=shop_id,
            buyer_id=buyer_id,
            order_id=order.id if order is not None else None,
            session_id=live.id,
            creator_id=live.creator_id,
            comment_id=comment_id,
            category=str(category),
            status=str(CaseStatus.OPEN),
            routed_by=str(routed_by),
        )
        session.add(case)
        await session.flush()
    else:
        case = existing
        if case.order_id is None and order is not None:
            case.order_id = order.id
            case.routed_by = str(RoutedBy.ORDER)
    session.add(SupportMessage(case_id=case.id, author_id=buyer_id, from_shop=False, body=text))
    if new:
        order_id = order.id if order is not None else None
        await notify(
            session,
            buyer_id,
            kind="support.opened",
            subject=lazy_gettext("We opened case #%(n)s with %(shop)s", n=case.id, shop=shop.name),
            body=lazy(
                lambda: " ".join(
                    (
                        _(
                            "Your comment in the live show reached %(shop)s's support team"
                            " with order #%(n)s.",
                            shop=shop.name,
                            n=order_id,
                        )
                        if order_id is not None
                        else _(
                            "Your comment in the live show reached %(shop)s's support team.",
                            shop=shop.name,
                        ),
                        _("They will answer here; your comment was not shown in the room."),
                    )
                )
            ),
            link=f"/support/cases/{case.id}",
            market_code=live.market_code,
        )
    opened = Opened(case.id, new, case.order_id, shop.name)
    await session.commit()
    return opened


# --- the shop's inbox ------------------------------------------------------------------------


def _row(case: SupportCase, buyer_name: str, first_line: str | None) -> CaseRow:
    return CaseRow(
        id=case.id,
        shop_id=case.shop_id,
        buyer_id=case.buyer_id,
        buyer_name=buyer_name,
        order_id=case.order_id,
        session_id=case.session_id,
        category=Category(case.category),
        status=CaseStatus(case.status),
        created_at=case.created_at,
        first_reply_at=case.first_reply_at,
        resolved_at=case.resolved_at,
        first_line=first_line or "",
        routed_by=case.routed_by,
    )


async def inbox(
    session: AsyncSession, shop_id: int, *, status: CaseStatus | None = CaseStatus.OPEN
) -> list[CaseRow]:
    """The shop's cases, oldest open first (the most urgent on top)."""
    first = (
        select(SupportMessage.body)
        .where(SupportMessage.case_id == SupportCase.id)
        .order_by(SupportMessage.id)
        .limit(1)
        .scalar_subquery()
    )
    query = (
        select(SupportCase, User.display_name, first)
        .join(User, User.id == SupportCase.buyer_id)
        .where(SupportCase.shop_id == shop_id)
    )
    if status is not None:
        query = query.where(SupportCase.status == str(status))
    order = SupportCase.id if status == CaseStatus.OPEN else SupportCase.id.desc()
    rows = await session.execute(query.order_by(order).limit(INBOX_PAGE))
    return [_row(c, name, line) for c, name, line in rows.all()]


async def counts(session: AsyncSession, shop_id: int) -> dict[CaseStatus, int]:
    rows = await session.execute(
        select(SupportCase.status, func.count())
        .where(SupportCase.shop_id == shop_id)
        .group_by(SupportCase.status)
    )
    out = {s: 0 for s in CaseStatus}
    for status, n in rows.all():
        out[CaseStatus(status)] = int(n)
    return out


async def session_case_count(session: AsyncSession, session_id: int) -> int:
    """How many cases a show raised (what its creator sees: the count, nobody's details)."""
    return int(
        await session.scalar(
            select(func.count())
            .select_from(SupportCase)
            .where(SupportCase.session_id == session_id)
        )
        or 0
    )


async def get_case(session: AsyncSession, case_id: int) -> SupportCase:
    case = await session.get(SupportCase, case_id)
    if case is None:
        raise NotFound(
            _("support case %(n)s does not exist") % {"n": case_id}, code="case-not-found"
        )
    return case


async def readable_case(session: AsyncSession, principal: Principal, case_id: int) -> SupportCase:
    """The case, for its buyer, the shop's staff and admins (403 ``not-your-case``)."""
    case = await get_case(session, case_id)
    if (
        principal.user_id == case.buyer_id
        or principal.is_admin
        or await is_shop_staff(session, principal.user_id, case.shop_id)
    ):
        return case
    raise Forbidden(_("this support case is not yours"), code="not-your-case", case_id=case_id)


async def detail(session: AsyncSession, case: SupportCase) -> CaseDetail:
    buyer = await session.get(User, case.buyer_id)
    shop = await session.get(Shop, case.shop_id)
    rows = await session.execute(
        select(SupportMessage, User.display_name)
        .outerjoin(User, User.id == SupportMessage.author_id)
        .where(SupportMessage.case_id == case.id)
        .order_by(SupportMessage.id)
    )
    messages = [
        MessageView(m.id, m.from_shop, name or "", m.body, m.created_at) for m, name in rows.all()
    ]
    order = await session.get(Order, case.order_id) if case.order_id is not None else None
    return CaseDetail(
        case=_row(case, buyer.display_name if buyer else "", messages[0].body if messages else ""),
        shop_name=shop.name if shop else "",
        order=order,
        messages=messages,
    )


def _body(text: str) -> str:
    text = text.strip()
    if not text:
        raise Unprocessable(_("write a message"), code="empty-message")
    if len(text) > MESSAGE_MAX:
        raise Unprocessable(
            _("a message is at most %(n)s characters") % {"n": MESSAGE_MAX}, code="bad-message"
        )
    return text


async def reply(
    session: AsyncSession, principal: Principal, case_id: int, text: str
) -> SupportMessage:
    """The shop answers (409 ``case-resolved`` once resolved); the buyer is notified. Commits."""
    case = await get_case(session, case_id)
    shop = await ensure_shop_staff(session, principal, case.shop_id)
    body = _body(text)
    if case.status != CaseStatus.OPEN:
        raise Conflict(_("this case is resolved"), code="case-resolved", case_id=case_id)
    message = SupportMessage(
        case_id=case.id, author_id=principal.user_id, from_shop=True, body=body
    )
    session.add(message)
    await session.execute(
        update(SupportCase)
        .where(SupportCase.id == case.id, SupportCase.first_reply_at.is_(None))
        .values(first_reply_at=utcnow())
        .execution_options(synchronize_session=False)
    )
    await notify(
        session,
        case.buyer_id,
        kind="support.reply",
        subject=lazy_gettext("%(shop)s answered case #%(n)s", shop=shop.name, n=case.id),
        body=body,
        link=f"/support/cases/{case.id}",
        market_code=shop.home_market,
    )
    await session.commit()
    return message


async def resolve(
    session: AsyncSession, principal: Principal, case_id: int, text: str = ""
) -> SupportCase:
    """The shop resolves the case, with an optional last word; the buyer is notified (inbox
    and outbox). 409 ``case-resolved`` if it already is. Commits."""
    case = await get_case(session, case_id)
    shop = await ensure_shop_staff(session, principal, case.shop_id)
    note = text.strip()
    if len(note) > MESSAGE_MAX:
        raise Unprocessable(
            _("a message is at most %(n)s characters") % {"n": MESSAGE_MAX}, code="bad-message"
        )
    now = utcnow()
    done = await session.execute(
        update(SupportCase)
        .where(SupportCase.id == case.id, SupportCase.status == str(CaseStatus.OPEN))
        .values(
            status=str(CaseStatus.RESOLVED),
            resolved_at=now,
            resolved_by=principal.user_id,
            first_reply_at=func.coalesce(SupportCase.first_reply_at, now),
        )
        .execution_options(synchronize_session=False)
    )
    if not done.rowcount:  # type: ignore[attr-defined]
        await session.rollback()
        raise Conflict(_("this case is resolved"), code="case-resolved", case_id=case_id)
    if note:
        session.add(
            SupportMessage(case_id=case.id, author_id=principal.user_id, from_shop=True, body=note)
        )
    await notify(
        session,
        case.buyer_id,
        kind="support.resolved",
        subject=lazy_gettext("%(shop)s resolved case #%(n)s", shop=shop.name, n=case.id),
        body=note or lazy_gettext("%(shop)s marked your case as resolved.", shop=shop.name),
        link=f"/support/cases/{case.id}",
        market_code=shop.home_market,
    )
    await session.commit()
    await session.refresh(case)
    return case
