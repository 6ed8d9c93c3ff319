"""Who is banned from a creator's rooms: asked by live (bids, giveaway entries), answered by
chat, which owns bans (``chat.service``) and registers its answer at start-up
(``chat.wiring.subscribe``), as ``orders.attribution`` is answered by the creator economy.
Without it nobody is banned.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Collection

from sqlalchemy.ext.asyncio import AsyncSession

from liveshop.core.errors import Forbidden
from liveshop.core.i18n import gettext as _

# (session, creator_id, user_ids) -> the banned among them, read in the caller's transaction
BannedAmong = Callable[[AsyncSession, int, Collection[int]], Awaitable[set[int]]]


async def nobody(_session: AsyncSession, _creator_id: int, _user_ids: Collection[int]) -> set[int]:
    return set()


_banned_among: BannedAmong = nobody


def register(check: BannedAmong) -> None:
    """Answer the question (the last registered wins: registering again changes nothing)."""
    global _banned_among
    _banned_among = check


async def banned_among(
    session: AsyncSession, creator_id: int, user_ids: Collection[int]
) -> set[int]:
    return await _banned_among(session, creator_id, user_ids) if user_ids else set()


async def refuse_banned(session: AsyncSession, creator_id: int, user_id: int) -> None:
    """403 ``banned`` when ``user_id`` is banned from the creator's rooms."""
    if await banned_among(session, creator_id, [user_id]):
        raise Forbidden(_("you are banned from this creator's shows"), code="banned")
