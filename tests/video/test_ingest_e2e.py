"""End to end with the real tools: ``liveshop serve`` (as ``make run`` starts it) runs nginx
with the RTMP module; ffmpeg pushes its test picture and tone over RTMP like OBS would.

One push per database: a wrong key is refused before any folder exists, a valid key
takes the session live, HLS appears with H.264/AAC segments served with the right types,
a pin during the push lands on the replay timeline, the session ends after the grace
period, the replay is a complete VOD playlist, a poster exists — and the server's whole
log (app, uvicorn, nginx) never contains a stream key.
"""

from __future__ import annotations

import asyncio
import signal
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest

from liveshop.accounts.models import Role
from liveshop.core.db import Database
from liveshop.core.settings import Settings
from liveshop.video.hls import FOLDER_NAME
from liveshop.video.placeholder import PLACEHOLDER_JPEG
from liveshop.video.provider import callback_secret
from tests.support import MakeActor
from tests.video.helpers import eventually, new_key, product, session
from tests.video.served import Served, codecs, push, serve

GRACE_S = 1.5
PUSH_S = 6


@pytest.fixture
async def served(db: Database, db_url: str) -> AsyncIterator[Served]:
    """``liveshop serve`` in its own process on free ports, against the test database."""
    async with serve(db_url, grace_s=GRACE_S) as running:
        yield running


def alive(pid: int) -> bool:
    return Path(f"/proc/{pid}").exists()


async def raw_status(base: str, raw_path: str) -> int:
    """GET a path byte for byte (HTTP clients normalise ``..`` away before sending)."""
    host, port = base.removeprefix("http://").split(":")
    reader, writer = await asyncio.open_connection(host, int(port))
    writer.write(f"GET {raw_path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n".encode())
    await writer.drain()
    status_line = await reader.readline()
    writer.close()
    return int(status_line.split()[1])


