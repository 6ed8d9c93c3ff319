"""Following creators and shops, reminders for scheduled shows, and telling them all when a
show goes live.

The go-live notices are written by ``INSERT … SELECT`` (one per language the audience reads:
each notice in its reader's language, their own else the show market's) inside the
transaction that starts the show (``SessionStarted``): the creator's followers, the
followers of every shop whose products are in the show, and everyone who asked to be
reminded — each once, never the creator — however many there are. They commit with the
start (the outbox pattern: the e-mail sender drains them when SMTP is configured), or not
at all.
"""

from __future__ import annotations

from sqlalchemy import (
    CompoundSelect,
    Integer,
    String,
    delete,
    false,
    func,
    insert,
    literal,
    or_,
    select,
    union,
)
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from liveshop.accounts.models import Role, User
from liveshop.catalog.models import Product, Shop
from liveshop.core.clock import utcnow
from liveshop.core.db import UTCDateTime
from liveshop.core.errors import Conflict, NotFound, Unprocessable
from liveshop.core.i18n import gettext as _
from liveshop.core.i18n import use_locale
from liveshop.core.settings import get_settings
from liveshop.live.events import SessionStarted
from liveshop.live.follows.models import Follow, ShowReminder
from liveshop.live.models import LiveSession, SessionStatus, ShowcaseItem
from liveshop.notices.models import EmailStatus, Notice
from liveshop.notices.service import language_of

NOTICE_KIND = "live.started"


async def _creator(session: AsyncSession, creator_id: int) -> User:
    user = await session.get(User, creator_id)
    if user is None or Role.CREATOR not in user.role_names:
        raise NotFound(
            _("creator %(creator_id)s does not exist", creator_id=creator_id),
            code="creator-not-found",
        )
    return user


async def _insert(session: AsyncSession, row: Follow | ShowReminder) -> None:
    """Add the row unless it is there already (a repeat is no error)."""
    try:
        async with session.begin_nested():
            session.add(row)
    except IntegrityError:
        pass
    await session.commit()


async def follow_creator(session: AsyncSession, user_id: int, creator_id: int) -> None:
    if user_id == creator_id:
        raise Unprocessable(_("you cannot follow yourself"), code="follow-self")
    await _creator(session, creator_id)
    await _insert(session, Follow(user_id=user_id, creator_id=creator_id))


async def follow_shop(session: AsyncSession, user_id: int, shop_id: int) -> None:
    if await session.get(Shop, shop_id) is None:
        raise NotFound(_("shop %(shop_id)s does not exist", shop_id=shop_id), code="shop-not-found")
    await _insert(session, Follow(user_id=user_id, shop_id=shop_id))


async def unfollow(
    session: AsyncSession,
    user_id: int,
    *,
    creator_id: int | None = None,
    shop_id: int | None = None,
) -> None:
    stmt = delete(Follow).where(Follow.user_id == user_id)
    stmt = (
        stmt.where(Follow.creator_id == creator_id)
        if creator_id is not None
        else stmt.where(Follow.shop_id == shop_id)
    )
    await session.execute(stmt)
    await session.commit()


async def is_following(
    session: AsyncSession,
    user_id: int,
    *,
    creator_id: int | None = None,
    shop_id: int | None = None,
) -> bool:
    cond = Follow.creator_id == creator_id if creator_id is not None else Follow.shop_id == shop_id
    found = await session.scalar(select(Follow.id).where(Follow.user_id == user_id, cond))
    return found is not None


async def followers(
    session: AsyncSession, *, creator_id: int | None = None, shop_id: int | None = None
) -> int:
    cond = Follow.creator_id == creator_id if creator_id is not None else Follow.shop_id == shop_id
    return int(await session.scalar(select(func.count()).select_from(Follow).where(cond)) or 0)


async def followed_creator_ids(session: AsyncSession, user_id: int) -> set[int]:
    rows = await session.scalars(
        select(Follow.creator_id).where(Follow.user_id == user_id, Follow.creator_id.is_not(None))
    )
    return {r for r in rows.all() if r is not None}


