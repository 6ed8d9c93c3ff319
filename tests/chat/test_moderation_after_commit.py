"""Chat moderation tells the room and the nodes' caches with its commit, by mechanism
(``chat.announce``): the room gets the same events as when the routers published by hand
after the services committed — same content, same order, the answers' ``seq`` theirs — and
a transaction that rolls back tells nobody anything. On SQLite and PostgreSQL."""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import event, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from liveshop.accounts.models import Role
from liveshop.chat import filters, service
from liveshop.chat.models import BlockedTerm, ChatMute, ModerationLogEntry
from liveshop.core.broker import make_broker
from liveshop.core.db import Database
from liveshop.core.events import decode
from liveshop.live import activity
from liveshop.live.models import LiveComment
from liveshop.live.service import get_session
from liveshop.realtime.publish import RoomPublisher, room_channel
from tests.live.helpers import new_session
from tests.support import Actor, MakeActor

URL = "/api/v1/live/sessions"
Sent = list[tuple[str, dict[str, Any]]]


async def _comment(db: Database, sid: int, user: Actor, text: str) -> int:
    async with db.session() as s:
        return await activity.post_comment(s, session_id=sid, user_id=user.id, text=text)


def _record(app: FastAPI, monkeypatch: pytest.MonkeyPatch) -> Sent:
    """Everything the app puts on its broker, in order: room events (with their seq) and
    the plain channels' messages (the caches' announcements)."""
    broker = app.state.hub.broker
    sent: Sent = []
    publish, sequenced = broker.publish, broker.publish_sequenced

    async def plain(channel: str, data: bytes) -> None:
        sent.append((channel, json.loads(data)))
        await publish(channel, data)

    async def numbered(channel: str, body: bytes, **kw: Any) -> tuple[int, bytes]:
        seq, data = await sequenced(channel, body, **kw)
        sent.append((channel, decode(data)))
        return seq, data

    monkeypatch.setattr(broker, "publish", plain)
    monkeypatch.setattr(broker, "publish_sequenced", numbered)
    return sent


