"""Agencies, versioned creator contracts, and settling a live session's base fee and bonuses.

Invariants:

- Contract versions are append-only and a new version never takes effect in the past, so the
  version in force at a moment never changes once that moment has passed: a fee cut can never
  rewrite what was already earned. ``contract_at(creator, t)`` is the newest version with
  ``effective_from <= t``.
- The agency's cut is split from the creator's money with ``ledger.allocate`` (largest
  remainder), so creator + agency is exactly what was due, to the minor unit.
- ``settle_session`` is idempotent by ledger reference (``live:<id>:base_fee`` and
  ``live:<id>:bonus``): calling it twice, or concurrently, posts once.
- GMV bonuses follow the GMV after settlement: a refund that takes the session below a
  bonus's threshold reverses it (``bonus_reversals``).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from liveshop.accounts.models import Role
from liveshop.accounts.service import get_user
from liveshop.core.clock import utcnow
from liveshop.core.errors import Conflict, NotFound, Unprocessable
from liveshop.core.money import is_known_currency
from liveshop.creators.incentives import active_campaigns, claim_budget, record_bonus_claim
from liveshop.creators.models import Agency, AgencyMember, CampaignKind, CreatorContract
from liveshop.creators.order_facts import session_sales
from liveshop.creators.plans import check_rate, not_in_past
from liveshop.ledger.models import AccountType
from liveshop.ledger.service import (
    AccountKey,
    Posting,
    agency_party,
    allocate,
    creator_party,
    market_party,
    post,
    transactions_by_reference_prefix,
)
from liveshop.live.models import LiveSession, SessionStatus
from liveshop.live.service import get_session

MAX_TIERS = 20


# --- agencies -------------------------------------------------------------------------------


async def _user_with(session: AsyncSession, user_id: int, role: Role, code: str) -> None:
    try:
        user = await get_user(session, user_id)
    except NotFound as exc:
        raise Unprocessable(f"user {user_id} does not exist", code=code) from exc
    if role not in user.role_names:
        raise Unprocessable(f"user {user_id} is not a {role}", code=code)


async def create_agency(session: AsyncSession, *, name: str, owner_id: int) -> Agency:
    await _user_with(session, owner_id, Role.AGENCY, "owner-not-agency")
    agency = Agency(name=name.strip(), owner_id=owner_id)
    session.add(agency)
    await session.commit()
    return agency


async def get_agency(session: AsyncSession, agency_id: int) -> Agency:
    agency = await session.get(Agency, agency_id)
    if agency is None:
        raise NotFound(f"agency {agency_id} does not exist", code="agency-not-found")
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
    await _user_with(session, creator_id, Role.CREATOR, "unknown-creator")
    current = await agency_of(session, creator_id)
    if current == agency.id:
        return
    if current is not None:
        raise Conflict(
            f"creator {creator_id} is managed by another agency", code="creator-has-agency"
        )
    session.add(AgencyMember(agency_id=agency.id, creator_id=creator_id))
    await session.commit()


# --- contracts ------------------------------------------------------------------------------


def _clean_tiers(tiers: list[dict[str, Any]]) -> list[dict[str, int]]:
    if len(tiers) > MAX_TIERS:
        raise Unprocessable(f"at most {MAX_TIERS} GMV tiers", code="bad-tiers")
    clean = []
    for t in tiers:
        gmv, bonus = t.get("gmv_minor"), t.get("bonus_minor")
        if not isinstance(gmv, int) or not isinstance(bonus, int) or gmv <= 0 or bonus < 0:
            raise Unprocessable(
                "each GMV tier needs gmv_minor > 0 and bonus_minor >= 0", code="bad-tiers"
            )
        clean.append({"gmv_minor": gmv, "bonus_minor": bonus})
    clean.sort(key=lambda t: t["gmv_minor"])
    if len({t["gmv_minor"] for t in clean}) != len(clean):
        raise Unprocessable("GMV tiers must have different thresholds", code="bad-tiers")
    return clean


async def create_contract(
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
    the past) until a later version; what was earned before is untouched. Commits."""
    now = utcnow()
    start = effective_from or now
    not_in_past(start, "effective_from", now)
    await _user_with(session, creator_id, Role.CREATOR, "unknown-creator")
    if not is_known_currency(currency.upper()):
        raise Unprocessable(f"unknown currency {currency!r}", code="unknown-currency")
    if base_fee_minor < 0 or min_live_minutes < 0:
        raise Unprocessable(
            "base_fee_minor and min_live_minutes must not be negative", code="bad-amount"
        )
    check_rate(agency_share_bp, "agency_share_bp")
    if agency_id is None and agency_share_bp:
        raise Unprocessable("an agency share needs an agency", code="share-without-agency")
    if agency_id is not None:
        await get_agency(session, agency_id)
        if await agency_of(session, creator_id) != agency_id:
            raise Unprocessable(
                f"creator {creator_id} is not managed by agency {agency_id}",
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
            "a new version must take effect after the latest one "
            f"({latest.effective_from.isoformat()})",
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
    await session.commit()
    return contract


async def contract_history(session: AsyncSession, creator_id: int) -> list[CreatorContract]:
    rows = await session.scalars(
        select(CreatorContract)
        .where(CreatorContract.creator_id == creator_id)
        .order_by(CreatorContract.version)
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


# --- settling a session ---------------------------------------------------------------------


def live_minutes(live: LiveSession, now: datetime | None = None) -> int:
    """Whole minutes the session was (or so far has been) live."""
    if live.actual_start is None:
        return 0
    end = live.actual_end or (now or utcnow())
    return max(0, int((end - live.actual_start).total_seconds()) // 60)


def base_fee_status(live: LiveSession, contract: CreatorContract | None) -> str:
    """none | pending (not over yet) | earned | not_met (too short, or cancelled)."""
    if contract is None or contract.base_fee_minor == 0:
        return "none"
    if live.status == SessionStatus.CANCELLED:
        return "not_met"
    if live.status != SessionStatus.ENDED:
        return "pending"
    return "earned" if live_minutes(live) >= contract.min_live_minutes else "not_met"


def tier_bonus(contract: CreatorContract | None, gmv_minor: int) -> int:
    """The bonus of the highest GMV tier the session reached (0 below the first tier)."""
    if contract is None:
        return 0
    bonus = 0
    for tier in contract.gmv_tiers:
        if gmv_minor >= int(tier["gmv_minor"]):
            bonus = int(tier["bonus_minor"])
    return bonus


@dataclass(frozen=True, slots=True)
class Settlement:
    live_session_id: int
    base_fee_minor: int  # posted now or before (0 if not earned)
    bonus_minor: int  # contract tier bonus + campaign bonus
    status: str


async def _post_platform_pay(
    session: AsyncSession,
    live: LiveSession,
    *,
    kind: str,
    reference: str,
    amount_minor: int,
    currency: str,
    split: AgencySplit | None,
    memo: str,
    meta: dict[str, Any] | None = None,
) -> None:
    if amount_minor <= 0:
        return
    postings = [
        Posting(
            AccountKey(
                AccountType.PLATFORM_SUBSIDY_EXPENSE, market_party(live.market_code), currency
            ),
            amount_minor,
        ),
        *creator_and_agency_postings(
            creator_id=live.creator_id, split=split, amount_minor=amount_minor, currency=currency
        ),
    ]
    await post(
        session,
        kind=kind,
        reference=reference,
        postings=postings,
        memo=memo,
        meta={"live_session_id": live.id, "creator_id": live.creator_id, **(meta or {})},
    )


async def settle_session(session: AsyncSession, live_session_id: int) -> Settlement:
    """Pay the base fee (and GMV bonuses) of an ended session, once. Commits.

    Call it after the session has ended (the live domain's end-of-session path). The base fee
    is due when the session lasted at least the contract's ``min_live_minutes`` and was not
    cancelled; the contract is the one in force when the session started. Both go
    Dr platform_subsidy_expense(market) / Cr creator_payable (and agency_payable for the
    agency's share). Idempotent: an already settled session posts nothing new.

    The session's row is locked first, as a refund's bonus check locks it
    (``bonus_reversals``): a refund committed meanwhile is in the GMV judged here, and one
    made after sees the bonus posted here (and reverses what its GMV no longer earns).
    """
    from liveshop.creators.bonus_reversals import lock_session  # it builds on this module

    await lock_session(session, live_session_id)
    live = await get_session(session, live_session_id)
    await session.refresh(live)
    started = live.actual_start or live.planned_start
    contract = await contract_at(session, live.creator_id, started)
    status = base_fee_status(live, contract)
    if live.status != SessionStatus.ENDED:
        return Settlement(live.id, 0, 0, status)
    split = await agency_split_at(session, live.creator_id, started)
    already = {
        tx.reference for tx in await transactions_by_reference_prefix(session, f"live:{live.id}:")
    }
    fee = contract.base_fee_minor if contract is not None and status == "earned" else 0
    if fee and f"live:{live.id}:base_fee" not in already:
        await _post_platform_pay(
            session,
            live,
            kind="creator.base_fee",
            reference=f"live:{live.id}:base_fee",
            amount_minor=fee,
            currency=contract.currency if contract else live.currency,
            split=split,
            memo=f"Base fee for live session {live.id}",
        )
    gmv = await session_gmv(session, live.id)
    bonus = tier_bonus(contract, gmv) if contract and contract.currency == live.currency else 0
    if bonus and f"live:{live.id}:bonus" not in already:
        await _post_platform_pay(
            session,
            live,
            kind="creator.gmv_bonus",
            reference=f"live:{live.id}:bonus",
            amount_minor=bonus,
            currency=live.currency,
            split=split,
            memo=f"GMV tier bonus for live session {live.id}",
            meta={"gmv_minor": gmv},
        )
    campaign_bonus = 0
    for campaign in await active_campaigns(
        session, live.market_code, [CampaignKind.CREATOR_GMV_BONUS], live.actual_end or utcnow()
    ):
        reference = f"live:{live.id}:campaign:{campaign.id}"
        if reference in already:
            if f"{reference}:reversal" not in already:
                campaign_bonus += campaign_amount(campaign.value, campaign.per_order_cap_minor)
            continue
        amount = campaign_amount(campaign.value, campaign.per_order_cap_minor)
        if gmv < campaign.gmv_threshold_minor or amount <= 0:
            continue
        if await claim_budget(session, campaign.id, amount):
            record_bonus_claim(session, campaign.id, live.id, amount)
            await _post_platform_pay(
                session,
                live,
                kind="creator.campaign_bonus",
                reference=reference,
                amount_minor=amount,
                currency=live.currency,
                split=split,
                memo=f"Platform GMV bonus (campaign {campaign.id}) for live session {live.id}",
                meta={"gmv_minor": gmv, "threshold_minor": int(campaign.gmv_threshold_minor)},
            )
            campaign_bonus += amount
    await session.commit()
    return Settlement(live.id, fee, bonus + campaign_bonus, status)


def campaign_amount(value: int, cap: int) -> int:
    return max(0, min(int(value), int(cap))) if cap else max(0, int(value))


async def session_gmv(session: AsyncSession, live_session_id: int) -> int:
    """Goods sold in the session, net of refunds (paid orders only), in minor units."""
    sales = await session_sales(session, live_session_id)
    return sales.gmv_minor
