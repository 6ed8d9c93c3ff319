"""Rule-based property test of drops (issue 14): whatever buyers, the clock, payments and
crashes do, in any order, stock, deals, per-buyer limits, lines and the ledger stay right —
on SQLite and PostgreSQL, through the service functions the routes and background jobs call.

One SKU, two live rooms, four buyers; deals of every policy (hold then pay, first paid wins,
queue, lottery) compete for the SKU's stock. Rules:

- start a deal (policy, units, an optional per-buyer limit, claim hold time);
- a batch of taps by random buyers for random quantities (``claims.decide``, as the desk);
- check out a claim and pay it (good, declined or pending card — or not yet);
- pay an unpaid order (again: after a decline, a crash, or late);
- pay late: the order's hold runs out, the reservation sweeper gives its units back, maybe
  another buyer takes them, then the buyer pays;
- buy a deal directly and pay (``buy_in_room``: first paid wins);
- give a claim up (the desk then serves the line); end a deal early; cancel an unpaid order;
  refund a paid one (one unit, or all of it);
- time passes (every timestamp that matters moves back by the step, so the code keeps the
  real clock), then some background jobs run — the reservation sweeper, the unpaid-order
  sweeper, payment recovery — and the deal clock (claims expire, lotteries draw, lines are
  served, deals end); or one background job runs alone; the provider's webhooks arrive;
- crashes: ``kill -9`` at any commit of a step (nothing after it runs, nothing uncommitted
  stays) — in a tap batch, a checkout, a payment, a direct buy, a give-up, a deal's end, a
  cancellation, a refund, the claims' expiry, a webhook — or while the provider answers a
  charge it has recorded (payment left in flight: recovery and the buyer's retry resolve it).

After every step: every stock level balances (received = available + held + sold, none
negative) and holds exactly its HELD reservations; sold = the paid units not refunded; the
ledger's trial balance is zero in every currency, and the provider's clearing and
refunds-payable accounts hold exactly what paid orders and refunds say; every paid order was
charged once; every HELD reservation belongs to a running deal, a held claim or an unpaid
order (nothing leaks), and one kept for a payment has that payment in flight; a running
deal's hold plus what left it is its units; no deal sells more than its units, nor has more
held, ordered and paid than them, and its ``sold`` is its paid units; every buyer's count
against a limit is what they hold, ordered unpaid and bought, within the limit; a held claim
has a HELD reservation (unless its hold ran out and the clock has yet to expire it), an
ordered one its order; lines are numbered in arrival order, served in order (a lottery in its
committed seed's order, re-run here), closed when the deal ends. After a tap batch: nobody
took units ahead of someone waiting in line. After the deal clock's tick: no running deal
has units idle while the head of its line waits for them.
"""

from __future__ import annotations

import asyncio
import hashlib
import itertools
from collections import Counter, defaultdict
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from hypothesis import HealthCheck, event, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    initialize,
    invariant,
    rule,
    run_state_machine_as_test,
)
from sqlalchemy import and_, bindparam, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from liveshop.accounts.models import Role
from liveshop.affiliates import plans
from liveshop.catalog.models import Shop
from liveshop.catalog.products import get_sku
from liveshop.core.broker import make_broker
from liveshop.core.clock import utcnow
from liveshop.core.db import Database, UTCDateTime, table_of
from liveshop.core.errors import Problem
from liveshop.inventory.models import Reservation, ReservationStatus, StockLevel
from liveshop.inventory.sweeper import ReservationSweeper
from liveshop.ledger.models import AccountType
from liveshop.ledger.service import AccountKey, balance, trial_balance
from liveshop.live import service as live
from liveshop.live.deals import claim_upkeep, claims, lottery, shelf
from liveshop.live.deals import service as deals
from liveshop.live.deals.claim_checkout import checkout_claim
from liveshop.live.deals.claims import Tap
from liveshop.live.deals.models import (
    ClaimStatus,
    DealClaim,
    DealEndReason,
    DealEntry,
    DealPolicy,
    DealStatus,
    EntryStatus,
    FlashDeal,
    FlashDealBuyer,
    ShelfClaim,
)
from liveshop.live.deals.pay_desk import PayClaim, PayDesk
from liveshop.live.deals.tally import SaleTally
from liveshop.live.deals.wiring import DealClock
from liveshop.live.models import LiveSession
from liveshop.orders import lifecycle
from liveshop.orders.completion import IN_FLIGHT
from liveshop.orders.models import Order, OrderLine, Payment, PaymentStatus, Refund, RefundStatus
from liveshop.orders.notify import OrderNotifier, OrderPaid
from liveshop.orders.payment_flow import pay_order
from liveshop.orders.payment_recovery import recover_stuck
from liveshop.orders.payments.provider import CardDetails, ProviderResult
from liveshop.orders.payments.sandbox import (
    CARD_DECLINED,
    CARD_PENDING_FAILS,
    CARD_PENDING_SUCCEEDS,
    CARD_SUCCEEDS,
    SandboxProvider,
)
from liveshop.orders.payments.sandbox_charges import SandboxCharge
from liveshop.orders.status import REFUNDABLE, OrderStatus
from liveshop.orders.webhooks import handle_webhook
from liveshop.realtime.publish import RoomPublisher
from tests.conftest import reset_database
from tests.orders.conftest import add_sku
from tests.shopfront import new_user, start_session

