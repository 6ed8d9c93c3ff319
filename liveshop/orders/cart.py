"""A buyer's cart per market: quantities only; prices are read fresh at checkout."""

from __future__ import annotations

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from liveshop.catalog.service import get_sku_offer
from liveshop.core.clock import utcnow
from liveshop.core.errors import Unprocessable
from liveshop.core.i18n import gettext as _
from liveshop.markets.service import require_market
from liveshop.orders.checkout import MAX_LINES, MAX_QUANTITY
from liveshop.orders.models import Cart, CartLine


async def get_cart(session: AsyncSession, buyer_id: int, market_code: str) -> Cart:
    market = await require_market(session, market_code)
    cart = await session.scalar(
        select(Cart).where(Cart.buyer_id == buyer_id, Cart.market_code == market.code)
    )
    if cart is None:
        cart = Cart(buyer_id=buyer_id, market_code=market.code, lines=[])
    return cart


async def set_line(
    session: AsyncSession, buyer_id: int, market_code: str, sku_id: int, quantity: int
) -> Cart:
    """Set a SKU's quantity (0 removes it). The SKU must be on sale in that market."""
    if not 0 <= quantity <= MAX_QUANTITY:
        raise Unprocessable(
            _("quantity must be 0 to %(max_quantity)s", max_quantity=MAX_QUANTITY),
            code="bad-quantity",
        )
    cart = await get_cart(session, buyer_id, market_code)
    if cart.id is None:
        session.add(cart)
        await session.flush()
    existing = next((ln for ln in cart.lines if ln.sku_id == sku_id), None)
    if quantity == 0:
        if existing is not None:
            cart.lines.remove(existing)
    else:
        await get_sku_offer(session, sku_id, cart.market_code)
        if existing is not None:
            existing.quantity = quantity
        elif len(cart.lines) >= MAX_LINES:
            raise Unprocessable(
                _("a cart holds at most %(max_lines)s lines", max_lines=MAX_LINES),
                code="too-many-lines",
            )
        else:
            cart.lines.append(CartLine(sku_id=sku_id, quantity=quantity))
    cart.updated_at = utcnow()
    await session.commit()
    await session.refresh(cart, ["lines"])
    return cart


async def clear(
    session: AsyncSession, buyer_id: int, market_code: str, *, sku_ids: list[int] | None = None
) -> None:
    cart = await get_cart(session, buyer_id, market_code)
    if cart.id is None:
        return
    query = delete(CartLine).where(CartLine.cart_id == cart.id)
    if sku_ids is not None:
        query = query.where(CartLine.sku_id.in_(sku_ids))
    await session.execute(query)
    await session.commit()
