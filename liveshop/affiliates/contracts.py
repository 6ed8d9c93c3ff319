"""Versioned creator contracts, and how they split a creator's money with their agency.

Invariants:

- Contract versions are append-only and a new version never takes effect in the past, so the
  version in force at a moment never changes once that moment has passed: a fee cut can never
  rewrite what was already earned. ``contract_at(creator, t)`` is the newest version with
  ``effective_from <= t``.
- The agency's cut is split from the creator's money with ``ledger.allocate`` (largest
  remainder), so creator + agency is exactly what was due, to the minor unit.

Paying the base fee and the GMV bonuses a contract promises is ``creators.settlement``'s.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from liveshop import audit
from liveshop.accounts.models import Role
from liveshop.affiliates.agencies import agency_of, ensure_user_has_role, get_agency
from liveshop.affiliates.models import CreatorContract
from liveshop.affiliates.plans import check_rate, not_in_past
from liveshop.audit import Action
from liveshop.core.clock import utcnow
from liveshop.core.db import committing
from liveshop.core.errors import Unprocessable
from liveshop.core.i18n import gettext as _
from liveshop.core.money import is_known_currency
from liveshop.ledger.models import AccountType
from liveshop.ledger.service import AccountKey, Posting, agency_party, allocate, creator_party

MAX_TIERS = 20


def _clean_tiers(tiers: list[dict[str, Any]]) -> list[dict[str, int]]:
    if len(tiers) > MAX_TIERS:
        raise Unprocessable(
            _("at most %(max_tiers)s GMV tiers", max_tiers=MAX_TIERS), code="bad-tiers"
        )
    clean = []
    for t in tiers:
        gmv, bonus = t.get("gmv_minor"), t.get("bonus_minor")
        if not isinstance(gmv, int) or not isinstance(bonus, int) or gmv <= 0 or bonus < 0:
            raise Unprocessable(
                _("each GMV tier needs gmv_minor > 0 and bonus_minor >= 0"), code="bad-tiers"
            )
        clean.append({"gmv_minor": gmv, "bonus_minor": bonus})
    clean.sort(key=lambda t: t["gmv_minor"])
    if len({t["gmv_minor"] for t in clean}) != len(clean):
        raise Unprocessable(_("GMV tiers must have different thresholds"), code="bad-tiers")
    return clean


async def add_version(
    session: AsyncSession,
    *,
    creator_id: int,
    currency: str,
    base_fee_minor: int = 0,
    min_live_minutes: int = 0,
    agency_id: int | None = None,
    agency_share_bp: int = 0,
    gmv_tiers: list[dict[str, Any]] | None = None,
    effective_from: datetime | None = None,
    created_by: int | None = None,
) -> CreatorContract:
    """Add the next version of a creator's terms. It applies from ``effective_from`` (never in
    the past) until a later version; what was earned before is untouched. Flushes, never
    commits (audit-logged in the caller's transaction): ``create_contract`` commits."""
    now = utcnow()
    start = effective_from or now
    not_in_past(start, "effective_from", now)
    await ensure_user_has_role(session, creator_id, Role.CREATOR, "unknown-creator")
    if not is_known_currency(currency.upper()):
        raise Unprocessable(
            _("unknown currency %(currency)s", currency=repr(currency)), code="unknown-currency"
        )
    if base_fee_minor < 0 or min_live_minutes < 0:
        raise Unprocessable(
            _("base_fee_minor and min_live_minutes must not be negative"), code="bad-amount"
        )
    check_rate(agency_share_bp, "agency_share_bp")
    if agency_id is None and agency_share_bp:
        raise Unprocessable(_("an agency share needs an agency"), code="share-without-agency")
    if agency_id is not None:
        await get_agency(session, agency_id)
        if await agency_of(session, creator_id) != agency_id:
            raise Unprocessable(
                _(
                    "creator %(creator_id)s is not managed by agency %(agency_id)s",
                    creator_id=creator_id,
                    agency_id=agency_id,
                ),
                code="not-agency-member",
            )
    tiers = _clean_tiers(gmv_tiers or [])
    latest = await session.scalar(
        select(CreatorContract)
        .where(CreatorContract.creator_id == creator_id)
        .order_by(CreatorContract.version.desc())
        .limit(1)
    )
    if latest is not None and start < latest.effective_from:
        raise Unprocessable(
            _(
                "a new version must take effect after the latest one (%(isoformat)s)",
                isoformat=latest.effective_from.isoformat(),
            ),
            code="effective-date-in-past",
        )
    contract = CreatorContract(
        creator_id=creator_id,
        version=1 if latest is None else latest.version + 1,
        agency_id=agency_id,
        agency_share_bp=agency_share_bp,
        base_fee_minor=base_fee_minor,
        currency=currency.upper(),
        min_live_minutes=min_live_minutes,
        gmv_tiers=tiers,
        effective_from=start,
        created_by=created_by,
    )
    session.add(contract)
    await session.flush()
    terms = ("base_fee_minor", "currency", "min_live_minutes", "agency_id", "agency_share_bp")
    audit.record(
        session,
        actor_id=created_by,
        action=Action.CREATOR_CONTRACT,
        target_type="creator",
        target_id=creator_id,
        before={k: getattr(latest, k) for k in terms} | {"version": latest.version}
        if latest is not None
        else None,
        after={k: getattr(contract, k) for k in terms}
        | {"version": contract.version, "gmv_tiers": tiers, "effective_from": start},
    )
    return contract


create_contract = committing(add_version)
"""``add_version`` and the commit: a new version of a creator's terms, in its own
transaction."""


async def contract_history(session: AsyncSession, creator_id: int) -> list[CreatorContract]:
    rows = await session.scalars(
        select(CreatorContract)
        .where(CreatorContract.creator_id == creator_id)
        .order_by(CreatorContract.version)
    )
    return list(rows.all())


async def upcoming_versions(
    session: AsyncSession, creator_id: int, at: datetime
) -> list[CreatorContract]:
    """Versions that take effect after ``at`` (announced, not in force yet), soonest first."""
    rows = await session.scalars(
        select(CreatorContract)
        .where(CreatorContract.creator_id == creator_id, CreatorContract.effective_from > at)
        .order_by(CreatorContract.effective_from, CreatorContract.version)
    )
    return list(rows.all())


async def contract_at(
    session: AsyncSession, creator_id: int, at: datetime
) -> CreatorContract | None:
    """The version in force at ``at`` (None: no contract, so no base fee and no agency cut)."""
    result: CreatorContract | None = await session.scalar(
        select(CreatorContract)
        .where(CreatorContract.creator_id == creator_id, CreatorContract.effective_from <= at)
        .order_by(CreatorContract.effective_from.desc(), CreatorContract.version.desc())
        .limit(1)
    )
    return result


@dataclass(frozen=True, slots=True)
class AgencySplit:
    agency_id: int
    share_bp: int

    def agency_part(self, amount_minor: int) -> int:
        """The agency's exact share of ``amount_minor`` (largest remainder, like the ledger)."""
        if amount_minor == 0 or self.share_bp == 0:
            return 0
        return allocate(amount_minor, [10_000 - self.share_bp, self.share_bp])[1]


async def agency_split_at(
    session: AsyncSession, creator_id: int, at: datetime
) -> AgencySplit | None:
    """Who shares the creator's money at ``at`` (the contract in force then), if anyone."""
    contract = await contract_at(session, creator_id, at)
    if contract is None or contract.agency_id is None or contract.agency_share_bp == 0:
        return None
    return AgencySplit(contract.agency_id, contract.agency_share_bp)


def creator_and_agency_postings(
    *, creator_id: int, split: AgencySplit | None, amount_minor: int, currency: str
) -> list[Posting]:
    """Credits (negative postings) of ``amount_minor`` owed, split creator / agency (a part
    that is 0 — e.g. an agency taking 100 % — is left out: a posting always moves money)."""
    agency = split.agency_part(amount_minor) if split else 0
    out = []
    if amount_minor - agency:
        out.append(
            Posting(
                AccountKey(AccountType.CREATOR_PAYABLE, creator_party(creator_id), currency),
                -(amount_minor - agency),
            )
        )
    if split is not None and agency:
        out.append(
            Posting(
                AccountKey(AccountType.AGENCY_PAYABLE, agency_party(split.agency_id), currency),
                -agency,
            )
        )
    return out


def tier_bonus(contract: CreatorContract | None, gmv_minor: int) -> int:
    """The bonus of the highest GMV tier the session reached (0 below the first tier)."""
    if contract is None:
        return 0
    bonus = 0
    for tier in contract.gmv_tiers:
        if gmv_minor >= int(tier["gmv_minor"]):
            bonus = int(tier["bonus_minor"])
    return bonus
