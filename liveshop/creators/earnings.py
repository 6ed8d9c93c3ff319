"""What a creator earns, shown while they earn it; what creators cost a shop.

Earned money is read from the ledger (the creator's ``creator_payable`` lines, grouped by
reference: ``order:<id>:…`` commissions net of refunds, ``live:<id>:…`` base fees and
bonuses net of their reversals, each reversal also listed with why — see
``bonus_reversals``), so what the studio shows is exactly what will be paid. What is not in
the ledger yet — the base fee and tier bonus of a session still running — is *projected* from the
contract in force when the session started.

Per live hour = (base fee + bonus + commission) × 60 ÷ live minutes, in whole minor units,
shown once the shows have run ``PER_HOUR_MIN_MINUTES`` (30) minutes.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from sqlalchemy import or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from liveshop.affiliates.contracts import agency_split_at, contract_at, tier_bonus
from liveshop.core.clock import utcnow
from liveshop.creators.bonus_reversals import REVERSAL_KIND, BonusReversal, reversals_of
from liveshop.creators.order_facts import (
    PAYABLE,
    Accrual,
    OrderCommission,
    accrual_by_order,
    attributed_orders,
    live_id_of,
    order_id_of,
)
from liveshop.creators.settlement import base_fee_status, live_minutes
from liveshop.ledger.parties import PartyKind, payable_account
from liveshop.ledger.service import statement
from liveshop.live.models import LiveSession, SessionStatus


@dataclass(frozen=True, slots=True)
class PendingCommission:
    """One order's commission still inside its return window, and when it becomes payable:
    ``payable_on`` = delivery + the window frozen on the order when it was placed (None until
    the order is delivered; then it is ``return_window_days`` after delivery)."""

    order_id: int
    live_session_id: int | None
    commission_minor: int  # the creator's part, from the ledger
    return_window_days: int
    delivered_at: datetime | None
    payable_on: datetime | None


def _pending_of(o: OrderCommission, amount: int, state: Accrual | None) -> PendingCommission:
    return PendingCommission(
        order_id=o.order_id,
        live_session_id=o.live_session_id,
        commission_minor=amount,
        return_window_days=state.return_window_days if state else o.return_window_days,
        delivered_at=state.delivered_at if state else o.delivered_at,
        payable_on=state.payable_on if state else o.payable_on,
    )


def _is_payable(o: OrderCommission, states: dict[int, Accrual]) -> bool:
    state = states.get(o.order_id)
    return (state.state if state is not None else o.accrual) == PAYABLE


def by_payable_date(rows: list[PendingCommission]) -> list[PendingCommission]:
    """Soonest first; orders not delivered yet (no date) last, oldest order first."""
    far = datetime.max.replace(tzinfo=UTC)
    return sorted(rows, key=lambda p: (p.payable_on or far, p.order_id))


@dataclass
class SessionEarnings:
    live_session_id: int
    title: str
    status: str
    currency: str
    live_minutes: int
    base_fee_minor: int = 0
    base_fee_status: str = "none"
    bonus_minor: int = 0
    commission_pending_minor: int = 0
    commission_payable_minor: int = 0
    orders: int = 0
    gmv_minor: int = 0
    pending: list[PendingCommission] = field(default_factory=list)
    # Bonuses taken back because refunds took the session's GMV below a threshold (bonus_minor
    # is already net of them), oldest first.
    bonus_reversals: list[BonusReversal] = field(default_factory=list)

    @property
    def commission_minor(self) -> int:
        return self.commission_pending_minor + self.commission_payable_minor

    @property
    def projected_total_minor(self) -> int:
        fee = self.base_fee_minor if self.base_fee_status in ("pending", "earned") else 0
        return fee + self.bonus_minor + self.commission_minor

    @property
    def per_live_hour_minor(self) -> int | None:
        return per_hour(self.projected_total_minor, self.live_minutes)


# "Per live hour" means something once a show has run a while: two minutes in, one order
# would read as an hourly rate thirty times its size. Below this it is None ("not yet").
PER_HOUR_MIN_MINUTES = 30


def per_hour(amount_minor: int, minutes: int) -> int | None:
    """``amount`` per live hour, once ``minutes`` ≥ ``PER_HOUR_MIN_MINUTES`` (else None)."""
    return None if minutes < PER_HOUR_MIN_MINUTES else amount_minor * 60 // minutes


@dataclass
class CreatorEarnings:
    creator_id: int
    currency: str | None
    days: int
    sessions: list[SessionEarnings] = field(default_factory=list)
    off_session_commission_minor: int = 0
    off_session_pending_minor: int = 0
    owed_now_minor: int = 0
    off_session_pending: list[PendingCommission] = field(default_factory=list)
    # Bonus reversals of the sessions shown, and any other posted in the period, oldest first.
    bonus_reversals: list[BonusReversal] = field(default_factory=list)

    @property
    def pending(self) -> list[PendingCommission]:
        """Every pending commission counted in the totals, soonest payable first."""
        rows = [p for s in self.sessions for p in s.pending] + self.off_session_pending
        return by_payable_date(rows)

    @property
    def live_minutes(self) -> int:
        return sum(s.live_minutes for s in self.sessions)

    @property
    def projected_total_minor(self) -> int:
        return (
            sum(s.projected_total_minor for s in self.sessions) + self.off_session_commission_minor
        )

    @property
    def per_live_hour_minor(self) -> int | None:
        return per_hour(sum(s.projected_total_minor for s in self.sessions), self.live_minutes)


async def _creator_sessions(
    session: AsyncSession, creator_id: int, since: datetime
) -> Sequence[LiveSession]:
    """TEMPORARY direct read (the live domain has no "a creator's sessions since" function)."""
    rows = await session.scalars(
        select(LiveSession)
        .where(
            LiveSession.creator_id == creator_id,
            LiveSession.status != SessionStatus.SCHEDULED,
            or_(LiveSession.actual_start >= since, LiveSession.status == SessionStatus.LIVE),
        )
        .order_by(LiveSession.actual_start.desc(), LiveSession.id.desc())
    )
    return rows.all()


@dataclass
class LedgerView:
    """The creator's ledger lines grouped: order id -> owed, live id -> {"base_fee"|"bonus":
    owed} (a bonus net of its reversals), owed now, and the bonus reversals' lines."""

    per_order: dict[int, int]
    per_live: dict[int, dict[str, int]]
    owed_now: int
    reversals: list[tuple[str, datetime, int]]  # (reference, at, owed: negative)


