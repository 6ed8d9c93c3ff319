"""Reports and bans, on SQLite and PostgreSQL: a viewer reports a comment, the report waits in
the moderators' queue (who may see it, dismiss it, bad input); a ban refuses the viewer's
comments on every node (the mute cache, across nodes over the broker), is logged and undone
from the log, and marks the reports about the viewer handled."""

from __future__ import annotations

from typing import Any

import httpx

from liveshop.accounts.models import Role
from liveshop.chat.mutes import MuteCache
from liveshop.core.broker import make_broker
from liveshop.core.db import Database
from liveshop.live import activity
from tests.live.conftest import Serve, live_app
from tests.live.conftest import serve as serve
from tests.live.helpers import RoomClient, eventually, new_session
from tests.support import Actor, MakeActor, assert_problem

URL = "/api/v1/live/sessions"


async def _comment(db: Database, sid: int, user: Actor, text: str) -> int:
    async with db.session() as s:
        return await activity.post_comment(s, session_id=sid, user_id=user.id, text=text)


async def _room(client: httpx.AsyncClient, make_actor: MakeActor) -> tuple[Actor, Actor, int]:
    creator, buyer = await make_actor(Role.CREATOR), await make_actor(Role.BUYER)
    session: dict[str, Any] = await new_session(client, creator, [], start=True)
    return creator, buyer, int(session["id"])


async def test_a_report_reaches_the_moderators_queue(
    client: httpx.AsyncClient, make_actor: MakeActor, db: Database
) -> None:
    creator, troll, sid = await _room(client, make_actor)
    reporter, helper = await make_actor(Role.BUYER), await make_actor(Role.BUYER)
    assert (
        await client.post(
            "/api/v1/live/moderators", json={"user_id": helper.id}, headers=creator.headers
        )
    ).status_code == 201
    bad = await _comment(db, sid, troll, "send money to my account first")
    reports = f"{URL}/{sid}/reports"

    made = await client.post(
        reports, json={"comment_id": bad, "reason": "scam"}, headers=reporter.headers
    )
    assert made.status_code == 201, made.text
    assert made.json()["status"] == "open" and made.json()["new"] is True
    again = await client.post(
        reports, json={"comment_id": bad, "reason": "spam"}, headers=reporter.headers
    )
    assert again.json() == {**made.json(), "new": False}  # one report per reporter and comment

    # Bad input changes nothing.
    for body in (
        {"reason": "spam"},  # neither a comment nor a viewer
        {"comment_id": bad, "user_id": troll.id, "reason": "spam"},  # both
        {"comment_id": bad, "reason": "boring"},
        {"comment_id": "1", "reason": "spam"},
        {"comment_id": bad, "reason": "spam", "extra": 1},
        {"comment_id": bad, "reason": "spam", "note": "x\x00"},
        {"comment_id": 2**70, "reason": "spam"},
    ):
        assert_problem(await client.post(reports, json=body, headers=reporter.headers), 422)
    own = await _comment(db, sid, reporter, "my own line")
    self_report = {"comment_id": own, "reason": "spam"}
    assert_problem(
        await client.post(reports, json=self_report, headers=reporter.headers),
        422,
        "cannot-report-self",
    )
    missing = {"comment_id": 987654, "reason": "spam"}
    assert_problem(await client.post(reports, json=missing, headers=reporter.headers), 404)
    assert_problem(await client.post(reports, json={"comment_id": bad, "reason": "spam"}), 401)
    viewer = {"user_id": troll.id, "reason": "abuse", "note": "keeps shouting"}
    assert (await client.post(reports, json=viewer, headers=reporter.headers)).status_code == 201

    # The queue: the creator and their moderators, never viewers.
    assert_problem(await client.get(reports, headers=reporter.headers), 403, "not-room-host")
    for moderator in (creator, helper):
        queue = (await client.get(reports, headers=moderator.headers)).json()
        assert [(r["comment_text"], r["reason"]) for r in queue] == [
            ("send money to my account first", "scam"),
            (None, "abuse"),
        ]
        assert queue[0]["reporter"]["user_id"] == reporter.id
        assert queue[0]["target"]["user_id"] == troll.id
    first = queue[0]["id"]
    dismiss = f"/api/v1/live/reports/{first}/dismiss"
    assert_problem(await client.post(dismiss, headers=reporter.headers), 403)
    dismissed = await client.post(dismiss, headers=helper.headers)
    assert dismissed.status_code == 200 and dismissed.json()["status"] == "dismissed"
    assert_problem(await client.post(dismiss, headers=creator.headers), 409, "report-handled")
    assert_problem(
        await client.post("/api/v1/live/reports/424242/dismiss", headers=creator.headers), 404
    )
    left = (await client.get(reports, headers=creator.headers)).json()
    assert [r["reason"] for r in left] == ["abuse"]
    every = (await client.get(f"{reports}?status=dismissed", headers=creator.headers)).json()
    assert [r["id"] for r in every] == [first]


