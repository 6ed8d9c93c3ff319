"""Follow a creator and "remind me" from a show's page, follow a shop from its product pages
(the same follows service as the API); the home page puts followed creators' shows first
(``followed_first``)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TypeVar

from fastapi import Depends, Request, Response
from sqlalchemy.ext.asyncio import AsyncSession

from liveshop.accounts.deps import CurrentPrincipal, SessionDep, per_user
from liveshop.core.i18n import gettext
from liveshop.core.i18n import gettext as _
from liveshop.core.ratelimit import Bucket
from liveshop.core.types import Id
from liveshop.live import service as live
from liveshop.live.follows import service as follows
from liveshop.live.models import SessionStatus
from liveshop.web.flash import redirect
from liveshop.web.live_view import SessionCard
from liveshop.web.routing import page_router
from liveshop.web.security import local_path, referer_path

router = page_router(tags=["pages"])

C = TypeVar("C", bound=SessionCard)


async def room_follow_state(
    session: AsyncSession, user_id: int | None, creator_id: int, session_id: int
) -> dict[str, bool]:
    """What the room's Follow and Remind me buttons say for this viewer."""
    if user_id is None or user_id == creator_id:
        return {"can": False, "following": False, "reminded": False}
    return {
        "can": True,
        "following": await follows.is_following(session, user_id, creator_id=creator_id),
        "reminded": await follows.is_reminded(session, user_id, session_id),
    }


async def followed_first(session: AsyncSession, user_id: int | None, cards: Sequence[C]) -> list[C]:
    """The shows of creators the viewer follows first, each group in its own order."""
    if user_id is None:
        return list(cards)
    followed = await follows.followed_creator_ids(session, user_id)
    return sorted(cards, key=lambda c: c.session.creator_id not in followed)


@router.post("/live/{session_id}/follow", dependencies=[Depends(per_user(Bucket.FOLLOW))])
async def follow_toggle(
    session_id: Id, request: Request, session: SessionDep, principal: CurrentPrincipal
) -> Response:
    """Follow the show's creator, or stop following."""
    found = await live.get_session(session, session_id)
    creator_id = found.creator_id
    if await follows.is_following(session, principal.user_id, creator_id=creator_id):
        await follows.unfollow(session, principal.user_id, creator_id=creator_id)
        text = gettext("You no longer follow this creator.")
    else:
        await follows.follow_creator(session, principal.user_id, creator_id)
        text = gettext("Following: we'll tell you when they go live.")
    return redirect(f"/live/{session_id}", flash=("success", text))


@router.post("/live/{session_id}/remind", dependencies=[Depends(per_user(Bucket.FOLLOW))])
async def remind_toggle(
    session_id: Id, request: Request, session: SessionDep, principal: CurrentPrincipal
) -> Response:
    """ "Remind me" of a scheduled show, or not."""
    found = await live.get_session(session, session_id)
    if await follows.is_reminded(session, principal.user_id, session_id):
        await follows.forget_reminder(session, principal.user_id, session_id)
        text = gettext("Reminder removed.")
    elif found.status == SessionStatus.SCHEDULED:
        await follows.remind(session, principal.user_id, found)
        text = gettext("We'll remind you when the show starts.")
    else:
        text = gettext("This show has already started.")
    return redirect(f"/live/{session_id}", flash=("success", text))


@router.post("/shops/{shop_id}/follow", dependencies=[Depends(per_user(Bucket.FOLLOW))])
async def follow_shop_toggle(
    shop_id: Id, request: Request, session: SessionDep, principal: CurrentPrincipal
) -> Response:
    """Follow a shop (its shows' go-live notices reach you), or stop following; back to the
    page the button was on."""
    if await follows.is_following(session, principal.user_id, shop_id=shop_id):
        await follows.unfollow(session, principal.user_id, shop_id=shop_id)
        text = _("You no longer follow this shop.")
    else:
        await follows.follow_shop(session, principal.user_id, shop_id)
        text = _("Following: we'll tell you when its products go live.")
    return redirect(local_path(referer_path(request)), flash=("success", text))
