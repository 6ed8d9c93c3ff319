"""Live sessions: schedule, showcase, go live, end; who may control a session; pins.

Every public function here that changes something is one transaction and commits. Given
the room's ``AfterCommit`` (``room=``), it queues the matching room event inside that
transaction (``live.announce``): the event goes out with the commit and never without it,
so a viewer never sees a pin (or a start) that the database does not have.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta

import structlog
from sqlalchemy import and_, delete, func, or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from liveshop.accounts.service import Principal, get_user
from liveshop.affiliates.rates import ensure_showcasable
from liveshop.core import domain_events
from liveshop.core.clock import utcnow
from liveshop.core.errors import Conflict, Forbidden, NotFound, Unprocessable
from liveshop.core.i18n import gettext as _
from liveshop.live import announce
from liveshop.live.catalog_view import ProductSummary, product_summary, product_with_stock
from liveshop.live.events import ProductPinned, SessionClosed, SessionEnded, SessionStarted
from liveshop.live.models import (
    OPEN_STATUSES,
    SESSION_TRANSITIONS,
    LiveSession,
    SessionModerator,
    SessionStatus,
    ShowcaseItem,
)
from liveshop.markets.service import ensure_sellable
from liveshop.realtime.publish import AfterCommit

MAX_SHOWCASE = 100
SCHEDULE_SLACK = timedelta(minutes=5)  # "now" from a slow clock is not "in the past"

log = structlog.get_logger("liveshop.live.service")


async def get_session(session: AsyncSession, session_id: int) -> LiveSession:
    live = await session.get(LiveSession, session_id)
    if live is None:
        raise NotFound(
            _("live session %(session_id)s does not exist", session_id=session_id),
            code="live-session-not-found",
            session_id=session_id,
        )
    return live


async def sessions_by_ids(session: AsyncSession, ids: Sequence[int]) -> Sequence[LiveSession]:
    """The sessions of these ids that exist (unknown ids left out), in id order."""
    if not ids:
        return []
    return (
        await session.scalars(
            select(LiveSession).where(LiveSession.id.in_(set(ids))).order_by(LiveSession.id)
        )
    ).all()


async def list_sessions(
    session: AsyncSession,
    *,
    status: SessionStatus | None = None,
    market_code: str | None = None,
    limit: int = 50,
    offset: int = 0,
) -> tuple[Sequence[LiveSession], int]:
    query = select(LiveSession)
    if status is not None:
        query = query.where(LiveSession.status == status)
    if market_code is not None:
        query = query.where(LiveSession.market_code == market_code.upper())
    total = await session.scalar(select(func.count()).select_from(query.subquery())) or 0
    rows = await session.scalars(
        query.order_by(LiveSession.planned_start.desc(), LiveSession.id.desc())
        .limit(limit)
        .offset(offset)
    )
    return rows.all(), total


async def sessions_of_creator(
    session: AsyncSession, creator_id: int, *, limit: int = 20
) -> Sequence[LiveSession]:
    """A creator's sessions, newest planned start first."""
    rows = await session.scalars(
        select(LiveSession)
        .where(LiveSession.creator_id == creator_id)
        .order_by(LiveSession.planned_start.desc(), LiveSession.id.desc())
        .limit(limit)
    )
    return rows.all()


async def open_sessions_of_creator(session: AsyncSession, creator_id: int) -> Sequence[LiveSession]:
    """The creator's scheduled and live sessions (whose showcase may still change)."""
    rows = await session.scalars(
        select(LiveSession)
        .where(
            LiveSession.creator_id == creator_id,
            LiveSession.status.in_([str(s) for s in OPEN_STATUSES]),
        )
        .order_by(LiveSession.planned_start, LiveSession.id)
        .limit(MAX_SHOWCASE)
    )
    return rows.all()


async def creators_showing(
    session: AsyncSession, product_ids: Sequence[int]
) -> dict[int, set[int]]:
    """Creator -> the products of ``product_ids`` in the showcase of one of their scheduled
    or live sessions."""
    if not product_ids:
        return {}
    rows = await session.execute(
        select(LiveSession.creator_id, ShowcaseItem.product_id)
        .join(ShowcaseItem, ShowcaseItem.session_id == LiveSession.id)
        .where(
            ShowcaseItem.product_id.in_(list(set(product_ids))),
            LiveSession.status.in_([str(s) for s in OPEN_STATUSES]),
        )
    )
    out: dict[int, set[int]] = {}
    for creator_id, product_id in rows.all():
        out.setdefault(int(creator_id), set()).add(int(product_id))
    return out


