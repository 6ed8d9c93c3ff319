"""The automatic comment filter's lists: who manages them, adding and removing terms, the
"hold links" switches, and what a room's filter is made of.

Two kinds of list (terms are folded by ``chat.filter_rules.normalise_term``; the matching
rules are that module's):

- a **creator's list** and their "hold links" switch, for all their rooms — managed by the
  creator and the moderators of all their sessions (``ensure_manages_creator``; a
  one-session moderator, an admin and anyone else get 403 ``not-filter-manager``); admins
  may read it (``ensure_sees_creator``);
- the **platform's list** (admins): each term for every market, one market, or the markets
  of one language (a market's language is its locale's: ``en_GB`` → ``en``), and "hold
  links" for every market or one.

Limits: a term is 1–``TERM_MAX`` characters with a letter; a creator's list holds at most
``CREATOR_TERMS_MAX`` terms, the platform's ``PLATFORM_TERMS_MAX``; one request adds at most
``ADD_MAX``. Bad input is refused as a whole (422) and nothing changes. Every change commits;
given the node's filter cache (``cache=``), it queues the announcement to every node on its
transaction (``chat.announce``): it goes out with the commit, never without it.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import delete, func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from liveshop.accounts.models import Role
from liveshop.accounts.service import Principal
from liveshop.chat import announce
from liveshop.chat.announce import FilterChanges
from liveshop.chat.filter_rules import BadTerm, normalise_term
from liveshop.chat.models import (
    BlockedTerm,
    ChatFilterSettings,
    PlatformBlockedTerm,
    PlatformFilterSettings,
)
from liveshop.core.clock import utcnow
from liveshop.core.errors import Conflict, Forbidden, NotFound, Unprocessable
from liveshop.core.i18n import gettext
from liveshop.live.models import LiveSession, SessionModerator
from liveshop.markets.models import Market

CREATOR_TERMS_MAX = 1000
PLATFORM_TERMS_MAX = 5000
ADD_MAX = 100
EVERY_MARKET = ""  # PlatformFilterSettings.market_code / PlatformBlockedTerm scope: no limit


@dataclass(frozen=True, slots=True)
class TermView:
    id: int
    term: str
    created_at: datetime
    created_by: int | None
    market_code: str = ""  # platform terms: '' every market
    language: str = ""  # platform terms: '' every language


@dataclass(frozen=True, slots=True)
class CreatorFilter:
    creator_id: int
    hold_links: bool
    terms: list[TermView]  # in term order


@dataclass(frozen=True, slots=True)
class PlatformFilter:
    hold_links_everywhere: bool
    hold_links_markets: list[str]  # markets where links are held (besides everywhere)
    terms: list[TermView]  # by scope, then term


# --- who may ------------------------------------------------------------------------------


async def ensure_sees_creator(session: AsyncSession, principal: Principal, creator_id: int) -> None:
    """Who may read a creator's list: those who manage it, and admins (read-only: trust and
    safety can check that a list holds abuse, not every critical review); 403 otherwise."""
    if principal.has(Role.ADMIN):
        return
    await ensure_manages_creator(session, principal, creator_id)


async def ensure_manages_creator(
    session: AsyncSession, principal: Principal, creator_id: int
) -> None:
    """The creator (holding the creator role, or having hosted a session) or a moderator of
    all their sessions; 403 ``not-filter-manager`` for anyone else."""
    if principal.user_id == creator_id:
        if principal.has(Role.CREATOR) or await _hosted_any(session, creator_id):
            return
    elif await _moderates_all(session, principal.user_id, creator_id):
        return
    raise Forbidden(
        gettext(
            "only the creator and the moderators of all their sessions manage their blocked terms"
        ),
        code="not-filter-manager",
        creator_id=creator_id,
    )


async def _hosted_any(session: AsyncSession, creator_id: int) -> bool:
    found = await session.scalar(
        select(LiveSession.id).where(LiveSession.creator_id == creator_id).limit(1)
    )
    return found is not None


async def _moderates_all(session: AsyncSession, user_id: int, creator_id: int) -> bool:
    found = await session.scalar(
        select(SessionModerator.id)
        .where(
            SessionModerator.user_id == user_id,
            SessionModerator.creator_id == creator_id,
            SessionModerator.session_id.is_(None),
        )
        .limit(1)
    )
    return found is not None


async def managed_creators(session: AsyncSession, principal: Principal) -> list[int]:
    """Whose lists ``principal`` may manage: their own (a creator), then those they
    moderate all sessions of."""
    out: list[int] = []
    if principal.has(Role.CREATOR) or await _hosted_any(session, principal.user_id):
        out.append(principal.user_id)
    rows = await session.scalars(
        select(SessionModerator.creator_id)
        .where(
            SessionModerator.user_id == principal.user_id,
            SessionModerator.session_id.is_(None),
            SessionModerator.creator_id.is_not(None),
        )
        .order_by(SessionModerator.id)
    )
    out.extend(c for c in rows.all() if c is not None and c not in out)
    return out


# --- input --------------------------------------------------------------------------------


def clean_terms(raw: Sequence[str]) -> list[str]:
    """The folded terms, duplicates dropped, in the order given; 422 for any bad one (and
    for none, or more than ``ADD_MAX``)."""
    if not raw:
        raise Unprocessable(gettext("give at least one term"), code="bad-term")
    if len(raw) > ADD_MAX:
        raise Unprocessable(
            gettext("add at most %(add_max)s terms at a time", add_max=ADD_MAX),
            code="too-many-terms",
            limit=ADD_MAX,
        )
    out: list[str] = []
    for i, text in enumerate(raw):
        try:
            term = normalise_term(text)
        except BadTerm as exc:
            raise Unprocessable(
                gettext(
                    "term %(value)s (%(text)s): %(exc)s", value=i + 1, text=repr(text[:60]), exc=exc
                ),
                code="bad-term",
                index=i,
            ) from exc
        if term not in out:
            out.append(term)
    return out


def split_terms(text: str) -> list[str]:
    """A form's box of terms: one per line, or separated by commas."""
    return [t for t in (p.strip() for p in re.split(r"[\n,]", text)) if t]


