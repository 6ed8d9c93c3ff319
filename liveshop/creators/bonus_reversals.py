"""A live session's GMV bonuses follow its GMV after the session: a refund that takes the
session's GMV below a bonus's threshold reverses that bonus.

Two bonuses depend on a session's GMV (goods its buyers kept, net of refunds), both paid by
``settlement.settle_session`` when the session ends:

- the contract's **GMV tier bonus** (``live:<id>:bonus``): the bonus of the highest tier
  reached. A refund that takes the GMV below the tier that paid it brings the bonus down to the
  tier still reached (to nothing below the first tier): ``live:<id>:bonus:reversal:<left>``;
- a platform **creator_gmv_bonus campaign** (``live:<id>:campaign:<c>``): all or nothing at
  its threshold. A refund that takes the GMV below it reverses the whole bonus
  (``live:<id>:campaign:<c>:reversal``) and gives the amount back to the campaign's budget (the
  session's claim is marked returned), so it can fund another session's bonus.

Each reversal is the exact, balanced slice of the grant it reverses — ``ledger.reversal`` of
the grant's postings by cumulative floors, so the creator's and the agency's shares come back
in proportion and a whole reversal returns every account to 0 —
``Dr creator_payable (+ Dr agency_payable) / Cr platform_subsidy_expense``. If the bonus was
already paid out, the creator's balance goes negative and their next payout statement nets
it (never lost, never paid twice). The memo and ``meta`` say why: the GMV before and after,
the threshold it fell below, the bonus before and after; the earnings API and page show it.

It runs inside the refund's transaction (``orders.refunds.refund`` announces
``OrderRefunded``; ``creators.wiring`` calls :func:`reverse_lost_bonuses` for it), after the
refund's own units are written. The session's row is
locked first (``SELECT … FOR UPDATE``; SQLite runs writers one at a time), and so does
``settle_session``: two refunds of one session, or a refund and the settlement, take turns,
so each judges the GMV with the other's effect in it and a bonus is never reversed twice or
granted on a GMV a committed refund already lowered. References are idempotent too.

A bonus is judged at settlement and after each refund; once reversed it is not granted again.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from liveshop.affiliates.contracts import contract_at, tier_bonus
from liveshop.ledger.models import AccountType, LedgerTransaction
from liveshop.ledger.service import post, postings_of, reversal, transactions_by_reference_prefix
from liveshop.live.models import LiveSession
from liveshop.markets.service import display_price, get_market
from liveshop.orders.models import Order, OrderLine
from liveshop.promotions import campaigns, claims

REVERSAL_KIND = "creator.bonus_reversal"
TIER = "tier"
CAMPAIGN = "campaign"


@dataclass(frozen=True, slots=True)
class BonusReversal:
    """One reversal, as the creator reads it."""

    live_session_id: int
    reference: str
    at: datetime
    source: str  # TIER or CAMPAIGN
    campaign_id: int | None
    reversed_minor: int  # the creator's part taken back (their agency's part is separate)
    gmv_from_minor: int | None  # the GMV the bonus was judged on before (None: not recorded)
    gmv_to_minor: int
    threshold_minor: int
    bonus_before_minor: int  # the whole bonus (creator + agency) before and after
    bonus_after_minor: int
    reason: str


async def lock_session(session: AsyncSession, live_session_id: int) -> None:
    """Take the session's row lock (PostgreSQL; SQLite's writers already take turns)."""
    await session.execute(
        select(LiveSession.id).where(LiveSession.id == live_session_id).with_for_update()
    )


async def session_gmv_now(session: AsyncSession, live_session_id: int) -> int:
    """The session's GMV (paid orders' goods net of refunds) as this transaction sees it,
    read afresh (a refund just written in it counts)."""
    rows = await session.execute(
        select(OrderLine.gross_minor, OrderLine.refunded_quantity, OrderLine.quantity)
        .join(Order, Order.id == OrderLine.order_id)
        .where(Order.live_session_id == live_session_id, Order.paid_at.is_not(None))
    )
    return sum(int(g) - int(g) * int(r) // int(q) for g, r, q in rows.all() if q)


def _expense(tx: LedgerTransaction) -> int:
    """What a bonus transaction put on (> 0) or took off (< 0) the platform's expense."""
    return sum(
        p.amount_minor
        for p in tx.postings
        if p.account.type == AccountType.PLATFORM_SUBSIDY_EXPENSE
    )


def _threshold_crossed(tiers: Sequence[dict[str, Any]], gmv: int) -> int:
    """The lowest tier threshold the GMV no longer reaches."""
    above = [int(t["gmv_minor"]) for t in tiers if int(t["gmv_minor"]) > gmv]
    return min(above) if above else 0


async def reverse_lost_bonuses(session: AsyncSession, live_session_id: int) -> list[str]:
    """Reverse what the session's GMV no longer earns (see the module). Flushes only; returns
    the references posted. A no-op for a session with no bonus."""
    await lock_session(session, live_session_id)
    txs = await transactions_by_reference_prefix(session, f"live:{live_session_id}:")
    by_ref = {tx.reference: tx for tx in txs}
    tier_grant = by_ref.get(f"live:{live_session_id}:bonus")
    campaign_grants = [
        tx
        for tx in txs
        if tx.reference.startswith(f"live:{live_session_id}:campaign:")
        and tx.reference.count(":") == 3
    ]
    if tier_grant is None and not campaign_grants:
        return []
    live = await session.get(LiveSession, live_session_id)
    if live is None:
        return []
    gmv = await session_gmv_now(session, live_session_id)
    market = await get_market(session, live.market_code)

    def money(amount: int) -> str:
        return display_price(market, amount)

    posted: list[str] = []
    if tier_grant is not None:
        done = await _reverse_tier(session, live, tier_grant, txs, gmv, money)
        if done:
            posted.append(done)
    for grant in campaign_grants:
        done = await _reverse_campaign(session, live, grant, by_ref, gmv, money)
        if done:
            posted.append(done)
    return posted


