"""Who may call an endpoint. Every route declares exactly one of these.

- ``Public``: anyone, signed in or not (the principal is still resolved if present).
- ``Authenticated``: any signed-in user.
- ``require(Role.X, ...)``: a signed-in user holding one of the roles (admin always passes).
- ``require_cached(Role.X, ...)``: the same, with who is asking read from the node's token
  cache (``app.state.token_cache``, ``accounts.token_cache``: no database read per request;
  a revoked token or changed role takes effect within its second) — for the hot paths a
  drop sends thousands of requests to at once (paying claims).

A test walks every route and fails if one declares nothing, so a new endpoint cannot
forget to say who may call it. Cookie-authenticated unsafe requests must echo the
CSRF value (``X-CSRF-Token``); bearer-token requests need not.
"""

from __future__ import annotations

import hmac
from collections.abc import Awaitable, Callable
from typing import Annotated, Any

from fastapi import Depends, Request
from sqlalchemy.ext.asyncio import AsyncSession

from liveshop.accounts.models import Role
from liveshop.accounts.service import Principal, csrf_for, resolve_token
from liveshop.accounts.token_cache import TokenCache
from liveshop.core import i18n
from liveshop.core.db import get_session
from liveshop.core.errors import Forbidden, Unauthorized
from liveshop.core.i18n import gettext
from liveshop.core.ratelimit import Bucket, rate_limiter
from liveshop.core.settings import get_settings

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
ACCESS_MARK = "__liveshop_access__"

SessionDep = Annotated[AsyncSession, Depends(get_session)]


def _bearer(request: Request) -> str | None:
    header = request.headers.get("authorization", "")
    scheme, _, value = header.partition(" ")
    if scheme.lower() == "bearer" and value:
        return value.strip()
    return None


def credentials(request: Request) -> tuple[str, bool] | None:
    """The token a request carries and whether it came as the session cookie: the bearer
    token first, else the cookie (``Request`` here is Starlette's: plain routes use it too)."""
    token = _bearer(request)
    if token is not None:
        return token, False
    cookie = request.cookies.get(get_settings().session_cookie_name)
    return (cookie, True) if cookie else None


def check_csrf(request: Request, cookie: str) -> None:
    """Cookie-authenticated writes must echo the CSRF value (403 ``csrf-failed``)."""
    if request.method in SAFE_METHODS:
        return
    sent = request.headers.get("x-csrf-token", "")
    if not hmac.compare_digest(sent, csrf_for(cookie)):
        raise Forbidden(
            gettext("cookie-authenticated writes need the X-CSRF-Token header"), code="csrf-failed"
        )


def invalid_token() -> Unauthorized:
    return Unauthorized(
        gettext("the bearer token is unknown, expired or revoked"),
        code="invalid-token",
        headers={"WWW-Authenticate": "Bearer"},
    )


async def resolve_principal(request: Request, session: SessionDep) -> Principal | None:
    if hasattr(request.state, "principal"):
        cached: Principal | None = request.state.principal
        return cached
    principal: Principal | None = None
    found = credentials(request)
    if found is not None:
        token, via_cookie = found
        principal = await resolve_token(session, token, via_cookie=via_cookie)
        if principal is None and not via_cookie:
            raise invalid_token()
        if principal is not None and via_cookie:
            check_csrf(request, token)
    request.state.principal = principal
    if principal is not None and principal.language:
        i18n.set_locale(principal.language)  # the user's own language (core/i18n.py)
    return principal


async def resolve_cached_principal(request: Request) -> Principal | None:
    """``resolve_principal`` from the node's token cache (``app.state.token_cache``), falling
    back to the database where the app has none."""
    if hasattr(request.state, "principal"):
        cached: Principal | None = request.state.principal
        return cached
    cache: TokenCache | None = getattr(request.app.state, "token_cache", None)
    principal: Principal | None = None
    found = credentials(request)
    if found is not None:
        token, via_cookie = found
        if cache is not None:
            principal = await cache.principal(token, via_cookie=via_cookie)
        else:
            async with request.app.state.db.session() as session:
                principal = await resolve_token(session, token, via_cookie=via_cookie)
        if principal is None and not via_cookie:
            raise invalid_token()
        if principal is not None and via_cookie:
            check_csrf(request, token)
    request.state.principal = principal
    if principal is not None and principal.language:
        i18n.set_locale(principal.language)  # the user's own language (core/i18n.py)
    return principal


