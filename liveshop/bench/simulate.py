"""``liveshop simulate --market GB --weeks 4 --seed N``: a realistic market, made through the
real services on a simulated clock (``core.clock.simulated``), reproducible from the seed.

Creators go live about twice a week (1–3 shows) for 2–6 hours in the evening; each creator's
audience grows or stalls from week to week; viewers come and go minute by minute and their
players send heartbeats through the same ``Audience`` port the room socket uses; some
viewers with accounts buy (``orders.checkout.place_order`` + ``payment_flow.pay_order`` on the
sandbox card), buyers who liked it come back more often than first-timers; some orders are
refunded the next day (``orders.refunds.refund``); hosts pin products
(``live.service.pin_product``). Paid orders, refunds and pins are captured by the same
domain-event handlers as in the app. At the end the capture is flushed and rolled up, so the
dashboards and the market-readiness page have their numbers at once.

Heartbeats are one a minute per watching viewer (60 s of watching each; a real player sends
one every 15 s for 15 s): the numbers are the same, four times fewer rows.
A second run with the same seed adds the same history again for the same (re-used) people
and shop: run it on a fresh database to reproduce a market exactly.
"""

from __future__ import annotations

import math
import random
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from liveshop.accounts import service as accounts
from liveshop.accounts.models import Role
from liveshop.affiliates import plans
from liveshop.affiliates.models import PlanKind
from liveshop.analytics import readiness, rollup
from liveshop.analytics.audience import RoomAudience
from liveshop.analytics.capture import Capture, Facts, event_row, node_capture, set_node_capture
from liveshop.analytics.models import Kind
from liveshop.catalog import products as catalog_products
from liveshop.catalog import service as catalog
from liveshop.catalog.schemas import PriceIn, ProductIn, ShopIn, SkuIn
from liveshop.core import clock
from liveshop.core.clock import utcnow
from liveshop.core.db import Database
from liveshop.core.errors import Problem
from liveshop.core.settings import get_settings
from liveshop.creators.attribution import resolve_checkout_attribution
from liveshop.inventory import service as inventory
from liveshop.live import service as live
from liveshop.live.models import SessionStatus
from liveshop.markets import service as markets
from liveshop.markets.models import SELLABLE_STATES, LaunchState
from liveshop.orders.checkout import place_order
from liveshop.orders.completion import load_order
from liveshop.orders.lines import CheckoutLine
from liveshop.orders.payment_flow import pay_order
from liveshop.orders.payments.provider import CardDetails
from liveshop.orders.payments.sandbox import CARD_SUCCEEDS, SandboxProvider
from liveshop.orders.refunds import RefundLine, refund
from liveshop.realtime.ports import Watcher

PRODUCTS = (
    ("Glow serum", "beauty", 24),
    ("Linen shirt", "fashion", 38),
    ("Ceramic mug", "home", 16),
    ("Silk scarf", "fashion", 29),
    ("Lip tint", "beauty", 12),
)
PASSWORD = "simulated-person-1"


@dataclass
class SimOptions:
    market: str = "GB"
    weeks: int = 4
    seed: int = 1
    creators: int = 6
    people: int = 2000  # the market's reachable population
    with_accounts: int = 120  # of whom this many have accounts (and may buy)
    audience: int = 18  # a typical creator's concurrent viewers in week 1
    buy_per_viewer_minute: float = 0.0025
    refund_share: float = 0.06


@dataclass
class SimResult:
    market: str
    weeks: int
    seed: int
    sessions: int = 0
    minutes_live: int = 0
    heartbeats: int = 0
    orders: int = 0
    refunds: int = 0
    gmv_minor: int = 0
    currency: str = ""
    session_ids: list[int] = field(default_factory=list)


Advance = Callable[[int], None]


@dataclass(frozen=True)
class Person:
    user_id: int | None  # has an account (may buy)
    client_id: str | None  # an anonymous player's own id

    def watcher(self) -> Watcher:
        return Watcher(
            user_id=self.user_id, host=False, studio=False, user_agent="liveshop-simulate"
        )


class _Clock:
    def __init__(self, at: datetime) -> None:
        self.at = at

    def __call__(self) -> datetime:
        return self.at


