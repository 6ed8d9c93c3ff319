"""Each fairness policy under concurrency: first paid wins, a queue served in order with live
positions, a lottery whose draw anyone can re-run from the published seed and entries; the
policy is fixed when the deal starts and shown on the deal."""

from __future__ import annotations

import asyncio
import hashlib
from datetime import timedelta
from typing import Any

import httpx
from sqlalchemy import update

from liveshop.accounts.models import Role
from liveshop.core.clock import utcnow
from liveshop.core.db import Database
from liveshop.live.deals.models import FlashDeal
from tests.live.conftest import Serve, live_app
from tests.live.deals.drops import CARD, http_of, mine, open_drop, pay_claim, stock_identity, tap
from tests.live.helpers import RoomClient
from tests.support import MakeActor, assert_problem


async def test_first_paid_wins_takes_units_at_payment_only(
    db: Database, serve: Serve, make_actor: MakeActor
) -> None:
    base = await serve(live_app(db))
    async with http_of(base) as http:
        drop = await open_drop(http, make_actor, units=3, policy="first_paid_wins")
        assert drop.deal["policy"] == "first_paid_wins"
        buyers = [await make_actor(Role.BUYER) for _ in range(8)]
        answer = await tap(http, drop.deal_id, buyers[0])
        assert answer.status_code == 200 and answer.json()["status"] == "pay_now"
        assert answer.json()["available"] == 3
        assert (await stock_identity(db, drop.sku_id))[:3] == (47, 3, 0)  # nothing held

        async def buy(i: int) -> httpx.Response:
            return await http.post(
                f"/api/v1/live/sessions/{drop.live['id']}/buy",
                json={"sku_id": drop.sku_id, "deal_id": drop.deal_id, "card_number": CARD},
                headers={**buyers[i].headers, "Idempotency-Key": f"fpw-{i}"},
            )

        got = await asyncio.gather(*(buy(i) for i in range(8)))
        paid = [g for g in got if g.status_code == 201]
        assert len(paid) == 3 and all(g.json()["status"] == "paid" for g in paid)
        for g in got:
            if g.status_code != 201:
                assert_problem(g, 409, "deal-sold-out")
        assert (await stock_identity(db, drop.sku_id))[:3] == (47, 0, 3)


async def test_a_queue_serves_buyers_in_order_as_units_come_back(
    db: Database, serve: Serve, make_actor: MakeActor
) -> None:
    base = await serve(live_app(db))
    async with http_of(base) as http:
        drop = await open_drop(http, make_actor, units=2, policy="queue")
        viewer = await RoomClient.open(base, drop.live["id"])
        await viewer.snapshot()
        buyers = [await make_actor(Role.BUYER) for _ in range(5)]
        answers = []
        for b in buyers:  # one after the other: arrival order is the line's order
            answers.append((await tap(http, drop.deal_id, b)).json())
        assert [a["status"] for a in answers] == ["held", "held", "queued", "queued", "queued"]
        assert [a["ticket"] for a in answers[2:]] == [1, 2, 3]
        assert [a["position"] for a in answers[2:]] == [1, 2, 3]
        again = (await tap(http, drop.deal_id, buyers[3])).json()  # tapping again keeps place
        assert (again["status"], again["ticket"], again["position"]) == ("queued", 2, 2)
        # Direct buying would jump the line: refused.
        direct = await http.post(
            f"/api/v1/live/sessions/{drop.live['id']}/buy",
            json={"sku_id": drop.sku_id, "deal_id": drop.deal_id},
            headers={**buyers[4].headers, "Idempotency-Key": "jump"},
        )
        assert_problem(direct, 409, "claim-first")

        # The first holder gives up: the head of the line gets the units, and the room hears
        # how far the line has moved.
        let_go = await http.post(
            f"/api/v1/live/claims/{answers[0]['claim_id']}/release", headers=buyers[0].headers
        )
        assert let_go.status_code == 200
        moved = await viewer.until("stock", deal_id=drop.deal_id, served_through=1)
        assert moved["waiting"] == 2
        served = await mine(http, drop.deal_id, buyers[2])
        assert served["entry"]["status"] == "served"
        assert [c["status"] for c in served["claims"]] == ["held"]
        second = await mine(http, drop.deal_id, buyers[3])
        assert (second["entry"]["status"], second["entry"]["position"]) == ("waiting", 1)
        paid = await pay_claim(http, served["claims"][0]["claim_id"], buyers[2])
        assert paid.status_code == 201 and paid.json()["status"] == "paid"
        assert (await stock_identity(db, drop.sku_id))[:3] == (48, 1, 1)
        await viewer.close()


