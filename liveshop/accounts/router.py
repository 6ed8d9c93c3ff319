from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Response, status

from liveshop.accounts import service, throttle
from liveshop.accounts.deps import AdminPrincipal, CurrentPrincipal, MaybePrincipal, SessionDep
from liveshop.accounts.models import Role, TokenKind
from liveshop.accounts.schemas import (
    ActiveIn,
    AdminUserCreateIn,
    LoginIn,
    LoginOut,
    PasswordChangedOut,
    PasswordChangeIn,
    ProfileIn,
    RolesIn,
    SignupIn,
    TokenCreateIn,
    TokenInfo,
    TokenOut,
    UserOut,
    UserPage,
)
from liveshop.core.errors import PROBLEM_RESPONSES, Conflict
from liveshop.core.i18n import gettext
from liveshop.core.ratelimit import RATE_LIMITED, ClientAddress, RateLimiterDep
from liveshop.core.settings import get_settings
from liveshop.core.types import Id, Limit, Offset

router = APIRouter(prefix="/api/v1", tags=["accounts"], responses=PROBLEM_RESPONSES)


def _set_session_cookies(response: Response, token: str, max_age: int) -> str:
    s = get_settings()
    csrf = service.csrf_for(token)
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
        csrf,
        max_age=max_age,
        httponly=False,
        samesite="strict",
        secure=s.cookie_secure,
        path="/",
    )
    return csrf


@router.post("/auth/signup", status_code=status.HTTP_201_CREATED, responses=RATE_LIMITED)
async def signup(
    body: SignupIn,
    session: SessionDep,
    _: MaybePrincipal,
    limiter: RateLimiterDep,
    client: ClientAddress,
) -> UserOut:
    """Anyone may open a buyer account; other roles are granted by an admin. Sign-ups per
    client address are rate-limited (429 with Retry-After)."""
    await throttle.may_sign_up(limiter, client=client)
    user = await service.create_user(
        session, email=body.email, password=body.password, display_name=body.display_name
    )
    return UserOut.of(user)


@router.post("/auth/login", responses=RATE_LIMITED)
async def login(
    body: LoginIn,
    response: Response,
    session: SessionDep,
    _: MaybePrincipal,
    limiter: RateLimiterDep,
    client: ClientAddress,
) -> LoginOut:
    """Returns a bearer token and also sets it as the pages' session cookie. Failed log-ins
    are rate-limited per account and per client address (429 with Retry-After)."""
    user = await throttle.log_in(
        session, limiter, email=body.email, password=body.password, client=client
    )
    issued = await service.issue_token(session, user, kind=TokenKind.SESSION)
    max_age = get_settings().session_ttl_hours * 3600
    csrf = _set_session_cookies(response, issued.token, max_age)
    return LoginOut(
        token=issued.token,
        token_id=issued.record.id,
        expires_at=issued.record.expires_at,
        csrf_token=csrf,
        user=UserOut.of(user),
    )


@router.post("/auth/logout", status_code=status.HTTP_204_NO_CONTENT)
async def logout(principal: CurrentPrincipal, session: SessionDep, response: Response) -> None:
    """Revokes the token (or cookie session) this request was made with."""
    await service.revoke_token(session, user_id=principal.user_id, token_id=principal.token_id)
    s = get_settings()
    response.delete_cookie(s.session_cookie_name, path="/")
    response.delete_cookie(s.csrf_cookie_name, path="/")


@router.get("/me")
async def me(principal: CurrentPrincipal, session: SessionDep) -> UserOut:
    return UserOut.of(await service.get_user(session, principal.user_id))


@router.patch("/me")
async def update_me(body: ProfileIn, principal: CurrentPrincipal, session: SessionDep) -> UserOut:
    """Your own details (the name others see)."""
    return UserOut.of(
        await service.update_profile(session, principal.user_id, display_name=body.display_name)
    )


@router.post("/me/password", responses=RATE_LIMITED)
async def change_my_password(
    body: PasswordChangeIn,
    principal: CurrentPrincipal,
    session: SessionDep,
    limiter: RateLimiterDep,
) -> PasswordChangedOut:
    """A new password, given the current one (401 ``bad-credentials``; 429 after a few wrong
    ones). Every other session is signed out (your API tokens too with
    ``sign_out_api_tokens``); the token this request came with stays signed in."""
    revoked = await throttle.change_password(
        session,
        limiter,
        user_id=principal.user_id,
        current=body.current_password,
        new=body.new_password,
        keep_token_id=principal.token_id,
        sign_out_api_tokens=body.sign_out_api_tokens,
    )
    return PasswordChangedOut(signed_out_tokens=revoked)


@router.get("/auth/tokens")
async def my_tokens(principal: CurrentPrincipal, session: SessionDep) -> list[TokenInfo]:
    return [
        TokenInfo(
            id=t.id,
            kind=t.kind,
            name=t.name,
            created_at=t.created_at,
            expires_at=t.expires_at,
            last_used_at=t.last_used_at,
        )
        for t in await service.list_tokens(session, principal.user_id)
    ]


@router.post("/auth/tokens", status_code=status.HTTP_201_CREATED)
async def create_api_token(
    body: TokenCreateIn, principal: CurrentPrincipal, session: SessionDep
) -> TokenOut:
    user = await service.get_user(session, principal.user_id)
    issued = await service.issue_token(session, user, kind=TokenKind.API, name=body.name)
    return TokenOut(
        token=issued.token, token_id=issued.record.id, expires_at=issued.record.expires_at
    )


@router.delete("/auth/tokens/{token_id}", status_code=status.HTTP_204_NO_CONTENT)
async def revoke_api_token(token_id: Id, principal: CurrentPrincipal, session: SessionDep) -> None:
    await service.revoke_token(session, user_id=principal.user_id, token_id=token_id)


@router.get("/admin/users")
async def admin_list_users(
    _: AdminPrincipal,
    session: SessionDep,
    role: Role | None = None,
    limit: Annotated[Limit, Query(le=200)] = 50,
    offset: Annotated[Offset, Query()] = 0,
) -> UserPage:
    users, total = await service.list_users(session, role=role, limit=limit, offset=offset)
    return UserPage(items=[UserOut.of(u) for u in users], total=total, limit=limit, offset=offset)


@router.post("/admin/users", status_code=status.HTTP_201_CREATED)
async def admin_create_user(
    body: AdminUserCreateIn, principal: AdminPrincipal, session: SessionDep
) -> UserOut:
    user = await service.create_user(
        session,
        email=body.email,
        password=body.password,
        display_name=body.display_name,
        roles=body.roles,
        audited=True,
        created_by=principal.user_id,
    )
    return UserOut.of(user)


@router.put("/admin/users/{user_id}/roles")
async def admin_set_roles(
    user_id: Id, body: RolesIn, principal: AdminPrincipal, session: SessionDep
) -> UserOut:
    if user_id == principal.user_id and Role.ADMIN not in body.roles:
        raise Conflict(gettext("an admin cannot remove their own admin role"), code="self-demotion")
    return UserOut.of(
        await service.set_roles(session, user_id, body.roles, actor_id=principal.user_id)
    )


@router.patch("/admin/users/{user_id}")
async def admin_set_active(
    user_id: Id, body: ActiveIn, principal: AdminPrincipal, session: SessionDep
) -> UserOut:
    """Deactivating a user also revokes every token they hold."""
    return UserOut.of(
        await service.set_active(session, user_id, body.is_active, actor_id=principal.user_id)
    )
