"""Writing notices (in the caller's transaction: a notice commits with what it tells, or not
at all — the outbox pattern) and reading a user's inbox.

A notice is worded in its RECIPIENT's language — their own choice (``users.language``), else
the language of the market it is about (the order's, the show's) — never in the language of
whatever request or background task caused it (a seller's click in English telling a Thai
buyer; a sweeper with no request at all). Callers pass the words lazily (``lazy_gettext``,
``i18n.lazy``): ``notify`` turns them into text under ``use_locale(recipient's language)``, so
the inbox and the e-mail (sent from the stored text) say the same, in the recipient's words."""

from __future__ import annotations

from babel.support import LazyProxy
from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from liveshop.accounts.models import User
from liveshop.core import i18n
from liveshop.core.clock import utcnow
from liveshop.core.settings import get_settings
from liveshop.notices.models import EmailStatus, Notice

INBOX_PAGE = 50

Words = str | LazyProxy  # a str is sent as written (a shop's own reply); a LazyProxy is translated


def language_of(chosen: str | None, market_code: str | None) -> str:
    """The language a person is written to in: their own choice, else their market's."""
    return i18n.normalize(chosen) or i18n.market_languages(market_code)[0]


async def recipient_language(
    session: AsyncSession, user_id: int, market_code: str | None = None
) -> str:
    chosen = await session.scalar(select(User.language).where(User.id == user_id))
    return language_of(chosen, market_code)


async def notify(
    session: AsyncSession,
    user_id: int,
    *,
    kind: str,
    subject: Words,
    body: Words,
    link: str = "",
    market_code: str | None = None,
) -> Notice:
    """Add a notice to the session, worded in the recipient's language (the caller commits it
    with its own change). ``market_code``: the market the notice is about (an order's), whose
    language a recipient who chose none is written to in."""
    with i18n.use_locale(await recipient_language(session, user_id, market_code)):
        subject_text, body_text = str(subject), str(body)
    notice = Notice(
        user_id=user_id,
        kind=kind,
        subject=subject_text[:200],
        body=body_text[:2000],
        link=link[:300],
        # E-mailed too when an SMTP server is configured (LIVESHOP_SMTP_HOST).
        email_status=EmailStatus.PENDING if get_settings().smtp_host else EmailStatus.SKIPPED,
    )
    session.add(notice)
    return notice


async def inbox(session: AsyncSession, user_id: int, *, limit: int = INBOX_PAGE) -> list[Notice]:
    rows = await session.scalars(
        select(Notice).where(Notice.user_id == user_id).order_by(Notice.id.desc()).limit(limit)
    )
    return list(rows)


async def unread(session: AsyncSession, user_id: int) -> int:
    return int(
        await session.scalar(
            select(func.count())
            .select_from(Notice)
            .where(Notice.user_id == user_id, Notice.read_at.is_(None))
        )
        or 0
    )


async def mark_all_read(session: AsyncSession, user_id: int) -> None:
    await session.execute(
        update(Notice)
        .where(Notice.user_id == user_id, Notice.read_at.is_(None))
        .values(read_at=utcnow())
    )
    await session.commit()
