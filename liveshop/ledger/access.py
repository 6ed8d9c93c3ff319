"""Which ledger parties a signed-in user *is*, and so whose statements they may read.

A user is the party ``creator:<their user id>`` and ``shop:<id>`` for every shop they staff.
Agencies (``agency:<id>``) get their members once the creators domain has agencies.
"""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from liveshop.accounts.service import Principal
from liveshop.catalog.service import is_shop_staff, shop_ids_of
from liveshop.ledger.entries import creator_party, shop_party


async def parties_of(session: AsyncSession, user_id: int) -> list[str]:
    shops = sorted(await shop_ids_of(session, user_id))
    return [creator_party(user_id), *(shop_party(s) for s in shops)]


async def may_view_party(session: AsyncSession, principal: Principal, party: str) -> bool:
    """Admins see everything; anyone else only a party they are."""
    if principal.is_admin:
        return True
    kind, _, ident = party.partition(":")
    if not ident.isdecimal():
        return False
    if kind == "creator":
        return int(ident) == principal.user_id
    if kind == "shop":
        return await is_shop_staff(session, principal.user_id, int(ident))
    return False