async def test_ban_refuses_comments_is_logged_and_undone(
    client: httpx.AsyncClient, make_actor: MakeActor, db: Database, serve: Serve
) -> None:
    base = await serve(live_app(db))
    async with httpx.AsyncClient(base_url=base.replace("ws://", "http://"), timeout=30) as http:
        creator, troll = await make_actor(Role.CREATOR), await make_actor(Role.BUYER)
        reporter = await make_actor(Role.BUYER)
        sid = int((await new_session(http, creator, [], start=True))["id"])
        talker = await RoomClient.open(base, sid, token=troll.token)
        watcher = await RoomClient.open(base, sid)
        for c in (talker, watcher):
            await c.snapshot()
        await talker.send({"type": "comment", "text": "rude line"})
        rude = await watcher.until("comment", text="rude line")
        report = {"comment_id": rude["id"], "reason": "abuse"}
        made = await http.post(f"{URL}/{sid}/reports", json=report, headers=reporter.headers)
        assert made.status_code == 201

        bans = f"{URL}/{sid}/bans"
        banned = await http.post(
            bans, json={"user_id": troll.id, "reason": "abuse"}, headers=creator.headers
        )
        assert banned.status_code == 201, banned.text
        assert banned.json()["ban"] is True and banned.json()["expires_at"] is None
        assert banned.json()["hidden_comment_ids"] == [rude["id"]]
        assert (await watcher.until("comment_hidden"))["ids"] == [rude["id"]]
        # The ban is refused at the hub with its own error; nobody sees the line.
        await talker.send({"type": "comment", "text": "let me back"})
        refused = await talker.until("error", code="banned")
        assert "banned" in refused["detail"]
        await talker.send({"type": "bid", "auction_id": 1, "max_minor": 500, "ref": "b1"})
        bid = await talker.until("bid_result")
        assert bid["ref"] == "b1" and bid["error"]["code"] == "banned"  # no bids either
        # The report about the line was handled by the ban.
        queue = (await http.get(f"{URL}/{sid}/reports", headers=creator.headers)).json()
        assert queue == []
        # A ban is not replaced by a mute, nor given twice; bad input changes nothing.
        again = await http.post(bans, json={"user_id": troll.id}, headers=creator.headers)
        assert_problem(again, 409, "already-banned")
        mute = {"user_id": troll.id, "duration_minutes": 10}
        muted = await http.post(f"{URL}/{sid}/mutes", json=mute, headers=creator.headers)
        assert_problem(muted, 409, "viewer-banned")
        for body in ({}, {"user_id": "x"}, {"user_id": troll.id, "minutes": 5}):
            assert_problem(await http.post(bans, json=body, headers=creator.headers), 422)
        assert_problem(
            await http.post(bans, json={"user_id": creator.id}, headers=creator.headers), 422
        )
        assert_problem(
            await http.post(bans, json={"user_id": troll.id}, headers=reporter.headers), 403
        )
        listed = (await http.get(f"{URL}/{sid}/mutes", headers=creator.headers)).json()
        assert [(m["user_id"], m["ban"]) for m in listed] == [(troll.id, True)]

        # The log has the ban; undoing it lifts it, and the viewer may talk again.
        log = (
            await http.get(f"{URL}/{sid}/moderation-log?action=ban", headers=creator.headers)
        ).json()
        entry = log["items"][0]
        assert (entry["action"], entry["undo"]) == ("ban", "unban")
        undone = await http.post(
            f"/api/v1/live/moderation-log/{entry['id']}/undo", headers=creator.headers
        )
        assert undone.status_code == 200, undone.text
        await talker.send({"type": "comment", "text": "sorry"})
        await watcher.until("comment", text="sorry")
        gone = await http.delete(f"{bans}/{troll.id}", headers=creator.headers)
        assert_problem(gone, 404, "ban-not-found")
        for c in (talker, watcher):
            await c.close()


