"""Polls and Q&A over HTTP: the host asks and closes polls and marks questions; signed-in
viewers vote, ask and upvote; anyone reads the room's poll and questions."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Request, status
from pydantic import BaseModel, ConfigDict, Field

from liveshop.accounts.deps import CurrentPrincipal, MaybePrincipal, SessionDep, per_user
from liveshop.core.errors import PROBLEM_RESPONSES, Forbidden, NotFound
from liveshop.core.events import EventType
from liveshop.core.i18n import gettext as _
from liveshop.core.ratelimit import RATE_LIMITED, Bucket
from liveshop.core.types import Id, Line
from liveshop.live import service as live_service
from liveshop.live.counts import RoomCounts
from liveshop.live.polls import service
from liveshop.live.polls.models import MAX_OPTIONS, Poll, QuestionStatus
from liveshop.realtime.hub import Hub
from liveshop.realtime.publish import RoomPublisherDep

router = APIRouter(prefix="/api/v1/live", tags=["polls"], responses=PROBLEM_RESPONSES)

# A viewer's votes, questions and upvotes share the room's engagement limit (per user).
ENGAGE = [Depends(per_user(Bucket.ENGAGE))]

Option = Annotated[Line, Field(min_length=1, max_length=service.OPTION_MAX)]


class PollIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    question: Line = Field(min_length=1, max_length=service.POLL_QUESTION_MAX)
    options: list[Option] = Field(min_length=2, max_length=MAX_OPTIONS)


class VoteIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    option: int = Field(ge=0, lt=MAX_OPTIONS, strict=True, description="The option's index")


class PollOut(BaseModel):
    poll_id: int
    session_id: int
    question: str
    options: list[str]
    counts: list[int] | None = Field(
        description="Votes per option: for the hosts, for viewers who voted, and once closed"
    )
    total: int
    open: bool
    your_vote: int | None = None


class QuestionIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    text: Line = Field(min_length=1, max_length=service.QUESTION_MAX)


class QuestionStatusIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    status: QuestionStatus = Field(description="answering (now, shown to all) or answered")


class QuestionOut(BaseModel):
    question_id: int
    session_id: int
    text: str
    author: str | None
    user_id: int
    votes: int
    status: str
    voted: bool = False


def _counts(request: Request) -> RoomCounts:
    counts: RoomCounts = request.app.state.room_counts
    return counts


async def _poll_out(
    session: SessionDep, poll: Poll, viewer_id: int | None, *, host: bool = False
) -> PollOut:
    fields = service.poll_fields(poll)
    mine = await service.my_vote(session, poll.id, viewer_id) if viewer_id is not None else None
    shown = host or mine is not None or not fields["open"]
    return PollOut(
        poll_id=poll.id,
        session_id=poll.session_id,
        question=poll.question,
        options=list(poll.options),
        counts=fields["counts"] if shown else None,
        total=fields["total"],
        open=fields["open"],
        your_vote=mine,
    )


async def _control(session: SessionDep, principal: CurrentPrincipal, session_id: int) -> None:
    live = await live_service.get_session(session, session_id)
    await live_service.ensure_can_control(session, principal, live)


async def _is_host(session: SessionDep, principal: MaybePrincipal, session_id: int) -> bool:
    if principal is None:
        return False
    if principal.is_admin:
        return True
    live = await live_service.get_session(session, session_id)
    return await live_service.is_host(session, principal.user_id, live)


@router.post("/sessions/{session_id}/polls", status_code=status.HTTP_201_CREATED)
async def ask_poll(
    session_id: Id,
    body: PollIn,
    principal: CurrentPrincipal,
    session: SessionDep,
    publisher: RoomPublisherDep,
) -> PollOut:
    """The creator or their moderator asks the room (2-4 options; one open poll a room)."""
    live = await live_service.get_session(session, session_id)
    await live_service.ensure_can_control(session, principal, live)
    poll = await service.ask_poll(
        session,
        live,
        question=body.question,
        options=list(body.options),
        actor_id=principal.user_id,
        room=publisher.on_commit(session),
    )
    return await _poll_out(session, poll, principal.user_id, host=True)


@router.get("/sessions/{session_id}/poll")
async def room_poll(session_id: Id, session: SessionDep, principal: MaybePrincipal) -> PollOut:
    """The room's poll (open, or the last closed); 404 when there is none. Public; the counts
    are shown to the hosts, to viewers who voted and once it is closed."""
    await live_service.get_session(session, session_id)
    poll = await service.room_poll(session, session_id)
    if poll is None:
        raise NotFound(_("no poll in this room"), code="no-poll")
    host = await _is_host(session, principal, session_id)
    return await _poll_out(session, poll, principal.user_id if principal else None, host=host)


@router.post(
    "/polls/{poll_id}/votes",
    status_code=status.HTTP_201_CREATED,
    dependencies=ENGAGE,
    responses=RATE_LIMITED,
)
async def vote(
    poll_id: Id, body: VoteIn, request: Request, principal: CurrentPrincipal, session: SessionDep
) -> PollOut:
    """Vote once (409 ``already-voted``, ``poll-closed``); the answer carries the counts."""
    poll = await service.vote(session, poll_id, principal.user_id, body.option)
    fields = service.poll_fields(poll)
    _counts(request).note(
        poll.session_id,
        EventType.POLL_VOTES,
        poll.id,
        {"poll_id": poll.id, "counts": fields["counts"], "total": fields["total"]},
        fields["total"],
    )
    return await _poll_out(session, poll, principal.user_id)


@router.post("/polls/{poll_id}/close")
async def close_poll(
    poll_id: Id, principal: CurrentPrincipal, session: SessionDep, publisher: RoomPublisherDep
) -> PollOut:
    """The host closes the poll: everyone sees the final counts."""
    poll = await service.get_poll(session, poll_id)
    await _control(session, principal, poll.session_id)
    poll = await service.close_poll(session, poll_id, room=publisher.on_commit(session))
    return await _poll_out(session, poll, principal.user_id, host=True)


# --- Q&A ------------------------------------------------------------------------------------


def _hub(request: Request) -> Hub:
    hub: Hub = request.app.state.hub
    return hub


@router.post(
    "/sessions/{session_id}/questions",
    status_code=status.HTTP_201_CREATED,
    dependencies=ENGAGE,
    responses=RATE_LIMITED,
)
async def ask_question(
    session_id: Id,
    body: QuestionIn,
    request: Request,
    principal: CurrentPrincipal,
    session: SessionDep,
    publisher: RoomPublisherDep,
) -> QuestionOut:
    """Ask the host (signed in; the room's comment rules apply: 403 ``muted`` for a muted
    viewer; a question the chat filter holds is seen by its author only)."""
    live = await live_service.get_session(session, session_id)
    checks = _hub(request).checks
    held = False
    if not await live_service.is_host(session, principal.user_id, live):
        muted = await checks.muted(live.creator_id, principal.user_id)
        if muted is not None:
            until = muted.expires_at
            raise Forbidden(
                _("you are muted in this room"),
                code="muted",
                until=until.isoformat() if until is not None else None,
            )
        held = await checks.held(live.creator_id, live.market_code, body.text) is not None
    q = await service.ask_question(
        session, live, principal.user_id, body.text, held=held, room=publisher.on_commit(session)
    )
    name = await service.question_author(session, q.user_id)
    return QuestionOut(**service.question_fields(q, name))


@router.get("/sessions/{session_id}/questions")
async def list_questions(
    session_id: Id, session: SessionDep, principal: MaybePrincipal
) -> list[QuestionOut]:
    """The room's questions, most upvoted first (then the answered ones). Public."""
    await live_service.get_session(session, session_id)
    rows = await service.list_questions(
        session, session_id, principal.user_id if principal else None
    )
    return [QuestionOut(**r) for r in rows]


