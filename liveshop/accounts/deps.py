"""Who may call an endpoint. Every route declares exactly one of these.

- ``Public``: anyone, signed in or not (the principal is still resolved if present).
- ``Authenticated``: any signed-in user.
- ``require(Role.X, ...)``: a signed-in user holding one of the roles (admin always passes).

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
from liveshop.core.db import get_session
from liveshop.core.errors import Forbidden, Unauthorized
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


async def resolve_principal(request: Request, session: SessionDep) -> Principal | None:
    if hasattr(request.state, "principal"):
        cached: Principal | None = request.state.principal
        return cached
    principal: Principal | None = None
    token = _bearer(request)
    if token is not None:
        principal = await resolve_token(session, token)
        if principal is None:
            raise Unauthorized(
                "the bearer token is unknown, expired or revoked",
                code="invalid-token",
                headers={"WWW-Authenticate": "Bearer"},
            )
    else:
        cookie = request.cookies.get(get_settings().session_cookie_name)
        if cookie:
            principal = await resolve_token(session, cookie, via_cookie=True)
            if principal is not None and request.method not in SAFE_METHODS:
                sent = request.headers.get("x-csrf-token", "")
                if not hmac.compare_digest(sent, csrf_for(cookie)):
                    raise Forbidden(
                        "cookie-authenticated writes need the X-CSRF-Token header",
                        code="csrf-failed",
                    )
    request.state.principal = principal
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
            "sign in first", code="unauthenticated", headers={"WWW-Authenticate": "Bearer"}
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
            raise Forbidden(f"this needs one of the roles: {names}", code="wrong-role")
        return principal

    _mark(_has_role, f"roles:{names}")
    _role_deps[key] = _has_role
    return _has_role


MaybePrincipal = Annotated[Principal | None, Depends(_public)]
CurrentPrincipal = Annotated[Principal, Depends(_authenticated)]
AdminPrincipal = Annotated[Principal, Depends(require(Role.ADMIN))]
SellerPrincipal = Annotated[Principal, Depends(require(Role.SELLER))]
CreatorPrincipal = Annotated[Principal, Depends(require(Role.CREATOR))]
BuyerPrincipal = Annotated[Principal, Depends(require(Role.BUYER))]