async def add_to_showcase(session: AsyncSession, live: LiveSession, product_id: int) -> bool:
    """Add one product at the end of the showcase (False: it is there already). The same
    checks as ``set_showcase`` (an open session, a showcasable product, a plan covering it for
    the creator now); one INSERT, so two products added at once are both kept, and the same
    one added twice is kept once (the unique row)."""
    _ensure_open(live)
    await _showcasable(session, [product_id], live.market_code)
    current = await showcase_ids(session, live.id)
    if product_id in current:
        return False
    if len(current) >= MAX_SHOWCASE:
        raise Unprocessable(
            _("a showcase holds at most %(n)s products", n=MAX_SHOWCASE), code="showcase-too-large"
        )
    await ensure_showcasable(session, creator_id=live.creator_id, product_ids=[product_id])
    try:
        async with session.begin_nested():
            session.add(
                ShowcaseItem(session_id=live.id, product_id=product_id, position=len(current))
            )
    except IntegrityError:
        return False  # added by a concurrent request
    await session.commit()
    return True


# --- who may do what ------------------------------------------------------------------


def ensure_owner(principal: Principal, live: LiveSession) -> None:
    """Start, end, cancel, showcase: the session's creator (or an admin)."""
    if principal.is_admin or principal.user_id == live.creator_id:
        return
    raise Forbidden(
        _("only the creator of this session may do that"),
        code="not-session-owner",
        session_id=live.id,
    )


async def is_moderator(session: AsyncSession, user_id: int, live: LiveSession) -> bool:
    """A moderator of all the creator's sessions (no ``session_id``) or of this one.

    A one-session row carries its creator too, so ``creator_id`` alone must not match."""
    found = await session.scalar(
        select(SessionModerator.id)
        .where(
            SessionModerator.user_id == user_id,
            or_(
                and_(
                    SessionModerator.creator_id == live.creator_id,
                    SessionModerator.session_id.is_(None),
                ),
                SessionModerator.session_id == live.id,
            ),
        )
        .limit(1)
    )
    return found is not None


async def is_host(session: AsyncSession, user_id: int, live: LiveSession) -> bool:
    """The creator or one of their moderators: their chat lines are never sampled away."""
    return user_id == live.creator_id or await is_moderator(session, user_id, live)


async def ensure_can_control(
    session: AsyncSession, principal: Principal, live: LiveSession
) -> None:
    """Pin/unpin (and flash deals later): the creator, their moderator, or an admin."""
    if principal.is_admin or await is_host(session, principal.user_id, live):
        return
    raise Forbidden(
        _("only the creator or their moderators control this room"),
        code="not-room-host",
        session_id=live.id,
    )


# --- scheduling and showcase ----------------------------------------------------------


async def _showcasable(
    session: AsyncSession, product_ids: Sequence[int], market_code: str
) -> list[int]:
    """The ids (deduplicated, in order) if each can be sold by a creator in this market."""
    wanted = list(dict.fromkeys(product_ids))
    if len(wanted) > MAX_SHOWCASE:
        raise Unprocessable(
            _("a showcase holds at most %(max_showcase)s products", max_showcase=MAX_SHOWCASE),
            code="showcase-too-large",
        )
    for product_id in wanted:
        summary = await product_summary(session, product_id, market_code)
        reason = _not_showcasable(summary)
        if reason is not None:
            raise Unprocessable(
                _(
                    "product %(product_id)s cannot be in this showcase: %(reason)s",
                    product_id=product_id,
                    reason=reason,
                ),
                code="product-not-showcasable",
                product_id=product_id,
                reason=reason,
            )
    return wanted


def _not_showcasable(summary: ProductSummary | None) -> str | None:
    if summary is None:
        return "no such product"
    if not summary.published:
        return "the product is not published"
    if not summary.shop_allows_creators:
        return "the shop does not let creators sell its products"
    if not summary.skus:
        return f"the product has no price in {summary.market_code}"
    return None


