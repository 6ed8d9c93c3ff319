"""Viewers report a comment (and so its author) or a viewer; the reports wait in a queue for
the creator's moderators (and the platform's, and admins) until one handles them.

Reporting: anyone signed in who can see the room, never themselves; one report per reporter
and comment (a repeat answers the first). Handling: a moderator dismisses a report, or acts
on it — hiding the comment, muting or banning its author marks the open reports about that
comment or viewer in the session ``actioned`` in the same transaction (``chat.service``).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased

from liveshop.accounts.models import User
from liveshop.accounts.service import Principal, get_user
from liveshop.chat import service
from liveshop.chat.models import (
    REASON_MAX,
    ChatReport,
    ReportReason,
    ReportStatus,
    ReportSubject,
)
from liveshop.core.clock import utcnow
from liveshop.core.errors import Conflict, NotFound, Unprocessable
from liveshop.core.i18n import gettext as _
from liveshop.live import service as live_service
from liveshop.live.models import LiveComment, LiveSession

QUEUE_MAX = 200


@dataclass(frozen=True, slots=True)
class ReportView:
    id: int
    session_id: int
    reporter_id: int
    reporter_name: str
    target_user_id: int
    target_name: str
    comment_id: int | None
    comment_text: str | None  # None: a report of a viewer, or the comment is gone
    comment_hidden: bool | None
    reason: ReportReason
    note: str
    status: ReportStatus
    created_at: datetime
    subject: ReportSubject = ReportSubject.COMMENT


async def report(
    session: AsyncSession,
    reporter: Principal,
    session_id: int,
    *,
    comment_id: int | None,
    user_id: int | None,
    reason: ReportReason,
    note: str = "",
    show: bool = False,
) -> tuple[ReportView, bool]:
    """Report a comment of the session (its author is the target), a viewer (``user_id``)
    or the show itself (``show``: its host is the target; once per reporter and show).
    Exactly one of the three (422 ``bad-report``). 404 for an unknown session or a comment
    not in it, 422 ``cannot-report-self``. Commits; the report and whether it is new."""
    if [comment_id is not None, user_id is not None, show].count(True) != 1:
        raise Unprocessable(_("report either a comment, a viewer or the show"), code="bad-report")
    note = note.strip()
    if len(note) > REASON_MAX:
        raise Unprocessable(
            _("a note is at most %(n)s characters") % {"n": REASON_MAX}, code="bad-reason"
        )
    live = await live_service.get_session(session, session_id)
    if comment_id is not None:
        comment = await session.get(LiveComment, comment_id)
        if comment is None or comment.session_id != live.id:
            raise NotFound(
                _(
                    "comment %(comment_id)s does not exist in session %(session_id)s",
                    comment_id=comment_id,
                    session_id=live.id,
                ),
                code="comment-not-found",
                comment_id=comment_id,
            )
        target = comment.user_id
        subject = ReportSubject.COMMENT
    elif show:
        target, subject = live.creator_id, ReportSubject.SHOW
    else:
        assert user_id is not None
        target, subject = (await get_user(session, user_id)).id, ReportSubject.VIEWER
    if target == reporter.user_id:
        raise Unprocessable(_("you cannot report yourself"), code="cannot-report-self")
    if subject != ReportSubject.VIEWER:
        found = await _existing(session, reporter.user_id, comment_id, live.id)
        if found is not None:
            return await get_report(session, found), False
    row = ChatReport(
        session_id=live.id,
        creator_id=live.creator_id,
        reporter_id=reporter.user_id,
        comment_id=comment_id,
        target_user_id=target,
        subject=str(subject),
        reason=str(reason),
        note=note,
        status=str(ReportStatus.OPEN),
    )
    session.add(row)
    try:
        await session.flush()
    except IntegrityError:  # the same report a moment ago, from another request
        await session.rollback()
        found = await _existing(session, reporter.user_id, comment_id, live.id)
        if found is None:
            raise
        return await get_report(session, found), False
    report_id = row.id
    await session.commit()
    return await get_report(session, report_id), True


async def _existing(
    session: AsyncSession, reporter_id: int, comment_id: int | None, session_id: int
) -> int | None:
    """The reporter's report of this comment, or (no comment) of this show."""
    mine = select(ChatReport.id).where(ChatReport.reporter_id == reporter_id)
    if comment_id is not None:
        return await session.scalar(mine.where(ChatReport.comment_id == comment_id))
    return await session.scalar(
        mine.where(
            ChatReport.session_id == session_id, ChatReport.subject == str(ReportSubject.SHOW)
        )
    )


