"""Agency invitations: an agency offers to manage a creator; the creator accepts or declines.

Invariants:

- An answer is given once: the status moves out of ``pending`` by a conditional UPDATE on
  ``status = 'pending'``, so an accept racing a decline (or a withdrawal) has one winner and
  the loser gets 409 ``invitation-answered``.
- Accepting is one transaction: the status, the member row (``agencies.join``: one agency per
  creator, a unique row) and the contract version that gives the agency its share — the
  creator's current terms with the agency added, in force **from now** (never earlier), so
  orders already placed keep the terms they were bought under.
- Both sides are told through their inbox (``notices.notify``) in the same transaction.
"""

from __future__ import annotations

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from liveshop.accounts.models import Role
from liveshop.accounts.service import find_user_by_email, get_user
from liveshop.affiliates import agencies, contracts
from liveshop.affiliates.models import (
    Agency,
    AgencyInvitation,
    CreatorContract,
    InvitationStatus,
)
from liveshop.affiliates.plans import check_rate
from liveshop.core.clock import utcnow
from liveshop.core.errors import Conflict, Forbidden, NotFound, Unprocessable
from liveshop.core.i18n import gettext as _
from liveshop.core.i18n import lazy_gettext
from liveshop.core.money import is_known_currency
from liveshop.notices.service import notify

MESSAGE_MAX = 500
CONTRACT_LINK = "/studio/contract"


async def invite(
    session: AsyncSession,
    agency: Agency,
    *,
    email: str,
    agency_share_bp: int,
    currency: str,
    message: str = "",
    invited_by: int | None = None,
) -> AgencyInvitation:
    """Invite the creator with this e-mail address. Commits."""
    check_rate(agency_share_bp, "agency_share_bp")
    if not is_known_currency(currency.upper()):
        raise Unprocessable(
            _("unknown currency %(currency)s", currency=repr(currency)), code="unknown-currency"
        )
    if len(message) > MESSAGE_MAX:
        raise Unprocessable(
            _("a message has at most %(n)s characters", n=MESSAGE_MAX), code="bad-message"
        )
    user = await find_user_by_email(session, email.strip())
    if user is None or Role.CREATOR not in user.role_names or not user.is_active:
        raise Unprocessable(
            _("No creator has the e-mail address %(email)s.", email=email.strip()[:120]),
            code="unknown-creator",
        )
    current = await agencies.agency_of(session, user.id)
    if current == agency.id:
        raise Conflict(_("This creator is already one of yours."), code="already-member")
    if current is not None:
        raise Conflict(_("This creator is managed by another agency."), code="creator-has-agency")
    pending = await session.scalar(
        select(AgencyInvitation.id).where(
            AgencyInvitation.agency_id == agency.id,
            AgencyInvitation.creator_id == user.id,
            AgencyInvitation.status == InvitationStatus.PENDING,
        )
    )
    if pending is not None:
        raise Conflict(_("This creator already has your invitation."), code="already-invited")
    invitation = AgencyInvitation(
        agency_id=agency.id,
        creator_id=user.id,
        agency_share_bp=agency_share_bp,
        currency=currency.upper(),
        message=message.strip(),
        status=InvitationStatus.PENDING,
        invited_by=invited_by,
        created_at=utcnow(),
    )
    session.add(invitation)
    await notify(
        session,
        user.id,
        kind="agency.invitation",
        subject=lazy_gettext("%(agency)s invites you to join them", agency=agency.name),
        body=lazy_gettext(
            "%(agency)s offers to manage you for %(share)s of your earnings from the day you "
            "accept. Orders placed before then keep the terms they were bought under.",
            agency=agency.name,
            share=percent(agency_share_bp),
        ),
        link=CONTRACT_LINK,
    )
    await session.commit()
    return invitation


def percent(bp: int) -> str:
    """Basis points as people write a percentage: 2000 → "20 %", 1250 → "12.5 %"."""
    whole, part = divmod(bp, 100)
    return f"{whole} %" if not part else f"{whole}.{part:02d}".rstrip("0") + " %"


async def get_invitation(session: AsyncSession, invitation_id: int) -> AgencyInvitation:
    found = await session.get(AgencyInvitation, invitation_id)
    if found is None:
        raise NotFound(
            _("invitation %(id)s does not exist", id=invitation_id), code="invitation-not-found"
        )
    return found


async def for_creator(
    session: AsyncSession, creator_id: int, *, pending_only: bool = False
) -> list[AgencyInvitation]:
    query = select(AgencyInvitation).where(AgencyInvitation.creator_id == creator_id)
    if pending_only:
        query = query.where(AgencyInvitation.status == InvitationStatus.PENDING)
    rows = await session.scalars(query.order_by(AgencyInvitation.id.desc()).limit(50))
    return list(rows.all())


