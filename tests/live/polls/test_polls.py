"""Polls and Q&A through the API (SQLite and PostgreSQL): one vote per viewer, results for
the host at once and for viewers after voting or closing; questions upvoted once each,
ordered by upvotes, one answered now; the chat's mute and filter apply; only the room's
hosts control it; bad input is refused."""

from __future__ import annotations

from typing import Any

import httpx

from liveshop.accounts.models import Role
from tests.live.helpers import new_session, showcase_product
from tests.support import Actor, MakeActor, assert_problem


async def _room(client: httpx.AsyncClient, make_actor: MakeActor) -> tuple[Actor, dict[str, Any]]:
    seller = await make_actor(Role.SELLER)
    creator = await make_actor(Role.CREATOR)
    product = await showcase_product(client, seller, "qa")
    live = await new_session(client, creator, [product["id"]], start=True)
    return creator, live


async def test_a_poll_takes_one_vote_each_and_shows_results(
    client: httpx.AsyncClient, make_actor: MakeActor
) -> None:
    creator, live = await _room(client, make_actor)
    base = f"/api/v1/live/sessions/{live['id']}"
    outsider = await make_actor(Role.CREATOR)
    ask = {"question": "Which shade next?", "options": ["Rose", "Coral", "Nude"]}
    assert_problem(await client.post(f"{base}/polls", json=ask, headers=outsider.headers), 403)
    made = await client.post(f"{base}/polls", json=ask, headers=creator.headers)
    assert made.status_code == 201, made.text
    poll = made.json()
    assert poll["counts"] == [0, 0, 0] and poll["open"] is True
    again = await client.post(f"{base}/polls", json=ask, headers=creator.headers)
    assert_problem(again, 409, "poll-already-open")

    a, b = await make_actor(Role.BUYER), await make_actor(Role.BUYER)
    # Before voting a viewer sees the options, not the counts.
    before = (await client.get(f"{base}/poll", headers=a.headers)).json()
    assert before["counts"] is None and before["options"] == ["Rose", "Coral", "Nude"]
    url = f"/api/v1/live/polls/{poll['poll_id']}/votes"
    voted = await client.post(url, json={"option": 1}, headers=a.headers)
    assert voted.status_code == 201, voted.text
    assert voted.json()["counts"] == [0, 1, 0] and voted.json()["your_vote"] == 1
    assert_problem(
        await client.post(url, json={"option": 0}, headers=a.headers), 409, "already-voted"
    )
    assert (await client.post(url, json={"option": 1}, headers=b.headers)).json()["total"] == 2
    assert_problem(await client.post(url, json={"option": 3}, headers=b.headers), 422, "bad-option")
    host_view = (await client.get(f"{base}/poll", headers=creator.headers)).json()
    assert host_view["counts"] == [0, 2, 0]
    assert (await client.get(f"{base}/poll")).json()["counts"] is None  # anonymous, still open

    close = f"/api/v1/live/polls/{poll['poll_id']}/close"
    assert_problem(await client.post(close, headers=a.headers), 403, "not-room-host")
    closed = await client.post(close, headers=creator.headers)
    assert closed.json()["open"] is False
    assert (await client.get(f"{base}/poll")).json()["counts"] == [0, 2, 0]
    late = await make_actor(Role.BUYER)
    assert_problem(
        await client.post(url, json={"option": 0}, headers=late.headers), 409, "poll-closed"
    )

    for body in (
        {"question": "Two?", "options": ["only one"]},
        {"question": "Five?", "options": ["a", "b", "c", "d", "e"]},
        {"question": "Same?", "options": ["a", "A"]},
        {"question": "Nul\x00", "options": ["a", "b"]},
        {"question": "x", "options": ["a", "b"], "extra": True},
    ):
        assert_problem(await client.post(f"{base}/polls", json=body, headers=creator.headers), 422)
    assert_problem(await client.post(url, json={"option": True}, headers=late.headers), 422)


