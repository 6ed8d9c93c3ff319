"""One-tap pay over the room's socket: a ``pay`` frame pays a held claim with the buyer's
default saved card, in the node's pay desk batch (``pay_desk``), and is answered on the same
socket (``pay_result``).

Frame: ``{"type": "pay", "claim_id": n, "kind": "deal" | "shelf", "expected_total_minor": n,
"ref": …}`` (``kind`` defaults to ``deal``; ``expected_total_minor`` is optional: the total
the buyer was shown, any other is refused as ``price-changed``). Answer: ``{"type":
"pay_result", "ref", "order_id", "status", "total_minor", "currency", "display_total"}`` — or
``{"error": {"code", "detail", …}}`` with the codes ``POST /api/v1/live/claims/{id}/pay``
answers (``no-default-card``, ``claim-not-held``, ``price-changed``, ``payment-declined``…).

The same checks as the HTTP route: the token from the node's cache (a revoked one stops within
a second), the buyer role, the claim the caller's own; what the batch cannot pay goes the
single way (``PayDesk.pay_now``). In the room, the socket is already open and signed in: no
HTTP request, no router, no per-request dependency graph — the cheaper path for the drop's
winners, who all pay within seconds of each other (``liveshop bench drop --pay-via ws``).
"""

from __future__ import annotations

from typing import Any

import structlog

from liveshop.accounts.token_cache import TokenCache
from liveshop.core.errors import Problem
from liveshop.core.i18n import gettext as _
from liveshop.live.deals.desk import MAX_ID, is_buyer
from liveshop.live.deals.pay_desk import ClaimKind, PayClaim, PayDesk
from liveshop.markets.service import display_price
from liveshop.realtime.ports import Tapper

log = structlog.get_logger("liveshop.live.deals.room_pay")

MAX_TOTAL = 2**62
KINDS = {"deal": ClaimKind.DEAL, "shelf": ClaimKind.SHELF}


def _error(code: str, detail: str, **extra: Any) -> dict[str, Any]:
    return {"error": {"code": code, "detail": detail, **extra}}


def _jsonable(value: Any) -> bool:
    return value is None or isinstance(value, str | int | float | bool)


def _bad(frame: dict[str, Any]) -> dict[str, Any] | None:
    """Why the frame cannot be a payment (None: it can)."""
    claim_id = frame.get("claim_id")
    if isinstance(claim_id, bool) or not isinstance(claim_id, int) or not 1 <= claim_id <= MAX_ID:
        return _error("bad-pay", _("claim_id must be a whole number from 1 to %(top)s", top=MAX_ID))
    if frame.get("kind", "deal") not in KINDS:
        return _error("bad-pay", _("kind is deal or shelf"))
    total = frame.get("expected_total_minor")
    if total is not None and (
        isinstance(total, bool) or not isinstance(total, int) or not 0 <= total <= MAX_TOTAL
    ):
        return _error("bad-pay", _("expected_total_minor must be a whole number ≥ 0"))
    return None


class RoomPay:
    """The deals domain's answer to the room's ``pay`` frames (``realtime.ports.ClaimPayer``)."""

    def __init__(self, tokens: TokenCache, desk: PayDesk) -> None:
        self.tokens = tokens
        self.desk = desk

    async def pay_frame(
        self, tapper: Tapper, session_id: int, frame: dict[str, Any]
    ) -> dict[str, Any]:
        del session_id  # a buyer's own claim, whichever room it was made in
        bad = _bad(frame)
        if bad is not None:
            return bad
        principal = await self.tokens.principal(tapper.token, via_cookie=tapper.via_cookie)
        if principal is None:
            return _error(
                "invalid-token", _("the token is unknown, expired or revoked: sign in again")
            )
        if not is_buyer(principal):
            return _error("wrong-role", _("buying needs the buyer role"))
        request = PayClaim(
            claim_id=frame["claim_id"],
            buyer_id=principal.user_id,
            card=None,
            expected_total_minor=frame.get("expected_total_minor"),
            kind=KINDS[frame.get("kind", "deal")],
        )
        try:
            paid = await self.desk.pay_now(request)
        except Problem as exc:
            extra = {k: v for k, v in exc.extra.items() if _jsonable(v)}
            return _error(exc.code, str(exc.detail), **extra)
        order = paid.order
        return {
            "order_id": order.id,
            "status": str(order.status),
            "total_minor": order.total_minor,
            "currency": order.currency,
            "display_total": display_price(paid.market, order.total_minor),
        }