def _gmv_before(grant: LedgerTransaction, earlier: Sequence[LedgerTransaction]) -> int | None:
    """The GMV the bonus was last judged on: the latest reversal's, else the settlement's."""
    for tx in reversed(earlier):
        value = (tx.meta or {}).get("gmv_to_minor")
        if isinstance(value, int):
            return value
    value = (grant.meta or {}).get("gmv_minor")
    return value if isinstance(value, int) else None


async def _reverse_tier(
    session: AsyncSession,
    live: LiveSession,
    grant: LedgerTransaction,
    txs: Sequence[LedgerTransaction],
    gmv: int,
    money: Any,
) -> str | None:
    granted = _expense(grant)
    if granted <= 0:
        return None
    prefix = f"live:{live.id}:bonus:reversal:"
    earlier = [tx for tx in txs if tx.reference.startswith(prefix)]
    level = granted + sum(_expense(tx) for tx in earlier)  # reversals credit the expense
    started = live.actual_start or live.planned_start
    contract = await contract_at(session, live.creator_id, started)
    due = min(level, tier_bonus(contract, gmv)) if contract is not None else 0
    if due >= level:
        return None
    postings = reversal(
        postings_of(grant),
        numerator=level - due,
        denominator=granted,
        already_reversed=granted - level,
    )
    if not postings:
        return None
    threshold = _threshold_crossed(contract.gmv_tiers if contract else [], gmv)
    before = _gmv_before(grant, earlier)
    what = "reversed" if due == 0 else f"reduced from {money(level)} to {money(due)}"
    reason = (
        f"GMV tier bonus for live session {live.id} {what}: refunds took the session's GMV "
        + (f"from {money(before)} " if before is not None else "")
        + f"to {money(gmv)}, below the {money(threshold)} threshold"
    )
    reference = f"{prefix}{due}"
    await post(
        session,
        kind=REVERSAL_KIND,
        reference=reference,
        postings=postings,
        memo=reason,
        meta={
            "live_session_id": live.id,
            "creator_id": live.creator_id,
            "source": TIER,
            "gmv_from_minor": before,
            "gmv_to_minor": gmv,
            "threshold_minor": threshold,
            "bonus_before_minor": level,
            "bonus_after_minor": due,
        },
    )
    return reference


async def _reverse_campaign(
    session: AsyncSession,
    live: LiveSession,
    grant: LedgerTransaction,
    by_ref: dict[str, LedgerTransaction],
    gmv: int,
    money: Any,
) -> str | None:
    reference = f"{grant.reference}:reversal"
    if reference in by_ref:
        return None
    campaign_id = int(grant.reference.rsplit(":", 1)[1])
    campaign = await campaigns.get_campaign(session, campaign_id)
    threshold = int(campaign.gmv_threshold_minor)
    granted = _expense(grant)
    if gmv >= threshold or granted <= 0:
        return None
    before = _gmv_before(grant, [])
    reason = (
        f"Platform GMV bonus (campaign {campaign_id}) for live session {live.id} reversed: "
        "refunds took the session's GMV "
        + (f"from {money(before)} " if before is not None else "")
        + f"to {money(gmv)}, below the {money(threshold)} threshold"
    )
    await post(
        session,
        kind=REVERSAL_KIND,
        reference=reference,
        postings=reversal(postings_of(grant), numerator=granted, denominator=granted),
        memo=reason,
        meta={
            "live_session_id": live.id,
            "creator_id": live.creator_id,
            "source": CAMPAIGN,
            "campaign_id": campaign_id,
            "gmv_from_minor": before,
            "gmv_to_minor": gmv,
            "threshold_minor": threshold,
            "bonus_before_minor": granted,
            "bonus_after_minor": 0,
        },
    )
    await claims.return_bonus_claim(session, campaign_id, live.id)
    return reference


async def reversals_of(
    session: AsyncSession, references: Sequence[tuple[str, datetime, int]]
) -> list[BonusReversal]:
    """The reversals behind a creator's ledger lines ``(reference, at, amount owed)``, with
    the figures their transactions recorded; oldest first."""
    if not references:
        return []
    rows = await session.execute(
        select(LedgerTransaction.reference, LedgerTransaction.memo, LedgerTransaction.meta).where(
            LedgerTransaction.reference.in_([r for r, _, _ in references])
        )
    )
    found = {ref: (memo, meta or {}) for ref, memo, meta in rows.all()}
    out = []
    for ref, at, owed in references:
        memo, meta = found.get(ref, ("", {}))

        def num(key: str, meta: dict[str, Any] = meta) -> int | None:
            value = meta.get(key)
            return value if isinstance(value, int) and not isinstance(value, bool) else None

        out.append(
            BonusReversal(
                live_session_id=num("live_session_id") or 0,
                reference=ref,
                at=at,
                source=str(meta.get("source", TIER)),
                campaign_id=num("campaign_id"),
                reversed_minor=-owed,
                gmv_from_minor=num("gmv_from_minor"),
                gmv_to_minor=num("gmv_to_minor") or 0,
                threshold_minor=num("threshold_minor") or 0,
                bonus_before_minor=num("bonus_before_minor") or 0,
                bonus_after_minor=num("bonus_after_minor") or 0,
                reason=memo,
            )
        )
    return sorted(out, key=lambda r: (r.at, r.reference))
