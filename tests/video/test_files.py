"""Serving HLS: content types, cache headers, the poster placeholder, no way out of the
video folders — and the providers (embedded, external, off) as users see them."""

from __future__ import annotations

import asyncio
import os
import shutil
import threading
from typing import Any
from urllib.parse import unquote

import httpx
from fastapi import FastAPI

from liveshop.accounts.models import Role
from liveshop.app import create_app
from liveshop.core.db import Database
from liveshop.core.settings import Settings
from liveshop.realtime.wiring import shutdown_realtime
from liveshop.video.placeholder import PLACEHOLDER_JPEG
from liveshop.video.provider import callback_secret
from tests.support import MakeActor, assert_problem
from tests.video.conftest import nginx_calls
from tests.video.helpers import new_key, product, session, video_dir

PLAYLIST = "#EXTM3U\n#EXT-X-TARGETDURATION:1\n#EXTINF:1.000,\n0.ts\n"
# As served: a player may ask for the next segment's playlist and wait for it (_HLS_msn).
SERVED = PLAYLIST.replace("#EXTM3U\n", "#EXTM3U\n#EXT-X-SERVER-CONTROL:CAN-BLOCK-RELOAD=YES\n")


async def raw_get(app: FastAPI, raw_path: str) -> int:
    """The status for a path exactly as uvicorn hands it over (percent-decoded ``path``,
    untouched ``raw_path``); HTTP clients would normalise ``..`` before sending."""
    path, _, query = raw_path.partition("?")
    scope: dict[str, Any] = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "GET",
        "scheme": "http",
        "path": unquote(path),
        "raw_path": path.encode(),
        "query_string": query.encode(),
        "root_path": "",
        "headers": [(b"host", b"testserver")],
        "client": ("127.0.0.1", 50000),
        "server": ("testserver", 80),
    }
    sent: list[dict[str, Any]] = []
    requested, done = False, asyncio.Event()

    async def receive() -> dict[str, Any]:
        nonlocal requested
        if not requested:
            requested = True
            return {"type": "http.request", "body": b"", "more_body": False}
        await done.wait()  # like a client that stays until the response is complete
        return {"type": "http.disconnect"}

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)
        if message["type"] == "http.response.body" and not message.get("more_body"):
            done.set()

    await app(scope, receive, send)
    status: int = next(m["status"] for m in sent if m["type"] == "http.response.start")
    return status


async def streaming_session(
    app: FastAPI, client: httpx.AsyncClient, make_actor: MakeActor
) -> tuple[int, str]:
    creator, seller = await make_actor(Role.CREATOR), await make_actor(Role.SELLER)
    sid = (await session(client, creator, [await product(client, seller, "glow")]))["id"]
    resp = await nginx_calls(client, "publish", await new_key(client, creator))
    assert resp.status_code == 302, resp.text
    return sid, resp.headers["location"]