# --- a creator's list ---------------------------------------------------------------------


async def creator_filter(session: AsyncSession, creator_id: int) -> CreatorFilter:
    rows = await session.scalars(
        select(BlockedTerm).where(BlockedTerm.creator_id == creator_id).order_by(BlockedTerm.term)
    )
    settings = await session.get(ChatFilterSettings, creator_id)
    return CreatorFilter(
        creator_id=creator_id,
        hold_links=settings.hold_links if settings is not None else False,
        terms=[TermView(t.id, t.term, t.created_at, t.created_by) for t in rows.all()],
    )


async def add_creator_terms(
    session: AsyncSession,
    creator_id: int,
    raw: Sequence[str],
    *,
    actor_id: int,
    cache: FilterChanges | None = None,
) -> list[str]:
    """Add terms to the creator's list (those already there are kept as they are); the
    terms that were new. 422 for bad input or a list over ``CREATOR_TERMS_MAX``. Commits."""
    terms = clean_terms(raw)
    have = set(
        (
            await session.scalars(
                select(BlockedTerm.term).where(BlockedTerm.creator_id == creator_id)
            )
        ).all()
    )
    new = [t for t in terms if t not in have]
    if len(have) + len(new) > CREATOR_TERMS_MAX:
        raise Unprocessable(
            gettext(
                "a creator's list holds at most %(creator_terms_max)s terms (%(have)s listed, %(new)s new)",  # noqa: E501
                creator_terms_max=CREATOR_TERMS_MAX,
                have=len(have),
                new=len(new),
            ),
            code="too-many-terms",
            limit=CREATOR_TERMS_MAX,
        )
    now = utcnow()
    session.add_all(
        BlockedTerm(creator_id=creator_id, term=t, created_by=actor_id, created_at=now) for t in new
    )
    _creator_changed(session, cache, creator_id)
    await _commit(session)
    return new


