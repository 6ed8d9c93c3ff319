"""create_app(settings) -> FastAPI: wires routers, error handlers and the lifespan."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi

import liveshop.models  # noqa: F401  (registers every table)
from liveshop.accounts.audit_router import router as audit_router
from liveshop.accounts.router import router as accounts_router
from liveshop.addresses.router import router as addresses_router
from liveshop.affiliates.router import router as affiliates_router
from liveshop.analytics.router import router as analytics_router
from liveshop.analytics.wiring import install_analytics, start_analytics, stop_analytics
from liveshop.catalog.router import router as catalog_router
from liveshop.chat.filter_router import router as chat_filter_router
from liveshop.chat.router import router as chat_router
from liveshop.chat.wiring import install_chat
from liveshop.core.db import Database
from liveshop.core.errors import install_error_handlers
from liveshop.core.gc_tuning import tune_for_serving
from liveshop.core.logging import configure_logging
from liveshop.core.ratelimit import RateLimiter
from liveshop.core.settings import Settings, get_settings
from liveshop.creators.router import router as creators_router
from liveshop.health import router as health_router
from liveshop.helpdesk.router import router as helpdesk_router
from liveshop.helpdesk.wiring import install_helpdesk
from liveshop.inventory.router import router as inventory_router
from liveshop.inventory.sweeper import ReservationSweeper
from liveshop.ledger.router import router as ledger_router
from liveshop.live.auctions.router import router as auctions_router
from liveshop.live.auctions.wiring import install_auctions
from liveshop.live.deals.claims_router import router as claims_router
from liveshop.live.deals.router import router as deals_router
from liveshop.live.deals.wiring import install_deals, start_deals
from liveshop.live.follows.router import router as follows_router
from liveshop.live.giveaways.router import router as giveaways_router
from liveshop.live.giveaways.wiring import install_engagement
from liveshop.live.polls.router import router as polls_router
from liveshop.live.router import router as live_router
from liveshop.live.wiring import install_live
from liveshop.logistics.router import router as logistics_router
from liveshop.logistics.wiring import install_logistics
from liveshop.markets.router import router as markets_router
from liveshop.metrics import install_metrics
from liveshop.notices.wiring import install_notices
from liveshop.orders.address_router import router as order_address_router
from liveshop.orders.cards_router import router as cards_router
from liveshop.orders.notify import OrderNotifier
from liveshop.orders.payment_recovery import PaymentRecovery
from liveshop.orders.payments.provider import PaymentProvider
from liveshop.orders.payments.sandbox import SandboxProvider
from liveshop.orders.router import router as orders_router
from liveshop.orders.sweeper import UnpaidOrderSweeper
from liveshop.orders.webhooks import handle_webhook
from liveshop.payouts.router import router as payouts_router
from liveshop.promotions.router import router as promotions_router
from liveshop.realtime.wiring import shutdown_realtime
from liveshop.video.demo_push import DemoPusher
from liveshop.video.router import router as video_router
from liveshop.video.wiring import install_video, start_video, stop_video
from liveshop.web.install import install_web
from liveshop.wiring import install_domain_events

PROBLEM_SCHEMA: dict[str, Any] = {
    "type": "object",
    "description": "RFC 9457 problem details",
    "properties": {
        "type": {"type": "string", "format": "uri"},
        "title": {"type": "string"},
        "status": {"type": "integer"},
        "detail": {"type": "string"},
        "instance": {"type": "string"},
    },
    "required": ["type", "title", "status"],
}


def create_app(settings: Settings | None = None, *, database: Database | None = None) -> FastAPI:
    settings = settings or get_settings()
    settings.refuse_insecure_production()
    install_domain_events()
    configure_logging(settings.log_level, json=settings.log_json)
    db = database or Database(settings.database_url)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        sweeper = ReservationSweeper()
        unpaid = UnpaidOrderSweeper()
        recovery = PaymentRecovery()
        if settings.reservation_sweep_seconds > 0:
            sweeper.start(db, settings.reservation_sweep_seconds)
            unpaid.start(db, settings.reservation_sweep_seconds)
        if settings.payment_recovery_seconds > 0:
            recovery.start(
                db,
                list(providers.values()),
                settings.payment_recovery_seconds,
                notifier=order_notifier,
            )
        start_deals(app)
        app.state.auction_clock.start()
        await app.state.start_logistics()
        await app.state.start_notices()
        await start_analytics(app)
        app.state.metrics_sampler.start()
        await start_video(app)  # the media server (RTMP ingest → HLS); never fails startup
        demo_video = DemoPusher(app)
        if settings.demo_video:
            demo_video.start()
        if settings.gc_freeze:
            tune_for_serving()
        yield
        await demo_video.stop()
        await stop_video(app)
        await app.state.deal_clock.stop()
        await app.state.auction_clock.stop()
        await app.state.room_counts.stop()
        await app.state.stop_logistics()
        await app.state.stop_notices()
        await stop_analytics(app)
        await app.state.metrics_sampler.stop()
        await shutdown_realtime(app)
        await recovery.stop()
        await unpaid.stop()
        await sweeper.stop()
        sandbox.cancel_all()
        if database is None:
            await db.dispose()

    app = FastAPI(
        title="liveshop",
        version="0.1.0",
        description="Live-shopping platform API. Errors are RFC 9457 problem+json.",
        lifespan=lifespan,
    )
    app.state.settings = settings
    app.state.db = db
    sandbox = SandboxProvider(
        settings.webhook_secret(),
        delay_s=settings.sandbox_webhook_delay_s,
        db=db,
        pause_file=Path(settings.sandbox_pause_file) if settings.sandbox_pause_file else None,
    )
    order_notifier = OrderNotifier()
    app.state.order_notifier = order_notifier

    async def deliver_sandbox_webhook(body: bytes, headers: dict[str, str]) -> None:
        # Same verification and processing as a webhook POSTed over HTTP.
        async with db.session() as session:
            await handle_webhook(session, sandbox, body, headers, notifier=order_notifier)

    sandbox.deliver = deliver_sandbox_webhook
    providers: dict[str, PaymentProvider] = {sandbox.name: sandbox}
    app.state.payment_providers = providers
    install_error_handlers(app)
    hub = install_live(app, settings, db)
    install_chat(app, hub, db)
    install_helpdesk(app, hub, db)
    install_video(app, settings, db)
    app.state.rate_limiter = RateLimiter.from_settings(app.state.broker, settings)
    install_deals(app, db, hub)
    install_auctions(app, db, hub)
    install_engagement(app)
    install_logistics(app, settings, db)
    install_notices(app, settings, db)
    install_analytics(app, settings, db, hub)
    for router in (
        health_router,
        accounts_router,
        audit_router,
        markets_router,
        catalog_router,
        inventory_router,
        orders_router,
        cards_router,
        addresses_router,
        order_address_router,
        logistics_router,
        ledger_router,
        live_router,
        video_router,
        deals_router,
        claims_router,
        auctions_router,
        giveaways_router,
        polls_router,
        follows_router,
        chat_router,
        chat_filter_router,
        helpdesk_router,
        affiliates_router,
        promotions_router,
        creators_router,
        payouts_router,
        analytics_router,
    ):
        app.include_router(router)
    install_web(app)  # pages and /static
    install_metrics(app)  # /metrics, request timing

    def openapi() -> dict[str, Any]:
        if app.openapi_schema:
            return app.openapi_schema
        schema = get_openapi(
            title=app.title, version=app.version, description=app.description, routes=app.routes
        )
        schema.setdefault("components", {}).setdefault("schemas", {})["Problem"] = PROBLEM_SCHEMA
        app.openapi_schema = schema
        return schema

    app.openapi = openapi  # type: ignore[method-assign]
    return app