async def test_playlists_segments_and_posters_have_the_right_headers(
    video_app: FastAPI, vclient: httpx.AsyncClient, make_actor: MakeActor
) -> None:
    sid, folder = await streaming_session(video_app, vclient, make_actor)
    where = video_app.state.video.provider.local_dir / folder
    where.mkdir(parents=True)
    (where / "index.m3u8").write_text(PLAYLIST)
    (where / "0.ts").write_bytes(b"G" * 188)

    playlist = await vclient.get(f"/video/{sid}/index.m3u8")
    assert playlist.status_code == 200 and playlist.text == SERVED
    assert playlist.headers["content-type"] == "application/vnd.apple.mpegurl"
    assert playlist.headers["cache-control"] == "no-cache"
    segment = await vclient.get(f"/video/{sid}/0.ts")
    assert segment.status_code == 200 and segment.content == b"G" * 188
    assert segment.headers["content-type"] == "video/mp2t"
    assert segment.headers["cache-control"] == "public, max-age=31536000, immutable"
    assert_problem(await vclient.get(f"/video/{sid}/1.ts"), 404, "video-file-not-found")
    assert_problem(await vclient.get(f"/video/{sid}/replay.m3u8"), 404)  # not over yet

    # A blocking reload: the player asks for segment 1's playlist and is answered once nginx
    # has written it (here, a moment later), not with the playlist it already has.
    waiting = asyncio.create_task(vclient.get(f"/video/{sid}/index.m3u8?_HLS_msn=1"))
    await asyncio.sleep(0.3)  # the encoder's next keyframe, a moment later
    assert not waiting.done()
    (where / "index.m3u8").write_text(PLAYLIST + "#EXTINF:1.000,\n1.ts\n")
    answered = await asyncio.wait_for(waiting, 10)
    assert answered.status_code == 200 and answered.text.endswith("1.ts\n")
    at_once = await vclient.get(f"/video/{sid}/index.m3u8?_HLS_msn=1")  # already there
    assert at_once.text == answered.text
    (where / "index.m3u8").write_text(PLAYLIST)

    poster = await vclient.get(f"/video/{sid}/poster.jpg")  # no frame yet: the placeholder
    assert poster.status_code == 200 and poster.content == PLACEHOLDER_JPEG
    assert poster.headers["content-type"] == "image/jpeg"
    (where / "poster.jpg").write_bytes(b"\xff\xd8\xff real frame")
    assert (await vclient.get(f"/video/{sid}/poster.jpg")).content == b"\xff\xd8\xff real frame"


async def test_a_playlist_replaced_while_it_is_read_is_sent_whole(
    video_app: FastAPI, vclient: httpx.AsyncClient, make_actor: MakeActor
) -> None:
    """nginx-rtmp rewrites the live playlist by rename every segment (and the poster is
    renamed into place): a player polling it gets one version or the other, never the size of
    one with the bytes of the next (a broken response for hls.js)."""
    sid, folder = await streaming_session(video_app, vclient, make_actor)
    where = video_app.state.video.provider.local_dir / folder
    where.mkdir(parents=True)
    versions = {  # each file's two versions, shorter first
        "index.m3u8": (PLAYLIST.encode(), (PLAYLIST + "#EXTINF:1.000,\n1.ts\n" * 40).encode()),
        "poster.jpg": (b"\xff\xd8 first", b"\xff\xd8 next" * 500),
    }
    for name, (first, _) in versions.items():
        (where / name).write_bytes(first)
    stop = threading.Event()

    def writer() -> None:  # what nginx and the poster grabber do, as fast as it can
        n = 0
        while not stop.is_set():
            for name, texts in versions.items():
                tmp = where / f".{name}.tmp"
                tmp.write_bytes(texts[n % 2])
                os.replace(tmp, where / name)
            n += 1

    thread = threading.Thread(target=writer)
    thread.start()
    try:
        for _ in range(150):
            for name, texts in versions.items():
                resp = await vclient.get(f"/video/{sid}/{name}")
                assert resp.status_code == 200
                assert int(resp.headers["content-length"]) == len(resp.content)
                served = [t.replace(PLAYLIST.encode(), SERVED.encode()) for t in texts]
                assert resp.content in served
    finally:
        stop.set()
        thread.join()


async def test_posters_of_sessions_without_video_and_of_no_session(
    vclient: httpx.AsyncClient, make_actor: MakeActor
) -> None:
    creator, seller = await make_actor(Role.CREATOR), await make_actor(Role.SELLER)
    sid = (await session(vclient, creator, [await product(vclient, seller, "glow")]))["id"]
    assert (await vclient.get(f"/video/{sid}/poster.jpg")).content == PLACEHOLDER_JPEG
    assert_problem(await vclient.get(f"/video/{sid}/index.m3u8"), 404)
    assert_problem(await vclient.get("/video/987654/poster.jpg"), 404)