BUYERS = 4
DURATION = timedelta(minutes=10)  # a lottery takes entries for the first 5
HOLDS = (timedelta(minutes=1), timedelta(minutes=5))
STEPS = (20, 70, 130, 310)  # seconds a "time passes" step moves the clock on
JOBS = ("deal clock", "reservation sweeper", "unpaid-order sweeper", "payment recovery")
QUANTITY = st.sampled_from([1, 1, 1, 2, 3])
DealSpec = tuple[DealPolicy, int, int | None, timedelta]  # policy, units, per-buyer limit, hold
DEAL = st.tuples(
    st.sampled_from([*DealPolicy, DealPolicy.QUEUE, DealPolicy.LOTTERY]),
    st.integers(1, 5),
    st.none() | st.integers(1, 3),
    st.sampled_from(HOLDS),
)
CARDS = {
    "good": CARD_SUCCEEDS,
    "declined": CARD_DECLINED,
    "pending then paid": CARD_PENDING_SUCCEEDS,
    "pending then failed": CARD_PENDING_FAILS,
}
CARD = st.sampled_from([None, "good", "good", "good", *CARDS])
# Now and then the process dies at the n-th commit of a step (None: it does not).
CRASH = st.sampled_from([None] * 8 + [1, 2, 3, 4])
CRASH_FIRST = st.sampled_from([None] * 5 + [1])
CRASH_TWO = st.sampled_from([None] * 6 + [1, 2])
KILL = st.sampled_from([False, False, False, True])  # killed while the provider answers
PAYING = {"payment-declined", "payment-in-progress", "order-not-payable", "reservation-expired"}
# Everything time-dependent, moved back together when time passes.
TIMED = (Reservation, DealClaim, DealEntry, FlashDeal, Order, Payment, SandboxCharge)


class Crash(BaseException):
    """``kill -9``: the process is gone. Not an ``Exception``, so no handler of the code under
    test acts on it; the open transaction is rolled back as the database would on a lost
    connection."""


def crash_at_commit(session: AsyncSession, n: int) -> None:
    """The process dies at the session's ``n``-th commit, before it reaches the database."""
    commit = session.commit
    count = itertools.count(1)

    async def dying() -> None:
        if next(count) == n:
            raise Crash
        await commit()

    session.commit = dying  # type: ignore[method-assign]


class KillableSandbox(SandboxProvider):
    """The sandbox, killable while it answers a charge (it has recorded it, as the pause file
    lets a test kill a server then)."""

    kill_after_charge = False

    async def authorize(self, **kw: Any) -> ProviderResult:
        result = await super().authorize(**kw)
        if self.kill_after_charge:
            self.kill_after_charge = False
            raise Crash
        return result


@dataclass
class _Desk:
    """The node's claim desk as the deal clock uses it: ``serve`` runs a batch without taps."""

    machine: DropMachine

    async def serve(self, deal_id: int) -> None:
        await self.machine.serve(deal_id)


def pick(ids: list[int], i: int) -> int | None:
    return ids[i % len(ids)] if ids else None