async def _user(s: AsyncSession, email: str, name: str, role: Role) -> int:
    user = await accounts.find_user_by_email(s, email)
    if user is None:
        user = await accounts.create_user(
            s, email=email, password=PASSWORD, display_name=name, roles=(role,)
        )
    return int(user.id)


async def _shop(s: AsyncSession, opts: SimOptions, owner_id: int) -> list[int]:
    """The simulated shop's SKU ids (made once per market and seed), stocked, with an open
    affiliate plan on its categories."""
    market = await markets.get_market(s, opts.market)
    slug = f"sim-{opts.market.lower()}-{opts.seed}"
    shop = await catalog.find_shop_by_slug(s, slug)
    unit = 10**market.currency_exponent
    if shop is None:
        shop = await catalog.create_shop(
            s,
            owner_id=owner_id,
            data=ShopIn(
                name=f"Simulated shop {opts.market} {opts.seed}", slug=slug, home_market=market.code
            ),
        )
        for i, (title, category, major) in enumerate(PRODUCTS):
            await catalog_products.create_product(
                s,
                shop,
                ProductIn(
                    title=title,
                    category=category,
                    status="published",
                    skus=[
                        SkuIn(
                            code=f"SIM-{opts.seed}-{market.code}-{i}",
                            prices=[
                                PriceIn(
                                    market=market.code,
                                    currency=market.currency,
                                    amount_minor=major * unit,
                                )
                            ],
                        )
                    ],
                ),
            )
        await plans.create_plan(
            s,
            shop_id=shop.id,
            kind=PlanKind.OPEN,
            name="Simulated: open to every creator",
            items=[
                plans.PlanItemSpec(rate_bp=800, category=c) for c in {"beauty", "fashion", "home"}
            ],
        )
    skus = []
    for i in range(len(PRODUCTS)):
        sku = await catalog_products.find_sku_by_code(
            s, shop.id, f"SIM-{opts.seed}-{market.code}-{i}"
        )
        assert sku is not None
        skus.append(sku.id)
        if (await inventory.stock_summary(s, sku.id)).available < 5000:
            await inventory.receive(
                s, sku_id=sku.id, quantity=20_000, reason="simulated stock", actor_id=None
            )
    await s.commit()
    return skus


@dataclass
class _Show:
    creator: int
    start: datetime
    minutes: int
    size: float  # concurrent viewers at the show's height


def _plan_shows(
    rng: random.Random, opts: SimOptions, creators: list[int], first: datetime
) -> list[_Show]:
    shows = []
    for ci, creator in enumerate(creators):
        base = opts.audience * rng.uniform(0.5, 1.6)
        growth = rng.choice([rng.uniform(1.1, 1.35), rng.uniform(0.85, 1.05)])  # grows or stalls
        for week in range(opts.weeks):
            size = base * growth**week
            days = rng.sample(range(7), k=rng.choice([1, 2, 2, 2, 3]))
            for day in sorted(days):
                start = (
                    first
                    + timedelta(
                        weeks=week,
                        days=day,
                        hours=rng.randint(16, 20),
                        minutes=rng.choice([0, 15, 30]),
                    )
                    + timedelta(minutes=ci)
                )
                shows.append(_Show(creator, start, rng.randint(2, 6) * 60, size))
    return sorted(shows, key=lambda sh: sh.start)


# Targets set for a market that has none, so its readiness page has something to weigh.
SAMPLE_TARGETS = readiness.Targets(monthly_buyers=150, repeat_rate_bp=2500, creators_per_week=5)


