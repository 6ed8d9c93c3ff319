"""Blocked words: the automatic comment filter's lists as pages.

``/studio/chat-filter`` — a creator's own list and "hold links" switch, for all their rooms;
the moderators of all a creator's sessions manage it too (``?creator=`` picks whose, when
they moderate for several). Anyone else gets the 403 page (``chat.filters``).

``/admin/chat-filter`` — the platform's list (every market, one market or one language) and
where links are held. Admins only.

Each form calls the same ``chat.filters`` functions as the API, handing them the node's
filter cache: the change reaches every node's cache with its commit, never without it. Bad
input comes back to the page as a message and changes nothing.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import Form, Query, Request, Response

from liveshop.accounts.deps import AdminPrincipal, CurrentPrincipal, SessionDep
from liveshop.accounts.service import get_user
from liveshop.chat import filters
from liveshop.chat.filter_rules import TERM_MAX
from liveshop.chat.wiring import chat_caches
from liveshop.core.errors import Forbidden
from liveshop.core.i18n import gettext
from liveshop.core.types import Id, Line, Text
from liveshop.markets.service import list_markets
from liveshop.web.flash import redirect
from liveshop.web.routing import page_router
from liveshop.web.templating import render

router = page_router(tags=["pages"])

STUDIO = "/studio/chat-filter"
ADMIN = "/admin/chat-filter"
BOX_MAX = 100 * 102  # the terms box: ADD_MAX terms of up to 100 characters, separated
TermsBox = Annotated[Text, Form(max_length=BOX_MAX)]


def _added_text(added: list[str], asked: int) -> str:
    if not added:
        return "Those words were on the list already."
    shown = ", ".join(f"“{t}”" for t in added[:5]) + (" …" if len(added) > 5 else "")
    kept = asked - len(added)
    more = f" ({kept} already listed)" if kept > 0 else ""
    return f"Now held: {shown}{more}."


# --- a creator's list ---------------------------------------------------------------------


async def _creator(session: SessionDep, principal: CurrentPrincipal, creator: int | None) -> int:
    """Whose list: the one asked for (if the caller manages it), else the caller's first."""
    if creator is not None:
        await filters.ensure_manages_creator(session, principal, creator)
        return creator
    managed = await filters.managed_creators(session, principal)
    if not managed:
        raise Forbidden(
            gettext("Only creators and the moderators of all their shows manage blocked words."),
            code="not-filter-manager",
        )
    return managed[0]


def _studio(creator_id: Id, principal_id: Id, anchor: str = "") -> str:
    query = "" if creator_id == principal_id else f"?creator={creator_id}"
    return STUDIO + query + (f"#{anchor}" if anchor else "")


@router.get(STUDIO)
async def studio_filter(
    request: Request,
    session: SessionDep,
    principal: CurrentPrincipal,
    creator: Annotated[Id | None, Query(lt=2**63)] = None,
) -> Response:
    creator_id = await _creator(session, principal, creator)
    mine = await filters.creator_filter(session, creator_id)
    managed = await filters.managed_creators(session, principal)
    names = {c: (await get_user(session, c)).display_name for c in managed}
    context = {
        "title": gettext("Blocked words"),
        "creator_id": creator_id,
        "own": creator_id == principal.user_id,
        "creator_name": names.get(creator_id) or (await get_user(session, creator_id)).display_name,
        "managed": names,
        "filter": mine,
        "max_terms": filters.CREATOR_TERMS_MAX,
        "add_max": filters.ADD_MAX,
        "term_max": TERM_MAX,
    }
    return await render(request, session, principal, "live/chat_filter.html", context)


@router.post(f"{STUDIO}/terms")
async def studio_add_terms(
    request: Request,
    session: SessionDep,
    principal: CurrentPrincipal,
    creator: Annotated[Id, Form(lt=2**63)],
    terms: TermsBox,
) -> Response:
    await filters.ensure_manages_creator(session, principal, creator)
    asked = filters.split_terms(terms)
    added = await filters.add_creator_terms(
        session, creator, asked, actor_id=principal.user_id, cache=chat_caches(request.app).filters
    )
    text = _added_text(added, len(set(asked)))
    return redirect(_studio(creator, principal.user_id, "terms"), flash=("success", text))