async def create_session(
    session: AsyncSession,
    *,
    creator_id: int,
    title: str,
    market_code: str,
    planned_start: datetime,
    planned_duration_minutes: int,
    product_ids: Sequence[int] = (),
) -> LiveSession:
    market = await ensure_sellable(session, market_code)
    if planned_start < utcnow() - SCHEDULE_SLACK:
        raise Unprocessable(_("planned_start is in the past"), code="planned-start-in-past")
    products = await _showcasable(session, product_ids, market.code)
    await ensure_showcasable(session, creator_id=creator_id, product_ids=products)
    live = LiveSession(
        creator_id=creator_id,
        title=title.strip(),
        market_code=market.code,
        currency=market.currency,
        planned_start=planned_start,
        planned_duration_minutes=planned_duration_minutes,
        status=SessionStatus.SCHEDULED,
    )
    session.add(live)
    await session.flush()
    session.add_all(
        ShowcaseItem(session_id=live.id, product_id=p, position=i) for i, p in enumerate(products)
    )
    await session.commit()
    return live


async def showcase_ids(session: AsyncSession, session_id: int) -> list[int]:
    rows = await session.scalars(
        select(ShowcaseItem.product_id)
        .where(ShowcaseItem.session_id == session_id)
        .order_by(ShowcaseItem.position, ShowcaseItem.id)
    )
    return list(rows.all())


async def showcase(session: AsyncSession, live: LiveSession) -> list[ProductSummary]:
    """The showcase as buyers in the session's market see it (price, stock)."""
    out = []
    for product_id in await showcase_ids(session, live.id):
        summary = await product_with_stock(session, product_id, live.market_code)
        if summary is not None:
            out.append(summary)
    return out


def _ensure_open(live: LiveSession) -> None:
    if live.status not in OPEN_STATUSES:
        raise Conflict(
            _("session %(id)s is %(status)s", id=live.id, status=live.status),
            code="session-closed",
            status_value=live.status,
        )


async def set_showcase(
    session: AsyncSession,
    live: LiveSession,
    product_ids: Sequence[int],
    *,
    room: AfterCommit | None = None,
) -> list[int]:
    """Replace the showcase. A pinned product that leaves the showcase is unpinned (the
    ``pin`` event, queued on ``room``, goes out with the commit).

    A product the showcase did not hold yet needs an affiliate plan that covers it for the
    session's creator now (422 ``no-affiliate-plan``); one already there may stay after its
    plan ends (it earns no commission), so removing a product is never refused.
    """
    _ensure_open(live)
    wanted = await _showcasable(session, product_ids, live.market_code)
    current = set(await showcase_ids(session, live.id))
    await ensure_showcasable(
        session, creator_id=live.creator_id, product_ids=[p for p in wanted if p not in current]
    )
    await session.execute(delete(ShowcaseItem).where(ShowcaseItem.session_id == live.id))
    session.add_all(
        ShowcaseItem(session_id=live.id, product_id=p, position=i) for i, p in enumerate(wanted)
    )
    if live.pinned_product_id is not None and live.pinned_product_id not in wanted:
        live.pinned_product_id = None
        if room is not None:
            announce.pinned(room, live.id, None)
    await session.commit()
    return wanted


# --- going live -----------------------------------------------------------------------


async def transition(
    session: AsyncSession, live: LiveSession, to: SessionStatus, *, room: AfterCommit | None = None
) -> LiveSession:
    """Move along scheduled → live → ended (or scheduled → cancelled); 409 otherwise.

    The UPDATE is conditional on the status read, so two concurrent "start" requests
    cannot both succeed. Given ``room``, the room's ``session_started``/``session_ended``
    goes out with the commit of the change.
    """
    current = SessionStatus(live.status)
    if to not in SESSION_TRANSITIONS[current]:
        raise Conflict(
            _("a %(current)s session cannot become %(to)s", current=current, to=to),
            code="illegal-session-transition",
            session_id=live.id,
            status_value=str(current),
        )
    now = utcnow()
    values: dict[str, object] = {"status": str(to)}
    if to is SessionStatus.LIVE:
        values["actual_start"] = now
    if to is SessionStatus.ENDED:
        values["actual_end"] = now
    result = await session.execute(
        update(LiveSession)
        .where(LiveSession.id == live.id, LiveSession.status == str(current))
        .values(**values)
        .execution_options(synchronize_session=False)
    )
    if getattr(result, "rowcount", 0) != 1:
        session_id = live.id  # the rollback expires ``live``: no lazy load for the answer
        await session.rollback()
        raise Conflict(
            _("session %(session_id)s changed meanwhile; reload it", session_id=session_id),
            code="illegal-session-transition",
            session_id=session_id,
        )
    if room is not None:
        announce.status_changed(room, live.id, to, now)
    if to is SessionStatus.LIVE:  # followers are told in this transaction (the outbox)
        await domain_events.announce(
            session,
            SessionStarted(live_session_id=live.id, creator_id=live.creator_id, title=live.title),
        )
    await session.commit()
    await session.refresh(live)
    if to in (SessionStatus.ENDED, SessionStatus.CANCELLED):
        await _after_close(session, live)
    return live


