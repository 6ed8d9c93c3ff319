"""The automatic comment filter's lists over HTTP.

A creator's list (the creator and the moderators of all their sessions; anyone else 403
``not-filter-manager``): ``GET /api/v1/live/chat-filter/creators/{creator_id}``, ``POST
…/terms`` (add), ``DELETE …/terms/{term_id}``, ``PUT …/settings`` ("hold links").

The platform's list (admins; anyone else 403 ``wrong-role``): ``GET
/api/v1/live/chat-filter/platform``, ``POST …/terms`` (for every market, one market or one
language), ``DELETE …/terms/{term_id}``, ``PUT …/settings`` ("hold links" everywhere or in
one market).

Bad input is a 422 problem and changes nothing. The services queue the announcement on their
transaction (``cache=``): once a change commits, every node's filter cache hears of it
(``FilterCache.creator_changed`` / ``platform_changed``) and the next comment in those rooms
is checked against the new list.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Request, status
from pydantic import BaseModel, ConfigDict, Field

from liveshop.accounts.deps import AdminPrincipal, CurrentPrincipal, SessionDep
from liveshop.chat import filters
from liveshop.chat.filter_rules import TERM_INPUT_MAX, TERM_MAX
from liveshop.chat.wiring import chat_caches
from liveshop.core.errors import PROBLEM_RESPONSES
from liveshop.core.types import Id, Line

router = APIRouter(prefix="/api/v1/live/chat-filter", tags=["chat"], responses=PROBLEM_RESPONSES)


RawTerm = Annotated[Line, Field(max_length=TERM_INPUT_MAX)]


class TermsIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    terms: list[RawTerm] = Field(
        min_length=1,
        max_length=filters.ADD_MAX,
        description=f"Words or phrases to hold (1–{TERM_MAX} characters each, with a letter; "
        "matched whole-word, case-insensitively, after Unicode NFKC folding, with "
        "leetspeak digits and spaced-out letters; see docs/architecture.md). Terms already "
        f"listed are kept as they are; at most {filters.ADD_MAX} per request.",
    )


class PlatformTermsIn(TermsIn):
    market: Line | None = Field(
        default=None, max_length=2, description="Only in this market's rooms (e.g. GB)"
    )
    language: Line | None = Field(
        default=None,
        max_length=8,
        description="Only in the rooms of markets of this language (the market locale's: en, "
        "id, th, vi…); not together with market",
    )


class HoldLinksIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    hold_links: bool = Field(
        description="Hold comments carrying a URL, an e-mail address or a phone number"
    )


class PlatformHoldLinksIn(HoldLinksIn):
    market: Line | None = Field(
        default=None, max_length=2, description="This market only; null: every market"
    )


class TermOut(BaseModel):
    id: int
    term: str = Field(description="As matched: NFKC-folded, lower case")
    created_at: datetime
    created_by: int | None


class PlatformTermOut(TermOut):
    market: str | None = Field(description="Only in this market's rooms; null: every market")
    language: str | None = Field(description="Only in this language's markets; null: every one")


class Limits(BaseModel):
    max_terms: int
    term_max_chars: int = TERM_MAX
    add_max: int = filters.ADD_MAX


class CreatorFilterOut(BaseModel):
    creator_id: int
    hold_links: bool
    terms: list[TermOut] = Field(description="In alphabetical order")
    limits: Limits
    added: list[str] | None = Field(
        default=None, description="After an add: the terms that were new"
    )

    @classmethod
    def of(cls, f: filters.CreatorFilter, added: list[str] | None = None) -> CreatorFilterOut:
        return cls(
            creator_id=f.creator_id,
            hold_links=f.hold_links,
            terms=[
                TermOut(id=t.id, term=t.term, created_at=t.created_at, created_by=t.created_by)
                for t in f.terms
            ],
            limits=Limits(max_terms=filters.CREATOR_TERMS_MAX),
            added=added,
        )


class PlatformFilterOut(BaseModel):
    hold_links: bool = Field(description="Links are held in every market")
    hold_links_markets: list[str] = Field(description="Markets where links are held besides")
    terms: list[PlatformTermOut]
    limits: Limits
    added: list[str] | None = Field(
        default=None, description="After an add: the terms that were new"
    )

    @classmethod
    def of(cls, f: filters.PlatformFilter, added: list[str] | None = None) -> PlatformFilterOut:
        return cls(
            hold_links=f.hold_links_everywhere,
            hold_links_markets=f.hold_links_markets,
            terms=[
                PlatformTermOut(
                    id=t.id,
                    term=t.term,
                    created_at=t.created_at,
                    created_by=t.created_by,
                    market=t.market_code or None,
                    language=t.language or None,
                )
                for t in f.terms
            ],
            limits=Limits(max_terms=filters.PLATFORM_TERMS_MAX),
            added=added,
        )


# --- a creator's list ---------------------------------------------------------------------


@router.get("/creators/{creator_id}")
async def creator_filter(
    creator_id: Id, principal: CurrentPrincipal, session: SessionDep
) -> CreatorFilterOut:
    """The creator's blocked terms and "hold links" switch, for all their rooms. The creator
    and the moderators of all their sessions; admins may read it (403 ``not-filter-manager``
    otherwise)."""
    await filters.ensure_sees_creator(session, principal, creator_id)
    return CreatorFilterOut.of(await filters.creator_filter(session, creator_id))


@router.post("/creators/{creator_id}/terms", status_code=status.HTTP_201_CREATED)
async def add_creator_terms(
    creator_id: Id,
    body: TermsIn,
    request: Request,
    principal: CurrentPrincipal,
    session: SessionDep,
) -> CreatorFilterOut:
    """Hold comments with these terms in all the creator's rooms, from the next comment on.
    422 ``bad-term`` (empty, too long, no letter) or ``too-many-terms`` (over the list's
    limit): nothing is added."""
    await filters.ensure_manages_creator(session, principal, creator_id)
    added = await filters.add_creator_terms(
        session,
        creator_id,
        body.terms,
        actor_id=principal.user_id,
        cache=chat_caches(request.app).filters,
    )
    return CreatorFilterOut.of(await filters.creator_filter(session, creator_id), added)


@router.delete("/creators/{creator_id}/terms/{term_id}", status_code=status.HTTP_204_NO_CONTENT)
async def remove_creator_term(
    creator_id: Id,
    term_id: Id,
    request: Request,
    principal: CurrentPrincipal,
    session: SessionDep,
) -> None:
    """Stop holding a term (404 ``term-not-found`` if it is not on this list). Comments held
    before stay hidden until unhidden from the moderation log."""
    await filters.ensure_manages_creator(session, principal, creator_id)
    await filters.remove_creator_term(
        session, creator_id, term_id, cache=chat_caches(request.app).filters
    )


@router.put("/creators/{creator_id}/settings")
async def set_creator_settings(
    creator_id: Id,
    body: HoldLinksIn,
    request: Request,
    principal: CurrentPrincipal,
    session: SessionDep,
) -> CreatorFilterOut:
    """Switch "hold links" (URLs, e-mail addresses, phone numbers) for the creator's rooms."""
    await filters.ensure_manages_creator(session, principal, creator_id)
    await filters.set_creator_hold_links(
        session,
        creator_id,
        body.hold_links,
        actor_id=principal.user_id,
        cache=chat_caches(request.app).filters,
    )
    return CreatorFilterOut.of(await filters.creator_filter(session, creator_id))


