"""Page sessions and form CSRF.

Pages use the same session cookie as the API (``liveshop_session``), set at login. Browser
forms cannot send the API's ``X-CSRF-Token`` header, so every page form carries the same
value in a hidden ``csrf_token`` field instead: ``csrf_for(session token)`` — a keyed HMAC of
the session token, so a page on another site can neither read nor forge it. Before anyone is
signed in (the login and sign-up forms) the value is bound to a random per-browser cookie
instead, which stops login CSRF the same way.

``verify_form_csrf`` is a router-level dependency of every page router, so FastAPI runs it
before the route's access declaration: it checks the field on every unsafe request, and for a
cookie session it resolves the principal itself (the API's header rule would otherwise refuse
the form), leaving it in ``request.state.principal`` where ``accounts.deps`` finds it.
"""

from __future__ import annotations

import hmac
import secrets
from urllib.parse import urlsplit

from fastapi import Request, Response

from liveshop.accounts.deps import SAFE_METHODS, SessionDep
from liveshop.accounts.service import csrf_for, resolve_token
from liveshop.core.errors import Forbidden
from liveshop.core.i18n import gettext as _
from liveshop.core.settings import get_settings

ANON_COOKIE = "liveshop_anon"
FIELD = "csrf_token"


def _has_bearer(request: Request) -> bool:
    return request.headers.get("authorization", "").lower().startswith("bearer ")


def form_token(request: Request) -> str | None:
    """The CSRF value this browser's forms must carry, or None if it has no cookie yet."""
    session_token = request.cookies.get(get_settings().session_cookie_name)
    if session_token:
        return csrf_for(session_token)
    anon = request.cookies.get(ANON_COOKIE) or getattr(request.state, "new_anon", None)
    if anon:
        return csrf_for("anon:" + anon)
    return None


def ensure_form_token(request: Request) -> str:
    """Like form_token, minting the per-browser cookie value if needed (see finish_response)."""
    token = form_token(request)
    if token is None:
        request.state.new_anon = secrets.token_urlsafe(24)
        token = form_token(request)
        assert token is not None
    return token


def finish_response(request: Request, response: Response) -> None:
    """Set the per-browser CSRF cookie if this request minted one."""
    anon = getattr(request.state, "new_anon", None)
    if anon:
        s = get_settings()
        response.set_cookie(
            ANON_COOKIE, anon, httponly=True, samesite="lax", secure=s.cookie_secure, path="/"
        )


async def verify_form_csrf(request: Request, session: SessionDep) -> None:
    """Refuse an unsafe page request whose form lacks this browser's CSRF value (403)."""
    if request.method in SAFE_METHODS:
        return
    form = await request.form()
    sent = form.get(FIELD)
    expected = form_token(request)
    if not isinstance(sent, str) or expected is None or not hmac.compare_digest(sent, expected):
        raise Forbidden(
            _(
                "This form has expired or did not come from this site. Reload the page and try again."  # noqa: E501
            ),
            code="csrf-failed",
        )
    cookie = request.cookies.get(get_settings().session_cookie_name)
    if cookie and not _has_bearer(request):
        request.state.principal = await resolve_token(session, cookie, via_cookie=True)


def set_session_cookies(response: Response, token: str) -> None:
    """The same two cookies the API's login sets (session: HttpOnly; CSRF: readable)."""
    s = get_settings()
    max_age = s.session_ttl_hours * 3600
    response.set_cookie(
        s.session_cookie_name,
        token,
        max_age=max_age,
        httponly=True,
        samesite="lax",
        secure=s.cookie_secure,
        path="/",
    )
    response.set_cookie(
        s.csrf_cookie_name,
        csrf_for(token),
        max_age=max_age,
        httponly=False,
        samesite="strict",
        secure=s.cookie_secure,
        path="/",
    )


def clear_session_cookies(response: Response) -> None:
    s = get_settings()
    response.delete_cookie(s.session_cookie_name, path="/")
    response.delete_cookie(s.csrf_cookie_name, path="/")


def local_path(target: str | None, default: str = "/") -> str:
    """``target`` if it is a path on this site (no scheme, no host, no ``//``), else default."""
    if not target:
        return default
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not target.startswith("/") or target.startswith("//"):
        return default
    if "\\" in target:
        return default
    return target


def referer_path(request: Request) -> str | None:
    """The same-origin page the form was posted from (path and query), if any."""
    ref = request.headers.get("referer")
    if not ref:
        return None
    parts = urlsplit(ref)
    if parts.netloc and parts.netloc != request.url.netloc:
        return None
    path = parts.path or "/"
    return path + (f"?{parts.query}" if parts.query else "")