def _mark(fn: Callable[..., Any], what: str) -> Callable[..., Any]:
    setattr(fn, ACCESS_MARK, what)
    return fn


async def _public(
    principal: Annotated[Principal | None, Depends(resolve_principal)],
) -> Principal | None:
    return principal


async def _authenticated(
    principal: Annotated[Principal | None, Depends(resolve_principal)],
) -> Principal:
    if principal is None:
        raise Unauthorized(
            gettext("sign in first"), code="unauthenticated", headers={"WWW-Authenticate": "Bearer"}
        )
    return principal


_mark(_public, "public")
_mark(_authenticated, "authenticated")

_role_deps: dict[frozenset[Role], Callable[..., Awaitable[Principal]]] = {}


def require(*roles: Role) -> Callable[..., Awaitable[Principal]]:
    """Dependency: a signed-in user with one of ``roles`` (admins always pass)."""
    key = frozenset(roles)
    if key in _role_deps:
        return _role_deps[key]
    names = ", ".join(sorted(roles))

    async def _has_role(principal: Annotated[Principal, Depends(_authenticated)]) -> Principal:
        if not principal.has(*roles, Role.ADMIN):
            raise Forbidden(
                gettext("this needs one of the roles: %(names)s", names=names), code="wrong-role"
            )
        return principal

    _mark(_has_role, f"roles:{names}")
    _role_deps[key] = _has_role
    return _has_role


_cached_role_deps: dict[frozenset[Role], Callable[..., Awaitable[Principal]]] = {}


def require_cached(*roles: Role) -> Callable[..., Awaitable[Principal]]:
    """``require`` with the caller read from the node's token cache (module docstring)."""
    key = frozenset(roles)
    if key in _cached_role_deps:
        return _cached_role_deps[key]
    names = ", ".join(sorted(roles))

    async def _has_role(
        principal: Annotated[Principal | None, Depends(resolve_cached_principal)],
    ) -> Principal:
        if principal is None:
            raise Unauthorized(
                gettext("sign in first"),
                code="unauthenticated",
                headers={"WWW-Authenticate": "Bearer"},
            )
        if not principal.has(*roles, Role.ADMIN):
            raise Forbidden(
                gettext("this needs one of the roles: %(names)s", names=names), code="wrong-role"
            )
        return principal

    _mark(_has_role, f"roles:{names}")
    _cached_role_deps[key] = _has_role
    return _has_role


def per_user(bucket: Bucket, *, cached: bool = False) -> Callable[..., Awaitable[None]]:
    """Dependency (a route's ``dependencies=[Depends(per_user(Bucket.X))]``): one hit of
    ``bucket`` for the signed-in caller (429 past the limit); anonymous calls are left to the
    route's access declaration. ``cached``: the caller from the node's token cache (for a
    route that declares ``require_cached``)."""

    async def _limit(
        request: Request,
        principal: Annotated[Principal | None, Depends(resolve_principal)],
    ) -> None:
        if principal is not None:
            await rate_limiter(request).take(bucket, principal.user_id)

    async def _limit_cached(
        request: Request,
        principal: Annotated[Principal | None, Depends(resolve_cached_principal)],
    ) -> None:
        if principal is not None:
            await rate_limiter(request).take(bucket, principal.user_id)

    return _limit_cached if cached else _limit


MaybePrincipal = Annotated[Principal | None, Depends(_public)]
CurrentPrincipal = Annotated[Principal, Depends(_authenticated)]
AdminPrincipal = Annotated[Principal, Depends(require(Role.ADMIN))]
SellerPrincipal = Annotated[Principal, Depends(require(Role.SELLER))]
CreatorPrincipal = Annotated[Principal, Depends(require(Role.CREATOR))]
BuyerPrincipal = Annotated[Principal, Depends(require(Role.BUYER))]
CachedBuyerPrincipal = Annotated[Principal, Depends(require_cached(Role.BUYER))]
