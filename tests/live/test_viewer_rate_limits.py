"""A viewer's other writes in the live room are rate-limited per user too (core/ratelimit.py):
HTTP bids (``bid``), giveaway entries, poll votes, questions and upvotes (``engage``, one
budget), and the quotes and releases of held drop and shelf claims (``held_claim``). Past the
limit the viewer gets 429 problem+json with Retry-After, nothing changes, and another viewer
is unaffected. (Chat reports: tests/chat/test_report_rate_limit.py.)"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from sqlalchemy import func, select

from liveshop.accounts.models import Role
from liveshop.app import create_app
from liveshop.core.db import Database
from liveshop.core.settings import Settings
from liveshop.live.auctions.models import AuctionBid
from liveshop.live.giveaways.models import GiveawayEntry
from liveshop.live.polls.models import PollVote, Question, QuestionVote
from tests.addresses.examples import address
from tests.live.auctions.lots import bid, bidder, open_lot
from tests.live.conftest import Serve
from tests.live.deals.drops import http_of, mine, open_drop, stock_identity, tap
from tests.live.helpers import live_room_with_stock
from tests.support import Actor, MakeActor, app_client, assert_problem

SMALL = {"rate_limit_bid": "2/60", "rate_limit_engage": "3/60", "rate_limit_held_claim": "2/60"}


@pytest.fixture
async def limited(db: Database) -> AsyncIterator[httpx.AsyncClient]:
    """An app whose limits are small enough to reach in a test: 2 bids, 3 engagements."""
    async with app_client(db, broker_url="memory://", **SMALL) as c:
        yield c


def assert_rate_limited(resp: httpx.Response, window_s: int) -> None:
    body = assert_problem(resp, 429, "rate-limited")
    retry = int(resp.headers["Retry-After"])
    assert 1 <= retry <= window_s and body["retry_after_s"] == retry
    assert body["detail"]  # what the page shows the viewer


async def _count(db: Database, model: Any, **where: int) -> int:
    async with db.session(deferred=True) as s:
        query = select(func.count()).select_from(model)
        for column, value in where.items():
            query = query.where(getattr(model, column) == value)
        return int(await s.scalar(query) or 0)


async def test_http_bids_past_the_limit_get_429_and_bid_nothing(
    limited: httpx.AsyncClient, db: Database, make_actor: MakeActor
) -> None:
    lot = await open_lot(limited, make_actor, slug="limited-lot")
    ann, bob, cat = [await bidder(limited, make_actor) for _ in range(3)]
    assert (await bid(limited, lot.id, ann, 1500)).status_code == 200
    assert (await bid(limited, lot.id, bob, 3000)).status_code == 200
    outbid = await bid(limited, lot.id, ann, 2000)
    assert outbid.status_code == 200 and outbid.json()["leading"] is False
    before = (await limited.get(f"/api/v1/live/auctions/{lot.id}", headers=ann.headers)).json()
    assert_rate_limited(await bid(limited, lot.id, ann, 9000), 60)
    # The refused bid was never placed: bob still leads at the same price.
    assert await _count(db, AuctionBid, bidder_id=ann.id) == 2
    after = (await limited.get(f"/api/v1/live/auctions/{lot.id}", headers=ann.headers)).json()
    assert after == before
    # The limit is the bidder's own: another bidder still bids.
    taken = await bid(limited, lot.id, cat, 9000)
    assert taken.status_code == 200 and taken.json()["leading"] is True


async def test_entries_votes_questions_and_upvotes_share_one_limit(
    limited: httpx.AsyncClient, db: Database, make_actor: MakeActor
) -> None:
    creator, live, sku_id, _product = await live_room_with_stock(
        limited, make_actor, stock=3, slug="limited-engage"
    )
    base = f"/api/v1/live/sessions/{live['id']}"
    opened = await limited.post(
        f"{base}/giveaways", json={"sku_id": sku_id, "entry_seconds": 60}, headers=creator.headers
    )
    assert opened.status_code == 201, opened.text
    entries = f"/api/v1/live/giveaways/{opened.json()['giveaway_id']}/entries"
    ask = {"question": "Which shade next?", "options": ["Rose", "Coral"]}
    made = await limited.post(f"{base}/polls", json=ask, headers=creator.headers)
    assert made.status_code == 201, made.text
    votes = f"/api/v1/live/polls/{made.json()['poll_id']}/votes"

    async def viewer() -> Actor:
        who = await make_actor(Role.BUYER)
        got = await limited.post("/api/v1/me/addresses", json=address("GB"), headers=who.headers)
        assert got.status_code == 201, got.text
        return who

    ann, bob, cat = await viewer(), await viewer(), await viewer()
    asked = []
    for n in range(3):
        got = await limited.post(
            f"{base}/questions", json={"text": f"Question {n}?"}, headers=ann.headers
        )
        assert got.status_code == 201, got.text
        asked.append(got.json()["question_id"])
    theirs = await limited.post(f"{base}/questions", json={"text": "Ship?"}, headers=cat.headers)
    assert theirs.status_code == 201, theirs.text
    upvote = f"/api/v1/live/questions/{theirs.json()['question_id']}/upvotes"

    # Ann's budget is spent: each of the four is refused and changes nothing.
    assert_rate_limited(await limited.post(entries, headers=ann.headers), 60)
    assert_rate_limited(await limited.post(votes, json={"option": 0}, headers=ann.headers), 60)
    assert_rate_limited(
        await limited.post(f"{base}/questions", json={"text": "More?"}, headers=ann.headers), 60
    )
    assert_rate_limited(await limited.post(upvote, headers=ann.headers), 60)
    assert await _count(db, GiveawayEntry, user_id=ann.id) == 0
    assert await _count(db, PollVote, user_id=ann.id) == 0
    assert await _count(db, Question, user_id=ann.id) == 3
    assert await _count(db, QuestionVote, user_id=ann.id) == 0
    shown = (await limited.get(f"{base}/questions", headers=ann.headers)).json()
    assert {q["question_id"]: q["votes"] for q in shown}[theirs.json()["question_id"]] == 0

    # Bob's budget is his own: he still enters, votes and upvotes.
    entered = await limited.post(entries, headers=bob.headers)
    assert entered.status_code == 201 and entered.json()["entries"] == 1
    voted = await limited.post(votes, json={"option": 1}, headers=bob.headers)
    assert voted.status_code == 201 and voted.json()["counts"] == [0, 1]
    up = await limited.post(f"/api/v1/live/questions/{asked[0]}/upvotes", headers=bob.headers)
    assert up.status_code == 201 and up.json()["votes"] == 1


async def test_quotes_and_releases_of_held_claims_past_the_limit_get_429(
    db: Database, serve: Serve, make_actor: MakeActor
) -> None:
    settings = Settings(
        broker_url="memory://", reservation_sweep_seconds=0, video_provider="off", **SMALL
    )
    base = await serve(create_app(settings, database=db))
    async with http_of(base) as http:
        drop = await open_drop(http, make_actor, units=4, slug="limited-drop")
        _creator, live, shelf_sku, _product = await live_room_with_stock(
            http, make_actor, stock=4, slug="limited-shelf"
        )
        ann, bob = await make_actor(Role.BUYER), await make_actor(Role.BUYER)

        async def claims(who: Actor) -> tuple[int, int]:
            dealt = await tap(http, drop.deal_id, who)
            assert dealt.status_code == 201, dealt.text
            shelved = await http.post(
                f"/api/v1/live/sessions/{live['id']}/claim",
                json={"sku_id": shelf_sku},
                headers=who.headers,
            )
            assert shelved.status_code == 201, shelved.text
            return dealt.json()["claim_id"], shelved.json()["claim_id"]

        ann_deal, ann_shelf = await claims(ann)
        bob_deal, bob_shelf = await claims(bob)
        for url in (f"/api/v1/live/claims/{ann_deal}", f"/api/v1/live/shelf-claims/{ann_shelf}"):
            got = await http.post(f"{url}/quote", headers=ann.headers)
            assert got.status_code == 200, got.text
        stock = (await stock_identity(db, drop.sku_id), await stock_identity(db, shelf_sku))

        # Ann's budget is spent: quotes and releases of both kinds are refused.
        for url in (f"/api/v1/live/claims/{ann_deal}", f"/api/v1/live/shelf-claims/{ann_shelf}"):
            for action in ("quote", "release"):
                assert_rate_limited(await http.post(f"{url}/{action}", headers=ann.headers), 60)
        # Nothing was let go: both claims are still held, the units still hers.
        assert [c["status"] for c in (await mine(http, drop.deal_id, ann))["claims"]] == ["held"]
        shelf = await http.get(f"/api/v1/live/shelf-claims/{ann_shelf}", headers=ann.headers)
        assert shelf.json()["status"] == "held"
        assert (await stock_identity(db, drop.sku_id), await stock_identity(db, shelf_sku)) == stock

        # Bob's budget is his own.
        for url in (f"/api/v1/live/claims/{bob_deal}", f"/api/v1/live/shelf-claims/{bob_shelf}"):
            let_go = await http.post(f"{url}/release", headers=bob.headers)
            assert let_go.status_code == 200 and let_go.json()["status"] == "released"
