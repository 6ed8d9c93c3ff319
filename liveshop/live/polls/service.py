"""Polls and Q&A in a live room.

- **Polls**: the host asks (2-4 options; one open poll per room); a viewer votes once — the
  vote's INSERT (unique per poll and viewer) and the guarded ``votes_<n> + 1 WHERE closed_at
  IS NULL`` in one transaction; the host closes it. The counts go to the room (throttled,
  ``live.counts``): the host sees them live, viewers' cards show them once they voted or the
  poll closed (the figures are not secret — a poll's counts are public like a lot's bids).
- **Q&A**: a viewer asks (the comment checks apply: a muted viewer is refused, a question
  the chat filter holds is stored ``held`` and seen by its author only); others upvote once
  (the vote's INSERT, unique per question and viewer, and ``votes + 1``); the host marks one
  "answering now" (one per room: the one answered before goes back to open) and answered.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import ColumnElement, func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from liveshop.accounts.models import User
from liveshop.core.clock import utcnow
from liveshop.core.errors import Conflict, NotFound, Unprocessable
from liveshop.core.events import EventType
from liveshop.core.i18n import gettext as _
from liveshop.live.models import LiveSession, SessionStatus
from liveshop.live.once import commit_once
from liveshop.live.polls.models import (
    MAX_OPTIONS,
    Poll,
    PollVote,
    Question,
    QuestionStatus,
    QuestionVote,
)
from liveshop.realtime.publish import AfterCommit

MAX_OPEN_QUESTIONS = 5  # per viewer and show, waiting to be answered
QUESTION_MAX = 300
POLL_QUESTION_MAX = 200
OPTION_MAX = 80


def _live(live: LiveSession) -> None:
    if live.status != SessionStatus.LIVE:
        raise Conflict(_("this only works while the show is live"), code="session-not-live")


def _text(value: str, *, most: int, what: str) -> str:
    text = value.strip()
    if not 1 <= len(text) <= most:
        raise Unprocessable(
            _("%(what)s must be 1 to %(most)s characters", what=what, most=most),
            code="bad-text",
        )
    return text


# --- polls ------------------------------------------------------------------------------------


def poll_fields(poll: Poll) -> dict[str, Any]:
    counts = poll.counts()
    return {
        "poll_id": poll.id,
        "session_id": poll.session_id,
        "question": poll.question,
        "options": list(poll.options),
        "counts": counts,
        "total": sum(counts),
        "open": poll.closed_at is None,
    }


async def get_poll(session: AsyncSession, poll_id: int) -> Poll:
    found = await session.get(Poll, poll_id, populate_existing=True)
    if found is None:
        raise NotFound(_("poll %(id)s does not exist", id=poll_id), code="poll-not-found")
    return found


async def room_poll(session: AsyncSession, session_id: int) -> Poll | None:
    """The room's latest poll (open, or the last closed)."""
    found: Poll | None = await session.scalar(
        select(Poll).where(Poll.session_id == session_id).order_by(Poll.id.desc()).limit(1)
    )
    return found


async def ask_poll(
    session: AsyncSession,
    live: LiveSession,
    *,
    question: str,
    options: list[str],
    actor_id: int,
    room: AfterCommit | None = None,
) -> Poll:
    _live(live)
    text = _text(question, most=POLL_QUESTION_MAX, what=_("the question"))
    cleaned = [_text(o, most=OPTION_MAX, what=_("an option")) for o in options]
    if not 2 <= len(cleaned) <= MAX_OPTIONS:
        raise Unprocessable(_("a poll has 2 to 4 options"), code="bad-options")
    if len({o.casefold() for o in cleaned}) != len(cleaned):
        raise Unprocessable(_("the options must differ"), code="bad-options")
    still = await session.scalar(
        select(Poll.id).where(Poll.session_id == live.id, Poll.closed_at.is_(None))
    )
    if still is not None:
        raise Conflict(
            _("this room's poll is still open: close it first"),
            code="poll-already-open",
            poll_id=still,
        )
    poll = Poll(
        session_id=live.id,
        question=text,
        options=cleaned,
        votes_0=0,
        votes_1=0,
        votes_2=0,
        votes_3=0,
        created_by=actor_id,
    )
    session.add(poll)
    await session.flush()
    if room is not None:
        room.publish(live.id, EventType.POLL_OPENED, {"poll": poll_fields(poll)})
    await session.commit()
    return poll


