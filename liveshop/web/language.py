"""The language each request is answered in (issue 21).

``LanguageMiddleware`` sets ``core.i18n``'s locale before anything else runs, from what the
request itself carries: the ``liveshop_lang`` cookie (a viewer's pick in the header
switcher, also written for a signed-in user when they choose), else the browser's
``Accept-Language`` among the languages of the market in the ``liveshop_market`` cookie,
else that market's language. API errors and pages are then in that language. Once the
caller is known, a signed-in user's saved preference wins (``accounts.deps`` sets it), and a
page of another market (a room in Indonesia) re-chooses among that market's languages
(``templating.render``).
"""

from __future__ import annotations

from http.cookies import SimpleCookie

from starlette.datastructures import Headers
from starlette.types import ASGIApp, Receive, Scope, Send

from liveshop.core import i18n

LANGUAGE_COOKIE = "liveshop_lang"
MARKET_COOKIE = "liveshop_market"


def cookies_of(headers: Headers) -> dict[str, str]:
    raw = headers.get("cookie", "")
    if not raw or len(raw) > 8192:
        return {}
    jar: SimpleCookie = SimpleCookie()
    try:
        jar.load(raw)
    except Exception:  # a malformed Cookie header: no preference
        return {}
    return {k: v.value for k, v in jar.items()}


def request_language(headers: Headers, *, market_code: str | None = None) -> str:
    cookies = cookies_of(headers)
    return i18n.choose_language(
        preference=None,
        cookie=cookies.get(LANGUAGE_COOKIE),
        accept_language=headers.get("accept-language"),
        market_code=market_code or cookies.get(MARKET_COOKIE),
    )


class LanguageMiddleware:
    """Sets the request's language (module docstring) for HTTP requests and WebSockets."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] in ("http", "websocket"):
            headers = Headers(scope=scope)
            # Money and dates follow the language where the viewer chose one (the switcher's
            # cookie, an account's preference); the browser's Accept-Language picks the words
            # but keeps the market's own way of writing prices (an English browser in Vietnam
            # reads "329.000 ₫", as the shop's own page does).
            named = LANGUAGE_COOKIE in headers.get("cookie", "")
            i18n.set_locale(request_language(headers), display=named)
        await self.app(scope, receive, send)
