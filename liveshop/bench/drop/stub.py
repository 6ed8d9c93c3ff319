"""Stand-ins for the drop's endpoints, for testing the harness on a server without them.

Mounted only when the server process runs with ``LIVESHOP_BENCH_DROP_STUB=1``, and only
the routes the app does not have: a claim is today's room checkout (``buy_in_room``, an
order holding one unit: the claim id is the order id), paying it pays that order, the ping
answers a constant. Same wire shapes as the real endpoints, none of their speed."""

from __future__ import annotations

import uuid
from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse
from fastapi.routing import APIRoute

from liveshop.accounts.deps import BuyerPrincipal, CurrentPrincipal, SessionDep
from liveshop.live import service as live
from liveshop.live.deals import service as deals
from liveshop.orders import payment_flow
from liveshop.orders.payments.provider import CardDetails
from liveshop.orders.router import notifier_of, provider_of


def _has(app: FastAPI, path: str) -> bool:
    return any(isinstance(r, APIRoute) and r.path == path for r in app.router.routes)


def install_stub(app: FastAPI) -> None:
    if not _has(app, "/api/v1/drops/ping"):

        async def ping(principal: CurrentPrincipal) -> dict[str, Any]:
            return {"ok": True}

        app.add_api_route("/api/v1/drops/ping", ping, methods=["POST"])

    if not _has(app, "/api/v1/live/deals/{deal_id}/claim"):

        async def claim(
            deal_id: int, principal: BuyerPrincipal, session: SessionDep
        ) -> JSONResponse:
            deal = await deals.get_deal(session, deal_id)
            room = await live.get_session(session, deal.session_id)
            placed = await deals.buy_in_room(
                session,
                room,
                buyer_id=principal.user_id,
                sku_id=deal.sku_id,
                quantity=1,
                idempotency_key=f"stub-claim-{uuid.uuid4().hex}",
                deal_id=deal_id,
            )
            body = {
                "status": "held",
                "claim_id": placed.order.id,
                "deal_id": deal_id,
                "quantity": 1,
                "expires_at": "",
                "pay_within_s": 600,
            }
            return JSONResponse(body, status_code=201)

        app.add_api_route("/api/v1/live/deals/{deal_id}/claim", claim, methods=["POST"])

    if not _has(app, "/api/v1/live/claims/{claim_id}/pay"):

        async def pay(
            claim_id: int, request: Request, principal: BuyerPrincipal, session: SessionDep
        ) -> JSONResponse:
            body = await request.json()
            order = await payment_flow.pay_order(
                session,
                provider_of(request),
                order_id=claim_id,
                buyer_id=principal.user_id,
                card=CardDetails(str(body["card_number"])),
                notifier=notifier_of(request),
            )
            return JSONResponse({"id": order.id, "status": str(order.status)}, status_code=201)

        app.add_api_route("/api/v1/live/claims/{claim_id}/pay", pay, methods=["POST"])
