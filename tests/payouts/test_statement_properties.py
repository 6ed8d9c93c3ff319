"""Property: a payout statement for a period ending at T says what T saw, whenever it is made,
and a party's statements never pay a commission twice — both databases.

Random orders are bought, delivered, completed, refunded (in part or whole), put under a
refund request that is rejected or granted, on random days of a simulated past (the ledger's
clock and the orders' events carry the simulated time). At random days a statement of the
creator is made for the period since the last one, and on others the open statements are paid.
Checked:

- each statement's ``pending`` is the commission, net of refunds made by T, of the orders that
  were not payable at T (delivered + their frozen window not passed by T, or under a refund
  request, or not delivered), computed from the simulation's own record;
- the figures computed again at the end — after everything that happened later — are the ones
  the statement was made with;
- the payouts of the statements up to the k-th add up to the most that was ever payable at one
  of their ends (never more: nothing is paid twice), whether or when the earlier ones were paid.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any
from unittest import mock

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select, update

from liveshop.accounts.models import Role
from liveshop.affiliates import plans
from liveshop.catalog.products import get_sku
from liveshop.core.clock import utcnow
from liveshop.core.db import Database
from liveshop.ledger import service as ledger
from liveshop.ledger.parties import PartyKind, payable_account
from liveshop.orders import lifecycle
from liveshop.orders.models import Order, OrderEvent
from liveshop.orders.payments.sandbox import SandboxProvider
from liveshop.orders.status import OrderStatus
from liveshop.payouts import figures, paying, statements
from liveshop.payouts.models import PayoutStatement, StatementStatus
from tests.conftest import reset_database
from tests.shopfront import buy_in_live, new_user, one_sku_shop, start_session

WINDOW = timedelta(days=14)  # GB

order_plan = st.fixed_dictionaries(
    {
        "buy": st.integers(0, 10),  # day bought
        "quantity": st.integers(1, 2),
        "deliver": st.one_of(st.none(), st.integers(1, 20)),  # days after buying
        "then": st.sampled_from(
            ["none", "complete", "refund_one", "request_reject", "request_refund"]
        ),
        "after": st.integers(0, 25),  # days after delivery
        "gap": st.integers(1, 10),  # days from a refund request to its decision
    }
)


@dataclass
class Sim:
    """The simulation's own record of each order (what the statements are checked against)."""

    bought: dict[int, datetime] = field(default_factory=dict)
    quantity: dict[int, int] = field(default_factory=dict)
    commission: dict[int, int] = field(default_factory=dict)  # the creator's, whole order
    statuses: dict[int, list[tuple[datetime, str]]] = field(default_factory=dict)
    refunds: dict[int, list[tuple[datetime, int]]] = field(default_factory=dict)

    def net_at(self, oid: int, at: datetime) -> int:
        c, q = self.commission[oid], self.quantity[oid]
        back = sum(n for t, n in self.refunds[oid] if t < at)
        return c - c * back // q

    def pending_at(self, oid: int, at: datetime) -> bool:
        seen = [(t, s) for t, s in self.statuses[oid] if t < at]
        status = seen[-1][1] if seen else OrderStatus.PENDING_PAYMENT
        delivered = max((t for t, s in seen if s == OrderStatus.DELIVERED), default=None)
        if status == OrderStatus.COMPLETED:
            return False
        if status == OrderStatus.DELIVERED and delivered is not None:
            return delivered + WINDOW > at
        return True

    def earned_and_pending(self, at: datetime) -> tuple[int, int]:
        mine = [oid for oid, t in self.bought.items() if t < at]
        earned = sum(self.net_at(oid, at) for oid in mine)
        pending = sum(self.net_at(oid, at) for oid in mine if self.pending_at(oid, at))
        return earned, pending