async def _ledger_by_reference(session: AsyncSession, creator_id: int, currency: str) -> LedgerView:
    st = await statement(session, payable_account(PartyKind.CREATOR, creator_id, currency))
    per_order: dict[int, int] = defaultdict(int)
    per_live: dict[int, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    reversals: list[tuple[str, datetime, int]] = []
    for line in st.lines:
        owed = -line.amount_minor
        order_id = order_id_of(line.reference)
        if order_id is not None:
            per_order[order_id] += owed
            continue
        live_id = live_id_of(line.reference)
        if live_id is not None:
            what = "base_fee" if line.reference.endswith(":base_fee") else "bonus"
            per_live[live_id][what] += owed
            if line.kind == REVERSAL_KIND:
                reversals.append((line.reference, line.created_at, owed))
    return LedgerView(per_order, per_live, -st.closing_balance_minor, reversals)


async def session_earnings(
    session: AsyncSession,
    live: LiveSession,
    per_order: dict[int, int],
    per_live: dict[int, dict[str, int]],
    states: dict[int, Accrual],
    now: datetime,
) -> SessionEarnings:
    started = live.actual_start or live.planned_start
    contract = await contract_at(session, live.creator_id, started)
    split = await agency_split_at(session, live.creator_id, started)
    out = SessionEarnings(
        live_session_id=live.id,
        title=live.title,
        status=live.status,
        currency=live.currency,
        live_minutes=live_minutes(live, now),
    )
    out.base_fee_status = base_fee_status(live, contract)
    posted = per_live.get(live.id, {})
    if "base_fee" in posted:
        out.base_fee_minor = posted["base_fee"]
    elif contract is not None:
        fee = contract.base_fee_minor
        out.base_fee_minor = fee - (split.agency_part(fee) if split else 0)
    sales = await attributed_orders(session, live_session_ids=[live.id])
    mine = [o for o in sales if o.creator_id == live.creator_id]
    out.orders = sum(1 for o in mine if o.gmv_minor > 0)
    out.gmv_minor = sum(o.gmv_minor for o in mine)
    for o in mine:
        amount = per_order.get(o.order_id, 0)
        if _is_payable(o, states):
            out.commission_payable_minor += amount
        else:
            out.commission_pending_minor += amount
            if amount:
                out.pending.append(_pending_of(o, amount, states.get(o.order_id)))
    out.pending = by_payable_date(out.pending)
    if "bonus" in posted:
        out.bonus_minor = posted["bonus"]
    elif live.status != SessionStatus.CANCELLED and contract is not None:
        bonus = tier_bonus(contract, out.gmv_minor)
        out.bonus_minor = bonus - (split.agency_part(bonus) if split else 0)
    return out


async def creator_earnings(
    session: AsyncSession, creator_id: int, *, days: int = 30, now: datetime | None = None
) -> CreatorEarnings:
    """The creator's sessions of the last ``days`` days (and any running now), with totals."""
    when = now or utcnow()
    since = when - timedelta(days=days)
    lives = await _creator_sessions(session, creator_id, since)
    currency = lives[0].currency if lives else None
    if currency is None:
        recent = await attributed_orders(session, creator_id=creator_id, since=since)
        currency = recent[0].currency if recent else None
    out = CreatorEarnings(creator_id=creator_id, currency=currency, days=days)
    if currency is None:
        return out
    view = await _ledger_by_reference(session, creator_id, currency)
    per_order, per_live = view.per_order, view.per_live
    out.owed_now_minor = view.owed_now
    states = await accrual_by_order(session, list(per_order), when)
    reversals = await reversals_of(session, view.reversals)
    for live in lives:
        if live.currency == currency:
            row = await session_earnings(session, live, per_order, per_live, states, when)
            row.bonus_reversals = [r for r in reversals if r.live_session_id == live.id]
            out.sessions.append(row)
    shown = {s.live_session_id for s in out.sessions}
    out.bonus_reversals = [r for r in reversals if r.live_session_id in shown or r.at >= since]
    for o in await attributed_orders(session, creator_id=creator_id, since=since):
        if o.live_session_id is None and o.currency == currency:
            amount = per_order.get(o.order_id, 0)
            out.off_session_commission_minor += amount
            if not _is_payable(o, states):
                out.off_session_pending_minor += amount
                if amount:
                    out.off_session_pending.append(_pending_of(o, amount, states.get(o.order_id)))
    return out


async def one_session_earnings(session: AsyncSession, live: LiveSession) -> SessionEarnings:
    view = await _ledger_by_reference(session, live.creator_id, live.currency)
    states = await accrual_by_order(session, list(view.per_order))
    out = await session_earnings(session, live, view.per_order, view.per_live, states, utcnow())
    out.bonus_reversals = [
        r for r in await reversals_of(session, view.reversals) if r.live_session_id == live.id
    ]
    return out


@dataclass(frozen=True, slots=True)
class SessionCost:
    live_session_id: int
    creator_id: int
    title: str
    currency: str
    orders: int
    gmv_minor: int
    creator_commission_minor: int  # paid by the shop (creator and agency shares)
    base_fee_minor: int  # paid by the platform, shown for the whole picture

    @property
    def total_cost_minor(self) -> int:
        return self.creator_commission_minor + self.base_fee_minor

    @property
    def cost_share_bp(self) -> int | None:
        """Total cost as basis points of the GMV (None without sales)."""
        if self.gmv_minor <= 0:
            return None
        return self.total_cost_minor * 10_000 // self.gmv_minor


async def shop_creator_costs(session: AsyncSession, shop_id: int) -> list[SessionCost]:
    """Per live session that sold the shop's goods: commission vs the GMV it produced."""
    orders = [
        o
        for o in await attributed_orders(session, shop_id=shop_id)
        if o.live_session_id is not None
    ]
    grouped: dict[int, list[int]] = defaultdict(list)
    for i, o in enumerate(orders):
        assert o.live_session_id is not None
        grouped[o.live_session_id].append(i)
    out = []
    for live_id, idx in sorted(grouped.items()):
        live = await session.get(LiveSession, live_id)
        if live is None:
            continue
        started = live.actual_start or live.planned_start
        contract = await contract_at(session, live.creator_id, started)
        earned = contract is not None and base_fee_status(live, contract) == "earned"
        fee = contract.base_fee_minor if contract is not None and earned else 0
        mine = [orders[i] for i in idx]
        out.append(
            SessionCost(
                live_session_id=live.id,
                creator_id=live.creator_id,
                title=live.title,
                currency=live.currency,
                orders=sum(1 for o in mine if o.gmv_minor > 0),
                gmv_minor=sum(o.gmv_minor for o in mine),
                creator_commission_minor=sum(o.commission_minor for o in mine),
                base_fee_minor=fee if contract and contract.currency == live.currency else 0,
            )
        )
    return out
