"""Security headers on every response, and the pages' Content-Security-Policy.

The pages load only their own scripts (``/static/js``, ES modules, hls.js from
``/static/vendor``), no inline script or ``on…=`` handler and no ``style=`` attribute (the
stock bars are sized through the CSSOM: ``format.js`` ``fillBars``); JSON data islands
(``<script type="application/json">``) are not scripts and need no exception. So the policy
is ``'self'`` throughout, plus what the live room needs:

- ``media-src``/``connect-src``: the video's origin when HLS comes from another server or a
  CDN (``LIVESHOP_VIDEO_EXTERNAL_PLAYLIST_URL``/``…_REPLAY_URL``), and ``blob:`` for the
  media source hls.js feeds the ``<video>``; the room's WebSocket is same-origin
  (``'self'`` covers ``ws:``/``wss:`` to this host in CSP 3).
- ``worker-src blob:``: hls.js runs its demuxer in a worker built from a blob.
- ``img-src`` adds ``data:`` (small inline SVG icons) and any http(s) origin: a product's
  images may be URLs on the seller's own host or CDN (``catalog.schemas.ImageUrl``), and an
  image cannot run code.

Framing is refused (``frame-ancestors 'none'`` and ``X-Frame-Options: DENY``), MIME
sniffing is off, the referrer leaves the site as its origin only, and over HTTPS
(``LIVESHOP_COOKIE_SECURE``) browsers are told to keep to HTTPS. The interactive API docs
(``/docs``, ``/redoc``, FastAPI's pages built from a CDN with an inline script) are the one
exception and get no CSP.
"""

from __future__ import annotations

from urllib.parse import urlsplit

from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from liveshop.core.settings import Settings

UNGUARDED = ("/docs", "/redoc")


def _origin(url: str) -> str | None:
    parts = urlsplit(url)
    if parts.scheme in ("http", "https") and parts.netloc:
        return f"{parts.scheme}://{parts.netloc}"
    return None


def video_origins(settings: Settings) -> list[str]:
    """Where the room's HLS comes from when it is not this server."""
    urls = (settings.video_external_playlist_url, settings.video_external_replay_url)
    return sorted({o for o in map(_origin, urls) if o})


def content_security_policy(settings: Settings) -> str:
    video = " ".join(video_origins(settings))
    extra = f" {video}" if video else ""
    directives = [
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self' data: blob: https: http:",
        f"media-src 'self' blob:{extra}",
        f"connect-src 'self'{extra}",
        "worker-src 'self' blob:",
        "font-src 'self'",
        "object-src 'none'",
        "base-uri 'self'",
        "form-action 'self'",
        "frame-ancestors 'none'",
    ]
    return "; ".join(directives)


class SecurityHeaders:
    """Pure ASGI middleware (no per-request task or body buffering): adds the headers to
    each HTTP response's start message."""

    def __init__(self, app: ASGIApp, settings: Settings) -> None:
        self.app = app
        self.csp = content_security_policy(settings)
        self.hsts = settings.cookie_secure

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        guarded = not str(scope.get("path", "")).startswith(UNGUARDED)

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                headers.setdefault("X-Content-Type-Options", "nosniff")
                headers.setdefault("Referrer-Policy", "strict-origin-when-cross-origin")
                headers.setdefault("X-Frame-Options", "DENY")
                if guarded:
                    headers.setdefault("Content-Security-Policy", self.csp)
                if self.hsts:
                    headers.setdefault("Strict-Transport-Security", "max-age=31536000")
            await send(message)

        await self.app(scope, receive, send_with_headers)