async def of_agency(session: AsyncSession, agency_id: int) -> list[AgencyInvitation]:
    rows = await session.scalars(
        select(AgencyInvitation)
        .where(AgencyInvitation.agency_id == agency_id)
        .order_by(AgencyInvitation.id.desc())
        .limit(100)
    )
    return list(rows.all())


async def _answer(
    session: AsyncSession, invitation: AgencyInvitation, to: InvitationStatus
) -> None:
    """Move a pending invitation to ``to``; 409 if someone answered it first."""
    result = await session.execute(
        update(AgencyInvitation)
        .where(
            AgencyInvitation.id == invitation.id,
            AgencyInvitation.status == InvitationStatus.PENDING,
        )
        .values(status=str(to), answered_at=utcnow())
        .execution_options(synchronize_session=False)
    )
    if getattr(result, "rowcount", 0) != 1:  # it changed nothing: nothing to undo
        raise Conflict(_("This invitation has already been answered."), code="invitation-answered")
    invitation.status = str(to)


def _ensure_invited(invitation: AgencyInvitation, creator_id: int) -> None:
    if invitation.creator_id != creator_id:
        raise NotFound(
            _("invitation %(id)s does not exist", id=invitation.id), code="invitation-not-found"
        )


async def accept(
    session: AsyncSession, invitation: AgencyInvitation, *, creator_id: int
) -> AgencyInvitation:
    """The creator joins the agency; their next contract version gives it its share from now.
    Commits (all or nothing)."""
    _ensure_invited(invitation, creator_id)
    agency = await agencies.get_agency(session, invitation.agency_id)
    now = utcnow()
    upcoming = await contracts.upcoming_versions(session, creator_id, now)
    if upcoming:
        raise Conflict(
            _(
                "Your contract changes on %(day)s; accept the invitation once that change applies.",
                day=upcoming[-1].effective_from.date().isoformat(),
            ),
            code="contract-change-scheduled",
        )
    # A savepoint: if joining fails (another agency was quicker) nothing is half-done and
    # the invitation stays pending.
    async with session.begin_nested():
        await _join_with_contract(session, invitation, agency, creator_id)
    creator = await get_user(session, creator_id)
    await notify(
        session,
        agency.owner_id,
        kind="agency.invitation_accepted",
        subject=lazy_gettext(
            "%(name)s joined %(agency)s", name=creator.display_name, agency=agency.name
        ),
        body=lazy_gettext(
            "Your share, %(share)s, applies to what they earn from now on.",
            share=percent(invitation.agency_share_bp),
        ),
        link="/agency",
    )
    await session.commit()
    await session.refresh(invitation)
    return invitation


async def _join_with_contract(
    session: AsyncSession, invitation: AgencyInvitation, agency: Agency, creator_id: int
) -> CreatorContract:
    now = utcnow()
    await _answer(session, invitation, InvitationStatus.ACCEPTED)
    await agencies.join(session, agency, creator_id)
    current = await contracts.contract_at(session, creator_id, now)
    contract = await contracts.add_version(
        session,
        creator_id=creator_id,
        currency=current.currency if current is not None else invitation.currency,
        base_fee_minor=current.base_fee_minor if current is not None else 0,
        min_live_minutes=current.min_live_minutes if current is not None else 0,
        gmv_tiers=[dict(t) for t in current.gmv_tiers] if current is not None else [],
        agency_id=agency.id,
        agency_share_bp=invitation.agency_share_bp,
        effective_from=now,
        created_by=creator_id,
    )
    invitation.contract_id = contract.id
    return contract


async def decline(
    session: AsyncSession, invitation: AgencyInvitation, *, creator_id: int
) -> AgencyInvitation:
    """Commits."""
    _ensure_invited(invitation, creator_id)
    agency = await agencies.get_agency(session, invitation.agency_id)
    await _answer(session, invitation, InvitationStatus.DECLINED)
    creator = await get_user(session, creator_id)
    await notify(
        session,
        agency.owner_id,
        kind="agency.invitation_declined",
        subject=lazy_gettext("%(name)s declined your invitation", name=creator.display_name),
        body=lazy_gettext("Nothing changes in their contract."),
        link="/agency",
    )
    await session.commit()
    await session.refresh(invitation)
    return invitation


async def withdraw(
    session: AsyncSession, invitation: AgencyInvitation, *, agency: Agency
) -> AgencyInvitation:
    """The agency takes back an invitation not answered yet. Commits."""
    if invitation.agency_id != agency.id:
        raise Forbidden(_("only the inviting agency may withdraw it"), code="not-agency-owner")
    await _answer(session, invitation, InvitationStatus.WITHDRAWN)
    await session.commit()
    await session.refresh(invitation)
    return invitation
