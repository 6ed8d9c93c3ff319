"""The moderation log over HTTP, on SQLite and PostgreSQL: who may read which sessions' log,
what an entry says, filters and pages, and undoing a hide or a mute from it."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import httpx
from sqlalchemy import update

from liveshop.accounts.models import Role
from liveshop.chat import service
from liveshop.chat.models import ChatMute
from liveshop.core.clock import utcnow
from liveshop.core.db import Database
from liveshop.live import activity
from tests.live.helpers import new_session
from tests.support import Actor, MakeActor, assert_problem

URL = "/api/v1/live/sessions"
LOG = "/api/v1/live/moderation-log"


async def _comment(db: Database, sid: int, user: Actor, text: str) -> int:
    async with db.session() as s:
        return await activity.post_comment(s, session_id=sid, user_id=user.id, text=text)


async def _hide(client: httpx.AsyncClient, who: Actor, sid: int, comment: int) -> None:
    resp = await client.post(f"{URL}/{sid}/comments/{comment}/hide", headers=who.headers)
    assert resp.status_code == 200, resp.text


async def _mute(
    client: httpx.AsyncClient, who: Actor, sid: int, user: Actor, **extra: Any
) -> dict[str, Any]:
    body = {"user_id": user.id, "duration_minutes": 60, **extra}
    resp = await client.post(f"{URL}/{sid}/mutes", json=body, headers=who.headers)
    assert resp.status_code == 201, resp.text
    out: dict[str, Any] = resp.json()
    return out


async def _log(
    client: httpx.AsyncClient, who: Actor, path: str = LOG, **params: Any
) -> dict[str, Any]:
    resp = await client.get(path, params=params, headers=who.headers)
    assert resp.status_code == 200, resp.text
    out: dict[str, Any] = resp.json()
    return out


def _ids(page: dict[str, Any]) -> list[int]:
    return [e["session_id"] for e in page["items"]]


async def test_who_reads_which_log(
    client: httpx.AsyncClient, make_actor: MakeActor, db: Database
) -> None:
    creator, viewer = await make_actor(Role.CREATOR), await make_actor(Role.BUYER)
    other_creator = await make_actor(Role.CREATOR)
    helper = await make_actor(Role.BUYER)  # moderates all of creator's sessions
    one_show = await make_actor(Role.BUYER)  # moderates one of them
    admin, platform_mod = await make_actor(Role.ADMIN), await make_actor(Role.MODERATOR)
    seller = await make_actor(Role.SELLER)
    first = (await new_session(client, creator, [], start=True))["id"]
    second = (await new_session(client, creator, [], start=True))["id"]
    elsewhere = (await new_session(client, other_creator, [], start=True))["id"]
    for body in ({"user_id": helper.id}, {"user_id": one_show.id, "session_id": second}):
        added = await client.post("/api/v1/live/moderators", json=body, headers=creator.headers)
        assert added.status_code == 201, added.text
    for sid, host in ((first, creator), (second, creator), (elsewhere, other_creator)):
        await _hide(client, host, sid, await _comment(db, sid, viewer, f"spam in {sid}"))

    # Their own sessions (or those they moderate), newest first; admins and platform
    # moderators everything.
    assert _ids(await _log(client, creator)) == [second, first]
    assert _ids(await _log(client, helper)) == [second, first]
    assert _ids(await _log(client, one_show)) == [second]
    assert _ids(await _log(client, other_creator)) == [elsewhere]
    for everyone in (admin, platform_mod):
        assert _ids(await _log(client, everyone)) == [elsewhere, second, first]
        assert _ids(await _log(client, everyone, creator_id=creator.id)) == [second, first]

    # One session: its creator, their moderators, admins, platform moderators.
    path = f"{URL}/{first}/moderation-log"
    for allowed in (creator, helper, admin, platform_mod):
        assert _ids(await _log(client, allowed, path)) == [first]
        assert _ids(await _log(client, allowed, session_id=first)) == [first]
    for outsider in (other_creator, one_show, viewer, seller):
        assert_problem(await client.get(path, headers=outsider.headers), 403, "not-room-host")
        refused = await client.get(LOG, params={"session_id": first}, headers=outsider.headers)
        assert_problem(refused, 403, "not-room-host")
    # Neither creator nor anyone's moderator: no log at all. Nobody signed in: 401.
    for nobody in (viewer, seller):
        assert_problem(await client.get(LOG, headers=nobody.headers), 403, "not-room-host")
    assert_problem(await client.get(LOG), 401)
    assert_problem(await client.get(path), 401)
    gone = f"{URL}/424242/moderation-log"
    assert_problem(await client.get(gone, headers=admin.headers), 404, "live-session-not-found")


async def test_what_an_entry_says(
    client: httpx.AsyncClient, make_actor: MakeActor, db: Database
) -> None:
    creator = await make_actor(Role.CREATOR, name="Mia")
    viewer = await make_actor(Role.BUYER, name="Duc")
    helper = await make_actor(Role.BUYER, name="Helper")
    admin = await make_actor(Role.ADMIN, name="Boss")
    sid = (await new_session(client, creator, [], start=True))["id"]
    added = await client.post(
        "/api/v1/live/moderators", json={"user_id": helper.id}, headers=creator.headers
    )
    assert added.status_code == 201
    spam = await _comment(db, sid, viewer, "cheap followers at spam.example")
    more = await _comment(db, sid, viewer, "more spam")
    await _hide(client, helper, sid, spam)
    mute = await _mute(client, creator, sid, viewer, reason="links", hide_comments=True)
    lifted = await client.delete(f"{URL}/{sid}/mutes/{viewer.id}", headers=admin.headers)
    assert lifted.status_code == 204

    page = await _log(client, creator, f"{URL}/{sid}/moderation-log")
    assert [(e["action"], e["actor"]["role"]) for e in page["items"]] == [
        ("unmute", "admin"),
        ("hide", "creator"),  # hidden with the mute
        ("mute", "creator"),
        ("hide", "moderator"),
    ]
    unmute, hidden_with_mute, muted, hidden = page["items"]
    assert hidden["actor"] == {
        "user_id": helper.id,
        "display_name": "Helper 3",
        "role": "moderator",
    }
    assert hidden["target"] == {"user_id": viewer.id, "display_name": "Duc 2"}
    assert hidden["comment"]["id"] == spam and hidden["comment"]["hidden"] is True
    assert hidden["comment"]["text"] == "cheap followers at spam.example"
    assert hidden["mute"] is None and hidden["undo"] == "unhide"
    assert hidden_with_mute["comment"]["id"] == more
    assert hidden_with_mute["mute"]["id"] == mute["id"]
    assert muted["mute"]["id"] == mute["id"] and muted["mute"]["reason"] == "links"
    assert muted["mute"]["in_force"] is False and muted["mute"]["lifted_at"] is not None
    assert muted["comment"] is None and muted["undo"] is None  # already lifted
    assert unmute["mute"]["id"] == mute["id"] and unmute["undo"] is None
    assert unmute["actor"]["display_name"] == "Boss 4"
    for e in page["items"]:
        assert (e["session_id"], e["session_title"], e["creator_id"]) == (
            sid,
            "Friday glow-up",
            creator.id,
        )
    assert page["counts"] == {"hide": 2, "unhide": 0, "mute": 1, "unmute": 1, "ban": 0, "unban": 0}


async def test_filters_and_pages(
    client: httpx.AsyncClient, make_actor: MakeActor, db: Database
) -> None:
    creator, viewer = await make_actor(Role.CREATOR), await make_actor(Role.BUYER)
    first = (await new_session(client, creator, [], start=True))["id"]
    second = (await new_session(client, creator, [], start=True))["id"]
    comments = [await _comment(db, first, viewer, f"line {n}") for n in range(5)]
    for c in comments:
        await _hide(client, creator, first, c)
    await _mute(client, creator, second, viewer)

    everything = await _log(client, creator)
    assert everything["total"] == 6 and len(everything["items"]) == 6
    ids = [e["id"] for e in everything["items"]]
    assert ids == sorted(ids, reverse=True)  # newest first

    pages = [await _log(client, creator, limit=2, offset=n) for n in (0, 2, 4, 6)]
    assert [len(p["items"]) for p in pages] == [2, 2, 2, 0]
    assert [e["id"] for p in pages for e in p["items"]] == ids
    assert {p["total"] for p in pages} == {6}

    hides = await _log(client, creator, action="hide")
    assert hides["total"] == 5 and {e["action"] for e in hides["items"]} == {"hide"}
    assert [e["comment"]["id"] for e in hides["items"]] == comments[::-1]
    # The counts keep every filter except the action.
    assert hides["counts"] == {"hide": 5, "unhide": 0, "mute": 1, "unmute": 0, "ban": 0, "unban": 0}
    both = await client.get(
        LOG, params=[("action", "hide"), ("action", "mute")], headers=creator.headers
    )
    assert both.json()["total"] == 6
    mutes = await _log(client, creator, session_id=second)
    assert [e["action"] for e in mutes["items"]] == ["mute"]
    assert mutes["counts"] == {"hide": 0, "unhide": 0, "mute": 1, "unmute": 0, "ban": 0, "unban": 0}
    one = await _log(client, creator, f"{URL}/{first}/moderation-log", action="mute")
    assert one["total"] == 0 and one["items"] == []
    second_page = await _log(client, creator, f"{URL}/{first}/moderation-log", limit=3, offset=3)
    assert [e["comment"]["id"] for e in second_page["items"]] == comments[1::-1]

    for bad in (
        {"action": "delete"},
        {"limit": 0},
        {"limit": 201},
        {"offset": -1},
        {"session_id": 0},
        {"session_id": "x"},
    ):
        assert_problem(await client.get(LOG, params=bad, headers=creator.headers), 422)


async def test_undo_a_hide_and_a_mute(
    client: httpx.AsyncClient, make_actor: MakeActor, db: Database
) -> None:
    creator, viewer = await make_actor(Role.CREATOR), await make_actor(Role.BUYER)
    helper, stranger = await make_actor(Role.BUYER), await make_actor(Role.CREATOR)
    added = await client.post(
        "/api/v1/live/moderators", json={"user_id": helper.id}, headers=creator.headers
    )
    assert added.status_code == 201
    sid = (await new_session(client, creator, [], start=True))["id"]
    spam = await _comment(db, sid, viewer, "spam")
    await _hide(client, creator, sid, spam)
    await _mute(client, creator, sid, viewer)
    muted, hidden = (await _log(client, creator))["items"]
    assert (hidden["undo"], muted["undo"]) == ("unhide", "unmute")

    # Someone else's room: 403; no such entry: 404; nobody signed in: 401.
    for path in (f"{LOG}/{hidden['id']}/undo", f"{LOG}/{muted['id']}/undo"):
        assert_problem(await client.post(path, headers=stranger.headers), 403, "not-room-host")
        assert_problem(await client.post(path), 401)
    missing = await client.post(f"{LOG}/987654/undo", headers=creator.headers)
    assert_problem(missing, 404, "moderation-entry-not-found")

    # A moderator unhides the comment: the room has it again, the log says who did.
    shown = await client.post(f"{LOG}/{hidden['id']}/undo", headers=helper.headers)
    assert shown.status_code == 200, shown.text
    entry = shown.json()
    assert (entry["action"], entry["actor"]["user_id"], entry["actor"]["role"]) == (
        "unhide",
        helper.id,
        "moderator",
    )
    assert entry["comment"] == {**hidden["comment"], "hidden": False}
    async with db.session() as s:
        assert [c.id for c in await activity.recent_comments(s, sid)] == [spam]
    again = await client.post(f"{LOG}/{hidden['id']}/undo", headers=creator.headers)
    assert_problem(again, 409, "nothing-to-undo")
    cannot = await client.post(f"{LOG}/{entry['id']}/undo", headers=creator.headers)
    assert_problem(cannot, 409, "cannot-undo")

    # The creator lifts the mute from the log: the viewer may comment again everywhere.
    lifted = await client.post(f"{LOG}/{muted['id']}/undo", headers=creator.headers)
    assert lifted.status_code == 200, lifted.text
    assert lifted.json()["action"] == "unmute"
    assert lifted.json()["mute"]["id"] == muted["mute"]["id"]
    assert lifted.json()["mute"]["in_force"] is False
    async with db.session() as s:
        assert await service.muted_users(s, creator.id) == {}
    assert_problem(
        await client.post(f"{LOG}/{muted['id']}/undo", headers=creator.headers),
        409,
        "nothing-to-undo",
    )
    after = await _log(client, creator)
    assert [e["action"] for e in after["items"]] == ["unmute", "unhide", "mute", "hide"]
    assert [e["undo"] for e in after["items"]] == [None, None, None, None]

    # A mute that ran out, or that a later mute replaced, has nothing to undo.
    first = await _mute(client, creator, sid, viewer)
    await _mute(client, creator, sid, viewer, duration_minutes=10)  # replaces it
    async with db.session() as s:
        await s.execute(
            update(ChatMute)
            .where(ChatMute.lifted_at.is_(None))
            .values(expires_at=utcnow() - timedelta(seconds=1))
        )
        await s.commit()
    entries = (await _log(client, creator, action="mute"))["items"]
    assert [e["mute"]["id"] for e in entries[:2]] == [first["id"] + 1, first["id"]]
    for e in entries[:2]:
        assert e["undo"] is None
        refused = await client.post(f"{LOG}/{e['id']}/undo", headers=creator.headers)
        assert_problem(refused, 409, "nothing-to-undo")


async def test_the_log_is_in_the_openapi_document(client: httpx.AsyncClient) -> None:
    doc = (await client.get("/openapi.json")).json()
    paths = doc["paths"]
    for path, method in (
        ("/api/v1/live/moderation-log", "get"),
        ("/api/v1/live/sessions/{session_id}/moderation-log", "get"),
        ("/api/v1/live/moderation-log/{entry_id}/undo", "post"),
    ):
        op = paths[path][method]
        assert op["description"]
        for status in ("401", "403", "404", "422"):
            content = op["responses"][status]["content"]
            assert "application/problem+json" in content
    entry = doc["components"]["schemas"]["ModerationEntryOut"]["properties"]
    assert {"actor", "target", "comment", "mute", "undo"} <= set(entry)
