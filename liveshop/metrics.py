"""``GET /metrics``: the node's operations metrics in Prometheus' text format.

Request latency by route template (a pure ASGI middleware: ``RequestTimer``), rooms and
sockets, fan-out lag, comment intake, claims and payments (counters: Prometheus' ``rate()``
makes them per second), the database pool, the event loop's lag and the background loops'
health (the analytics rollup, the capture writer). Gauges are sampled once a second by
``MetricsSampler`` in every process; with ``PROMETHEUS_MULTIPROC_DIR`` set (``liveshop serve
--workers N`` sets it) a scrape sums every worker's. Who may scrape: a client on this
machine's loopback that did not come through a proxy, or anyone sending
``Authorization: Bearer <LIVESHOP_METRICS_TOKEN>`` when that setting is set (403 otherwise).
"""

from __future__ import annotations

import asyncio
import contextlib
import hmac
import ipaddress
import os
import time
from typing import Annotated, Any

from fastapi import APIRouter, Depends, FastAPI, Request, Response
from prometheus_client import CONTENT_TYPE_LATEST, REGISTRY, CollectorRegistry, generate_latest
from prometheus_client.multiprocess import MultiProcessCollector
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from liveshop.accounts.deps import ACCESS_MARK
from liveshop.core import metrics as m
from liveshop.core.errors import Forbidden
from liveshop.core.i18n import gettext
from liveshop.core.settings import Settings

router = APIRouter(tags=["operations"])


def _registry() -> Any:
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        registry = CollectorRegistry()
        MultiProcessCollector(registry)
        return registry
    return REGISTRY


PROXY_HEADERS = ("forwarded", "x-forwarded-for", "x-real-ip")


def _loopback(host: str) -> bool:
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


async def scraper(request: Request) -> None:
    """The metrics are for this machine's scraper, or one holding the metrics token."""
    settings: Settings = request.app.state.settings
    token = settings.metrics_token
    sent = request.headers.get("authorization", "")
    if token and hmac.compare_digest(sent.encode(), f"Bearer {token}".encode()):
        return
    host = request.client.host if request.client is not None else ""
    if _loopback(host) and not any(h in request.headers for h in PROXY_HEADERS):
        return
    raise Forbidden(
        gettext("metrics are for the local scraper or a holder of the metrics token"),
        code="metrics-forbidden",
    )


setattr(scraper, ACCESS_MARK, "internal")


@router.get("/metrics", response_class=Response, include_in_schema=False)
async def metrics(_: Annotated[None, Depends(scraper)]) -> Response:
    return Response(generate_latest(_registry()), media_type=CONTENT_TYPE_LATEST)


class RequestTimer:
    """Times every HTTP request, labelled by its route's path template (``/api/v1/orders/
    {order_id}``, never the raw path: a label per id would grow without end)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status = [500]

        async def sending(message: Message) -> None:
            if message["type"] == "http.response.start":
                status[0] = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, sending)
        finally:
            route = scope.get("route")
            path = getattr(route, "path", None)
            if path is None:
                endpoint = scope.get("endpoint")
                path = getattr(endpoint, "__name__", "unmatched") if endpoint else "unmatched"
            if path != "/metrics":
                m.REQUESTS.labels(scope.get("method", ""), path, str(status[0])).observe(
                    time.perf_counter() - started
                )


class MetricsSampler:
    """Once a second: rooms, sockets, pool, capture, loops; and how late the loop ran."""

    def __init__(self, app: FastAPI, interval_s: float = 0.5) -> None:
        self.app = app
        self.interval_s = interval_s
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        self._task = asyncio.get_running_loop().create_task(self._run(), name="metrics")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await self._task

    async def _run(self) -> None:
        loop = asyncio.get_running_loop()
        while True:
            before = loop.time()
            await asyncio.sleep(self.interval_s)
            m.LOOP_LAG.set(max(loop.time() - before - self.interval_s, 0.0))
            with contextlib.suppress(Exception):
                self.sample()

    def sample(self) -> None:
        state = self.app.state
        hub = getattr(state, "hub", None)
        if hub is not None:
            m.ROOMS.set(len(hub.rooms))
            m.SOCKETS.set(hub.total_conns())
            m.SOCKETS_DROPPED.set(hub.dropped + sum(r.dropped for r in hub.rooms.values()))
        pool = state.db.engine.sync_engine.pool
        with contextlib.suppress(Exception):
            m.DB_POOL_IN_USE.set(pool.checkedout())
            m.DB_POOL_SIZE.set(pool.size())
        capture = getattr(state, "analytics", None)
        if capture is not None:
            m.CAPTURE_WAITING.set(capture.waiting)
            m.CAPTURE_WRITTEN.set(capture.written)
            m.CAPTURE_DROPPED.set(capture.dropped)
        loop = getattr(state, "analytics_loop", None)
        now = asyncio.get_running_loop().time()
        if loop is not None:
            age = -1.0 if loop.last_run_at is None else now - loop.last_run_at
            m.LOOP_AGE.labels("analytics_rollup").set(age)
            m.LOOP_FAILURES.labels("analytics_rollup").set(loop.failures)


def install_metrics(app: FastAPI) -> MetricsSampler:
    app.add_middleware(RequestTimer)
    app.include_router(router)
    sampler = MetricsSampler(app)
    app.state.metrics_sampler = sampler
    return sampler