async def remove_creator_term(
    session: AsyncSession, creator_id: int, term_id: int, *, cache: FilterChanges | None = None
) -> str:
    """Take a term off the creator's list (404 ``term-not-found``); the term. Commits."""
    row = await session.get(BlockedTerm, term_id)
    if row is None or row.creator_id != creator_id:
        raise NotFound(
            gettext("term %(term_id)s is not on this list", term_id=term_id), code="term-not-found"
        )
    term = row.term
    await session.delete(row)
    _creator_changed(session, cache, creator_id)
    await session.commit()
    return term


async def set_creator_hold_links(
    session: AsyncSession,
    creator_id: int,
    hold_links: bool,
    *,
    actor_id: int,
    cache: FilterChanges | None = None,
) -> None:
    """Switch "hold links" for all the creator's rooms. Commits."""
    row = await session.get(ChatFilterSettings, creator_id)
    if row is None:
        row = ChatFilterSettings(creator_id=creator_id)
        session.add(row)
    row.hold_links = hold_links
    row.updated_at = utcnow()
    row.updated_by = actor_id
    _creator_changed(session, cache, creator_id)
    await _commit(session)


def _creator_changed(session: AsyncSession, cache: FilterChanges | None, creator_id: int) -> None:
    if cache is not None:
        announce.creator_filter_changed(session, cache, creator_id)


def _platform_changed(session: AsyncSession, cache: FilterChanges | None) -> None:
    if cache is not None:
        announce.platform_filter_changed(session, cache)


# --- the platform's list -------------------------------------------------------------------


def _language(locale: str) -> str:
    return locale.replace("-", "_").split("_")[0].lower()


async def market_languages(session: AsyncSession) -> dict[str, str]:
    """``{market code: language}`` of every market."""
    rows = await session.execute(select(Market.code, Market.locale))
    return {code: _language(locale) for code, locale in rows.all()}


async def _scope(
    session: AsyncSession, market: str | None, language: str | None
) -> tuple[str, str]:
    market = (market or "").strip().upper()
    language = (language or "").strip().lower()
    if market and language:
        raise Unprocessable(
            gettext("limit a term to a market or to a language, not both"), code="bad-term-scope"
        )
    languages = await market_languages(session)
    if market and market not in languages:
        raise Unprocessable(
            gettext("there is no market %(market)s", market=repr(market[:8])), code="unknown-market"
        )
    spoken = sorted(set(languages.values()))
    if language and language not in spoken:
        raise Unprocessable(
            gettext(
                "no market speaks %(language)s (known: %(join)s)",
                language=repr(language[:8]),
                join=", ".join(spoken),
            ),
            code="unknown-language",
        )
    return market, language


async def platform_filter(session: AsyncSession) -> PlatformFilter:
    rows = await session.scalars(
        select(PlatformBlockedTerm).order_by(
            PlatformBlockedTerm.market_code,
            PlatformBlockedTerm.language,
            PlatformBlockedTerm.term,
        )
    )
    settings = (await session.scalars(select(PlatformFilterSettings))).all()
    return PlatformFilter(
        hold_links_everywhere=any(s.hold_links and s.market_code == EVERY_MARKET for s in settings),
        hold_links_markets=sorted(
            s.market_code for s in settings if s.hold_links and s.market_code != EVERY_MARKET
        ),
        terms=[
            TermView(t.id, t.term, t.created_at, t.created_by, t.market_code, t.language)
            for t in rows.all()
        ],
    )