async def vote(session: AsyncSession, poll_id: int, user_id: int, option: int) -> Poll:
    """One vote per viewer (409 ``already-voted``); 409 ``poll-closed``. Commits."""
    poll = await get_poll(session, poll_id)
    if not 0 <= option < len(poll.options):
        raise Unprocessable(_("no such option"), code="bad-option")
    if poll.closed_at is not None:
        raise Conflict(_("the poll is closed"), code="poll-closed")
    column = getattr(Poll, f"votes_{option}")
    moved = await session.scalar(
        update(Poll)
        .where(Poll.id == poll_id, Poll.closed_at.is_(None))
        .values({column: column + 1})
        .returning(Poll.id)
        .execution_options(synchronize_session=False)
    )
    if moved is None:
        await session.rollback()
        raise Conflict(_("the poll is closed"), code="poll-closed")
    await commit_once(
        session,
        PollVote(poll_id=poll_id, user_id=user_id, option=option),
        Conflict(_("you have already voted"), code="already-voted"),
    )
    return await get_poll(session, poll_id)


async def my_vote(session: AsyncSession, poll_id: int, user_id: int) -> int | None:
    found: int | None = await session.scalar(
        select(PollVote.option).where(PollVote.poll_id == poll_id, PollVote.user_id == user_id)
    )
    return found


async def close_poll(
    session: AsyncSession, poll_id: int, *, room: AfterCommit | None = None
) -> Poll:
    done = await session.scalar(
        update(Poll)
        .where(Poll.id == poll_id, Poll.closed_at.is_(None))
        .values(closed_at=utcnow())
        .returning(Poll.id)
        .execution_options(synchronize_session=False)
    )
    if done is None:
        await session.rollback()
        await get_poll(session, poll_id)
        raise Conflict(_("the poll is closed"), code="poll-closed")
    poll = await get_poll(session, poll_id)
    if room is not None:
        room.publish(poll.session_id, EventType.POLL_CLOSED, {"poll": poll_fields(poll)})
    await session.commit()
    return poll


# --- Q&A --------------------------------------------------------------------------------------


def question_fields(q: Question, author: str | None) -> dict[str, Any]:
    return {
        "question_id": q.id,
        "session_id": q.session_id,
        "text": q.text,
        "author": author,
        "user_id": q.user_id,
        "votes": q.votes,
        # A held question looks asked to its author (as a held comment does).
        "status": QuestionStatus.OPEN if q.status == QuestionStatus.HELD else q.status,
    }


async def question_author(session: AsyncSession, user_id: int) -> str | None:
    name: str | None = await session.scalar(select(User.display_name).where(User.id == user_id))
    return name


async def get_question(session: AsyncSession, question_id: int) -> Question:
    found = await session.get(Question, question_id, populate_existing=True)
    if found is None:
        raise NotFound(
            _("question %(id)s does not exist", id=question_id), code="question-not-found"
        )
    return found


async def ask_question(
    session: AsyncSession,
    live: LiveSession,
    user_id: int,
    text: str,
    *,
    held: bool,
    room: AfterCommit | None = None,
) -> Question:
    """``held``: the chat filter holds it (stored, shown to its author only)."""
    _live(live)
    cleaned = _text(text, most=QUESTION_MAX, what=_("a question"))
    waiting = await session.scalar(
        select(func.count())
        .select_from(Question)
        .where(
            Question.session_id == live.id,
            Question.user_id == user_id,
            Question.status.in_([QuestionStatus.OPEN, QuestionStatus.HELD]),
        )
    )
    if (waiting or 0) >= MAX_OPEN_QUESTIONS:
        raise Conflict(
            _(
                "you have %(n)s questions waiting: let the host answer some first",
                n=MAX_OPEN_QUESTIONS,
            ),
            code="too-many-questions",
        )
    q = Question(
        session_id=live.id,
        user_id=user_id,
        text=cleaned,
        status=QuestionStatus.HELD if held else QuestionStatus.OPEN,
        votes=0,
    )
    session.add(q)
    await session.flush()
    fields = question_fields(q, await question_author(session, user_id))
    if room is not None and not held:
        room.publish(live.id, EventType.QUESTION_ASKED, {"question": fields})
    await session.commit()
    return q


