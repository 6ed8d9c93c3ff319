"""Agencies (MCNs): who owns one, and which creators it manages (one agency per creator).

What share of a creator's money an agency takes is in the creator's contract
(``contracts.agency_split_at``), not here.
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from liveshop.accounts.models import Role
from liveshop.accounts.service import get_user
from liveshop.affiliates.models import Agency, AgencyMember
from liveshop.core.errors import Conflict, NotFound, Unprocessable
from liveshop.core.i18n import gettext as _


async def ensure_user_has_role(session: AsyncSession, user_id: int, role: Role, code: str) -> None:
    try:
        user = await get_user(session, user_id)
    except NotFound as exc:
        raise Unprocessable(
            _("user %(user_id)s does not exist", user_id=user_id), code=code
        ) from exc
    if role not in user.role_names:
        raise Unprocessable(
            _("user %(user_id)s is not a %(role)s", user_id=user_id, role=role), code=code
        )


async def create_agency(session: AsyncSession, *, name: str, owner_id: int) -> Agency:
    await ensure_user_has_role(session, owner_id, Role.AGENCY, "owner-not-agency")
    agency = Agency(name=name.strip(), owner_id=owner_id)
    session.add(agency)
    await session.commit()
    return agency


async def get_agency(session: AsyncSession, agency_id: int) -> Agency:
    agency = await session.get(Agency, agency_id)
    if agency is None:
        raise NotFound(
            _("agency %(agency_id)s does not exist", agency_id=agency_id), code="agency-not-found"
        )
    return agency


async def agencies_owned_by(session: AsyncSession, user_id: int) -> list[int]:
    rows = await session.scalars(select(Agency.id).where(Agency.owner_id == user_id))
    return [int(r) for r in rows.all()]


async def member_ids(session: AsyncSession, agency_id: int) -> list[int]:
    rows = await session.scalars(
        select(AgencyMember.creator_id)
        .where(AgencyMember.agency_id == agency_id)
        .order_by(AgencyMember.id)
    )
    return [int(r) for r in rows.all()]


async def agency_of(session: AsyncSession, creator_id: int) -> int | None:
    found = await session.scalar(
        select(AgencyMember.agency_id).where(AgencyMember.creator_id == creator_id)
    )
    return None if found is None else int(found)


async def add_member(session: AsyncSession, agency: Agency, creator_id: int) -> None:
    """Commits."""
    await join(session, agency, creator_id)
    await session.commit()


async def join(session: AsyncSession, agency: Agency, creator_id: int) -> None:
    """Make the creator the agency's member (already one: nothing). Flushes, never commits;
    the unique creator row refuses a second agency even when two joins race."""
    await ensure_user_has_role(session, creator_id, Role.CREATOR, "unknown-creator")
    current = await agency_of(session, creator_id)
    if current == agency.id:
        return
    if current is not None:
        raise Conflict(
            _("creator %(creator_id)s is managed by another agency", creator_id=creator_id),
            code="creator-has-agency",
        )
    session.add(AgencyMember(agency_id=agency.id, creator_id=creator_id))
    await session.flush()


async def agency_owned_by(session: AsyncSession, user_id: int) -> Agency | None:
    """The (first) agency this user owns, if any."""
    found: Agency | None = await session.scalar(
        select(Agency).where(Agency.owner_id == user_id).order_by(Agency.id).limit(1)
    )
    return found


async def members(session: AsyncSession, agency_id: int) -> list[AgencyMember]:
    """The agency's creators, longest-standing first."""
    rows = await session.scalars(
        select(AgencyMember).where(AgencyMember.agency_id == agency_id).order_by(AgencyMember.id)
    )
    return list(rows.all())
