"""The drop's hot HTTP routes, as plain Starlette routes (no FastAPI dependency injection or
pydantic model on the way: here that layer would cost more than the claim itself).

``POST /api/v1/live/deals/{deal_id}/claim`` — a tap: body ``{"quantity": n}`` (optional,
1..99), a bearer token or the session cookie with its CSRF header. Answers (JSON):

- 201 ``{"status": "held", "claim_id", "quantity", "expires_at", "pay_within_s", "deal_id"}``
- 202 ``{"status": "queued", "ticket", "position"}`` (queue) or ``{"status": "entered",
  "ticket", "draw_at"}`` (lottery, before the draw)
- 200 ``{"status": "pay_now", "available"}`` (first paid wins: pay with ``…/buy``)
- problem+json: 409 ``deal-sold-out`` / ``deal-limit-reached`` / ``deal-ended``, 404
  ``deal-not-found``, 401/403, 422 ``bad-claim``, 503 ``try-again``.

``POST /api/v1/live/sessions/{session_id}/claim`` — a tap on a product on show in the room
without a deal (``live.deals.shelf``): body ``{"sku_id": n, "quantity": n}``. 201 ``{"status":
"held", "kind": "shelf", "claim_id", "quantity", "expires_at", "pay_within_s", "sku_id",
"session_id"}`` (pay it with ``POST /api/v1/live/shelf-claims/{id}/pay``), or problem+json:
409 ``sold-out`` (``available``: the most one tap could get now) / ``not-on-show`` /
``session-not-live``, 404 ``session-not-found``, 401/403, 422 ``bad-claim``, 503 ``try-again``.

``POST /api/v1/drops/ping`` — the same authentication answering a constant: the floor a
claim's cost is measured against (``liveshop bench drop``).

Both are described in the OpenAPI document by ``live.deals.claims_router`` (the same paths).
"""

from __future__ import annotations

import json
from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from liveshop.accounts.deps import check_csrf, credentials, invalid_token
from liveshop.accounts.service import Principal
from liveshop.core.errors import Unauthorized, Unprocessable, problem_response
from liveshop.core.i18n import gettext as _
from liveshop.core.settings import Settings
from liveshop.live.deals.claims import Answer
from liveshop.live.deals.desk import MAX_ID, MAX_QUANTITY, ClaimDesk, desk_of

MAX_BODY = 1024
JSON = "application/json"
STATUS_OF = {"held": 201, "queued": 202, "entered": 202, "pay_now": 200}
PROBLEM_STATUS = {
    "deal-sold-out": 409,
    "deal-limit-reached": 409,
    "deal-ended": 409,
    "deal-not-found": 404,
    "sold-out": 409,
    "not-on-show": 409,
    "session-not-live": 409,
    "session-not-found": 404,
    "wrong-role": 403,
    "try-again": 503,
}


async def _principal(request: Request, desk: ClaimDesk) -> Principal:
    """Who asks, checked as every route checks it (``accounts.deps``), but from the node's
    token cache."""
    found = credentials(request)
    if found is not None:
        token, via_cookie = found
        principal = await desk.tokens.principal(token, via_cookie=via_cookie)
        if principal is None and not via_cookie:
            raise invalid_token()
        if principal is not None:
            if via_cookie:
                check_csrf(request, token)
            return principal
    raise Unauthorized(
        _("sign in first"), code="unauthenticated", headers={"WWW-Authenticate": "Bearer"}
    )


def _json(status: int, body: dict[str, Any]) -> Response:
    return Response(json.dumps(body, separators=(",", ":")), status_code=status, media_type=JSON)


def answer_response(answer: Answer, path: str) -> Response:
    body = answer.body()
    error = body.get("error")
    if error is None:
        return _json(STATUS_OF.get(answer.status, 200), body)
    extra = {k: v for k, v in error.items() if k not in ("code", "detail")}
    code = str(error["code"])
    return problem_response(
        PROBLEM_STATUS.get(code, 409),
        code=code,
        detail=str(error.get("detail", "")),
        instance=path,
        **extra,
    )


async def _body(request: Request, allowed: frozenset[str]) -> dict[str, Any]:
    raw = await request.body()
    if len(raw) > MAX_BODY:
        raise Unprocessable(
            _("a claim's body is at most %(max_body)s bytes", max_body=MAX_BODY), code="bad-claim"
        )
    if not raw.strip():
        return {}
    try:
        body = json.loads(raw)
    except (ValueError, RecursionError):
        raise Unprocessable(_("the body must be a JSON object"), code="bad-claim") from None
    if not isinstance(body, dict) or set(body) - allowed:
        fields = ", ".join(f'"{k}"' for k in sorted(allowed))
        raise Unprocessable(
            _("the body is a JSON object of %(fields)s", fields=fields), code="bad-claim"
        )
    return body


def _whole(body: dict[str, Any], key: str, default: int | None, top: int) -> int:
    value = body.get(key, default)
    if value is None:
        raise Unprocessable(_("%(key)s is required", key=key), code="bad-claim")
    if isinstance(value, bool) or not isinstance(value, int):
        raise Unprocessable(_("%(key)s must be a whole number", key=key), code="bad-claim")
    if not 1 <= value <= top:
        raise Unprocessable(_("%(key)s must be 1 to %(top)s", key=key, top=top), code="bad-claim")
    return value


async def _quantity(request: Request) -> int:
    return _whole(await _body(request, frozenset({"quantity"})), "quantity", 1, MAX_QUANTITY)


def _path_id(request: Request, name: str) -> int:
    raw = request.path_params.get(name, "")
    if not raw.isascii() or not raw.isdigit() or len(raw) > 19 or not 1 <= int(raw) <= MAX_ID:
        raise Unprocessable(_("%(name)s must be a whole number", name=name), code="bad-claim")
    return int(raw)


def _deal_id(request: Request) -> int:
    return _path_id(request, "deal_id")


async def claim(request: Request) -> Response:
    desk = desk_of(request)
    principal = await _principal(request, desk)
    deal_id = _deal_id(request)
    quantity = await _quantity(request)
    settings: Settings = request.app.state.settings
    naive = settings.bench_mode and request.query_params.get("mode") == "naive"
    answer = await desk.tap(principal, deal_id, quantity, naive=naive)
    return answer_response(answer, request.url.path)


async def claim_on_shelf(request: Request) -> Response:
    desk = desk_of(request)
    principal = await _principal(request, desk)
    session_id = _path_id(request, "session_id")
    body = await _body(request, frozenset({"sku_id", "quantity"}))
    sku_id = _whole(body, "sku_id", None, MAX_ID)
    quantity = _whole(body, "quantity", 1, MAX_QUANTITY)
    answer = await desk.tap_shelf(principal, session_id, sku_id, quantity)
    return answer_response(answer, request.url.path)


async def ping(request: Request) -> Response:
    await _principal(request, desk_of(request))
    return Response(b'{"ok":true}', media_type=JSON)


def routes() -> list[Route]:
    return [
        Route("/api/v1/live/deals/{deal_id}/claim", claim, methods=["POST"]),
        Route("/api/v1/live/sessions/{session_id}/claim", claim_on_shelf, methods=["POST"]),
        Route("/api/v1/drops/ping", ping, methods=["POST"]),
    ]