async def test_a_lottery_draws_with_the_committed_seed_and_anyone_can_rerun_it(
    db: Database, serve: Serve, make_actor: MakeActor
) -> None:
    app = live_app(db)
    base = await serve(app)
    async with http_of(base) as http:
        drop = await open_drop(
            http, make_actor, units=3, policy="lottery", entry_seconds=60, per_buyer_limit=1
        )
        committed = drop.deal["seed_sha256"]
        assert len(committed) == 64 and drop.deal["seed"] is None and drop.deal["draw_at"]
        buyers = [await make_actor(Role.BUYER) for _ in range(8)]
        entered = await asyncio.gather(*(tap(http, drop.deal_id, b) for b in buyers))
        assert all(e.status_code == 202 and e.json()["status"] == "entered" for e in entered)
        assert sorted(e.json()["ticket"] for e in entered) == list(range(1, 9))
        assert_problem(await tap(http, drop.deal_id, buyers[0], 2), 409, "deal-limit-reached")
        record = (await http.get(f"/api/v1/live/deals/{drop.deal_id}/lottery")).json()
        assert record["seed"] is None and len(record["entries"]) == 8
        assert (await stock_identity(db, drop.sku_id))[:3] == (47, 3, 0)

        async with db.session() as s:  # the window closes
            await s.execute(
                update(FlashDeal)
                .where(FlashDeal.id == drop.deal_id)
                .values(draw_at=utcnow() - timedelta(seconds=1))
            )
            await s.commit()
        await app.state.deal_clock.tick()
        record = (await http.get(f"/api/v1/live/deals/{drop.deal_id}/lottery")).json()
        seed = record["seed"]
        assert hashlib.sha256(seed.encode()).hexdigest() == committed
        rerun = sorted(
            (e["entry"] for e in record["entries"]),
            key=lambda n: hashlib.sha256(f"{seed}:{n}".encode()).hexdigest(),
        )
        assert [e["entry"] for e in sorted(record["entries"], key=lambda e: e["rank"])] == rerun
        winners = set(rerun[:3])
        by_ticket = {e.json()["ticket"]: b for e, b in zip(entered, buyers, strict=True)}
        for ticket, buyer in by_ticket.items():
            standing = await mine(http, drop.deal_id, buyer)
            if ticket in winners:
                assert standing["entry"]["status"] == "served"
                assert [c["status"] for c in standing["claims"]] == ["held"]
            else:
                assert standing["entry"]["status"] == "waiting" and not standing["claims"]
        assert (await stock_identity(db, drop.sku_id))[:3] == (47, 3, 0)
        page = await http.get(f"/drops/{drop.deal_id}/lottery")
        assert page.status_code == 200
        assert seed in page.text and committed in page.text
        for rank, entry in enumerate(rerun, start=1):
            assert f'data-entry="{entry}" data-rank="{rank}"' in page.text
        fairness = await http.get("/drops/fairness")
        assert fairness.status_code == 200 and 'id="lottery"' in fairness.text
        late = await tap(http, drop.deal_id, buyers[0])
        assert late.status_code in (201, 409)  # after the draw: the line goes first


BAD_POLICIES: list[tuple[dict[str, Any], str]] = [
    ({"policy": "raffle"}, "validation-error"),
    ({"policy": "queue", "entry_seconds": 30}, "bad-entry-window"),
    ({"policy": "lottery", "entry_seconds": 595}, "bad-entry-window"),
    ({"hold_seconds": 10}, "validation-error"),
    ({"hold_seconds": "300"}, "validation-error"),
    ({"per_product_limit": 0}, "validation-error"),
]


async def test_a_bad_policy_is_refused_and_starts_nothing(
    db: Database, serve: Serve, make_actor: MakeActor
) -> None:
    base = await serve(live_app(db))
    async with http_of(base) as http:
        drop = await open_drop(http, make_actor, units=3)
        ended = await http.post(
            f"/api/v1/live/sessions/{drop.live['id']}/deals/{drop.deal_id}/end",
            headers=drop.creator.headers,
        )
        assert ended.status_code == 200
        for extra, code in BAD_POLICIES:
            body = {"sku_id": drop.sku_id, "price_minor": 999, "units": 3, "duration_seconds": 600}
            got = await http.post(
                f"/api/v1/live/sessions/{drop.live['id']}/deals",
                json={**body, **extra},
                headers=drop.creator.headers,
            )
            assert_problem(got, 422, code)
        assert (await http.get(f"/api/v1/live/sessions/{drop.live['id']}/deal")).json() is None


async def test_taps_over_the_room_socket(db: Database, serve: Serve, make_actor: MakeActor) -> None:
    base = await serve(live_app(db))
    async with http_of(base) as http:
        drop = await open_drop(http, make_actor, units=1)
        buyer, other = await make_actor(Role.BUYER), await make_actor(Role.BUYER)
        room = await RoomClient.open(base, drop.live["id"], token=buyer.token)
        await room.snapshot()
        await room.send({"type": "ping", "ref": "p"})
        assert (await room.until("pong"))["ref"] == "p"
        await room.send({"type": "claim", "deal_id": drop.deal_id, "ref": "t1"})
        won = await room.until("claim_result", ref="t1")
        assert won["status"] == "held" and won["quantity"] == 1
        second = await RoomClient.open(base, drop.live["id"], token=other.token)
        await second.snapshot()
        await second.send({"type": "claim", "deal_id": drop.deal_id, "ref": 7})
        lost = await second.until("claim_result", ref=7)
        assert lost["error"]["code"] == "deal-sold-out"
        await second.send({"type": "claim", "deal_id": True, "ref": 8})
        assert (await second.until("claim_result", ref=8))["error"]["code"] == "bad-claim"
        anon = await RoomClient.open(base, drop.live["id"])
        await anon.snapshot()
        await anon.send({"type": "claim", "deal_id": drop.deal_id, "ref": "a"})
        assert (await anon.until("claim_result", ref="a"))["error"]["code"] == "sign-in-required"
        for client in (room, second, anon):
            await client.close()