class DropMachine(RuleBasedStateMachine):
    def __init__(self, loop: asyncio.AbstractEventLoop, db: Database, publisher: RoomPublisher):
        super().__init__()
        self.loop, self.db, self.publisher = loop, db, publisher
        self.provider = KillableSandbox("drop", delay_s=-1, db=db)
        self.provider.deliver = self._deliver
        self.notifier = OrderNotifier()
        self.notifier.on_paid(self._on_paid)
        self.clock = DealClock(db, lambda: publisher, _Desk(self))  # type: ignore[arg-type]
        self.errors: list[BaseException] = []  # raised in a listener the code would only log
        self.crash_webhook_at: int | None = None
        self.keys = itertools.count(1)
        self.ready = False

    # --- plumbing --------------------------------------------------------------------------

    def run(self, fn: Callable[[], Awaitable[Any]]) -> Any:
        return self.loop.run_until_complete(fn())

    async def _on_paid(self, event: OrderPaid) -> None:
        """What the app does once an order is paid: the room counts the deal's sale (and ends
        a deal sold out)."""
        try:
            await SaleTally(self.db, lambda: self.publisher).record(event)
        except Exception as exc:  # the notifier would log and swallow it
            self.errors.append(exc)
            raise

    async def _deliver(self, body: bytes, headers: dict[str, str]) -> None:
        async with self.db.session() as s:
            if self.crash_webhook_at is not None:
                crash_at_commit(s, self.crash_webhook_at)
            try:
                await handle_webhook(s, self.provider, body, headers, notifier=self.notifier)
            except Exception as exc:  # the sandbox would log and swallow it
                self.errors.append(exc)
                raise

    async def serve(self, deal_id: int) -> None:
        """``ClaimDesk.serve``: a batch without taps serves the deal's line (a first-paid-wins
        deal has no batches)."""
        async with self.db.session() as s:
            policy = await s.scalar(select(FlashDeal.policy).where(FlashDeal.id == deal_id))
            await s.rollback()
            if policy is not None and policy != DealPolicy.FIRST_PAID_WINS:
                outcome = await claims.decide(s, deal_id, [])
                if outcome.grants:
                    event("a line was served")

    async def ids(self, stmt: Any) -> list[Any]:
        async with self.db.session(deferred=True) as s:
            rows = list((await s.execute(stmt)).all())
            await s.rollback()
        return sorted(rows)

    async def attempt(
        self,
        what: str,
        allowed: set[str],
        body: Callable[[AsyncSession], Awaitable[Any]],
        crash: int | None = None,
    ) -> Any:
        """Run ``body`` in a fresh session: a Problem must be one ``allowed``; with ``crash``,
        the process dies at that commit (if the body gets that far)."""
        async with self.db.session() as s:
            if crash is not None:
                crash_at_commit(s, crash)
            try:
                return await body(s)
            except Crash:
                event(f"crash: {what} at commit {crash}")
                return None
            except Problem as exc:
                assert exc.code in allowed, f"{what}: unexpected {exc.code}: {exc.detail}"
                event(f"{what}: {exc.code}")
                return None

    # --- set-up ----------------------------------------------------------------------------

    @initialize(stock=st.integers(4, 14), first=DEAL, second=st.none() | DEAL)
    def setup(self, stock: int, first: DealSpec, second: DealSpec | None) -> None:
        """A shop with one SKU in stock, four buyers, a creator live in two rooms, and a deal
        running in one of them (or both)."""

        async def go() -> None:
            await reset_database(self.db)
            async with self.db.session() as s:
                creator = await new_user(s, "creator@example.com", Role.CREATOR)
                self.buyers = [
                    await new_user(s, f"b{i}@example.com", Role.BUYER) for i in range(BUYERS)
                ]
                shop = Shop(slug="drop", name="Drop", home_market="GB")
                s.add(shop)
                await s.commit()
                shop_id = shop.id
            self.sku_id = await add_sku(
                self.db,
                shop_id,
                title="Glow serum",
                category="beauty",
                prices={"GB": ("GBP", 1200)},
                stock=stock,
            )
            async with self.db.session() as s:
                product_id = (await get_sku(s, self.sku_id)).product_id
                await plans.create_plan(
                    s,
                    shop_id=shop_id,
                    kind=plans.PlanKind.OPEN,
                    items=[plans.PlanItemSpec(rate_bp=1000, product_id=product_id)],
                )
            self.rooms = [await start_session(self.db, creator) for _ in range(2)]
            async with self.db.session() as s:  # the product is pinned in both rooms
                await s.execute(
                    update(LiveSession)
                    .where(LiveSession.id.in_(self.rooms))
                    .values(pinned_product_id=product_id)
                )
                await s.commit()
            for room, spec in enumerate((first, second)):
                if spec is not None:
                    await self._start_deal(room, spec)

        self.stock = stock
        self.run(go)
        self.ready = True

    # --- buyers and creators ---------------------------------------------------------------

    async def deal_pick(self, i: int, *policies: DealPolicy) -> int | None:
        """A deal of one of ``policies`` (all: any): mostly a running one, now and then any
        (an ended deal, one past its end the clock has not ended yet)."""
        stmt = select(FlashDeal.id)
        if policies:
            stmt = stmt.where(FlashDeal.policy.in_([str(p) for p in policies]))
        every = [d for (d,) in await self.ids(stmt)]
        running = [
            d
            for (d,) in await self.ids(
                stmt.where(FlashDeal.status == DealStatus.ACTIVE, FlashDeal.ends_at > utcnow())
            )
        ]
        return pick(running if running and i % 4 else every, i // 4)

    @rule(room=st.integers(0, 1), spec=DEAL)
    def start_deal(self, room: int, spec: DealSpec) -> None:
        """The creator starts a deal (in a room without one, if there is such a room)."""
        self.run(lambda: self._start_deal(room, spec))

    async def _start_deal(self, room: int, spec: DealSpec) -> None:
        policy, units, limit, hold = spec
        limit = None if limit is None else min(limit, units)
        async with self.db.session(deferred=True) as s:
            running = [await deals.active_deal(s, r) for r in self.rooms]
            free = await s.scalar(
                select(StockLevel.available).where(StockLevel.sku_id == self.sku_id)
            )
            # A running deal whose time is up (only its grace runs: live.deals.expiry) is
            # ended by a new one, its unsold units back in stock first.
            now = utcnow()
            lapsed = [r is not None and r.deal.ends_at <= now for r in running]
            held = [r.available if r is not None else 0 for r in running]
            await s.rollback()
        idle = [n for n, r in enumerate(running) if r is None]
        at = idle[room % len(idle)] if idle else room

        async def body(s: AsyncSession) -> Any:
            return await deals.start_deal(
                s,
                await live.get_session(s, self.rooms[at]),
                sku_id=self.sku_id,
                price_minor=999,
                units=units,
                duration=DURATION,
                actor_id=0,
                per_buyer_limit=limit,
                policy=policy,
                hold=hold,
            )

        started = await self.attempt("start", {"deal-already-running", "out-of-stock"}, body)
        room_free = running[at] is None or lapsed[at]
        units_free = (free or 0) + (held[at] if lapsed[at] else 0)
        assert (started is not None) == (room_free and units_free >= units)
        if started is not None:
            event(f"deal started: {policy}")

    async def _taps(self, s: AsyncSession, deal_id: int, taps: list[Tap]) -> None:
        line_before = {
            e
            for (e,) in await self.ids(
                select(DealEntry.id).where(
                    DealEntry.deal_id == deal_id,
                    DealEntry.status == EntryStatus.WAITING,
                    DealEntry.rank.is_not(None),
                )
            )
        }
        outcome = await claims.decide(s, deal_id, taps)
        assert len(outcome.answers) == len(taps)
        statuses = [a.status for a in outcome.answers]
        if outcome.grants and any(g.entry_id is not None for g in outcome.grants):
            event("a line was served")
        for a in outcome.answers:
            event(f"tap: {a.status} {a.code or ''}".strip())
            if a.status == "held":
                assert a.claim_id is not None and a.quantity > 0
            if a.status == "queued":
                assert a.seq is not None and a.position is not None and a.position >= 1
        still_waiting = {
            e
            for (e,) in await self.ids(
                select(DealEntry.id).where(
                    DealEntry.id.in_(line_before), DealEntry.status == EntryStatus.WAITING
                )
            )
        }
        # Nobody takes units ahead of someone who was already waiting in line for them (a
        # tap answered with its own place's claim was served in line).
        in_line = {g.claim_id for g in outcome.grants if g.entry_id is not None}
        jumped = [a for a in outcome.answers if a.status == "held" and a.claim_id not in in_line]
        assert not (still_waiting and jumped), (statuses, still_waiting)

    @rule(
        i=st.integers(0, 99),
        taps=st.lists(st.tuples(st.integers(0, BUYERS - 1), QUANTITY), min_size=1, max_size=6),
        crash=CRASH_FIRST,
    )
    def tap(self, i: int, taps: list[tuple[int, int]], crash: int | None) -> None:
        """A batch of taps, as the desk decides them (a first-paid-wins deal has none)."""

        async def go() -> None:
            deal_id = await self.deal_pick(
                i, DealPolicy.HOLD_THEN_PAY, DealPolicy.QUEUE, DealPolicy.LOTTERY
            )
            if deal_id is None:
                return
            batch = [Tap(self.buyers[b], q) for b, q in taps]
            await self.attempt("taps", set(), lambda s: self._taps(s, deal_id, batch), crash)

        self.run(go)

    async def _pay(self, s: AsyncSession, order_id: int, buyer_id: int, card: str) -> None:
        await pay_order(
            s,
            self.provider,
            order_id=order_id,
            buyer_id=buyer_id,
            card=CardDetails(CARDS[card]),
            notifier=self.notifier,
        )
        event(f"paid with {card}")

    @rule(i=st.integers(0, 99), card=CARD, crash=CRASH, kill=KILL)
    def pay_claim(self, i: int, card: str | None, crash: int | None, kill: bool) -> None:
        """Check out a held claim (now and then one already ordered) and pay it, as
        POST /claims/{id}/pay does."""

        async def body(s: AsyncSession, claim_id: int, buyer_id: int) -> None:
            placed = await checkout_claim(s, claim_id, buyer_id=buyer_id)
            event("checked out a claim" if not placed.replayed else "checked out again")
            if card is not None and placed.order.paid_at is None:
                self.provider.kill_after_charge = kill and crash is None
                await self._pay(s, placed.order.id, buyer_id, card)

        async def go() -> None:
            held = await self.ids(
                select(DealClaim.id, DealClaim.buyer_id).where(DealClaim.status == ClaimStatus.HELD)
            )
            if not held or i % 4 == 0:
                held = await self.ids(
                    select(DealClaim.id, DealClaim.buyer_id).where(
                        DealClaim.status.in_([ClaimStatus.HELD, ClaimStatus.ORDERED])
                    )
                )
            if not held:
                return
            claim_id, buyer_id = held[i % len(held)]
            await self.attempt(
                "pay claim",
                {"claim-expired"} | PAYING,
                lambda s: body(s, claim_id, buyer_id),
                crash,
            )
            self.provider.kill_after_charge = False

        self.run(go)

    @rule(
        i=st.integers(0, 99),
        n=st.integers(1, 3),
        card=st.sampled_from(["good", "good", *CARDS]),
        kill=KILL,
    )
    def pay_claims_together(self, i: int, n: int, card: str, kill: bool) -> None:
        """Held claims paid at the same moment, batched as the node's pay desk batches
        POST /claims/{id}/pay with a card; killed now and then while the provider answers
        (orders and payments written, the completion never comes)."""

        async def go() -> None:
            deal_id = await self.deal_pick(i, DealPolicy.HOLD_THEN_PAY)
            if deal_id is not None:  # buyers tap together first (as in a drop), then pay
                taps = [Tap(self.buyers[(i + k) % BUYERS], 1) for k in range(n)]
                await self.attempt("taps", set(), lambda s: self._taps(s, deal_id, taps))
            held = await self.ids(
                select(DealClaim.id, DealClaim.buyer_id).where(DealClaim.status == ClaimStatus.HELD)
            )
            if not held:
                return
            chosen = [held[(i + k) % len(held)] for k in range(min(n, len(held)))]
            self.provider.kill_after_charge = kill
            desk = PayDesk(self.db, lambda: self.provider, self.notifier)
            got = await asyncio.gather(
                *(desk.pay(PayClaim(c, b, CardDetails(CARDS[card]))) for c, b in chosen),
                return_exceptions=True,
            )
            self.provider.kill_after_charge = False
            for answer in got:
                if isinstance(answer, Crash):
                    event("crash: a pay batch while the provider answered")
                elif isinstance(answer, Problem):
                    assert answer.code in PAYING | {"claim-expired"}, answer.code
                    event(f"pay batch: {answer.code}")
                elif isinstance(answer, BaseException):
                    raise answer
                elif answer is None:
                    event("pay batch: the single way")
                else:
                    event(f"pay batch: {answer.order.status}")

        self.run(go)

    @rule(i=st.integers(0, 99), card=st.sampled_from(list(CARDS)), crash=CRASH, kill=KILL)
    def pay_again(self, i: int, card: str, crash: int | None, kill: bool) -> None:
        """The buyer (re)tries paying an unpaid order — late, after a decline, after a crash."""

        async def go() -> None:
            unpaid = select(Order.id, Order.buyer_id).where(
                Order.status == OrderStatus.PENDING_PAYMENT
            )
            late = await self.ids(unpaid.where(Order.hold_expires_at < utcnow()))
            rows = late if late and i % 2 else await self.ids(unpaid)
            if not rows:
                return
            order_id, buyer_id = rows[i % len(rows)]
            self.provider.kill_after_charge = kill and crash is None
            await self.attempt(
                "pay again", PAYING, lambda s: self._pay(s, order_id, buyer_id, card), crash
            )
            self.provider.kill_after_charge = False

        self.run(go)

    @rule(
        i=st.integers(0, 99),
        other=st.none() | st.integers(0, BUYERS - 1),
        card=st.sampled_from(list(CARDS)),
    )
    def pay_late(self, i: int, other: int | None, card: str) -> None:
        """A buyer pays after their order's hold ran out and the reservation sweeper gave its
        units back — before the unpaid-order sweeper cancelled it — and maybe after another
        buyer took those units."""

        async def go() -> None:
            unpaid = (
                select(
                    Order.id,
                    Order.buyer_id,
                    Order.hold_expires_at,
                    OrderLine.deal_id,
                    OrderLine.quantity,
                )
                .join(OrderLine, OrderLine.order_id == Order.id)
                .where(Order.status == OrderStatus.PENDING_PAYMENT)
            )
            rows = await self.ids(unpaid)
            held = await self.ids(
                select(DealClaim.id, DealClaim.buyer_id).where(DealClaim.status == ClaimStatus.HELD)
            )
            if not rows and held:  # check a claim out first
                claim_id, claimant = held[i % len(held)]
                await self.attempt(
                    "check out",
                    {"claim-expired"},
                    lambda s: checkout_claim(s, claim_id, buyer_id=claimant),
                )
                rows = await self.ids(unpaid)
            if not rows:
                return
            order_id, buyer_id, expires_at, deal_id, quantity = rows[i % len(rows)]
            if expires_at is not None and expires_at > utcnow():
                await self._move_clock(expires_at - utcnow() + timedelta(seconds=1))
            await self._job("reservation sweeper")
            if other is not None and deal_id is not None:
                [(policy,)] = await self.ids(
                    select(FlashDeal.policy).where(FlashDeal.id == deal_id)
                )
                if policy == DealPolicy.FIRST_PAID_WINS:
                    key = f"buy-{next(self.keys)}"

                    async def buy(s: AsyncSession) -> None:
                        deal = await deals.get_deal(s, deal_id)
                        await deals.buy_in_room(
                            s,
                            await live.get_session(s, deal.session_id),
                            buyer_id=self.buyers[other],
                            sku_id=deal.sku_id,
                            quantity=quantity,
                            idempotency_key=key,
                            deal_id=deal_id,
                        )

                    await self.attempt(
                        "buy", {"deal-ended", "deal-sold-out", "deal-limit-reached"}, buy
                    )
                else:
                    batch = [Tap(self.buyers[other], quantity)]
                    await self.attempt("taps", set(), lambda s: self._taps(s, deal_id, batch))
            await self.attempt("pay late", PAYING, lambda s: self._pay(s, order_id, buyer_id, card))

        self.run(go)

    @rule(
        i=st.integers(0, 99),
        buyer=st.integers(0, BUYERS - 1),
        quantity=QUANTITY,
        card=CARD,
        crash=CRASH,
        kill=KILL,
    )
    def buy_now(
        self, i: int, buyer: int, quantity: int, card: str | None, crash: int | None, kill: bool
    ) -> None:
        """A direct buy out of a deal, paid at once (first paid wins; hold then pay allows it
        too; a queue or a lottery refuses it)."""
        buyer_id = self.buyers[buyer]
        key = f"buy-{next(self.keys)}"

        async def body(s: AsyncSession, deal_id: int) -> None:
            deal = await deals.get_deal(s, deal_id)
            placed = await deals.buy_in_room(
                s,
                await live.get_session(s, deal.session_id),
                buyer_id=buyer_id,
                sku_id=deal.sku_id,
                quantity=quantity,
                idempotency_key=key,
                deal_id=deal_id,
            )
            event("bought directly")
            if card is not None:
                self.provider.kill_after_charge = kill and crash is None
                await self._pay(s, placed.order.id, buyer_id, card)

        async def go() -> None:
            first = await self.deal_pick(i, DealPolicy.FIRST_PAID_WINS, DealPolicy.HOLD_THEN_PAY)
            deal_id = first if i % 8 else await self.deal_pick(i)
            if deal_id is None:
                return
            await self.attempt(
                "buy",
                {"deal-ended", "claim-first", "deal-sold-out", "deal-limit-reached"} | PAYING,
                lambda s: body(s, deal_id),
                crash,
            )
            self.provider.kill_after_charge = False

        self.run(go)

    @rule(i=st.integers(0, 99), crash=CRASH_FIRST)
    def give_up(self, i: int, crash: int | None) -> None:
        """The buyer lets a held claim go; the desk then serves the deal's line."""

        async def go() -> None:
            rows = await self.ids(
                select(DealClaim.id, DealClaim.buyer_id).where(DealClaim.status == ClaimStatus.HELD)
            )
            if not rows:
                return
            claim_id, buyer_id = rows[i % len(rows)]
            settled = await self.attempt(
                "give up",
                set(),
                lambda s: claim_upkeep.give_up(s, claim_id, buyer_id),
                crash,
            )
            if settled is not None:
                event("gave a claim up")
                await self.serve(settled.deal_id)

        self.run(go)

    @rule(i=st.integers(0, 99), crash=CRASH_FIRST)
    def end_early(self, i: int, crash: int | None) -> None:
        """The creator ends a running deal."""

        async def go() -> None:
            rows = await self.ids(select(FlashDeal.id).where(FlashDeal.status == DealStatus.ACTIVE))
            deal_id = pick([d for (d,) in rows], i)
            if deal_id is not None and i < 30:  # now and then
                ended = await self.attempt(
                    "end",
                    set(),
                    lambda s: deals.end_deal(s, deal_id, reason=DealEndReason.ENDED_EARLY),
                    crash,
                )
                if ended is not None:
                    event("ended a deal early")

        self.run(go)

    @rule(i=st.integers(0, 99), crash=CRASH_FIRST)
    def cancel_unpaid(self, i: int, crash: int | None) -> None:
        """The buyer cancels an order they have not paid."""

        async def go() -> None:
            rows = await self.ids(
                select(Order.id).where(Order.status == OrderStatus.PENDING_PAYMENT)
            )
            order_id = pick([o for (o,) in rows], i)
            if order_id is not None:
                done = await self.attempt(
                    "cancel",
                    set(),
                    lambda s: lifecycle.cancel(
                        s, self.provider, order_id, actor_id=None, reason="changed my mind"
                    ),
                    crash,
                )
                if done is not None:
                    event("cancelled an unpaid order")

        self.run(go)

    @rule(i=st.integers(0, 99), everything=st.booleans(), crash=CRASH_TWO)
    def refund(self, i: int, everything: bool, crash: int | None) -> None:
        """A paid order refunded: one unit, or cancelled (everything back). Commit 2 is the
        refund settled after the provider returned the money."""

        async def body(s: AsyncSession, order_id: int) -> None:
            if everything:
                await lifecycle.cancel(s, self.provider, order_id, actor_id=None, reason="r")
            else:
                line = await s.scalar(select(OrderLine).where(OrderLine.order_id == order_id))
                assert line is not None
                await lifecycle.refund(
                    s,
                    self.provider,
                    order_id,
                    [lifecycle.RefundLine(line.id, 1)],
                    actor_id=None,
                    reason="r",
                )
            event("refunded everything" if everything else "refunded a unit")

        async def go() -> None:
            rows = await self.ids(select(Order.id).where(Order.status.in_(list(REFUNDABLE))))
            order_id = pick([o for (o,) in rows], i)
            if order_id is not None:
                await self.attempt(
                    "refund", {"bad-refund-quantity"}, lambda s: body(s, order_id), crash
                )

        self.run(go)

    # --- time and the background jobs ------------------------------------------------------

    async def _move_clock(self, step: timedelta) -> None:
        """Every timestamp that matters moves back by ``step``: for the code under test (which
        reads the real clock) ``step`` has passed."""
        async with self.db.session() as s:
            for model in TIMED:
                table = table_of(model)
                keys = list(table.primary_key.columns)
                times = [c for c in table.columns if isinstance(c.type, UTCDateTime)]
                rows = (await s.execute(select(*keys, *times))).all()
                if not rows:
                    continue
                params = [
                    {f"k_{c.name}": v for c, v in zip(keys, row[: len(keys)], strict=True)}
                    | {
                        f"t_{c.name}": None if v is None else v - step
                        for c, v in zip(times, row[len(keys) :], strict=True)
                    }
                    for row in rows
                ]
                await s.execute(
                    update(table)
                    .where(and_(*(c == bindparam(f"k_{c.name}") for c in keys)))
                    .values({c.name: bindparam(f"t_{c.name}") for c in times})
                    .execution_options(synchronize_session=False),
                    params,
                )
            await s.commit()

    async def _job(self, job: str) -> None:
        if job == "deal clock":  # claims expire, lotteries draw, lines are served, deals end
            if await self.clock.tick():
                event("a deal ran out of time")
            await self._check(ticked=True)
        elif job == "reservation sweeper":
            if await ReservationSweeper().sweep_once(self.db):
                event("holds expired")
        elif job == "unpaid-order sweeper":
            async with self.db.session() as s:
                if await lifecycle.cancel_unpaid_expired(s):
                    event("unpaid orders cancelled")
        elif job == "payment recovery" and await recover_stuck(
            self.db, self.provider, notifier=self.notifier
        ):
            event("stuck payments resolved")

    @rule(
        seconds=st.sampled_from(STEPS),
        jobs=st.lists(st.sampled_from(JOBS), unique=True, max_size=len(JOBS)),
    )
    def time_passes(self, seconds: int, jobs: list[str]) -> None:
        """The clock moves on, then some of the background jobs run (in some order), and the
        deal clock — it ticks every second — last."""

        async def go() -> None:
            await self._move_clock(timedelta(seconds=seconds))
            for job in jobs:
                await self._job(job)
            await self._job("deal clock")

        self.run(go)

    @rule(job=st.sampled_from(JOBS), crash=CRASH_FIRST)
    def background_job(self, job: str, crash: int | None) -> None:
        """One of the background jobs runs; with ``crash`` the deal clock's node dies while
        it expires claims."""
        if crash is not None and job == "deal clock":
            expire = claim_upkeep.expire_claims
            self.run(lambda: self.attempt("expire claims", set(), expire, crash))
        else:
            self.run(lambda: self._job(job))

    @rule(crash=CRASH_TWO)
    def webhooks(self, crash: int | None) -> None:
        """The provider's late outcomes arrive (a pending card settled); with ``crash`` the
        server dies while handling one — the provider does not send it again."""

        async def go() -> None:
            self.crash_webhook_at = crash
            try:
                if await self.provider.flush():
                    event("webhooks delivered")
            except Crash:
                event(f"crash: webhook at commit {crash}")
            finally:
                self.crash_webhook_at = None

        self.run(go)

    @rule(
        room=st.integers(0, 1),
        taps=st.lists(st.tuples(st.integers(0, BUYERS - 1), QUANTITY), min_size=1, max_size=6),
        crash=CRASH_FIRST,
    )
    def tap_shelf(self, room: int, taps: list[tuple[int, int]], crash: int | None) -> None:
        """A batch of taps on the pinned product without a deal (shelf claims)."""

        async def body(s: AsyncSession) -> None:
            batch = [Tap(self.buyers[b], q) for b, q in taps]
            outcome = await shelf.decide(s, self.rooms[room], self.sku_id, batch)
            assert len(outcome.answers) == len(batch)
            for tap_, answer in zip(batch, outcome.answers, strict=True):
                event(f"shelf tap: {answer.status} {answer.code or ''}".strip())
                if answer.status == "held":
                    assert answer.quantity == tap_.quantity and answer.claim_id is not None
                else:
                    assert answer.code == "sold-out"
                    assert outcome.best < tap_.quantity

        self.run(lambda: self.attempt("shelf taps", set(), body, crash))

    @rule(i=st.integers(0, 99), card=CARD, crash=CRASH, kill=KILL)
    def pay_shelf_claim(self, i: int, card: str | None, crash: int | None, kill: bool) -> None:
        """Check out a shelf claim (held, given up, run out or ordered) and pay it, as
        POST /shelf-claims/{id}/pay does."""

        async def body(s: AsyncSession, claim_id: int, buyer_id: int) -> None:
            placed = await shelf.checkout_shelf_claim(s, claim_id, buyer_id=buyer_id)
            event("checked out a shelf claim" if not placed.replayed else "shelf: again")
            if card is not None and placed.order.paid_at is None:
                self.provider.kill_after_charge = kill and crash is None
                await self._pay(s, placed.order.id, buyer_id, card)

        async def go() -> None:
            rows = await self.ids(select(ShelfClaim.id, ShelfClaim.buyer_id))
            if not rows:
                return
            claim_id, buyer_id = rows[i % len(rows)]
            await self.attempt(
                "pay shelf claim",
                {"claim-expired"} | PAYING,
                lambda s: body(s, claim_id, buyer_id),
                crash,
            )
            self.provider.kill_after_charge = False

        self.run(go)

    @rule(i=st.integers(0, 99), crash=CRASH_FIRST)
    def give_up_shelf(self, i: int, crash: int | None) -> None:
        async def go() -> None:
            rows = await self.ids(select(ShelfClaim.id, ShelfClaim.buyer_id))
            if not rows:
                return
            claim_id, buyer_id = rows[i % len(rows)]
            await self.attempt(
                "give up shelf",
                {"claim-not-held"},
                lambda s: shelf.give_up(s, claim_id, buyer_id),
                crash,
            )

        self.run(go)

    # --- what must hold after every step ---------------------------------------------------

    @invariant()
    def everything_adds_up(self) -> None:
        if not self.ready:
            return
        assert not self.errors, self.errors
        self.run(self._check)

    async def _check(self, ticked: bool = False) -> None:
        async with self.db.session(deferred=True) as s:
            levels = (await s.scalars(select(StockLevel))).all()
            res = {r.id: r for r in (await s.scalars(select(Reservation))).all()}
            all_deals = (await s.scalars(select(FlashDeal))).all()
            all_claims = (await s.scalars(select(DealClaim))).all()
            shelf_claims = (await s.scalars(select(ShelfClaim))).all()
            entries = (await s.scalars(select(DealEntry).order_by(DealEntry.seq))).all()
            counted = {
                (r.deal_id, r.buyer_id): r.units
                for r in (await s.scalars(select(FlashDealBuyer))).all()
            }
            orders = {o.id: o for o in (await s.scalars(select(Order))).all()}
            lines = (await s.scalars(select(OrderLine))).all()
            payments = (await s.scalars(select(Payment))).all()
            refunds = (await s.scalars(select(Refund))).all()
            ledger = await trial_balance(s)
            provider = "provider:sandbox"
            clearing = await balance(s, AccountKey(AccountType.PAYMENT_CLEARING, provider, "GBP"))
            owed_back = await balance(s, AccountKey(AccountType.REFUNDS_PAYABLE, provider, "GBP"))
        now = utcnow()
        HELD = ReservationStatus.HELD

        def paid(o: Order) -> bool:
            return o.paid_at is not None

        def pending(o: Order) -> bool:
            return o.status == OrderStatus.PENDING_PAYMENT

        # Stock: every level balances and holds exactly its HELD reservations.
        held_at: Counter[int] = Counter()
        for r in res.values():
            if r.status == HELD:
                held_at[r.stock_level_id] += r.quantity
        for lv in levels:
            assert min(lv.available, lv.held, lv.sold) >= 0
            assert lv.received == lv.available + lv.held + lv.sold
            assert lv.held == held_at[lv.id], (lv.held, held_at[lv.id])
        assert sum(lv.received for lv in levels) == self.stock
        sold = sum(ln.quantity - ln.refunded_quantity for ln in lines if paid(orders[ln.order_id]))
        assert sum(lv.sold for lv in levels) == sold

        # Money: balanced, every paid order charged once, the provider's accounts exact.
        assert set(ledger.values()) <= {0}, ledger
        charged = Counter(p.order_id for p in payments if p.status == PaymentStatus.SUCCEEDED)
        for o in orders.values():
            assert charged[o.id] == (1 if paid(o) else 0), (o.id, o.status, charged[o.id])
        settled = sum(r.amount_minor for r in refunds if r.status == RefundStatus.SUCCEEDED)
        unsettled = sum(r.amount_minor for r in refunds if r.status != RefundStatus.SUCCEEDED)
        assert clearing == sum(o.total_minor for o in orders.values() if paid(o)) - settled
        assert owed_back == -unsettled

        # Holds: nothing leaks; units kept for a payment have that payment in flight.
        in_flight = {p.order_id for p in payments if p.status in IN_FLIGHT}
        order_of = {ln.reservation_id: orders[ln.order_id] for ln in lines if ln.reservation_id}
        deal_of = {d.reservation_id: d for d in all_deals}
        held_claims = {c.reservation_id for c in all_claims if c.status == ClaimStatus.HELD}
        held_claims |= {c.reservation_id for c in shelf_claims if c.order_id is None}
        for c in shelf_claims:  # a shelf claim ordered once, its hold the order's line's
            if c.order_id is not None:
                assert order_of.get(c.reservation_id) is None or (
                    order_of[c.reservation_id].id == c.order_id
                )
                assert any(
                    ln.order_id == c.order_id and ln.reservation_id == c.reservation_id
                    for ln in lines
                ), f"shelf claim {c.id} names order {c.order_id} without its hold"
        for r in res.values():
            if r.status != HELD:
                continue
            owner = order_of.get(r.id)
            d = deal_of.get(r.id)
            assert (
                (d is not None and d.status == DealStatus.ACTIVE)
                or r.id in held_claims
                or (owner is not None and pending(owner))
            ), f"reservation {r.id} ({r.reference}) is held for nothing"
            if r.paying:
                assert owner is not None and owner.id in in_flight

        # Deals.
        by_deal: defaultdict[int, list[OrderLine]] = defaultdict(list)
        for ln in lines:
            if ln.deal_id is not None:
                by_deal[ln.deal_id].append(ln)
        for d in all_deals:
            assert d.reservation_id is not None
            hold = res[d.reservation_id]
            assert (hold.status == HELD) == (d.status == DealStatus.ACTIVE)
            out = sum(
                r.quantity
                for r in res.values()
                if r.parent_id == hold.id and r.status in (HELD, ReservationStatus.COMMITTED)
            )
            if d.status == DealStatus.ACTIVE:
                assert hold.quantity + out == d.units, (d.id, hold.quantity, out, d.units)
            d_lines = by_deal[d.id]
            paid_units = sum(ln.quantity for ln in d_lines if paid(orders[ln.order_id]))
            assert paid_units <= d.units, f"deal {d.id} sold {paid_units} of {d.units} units"
            assert d.sold == paid_units, (d.id, d.sold, paid_units)
            mine = [c for c in all_claims if c.deal_id == d.id]
            live_claims = sum(
                c.quantity
                for c in mine
                if c.status == ClaimStatus.HELD and res[c.reservation_id].status == HELD
            )
            unpaid = sum(
                ln.quantity
                for ln in d_lines
                if pending(orders[ln.order_id])
                and ln.reservation_id is not None
                and res[ln.reservation_id].status == HELD
            )
            assert live_claims + unpaid + paid_units <= d.units
            # Per-buyer limits: counted = held + ordered unpaid + bought; within the limit.
            for b in self.buyers:
                units = sum(
                    c.quantity for c in mine if c.buyer_id == b and c.status == ClaimStatus.HELD
                )
                units += sum(
                    ln.quantity
                    for ln in d_lines
                    if orders[ln.order_id].buyer_id == b
                    and (pending(orders[ln.order_id]) or paid(orders[ln.order_id]))
                )
                got = counted.get((d.id, b))
                if d.per_buyer_limit is None:
                    assert got is None
                else:
                    assert (got or 0) == units, (d.id, b, got, units)
                    assert units <= d.per_buyer_limit
            # Claims match their reservations and orders.
            if d.policy == DealPolicy.FIRST_PAID_WINS or (
                d.policy == DealPolicy.LOTTERY and d.drawn_at is None
            ):
                assert not mine
            for c in mine:
                r = res[c.reservation_id]
                assert r.parent_id == hold.id and r.quantity == c.quantity
                if c.status == ClaimStatus.HELD:
                    assert r.status == HELD or c.expires_at <= now, (c.id, r.status)
                elif c.status == ClaimStatus.ORDERED:
                    assert c.order_id is not None
                    order = orders[c.order_id]
                    assert order.buyer_id == c.buyer_id
                    assert [
                        (ln.reservation_id, ln.deal_id, ln.quantity)
                        for ln in lines
                        if ln.order_id == order.id
                    ] == [(c.reservation_id, d.id, c.quantity)]
                else:
                    assert r.status != HELD
            line = [e for e in entries if e.deal_id == d.id]
            self._check_line(d, line, mine, hold, counted, now, ticked)

    def _check_line(
        self,
        d: FlashDeal,
        line: list[DealEntry],
        mine: list[DealClaim],
        hold: Reservation,
        counted: dict[tuple[int, int], int],
        now: Any,
        ticked: bool,
    ) -> None:
        if d.policy not in (DealPolicy.QUEUE, DealPolicy.LOTTERY):
            assert not line
            return
        assert [e.seq for e in line] == list(range(1, len(line) + 1))
        assert len({e.buyer_id for e in line}) == len(line)
        if d.status != DealStatus.ACTIVE:
            assert all(e.status != EntryStatus.WAITING for e in line)
        else:
            assert all(e.status != EntryStatus.CLOSED for e in line)
        if d.policy == DealPolicy.QUEUE:
            assert all(e.rank == e.seq for e in line)
        elif d.drawn_at is None:
            assert d.lottery_seed is not None and d.lottery_seed_sha256 is not None
            assert d.lottery_seed_sha256 == hashlib.sha256(d.lottery_seed.encode()).hexdigest()
            assert all(e.rank is None for e in line)
            assert all(e.status in (EntryStatus.WAITING, EntryStatus.CLOSED) for e in line)
            return
        else:  # drawn: anyone can re-run the draw from the revealed seed
            assert d.lottery_seed is not None
            assert d.lottery_seed_sha256 == hashlib.sha256(d.lottery_seed.encode()).hexdigest()
            order = lottery.draw_order(d.lottery_seed, [e.seq for e in line])
            assert [e.seq for e in sorted(line, key=lambda e: e.rank or 0)] == order
        claim = {c.id: c for c in mine}
        for e in line:
            assert e.rank is not None
            if e.status == EntryStatus.SERVED:
                c = claim[e.claim_id or 0]
                assert (c.buyer_id, c.quantity) == (e.buyer_id, e.quantity)
            if e.status in (EntryStatus.SERVED, EntryStatus.SKIPPED):
                assert e.rank <= d.served_through
            elif e.status == EntryStatus.WAITING:
                assert e.rank > d.served_through
        if not ticked or d.status != DealStatus.ACTIVE or d.ends_at <= now:
            return
        # Right after the deal clock's tick, no units sit idle while the head of the line
        # waits for them (between ticks they may: given back outside a batch).
        for e in sorted(line, key=lambda e: e.rank or 0):
            if e.status != EntryStatus.WAITING:
                continue
            taken = counted.get((d.id, e.buyer_id), 0)
            if d.per_buyer_limit is not None and taken + e.quantity > d.per_buyer_limit:
                continue  # passed over when reached
            assert e.quantity > hold.quantity, (
                f"deal {d.id}: {hold.quantity} unit(s) idle while place {e.seq} waits for "
                f"{e.quantity}"
            )
            break


def test_drops_keep_stock_limits_lines_and_ledger_right(db_url: str) -> None:
    loop = asyncio.new_event_loop()
    db = Database(db_url)
    broker = make_broker("memory://")
    publisher = RoomPublisher(broker)
    try:
        run_state_machine_as_test(
            lambda: DropMachine(loop, db, publisher),
            settings=settings(
                max_examples=20,
                stateful_step_count=30,
                deadline=None,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
            ),
        )
    finally:
        loop.run_until_complete(broker.close())
        loop.run_until_complete(db.dispose())
        loop.close()
