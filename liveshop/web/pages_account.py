"""Sign up, log in, log out, choosing the market to shop in, and the account page (the
buyer's saved cards: "Payment methods")."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated
from urllib.parse import quote

from fastapi import Form, Request, Response
from pydantic import ValidationError

from liveshop.accounts import service as accounts
from liveshop.accounts import throttle
from liveshop.accounts.deps import BuyerPrincipal, CurrentPrincipal, MaybePrincipal, SessionDep
from liveshop.accounts.models import Role, TokenKind
from liveshop.accounts.passwords import MIN_PASSWORD_LENGTH as MIN_PW
from liveshop.accounts.schemas import PasswordChangeIn, ProfileIn, SignupIn
from liveshop.core import i18n
from liveshop.core.errors import Unauthorized, Unprocessable, field_message
from liveshop.core.i18n import gettext, ngettext
from liveshop.core.i18n import gettext as _
from liveshop.core.ratelimit import ClientAddress, RateLimiterDep
from liveshop.core.settings import get_settings
from liveshop.core.types import FormCount, Id, Line
from liveshop.markets.service import get_market
from liveshop.orders import saved_cards
from liveshop.orders.payments.provider import CardDetails
from liveshop.orders.schemas import SavedCardIn
from liveshop.web.flash import redirect
from liveshop.web.language import LANGUAGE_COOKIE
from liveshop.web.pages_common import payment_provider
from liveshop.web.routing import page_router
from liveshop.web.security import clear_session_cookies, local_path, set_session_cookies
from liveshop.web.templating import MARKET_COOKIE, render

router = page_router(tags=["pages"])

NextForm = Annotated[Line, Form(max_length=300)]


def page_market(code: str | None) -> str:
    """The market of the page a sign-in came from (``?market=``): the log-in and sign-up
    pages speak its languages (an Indonesian room's "Log in to buy" opens them in
    Indonesian), and keep it through a failed attempt."""
    code = (code or "").strip().upper()
    return code if len(code) == 2 and code.isalpha() else ""


def _with_market(url: str, market: str) -> str:
    return url + (f"&market={market}" if page_market(market) else "")


def _login_url(next_path: str, email: str = "", market: str = "") -> str:
    url = f"/login?next={quote(next_path, safe='')}"
    url += f"&email={quote(email, safe='')}" if email else ""
    return _with_market(url, market)


@router.get("/login")
async def login_page(
    request: Request, session: SessionDep, principal: MaybePrincipal, next: Line = "/"
) -> Response:
    target = local_path(next)
    if principal is not None:
        return redirect(target)
    email = request.query_params.get("email", "")[:254]
    return await render(
        request,
        session,
        None,
        "login.html",
        {
            "next": target,
            "email": email,
            "title": gettext("Log in"),
            "page_market": page_market(request.query_params.get("market")),
        },
    )


@router.post("/login")
async def login(
    session: SessionDep,
    _: MaybePrincipal,
    email: Annotated[Line, Form(max_length=254)],
    password: Annotated[Line, Form(max_length=256)],
    limiter: RateLimiterDep,
    client: ClientAddress,
    next: NextForm = "/",
    market: Annotated[Line, Form(max_length=2)] = "",
) -> Response:
    target = local_path(next)
    try:
        user = await throttle.log_in(
            session, limiter, email=email, password=password, client=client
        )
    except Unauthorized:
        return redirect(
            _login_url(target, email, market),
            flash=("error", gettext("E-mail or password is wrong.")),
        )
    issued = await accounts.issue_token(session, user, kind=TokenKind.SESSION)
    response = redirect(
        target,
        flash=(
            "success",
            gettext("Welcome back, %(display_name)s!", display_name=user.display_name),
        ),
    )
    set_session_cookies(response, issued.token)
    return response


@router.get("/signup")
async def signup_page(
    request: Request, session: SessionDep, principal: MaybePrincipal, next: Line = "/"
) -> Response:
    if principal is not None:
        return redirect(local_path(next))
    return await render(
        request,
        session,
        None,
        "signup.html",
        {
            "next": local_path(next),
            "title": gettext("Sign up"),
            "page_market": page_market(request.query_params.get("market")),
        },
    )


@router.post("/signup")
async def signup(
    session: SessionDep,
    _: MaybePrincipal,
    email: Annotated[Line, Form(max_length=254)],
    display_name: Annotated[Line, Form(max_length=80)],
    password: Annotated[Line, Form(max_length=256)],
    limiter: RateLimiterDep,
    client: ClientAddress,
    next: NextForm = "/",
    market: Annotated[Line, Form(max_length=2)] = "",
) -> Response:
    """Anyone may open a buyer account; they are signed in straight away."""
    target = local_path(next)
    await throttle.may_sign_up(limiter, client=client)
    try:
        data = SignupIn(email=email, password=password, display_name=display_name)
    except ValidationError as exc:
        first = exc.errors()[0]
        field = str(first["loc"][-1]).replace("_", " ") if first["loc"] else gettext("the form")
        message = gettext(
            "Please check %(field)s: %(problem)s.", field=field, problem=field_message(first)
        )
        back = _with_market(f"/signup?next={quote(target, safe='')}", market)
        return redirect(back, flash=("error", message))
    user = await accounts.create_user(
        session, email=data.email, password=data.password, display_name=data.display_name
    )
    issued = await accounts.issue_token(session, user, kind=TokenKind.SESSION)
    response = redirect(
        target,
        flash=(
            "success",
            gettext("Welcome to liveshop, %(display_name)s!", display_name=user.display_name),
        ),
    )
    set_session_cookies(response, issued.token)
    return response


@router.post("/logout")
async def logout(principal: CurrentPrincipal, session: SessionDep) -> Response:
    """Revokes this browser's session token, not the user's other sessions or API tokens."""
    await accounts.revoke_token(session, user_id=principal.user_id, token_id=principal.token_id)
    response = redirect("/", flash=("info", gettext("You are signed out.")))
    clear_session_cookies(response)
    return response


@router.get("/market/{code}")
async def choose_market(
    code: Line, session: SessionDep, _: MaybePrincipal, next: Line = "/"
) -> Response:
    """Remember the market to shop in (a preference cookie; it changes no data)."""
    market = await get_market(session, code[:2])
    response = redirect(local_path(next))
    response.set_cookie(
        MARKET_COOKIE,
        market.code,
        max_age=365 * 24 * 3600,
        httponly=True,
        samesite="lax",
        secure=get_settings().cookie_secure,
    )
    return response


@router.post("/language")
async def choose_language(
    session: SessionDep,
    principal: MaybePrincipal,
    language: Annotated[Line, Form(max_length=16)],
    next: NextForm = "/",
) -> Response:
    """The header's language switcher and the account page's field: kept in a cookie, and as
    the user's preference when signed in (their e-mails and every device follow it)."""
    chosen = i18n.normalize(language)
    if chosen is None or chosen not in i18n.LANGUAGES:
        raise Unprocessable(i18n.gettext("That language is not offered."), code="unknown-language")
    if principal is not None:
        await accounts.set_language(session, principal.user_id, chosen)
    response = redirect(local_path(next))
    response.set_cookie(
        LANGUAGE_COOKIE,
        chosen,
        max_age=365 * 24 * 3600,
        httponly=True,
        samesite="lax",
        secure=get_settings().cookie_secure,
    )
    return response


