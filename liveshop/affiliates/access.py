"""Who may see a creator's terms, earnings and statements."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from liveshop.accounts.service import Principal
from liveshop.affiliates import agencies
from liveshop.core.errors import Forbidden
from liveshop.core.i18n import gettext as _


async def ensure_can_see_creator(
    session: AsyncSession, principal: Principal, creator_id: int
) -> None:
    """The creator themself, the owner of the agency managing them, or an admin."""
    if principal.is_admin or principal.user_id == creator_id:
        return
    agency_id = await agencies.agency_of(session, creator_id)
    if agency_id is not None and agency_id in await agencies.agencies_owned_by(
        session, principal.user_id
    ):
        return
    raise Forbidden(_("you may not see this creator's terms or earnings"), code="not-your-creator")
