"""RFC 9457 problem details for every error the API returns.

Services raise :class:`Problem` (or a subclass); handlers turn it, FastAPI's validation
errors and Starlette's HTTP errors into ``application/problem+json``.
"""

from __future__ import annotations

from http import HTTPStatus
from typing import Any

import structlog
from babel.support import LazyProxy
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from liveshop.core.i18n import gettext as _
from liveshop.core.i18n import lazy_gettext

PROBLEM_MEDIA_TYPE = "application/problem+json"
PROBLEM_BASE = "https://liveshop.dev/problems/"

log = structlog.get_logger("liveshop.errors")


class Problem(Exception):
    """An error a caller can act on. ``code`` becomes the problem ``type`` URI."""

    status: int = 400
    code: str = "bad-request"
    title: str | LazyProxy | None = None  # lazy_gettext on a subclass: its request's language

    def __init__(
        self,
        detail: str,
        *,
        status: int | None = None,
        code: str | None = None,
        title: str | None = None,
        headers: dict[str, str] | None = None,
        **extra: Any,
    ) -> None:
        super().__init__(detail)
        self.detail = detail
        if status is not None:
            self.status = status
        if code is not None:
            self.code = code
        if title is not None:
            self.title = title
        self.headers = headers
        self.extra = extra


class NotFound(Problem):
    status = 404
    code = "not-found"


class Conflict(Problem):
    status = 409
    code = "conflict"


class Unprocessable(Problem):
    status = 422
    code = "unprocessable"


class Unauthorized(Problem):
    status = 401
    code = "unauthenticated"


class Forbidden(Problem):
    status = 403
    code = "forbidden"


def problem_response(
    status: int,
    *,
    code: str,
    detail: str | None = None,
    title: str | None = None,
    instance: str | None = None,
    headers: dict[str, str] | None = None,
    **extra: Any,
) -> JSONResponse:
    body: dict[str, Any] = {
        "type": PROBLEM_BASE + code,
        "title": str(title) if title else _phrase(status),
        "status": status,
    }
    if detail:
        body["detail"] = detail
    if instance:
        body["instance"] = instance
    body.update(extra)
    return JSONResponse(body, status_code=status, media_type=PROBLEM_MEDIA_TYPE, headers=headers)


# The titles people see most, in the request's language (the rest: the HTTP phrase).
PHRASES = {
    400: lazy_gettext("Bad request"),
    401: lazy_gettext("Please sign in"),
    403: lazy_gettext("Not allowed"),
    404: lazy_gettext("Not found"),
    405: lazy_gettext("Method not allowed"),
    409: lazy_gettext("Conflict"),
    413: lazy_gettext("Too large"),
    415: lazy_gettext("Unsupported media type"),
    422: lazy_gettext("Unprocessable content"),
    429: lazy_gettext("Too many requests"),
    500: lazy_gettext("Internal server error"),
    502: lazy_gettext("Bad gateway"),
    503: lazy_gettext("Service unavailable"),
}


def _phrase(status: int) -> str:
    if status in PHRASES:
        return str(PHRASES[status])
    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return _("Error")


async def _problem_handler(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, Problem)
    return problem_response(
        exc.status,
        code=exc.code,
        detail=exc.detail,
        title=str(exc.title) if exc.title else None,
        instance=request.url.path,
        headers=exc.headers,
        **exc.extra,
    )


async def _http_handler(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, StarletteHTTPException)
    codes = {401: "unauthenticated", 403: "forbidden", 404: "not-found", 405: "method-not-allowed"}
    return problem_response(
        exc.status_code,
        code=codes.get(exc.status_code, "http-error"),
        detail=str(exc.detail) if exc.detail else None,
        instance=request.url.path,
        headers=getattr(exc, "headers", None),
    )


async def _validation_handler(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    errors = [
        {
            "loc": [str(p) for p in err.get("loc", ())],
            "msg": err.get("msg", ""),
            "type": err.get("type", ""),
        }
        for err in exc.errors()
    ]
    first = errors[0] if errors else {"loc": [], "msg": "invalid request"}
    where = ".".join(first["loc"])
    return problem_response(
        422,
        code="validation-error",
        title=_("Request is not valid"),
        detail=f"{where}: {first['msg']}" if where else str(first["msg"]),
        instance=request.url.path,
        errors=errors,
    )


async def _unhandled_handler(request: Request, exc: Exception) -> JSONResponse:
    log.exception("unhandled error", path=request.url.path)
    return problem_response(
        500,
        code="internal-error",
        detail=_("Something went wrong on our side; nothing was changed."),
        instance=request.url.path,
    )


class AnswerUnexpectedErrors:
    """An unexpected exception becomes the 500 problem here, and goes no further.

    Starlette's handler for ``Exception`` (``ServerErrorMiddleware``) sends the 500 and then
    re-raises to the server, which closes the connection: the client's next request on the
    same keep-alive connection failed with a read error (issue 15). Answered here — inside
    that middleware — the connection stays usable. A failure after the response started
    still goes up (there is no clean answer left to give)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = False

        async def send_watched(message: Message) -> None:
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, receive, send_watched)
        except Exception:
            if started:
                raise
            log.exception("unhandled error", path=scope.get("path"))
            response = problem_response(
                500,
                code="internal-error",
                detail=_("Something went wrong on our side; nothing was changed."),
                instance=scope.get("path"),
            )
            await response(scope, receive, send)


def install_error_handlers(app: FastAPI) -> None:
    app.add_middleware(AnswerUnexpectedErrors)
    app.add_exception_handler(Problem, _problem_handler)
    app.add_exception_handler(StarletteHTTPException, _http_handler)
    app.add_exception_handler(RequestValidationError, _validation_handler)
    app.add_exception_handler(Exception, _unhandled_handler)


PROBLEM_RESPONSES: dict[int | str, dict[str, Any]] = {
    code: {
        "description": _phrase(code),
        "content": {PROBLEM_MEDIA_TYPE: {"schema": {"$ref": "#/components/schemas/Problem"}}},
    }
    for code in (400, 401, 403, 404, 409, 422)
}