async def _after_close(session: AsyncSession, live: LiveSession) -> None:
    """A closed room sells nothing more (``SessionClosed``: its flash deal ends, units back on
    sale), and an ended one is announced (``SessionEnded``: the creator economy settles the
    creator's base fee and bonuses, idempotently; an admin can re-run it)."""
    session_id = live.id
    await domain_events.announce(session, SessionClosed(live_session_id=session_id))
    if live.status == SessionStatus.ENDED:
        try:
            await domain_events.announce(
                session,
                SessionEnded(
                    live_session_id=session_id,
                    creator_id=live.creator_id,
                    market_code=live.market_code,
                    ended_at=live.actual_end,
                ),
            )
        except Exception:
            # The session has ended (committed above); its settlement can be re-run by an
            # admin. The rollback expires ``live``: reload it for the caller's answer.
            log.exception("settling the session's creator fees failed", session_id=session_id)
            await session.rollback()
            await session.refresh(live)


# --- pins -----------------------------------------------------------------------------


async def pin_product(
    session: AsyncSession, live: LiveSession, product_id: int, *, room: AfterCommit | None = None
) -> ProductSummary:
    """Pin a showcase product; returns it with price and live stock. Given ``room``, the
    ``pin`` event goes out with the commit."""
    _ensure_open(live)
    if product_id not in await showcase_ids(session, live.id):
        raise Unprocessable(
            _("product %(product_id)s is not in this session's showcase", product_id=product_id),
            code="not-in-showcase",
            product_id=product_id,
        )
    summary = await product_with_stock(session, product_id, live.market_code)
    if summary is None or not summary.sellable_here:
        raise Unprocessable(
            _(
                "product %(product_id)s is not for sale in %(market_code)s any more",
                product_id=product_id,
                market_code=live.market_code,
            ),
            code="product-not-showcasable",
            product_id=product_id,
        )
    live.pinned_product_id = product_id
    if room is not None:
        announce.pinned(room, live.id, summary)
    await domain_events.announce(
        session,
        ProductPinned(
            live_session_id=live.id,
            creator_id=live.creator_id,
            market_code=live.market_code,
            product_id=product_id,
        ),
    )
    await session.commit()
    return summary


async def unpin_product(
    session: AsyncSession, live: LiveSession, *, room: AfterCommit | None = None
) -> None:
    _ensure_open(live)
    live.pinned_product_id = None
    if room is not None:
        announce.pinned(room, live.id, None)
    await session.commit()


async def pinned_product(session: AsyncSession, live: LiveSession) -> ProductSummary | None:
    if live.pinned_product_id is None:
        return None
    return await product_with_stock(session, live.pinned_product_id, live.market_code)


# --- moderators -----------------------------------------------------------------------


async def add_moderator(
    session: AsyncSession, *, creator_id: int, user_id: int, session_id: int | None = None
) -> SessionModerator:
    """Let ``user_id`` run the creator's rooms (all of them, or one session)."""
    await get_user(session, user_id)
    if session_id is not None:
        live = await get_session(session, session_id)
        if live.creator_id != creator_id:
            raise Forbidden(_("that is not your session"), code="not-session-owner")
    existing = await session.scalar(
        select(SessionModerator).where(
            SessionModerator.user_id == user_id,
            SessionModerator.creator_id == creator_id,
            SessionModerator.session_id.is_(None)
            if session_id is None
            else SessionModerator.session_id == session_id,
        )
    )
    if existing is not None:
        return existing
    row = SessionModerator(creator_id=creator_id, user_id=user_id, session_id=session_id)
    session.add(row)
    await session.commit()
    return row


async def list_moderators(session: AsyncSession, creator_id: int) -> Sequence[SessionModerator]:
    rows = await session.scalars(
        select(SessionModerator)
        .where(SessionModerator.creator_id == creator_id)
        .order_by(SessionModerator.id)
    )
    return rows.all()


async def remove_moderator(session: AsyncSession, *, creator_id: int, moderator_id: int) -> None:
    result = await session.execute(
        delete(SessionModerator).where(
            SessionModerator.id == moderator_id, SessionModerator.creator_id == creator_id
        )
    )
    await session.commit()
    if getattr(result, "rowcount", 0) != 1:
        raise NotFound(
            _("moderator %(moderator_id)s does not exist", moderator_id=moderator_id),
            code="moderator-not-found",
        )
