"""Returns on the order pages: the buyer asks (``/orders/{id}/returns``) and prints the
return label; the seller approves, rejects or receives (``/seller/returns/{id}/…``)."""

from __future__ import annotations

from typing import Annotated

from fastapi import Form, Request, Response

from liveshop.accounts.deps import BuyerPrincipal, CurrentPrincipal, SellerPrincipal, SessionDep
from liveshop.core.errors import NotFound, Problem
from liveshop.core.i18n import gettext as _
from liveshop.core.types import Id, Line
from liveshop.logistics import returns
from liveshop.logistics.documents import return_label_pdf
from liveshop.logistics.router import speedup_of
from liveshop.orders import queries
from liveshop.orders.completion import load_order
from liveshop.web.flash import redirect
from liveshop.web.pages_common import payment_provider
from liveshop.web.routing import page_router

router = page_router(tags=["pages"])


@router.post("/orders/{order_id}/returns")
async def ask_return(
    order_id: Id,
    request: Request,
    session: SessionDep,
    principal: BuyerPrincipal,
    reason: Annotated[Line, Form(max_length=20)],
    note: Annotated[Line, Form(max_length=500)] = "",
) -> Response:
    """One quantity field per line (``qty-<line id>``); lines left at 0 stay."""
    back = f"/orders/{order_id}"
    form = await request.form()
    order = await load_order(session, order_id)
    if order.buyer_id != principal.user_id:
        raise NotFound(
            _("order %(order_id)s does not exist", order_id=order_id), code="order-not-found"
        )
    wanted = []
    for line in order.lines:
        raw = str(form.get(f"qty-{line.id}", "0") or "0")
        qty = int(raw) if raw.isdigit() and len(raw) < 4 else 0
        if qty > 0:
            wanted.append(returns.ReturnQty(line.id, qty))
    try:
        await returns.request_return(
            session, order_id, buyer_id=principal.user_id, lines=wanted, reason=reason, note=note
        )
    except Problem as exc:
        if exc.status >= 500:
            raise
        await session.rollback()
        return redirect(f"{back}#returns", flash=("error", exc.detail))
    return redirect(
        f"{back}#returns", flash=("success", _("Return requested: the seller will answer soon."))
    )


@router.get("/orders/{order_id}/returns/{return_id}/label.pdf")
async def return_label(
    order_id: Id, return_id: Id, session: SessionDep, principal: CurrentPrincipal
) -> Response:
    found = await returns.get_return(session, return_id)
    if found.order_id != order_id:
        raise NotFound(
            _("return %(return_id)s does not exist", return_id=return_id), code="return-not-found"
        )
    await queries.visible_order(session, principal, order_id)
    return Response(
        await return_label_pdf(session, found),
        media_type="application/pdf",
        headers={"Content-Disposition": f'inline; filename="return-{found.tracking_number}.pdf"'},
    )


async def _staff(session: SessionDep, principal: SellerPrincipal, return_id: Id) -> int:
    found = await returns.get_return(session, return_id)
    await queries.staff_order(session, principal, found.order_id)
    return found.order_id


@router.post("/seller/returns/{return_id}/approve")
async def approve(
    return_id: Id, request: Request, session: SessionDep, principal: SellerPrincipal
) -> Response:
    order_id = await _staff(session, principal, return_id)
    done = await returns.approve(
        session, return_id, actor_id=principal.user_id, speedup=speedup_of(request)
    )
    return redirect(
        f"/seller/orders/{order_id}#returns",
        flash=(
            "success",
            _(
                "Return approved: label %(tracking_number)s for the buyer.",
                tracking_number=done.tracking_number,
            ),
        ),
    )


@router.post("/seller/returns/{return_id}/reject")
async def reject(
    return_id: Id,
    session: SessionDep,
    principal: SellerPrincipal,
    reason: Annotated[Line, Form(max_length=300)] = "",
) -> Response:
    order_id = await _staff(session, principal, return_id)
    back = f"/seller/orders/{order_id}#returns"
    if not reason.strip():
        return redirect(back, flash=("error", _("Say why you refuse the return.")))
    await returns.reject(session, return_id, actor_id=principal.user_id, reason=reason)
    return redirect(back, flash=("info", _("Return refused.")))


@router.post("/seller/returns/{return_id}/receive")
async def receive(
    return_id: Id, request: Request, session: SessionDep, principal: SellerPrincipal
) -> Response:
    order_id = await _staff(session, principal, return_id)
    await returns.receive(session, payment_provider(request), return_id, actor_id=principal.user_id)
    return redirect(
        f"/seller/orders/{order_id}#returns",
        flash=(
            "success",
            _("Return received: the units are back in stock and the buyer refunded."),
        ),
    )
