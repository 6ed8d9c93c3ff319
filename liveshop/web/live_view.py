"""What the pages show about live sessions, read through ``liveshop.live.service``.

Kept in one module so the live domain's evolving service API touches one file here.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncSession

from liveshop.accounts import service as accounts
from liveshop.catalog import products as catalog_products
from liveshop.core.errors import NotFound
from liveshop.live import service as live
from liveshop.live.catalog_view import ProductSummary
from liveshop.live.models import LiveSession, SessionStatus

# Enough for a studio page; a creator with more sessions sees the most recent ones.
STUDIO_SCAN = 200


@dataclass(frozen=True, slots=True)
class SessionCard:
    session: LiveSession
    creator_name: str
    thumb_url: str | None = None  # the pinned (else first showcased) product's picture


async def _names(session: AsyncSession, user_ids: Sequence[int]) -> dict[int, str]:
    names: dict[int, str] = {}
    for uid in dict.fromkeys(user_ids):
        try:
            names[uid] = (await accounts.get_user(session, uid)).display_name
        except NotFound:
            names[uid] = "A creator"
    return names


async def cards(
    session: AsyncSession, *, status: SessionStatus, market_code: str, limit: int = 12
) -> list[SessionCard]:
    rows, _ = await live.list_sessions(session, status=status, market_code=market_code, limit=limit)
    ordered = list(rows)
    if status is SessionStatus.SCHEDULED:  # soonest first
        ordered.sort(key=lambda s: s.planned_start)
    names = await _names(session, [s.creator_id for s in ordered])
    return [SessionCard(s, names[s.creator_id], await _thumb(session, s)) for s in ordered]


async def _thumb(session: AsyncSession, live_session: LiveSession) -> str | None:
    product_id = live_session.pinned_product_id
    if product_id is None:
        showcased = await live.showcase_ids(session, live_session.id)
        product_id = showcased[0] if showcased else None
    if product_id is None:
        return None
    try:
        product = await catalog_products.get_product(session, product_id)
    except NotFound:
        return None
    return product.images[0] if product.images else None


async def creator_sessions(session: AsyncSession, creator_id: int | None) -> list[LiveSession]:
    """A creator's sessions, newest first (every session when ``creator_id`` is None)."""
    rows, _ = await live.list_sessions(session, limit=STUDIO_SCAN)
    return [s for s in rows if creator_id is None or s.creator_id == creator_id]


@dataclass(frozen=True, slots=True)
class Room:
    session: LiveSession
    creator_name: str
    pinned: ProductSummary | None
    showcase: list[ProductSummary]


async def room(session: AsyncSession, session_id: int) -> Room:
    found = await live.get_session(session, session_id)
    names = await _names(session, [found.creator_id])
    pinned = await live.pinned_product(session, found)
    showcase = await live.showcase(session, found)
    return Room(found, names[found.creator_id], pinned, showcase)