async def simulate(
    db: Database,
    opts: SimOptions,
    *,
    advance: Advance | None = None,
    planned: Advance | None = None,
) -> SimResult:
    """``planned(total)`` is told the simulated minutes live to come, ``advance(n)`` each
    minute done (a progress bar)."""
    rng = random.Random(opts.seed)
    now = utcnow()
    first = readiness.week_start(now) - timedelta(weeks=opts.weeks)
    sim = _Clock(first - timedelta(days=1))
    result = SimResult(opts.market, opts.weeks, opts.seed)
    capture = Capture(db, _secret(), flush_events=10**9)
    audience = RoomAudience(capture)
    provider = SandboxProvider("simulated", delay_s=-1)
    previous = node_capture()
    set_node_capture(capture)  # paid orders, refunds and pins are captured as in the app
    try:
        with clock.simulated(sim):
            async with db.session() as s:
                market = await markets.get_market(s, opts.market)
                result.currency = market.currency
                if LaunchState(market.launch_state) not in SELLABLE_STATES:
                    await markets.change_launch_state(
                        s,
                        market.code,
                        LaunchState.PILOT,
                        changed_by=None,
                        reason="simulated market",
                    )
                    await s.commit()
                tag = f"{opts.market.lower()}-{opts.seed}"
                seller = await _user(s, f"sim-seller-{tag}@example.com", "Sim seller", Role.SELLER)
                creators = [
                    await _user(
                        s, f"sim-creator-{tag}-{i}@example.com", f"Creator {i + 1}", Role.CREATOR
                    )
                    for i in range(opts.creators)
                ]
                buyers = [
                    await _user(s, f"sim-buyer-{tag}-{i}@example.com", f"Buyer {i + 1}", Role.BUYER)
                    for i in range(opts.with_accounts)
                ]
                await s.commit()
                skus = await _shop(s, opts, seller)
                if not (await readiness.targets_of(s, market.code)).any:
                    await readiness.set_targets(s, market.code, SAMPLE_TARGETS, actor_id=None)
                    await s.commit()
            async with db.session() as s:
                await rollup.ensure_partitions(
                    s, first - timedelta(days=1), now + timedelta(days=7)
                )
            shows = _plan_shows(rng, opts, creators, first)
            shows = [sh for sh in shows if sh.start + timedelta(minutes=sh.minutes) < now]
            if planned is not None:
                planned(sum(sh.minutes for sh in shows))
            people = [Person(b, None) for b in buyers] + [
                Person(None, f"sim-{tag}-player-{i:05d}") for i in range(opts.people - len(buyers))
            ]
            loyal: set[int] = set()
            pending_refunds: list[tuple[datetime, int]] = []
            for show in shows:
                await _run_show(
                    db,
                    rng,
                    opts,
                    show,
                    sim,
                    audience,
                    capture,
                    provider,
                    people,
                    buyers,
                    loyal,
                    skus,
                    result,
                    pending_refunds,
                    advance,
                )
                await _refunds_due(db, provider, sim, show.start, pending_refunds, result)
            await _refunds_due(db, provider, sim, now, pending_refunds, result)
        await capture.flush()
        async with db.session() as s:
            await rollup.roll_up(s)
    finally:
        set_node_capture(previous)
    return result


def _secret() -> str:
    return get_settings().secret_key


async def _refunds_due(
    db: Database,
    provider: SandboxProvider,
    sim: _Clock,
    until: datetime,
    pending: list[tuple[datetime, int]],
    result: SimResult,
) -> None:
    due = [p for p in pending if p[0] <= until]
    for item in due:
        pending.remove(item)
        at, order_id = item
        sim.at = at
        async with db.session() as s:
            order = await load_order(s, order_id)
            try:
                await refund(
                    s,
                    provider,
                    order_id,
                    [RefundLine(line_id=order.lines[0].id, quantity=1)],
                    actor_id=None,
                    reason="simulated: changed their mind",
                )
                result.refunds += 1
            except Problem:
                await s.rollback()