@router.post(STUDIO + "/terms/{term_id}/delete")
async def studio_remove_term(
    term_id: Id,
    request: Request,
    session: SessionDep,
    principal: CurrentPrincipal,
    creator: Annotated[Id, Form(lt=2**63)],
) -> Response:
    await filters.ensure_manages_creator(session, principal, creator)
    term = await filters.remove_creator_term(
        session, creator, term_id, cache=chat_caches(request.app).filters
    )
    return redirect(
        _studio(creator, principal.user_id, "terms"),
        flash=("info", gettext("“%(term)s” is no longer held.", term=term)),
    )


@router.post(f"{STUDIO}/settings")
async def studio_settings(
    request: Request,
    session: SessionDep,
    principal: CurrentPrincipal,
    creator: Annotated[Id, Form(lt=2**63)],
    hold_links: Annotated[bool, Form()] = False,
) -> Response:
    await filters.ensure_manages_creator(session, principal, creator)
    await filters.set_creator_hold_links(
        session,
        creator,
        hold_links,
        actor_id=principal.user_id,
        cache=chat_caches(request.app).filters,
    )
    text = (
        gettext("Comments with links, e-mail addresses or phone numbers are now held.")
        if hold_links
        else gettext("Comments with links are no longer held.")
    )
    return redirect(_studio(creator, principal.user_id, "links"), flash=("success", text))


# --- the platform's list -------------------------------------------------------------------


@router.get(ADMIN)
async def admin_filter(
    request: Request, session: SessionDep, principal: AdminPrincipal
) -> Response:
    markets = await list_markets(session)
    languages = await filters.market_languages(session)
    context = {
        "title": gettext("Blocked words"),
        "section": "chat-filter",
        "filter": await filters.platform_filter(session),
        "markets": markets,
        "languages": sorted(set(languages.values())),
        "max_terms": filters.PLATFORM_TERMS_MAX,
        "add_max": filters.ADD_MAX,
        "term_max": TERM_MAX,
    }
    return await render(request, session, principal, "admin/chat_filter.html", context)


@router.post(f"{ADMIN}/terms")
async def admin_add_terms(
    request: Request,
    session: SessionDep,
    principal: AdminPrincipal,
    terms: TermsBox,
    scope: Annotated[Line, Form(max_length=20)] = "",
) -> Response:
    """``scope``: '' (every market), ``market:GB`` or ``language:en``."""
    kind, _, value = scope.partition(":")
    asked = filters.split_terms(terms)
    added = await filters.add_platform_terms(
        session,
        asked,
        market=value if kind == "market" else None,
        language=value if kind == "language" else None,
        actor_id=principal.user_id,
        cache=chat_caches(request.app).filters,
    )
    return redirect(f"{ADMIN}#terms", flash=("success", _added_text(added, len(set(asked)))))


@router.post(ADMIN + "/terms/{term_id}/delete")
async def admin_remove_term(
    term_id: Id, request: Request, session: SessionDep, _: AdminPrincipal
) -> Response:
    term = await filters.remove_platform_term(
        session, term_id, cache=chat_caches(request.app).filters
    )
    return redirect(
        f"{ADMIN}#terms", flash=("info", gettext("“%(term)s” is no longer held.", term=term))
    )


@router.post(f"{ADMIN}/settings")
async def admin_settings(
    request: Request,
    session: SessionDep,
    principal: AdminPrincipal,
    market: Annotated[Line, Form(max_length=2)] = "",
    hold_links: Annotated[bool, Form()] = False,
) -> Response:
    await filters.set_platform_hold_links(
        session,
        hold_links,
        market=market or None,
        actor_id=principal.user_id,
        cache=chat_caches(request.app).filters,
    )
    if hold_links:
        text = (
            gettext("Links are now held in %(market)s.", market=market.upper())
            if market
            else gettext("Links are now held in every market.")
        )
    else:
        text = (
            gettext("Links are no longer held in %(market)s.", market=market.upper())
            if market
            else gettext("Links are no longer held in every market.")
        )
    return redirect(f"{ADMIN}#links", flash=("success", text))
