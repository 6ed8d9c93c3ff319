"""What the affiliate pages show: who uses a shop's plan and what they sold under it; an
agency's creators, their shows and the agency's share; a creator's recent orders with the
terms they were bought under next to today's.

Read-only. Money comes from the order lines' frozen figures (commission at the rate frozen at
checkout, net of refunds) and, for an agency's share, from its ``agency_payable`` ledger lines
— what will be paid — grouped by the order or show they came from.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from liveshop.affiliates import agencies, contracts, rates
from liveshop.affiliates.models import AffiliatePlan, Agency, CreatorContract, PlanKind
from liveshop.core.clock import utcnow
from liveshop.creators.order_facts import (
    SoldLine,
    accrual_by_order,
    live_id_of,
    order_id_of,
    recent_lines,
    session_sales,
    shop_lines,
)
from liveshop.ledger.models import AccountType
from liveshop.ledger.service import agency_party, balances, statement
from liveshop.live import service as live
from liveshop.live.models import LiveSession

# --- a shop's plan ----------------------------------------------------------------------------


@dataclass
class CreatorUse:
    """A creator's use of one plan: products of it in their open showcases, and sales under
    it in one currency."""

    creator_id: int
    currency: str | None = None
    showing: int = 0
    orders: int = 0
    units: int = 0
    gmv_minor: int = 0
    commission_minor: int = 0


def _plan_rate(plan: AffiliatePlan, line: SoldLine) -> int | None:
    """The plan's rate for the line's product (its own over its category's), if it covers it."""
    by_product = {i.product_id: i.rate_bp for i in plan.items if i.product_id is not None}
    by_category = {i.category: i.rate_bp for i in plan.items if i.category is not None}
    if line.product_id in by_product:
        return by_product[line.product_id]
    return by_category.get(line.category)


def sold_under(plan: AffiliatePlan, lines: Sequence[SoldLine]) -> list[SoldLine]:
    """The lines sold under this plan: placed in its window, on a product it covers, by a
    creator it is open to, at the rate it gives (so a sale under another plan of the shop
    that covers the same product is not counted here)."""
    named = {c.creator_id for c in plan.creators}
    out = []
    for line in lines:
        if plan.kind == PlanKind.TARGETED and line.creator_id not in named:
            continue
        if line.created_at < plan.valid_from or (
            plan.valid_until is not None and line.created_at >= plan.valid_until
        ):
            continue
        if _plan_rate(plan, line) == line.commission_bp:
            out.append(line)
    return out


async def plan_usage(
    session: AsyncSession, plan: AffiliatePlan, *, covered_products: Sequence[int]
) -> list[CreatorUse]:
    """Per creator (and currency): the plan's products in their scheduled or live showcases
    and what they sold under it. ``covered_products`` are the plan's products, its
    categories' included."""
    lines = await shop_lines(
        session,
        plan.shop_id,
        since=plan.valid_from,
        until=plan.valid_until,
        product_ids=[i.product_id for i in plan.items if i.product_id is not None],
        categories=[i.category for i in plan.items if i.category is not None],
    )
    uses: dict[tuple[int, str | None], CreatorUse] = {}
    orders: dict[tuple[int, str | None], set[int]] = defaultdict(set)
    for line in sold_under(plan, lines):
        key = (line.creator_id, line.currency)
        use = uses.setdefault(key, CreatorUse(line.creator_id, line.currency))
        orders[key].add(line.order_id)
        use.units += line.quantity - line.refunded_quantity
        use.gmv_minor += line.gross_minor
        use.commission_minor += line.commission_minor
    for creator_currency, ids in orders.items():
        uses[creator_currency].orders = len(ids)
    showing = await live.creators_showing(session, covered_products)
    named = {c.creator_id for c in plan.creators}
    for creator_id, products in showing.items():
        if plan.kind == PlanKind.TARGETED and creator_id not in named:
            continue
        mine = [u for (c, _cur), u in uses.items() if c == creator_id]
        if not mine:
            mine = [uses.setdefault((creator_id, None), CreatorUse(creator_id))]
        for use in mine:
            use.showing = len(products)
    return sorted(uses.values(), key=lambda u: (-u.gmv_minor, -u.showing, u.creator_id))


# --- an agency ----------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class ShowRow:
    live_session_id: int
    title: str
    status: str
    currency: str
    planned_start: datetime
    orders: int
    gmv_minor: int  # goods the buyers kept
    agency_share_minor: int  # the agency's part of the show's commission, fee and bonus


@dataclass
class MemberView:
    creator_id: int
    joined_at: datetime
    contract: CreatorContract | None  # in force now
    upcoming: list[CreatorContract]
    shows: list[ShowRow]


@dataclass(frozen=True, slots=True)
class AgencyMoney:
    """The agency's payable account in one currency."""

    currency: str
    earned_minor: int  # every share credited, net of reversals
    owed_minor: int  # not paid out yet


@dataclass
class AgencyDashboard:
    agency: Agency
    members: list[MemberView] = field(default_factory=list)
    money: list[AgencyMoney] = field(default_factory=list)
    share_off_show: dict[str, int] = field(default_factory=dict)  # currency -> minor


async def _share_by_show(
    session: AsyncSession, agency_id: int
) -> tuple[list[AgencyMoney], dict[int, int], dict[str, int]]:
    """The agency's money per currency, its share per show, and what came from no show."""
    money: list[AgencyMoney] = []
    per_show: dict[int, int] = defaultdict(int)
    off_show: dict[str, int] = defaultdict(int)
    accounts = await balances(
        session, type=AccountType.AGENCY_PAYABLE, party=agency_party(agency_id)
    )
    for key, balance in accounts:
        st = await statement(session, key)
        per_order: dict[int, int] = defaultdict(int)
        earned = 0
        for line in st.lines:
            owed = -line.amount_minor
            if (oid := order_id_of(line.reference)) is not None:
                per_order[oid] += owed
                earned += owed
            elif (lid := live_id_of(line.reference)) is not None:
                per_show[lid] += owed
                earned += owed
        states = await accrual_by_order(session, list(per_order))
        for oid, owed in per_order.items():
            state = states.get(oid)
            if state is not None and state.live_session_id is not None:
                per_show[state.live_session_id] += owed
            else:
                off_show[key.currency] += owed
        money.append(AgencyMoney(key.currency, earned, -balance))
    return money, dict(per_show), dict(off_show)


async def _show_row(session: AsyncSession, show: LiveSession, share: int) -> ShowRow:
    sales = await session_sales(session, show.id)
    return ShowRow(
        live_session_id=show.id,
        title=show.title,
        status=show.status,
        currency=show.currency,
        planned_start=show.planned_start,
        orders=sales.orders,
        gmv_minor=sales.gmv_minor,
        agency_share_minor=share,
    )


async def agency_dashboard(
    session: AsyncSession, agency: Agency, *, shows_per_creator: int = 10
) -> AgencyDashboard:
    now = utcnow()
    money, per_show, off_show = await _share_by_show(session, agency.id)
    out = AgencyDashboard(agency=agency, money=money, share_off_show=off_show)
    for member in await agencies.members(session, agency.id):
        shows = await live.sessions_of_creator(session, member.creator_id, limit=shows_per_creator)
        out.members.append(
            MemberView(
                creator_id=member.creator_id,
                joined_at=member.joined_at,
                contract=await contracts.contract_at(session, member.creator_id, now),
                upcoming=await contracts.upcoming_versions(session, member.creator_id, now),
                shows=[await _show_row(session, s, per_show.get(s.id, 0)) for s in shows],
            )
        )
    return out


# --- a creator's terms, then and now ------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class TermsThenAndNow:
    """An order line with the terms it was bought under and the ones that would apply today."""

    line: SoldLine
    rate_now_bp: int | None  # None: no plan covers the product for this creator today
    agency_share_then_bp: int
    agency_share_now_bp: int


async def recent_terms(
    session: AsyncSession, creator_id: int, *, orders: int = 10
) -> list[TermsThenAndNow]:
    now = utcnow()
    current = await contracts.contract_at(session, creator_id, now)
    share_now = current.agency_share_bp if current is not None and current.agency_id else 0
    out = []
    for line in await recent_lines(session, creator_id, limit=orders):
        then = await contracts.contract_at(session, creator_id, line.created_at)
        rate_now = await rates.applicable_rate(
            session,
            creator_id=creator_id,
            product_id=line.product_id,
            category=line.category,
            shop_id=line.shop_id,
            at=now,
        )
        out.append(
            TermsThenAndNow(
                line=line,
                rate_now_bp=rate_now,
                agency_share_then_bp=then.agency_share_bp if then and then.agency_id else 0,
                agency_share_now_bp=share_now,
            )
        )
    return out
