"""Sign up, log in, log out, and choosing the market to shop in."""

from __future__ import annotations

from typing import Annotated
from urllib.parse import quote

from fastapi import Form, Request, Response
from pydantic import ValidationError

from liveshop.accounts import service as accounts
from liveshop.accounts.deps import CurrentPrincipal, MaybePrincipal, SessionDep
from liveshop.accounts.models import TokenKind
from liveshop.accounts.schemas import SignupIn
from liveshop.core.errors import Unauthorized
from liveshop.markets.service import get_market
from liveshop.web.flash import redirect
from liveshop.web.routing import page_router
from liveshop.web.security import clear_session_cookies, local_path, set_session_cookies
from liveshop.web.templating import MARKET_COOKIE, render

router = page_router(tags=["pages"])

Text = Annotated[str, Form(max_length=300)]


def _login_url(next_path: str, email: str = "") -> str:
    url = f"/login?next={quote(next_path, safe='')}"
    return url + (f"&email={quote(email, safe='')}" if email else "")


@router.get("/login")
async def login_page(
    request: Request, session: SessionDep, principal: MaybePrincipal, next: str = "/"
) -> Response:
    target = local_path(next)
    if principal is not None:
        return redirect(target)
    email = request.query_params.get("email", "")[:254]
    return await render(
        request, session, None, "login.html", {"next": target, "email": email, "title": "Log in"}
    )


@router.post("/login")
async def login(
    session: SessionDep,
    _: MaybePrincipal,
    email: Annotated[str, Form(max_length=254)],
    password: Annotated[str, Form(max_length=256)],
    next: Text = "/",
) -> Response:
    target = local_path(next)
    try:
        user = await accounts.authenticate(session, email, password)
    except Unauthorized:
        return redirect(_login_url(target, email), flash=("error", "E-mail or password is wrong."))
    issued = await accounts.issue_token(session, user, kind=TokenKind.SESSION)
    response = redirect(target, flash=("success", f"Welcome back, {user.display_name}!"))
    set_session_cookies(response, issued.token)
    return response


@router.get("/signup")
async def signup_page(
    request: Request, session: SessionDep, principal: MaybePrincipal, next: str = "/"
) -> Response:
    if principal is not None:
        return redirect(local_path(next))
    return await render(
        request, session, None, "signup.html", {"next": local_path(next), "title": "Sign up"}
    )


@router.post("/signup")
async def signup(
    session: SessionDep,
    _: MaybePrincipal,
    email: Annotated[str, Form(max_length=254)],
    display_name: Annotated[str, Form(max_length=80)],
    password: Annotated[str, Form(max_length=256)],
    next: Text = "/",
) -> Response:
    """Anyone may open a buyer account; they are signed in straight away."""
    target = local_path(next)
    try:
        data = SignupIn(email=email, password=password, display_name=display_name)
    except ValidationError as exc:
        first = exc.errors()[0]
        field = str(first["loc"][-1]).replace("_", " ") if first["loc"] else "the form"
        message = f"Please check {field}: {first['msg']}."
        return redirect(f"/signup?next={quote(target, safe='')}", flash=("error", message))
    user = await accounts.create_user(
        session, email=data.email, password=data.password, display_name=data.display_name
    )
    issued = await accounts.issue_token(session, user, kind=TokenKind.SESSION)
    response = redirect(target, flash=("success", f"Welcome to liveshop, {user.display_name}!"))
    set_session_cookies(response, issued.token)
    return response


@router.post("/logout")
async def logout(principal: CurrentPrincipal, session: SessionDep) -> Response:
    """Revokes this browser's session token, not the user's other sessions or API tokens."""
    await accounts.revoke_token(session, user_id=principal.user_id, token_id=principal.token_id)
    response = redirect("/", flash=("info", "You are signed out."))
    clear_session_cookies(response)
    return response


@router.get("/market/{code}")
async def choose_market(
    code: str, session: SessionDep, _: MaybePrincipal, next: str = "/"
) -> Response:
    """Remember the market to shop in (a preference cookie; it changes no data)."""
    market = await get_market(session, code[:2])
    response = redirect(local_path(next))
    response.set_cookie(MARKET_COOKIE, market.code, max_age=365 * 24 * 3600, samesite="lax")
    return response