_Reporter = aliased(User, name="reporter")
_Target = aliased(User, name="target")


def _query():  # type: ignore[no-untyped-def]
    return (
        select(
            ChatReport,
            _Reporter.display_name,
            _Target.display_name,
            LiveComment.text,
            LiveComment.hidden,
        )
        .join(_Reporter, _Reporter.id == ChatReport.reporter_id)
        .join(_Target, _Target.id == ChatReport.target_user_id)
        .outerjoin(LiveComment, LiveComment.id == ChatReport.comment_id)
    )


def _view(row: tuple[ChatReport, str, str, str | None, bool | None]) -> ReportView:
    r, reporter, target, text, hidden = row
    return ReportView(
        id=r.id,
        session_id=r.session_id,
        reporter_id=r.reporter_id,
        reporter_name=reporter,
        target_user_id=r.target_user_id,
        target_name=target,
        comment_id=r.comment_id,
        comment_text=text,
        comment_hidden=hidden,
        reason=ReportReason(r.reason),
        note=r.note,
        status=ReportStatus(r.status),
        created_at=r.created_at,
        subject=ReportSubject(
            r.subject or (ReportSubject.COMMENT if r.comment_id else ReportSubject.VIEWER)
        ),
    )


async def get_report(session: AsyncSession, report_id: int) -> ReportView:
    row = (await session.execute(_query().where(ChatReport.id == report_id))).first()
    if row is None:
        raise NotFound(_("report %(id)s does not exist", id=report_id), code="report-not-found")
    return _view(tuple(row))


async def queue(
    session: AsyncSession,
    live: LiveSession,
    *,
    status: ReportStatus | None = ReportStatus.OPEN,
    limit: int = 50,
) -> list[ReportView]:
    """The session's reports (open ones by default), oldest first."""
    query = _query().where(ChatReport.session_id == live.id)
    if status is not None:
        query = query.where(ChatReport.status == str(status))
    rows = await session.execute(query.order_by(ChatReport.id).limit(max(1, min(limit, QUEUE_MAX))))
    return [_view(tuple(r)) for r in rows.all()]


async def open_count(session: AsyncSession, live: LiveSession) -> int:
    return int(
        await session.scalar(
            select(func.count())
            .select_from(ChatReport)
            .where(ChatReport.session_id == live.id, ChatReport.status == str(ReportStatus.OPEN))
        )
        or 0
    )


async def dismiss(session: AsyncSession, principal: Principal, report_id: int) -> ReportView:
    """A moderator of the report's session saw nothing to do (409 ``report-handled`` if it
    is not open). Commits."""
    row = await session.get(ChatReport, report_id)
    if row is None:
        raise NotFound(_("report %(id)s does not exist", id=report_id), code="report-not-found")
    await service.moderated_session(session, principal, row.session_id)
    done = await session.execute(
        update(ChatReport)
        .where(ChatReport.id == report_id, ChatReport.status == str(ReportStatus.OPEN))
        .values(
            status=str(ReportStatus.DISMISSED), handled_by=principal.user_id, handled_at=utcnow()
        )
        .execution_options(synchronize_session=False)
    )
    if not done.rowcount:  # type: ignore[attr-defined]
        await session.rollback()
        raise Conflict(_("that report was already handled"), code="report-handled")
    await session.commit()
    session.expire_all()
    return await get_report(session, report_id)
