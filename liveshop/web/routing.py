"""Page routers: the API's access declarations, answered the way a browser expects.

``PageRoute`` wraps each page handler. The domains raise the same ``Problem`` errors as for
the API; here they become what a person should see instead of problem+json:

- 401 (not signed in) → redirect to ``/login?next=<this page>``;
- a failed form (any 4xx after a POST) → back to the form's page with the message shown;
- 403 (wrong role, not your shop) and 404 → a friendly page with that status code.
"""

from __future__ import annotations

from collections.abc import Callable, Coroutine
from typing import Any
from urllib.parse import quote

from fastapi import APIRouter, Depends, Request, Response
from fastapi.exceptions import RequestValidationError
from fastapi.routing import APIRoute

from liveshop.accounts.deps import SAFE_METHODS
from liveshop.core.errors import Problem, field_message
from liveshop.core.i18n import gettext, lazy_gettext
from liveshop.web.flash import redirect
from liveshop.web.pages_common import render_error
from liveshop.web.security import referer_path, verify_form_csrf

TITLES = {
    403: lazy_gettext("You can't open this page"),
    404: lazy_gettext("We couldn't find that"),
    409: lazy_gettext("That didn't work"),
    422: lazy_gettext("That didn't work"),
}


def _validation_text(exc: RequestValidationError) -> str:
    errors = exc.errors()
    if not errors:
        return gettext("Some of the form's fields are not valid.")
    first = errors[0]
    field = str(first.get("loc", ("", "field"))[-1]).replace("_", " ")
    return gettext(
        "Please check %(field)s: %(problem)s.", field=field, problem=field_message(first)
    )


async def problem_page(
    request: Request, status: int, code: str, detail: str, extra: dict[str, Any] | None = None
) -> Response:
    """The browser's answer to a Problem raised while handling a page request."""
    if status == 401:
        back = request.url.path if request.method in SAFE_METHODS else referer_path(request)
        if back and request.method in SAFE_METHODS and request.url.query:
            back += f"?{request.url.query}"
        return redirect(f"/login?next={quote(back or '/', safe='')}")
    if request.method not in SAFE_METHODS and code != "csrf-failed" and status != 404:
        back = referer_path(request)
        if back is not None:
            return redirect(back, flash=("error", detail))
    title = str(TITLES[status]) if status in TITLES else gettext("Something went wrong")
    return await render_error(request, status, title, detail)


class PageRoute(APIRoute):
    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handle = super().get_route_handler()

        async def page_handler(request: Request) -> Response:
            try:
                return await handle(request)
            except Problem as exc:
                return await problem_page(request, exc.status, exc.code, exc.detail, exc.extra)
            except RequestValidationError as exc:
                return await problem_page(request, 422, "validation-error", _validation_text(exc))

        return page_handler


def page_router(**kwargs: Any) -> APIRouter:
    """A router for HTML pages: CSRF-checked forms, HTML errors, left out of the OpenAPI."""
    return APIRouter(
        route_class=PageRoute,
        dependencies=[Depends(verify_form_csrf)],
        include_in_schema=False,
        **kwargs,
    )