async def test_push_goes_live_records_and_replays(
    served: Served, make_actor: MakeActor, tmp_path: Path
) -> None:
    async with httpx.AsyncClient(base_url=served.base, timeout=10) as c:
        seller, creator = await make_actor(Role.SELLER), await make_actor(Role.CREATOR)
        serum, toner = await product(c, seller, "glow"), await product(c, seller, "tone", 1299)
        live = await session(c, creator, [serum, toner])
        sid = live["id"]
        key = await new_key(c, creator)
        hls_root = served.video_dir / "hls"

        # A wrong key is refused by on_publish before nginx writes anything.
        wrong = "lsk_" + "W" * 32
        refused = await push(f"{served.rtmp}/{wrong}", 3)
        _, err = await asyncio.wait_for(refused.communicate(), 15)
        assert refused.returncode != 0, err
        assert not hls_root.exists() or list(hls_root.iterdir()) == []

        # The valid key: the scheduled session goes live and HLS appears.
        encoder = await push(f"{served.rtmp}/{key}", PUSH_S)

        async def video() -> dict[str, object]:
            resp = await c.get(f"/api/v1/video/{sid}")
            assert resp.status_code == 200, resp.text
            body: dict[str, object] = resp.json()
            return body

        async def receiving() -> bool:
            v = await video()
            return v["state"] == "receiving" and v["session_status"] == "live"

        await eventually(receiving)
        pinned = await c.post(
            f"/api/v1/live/sessions/{sid}/pin", json={"product_id": toner}, headers=creator.headers
        )
        assert pinned.status_code == 200, pinned.text

        playlist_url = f"/video/{sid}/index.m3u8"

        async def segments_listed() -> bool:
            resp = await c.get(playlist_url)
            return resp.status_code == 200 and resp.text.count(".ts") >= 2

        await eventually(segments_listed)
        assert (await video())["playlist_ready"] is True
        resp = await c.get(playlist_url)
        assert resp.headers["content-type"] == "application/vnd.apple.mpegurl"
        assert resp.headers["cache-control"] == "no-cache"
        assert "#EXT-X-PROGRAM-DATE-TIME:" in resp.text  # the picture's wall clock
        first = next(line for line in resp.text.splitlines() if line.endswith(".ts"))
        seg = await c.get(f"/video/{sid}/{first}")
        assert seg.status_code == 200
        assert seg.headers["content-type"] == "video/mp2t"
        assert "immutable" in seg.headers["cache-control"]
        (tmp_path / first).write_bytes(seg.content)
        assert await codecs(tmp_path / first) == {"h264", "aac"}

        nginx_pid = int((served.video_dir / "nginx.pid").read_text())
        assert alive(nginx_pid)

        # Folders are named by a public name, never by the key.
        folders = [p.name for p in hls_root.iterdir()]
        assert len(folders) == 1 and FOLDER_NAME.match(folders[0]), folders
        assert key not in folders[0]

        # Path traversal in any video URL is a 404, byte for byte through uvicorn.
        for raw in (
            f"/video/{sid}/../../../etc/passwd",
            f"/video/{sid}/%2e%2e/%2e%2e/etc/passwd",
            f"/video/{sid}/..%2f..%2fnginx.conf",
            f"/video/{sid}/%2e%2e%2fnginx.conf",
            "/video/..%2f..%2fnginx.conf/index.m3u8",
            "/video//etc/passwd",
            f"/video/{sid}//etc/passwd",
            f"/video/{sid}/{folders[0]}",
            f"/video/{sid}/recording.txt",
        ):
            assert await raw_status(served.base, raw) == 404, raw

        _, err = await asyncio.wait_for(encoder.communicate(), PUSH_S + 15)
        assert encoder.returncode == 0, err

        # Ingest gone: reconnecting, then the session ends after the grace period.
        seen: set[object] = set()

        async def ended() -> bool:
            v = await video()
            seen.add(v["state"])
            return v["session_status"] == "ended" and v["state"] == "ended"

        await eventually(ended, within=GRACE_S + 10)
        assert "reconnecting" in seen

        replay = await c.get(f"/video/{sid}/replay.m3u8")
        assert replay.status_code == 200
        assert replay.headers["content-type"] == "application/vnd.apple.mpegurl"
        lines = replay.text.splitlines()
        assert "#EXT-X-PLAYLIST-TYPE:VOD" in lines and lines[-1] == "#EXT-X-ENDLIST"
        replay_segments = [line for line in lines if line.endswith(".ts")]
        assert first in replay_segments and len(replay_segments) >= PUSH_S - 2
        for name in replay_segments:
            assert (await c.get(f"/video/{sid}/{name}")).status_code == 200
        # Once over, the live URL plays the complete recording too.
        assert (await c.get(playlist_url)).text == replay.text

        # The shoppable timeline (public now): the pin during the push, at its offset.
        tl = (await c.get(f"/api/v1/video/{sid}/timeline")).json()
        assert 0 < tl["duration_ms"] <= (PUSH_S + 2) * 1000
        pins = [e for e in tl["entries"] if e["kind"] == "pin"]
        assert [p["product_id"] for p in pins] == [toner]
        # Counted from the replay's first picture: pinned as the stream went live, before
        # the first recorded keyframe, it shows from the replay's start.
        assert 0 <= pins[0]["offset_ms"] < tl["duration_ms"]
        assert {p["product_id"]: p["price_minor"] for p in tl["products"]} == {toner: 1299}

        poster = await c.get(f"/video/{sid}/poster.jpg")
        assert poster.headers["content-type"] == "image/jpeg"
        assert poster.content[:3] == b"\xff\xd8\xff" and poster.content != PLACEHOLDER_JPEG

    served.process.send_signal(signal.SIGTERM)
    await asyncio.to_thread(served.process.wait, 15)
    text = served.log_text()
    assert "media server started" in text and "nginx" in text
    assert key not in text and wrong not in text
    assert callback_secret(Settings()) not in text  # same LIVESHOP_SECRET_KEY as the server
    assert not alive(nginx_pid), "nginx outlived the app"