async def add_platform_terms(
    session: AsyncSession,
    raw: Sequence[str],
    *,
    market: str | None = None,
    language: str | None = None,
    actor_id: int,
    cache: FilterChanges | None = None,
) -> list[str]:
    """Add terms to the platform's list for every market, one market or one language; the
    terms that were new in that scope. 422 for bad input, an unknown market or language, or
    a list over ``PLATFORM_TERMS_MAX``. Commits."""
    terms = clean_terms(raw)
    market_code, lang = await _scope(session, market, language)
    have = set(
        (
            await session.scalars(
                select(PlatformBlockedTerm.term).where(
                    PlatformBlockedTerm.market_code == market_code,
                    PlatformBlockedTerm.language == lang,
                )
            )
        ).all()
    )
    new = [t for t in terms if t not in have]
    total = await session.scalar(select(func.count()).select_from(PlatformBlockedTerm)) or 0
    if total + len(new) > PLATFORM_TERMS_MAX:
        raise Unprocessable(
            gettext(
                "the platform's list holds at most %(platform_terms_max)s terms (%(total)s listed, %(new)s new)",  # noqa: E501
                platform_terms_max=PLATFORM_TERMS_MAX,
                total=total,
                new=len(new),
            ),
            code="too-many-terms",
            limit=PLATFORM_TERMS_MAX,
        )
    now = utcnow()
    session.add_all(
        PlatformBlockedTerm(
            market_code=market_code, language=lang, term=t, created_by=actor_id, created_at=now
        )
        for t in new
    )
    _platform_changed(session, cache)
    await _commit(session)
    return new


async def remove_platform_term(
    session: AsyncSession, term_id: int, *, cache: FilterChanges | None = None
) -> str:
    row = await session.get(PlatformBlockedTerm, term_id)
    if row is None:
        raise NotFound(
            gettext("term %(term_id)s is not on the platform's list", term_id=term_id),
            code="term-not-found",
        )
    term = row.term
    await session.execute(delete(PlatformBlockedTerm).where(PlatformBlockedTerm.id == term_id))
    _platform_changed(session, cache)
    await session.commit()
    return term


async def set_platform_hold_links(
    session: AsyncSession,
    hold_links: bool,
    *,
    market: str | None = None,
    actor_id: int,
    cache: FilterChanges | None = None,
) -> None:
    """Switch "hold links" for every market (``market`` None) or one. Commits."""
    code, _ = await _scope(session, market, None)
    row = await session.get(PlatformFilterSettings, code)
    if row is None:
        row = PlatformFilterSettings(market_code=code)
        session.add(row)
    row.hold_links = hold_links
    row.updated_at = utcnow()
    row.updated_by = actor_id
    _platform_changed(session, cache)
    await _commit(session)


async def _commit(session: AsyncSession) -> None:
    try:
        await session.commit()
    except IntegrityError as exc:  # the same change made at the same moment elsewhere
        await session.rollback()
        raise Conflict(
            gettext("the list changed at the same moment; reload it and try again"),
            code="filter-changed-meanwhile",
        ) from exc


# --- what a room's filter is made of (the node cache reads these) -------------------------


async def creator_rules(session: AsyncSession, creator_id: int) -> tuple[tuple[str, ...], bool]:
    """(the creator's terms, whether their rooms hold links)."""
    terms = await session.scalars(
        select(BlockedTerm.term).where(BlockedTerm.creator_id == creator_id)
    )
    hold = await session.scalar(
        select(ChatFilterSettings.hold_links).where(ChatFilterSettings.creator_id == creator_id)
    )
    return tuple(sorted(terms.all())), bool(hold)


async def platform_rules(session: AsyncSession, market_code: str) -> tuple[tuple[str, ...], bool]:
    """(the platform's terms that apply in the market's rooms, whether links are held
    there): terms for every market, for this market, and for the market's language."""
    locale = await session.scalar(select(Market.locale).where(Market.code == market_code))
    language = _language(locale) if locale else ""
    terms = await session.scalars(
        select(PlatformBlockedTerm.term)
        .where(
            PlatformBlockedTerm.market_code.in_([EVERY_MARKET, market_code]),
            PlatformBlockedTerm.language.in_(["", language]),
        )
        .distinct()
    )
    holds = await session.scalars(
        select(PlatformFilterSettings.hold_links).where(
            PlatformFilterSettings.market_code.in_([EVERY_MARKET, market_code])
        )
    )
    return tuple(sorted(terms.all())), any(holds.all())