async def _run_show(
    db: Database,
    rng: random.Random,
    opts: SimOptions,
    show: _Show,
    sim: _Clock,
    audience: RoomAudience,
    capture: Capture,
    provider: SandboxProvider,
    people: list[Person],
    buyers: list[int],
    loyal: set[int],
    skus: list[int],
    result: SimResult,
    pending_refunds: list[tuple[datetime, int]],
    advance: Advance | None,
) -> None:
    sim.at = show.start - timedelta(minutes=30)
    product_ids = []
    async with db.session() as s:
        for sku in skus:
            product_ids.append((await catalog_products.get_sku(s, sku)).product_id)
    async with db.session() as s:
        made = await live.create_session(
            s,
            creator_id=show.creator,
            title=f"Evening show {result.sessions + 1}",
            market_code=opts.market,
            planned_start=show.start,
            planned_duration_minutes=show.minutes,
            product_ids=product_ids,
        )
        sid = made.id
    # cards seen before and during the show: the reached stage
    reach = rng.sample(people, k=min(len(people), int(show.size * 10) + 20))
    for person in reach:
        key = capture.key(user_id=person.user_id, client_id=person.client_id)
        capture.add(
            event_row(Kind.IMPRESSION, Facts(opts.market, sid, show.creator), at=sim.at, viewer=key)
        )
    sim.at = show.start
    async with db.session() as s:
        made = await live.get_session(s, sid)
        await live.transition(s, made, SessionStatus.LIVE)
    room = {"id": sid, "market": opts.market, "creator_id": show.creator, "status": "live"}
    watching: dict[int, Person] = {}
    for minute in range(show.minutes):
        sim.at = show.start + timedelta(minutes=minute)
        # a gentle rise, a plateau and a tail; viewers drift in and out
        shape = min(1.0, (minute + 5) / 30) * (
            0.6 + 0.4 * math.sin(math.pi * minute / show.minutes)
        )
        target = max(1, int(show.size * shape * rng.uniform(0.85, 1.15)))
        for idx in list(watching):
            if rng.random() < 0.06:
                audience.left(room, watching.pop(idx).watcher())
        while len(watching) > target:
            audience.left(room, watching.pop(next(iter(watching))).watcher())
        target = min(target, len(reach))
        while len(watching) < target:
            idx = rng.randrange(len(reach))
            if idx not in watching:
                watching[idx] = reach[idx]
                audience.joined(room, reach[idx].watcher())
        for person in watching.values():
            audience.heartbeat(
                room,
                person.watcher(),
                client_id=person.client_id,
                seconds=60,
                visible=True,
                playing=True,
            )
            result.heartbeats += 1
        if minute % 25 == 5:
            async with db.session() as s:
                made = await live.get_session(s, sid)
                await live.pin_product(s, made, rng.choice(product_ids))
        for person in list(watching.values()):
            if person.user_id is None:
                continue
            p = opts.buy_per_viewer_minute * (4 if person.user_id in loyal else 1)
            if rng.random() < p:
                order_id = await _buy(db, rng, opts, provider, person.user_id, sid, skus, result)
                if order_id is not None:
                    if rng.random() < 0.55:
                        loyal.add(person.user_id)
                    if rng.random() < opts.refund_share:
                        pending_refunds.append((sim.at + timedelta(days=1), order_id))
        if advance is not None:
            advance(1)
    sim.at = show.start + timedelta(minutes=show.minutes)
    for person in watching.values():
        audience.left(room, person.watcher())
    async with db.session() as s:
        made = await live.get_session(s, sid)
        await live.transition(s, made, SessionStatus.ENDED)
    result.sessions += 1
    result.minutes_live += show.minutes
    result.session_ids.append(sid)
    if capture.waiting > 20_000:
        await capture.flush()


async def _buy(
    db: Database,
    rng: random.Random,
    opts: SimOptions,
    provider: SandboxProvider,
    buyer_id: int,
    sid: int,
    skus: list[int],
    result: SimResult,
) -> int | None:
    sku = rng.choice(skus)
    key = f"sim-{opts.seed}-{sid}-{result.orders}-{rng.randrange(10**9)}"
    async with db.session() as s:
        try:
            who = await resolve_checkout_attribution(
                s, buyer_id=buyer_id, market_code=opts.market, sku_ids=[sku], live_session_id=sid
            )
            placed = await place_order(
                s,
                buyer_id=buyer_id,
                market_code=opts.market,
                lines=[CheckoutLine(sku_id=sku, quantity=1)],
                idempotency_key=key,
                attribution=who,
            )
            order = await pay_order(
                s,
                provider,
                order_id=placed.order.id,
                buyer_id=buyer_id,
                card=CardDetails(CARD_SUCCEEDS),
            )
        except Problem:
            await s.rollback()
            return None
    result.orders += 1
    result.gmv_minor += order.items_minor - order.subsidy_minor
    return int(order.id)