async def my_follows(session: AsyncSession, user_id: int) -> tuple[list[User], list[Shop]]:
    creators = await session.scalars(
        select(User)
        .join(Follow, Follow.creator_id == User.id)
        .where(Follow.user_id == user_id)
        .order_by(Follow.id.desc())
    )
    shops = await session.scalars(
        select(Shop)
        .join(Follow, Follow.shop_id == Shop.id)
        .where(Follow.user_id == user_id)
        .order_by(Follow.id.desc())
    )
    return list(creators.all()), list(shops.all())


async def remind(session: AsyncSession, user_id: int, live: LiveSession) -> None:
    if live.status != SessionStatus.SCHEDULED:
        raise Conflict(_("only a scheduled show can be reminded of"), code="session-not-scheduled")
    await _insert(session, ShowReminder(user_id=user_id, session_id=live.id))


async def forget_reminder(session: AsyncSession, user_id: int, session_id: int) -> None:
    await session.execute(
        delete(ShowReminder).where(
            ShowReminder.user_id == user_id, ShowReminder.session_id == session_id
        )
    )
    await session.commit()


async def is_reminded(session: AsyncSession, user_id: int, session_id: int) -> bool:
    found = await session.scalar(
        select(ShowReminder.id).where(
            ShowReminder.user_id == user_id, ShowReminder.session_id == session_id
        )
    )
    return found is not None


def audience(session_id: int, creator_id: int) -> CompoundSelect[tuple[int]]:
    """Who hears that a show went live: its creator's followers, its shops' followers and
    those who asked to be reminded (a UNION: each once)."""
    fans = select(Follow.user_id.label("user_id")).where(Follow.creator_id == creator_id)
    shop_fans = (
        select(Follow.user_id.label("user_id"))
        .join(Product, Product.shop_id == Follow.shop_id)
        .join(ShowcaseItem, ShowcaseItem.product_id == Product.id)
        .where(ShowcaseItem.session_id == session_id)
    )
    reminded = select(ShowReminder.user_id.label("user_id")).where(
        ShowReminder.session_id == session_id
    )
    return union(fans, shop_fans, reminded)


async def tell_followers(session: AsyncSession, event: SessionStarted) -> None:
    """The go-live notices, in the starting transaction, each in its reader's language (their
    own, else the show's market's): one ``INSERT … SELECT`` per language the audience reads
    (flushes only)."""
    name = await session.scalar(select(User.display_name).where(User.id == event.creator_id))
    market = await session.scalar(
        select(LiveSession.market_code).where(LiveSession.id == event.live_session_id)
    )
    who = audience(event.live_session_id, event.creator_id).subquery()
    readers = (
        select(User.language)
        .join(who, who.c.user_id == User.id)
        .where(who.c.user_id != event.creator_id)
    )
    groups: dict[str, list[str | None]] = {}
    for chosen in (await session.scalars(readers.distinct())).all():
        groups.setdefault(language_of(chosen, market), []).append(chosen)
    status = EmailStatus.PENDING if get_settings().smtp_host else EmailStatus.SKIPPED
    for language, stored in groups.items():
        with use_locale(language):
            if name:
                subject = _("%(name)s is live: %(title)s", name=name, title=event.title)
                body = _("%(name)s just went live. Tap to watch and shop the show.", name=name)
            else:
                subject = _("A creator you follow is live: %(title)s", title=event.title)
                body = _("A creator you follow just went live. Tap to watch and shop the show.")
        known = [c for c in stored if c is not None]
        reads = or_(
            User.language.in_(known), User.language.is_(None) if None in stored else false()
        )
        rows = (
            select(
                who.c.user_id,
                literal(NOTICE_KIND, String()),
                literal(subject[:200], String()),
                literal(body[:2000], String()),
                literal(f"/live/{event.live_session_id}", String()),
                literal(utcnow(), UTCDateTime()),
                literal(str(status), String()),
                literal(0, Integer()),
            )
            .join(User, User.id == who.c.user_id)
            .where(who.c.user_id != event.creator_id, reads)
        )
        await session.execute(
            insert(Notice).from_select(
                [
                    "user_id",
                    "kind",
                    "subject",
                    "body",
                    "link",
                    "created_at",
                    "email_status",
                    "email_attempts",
                ],
                rows,
            )
        )
