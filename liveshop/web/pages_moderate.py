"""The moderator's live screen for one show, and the page where a creator appoints moderators.

``/studio/sessions/{id}/moderate``: the room's chat as it comes in (hide a line, mute or ban
its author), the reports queue (hide, ban, dismiss), and who is muted or banned. For the
session's creator, their moderators (of all their shows or this one) and admins
(``live.service.ensure_can_control``) — never the owner's controls (pins, deals, the stream
key). Its script (``static/js/moderate.js``) joins the room's socket as the studio does and
calls the chat API (``/api/v1/live/sessions/{id}/…``, ``/api/v1/live/reports/…``).

``/studio/moderators``: the creator's moderators; one is added by e-mail address or exact
display name (of all the creator's shows, or one upcoming or live show) and removed.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import Form, Request, Response
from sqlalchemy import func, select

from liveshop.accounts.deps import CreatorPrincipal, CurrentPrincipal, SessionDep
from liveshop.accounts.models import User
from liveshop.accounts.service import find_user_by_email
from liveshop.chat import reports
from liveshop.chat import service as chat
from liveshop.core.errors import Unprocessable
from liveshop.core.i18n import gettext as _
from liveshop.core.types import Id, Line
from liveshop.helpdesk import service as helpdesk
from liveshop.live import service as live
from liveshop.live.models import LiveSession, SessionStatus
from liveshop.markets.service import get_market
from liveshop.web import live_view
from liveshop.web.flash import redirect
from liveshop.web.routing import page_router
from liveshop.web.templating import render, viewer_of

router = page_router(prefix="/studio", tags=["pages"])


@router.get("/sessions/{session_id}/moderate")
async def moderator_screen(
    session_id: Id, request: Request, session: SessionDep, principal: CurrentPrincipal
) -> Response:
    """The live moderation screen (the creator, their moderators, admins; 403 otherwise)."""
    found = await live.get_session(session, session_id)
    await live.ensure_can_control(session, principal, found)
    mutes = await chat.active_mutes(session, found.creator_id)
    queue = await reports.queue(session, found)
    cases = await helpdesk.session_case_count(session, found.id)
    room = await live_view.room(session, session_id)
    await session.commit()
    market = await get_market(session, room.session.market_code)
    viewer = await viewer_of(session, principal)
    assert viewer is not None
    user = {"id": viewer.user_id, "name": viewer.name, "can_buy": False, "host": True}
    data = live_view.room_data(room, market, user)
    data["session_api"] = f"/api/v1/live/sessions/{session_id}"
    data["reports_api"] = f"/api/v1/live/sessions/{session_id}/reports"
    data["ws_path"] += "?studio=true"  # a moderator's screen is no audience member
    context = {
        "title": _("Moderate · %(title)s", title=room.session.title),
        "room": room,
        "live": found,
        "is_owner": found.creator_id == principal.user_id,
        "room_json": live_view.page_json(data),
        "mutes": mutes,
        "reports": queue,
        "cases": cases,
        "mute_choices": chat.MUTE_CHOICES,
    }
    return await render(request, session, principal, "live/moderate.html", context, market=market)


@router.get("/moderators")
async def moderators_page(
    request: Request, session: SessionDep, principal: CreatorPrincipal
) -> Response:
    """The creator's moderators, and the form to appoint one."""
    rows = await live.list_moderators(session, principal.user_id)
    users = {
        u.id: u
        for u in (
            await session.scalars(select(User).where(User.id.in_({r.user_id for r in rows})))
        ).all()
    }
    titles = dict(
        (
            await session.execute(
                select(LiveSession.id, LiveSession.title).where(
                    LiveSession.id.in_({r.session_id for r in rows if r.session_id})
                )
            )
        ).all()
    )
    shows = (
        await session.execute(
            select(LiveSession.id, LiveSession.title)
            .where(
                LiveSession.creator_id == principal.user_id,
                LiveSession.status.in_([SessionStatus.SCHEDULED, SessionStatus.LIVE]),
            )
            .order_by(LiveSession.planned_start)
            .limit(50)
        )
    ).all()
    context = {
        "title": _("Moderators"),
        "moderators": [
            {
                "id": r.id,
                "name": users[r.user_id].display_name if r.user_id in users else "",
                "email": users[r.user_id].email if r.user_id in users else "",
                "show": titles.get(r.session_id) if r.session_id else None,
            }
            for r in rows
        ],
        "shows": shows,
    }
    return await render(request, session, principal, "live/moderators.html", context)


async def _find(session: SessionDep, who: str) -> User:
    """A user by e-mail address, else by exact display name (one only)."""
    who = who.strip()
    if "@" in who:
        found = await find_user_by_email(session, who)
        if found is not None:
            return found
    else:
        named = (
            await session.scalars(
                select(User).where(func.lower(User.display_name) == who.lower()).limit(2)
            )
        ).all()
        if len(named) == 1:
            return named[0]
        if len(named) > 1:
            raise Unprocessable(
                _("Several people have that name; give their e-mail address."),
                code="ambiguous-user",
            )
    raise Unprocessable(_("Nobody has that e-mail address or name."), code="user-not-found")


@router.post("/moderators")
async def appoint(
    session: SessionDep,
    principal: CreatorPrincipal,
    who: Annotated[Line, Form(min_length=1, max_length=254)],
    show: Annotated[Line, Form(max_length=18, pattern=r"^[0-9]*$")] = "",
) -> Response:
    """Appoint a moderator of all the creator's shows (``show`` empty) or of one."""
    session_id = int(show) if show else None
    user = await _find(session, who)
    if user.id == principal.user_id:
        raise Unprocessable(_("You already run your rooms."), code="cannot-moderate-self")
    await live.add_moderator(
        session, creator_id=principal.user_id, user_id=user.id, session_id=session_id
    )
    return redirect(
        "/studio/moderators",
        flash=("success", _("%(name)s is a moderator.") % {"name": user.display_name}),
    )


@router.post("/moderators/{moderator_id}/remove")
async def dismiss_moderator(
    moderator_id: Id, session: SessionDep, principal: CreatorPrincipal
) -> Response:
    await live.remove_moderator(session, creator_id=principal.user_id, moderator_id=moderator_id)
    return redirect("/studio/moderators", flash=("success", _("Moderator removed.")))
