"""Writing notices (in the caller's transaction: a notice commits with what it tells, or not
at all — the outbox pattern) and reading a user's inbox."""

from __future__ import annotations

from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from liveshop.core.clock import utcnow
from liveshop.core.settings import get_settings
from liveshop.notices.models import EmailStatus, Notice

INBOX_PAGE = 50


def notify(
    session: AsyncSession, user_id: int, *, kind: str, subject: str, body: str, link: str = ""
) -> Notice:
    """Add a notice to the session (the caller commits it with its own change)."""
    notice = Notice(
        user_id=user_id,
        kind=kind,
        subject=subject[:200],
        body=body[:2000],
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