async def _scenario(
    db: Database,
    price: int,
    plan_list: list[dict[str, Any]],
    checkpoints: list[int],
    pay_days: list[int],
) -> None:
    await reset_database(db)
    provider = SandboxProvider("p", delay_s=-1)
    async with db.session() as s:
        buyer = await new_user(s, "b@example.com", Role.BUYER)
        seller = await new_user(s, "s@example.com", Role.SELLER)
        creator = await new_user(s, "c@example.com", Role.CREATOR)
    shop_id, sku = await one_sku_shop(db, price)
    async with db.session() as s:
        product_id = (await get_sku(s, sku)).product_id
        await plans.create_plan(
            s,
            shop_id=shop_id,
            kind=plans.PlanKind.OPEN,
            items=[plans.PlanItemSpec(rate_bp=1000, product_id=product_id)],
        )
    live_id = await start_session(db, creator)

    day0 = utcnow() - timedelta(days=90)

    def at(day: int, hours: float = 0) -> datetime:
        return day0 + timedelta(days=day, hours=hours)

    # The timeline: (when, what, order index or None).
    timeline: list[tuple[datetime, str, int | None]] = []
    for i, p in enumerate(plan_list):
        m = timedelta(minutes=i)
        timeline.append((at(p["buy"]) + m, "buy", i))
        if p["deliver"] is None:
            continue
        delivered = at(p["buy"] + p["deliver"], 1) + m
        timeline.append((delivered, "deliver", i))
        then = delivered + timedelta(days=p["after"], hours=1)
        decided = then + timedelta(days=p["gap"])
        if p["then"] == "complete":
            timeline.append((then, "complete", i))
        elif p["then"] == "refund_one":
            timeline.append((then, "refund_one", i))
        elif p["then"] in ("request_reject", "request_refund"):
            timeline.append((then, "request", i))
            timeline.append((decided, p["then"].removeprefix("request_"), i))
    for k in sorted(set(checkpoints)):
        timeline.append((at(k, 12), "statement", None))
    for d in pay_days:
        timeline.append((at(d, 18), "pay", None))
    timeline.sort(key=lambda e: e[0])

    sim = Sim()
    ids: dict[int, int] = {}
    clock: list[datetime] = [day0]
    made_then: list[tuple[int, figures.Figures]] = []  # (statement id, figures when made)
    period_start = day0 - timedelta(days=1)
    account = payable_account(PartyKind.CREATOR, creator, "GBP")

    with mock.patch("liveshop.ledger.service.utcnow", lambda: clock[0]):
        for n, (when, what, i) in enumerate(timeline):
            clock[0] = when
            async with db.session() as s:
                before = int(await s.scalar(select(func.coalesce(func.max(OrderEvent.id), 0))) or 0)
                oid = ids.get(i) if i is not None else None
                if what == "buy":
                    assert i is not None
                    oid = ids[i] = await buy_in_live(
                        s,
                        provider,
                        buyer_id=buyer,
                        sku_id=sku,
                        live_session_id=live_id,
                        quantity=plan_list[i]["quantity"],
                        key=f"k{n}",
                    )
                    order = await s.get(Order, oid, populate_existing=True)
                    assert order is not None
                    sim.bought[oid] = when
                    sim.quantity[oid] = order.lines[0].quantity
                    sim.commission[oid] = order.lines[0].creator_commission_minor
                    sim.statuses[oid] = [(when, OrderStatus.PAID)]
                    sim.refunds[oid] = []
                elif what == "deliver":
                    assert oid is not None
                    await lifecycle.start_fulfilment(s, oid, actor_id=seller)
                    await lifecycle.ship(
                        s, oid, actor_id=seller, carrier="Post", tracking_number=f"TR{oid:04d}"
                    )
                    await lifecycle.mark_delivered(s, oid, actor_id=seller)
                    sim.statuses[oid].append((when, OrderStatus.DELIVERED))
                elif what == "complete":
                    assert oid is not None
                    await lifecycle.complete(s, oid, actor_id=seller)
                    sim.statuses[oid].append((when, OrderStatus.COMPLETED))
                elif what == "request":
                    assert oid is not None
                    await lifecycle.request_refund(s, oid, buyer_id=buyer, reason="r")
                    sim.statuses[oid].append((when, OrderStatus.REFUND_REQUESTED))
                elif what == "reject":
                    assert oid is not None
                    await lifecycle.reject_refund_request(s, oid, actor_id=seller, reason="r")
                    sim.statuses[oid].append((when, OrderStatus.DELIVERED))
                elif what in ("refund_one", "refund"):
                    assert oid is not None
                    order = await s.get(Order, oid, populate_existing=True)
                    assert order is not None
                    line = order.lines[0]
                    units = 1 if what == "refund_one" else line.quantity
                    was = order.status
                    await lifecycle.refund(
                        s,
                        provider,
                        oid,
                        [lifecycle.RefundLine(line.id, units)],
                        actor_id=seller,
                        reason="r",
                    )
                    sim.refunds[oid].append((when, units))
                    if units == line.quantity:
                        sim.statuses[oid].append((when, OrderStatus.REFUNDED))
                    elif was == OrderStatus.REFUND_REQUESTED:
                        sim.statuses[oid].append((when, OrderStatus.DELIVERED))
                elif what == "statement":
                    row = await statements.create_statement(
                        s,
                        party_kind=PartyKind.CREATOR,
                        party_id=creator,
                        currency="GBP",
                        period_start=period_start,
                        period_end=when,
                    )
                    made_then.append((row.id, _figures(row)))
                    period_start = when
                elif what == "pay":
                    open_ids = (
                        await s.scalars(
                            select(PayoutStatement.id).where(
                                PayoutStatement.status == StatementStatus.OPEN
                            )
                        )
                    ).all()
                    for sid in open_ids:
                        await paying.pay_statement(s, sid)
                await s.execute(
                    update(OrderEvent).where(OrderEvent.id > before).values(created_at=when)
                )
                await s.commit()

    async with db.session(deferred=True) as s:
        chain = list(
            (
                await s.scalars(
                    select(PayoutStatement)
                    .order_by(PayoutStatement.seq)
                    .execution_options(populate_existing=True)
                )
            ).all()
        )
        assert [r.id for r in chain] == [sid for sid, _ in made_then]
        assert [r.seq for r in chain] == list(range(1, len(chain) + 1))
        promised = most_payable = 0
        for k, (row, (_, then)) in enumerate(zip(chain, made_then, strict=True)):
            # What the period saw, judged at its end from the simulation's record.
            earned, pending = sim.earned_and_pending(row.period_end)
            assert then.pending_minor == min(max(0, then.closing_owed_minor), pending)
            # Made again now, after everything that came later: the same figures.
            again = await figures.statement_figures(
                s,
                account,
                period_start=row.period_start,
                period_end=row.period_end,
                earlier=chain[:k],
            )
            assert again == then == _figures(row)
            # Never paid twice: all payouts so far = the most ever payable at a period's end.
            most_payable = max(most_payable, earned - pending)
            promised += row.payout_minor
            assert promised == most_payable
        assert await ledger.is_balanced(s)
        owed_now = -await ledger.balance(s, account)
        paid_out = sum(r.payout_minor for r in chain if r.status == StatementStatus.PAID)
        last = max(sim.bought.values(), default=day0) + timedelta(days=400)
        assert owed_now + paid_out == sim.earned_and_pending(last)[0]