async def test_the_room_and_the_nodes_hear_of_each_change_with_its_commit(
    app: FastAPI,
    client: httpx.AsyncClient,
    make_actor: MakeActor,
    db: Database,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    creator, buyer = await make_actor(Role.CREATOR), await make_actor(Role.BUYER)
    sid = int((await new_session(client, creator, [], start=True))["id"])
    room = room_channel(sid)
    first = await _comment(db, sid, buyer, "spam 1")
    second = await _comment(db, sid, buyer, "spam 2")
    sent = _record(app, monkeypatch)
    h = creator.headers

    hid = (await client.post(f"{URL}/{sid}/comments/{first}/hide", headers=h)).json()
    assert sent == [
        (
            room,
            {"seq": hid["seq"], "type": "comment_hidden", "ts": sent[0][1]["ts"], "ids": [first]},
        )
    ]
    noop = await client.post(f"{URL}/{sid}/comments/{first}/hide", headers=h)
    assert noop.json()["seq"] is None and len(sent) == 1  # nothing changed, nothing sent

    shown = (await client.post(f"{URL}/{sid}/comments/{first}/unhide", headers=h)).json()
    channel, ev = sent[1]
    assert channel == room and ev["seq"] == shown["seq"] == hid["seq"] + 1
    assert (ev["type"], ev["id"], ev["text"], ev["host"]) == (
        "comment_shown",
        first,
        "spam 1",
        False,
    )
    assert ev["user"] == {"id": buyer.id, "name": shown["display_name"]}
    assert isinstance(ev["comment_ts"], float)

    # A mute that hides: every node forgets the creator's mutes first, then the room drops
    # the lines — one event for all of them, as before.
    body = {"user_id": buyer.id, "duration_minutes": 10, "hide_comments": True}
    made = await client.post(f"{URL}/{sid}/mutes", json=body, headers=h)
    assert made.status_code == 201 and made.json()["hidden_comment_ids"] == [first, second]
    assert sent[2] == ("chat:mutes", {"creator_id": creator.id})
    assert sent[3][0] == room and sent[3][1]["type"] == "comment_hidden"
    assert sent[3][1]["ids"] == [first, second] and sent[3][1]["seq"] == ev["seq"] + 1
    assert len(sent) == 4

    # Undo from the moderation log: the mute is lifted (the nodes hear of it), then a hide
    # is undone (the room gets the line back).
    log = (await client.get(f"{URL}/{sid}/moderation-log", headers=h)).json()["items"]
    mute_entry = next(e for e in log if e["action"] == "mute")
    undone = await client.post(f"/api/v1/live/moderation-log/{mute_entry['id']}/undo", headers=h)
    assert undone.status_code == 200 and sent[4:] == [("chat:mutes", {"creator_id": creator.id})]
    hide_entry = next(e for e in log if e["action"] == "hide" and e["comment"]["id"] == second)
    undone = await client.post(f"/api/v1/live/moderation-log/{hide_entry['id']}/undo", headers=h)
    assert undone.status_code == 200 and len(sent) == 6
    assert sent[5][0] == room and (sent[5][1]["type"], sent[5][1]["id"]) == (
        "comment_shown",
        second,
    )

    # A change to the creator's blocked terms: the filter caches hear of it.
    added = await client.post(
        f"/api/v1/live/chat-filter/creators/{creator.id}/terms", json={"terms": ["scam"]}, headers=h
    )
    assert added.status_code == 201 and sent[6:] == [("chat:filters", {"creator_id": creator.id})]
    kinds = [decode(raw)["type"] for raw in await app.state.hub.broker.history(room)]
    assert kinds[-4:] == ["comment_hidden", "comment_shown", "comment_hidden", "comment_shown"]


class _Caches:
    """Stands in for the node's mute and filter caches: records what they were told."""

    def __init__(self) -> None:
        self.told: list[tuple[str, int | None]] = []

    async def changed(self, creator_id: int) -> None:
        self.told.append(("mutes", creator_id))

    async def creator_changed(self, creator_id: int) -> None:
        self.told.append(("filter", creator_id))

    async def platform_changed(self) -> None:
        self.told.append(("platform", None))


def _refuse_commits(s: AsyncSession) -> Callable[[], None]:
    """The database refuses this session's commits (a lost connection, a failed
    serialisation) until the returned function is called."""

    def refuse(_: Any) -> None:
        raise RuntimeError("commit refused")

    event.listen(s.sync_session, "before_commit", refuse)
    return lambda: event.remove(s.sync_session, "before_commit", refuse)


async def _refused(s: AsyncSession, change: Awaitable[Any]) -> None:
    with pytest.raises(RuntimeError, match="commit refused"):
        await change
    await s.rollback()


async def test_a_rolled_back_hide_mute_unmute_or_filter_change_tells_nobody(
    client: httpx.AsyncClient, make_actor: MakeActor, db: Database
) -> None:
    creator, buyer = await make_actor(Role.CREATOR), await make_actor(Role.BUYER)
    sid = int((await new_session(client, creator, [], start=True))["id"])
    comment = await _comment(db, sid, buyer, "spam")
    broker = make_broker("memory://")
    publisher, caches = RoomPublisher(broker), _Caches()
    channel = room_channel(sid)
    try:
        async with db.session() as s:
            allow = _refuse_commits(s)
            room = publisher.on_commit(s)
            live = await get_session(s, sid)
            hide = service.set_hidden(s, live, comment, hidden=True, actor_id=creator.id, room=room)
            await _refused(s, hide)
            live = await get_session(s, sid)  # the rollback expired it
            mute = service.mute(
                s,
                live,
                buyer.id,
                actor_id=creator.id,
                minutes=None,
                hide_comments=True,
                room=room,
                mutes=caches,
            )
            await _refused(s, mute)
            await _refused(
                s,
                filters.add_creator_terms(
                    s, creator.id, ["scam"], actor_id=creator.id, cache=caches
                ),
            )
            await _refused(
                s, filters.set_platform_hold_links(s, True, actor_id=creator.id, cache=caches)
            )
            assert await broker.last_seq(channel) == 0 and room.seqs == [] and caches.told == []
            for model in (ChatMute, ModerationLogEntry, BlockedTerm):
                assert await s.scalar(select(func.count()).select_from(model)) == 0
            assert (
                await s.scalar(select(LiveComment.hidden).where(LiveComment.id == comment)) is False
            )

            # The same changes, committed: each goes out once, in order.
            allow()
            live = await get_session(s, sid)
            await service.mute(
                s,
                live,
                buyer.id,
                actor_id=creator.id,
                minutes=None,
                hide_comments=True,
                room=room,
                mutes=caches,
            )
            assert caches.told == [("mutes", creator.id)] and room.seqs == [1]

            # An unmute refused at its commit: the mute stays, nobody hears of it.
            allow = _refuse_commits(s)
            live = await get_session(s, sid)
            await _refused(s, service.unmute(s, live, buyer.id, actor_id=creator.id, mutes=caches))
            allow()
            assert caches.told == [("mutes", creator.id)]
            assert await service.muted_users(s, creator.id) == {buyer.id: None}
            await s.rollback()
        history = [decode(raw) for raw in await broker.history(channel)]
        assert [(e["seq"], e["type"], e["ids"]) for e in history] == [
            (1, "comment_hidden", [comment])
        ]
    finally:
        await broker.close()