async def test_no_path_leads_out_of_the_video_folders(
    video_app: FastAPI, vclient: httpx.AsyncClient, make_actor: MakeActor
) -> None:
    sid, folder = await streaming_session(video_app, vclient, make_actor)
    root = video_app.state.video.provider.local_dir
    (root / folder).mkdir(parents=True)
    (root / folder / "index.m3u8").write_text(PLAYLIST)
    (root / folder / "recording.txt").write_text("1.000 0.ts\n")
    (root.parent / "nginx.conf").write_text("secret")
    assert await raw_get(video_app, f"/video/{sid}/index.m3u8") == 200  # the control case
    for raw in (
        f"/video/{sid}/../../nginx.conf",
        f"/video/{sid}/%2e%2e/%2e%2e/nginx.conf",
        f"/video/{sid}/%2e%2e%2f%2e%2e%2fnginx.conf",
        f"/video/{sid}/..%2F..%2Fnginx.conf",
        f"/video/{sid}/%2E%2E",
        f"/video/{sid}/..",
        f"/video/{sid}/...",
        f"/video/{sid}/%2fetc%2fpasswd",
        f"/video/{sid}//etc/passwd",
        f"/video/{sid}/{root}/{folder}/index.m3u8",
        f"/video/{sid}/recording.txt",
        f"/video/{sid}/{folder}",
        f"/video/{sid}/index.m3u8%00.ts",
        f"/video/{sid}/0.ts%0a",
        "/video/%2e%2e/index.m3u8",
        "/video/..%2f..%2fnginx.conf/index.m3u8",
        f"/video/{root}/index.m3u8",
        f"/video/-{sid}/index.m3u8",
        f"/video/0{sid}/index.m3u8",
        "/video//etc/passwd",
        "/video/1e3/index.m3u8",
    ):
        assert await raw_get(video_app, raw) in (404, 422), raw  # 422: a control character


async def test_external_provider_points_players_at_the_cdn(
    db: Database, make_actor: MakeActor
) -> None:
    root = video_dir()
    settings = Settings(
        video_provider="external",
        video_dir=root,
        video_rtmp_url="rtmp://ingest.example.net/live",
        video_external_playlist_url="https://cdn.example.net/hls/{stream}/index.m3u8",
        video_external_replay_url="https://cdn.example.net/vod/{session_id}.m3u8",
        reservation_sweep_seconds=0,
    )
    app = create_app(settings, database=db)
    transport = httpx.ASGITransport(app=app)
    try:
        async with httpx.AsyncClient(transport=transport, base_url="http://t") as c:
            sid, folder = await streaming_session(app, c, make_actor)
            creator_view = await c.get(f"/api/v1/video/{sid}")
            assert creator_view.json()["playlist_url"] == (
                f"https://cdn.example.net/hls/{folder}/index.m3u8"
            )
            moved = await c.get(f"/video/{sid}/index.m3u8")
            assert moved.status_code == 307
            assert moved.headers["location"] == f"https://cdn.example.net/hls/{folder}/index.m3u8"
            assert_problem(await c.get(f"/video/{sid}/0.ts"), 404)
        # What the external nginx-rtmp includes to ask liveshop about keys (a secret: 0600).
        conf = app.state.video.provider.write_callbacks()
        assert conf.stat().st_mode & 0o077 == 0
        text = conf.read_text()
        assert f"/internal/video/on_publish?s={callback_secret(settings)};" in text
        assert "on_publish_done " in text and "notify_method post;" in text
    finally:
        await app.state.video.stop()
        await shutdown_realtime(app)
        shutil.rmtree(root, ignore_errors=True)


async def test_with_video_off_nobody_goes_live_but_keys_still_work(
    client: httpx.AsyncClient, make_actor: MakeActor
) -> None:
    creator, seller = await make_actor(Role.CREATOR), await make_actor(Role.SELLER)
    await session(client, creator, [await product(client, seller, "glow")])
    key = await new_key(client, creator)
    shown = (await client.get("/api/v1/video/stream-key", headers=creator.headers)).json()
    assert shown["provider"] == "off" and shown["rtmp_url"] is None
    assert_problem(await nginx_calls(client, "publish", key), 403, "video-off")
