"""Builders for the video tests: a creator with a showcase product and a session."""

from __future__ import annotations

import asyncio
import os
import shutil
import socket
import tempfile
from collections.abc import Awaitable, Callable
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx

from liveshop.core.clock import utcnow
from liveshop.video.media_server import missing_tools
from tests.support import Actor

TIMEOUT = 15.0


def media_tools_missing() -> str | None:
    """Why the real media-server tests cannot run here (None: they can)."""
    missing = missing_tools()
    missing += [
        f"{tool} (Debian package ffmpeg)"
        for tool in ("ffmpeg", "ffprobe")
        if shutil.which(tool) is None
    ]
    return ", ".join(missing) or None


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def video_dir() -> Path:
    """A runtime folder nginx's workers (``nobody`` when we are root) can reach:
    pytest's tmp_path is 0700 all the way down."""
    path = Path(tempfile.mkdtemp(prefix="liveshop-video-"))
    os.chmod(path, 0o755)
    return path


async def eventually(
    check: Callable[[], Awaitable[bool]], within: float = TIMEOUT, every: float = 0.05
) -> None:
    """Poll ``check`` until it is true; TimeoutError after ``within`` seconds."""
    async with asyncio.timeout(within):
        while True:
            if await check():
                return
            await asyncio.sleep(every)


async def product(client: httpx.AsyncClient, seller: Actor, slug: str, price: int = 1899) -> int:
    """A published product of a new shop, priced in GB, that creators may sell (under an
    open affiliate plan)."""
    shop = await client.post(
        "/api/v1/shops",
        json={"name": slug.title(), "slug": slug, "home_market": "GB"},
        headers=seller.headers,
    )
    assert shop.status_code == 201, shop.text
    body = {
        "title": f"{slug.title()} serum",
        "description": "A light serum.",
        "category": "beauty",
        "images": ["https://cdn.example.com/serum.jpg"],
        "skus": [
            {
                "code": f"{slug.upper()}-30",
                "attributes": {"size": "30 ml"},
                "prices": [
                    {"market": "GB", "currency": "GBP", "amount_minor": price, "is_available": True}
                ],
            }
        ],
    }
    resp = await client.post(
        f"/api/v1/shops/{shop.json()['id']}/products", json=body, headers=seller.headers
    )
    assert resp.status_code == 201, resp.text
    pid: int = resp.json()["id"]
    pub = await client.post(f"/api/v1/products/{pid}/publish", headers=seller.headers)
    assert pub.status_code == 200, pub.text
    plan = await client.post(  # creators show products only under an affiliate plan
        f"/api/v1/shops/{shop.json()['id']}/affiliate-plans",
        json={"kind": "open", "items": [{"product_id": pid, "rate_bp": 1000}]},
        headers=seller.headers,
    )
    assert plan.status_code == 201, plan.text
    return pid


async def session(
    client: httpx.AsyncClient, creator: Actor, product_ids: list[int], *, start: bool = False
) -> dict[str, Any]:
    body = {
        "title": "Friday glow-up",
        "market": "GB",
        "planned_start": (utcnow() + timedelta(minutes=10)).isoformat(),
        "planned_duration_minutes": 60,
        "product_ids": product_ids,
    }
    resp = await client.post("/api/v1/live/sessions", json=body, headers=creator.headers)
    assert resp.status_code == 201, resp.text
    out: dict[str, Any] = resp.json()
    if start:
        started = await client.post(
            f"/api/v1/live/sessions/{out['id']}/start", headers=creator.headers
        )
        assert started.status_code == 200, started.text
        out.update(started.json())
    return out


async def new_key(client: httpx.AsyncClient, creator: Actor) -> str:
    resp = await client.post("/api/v1/video/stream-key/rotate", headers=creator.headers)
    assert resp.status_code == 200, resp.text
    key: str = resp.json()["stream_key"]
    return key
