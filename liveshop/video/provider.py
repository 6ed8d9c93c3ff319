"""Where video comes in and goes out: ``LIVESHOP_VIDEO_PROVIDER`` = embedded | external | off.

- ``embedded`` (default): nginx + RTMP module next to the app (``media_server.py``); HLS
  lands in ``<video_dir>/hls/<folder>/`` and liveshop serves it at ``/video/{id}/…``.
- ``external``: another RTMP/HLS server or a CDN does the media work. It asks liveshop
  about keys through the same callbacks (nginx-rtmp ``on_publish``/``on_publish_done``
  pointing at ``/internal/video/…``) and players load the URLs built from
  ``LIVESHOP_VIDEO_EXTERNAL_PLAYLIST_URL`` / ``…_REPLAY_URL`` (``{stream}`` = the public
  stream name on_publish returned, ``{session_id}``).
- ``off``: no video; on_publish refuses everyone.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import hmac
import os
from abc import ABC, abstractmethod
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import IO, Any

import structlog

from liveshop.core.settings import Settings
from liveshop.video.hls import LIVE_PLAYLIST, REPLAY_PLAYLIST, safe_path
from liveshop.video.media_server import MediaServer, NginxConfig, missing_tools
from liveshop.video.thumbnails import ffmpeg_missing

log = structlog.get_logger("liveshop.video")


def callback_secret(settings: Settings) -> str:
    """Proof that a callback comes from the media server we configured."""
    mac = hmac.new(settings.secret_key.encode(), b"video-callbacks", hashlib.sha256)
    return mac.hexdigest()[:32]


def rtmp_url(settings: Settings) -> str:
    if settings.video_rtmp_url:
        return settings.video_rtmp_url.rstrip("/")
    host = settings.host if settings.host not in ("0.0.0.0", "::", "") else "127.0.0.1"
    return f"rtmp://{host}:{settings.rtmp_port}/live"


class VideoProvider(ABC):
    name: str = ""
    ingest: bool = False  # True once encoders can publish through this provider
    local_dir: Path | None = None  # HLS folders on this machine's disk (embedded)
    off_reason: str | None = None

    async def start(self) -> None:  # noqa: B027 - most providers run nothing
        """Start what the provider runs (never raises: video off is logged, not fatal)."""

    async def stop(self) -> None:  # noqa: B027
        """Stop what ``start`` started."""

    def ingest_url(self) -> str | None:
        """The server URL an encoder publishes to (the stream key goes separately)."""
        return None

    @abstractmethod
    def playlist_url(self, session_id: int, folder: str) -> str | None: ...

    @abstractmethod
    def replay_url(self, session_id: int, folder: str) -> str | None: ...

    def playlist_ready(self, folder: str) -> bool:
        """The live playlist lists a segment (blocking: a file read for the embedded one)."""
        return True

    def poster_source(self, session_id: int, folder: str) -> str | None:
        """What ffmpeg reads a poster frame from when there is no local segment."""
        return None

    async def drop_publisher(self, folder: str) -> bool:
        """Disconnect the encoder publishing ``folder`` (best effort)."""
        return False

    def status(self) -> dict[str, Any]:
        return {"provider": self.name, "ingest": self.ingest, "off_reason": self.off_reason}


class OffProvider(VideoProvider):
    name = "off"
    off_reason = "LIVESHOP_VIDEO_PROVIDER=off"

    def playlist_url(self, session_id: int, folder: str) -> str | None:
        return None

    def replay_url(self, session_id: int, folder: str) -> str | None:
        return None


class EmbeddedProvider(VideoProvider):
    name = "embedded"

    def __init__(
        self, settings: Settings, *, on_media_exit: Callable[[], Awaitable[None]] | None = None
    ) -> None:
        self.settings = settings
        video_dir = settings.video_dir.resolve()
        self.local_dir = video_dir / "hls"
        callback = settings.video_callback_url or f"http://127.0.0.1:{settings.port}"
        self.config = NginxConfig(
            video_dir=video_dir,
            callback_base=callback,
            callback_secret=callback_secret(settings),
            rtmp_bind=settings.host,
            rtmp_port=settings.rtmp_port,
            http_port=settings.video_http_port,
        )
        self.server: MediaServer | None = None
        self.on_media_exit = on_media_exit
        self._lock: IO[bytes] | None = None

    async def start(self) -> None:
        missing = missing_tools(self.config.nginx_bin, self.config.module_path)
        if missing:
            self.off_reason = "not installed: " + ", ".join(missing)
            log.warning(
                "VIDEO IS OFF: the media server is not installed — run `make system-deps` "
                "as root (installs nginx, libnginx-mod-rtmp, ffmpeg)",
                missing=missing,
            )
            return
        if ffmpeg_missing():
            log.warning("ffmpeg is not installed: no posters (thumbnails) for sessions")
        if not self._take_lock():
            # Another worker of this deployment runs nginx; callbacks reach any worker.
            log.info("media server is run by another process of this app")
            self.ingest = True
            return
        self.server = MediaServer(self.config, on_exit=self.on_media_exit)
        await self.server.start()
        self.ingest = True
        log.info(
            "video ingest on",
            rtmp=rtmp_url(self.settings),
            hls_dir=str(self.local_dir),
        )

    def _take_lock(self) -> bool:
        self.config.video_dir.mkdir(parents=True, exist_ok=True)
        f = (self.config.video_dir / "media-server.lock").open("wb")
        try:
            fcntl.flock(f, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            f.close()
            return False
        self._lock = f
        return True

    async def stop(self) -> None:
        if self.server is not None:
            await self.server.stop()
            self.server = None
        if self._lock is not None:
            with contextlib.suppress(OSError):
                fcntl.flock(self._lock, fcntl.LOCK_UN)
            self._lock.close()
            self._lock = None
        self.ingest = False

    def ingest_url(self) -> str | None:
        return rtmp_url(self.settings) if self.ingest else None

    def playlist_url(self, session_id: int, folder: str) -> str | None:
        return f"/video/{session_id}/{LIVE_PLAYLIST}"

    def replay_url(self, session_id: int, folder: str) -> str | None:
        return f"/video/{session_id}/{REPLAY_PLAYLIST}"

    def playlist_ready(self, folder: str) -> bool:
        path = safe_path(self.local_dir, folder, LIVE_PLAYLIST) if self.local_dir else None
        try:
            return path is not None and "#EXTINF" in path.read_text(encoding="utf-8")
        except OSError:
            return False

    async def drop_publisher(self, folder: str) -> bool:
        """nginx's rtmp_control: ``/control/drop/publisher?app=live&name=<folder>``."""
        import asyncio

        port = self.config.http_port
        if not port:
            return False
        request = (
            f"GET /control/drop/publisher?app=live&name={folder} HTTP/1.0\r\n"
            "Host: 127.0.0.1\r\n\r\n"
        ).encode()
        try:
            async with asyncio.timeout(3):
                reader, writer = await asyncio.open_connection("127.0.0.1", port)
                writer.write(request)
                await writer.drain()
                answer = await reader.read()
                writer.close()
        except (OSError, TimeoutError):
            return False
        return answer.startswith(b"HTTP/1.1 200") or answer.startswith(b"HTTP/1.0 200")

    def status(self) -> dict[str, Any]:
        running = self.server is not None and self.server.ready.is_set()
        return {**super().status(), "media_server_running": running, "pid": os.getpid()}


