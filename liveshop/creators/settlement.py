"""Settling a live session: its creator's base fee and GMV bonuses, once the session has ended.

Invariants:

- ``settle_session`` is idempotent by ledger reference (``live:<id>:base_fee``,
  ``live:<id>:bonus`` and ``live:<id>:campaign:<c>``): calling it twice, or concurrently,
  posts once.
- The terms are the contract version in force when the session started
  (``affiliates.contracts.contract_at``), so a later cut never changes them.
- GMV bonuses follow the GMV after settlement: a refund that takes the session below a
  bonus's threshold reverses it (``bonus_reversals``).

It runs when the live domain announces ``SessionEnded`` (``creators.wiring``); an admin can
re-run it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from liveshop.affiliates.contracts import (
    AgencySplit,
    agency_split_at,
    contract_at,
    creator_and_agency_postings,
    tier_bonus,
)
from liveshop.affiliates.models import CreatorContract
from liveshop.core.clock import utcnow
from liveshop.creators.bonus_reversals import lock_session
from liveshop.creators.order_facts import session_sales
from liveshop.ledger.models import AccountType
from liveshop.ledger.service import (
    AccountKey,
    Posting,
    market_party,
    post,
    transactions_by_reference_prefix,
)
from liveshop.live.models import LiveSession, SessionStatus
from liveshop.live.service import get_session
from liveshop.promotions.campaigns import active_campaigns, claim_budget
from liveshop.promotions.claims import record_bonus_claim
from liveshop.promotions.models import CampaignKind


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
    campaign_bonus = await _pay_campaign_bonuses(session, live, gmv, already, split)
    await session.commit()
    return Settlement(live.id, fee, bonus + campaign_bonus, status)


async def _pay_campaign_bonuses(
    session: AsyncSession,
    live: LiveSession,
    gmv: int,
    already: set[str],
    split: AgencySplit | None,
) -> int:
    """The platform's creator_gmv_bonus campaigns the session's GMV reached, each paid once
    from its budget (a conditional claim, so a spent budget pays nothing). Returns the
    campaign bonuses the session holds: those paid now and those paid before and not
    reversed."""
    total = 0
    for campaign in await active_campaigns(
        session, live.market_code, [CampaignKind.CREATOR_GMV_BONUS], live.actual_end or utcnow()
    ):
        reference = f"live:{live.id}:campaign:{campaign.id}"
        if reference in already:
            if f"{reference}:reversal" not in already:
                total += campaign_amount(campaign.value, campaign.per_order_cap_minor)
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
            total += amount
    return total


def campaign_amount(value: int, cap: int) -> int:
    return max(0, min(int(value), int(cap))) if cap else max(0, int(value))


async def session_gmv(session: AsyncSession, live_session_id: int) -> int:
    """Goods sold in the session, net of refunds (paid orders only), in minor units."""
    sales = await session_sales(session, live_session_id)
    return sales.gmv_minor
