"""RFC 9457 problem details for every error the API returns.

Services raise :class:`Problem` (or a subclass); handlers turn it, FastAPI's validation
errors and Starlette's HTTP errors into ``application/problem+json``.
"""

from __future__ import annotations

from collections.abc import Mapping
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
from liveshop.core.i18n import lazy_gettext, ngettext

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


def _http_detail(exc: StarletteHTTPException) -> str | None:
    """Starlette's own detail is the English status phrase, which the translated title
    already says: left out; a detail someone wrote stays."""
    detail = str(exc.detail) if exc.detail else ""
    try:
        phrase = HTTPStatus(exc.status_code).phrase
    except ValueError:
        phrase = ""
    return None if not detail or detail == phrase else detail


async def _http_handler(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, StarletteHTTPException)
    codes = {401: "unauthenticated", 403: "forbidden", 404: "not-found", 405: "method-not-allowed"}
    return problem_response(
        exc.status_code,
        code=codes.get(exc.status_code, "http-error"),
        detail=_http_detail(exc),
        instance=request.url.path,
        headers=getattr(exc, "headers", None),
    )


# Pydantic's error types, as a person reads them in their language (``ctx`` fills the
# placeholders: ``min_length``, ``gt``, ``expected``…). A type not listed reads "not valid".
_FIELD_MESSAGES: dict[str, LazyProxy] = {
    "missing": lazy_gettext("This is required"),
    "extra_forbidden": lazy_gettext("This field is not allowed here"),
    "string_type": lazy_gettext("Enter text"),
    "string_pattern_mismatch": lazy_gettext("This is not in the expected format"),
    "int_type": lazy_gettext("Enter a whole number"),
    "int_parsing": lazy_gettext("Enter a whole number"),
    "int_from_float": lazy_gettext("Enter a whole number"),
    "float_type": lazy_gettext("Enter a number"),
    "float_parsing": lazy_gettext("Enter a number"),
    "decimal_type": lazy_gettext("Enter a number"),
    "decimal_parsing": lazy_gettext("Enter a number"),
    "finite_number": lazy_gettext("Enter a number"),
    "bool_type": lazy_gettext("Choose yes or no"),
    "bool_parsing": lazy_gettext("Choose yes or no"),
    "greater_than": lazy_gettext("Must be more than %(gt)s"),
    "greater_than_equal": lazy_gettext("Must be %(ge)s or more"),
    "less_than": lazy_gettext("Must be less than %(lt)s"),
    "less_than_equal": lazy_gettext("Must be %(le)s or less"),
    "multiple_of": lazy_gettext("Must be a multiple of %(multiple_of)s"),
    "enum": lazy_gettext("Choose one of: %(expected)s"),
    "literal_error": lazy_gettext("Choose one of: %(expected)s"),
    "date_type": lazy_gettext("Enter a date"),
    "date_parsing": lazy_gettext("Enter a date"),
    "date_from_datetime_parsing": lazy_gettext("Enter a date"),
    "datetime_type": lazy_gettext("Enter a date and time"),
    "datetime_parsing": lazy_gettext("Enter a date and time"),
    "datetime_from_date_parsing": lazy_gettext("Enter a date and time"),
    "timezone_aware": lazy_gettext("Add a time zone to the date and time"),
    "url_type": lazy_gettext("Enter a web address"),
    "url_parsing": lazy_gettext("Enter a web address"),
    "url_scheme": lazy_gettext("Enter a web address"),
    "dict_type": lazy_gettext("Expected an object"),
    "model_type": lazy_gettext("Expected an object"),
    "model_attributes_type": lazy_gettext("Expected an object"),
    "list_type": lazy_gettext("Expected a list"),
    "json_invalid": lazy_gettext("This is not valid JSON"),
    "json_type": lazy_gettext("This is not valid JSON"),
    "uuid_parsing": lazy_gettext("This is not a valid ID"),
    "control_character": lazy_gettext(
        "Remove the hidden control character %(char)s (at position %(at)s)"
    ),
}
# Sized ("at least 1 character" / "at least 8 characters"): the ctx value that counts.
_SIZED = {
    "string_too_short": "min_length",
    "string_too_long": "max_length",
    "too_short": "min_length",
    "too_long": "max_length",
}


def _sized(kind: str, n: int) -> str:
    # Spelled out for the extractor (ngettext's arguments must be literals).
    if kind == "string_too_short":
        return ngettext(
            "Must be at least %(num)d character", "Must be at least %(num)d characters", n
        )
    if kind == "string_too_long":
        return ngettext(
            "Must be at most %(num)d character", "Must be at most %(num)d characters", n
        )
    if kind == "too_short":
        return ngettext("Needs at least %(num)d item", "Needs at least %(num)d items", n)
    return ngettext("Takes at most %(num)d item", "Takes at most %(num)d items", n)


def field_message(error: Mapping[str, Any]) -> str:
    """One pydantic error as a person reads it, in the request's language: the message for
    its type with the limits from its ``ctx`` filled in; a validator's own words (already
    translated where it raised them) for a ``value_error``."""
    kind = str(error.get("type", ""))
    ctx: Mapping[str, Any] = error.get("ctx") or {}
    if kind in _SIZED:
        try:
            return _sized(kind, int(ctx.get(_SIZED[kind], 0)))
        except (TypeError, ValueError):
            pass
    if kind in _FIELD_MESSAGES:
        text = str(_FIELD_MESSAGES[kind])
        try:
            return text % {k: str(v) for k, v in ctx.items()} if "%(" in text else text
        except (KeyError, TypeError, ValueError):
            return text.split("%(")[0].rstrip(" :(")
    if kind in ("value_error", "assertion_error"):
        raised = ctx.get("error")
        said = str(raised) if raised is not None else ""
        if "email address" in said:
            return _("Enter a valid e-mail address")
        if said:
            return said
    return _("This value is not valid")


async def _validation_handler(request: Request, exc: Exception) -> JSONResponse:
    """422 ``validation-error``: the title and each field's message in the request's language
    (the English pydantic wording is not shown); ``type`` and ``ctx`` stay for programs."""
    assert isinstance(exc, RequestValidationError)
    errors: list[dict[str, Any]] = []
    for err in exc.errors():
        item: dict[str, Any] = {
            "loc": [str(p) for p in err.get("loc", ())],
            "msg": field_message(err),
            "type": err.get("type", ""),
        }
        ctx = {
            k: v if isinstance(v, int | float | str | bool) else str(v)
            for k, v in (err.get("ctx") or {}).items()
        }
        if ctx:
            item["ctx"] = ctx
        errors.append(item)
    first = errors[0] if errors else {"loc": [], "msg": _("This value is not valid")}
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
