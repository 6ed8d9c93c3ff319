"""Chat moderation over HTTP and in the service, on SQLite and PostgreSQL: hiding and showing
comments, muting with and without an end, unmuting, who may, and bad input."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import httpx
from sqlalchemy import select, update

from liveshop.accounts.models import Role
from liveshop.chat import service
from liveshop.chat.models import ChatMute, ModerationLogEntry
from liveshop.core.clock import utcnow
from liveshop.core.db import Database
from liveshop.live import activity
from liveshop.live.models import LiveComment
from tests.live.helpers import eventually, new_session
from tests.support import Actor, MakeActor, assert_problem

URL = "/api/v1/live/sessions"


async def _comment(db: Database, sid: int, user: Actor, text: str) -> int:
    async with db.session() as s:
        return await activity.post_comment(s, session_id=sid, user_id=user.id, text=text)


async def _room(client: httpx.AsyncClient, make_actor: MakeActor) -> tuple[Actor, Actor, int]:
    creator, buyer = await make_actor(Role.CREATOR), await make_actor(Role.BUYER)
    session: dict[str, Any] = await new_session(client, creator, [], start=True)
    return creator, buyer, int(session["id"])


async def test_hide_and_unhide_a_comment(
    client: httpx.AsyncClient, make_actor: MakeActor, db: Database
) -> None:
    creator, buyer, sid = await _room(client, make_actor)
    keep = await _comment(db, sid, buyer, "nice colour")
    spam = await _comment(db, sid, buyer, "buy followers at spam.example")

    hid = await client.post(f"{URL}/{sid}/comments/{spam}/hide", headers=creator.headers)
    assert hid.status_code == 200, hid.text
    out = hid.json()
    assert (out["id"], out["hidden"], out["user_id"]) == (spam, True, buyer.id)
    assert isinstance(out["seq"], int)  # the room event went out
    again = await client.post(f"{URL}/{sid}/comments/{spam}/hide", headers=creator.headers)
    assert again.status_code == 200 and again.json()["seq"] is None  # nothing changed

    async with db.session() as s:
        assert [c.text for c in await activity.recent_comments(s, sid)] == ["nice colour"]
        entry = await service.hidden_by(s, spam)
        assert entry is not None and entry.actor_id == creator.id and entry.created_at
        assert await service.hidden_by(s, keep) is None

    shown = await client.post(f"{URL}/{sid}/comments/{spam}/unhide", headers=creator.headers)
    assert shown.status_code == 200 and shown.json()["hidden"] is False
    async with db.session() as s:
        assert len(await activity.recent_comments(s, sid)) == 2
        assert await service.hidden_by(s, spam) is None  # the last word was "unhide"
        actions = (await s.scalars(select(ModerationLogEntry.action))).all()
    assert list(actions) == ["hide", "unhide"]

    # Unknown comment, or one of another session: 404; unknown session: 404.
    other = (await new_session(client, creator, [], start=True))["id"]
    elsewhere = await _comment(db, other, buyer, "other room")
    for path in (f"{sid}/comments/999999/hide", f"{sid}/comments/{elsewhere}/hide"):
        assert_problem(await client.post(f"{URL}/{path}", headers=creator.headers), 404)
    missing = await client.post(f"{URL}/424242/comments/{keep}/hide", headers=creator.headers)
    assert_problem(missing, 404, "live-session-not-found")


async def test_who_may_moderate(
    client: httpx.AsyncClient, make_actor: MakeActor, db: Database
) -> None:
    creator, buyer, sid = await _room(client, make_actor)
    comment = await _comment(db, sid, buyer, "hello")
    other_creator = await make_actor(Role.CREATOR)
    helper, admin = await make_actor(Role.BUYER), await make_actor(Role.ADMIN)
    platform_mod = await make_actor(Role.MODERATOR)
    added = await client.post(
        "/api/v1/live/moderators", json={"user_id": helper.id}, headers=creator.headers
    )
    assert added.status_code == 201, added.text

    hide = f"{URL}/{sid}/comments/{comment}/hide"
    mutes = f"{URL}/{sid}/mutes"
    for outsider in (buyer, other_creator):
        assert_problem(await client.post(hide, headers=outsider.headers), 403, "not-room-host")
        assert_problem(await client.get(mutes, headers=outsider.headers), 403, "not-room-host")
        body = {"user_id": buyer.id, "duration_minutes": 10}
        refused = await client.post(mutes, json=body, headers=outsider.headers)
        assert_problem(refused, 403, "not-room-host")
    assert_problem(await client.post(hide), 401)
    for allowed in (helper, admin, platform_mod):
        assert (await client.post(hide, headers=allowed.headers)).status_code == 200
        assert (await client.get(mutes, headers=allowed.headers)).status_code == 200
    # The host and their moderators cannot be muted in their own rooms.
    for host in (creator, helper):
        body = {"user_id": host.id, "duration_minutes": 10}
        refused = await client.post(mutes, json=body, headers=admin.headers)
        assert_problem(refused, 422, "cannot-mute-host")


async def test_mute_with_an_end_unmute_and_bad_input(
    client: httpx.AsyncClient, make_actor: MakeActor, db: Database
) -> None:
    creator, buyer, sid = await _room(client, make_actor)
    later = (await new_session(client, creator, []))["id"]  # another room of the creator
    first = await _comment(db, sid, buyer, "spam 1")
    second = await _comment(db, sid, buyer, "spam 2")
    mutes = f"{URL}/{sid}/mutes"

    body = {"user_id": buyer.id, "duration_minutes": 60, "reason": " spam ", "hide_comments": True}
    made = await client.post(mutes, json=body, headers=creator.headers)
    assert made.status_code == 201, made.text
    m = made.json()
    assert (m["user_id"], m["creator_id"], m["session_id"], m["reason"]) == (
        buyer.id,
        creator.id,
        sid,
        "spam",
    )
    assert m["muted_by"] == creator.id and m["hidden_comment_ids"] == [first, second]
    # The mute holds in every room of the creator.
    listed = (await client.get(f"{URL}/{later}/mutes", headers=creator.headers)).json()
    assert [x["user_id"] for x in listed] == [buyer.id]
    assert listed[0]["display_name"].startswith("buyer")
    async with db.session() as s:
        assert await activity.recent_comments(s, sid) == []
        muted = await service.muted_users(s, creator.id)
    assert set(muted) == {buyer.id}
    expires = muted[buyer.id]
    assert expires is not None
    assert timedelta(minutes=59) < expires - utcnow() <= timedelta(minutes=60)

    # Muting again replaces the mute: still one in force, now without an end.
    body = {"user_id": buyer.id, "duration_minutes": None}
    again = await client.post(mutes, json=body, headers=creator.headers)
    assert again.status_code == 201 and again.json()["expires_at"] is None
    assert again.json()["hidden_comment_ids"] == []
    assert len((await client.get(mutes, headers=creator.headers)).json()) == 1

    lifted = await client.delete(f"{mutes}/{buyer.id}", headers=creator.headers)
    assert lifted.status_code == 204
    assert (await client.get(mutes, headers=creator.headers)).json() == []
    not_muted = await client.delete(f"{mutes}/{buyer.id}", headers=creator.headers)
    assert_problem(not_muted, 404, "mute-not-found")

    # A mute that has run out is no longer in force (its end moved into the past).
    body = {"user_id": buyer.id, "duration_minutes": 10}
    assert (await client.post(mutes, json=body, headers=creator.headers)).status_code == 201
    async with db.session() as s:
        await s.execute(
            update(ChatMute)
            .where(ChatMute.lifted_at.is_(None))
            .values(expires_at=utcnow() - timedelta(seconds=1))
        )
        await s.commit()
        assert await service.muted_users(s, creator.id) == {}
        rows = (await s.scalars(select(ChatMute).order_by(ChatMute.id))).all()
    assert len(rows) == 3 and [r.lifted_by for r in rows] == [creator.id, creator.id, None]
    assert (await client.get(mutes, headers=creator.headers)).json() == []

    # Bad input: 422 and nothing changes; unknown user or session: 404.
    for bad in (
        {"user_id": buyer.id, "duration_minutes": 0},
        {"user_id": buyer.id, "duration_minutes": service.MAX_MUTE_MINUTES + 1},
        {"user_id": buyer.id, "duration_minutes": "forever"},
        {"user_id": buyer.id},  # the duration is required (null: no end)
        {"user_id": 0, "duration_minutes": 10},
        {"user_id": buyer.id, "duration_minutes": 10, "reason": "x" * 201},
        {"user_id": buyer.id, "duration_minutes": 10, "extra": 1},
    ):
        assert_problem(await client.post(mutes, json=bad, headers=creator.headers), 422)
    unknown = {"user_id": 987654, "duration_minutes": 10}
    assert_problem(await client.post(mutes, json=unknown, headers=creator.headers), 404)
    body = {"user_id": buyer.id, "duration_minutes": 10}
    gone = await client.post(f"{URL}/424242/mutes", json=body, headers=creator.headers)
    assert_problem(gone, 404, "live-session-not-found")
    assert (await client.get(mutes, headers=creator.headers)).json() == []
    async with db.session() as s:
        hidden = (await s.scalars(select(LiveComment.hidden).order_by(LiveComment.id))).all()
    assert list(hidden) == [True, True]


async def test_the_mute_cache_reads_once_and_hears_of_changes_on_other_nodes(
    client: httpx.AsyncClient, make_actor: MakeActor, db: Database
) -> None:
    from liveshop.chat.mutes import MuteCache
    from liveshop.core.broker import make_broker
    from liveshop.live.service import get_session

    creator, buyer, sid = await _room(client, make_actor)
    broker = make_broker("memory://")

    async def is_muted() -> bool:
        return await node_b.check(creator.id, buyer.id) is not None

    node_a, node_b = MuteCache(broker, db), MuteCache(broker, db)
    try:
        assert await node_b.check(creator.id, buyer.id) is None
        assert await node_b.check(creator.id, buyer.id) is None
        assert node_b.loads == 1  # the second answer came from memory

        async with db.session() as s:
            live = await get_session(s, sid)
            await service.mute(s, live, buyer.id, actor_id=creator.id, minutes=None)
        await node_a.changed(creator.id)  # what the API does after the commit
        await eventually(is_muted, within=2)  # the announcement is one hop away
        muted = await node_b.check(creator.id, buyer.id)
        assert muted is not None and muted.expires_at is None
        assert node_b.loads == 2

        async with db.session() as s:
            live = await get_session(s, sid)
            await service.unmute(s, live, buyer.id, actor_id=creator.id)
        await node_a.changed(creator.id)

        async def lifted() -> bool:
            return await node_b.check(creator.id, buyer.id) is None

        await eventually(lifted, within=2)

        # A mute whose end has passed needs no announcement.
        async with db.session() as s:
            live = await get_session(s, sid)
            await service.mute(s, live, buyer.id, actor_id=creator.id, minutes=10)
        await node_a.changed(creator.id)
        await eventually(is_muted, within=2)
        entry = node_b._entries[creator.id][1][0]  # (mutes, banned)
        entry[buyer.id] = utcnow() - timedelta(seconds=1)
        assert await node_b.check(creator.id, buyer.id) is None
    finally:
        await node_a.close()
        await node_b.close()
        await broker.close()