# -- the account page: payment methods ------------------------------------------------------
CARDS_ANCHOR = "/account#payment-methods"
TEST_CARD = "4242 4242 4242 4242"
CardId = Id


@router.get("/account")
async def account_page(
    request: Request, session: SessionDep, principal: CurrentPrincipal, next: Line = ""
) -> Response:
    """Who you are, (buyers) the cards you pay with in one tap, and your API tokens."""
    return await _account(request, session, principal, next)


async def _account(
    request: Request,
    session: SessionDep,
    principal: CurrentPrincipal,
    next: str = "",
    new_token: str | None = None,
) -> Response:
    can_buy = principal.has(Role.BUYER, Role.ADMIN)
    tokens = [
        t for t in await accounts.list_tokens(session, principal.user_id) if t.kind == TokenKind.API
    ]
    cards = await saved_cards.list_cards(session, principal.user_id) if can_buy else []
    back = local_path(next, default="") if next else ""
    context = {
        "title": gettext("Your account"),
        "can_buy": can_buy,
        "cards": cards,
        "max_cards": saved_cards.MAX_CARDS,
        "test_card": TEST_CARD,
        "exp_year": datetime.now(UTC).year + 3,
        "back": back,
        "next": back,
        "api_tokens": tokens,
        "new_token": new_token,
        "has_money": principal.has(Role.CREATOR, Role.SELLER, Role.AGENCY),
        "min_password": MIN_PW,
    }
    return await render(request, session, principal, "account.html", context)


@router.post("/account/profile")
async def update_profile(
    session: SessionDep,
    principal: CurrentPrincipal,
    display_name: Annotated[Line, Form(max_length=80)],
) -> Response:
    try:
        data = ProfileIn(display_name=display_name)
    except ValidationError:
        return redirect("/account#profile", flash=("error", _("Give the name others see.")))
    await accounts.update_profile(session, principal.user_id, display_name=data.display_name)
    return redirect("/account#profile", flash=("success", _("Your details are saved.")))


