"""A drop's line (a queue's, a drawn lottery's): units that come back reach the next place in
line — however they come back —, a tap never takes units someone in line waits for, and a tap
that reaches its own place is answered with the claim it got."""

from __future__ import annotations

from sqlalchemy import update

from liveshop.accounts.models import Role
from liveshop.core.clock import utcnow
from liveshop.core.db import Database
from liveshop.live.deals.models import FlashDeal
from tests.live.conftest import Serve, live_app
from tests.live.deals.drops import http_of, mine, open_drop, pay_claim, tap
from tests.support import MakeActor


async def test_units_of_a_cancelled_order_go_to_the_next_in_line(
    db: Database, serve: Serve, make_actor: MakeActor
) -> None:
    app = live_app(db)
    base = await serve(app)
    async with http_of(base) as http:
        drop = await open_drop(http, make_actor, units=1, policy="queue")
        first, second = await make_actor(Role.BUYER), await make_actor(Role.BUYER)
        claim = (await tap(http, drop.deal_id, first)).json()
        queued = await tap(http, drop.deal_id, second)
        assert queued.status_code == 202 and queued.json()["position"] == 1
        order = (await pay_claim(http, claim["claim_id"], first, card=None)).json()
        cancelled = await http.post(
            f"/api/v1/orders/{order['id']}/cancel", json={"reason": "no"}, headers=first.headers
        )
        assert cancelled.status_code == 200, cancelled.text

        # Nobody taps: the deal clock offers the unit to the next in line.
        await app.state.deal_clock.tick()
        standing = await mine(http, drop.deal_id, second)
        assert standing["entry"]["status"] == "served"
        assert [c["status"] for c in standing["claims"]] == ["held"]


async def test_a_tap_that_reaches_its_own_place_is_answered_with_its_claim(
    db: Database, serve: Serve, make_actor: MakeActor
) -> None:
    app = live_app(db)
    base = await serve(app)
    # No clock tick may serve the line between the cancellation and the tap (on a loaded
    # machine a tick landed there now and then): this test is about the tap serving it.
    await app.state.deal_clock.stop()
    async with http_of(base) as http:
        drop = await open_drop(http, make_actor, units=1, policy="queue")
        first, second = await make_actor(Role.BUYER), await make_actor(Role.BUYER)
        claim = (await tap(http, drop.deal_id, first)).json()
        assert (await tap(http, drop.deal_id, second)).status_code == 202
        order = (await pay_claim(http, claim["claim_id"], first, card=None)).json()
        await http.post(
            f"/api/v1/orders/{order['id']}/cancel", json={"reason": "no"}, headers=first.headers
        )

        # The unit is back; the second buyer taps again before anyone serves the line: the
        # batch serves their place, and their tap says so (not "queued, position 0").
        again = await tap(http, drop.deal_id, second)
        standing = await mine(http, drop.deal_id, second)
        assert standing["entry"]["status"] == "served"
        assert again.status_code == 201, again.text
        assert again.json()["status"] == "held"
        assert again.json()["claim_id"] == standing["claims"][0]["claim_id"]


async def test_after_a_draw_a_tap_does_not_take_units_an_entry_waits_for(
    db: Database, serve: Serve, make_actor: MakeActor
) -> None:
    app = live_app(db)
    base = await serve(app)
    async with http_of(base) as http:
        drop = await open_drop(http, make_actor, units=3, policy="lottery", entry_seconds=60)
        first, second, late = [await make_actor(Role.BUYER) for _ in range(3)]
        assert (await tap(http, drop.deal_id, first, 2)).status_code == 202
        assert (await tap(http, drop.deal_id, second, 2)).status_code == 202
        async with db.session() as s:  # the entry window is over: draw
            await s.execute(
                update(FlashDeal).where(FlashDeal.id == drop.deal_id).values(draw_at=utcnow())
            )
            await s.commit()
        await app.state.deal_clock.tick()
        won = [await mine(http, drop.deal_id, b) for b in (first, second)]
        assert sorted(m["entry"]["status"] for m in won) == ["served", "waiting"]

        # One unit is left; the entry still waiting needs two. Someone who never entered
        # taps: the unit is not theirs to take ahead of the line.
        grab = await tap(http, drop.deal_id, late, 1)
        assert grab.status_code == 409, grab.text
        assert (await mine(http, drop.deal_id, late))["claims"] == []
