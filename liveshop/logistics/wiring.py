"""``install_logistics(app, settings, db)``: the carriers, and the simulated carrier's clock
(started and stopped with the app), whose webhooks go through the same verification as
one POSTed to ``/api/v1/logistics/webhooks/simulated``."""

from __future__ import annotations

from fastapi import FastAPI

from liveshop.core.db import Database
from liveshop.core.settings import Settings
from liveshop.logistics.carriers import CARRIERS, SimulatedCarrier
from liveshop.logistics.signing import secret_for
from liveshop.logistics.simulator import SimulatedCarrierClock
from liveshop.logistics.sla import OverdueSweeper
from liveshop.logistics.webhooks import handle_tracking_webhook


def install_logistics(app: FastAPI, settings: Settings, db: Database) -> None:
    app.state.carriers = {
        **CARRIERS,
        SimulatedCarrier.code: SimulatedCarrier(settings.simulated_carrier_scenario or None),
    }
    secret = secret_for(settings.secret_key, SimulatedCarrier.code)

    async def deliver(body: bytes, headers: dict[str, str]) -> str:
        async with db.session() as session:
            return await handle_tracking_webhook(
                session,
                carrier=SimulatedCarrier.code,
                secret=secret,
                body=body,
                headers=headers,
                provider=app.state.payment_providers["sandbox"],
            )

    clock = SimulatedCarrierClock()
    sweeper = OverdueSweeper()

    async def start() -> None:
        if settings.simulated_carrier_seconds > 0:
            clock.start(db, secret, deliver, settings.simulated_carrier_seconds)
        if settings.dispatch_sweep_seconds > 0:
            provider = app.state.payment_providers["sandbox"]
            sweeper.start(db, provider, settings.dispatch_sweep_seconds)

    async def stop() -> None:
        await sweeper.stop()
        await clock.stop()

    app.state.start_logistics = start
    app.state.stop_logistics = stop
