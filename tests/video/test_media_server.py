"""The embedded media server: its nginx.conf, and a crashed nginx comes back by itself."""

from __future__ import annotations

import asyncio
import os
import shutil
import signal
from collections.abc import AsyncIterator
from dataclasses import replace
from pathlib import Path

import pytest

from liveshop.core.settings import Settings
from liveshop.video.media_server import MediaServer, NginxConfig, render_conf
from liveshop.video.provider import EmbeddedProvider
from liveshop.video.redact import redact_line
from tests.conftest import service_missing
from tests.video.helpers import eventually, free_port, media_tools_missing, video_dir


def config(root: Path, **kw: object) -> NginxConfig:
    return NginxConfig(
        video_dir=root,
        callback_base="http://127.0.0.1:8000",
        callback_secret="0123abcd",
        rtmp_port=free_port(),
        http_port=free_port(),
        **kw,  # type: ignore[arg-type]
    )


def test_conf_renames_in_one_application_and_packages_hls_in_another(tmp_path: Path) -> None:
    conf = render_conf(config(tmp_path))
    live, hls = conf.split("application live {")[1], conf.split("application hls {")[1]
    live = live.split("}")[0]
    hls = hls.split("}")[0]
    assert "on_publish " in live and "on_publish_done " in live and "push rtmp://127.0.0.1:" in live
    assert "hls on" not in live and "deny play all" in live
    assert "hls on;" in hls and "deny publish all" in hls and "allow publish 127.0.0.1" in hls
    assert "hls_cleanup off" in hls and "hls_nested on" in hls and "hls_fragment 900ms" in hls
    assert "wait_key on" in hls and "hls_max_fragment 20s" in hls  # segments cut at keyframes
    assert conf.startswith("#") and "load_module" in conf and "daemon off;" in conf
    assert "location /control" in conf and "listen 127.0.0.1:" in conf


def test_conf_refuses_values_that_would_break_out_of_a_directive(tmp_path: Path) -> None:
    with pytest.raises(ValueError):
        render_conf(config(tmp_path / 'x";daemon on;"'))


def test_nginx_log_lines_lose_stream_names_but_keep_public_folders() -> None:
    line = (
        "2026/11/26 13:39:36 [info] 1#1: *6 publish: name='lsk_SECRETSECRET' args='k=v' "
        "type=live, client: 127.0.0.1"
    )
    assert "SECRET" not in redact_line(line) and "k=v" not in redact_line(line)
    assert "name='s12-0123456789ab'" in redact_line("push name='s12-0123456789ab' app=''")
    typo = redact_line("publish: name='my-old-key-from-elsewhere' type=live")
    assert "old-key" not in typo
    assert "s=[redacted]" in redact_line("notify: publish 'x/on_publish?s=0123abcd'")


@pytest.fixture
async def server() -> AsyncIterator[MediaServer]:
    problem = media_tools_missing()
    if problem:
        service_missing("nginx + RTMP module", f"missing {problem}")
    root = video_dir()
    exits: list[int] = []

    async def on_exit() -> None:
        exits.append(1)

    srv = MediaServer(config(root), on_exit=on_exit)
    srv.exits = exits  # type: ignore[attr-defined]
    await srv.start()
    try:
        yield srv
    finally:
        await srv.stop()
        shutil.rmtree(root, ignore_errors=True)


def alive(pid: int) -> bool:
    return Path(f"/proc/{pid}").exists()


async def rtmp_open(port: int) -> bool:
    try:
        _, writer = await asyncio.open_connection("127.0.0.1", port)
    except OSError:
        return False
    writer.close()
    return True


async def test_a_killed_media_server_is_restarted(server: MediaServer) -> None:
    assert await server.wait_ready(15)
    first = server.pid
    assert first is not None
    assert (server.config.hls_dir).is_dir()
    os.kill(first, signal.SIGKILL)  # a crash, not a shutdown: workers are orphaned

    async def back() -> bool:
        return server.pid not in (None, first) and server.ready.is_set()

    await eventually(back, within=15)
    assert server.restarts >= 1 and server.exits == [1]  # type: ignore[attr-defined]
    assert await rtmp_open(server.config.rtmp_port)  # the orphaned workers' port is free again


async def test_stop_leaves_no_nginx_behind(server: MediaServer) -> None:
    assert await server.wait_ready(15)
    pid = server.pid
    assert pid is not None
    await server.stop()
    assert not alive(pid)
    assert not await rtmp_open(server.config.rtmp_port)


async def test_without_the_rtmp_module_video_is_off_and_says_why(tmp_path: Path) -> None:
    settings = Settings(video_provider="embedded", video_dir=tmp_path)
    provider = EmbeddedProvider(settings)
    provider.config = replace(provider.config, module_path=tmp_path / "ngx_rtmp_module.so")
    await provider.start()
    assert provider.ingest is False and provider.ingest_url() is None
    assert provider.off_reason is not None and "libnginx-mod-rtmp" in provider.off_reason
    assert provider.server is None
    await provider.stop()