async def test_a_ban_on_one_node_reaches_the_other_nodes_cache(
    client: httpx.AsyncClient, make_actor: MakeActor, db: Database
) -> None:
    from liveshop.chat import service
    from liveshop.live.service import get_session

    creator, buyer, sid = await _room(client, make_actor)
    broker = make_broker("memory://")
    node_a, node_b = MuteCache(broker, db), MuteCache(broker, db)
    try:
        assert await node_b.check(creator.id, buyer.id) is None  # loaded, cached
        async with db.session() as s:
            live = await get_session(s, sid)
            await service.ban(s, live, buyer.id, actor_id=creator.id, mutes=node_a)

        async def banned_on_b() -> bool:
            found = await node_b.check(creator.id, buyer.id)
            return found is not None and found.banned

        await eventually(banned_on_b, within=2)
        async with db.session() as s:
            live = await get_session(s, sid)
            assert await service.is_banned(s, creator.id, buyer.id)
            await service.unban(s, live, buyer.id, actor_id=creator.id, mutes=node_a)

        async def lifted_on_b() -> bool:
            return await node_b.check(creator.id, buyer.id) is None

        await eventually(lifted_on_b, within=2)
    finally:
        await node_a.close()
        await node_b.close()
        await broker.close()


async def test_a_viewer_reports_the_show_itself(
    client: httpx.AsyncClient, make_actor: MakeActor, db: Database
) -> None:
    creator, viewer, sid = await _room(client, make_actor)
    other = await make_actor(Role.BUYER)
    reports = f"{URL}/{sid}/reports"
    body = {"show": True, "reason": "scam", "note": "fake products"}
    made = await client.post(reports, json=body, headers=viewer.headers)
    assert made.status_code == 201, made.text
    assert made.json()["new"] is True
    again = await client.post(reports, json={**body, "reason": "spam"}, headers=viewer.headers)
    assert again.json() == {**made.json(), "new": False}  # once per reporter and show
    assert (await client.post(reports, json=body, headers=other.headers)).json()["new"] is True
    # Bad input changes nothing: the show and a comment at once, the host reporting their own.
    line = await _comment(db, sid, other, "hello")
    for bad in ({**body, "comment_id": line}, {**body, "user_id": other.id}, {**body, "show": 1}):
        assert_problem(await client.post(reports, json=bad, headers=viewer.headers), 422)
    assert_problem(
        await client.post(reports, json=body, headers=creator.headers), 422, "cannot-report-self"
    )
    # The moderators' queue (the creator's; an admin's, the platform's) shows the show reports.
    admin, platform = await make_actor(Role.ADMIN), await make_actor(Role.MODERATOR)
    for moderator in (creator, admin, platform):
        queue = (await client.get(reports, headers=moderator.headers)).json()
        assert [(r["subject"], r["reason"], r["reporter"]["user_id"]) for r in queue] == [
            ("show", "scam", viewer.id),
            ("show", "scam", other.id),
        ]
        assert queue[0]["target"]["user_id"] == creator.id and queue[0]["comment_id"] is None
