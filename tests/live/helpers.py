"""Builders and a WebSocket room client for the live-room tests."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Awaitable, Callable
from datetime import timedelta
from typing import Any

import httpx
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed

from liveshop.accounts.models import Role
from liveshop.core.clock import utcnow
from tests.support import Actor, MakeActor

TIMEOUT = 10.0


async def showcase_product(
    client: httpx.AsyncClient,
    seller: Actor,
    slug: str,
    *,
    allow_creators: bool = True,
    publish: bool = True,
    price_gb: int | None = 1899,
    title: str = "Rose Glow Serum 30 ml",
    plan: bool = True,
) -> dict[str, Any]:
    """A shop (made by ``seller``) with one product priced in GB (and VN), under an open
    affiliate plan (creators show products only under a plan) unless ``plan=False``."""
    shop = await client.post(
        "/api/v1/shops",
        json={"name": slug.title(), "slug": slug, "home_market": "GB"},
        headers=seller.headers,
    )
    assert shop.status_code == 201, shop.text
    shop_id = shop.json()["id"]
    if not allow_creators:
        resp = await client.patch(
            f"/api/v1/shops/{shop_id}", json={"allow_creators": False}, headers=seller.headers
        )
        assert resp.status_code == 200, resp.text
    prices = [{"market": "VN", "currency": "VND", "amount_minor": 349000, "is_available": True}]
    if price_gb is not None:
        prices.append(
            {"market": "GB", "currency": "GBP", "amount_minor": price_gb, "is_available": True}
        )
    body = {
        "title": title,
        "description": "A light serum.",
        "category": "beauty",
        "images": ["https://cdn.example.com/serum.jpg"],
        "skus": [{"code": f"{slug.upper()}-30", "attributes": {"size": "30 ml"}, "prices": prices}],
    }
    resp = await client.post(f"/api/v1/shops/{shop_id}/products", json=body, headers=seller.headers)
    assert resp.status_code == 201, resp.text
    product: dict[str, Any] = resp.json()
    if publish:
        pub = await client.post(f"/api/v1/products/{product['id']}/publish", headers=seller.headers)
        assert pub.status_code == 200, pub.text
    if plan:
        await affiliate_plan(client, seller, shop_id, product["id"])
    return product


async def affiliate_plan(
    client: httpx.AsyncClient,
    seller: Actor,
    shop_id: int,
    product_id: int,
    *,
    rate_bp: int = 1000,
    **terms: Any,
) -> dict[str, Any]:
    """An affiliate plan on one product (open by default; ``kind=``, ``creator_ids=``,
    ``valid_from=``, ``valid_until=`` as the API takes them)."""
    body = {"kind": "open", "items": [{"product_id": product_id, "rate_bp": rate_bp}], **terms}
    resp = await client.post(
        f"/api/v1/shops/{shop_id}/affiliate-plans", json=body, headers=seller.headers
    )
    assert resp.status_code == 201, resp.text
    made: dict[str, Any] = resp.json()
    return made


async def new_session(
    client: httpx.AsyncClient,
    creator: Actor,
    product_ids: list[int],
    *,
    market: str = "GB",
    start: bool = False,
) -> dict[str, Any]:
    body = {
        "title": "Friday glow-up",
        "market": market,
        "planned_start": (utcnow() + timedelta(hours=1)).isoformat(),
        "planned_duration_minutes": 60,
        "product_ids": product_ids,
    }
    resp = await client.post("/api/v1/live/sessions", json=body, headers=creator.headers)
    assert resp.status_code == 201, resp.text
    session: dict[str, Any] = resp.json()
    if start:
        started = await client.post(
            f"/api/v1/live/sessions/{session['id']}/start", headers=creator.headers
        )
        assert started.status_code == 200, started.text
        session = {**session, **started.json()}
    return session


async def live_room_with_stock(
    http: httpx.AsyncClient, make_actor: MakeActor, *, stock: int, slug: str
) -> tuple[Actor, dict[str, Any], int, int]:
    """A started live session showing one new product with ``stock`` units received:
    (its creator, the session, the SKU, the product)."""
    seller = await make_actor(Role.SELLER)
    creator = await make_actor(Role.CREATOR)
    product = await showcase_product(http, seller, slug)
    sku_id = product["skus"][0]["id"]
    got = await http.post(
        f"/api/v1/skus/{sku_id}/stock/receive",
        json={"quantity": stock, "reason": "launch"},
        headers=seller.headers,
    )
    assert got.status_code == 200, got.text
    live = await new_session(http, creator, [product["id"]], start=True)
    return creator, live, sku_id, product["id"]


async def eventually(
    check: Callable[[], Awaitable[bool]], within: float = TIMEOUT, every: float = 0.02
) -> None:
    """Wait until ``check()`` is true (for things that take time by design, like expiry)."""
    async with asyncio.timeout(within):
        while True:
            if await check():
                return
            await asyncio.sleep(every)


class RoomClient:
    """A real WebSocket viewer: keeps every event it got, in order, and the last seq."""

    def __init__(self, ws: ClientConnection) -> None:
        self.ws = ws
        self.events: list[dict[str, Any]] = []
        self.objects: list[dict[str, Any]] = []  # snapshots and errors
        self.last_seq = 0
        self._cursor = {"events": 0, "objects": 0}

    @classmethod
    async def open(
        cls, base: str, session_id: int, *, token: str | None = None, since: int | None = None
    ) -> RoomClient:
        query = []
        if token:
            query.append(f"token={token}")
        if since is not None:
            query.append(f"since={since}")
        url = f"{base}/ws/live/{session_id}" + ("?" + "&".join(query) if query else "")
        ws = await connect(url, compression=None, max_size=2**22, open_timeout=TIMEOUT)
        return cls(ws)

    async def send(self, frame: dict[str, Any] | str | bytes) -> None:
        await self.ws.send(frame if isinstance(frame, str | bytes) else json.dumps(frame))

    async def frame(self, within: float = TIMEOUT) -> Any:
        """The next frame, parsed; events are recorded, snapshots and errors kept aside."""
        data = json.loads(await asyncio.wait_for(self.ws.recv(), within))
        if isinstance(data, list):
            for ev in data:
                if "seq" in ev:
                    assert ev["seq"] > self.last_seq, (ev, self.last_seq)
                    self.last_seq = ev["seq"]
                elif ev.get("type") == "skipped":
                    self.last_seq = max(self.last_seq, ev["through"])
                self.events.append(ev)
        else:
            self.objects.append(data)
            if data.get("type") == "snapshot":
                self.last_seq = data["seq"]
        return data

    async def snapshot(self) -> dict[str, Any]:
        data = await self.frame()
        assert isinstance(data, dict) and data["type"] == "snapshot", data
        return data

    async def until(self, kind: str, within: float = TIMEOUT, **match: Any) -> dict[str, Any]:
        """The next event (or error object) of ``kind`` matching ``match``, after the one
        the previous ``until`` returned; reads frames as needed."""

        def matches(ev: dict[str, Any]) -> bool:
            return ev.get("type") == kind and all(ev.get(k) == v for k, v in match.items())

        async def _wait() -> dict[str, Any]:
            while True:
                for name in ("events", "objects"):
                    items = getattr(self, name)
                    start = self._cursor[name]
                    for i in range(start, len(items)):
                        if matches(items[i]):
                            self._cursor[name] = i + 1
                            return dict(items[i])
                await self.frame(within)

        return await asyncio.wait_for(_wait(), within)

    async def count(self, kind: str, n: int, within: float = TIMEOUT) -> list[dict[str, Any]]:
        """Read until ``n`` events of ``kind`` have arrived in all; returns them."""

        async def _wait() -> list[dict[str, Any]]:
            while True:
                got = [e for e in self.events if e.get("type") == kind]
                if len(got) >= n:
                    return got
                await self.frame(within)

        return await asyncio.wait_for(_wait(), within)

    async def closed(self, within: float = TIMEOUT) -> tuple[int, str]:
        """Read until the server closes; (code, reason)."""

        async def _wait() -> tuple[int, str]:
            try:
                while True:
                    await self.frame(within)
            except ConnectionClosed as exc:
                assert exc.rcvd is not None, "closed without a close frame"
                return exc.rcvd.code, exc.rcvd.reason

        return await asyncio.wait_for(_wait(), within)

    def seqs(self, kind: str | None = None) -> list[int]:
        return [e["seq"] for e in self.events if "seq" in e and (kind is None or e["type"] == kind)]

    async def close(self) -> None:
        await self.ws.close()