@router.post(
    "/questions/{question_id}/upvotes",
    status_code=status.HTTP_201_CREATED,
    dependencies=ENGAGE,
    responses=RATE_LIMITED,
)
async def upvote(
    question_id: Id, request: Request, principal: CurrentPrincipal, session: SessionDep
) -> QuestionOut:
    """Upvote once (409 ``already-upvoted``; not your own: 409 ``own-question``)."""
    q = await service.upvote(session, question_id, principal.user_id)
    _counts(request).note(
        q.session_id,
        EventType.QUESTION_VOTES,
        q.id,
        {"question_id": q.id, "votes": q.votes},
        q.votes,
    )
    name = await service.question_author(session, q.user_id)
    return QuestionOut(**service.question_fields(q, name), voted=True)


@router.post("/questions/{question_id}/status")
async def set_question_status(
    question_id: Id,
    body: QuestionStatusIn,
    principal: CurrentPrincipal,
    session: SessionDep,
    publisher: RoomPublisherDep,
) -> QuestionOut:
    """The host marks a question answering now (shown to everyone) or answered."""
    q = await service.get_question(session, question_id)
    await _control(session, principal, q.session_id)
    q = await service.set_status(
        session, question_id, body.status, room=publisher.on_commit(session)
    )
    name = await service.question_author(session, q.user_id)
    return QuestionOut(**service.question_fields(q, name))