def _figures(row: PayoutStatement) -> figures.Figures:
    return figures.Figures(
        opening_owed_minor=row.opening_owed_minor,
        earned_minor=row.earned_minor,
        deducted_minor=row.deducted_minor,
        closing_owed_minor=row.closing_owed_minor,
        pending_minor=row.pending_minor,
        earlier_payouts_minor=row.earlier_payouts_minor,
        payout_minor=row.payout_minor,
    )


def test_statements_are_reproducible_and_never_pay_twice(db_url: str) -> None:
    loop = asyncio.new_event_loop()
    db = Database(db_url)

    @settings(max_examples=15, deadline=None, suppress_health_check=list(HealthCheck))
    @given(
        price=st.integers(100, 99_999),
        plan_list=st.lists(order_plan, min_size=1, max_size=3),
        checkpoints=st.lists(st.integers(1, 80), min_size=1, max_size=4, unique=True),
        pay_days=st.lists(st.integers(1, 85), max_size=3),
    )
    def run(
        price: int, plan_list: list[dict[str, Any]], checkpoints: list[int], pay_days: list[int]
    ) -> None:
        loop.run_until_complete(_scenario(db, price, plan_list, checkpoints, pay_days))

    try:
        run()
    finally:
        loop.run_until_complete(reset_database(db))
        loop.run_until_complete(db.dispose())
        loop.close()