async def test_questions_upvoted_once_ordered_and_answered(
    client: httpx.AsyncClient, make_actor: MakeActor
) -> None:
    creator, live = await _room(client, make_actor)
    base = f"/api/v1/live/sessions/{live['id']}"
    a, b, c = [await make_actor(Role.BUYER) for _ in range(3)]
    q1 = (
        await client.post(f"{base}/questions", json={"text": "Is it vegan?"}, headers=a.headers)
    ).json()
    q2 = (
        await client.post(f"{base}/questions", json={"text": "Ships to Leeds?"}, headers=b.headers)
    ).json()
    assert q1["status"] == "open" and q1["author"]

    def up(q: dict[str, Any], who: Actor) -> Any:
        return client.post(
            f"/api/v1/live/questions/{q['question_id']}/upvotes", headers=who.headers
        )

    assert (await up(q2, a)).json()["votes"] == 1
    assert (await up(q2, c)).json()["votes"] == 2
    assert_problem(await up(q2, a), 409, "already-upvoted")
    assert_problem(await up(q2, b), 409, "own-question")
    listed = (await client.get(f"{base}/questions", headers=a.headers)).json()
    assert [q["question_id"] for q in listed] == [q2["question_id"], q1["question_id"]]
    assert listed[0]["voted"] is True and listed[1]["voted"] is False

    status = f"/api/v1/live/questions/{q2['question_id']}/status"
    assert_problem(await client.post(status, json={"status": "answering"}, headers=a.headers), 403)
    now = await client.post(status, json={"status": "answering"}, headers=creator.headers)
    assert now.json()["status"] == "answering"
    # Another answered now: the first goes back to waiting.
    other = f"/api/v1/live/questions/{q1['question_id']}/status"
    await client.post(other, json={"status": "answering"}, headers=creator.headers)
    states = {q["question_id"]: q["status"] for q in (await client.get(f"{base}/questions")).json()}
    assert states == {q1["question_id"]: "answering", q2["question_id"]: "open"}
    done = await client.post(other, json={"status": "answered"}, headers=creator.headers)
    assert done.json()["status"] == "answered"
    assert_problem(await up(q1, c), 409, "question-closed")
    bad = await client.post(status, json={"status": "held"}, headers=creator.headers)
    assert_problem(bad, 422, "bad-status")
    for body in ({"text": ""}, {"text": "a\x00b"}, {"text": "x" * 301}, {"text": 5}):
        assert_problem(await client.post(f"{base}/questions", json=body, headers=a.headers), 422)
    assert_problem(await client.post(f"{base}/questions", json={"text": "hi?"}), 401)


async def test_muted_viewers_cannot_ask_and_filtered_questions_are_held(
    client: httpx.AsyncClient, make_actor: MakeActor
) -> None:
    creator, live = await _room(client, make_actor)
    base = f"/api/v1/live/sessions/{live['id']}"
    rude, other = await make_actor(Role.BUYER), await make_actor(Role.BUYER)
    terms = await client.post(
        f"/api/v1/live/chat-filter/creators/{creator.id}/terms",
        json={"terms": ["zonk"]},
        headers=creator.headers,
    )
    assert terms.status_code == 201, terms.text
    held = await client.post(f"{base}/questions", json={"text": "zonk you"}, headers=rude.headers)
    assert held.status_code == 201, held.text
    assert held.json()["status"] == "open"  # it looks asked to its author …
    mine = (await client.get(f"{base}/questions", headers=rude.headers)).json()
    assert [q["text"] for q in mine] == ["zonk you"]
    assert (await client.get(f"{base}/questions", headers=other.headers)).json() == []  # … only
    muted = await client.post(
        f"{base}/mutes",
        json={"user_id": rude.id, "duration_minutes": None, "reason": "rude"},
        headers=creator.headers,
    )
    assert muted.status_code in (200, 201), muted.text
    refused = await client.post(f"{base}/questions", json={"text": "why?"}, headers=rude.headers)
    assert_problem(refused, 403, "muted")
