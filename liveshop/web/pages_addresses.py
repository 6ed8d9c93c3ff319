"""The buyer's address book (``/account/addresses``) and choosing where an unpaid order goes
(the pay page's "Deliver to")."""

from __future__ import annotations

from typing import Annotated
from urllib.parse import quote

from fastapi import Form, Path, Query, Request, Response

from liveshop.accounts.deps import BuyerPrincipal, SessionDep
from liveshop.addresses import service as addresses
from liveshop.addresses.schemas import AddressOut
from liveshop.addresses.validation import COUNTRIES
from liveshop.core.errors import Problem
from liveshop.core.i18n import gettext as _
from liveshop.core.types import Id, Line
from liveshop.markets.service import get_market
from liveshop.orders import ship_to
from liveshop.orders.completion import load_order
from liveshop.orders.schemas import MAX_ID
from liveshop.web.flash import redirect
from liveshop.web.routing import page_router
from liveshop.web.security import local_path
from liveshop.web.templating import current_market, render

router = page_router(tags=["pages"])

AddressId = Annotated[int, Path(ge=1, le=MAX_ID)]
FormLine = Annotated[Line, Form(max_length=120)]
PAGE = "/account/addresses"

# The label each field gets on the form (the country's own words would be better still).
LABELS = {
    "full_name": "Full name",
    "company_name": "Company (optional)",
    "phone": "Phone",
    "street_address": "Street address",
    "city": "Town / city",
    "city_area": "District",
    "country_area": "State / province / county",
    "postal_code": "Postcode / ZIP",
    "sorting_code": "Sorting code",
}
MESSAGES = {
    "required": "is required in this country",
    "invalid": "is not valid in this country",
    "invalid_phone": "is not a valid phone number",
    "unsupported": "is not a country we deliver to",
}


def _page(next_path: str) -> str:
    back = local_path(next_path, default="") if next_path else ""
    return f"{PAGE}?next={quote(back, safe='')}" if back else PAGE


async def _render(
    request: Request,
    session: SessionDep,
    principal: BuyerPrincipal,
    *,
    values: dict[str, str],
    errors: dict[str, str],
    next_path: str,
) -> Response:
    rows = await addresses.list_addresses(session, principal.user_id)
    context = {
        "title": _("Your addresses"),
        "addresses": [AddressOut.of(a) for a in rows],
        "countries": sorted(COUNTRIES),
        "labels": LABELS,
        "values": values,
        "errors": {k: MESSAGES.get(v, v) for k, v in errors.items()},
        "next": local_path(next_path, default="") if next_path else "",
        "max_addresses": addresses.MAX_ADDRESSES,
    }
    # The form comes back with what was typed and each field's problem (200: a page, not an
    # error page — the API answers 422).
    return await render(request, session, principal, "addresses.html", context)


@router.get("/account/addresses")
async def addresses_page(
    request: Request,
    session: SessionDep,
    principal: BuyerPrincipal,
    next: Annotated[Line, Query(max_length=300)] = "",
) -> Response:
    market = await current_market(request, session)
    return await _render(
        request,
        session,
        principal,
        values={"country_code": market.code},
        errors={},
        next_path=next,
    )


@router.post("/account/addresses")
async def add_address(
    request: Request,
    session: SessionDep,
    principal: BuyerPrincipal,
    country_code: Annotated[Line, Form(max_length=2)],
    full_name: FormLine = "",
    company_name: FormLine = "",
    phone: Annotated[Line, Form(max_length=32)] = "",
    street_address: Annotated[Line, Form(max_length=300)] = "",
    city: FormLine = "",
    city_area: FormLine = "",
    country_area: FormLine = "",
    postal_code: Annotated[Line, Form(max_length=20)] = "",
    make_default: Annotated[bool, Form()] = False,
    next: Annotated[Line, Form(max_length=300)] = "",
) -> Response:
    """A bad field re-shows the form with what was typed and the field's problem."""
    values = {
        "country_code": country_code,
        "full_name": full_name,
        "company_name": company_name,
        "phone": phone,
        "street_address": street_address,
        "city": city,
        "city_area": city_area,
        "country_area": country_area,
        "postal_code": postal_code,
    }
    try:
        address = await addresses.add_address(
            session, user_id=principal.user_id, data=values, make_default=make_default
        )
    except Problem as exc:
        if exc.code != "invalid-address":
            raise
        await session.rollback()
        errors = dict(exc.extra.get("errors") or {})
        return await _render(
            request, session, principal, values=values, errors=errors, next_path=next
        )
    note = _(" It is your default there.") if address.is_default else ""
    target = local_path(next, default="") if next else ""
    return redirect(target or PAGE, flash=("success", _("Address saved.%(note)s", note=note)))


@router.post("/account/addresses/{address_id}/default")
async def make_default(
    address_id: AddressId,
    session: SessionDep,
    principal: BuyerPrincipal,
    next: Annotated[Line, Form(max_length=300)] = "",
) -> Response:
    address = await addresses.set_default(session, user_id=principal.user_id, address_id=address_id)
    return redirect(
        _page(next),
        flash=(
            "success",
            _("Orders in %(country_code)s go here now.", country_code=address.country_code),
        ),
    )


@router.post("/account/addresses/{address_id}/delete")
async def delete_address(
    address_id: AddressId,
    session: SessionDep,
    principal: BuyerPrincipal,
    next: Annotated[Line, Form(max_length=300)] = "",
) -> Response:
    await addresses.delete_address(session, user_id=principal.user_id, address_id=address_id)
    return redirect(
        _page(next), flash=("info", _("Address deleted. Past orders keep where they were sent."))
    )


@router.post("/orders/{order_id}/address")
async def choose_order_address(
    order_id: Id,
    session: SessionDep,
    principal: BuyerPrincipal,
    address_id: Annotated[int, Form(ge=1, le=MAX_ID)],
) -> Response:
    """The pay page's (or a paid order's) "Deliver to": another of the buyer's addresses in
    the order's country, until the seller books a parcel."""
    order = await load_order(session, order_id)
    if order.buyer_id != principal.user_id:
        return redirect("/orders", flash=("error", _("That order is not yours.")))
    market = await get_market(session, order.market_code)
    target = await addresses.address_snapshot(session, principal.user_id, address_id, market.code)
    await ship_to.change_order_address(
        session, buyer_id=principal.user_id, order_id=order_id, ship_to=target
    )
    back = f"/orders/{order_id}/pay" if order.status == "pending_payment" else f"/orders/{order_id}"
    return redirect(back, flash=("success", _("Delivery address changed.")))