@router.post("/account/password")
async def change_password(
    session: SessionDep,
    principal: CurrentPrincipal,
    limiter: RateLimiterDep,
    current_password: Annotated[Line, Form(max_length=256)],
    new_password: Annotated[Line, Form(max_length=256)],
    sign_out_api_tokens: Annotated[bool, Form()] = False,
) -> Response:
    """A new password given the current one; every other session is signed out (this one
    stays). Wrong current passwords count against a limit (429 after a few)."""
    back = "/account#password"
    try:
        data = PasswordChangeIn(
            current_password=current_password,
            new_password=new_password,
            sign_out_api_tokens=sign_out_api_tokens,
        )
    except ValidationError:
        return redirect(
            back,
            flash=("error", _("The new password needs at least %(n)s characters.", n=MIN_PW)),
        )
    try:
        revoked = await throttle.change_password(
            session,
            limiter,
            user_id=principal.user_id,
            current=data.current_password,
            new=data.new_password,
            keep_token_id=principal.token_id,
            sign_out_api_tokens=data.sign_out_api_tokens,
        )
    except Unauthorized:
        return redirect(back, flash=("error", _("Your current password is not that.")))
    return redirect(
        back,
        flash=(
            "success",
            ngettext(
                "Password changed. %(num)d other session was signed out.",
                "Password changed. %(num)d other sessions were signed out.",
                revoked,
            ),
        ),
    )


@router.post("/account/tokens")
async def create_token(
    request: Request,
    session: SessionDep,
    principal: CurrentPrincipal,
    name: Annotated[Line, Form(min_length=1, max_length=100)],
) -> Response:
    """A personal API token, shown once on the page that answers (never stored in clear)."""
    user = await accounts.get_user(session, principal.user_id)
    issued = await accounts.issue_token(session, user, kind=TokenKind.API, name=name.strip())
    return await _account(request, session, principal, new_token=issued.token)


@router.post("/account/tokens/{token_id}/revoke")
async def revoke_token(token_id: Id, session: SessionDep, principal: CurrentPrincipal) -> Response:
    """Revoke one of the caller's tokens (another's is a 404, as in the API)."""
    await accounts.revoke_token(session, user_id=principal.user_id, token_id=token_id)
    return redirect(
        "/account#api-tokens", flash=("info", gettext("Token revoked: it no longer works."))
    )


def _cards_page(next_path: str) -> str:
    back = local_path(next_path, default="") if next_path else ""
    return f"/account?next={quote(back, safe='')}#payment-methods" if back else CARDS_ANCHOR


@router.post("/account/cards")
async def add_card(
    request: Request,
    session: SessionDep,
    principal: BuyerPrincipal,
    card_number: Annotated[Line, Form(max_length=30)],
    exp_month: Annotated[FormCount, Form(ge=1, le=12)],
    exp_year: Annotated[int, Form(ge=2000, le=2100)],
    cvc: Annotated[Line, Form(max_length=4)] = "",
    make_default: Annotated[bool, Form()] = False,
    next: NextForm = "",
) -> Response:
    """The provider keeps the card; liveshop keeps its token, brand, last 4 and expiry."""
    back = _cards_page(next)
    try:
        data = SavedCardIn(
            card_number=card_number,
            exp_month=exp_month,
            exp_year=exp_year,
            cvc=cvc or None,
            make_default=make_default,
        )
    except ValidationError:
        return redirect(back, flash=("error", gettext("Please check the card details.")))
    card = await saved_cards.save_card(
        session,
        payment_provider(request),
        buyer_id=principal.user_id,
        card=CardDetails(
            data.card_number.replace(" ", "").replace("-", ""),
            data.exp_month,
            data.exp_year,
            data.cvc,
        ),
        make_default=data.make_default,
    )
    note = gettext(" It is your default card.") if card.is_default else ""
    return redirect(
        back, flash=("success", gettext("%(label)s is saved.%(note)s", label=card.label, note=note))
    )


@router.post("/account/cards/{card_id}/default")
async def make_default_card(
    card_id: CardId, session: SessionDep, principal: BuyerPrincipal, next: NextForm = ""
) -> Response:
    card = await saved_cards.set_default(session, buyer_id=principal.user_id, card_id=card_id)
    return redirect(
        _cards_page(next),
        flash=("success", gettext("%(label)s is your default card.", label=card.label)),
    )


@router.post("/account/cards/{card_id}/delete")
async def remove_card(
    card_id: CardId,
    request: Request,
    session: SessionDep,
    principal: BuyerPrincipal,
    next: NextForm = "",
) -> Response:
    card = await saved_cards.get_card(session, principal.user_id, card_id)
    label = card.label
    await saved_cards.delete_card(
        session, payment_provider(request), buyer_id=principal.user_id, card_id=card_id
    )
    return redirect(
        _cards_page(next), flash=("info", gettext("%(label)s is removed.", label=label))
    )