async def upvote(session: AsyncSession, question_id: int, user_id: int) -> Question:
    """Once per viewer (409 ``already-upvoted``); not one's own (409 ``own-question``)."""
    q = await get_question(session, question_id)
    if q.user_id == user_id:
        raise Conflict(_("you cannot upvote your own question"), code="own-question")
    moved = await session.scalar(
        update(Question)
        .where(
            Question.id == question_id,
            Question.status.in_([QuestionStatus.OPEN, QuestionStatus.ANSWERING]),
        )
        .values(votes=Question.votes + 1)
        .returning(Question.votes)
        .execution_options(synchronize_session=False)
    )
    if moved is None:
        await session.rollback()
        raise Conflict(_("this question is no longer open"), code="question-closed")
    await commit_once(
        session,
        QuestionVote(question_id=question_id, user_id=user_id),
        Conflict(_("you have already upvoted this question"), code="already-upvoted"),
    )
    return await get_question(session, question_id)


async def set_status(
    session: AsyncSession,
    question_id: int,
    status: QuestionStatus,
    *,
    room: AfterCommit | None = None,
) -> Question:
    """``answering``: the host answers it now (any other answered now goes back to open);
    ``answered``: done. Commits."""
    if status not in (QuestionStatus.ANSWERING, QuestionStatus.ANSWERED):
        raise Unprocessable(_("a question is marked answering or answered"), code="bad-status")
    q = await get_question(session, question_id)
    if q.status in (QuestionStatus.ANSWERED, QuestionStatus.HELD):
        raise Conflict(_("this question is no longer open"), code="question-closed")
    others: list[Question] = []
    if status == QuestionStatus.ANSWERING:
        others = list(
            (
                await session.scalars(
                    update(Question)
                    .where(
                        Question.session_id == q.session_id,
                        Question.status == QuestionStatus.ANSWERING,
                        Question.id != q.id,
                    )
                    .values(status=QuestionStatus.OPEN)
                    .returning(Question)
                    .execution_options(synchronize_session=False)
                )
            ).all()
        )
    moved = await session.scalar(
        update(Question)
        .where(
            Question.id == question_id,
            Question.status.in_([QuestionStatus.OPEN, QuestionStatus.ANSWERING]),
        )
        .values(
            status=status,
            answered_at=utcnow() if status == QuestionStatus.ANSWERED else None,
        )
        .returning(Question.id)
        .execution_options(synchronize_session=False)
    )
    if moved is None:
        await session.rollback()
        raise Conflict(_("this question is no longer open"), code="question-closed")
    q = await get_question(session, question_id)
    if room is not None:
        for other in others:
            room.publish(
                q.session_id,
                EventType.QUESTION_STATUS,
                {"question": question_fields(other, await question_author(session, other.user_id))},
            )
        room.publish(
            q.session_id,
            EventType.QUESTION_STATUS,
            {"question": question_fields(q, await question_author(session, q.user_id))},
        )
    await session.commit()
    return q


async def list_questions(
    session: AsyncSession, session_id: int, viewer_id: int | None, *, limit: int = 100
) -> list[dict[str, Any]]:
    """Waiting and answered-now questions by upvotes (then oldest first), the viewer's own
    held ones among them; then the answered ones, newest first. ``voted``: whether the viewer
    upvoted it."""
    visible: ColumnElement[bool] = Question.status.in_(
        [QuestionStatus.OPEN, QuestionStatus.ANSWERING]
    )
    if viewer_id is not None:
        mine_held = (Question.status == QuestionStatus.HELD) & (Question.user_id == viewer_id)
        visible = visible | mine_held
    rows = (
        await session.execute(
            select(Question, User.display_name)
            .join(User, User.id == Question.user_id)
            .where(Question.session_id == session_id, visible)
            .order_by(Question.votes.desc(), Question.id)
            .limit(limit)
        )
    ).all()
    answered = (
        await session.execute(
            select(Question, User.display_name)
            .join(User, User.id == Question.user_id)
            .where(Question.session_id == session_id, Question.status == QuestionStatus.ANSWERED)
            .order_by(Question.id.desc())
            .limit(20)
        )
    ).all()
    mine: set[int] = set()
    every = [q.id for q, _n in [*rows, *answered]]
    if viewer_id is not None and every:
        mine = set(
            (
                await session.scalars(
                    select(QuestionVote.question_id).where(
                        QuestionVote.user_id == viewer_id, QuestionVote.question_id.in_(every)
                    )
                )
            ).all()
        )
    return [{**question_fields(q, name), "voted": q.id in mine} for q, name in [*rows, *answered]]


async def answering_now(session: AsyncSession, session_id: int) -> dict[str, Any] | None:
    row = (
        await session.execute(
            select(Question, User.display_name)
            .join(User, User.id == Question.user_id)
            .where(Question.session_id == session_id, Question.status == QuestionStatus.ANSWERING)
            .limit(1)
        )
    ).first()
    return None if row is None else question_fields(row[0], row[1])
