"""The media server's callbacks, driven as nginx-rtmp calls them.

Who may call them (the media server only), what a publish does to the session (live,
receiving, a public stream name), the grace period, and a second encoder.
"""

from __future__ import annotations

from typing import Any

import httpx
from fastapi import FastAPI

from liveshop.accounts.models import Role
from liveshop.video.hls import FOLDER_NAME
from tests.support import MakeActor, assert_problem
from tests.video.conftest import GRACE_S, nginx_calls, secret
from tests.video.helpers import eventually, new_key, product, session


async def live_status(client: httpx.AsyncClient, sid: int) -> dict[str, Any]:
    resp = await client.get(f"/api/v1/video/{sid}")
    assert resp.status_code == 200, resp.text
    body: dict[str, Any] = resp.json()
    return body


async def test_only_the_media_server_may_call(
    video_app: FastAPI, vclient: httpx.AsyncClient, make_actor: MakeActor
) -> None:
    creator, seller = await make_actor(Role.CREATOR), await make_actor(Role.SELLER)
    await session(vclient, creator, [await product(vclient, seller, "glow")])
    key = await new_key(vclient, creator)

    assert_problem(
        await nginx_calls(vclient, "publish", key, secret_value=""), 403, "internal-only"
    )
    wrong = await nginx_calls(vclient, "publish", key, secret_value="0" * 32)
    assert_problem(wrong, 403, "internal-only")
    proxied = await nginx_calls(vclient, "publish", key, headers={"X-Forwarded-For": "203.0.113.9"})
    assert_problem(proxied, 403, "internal-only")

    remote = httpx.ASGITransport(app=video_app, client=("203.0.113.9", 40000))
    async with httpx.AsyncClient(transport=remote, base_url="http://testserver") as outsider:
        assert_problem(await nginx_calls(outsider, "publish", key), 403, "internal-only")
        assert_problem(await nginx_calls(outsider, "publish_done", key), 403, "internal-only")


async def test_bad_keys_and_creators_without_a_session_are_refused(
    vclient: httpx.AsyncClient, make_actor: MakeActor
) -> None:
    creator = await make_actor(Role.CREATOR)
    key = await new_key(vclient, creator)
    refused = await nginx_calls(vclient, "publish", key)  # nothing scheduled
    assert_problem(refused, 403, "no-session-to-stream")
    for bad in ("", "lsk_" + "x" * 32, key[:-1], key + "x", "../" + key):
        assert_problem(await nginx_calls(vclient, "publish", bad), 403, "stream-key-invalid")
    await new_key(vclient, creator)  # rotated: the old key is dead
    assert_problem(await nginx_calls(vclient, "publish", key), 403, "stream-key-invalid")
    wrong_app = await vclient.post(
        f"/internal/video/on_publish?s={secret()}",
        data={"app": "hls", "name": key, "clientid": "1"},
    )
    assert_problem(wrong_app, 403, "stream-key-invalid")


async def test_publish_goes_live_and_the_grace_period_ends_it(
    video_app: FastAPI, vclient: httpx.AsyncClient, make_actor: MakeActor
) -> None:
    creator, seller = await make_actor(Role.CREATOR), await make_actor(Role.SELLER)
    sid = (await session(vclient, creator, [await product(vclient, seller, "glow")]))["id"]
    key = await new_key(vclient, creator)
    assert (await live_status(vclient, sid))["state"] is None

    resp = await nginx_calls(vclient, "publish", key, client_id="7")
    assert resp.status_code == 302, resp.text
    folder = resp.headers["location"]  # nginx renames the stream (and its HLS folder) to this
    assert FOLDER_NAME.fullmatch(folder) and key not in folder and folder.startswith(f"s{sid}-")
    video = await live_status(vclient, sid)
    assert video["session_status"] == "live" and video["state"] == "receiving"
    assert video["playlist_url"] == f"/video/{sid}/index.m3u8"

    # A second encoder on the same key is refused; its "done" does not stop the first.
    assert_problem(await nginx_calls(vclient, "publish", key, client_id="8"), 409)
    assert (await nginx_calls(vclient, "publish_done", key, client_id="8")).status_code == 200
    assert (await live_status(vclient, sid))["state"] == "receiving"

    # The encoder drops and comes back within the grace period: still live.
    assert (await nginx_calls(vclient, "publish_done", key, client_id="7")).status_code == 200
    assert (await live_status(vclient, sid))["state"] == "reconnecting"
    assert sid in video_app.state.video._timers  # the session's end is scheduled
    again = await nginx_calls(vclient, "publish", key, client_id="9")
    assert again.status_code == 302 and again.headers["location"] == folder
    assert sid not in video_app.state.video._timers  # …and called off
    video = await live_status(vclient, sid)
    assert video["session_status"] == "live" and video["state"] == "receiving"

    # Then it is gone for good: the session ends once the grace period is over.
    assert (await nginx_calls(vclient, "publish_done", key, client_id="9")).status_code == 200

    async def ended() -> bool:
        v = await live_status(vclient, sid)
        return v["session_status"] == "ended" and v["state"] == "ended"

    await eventually(ended, within=GRACE_S + 10)
    assert_problem(await nginx_calls(vclient, "publish", key, client_id="10"), 403)


async def test_a_session_started_in_the_studio_is_marked_receiving(
    vclient: httpx.AsyncClient, make_actor: MakeActor
) -> None:
    creator, seller = await make_actor(Role.CREATOR), await make_actor(Role.SELLER)
    pid = await product(vclient, seller, "glow")
    older = await session(vclient, creator, [pid])
    started = await session(vclient, creator, [pid], start=True)
    key = await new_key(vclient, creator)
    resp = await nginx_calls(vclient, "publish", key)
    assert resp.status_code == 302
    assert resp.headers["location"].startswith(f"s{started['id']}-")  # the live one wins
    assert (await live_status(vclient, started["id"]))["state"] == "receiving"
    assert (await live_status(vclient, older["id"]))["state"] is None

    # Ending in the studio while the encoder still sends: the stream is finished too.
    end = await vclient.post(f"/api/v1/live/sessions/{started['id']}/end", headers=creator.headers)
    assert end.status_code == 200

    async def finished() -> bool:
        return (await live_status(vclient, started["id"]))["state"] == "ended"

    await eventually(finished)
    assert (await nginx_calls(vclient, "publish_done", key)).status_code == 200