class ExternalProvider(VideoProvider):
    name = "external"

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.ingest = bool(settings.video_rtmp_url and settings.video_external_playlist_url)
        if not self.ingest:
            self.off_reason = (
                "external video needs LIVESHOP_VIDEO_RTMP_URL and "
                "LIVESHOP_VIDEO_EXTERNAL_PLAYLIST_URL"
            )

    async def start(self) -> None:
        if not self.ingest:
            log.warning("VIDEO IS OFF", reason=self.off_reason)
            return
        path = self.write_callbacks()
        log.info("external video: include the callbacks in its nginx-rtmp", file=str(path))

    def write_callbacks(self) -> Path:
        """The directives the external nginx-rtmp ``application`` needs (0600: a secret)."""
        s = self.settings
        base = (s.video_callback_url or f"http://127.0.0.1:{s.port}").rstrip("/")
        secret = callback_secret(s)
        text = (
            "# Written by liveshop: include in the nginx-rtmp application encoders publish to.\n"
            "notify_method post;\n"
            f"on_publish {base}/internal/video/on_publish?s={secret};\n"
            f"on_publish_done {base}/internal/video/on_publish_done?s={secret};\n"
        )
        s.video_dir.mkdir(parents=True, exist_ok=True)
        path = s.video_dir / "external-callbacks.conf"
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as f:
            f.write(text)
        return path

    def ingest_url(self) -> str | None:
        return self.settings.video_rtmp_url.rstrip("/") or None

    @staticmethod
    def _fill(template: str, session_id: int, folder: str) -> str | None:
        if not template:
            return None
        return template.replace("{stream}", folder).replace("{session_id}", str(session_id))

    def playlist_url(self, session_id: int, folder: str) -> str | None:
        return self._fill(self.settings.video_external_playlist_url, session_id, folder)

    def replay_url(self, session_id: int, folder: str) -> str | None:
        return self._fill(self.settings.video_external_replay_url, session_id, folder)

    def poster_source(self, session_id: int, folder: str) -> str | None:
        url = self.playlist_url(session_id, folder)
        return url if url and url.startswith(("http://", "https://")) else None


def make_provider(
    settings: Settings, *, on_media_exit: Callable[[], Awaitable[None]] | None = None
) -> VideoProvider:
    if settings.video_provider == "embedded":
        return EmbeddedProvider(settings, on_media_exit=on_media_exit)
    if settings.video_provider == "external":
        return ExternalProvider(settings)
    return OffProvider()