# --- the platform's list ---------------------------------------------------------------------


@router.get("/platform")
async def platform_filter(_: AdminPrincipal, session: SessionDep) -> PlatformFilterOut:
    """The platform's blocked terms (each for every market, one market or one language) and
    where links are held. Admins only."""
    return PlatformFilterOut.of(await filters.platform_filter(session))


@router.post("/platform/terms", status_code=status.HTTP_201_CREATED)
async def add_platform_terms(
    body: PlatformTermsIn, request: Request, principal: AdminPrincipal, session: SessionDep
) -> PlatformFilterOut:
    """Hold comments with these terms in every room, or only in one market's or one
    language's. 422 ``bad-term``, ``too-many-terms``, ``unknown-market``,
    ``unknown-language`` or ``bad-term-scope`` (both a market and a language): nothing is
    added."""
    added = await filters.add_platform_terms(
        session,
        body.terms,
        market=body.market,
        language=body.language,
        actor_id=principal.user_id,
        cache=chat_caches(request.app).filters,
    )
    return PlatformFilterOut.of(await filters.platform_filter(session), added)


@router.delete("/platform/terms/{term_id}", status_code=status.HTTP_204_NO_CONTENT)
async def remove_platform_term(
    term_id: Id, request: Request, _: AdminPrincipal, session: SessionDep
) -> None:
    """Stop holding a platform term (404 ``term-not-found``)."""
    await filters.remove_platform_term(session, term_id, cache=chat_caches(request.app).filters)


@router.put("/platform/settings")
async def set_platform_settings(
    body: PlatformHoldLinksIn, request: Request, principal: AdminPrincipal, session: SessionDep
) -> PlatformFilterOut:
    """Switch "hold links" in every market (``market`` null) or in one. A room holds links
    when the platform does (everywhere or in its market) or its creator does."""
    await filters.set_platform_hold_links(
        session,
        body.hold_links,
        market=body.market,
        actor_id=principal.user_id,
        cache=chat_caches(request.app).filters,
    )
    return PlatformFilterOut.of(await filters.platform_filter(session))
