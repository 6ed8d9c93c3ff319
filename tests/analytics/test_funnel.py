"""The funnel and conversion equal a hand computation on a small history made through the
real services on a simulated clock; the CSV says what the API says; only admins see it."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta

import httpx

from liveshop.accounts.models import Role
from liveshop.analytics import queries, readiness, rollup
from liveshop.analytics.capture import Capture, Facts, epoch_minute, event_row
from liveshop.analytics.models import Kind
from liveshop.core import clock
from liveshop.core.clock import utcnow
from liveshop.core.db import Database
from liveshop.live import service as live
from liveshop.live.models import SessionStatus
from liveshop.orders.completion import load_order
from liveshop.orders.payments.sandbox import SandboxProvider
from liveshop.orders.refunds import RefundLine, refund
from tests.shopfront import MakeShopfront, buy_in_live
from tests.support import MakeActor


class Clock:
    def __init__(self, at: datetime) -> None:
        self.at = at

    @contextmanager
    def at_(self, when: datetime) -> Iterator[None]:
        self.at = when
        with clock.simulated(lambda: self.at):
            yield


async def test_funnel_and_conversion_equal_a_hand_computation(
    db: Database, make_actor: MakeActor, make_shopfront: MakeShopfront, client: httpx.AsyncClient
) -> None:
    shop = await make_shopfront()
    creator = await make_actor(Role.CREATOR)
    a = await make_actor(Role.BUYER)
    b = await make_actor(Role.BUYER)
    c = await make_actor(Role.BUYER)
    provider = SandboxProvider("s", delay_s=-1)
    this_week = readiness.week_start(utcnow())
    w2, w1 = this_week - timedelta(weeks=2), this_week - timedelta(weeks=1)
    sim = Clock(w2)
    capture = Capture(db, "secret")

    async def show(start: datetime, minutes: int) -> int:
        with sim.at_(start):
            async with db.session() as s:
                made = await live.create_session(
                    s,
                    creator_id=creator.id,
                    title="Glow hour",
                    market_code="GB",
                    planned_start=start,
                    planned_duration_minutes=240,
                )
                await live.transition(s, made, SessionStatus.LIVE)
                return made.id

    async def end(sid: int, at: datetime) -> None:
        with sim.at_(at):
            async with db.session() as s:
                await live.transition(s, await live.get_session(s, sid), SessionStatus.ENDED)

    async def pay(buyer_id: int, sid: int, at: datetime, key: str) -> int:
        with sim.at_(at):
            async with db.session() as s:
                return await buy_in_live(
                    s,
                    provider,
                    buyer_id=buyer_id,
                    sku_id=shop.sku_id,
                    live_session_id=sid,
                    quantity=1,
                    key=key,
                )

    # week -2: one show (60 min); A and C buy; C's order is refunded
    s2 = await show(w2 + timedelta(days=1, hours=18), 60)
    await pay(a.id, s2, w2 + timedelta(days=1, hours=18, minutes=5), "a1")
    c1 = await pay(c.id, s2, w2 + timedelta(days=1, hours=18, minutes=6), "c1")
    await end(s2, w2 + timedelta(days=1, hours=19))
    with sim.at_(w2 + timedelta(days=2)):
        async with db.session() as s:
            order = await load_order(s, c1)
            await refund(
                s,
                provider,
                c1,
                [RefundLine(line_id=order.lines[0].id, quantity=1)],
                actor_id=None,
                reason="changed mind",
            )
    # week -1: one show (120 min); A buys again (a repeat buyer), B buys for the first time
    s1 = await show(w1 + timedelta(days=3, hours=19), 120)
    await pay(a.id, s1, w1 + timedelta(days=3, hours=19, minutes=30), "a2")
    await pay(b.id, s1, w1 + timedelta(days=3, hours=20), "b1")
    await end(s1, w1 + timedelta(days=3, hours=21))
    # the audience of week -1: five viewers saw the card, three watched (one of them A)
    t = w1 + timedelta(days=3, hours=19, minutes=10)
    keys = [capture.key(user_id=a.id), *(capture.key(client_id=f"player-{i}") for i in range(4))]
    for k in keys:
        capture.add(event_row(Kind.IMPRESSION, Facts("GB", s1, creator.id), at=t, viewer=k))
    for k in keys[:3]:
        for m in range(4):
            capture.add(
                event_row(
                    Kind.HEARTBEAT,
                    Facts("GB", s1, creator.id),
                    at=t + timedelta(minutes=m),
                    viewer=k,
                    seconds=60,
                )
            )
    await capture.flush()
    async with db.session() as s:
        await rollup.roll_up(s, until_minute=epoch_minute(t) + 2)  # half rolled up, half raw

    async with db.session(deferred=True) as s:
        weeks = await readiness.weekly_funnel(s, "GB", weeks=3)
        live1 = await live.get_session(s, s1)
        report = await queries.session_report(s, live1)
    old, last, now = weeks
    assert (old.reached, old.viewers, old.buyers, old.repeat_buyers) == (0, 0, 2, 0)
    assert (old.orders, old.returned_orders, old.return_rate_bp) == (2, 1, 5000)
    assert (old.creators_active, old.minutes_live, old.gmv_minor) == (1, 60, 4800)
    assert (last.reached, last.viewers, last.buyers, last.repeat_buyers) == (5, 3, 2, 1)
    assert (last.creators_active, last.minutes_live, last.gmv_minor) == (1, 120, 4800)
    assert last.repeat_rate_bp == 5000 and last.return_rate_bp == 0
    assert (now.buyers, now.reached) == (0, 0)
    # the show: 3 unique viewers, 2 buyers → 66.66 % conversion; 12 minutes watched
    assert report.audience.unique == 3
    assert report.buyers == 2
    assert report.conversion_bp == 6666
    assert report.audience.watch_seconds == 12 * 60
    assert report.audience.peak == 3
    assert report.audience.average == 12 * 60 // (120 * 60)

    # the API and its CSV say the same; only admins may ask
    admin = await make_actor(Role.ADMIN)
    set_ = await client.put(
        "/api/v1/analytics/markets/GB/targets",
        json={"monthly_buyers": 10, "repeat_rate_bp": 2000, "creators_per_week": 1},
        headers=admin.headers,
    )
    assert set_.status_code == 200, set_.text
    got = (await client.get("/api/v1/analytics/markets/GB/readiness", headers=admin.headers)).json()
    week = next(w for w in got["weeks"] if w["week_start"].startswith(w1.date().isoformat()))
    assert [week[k] for k in ("reached", "viewers", "buyers", "repeat_buyers")] == [5, 3, 2, 1]
    assert got["targets"]["monthly_buyers"] == 10
    assert got["recommendation"] in {"stay in pilot", "go live", "pause", "stay live"}
    csv = (await client.get("/api/v1/analytics/markets/GB/weeks.csv", headers=admin.headers)).text
    row = next(line for line in csv.splitlines() if line.startswith(w1.date().isoformat()))
    assert row.split(",")[1:5] == ["5", "3", "2", "1"]
    for who in (creator, a):
        denied = await client.get("/api/v1/analytics/markets/GB/readiness", headers=who.headers)
        assert denied.status_code == 403
    # the creator's show CSV and the public audience CSV
    mine = await client.get(f"/api/v1/analytics/sessions/{s1}", headers=creator.headers)
    assert mine.json()["unique_viewers"] == 3 and mine.json()["conversion_bp"] == 6666
    other = await make_actor(Role.CREATOR)
    assert (
        await client.get(f"/api/v1/analytics/sessions/{s1}", headers=other.headers)
    ).status_code == 403
    public = await client.get(f"/api/v1/analytics/sessions/{s1}/audience.csv")
    assert public.status_code == 200
    assert sum(int(line.split(",")[1]) for line in public.text.splitlines()[1:]) == 12
