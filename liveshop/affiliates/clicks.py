"""Attribution clicks: a buyer followed a creator's showcase or replay link to a product.

A click earns the creator commission on that product for ``ATTRIBUTION_WINDOW`` (last click
wins). Recording and reading clicks is data; deciding an order's attribution (which also
needs the live session the order was placed in) is ``creators.attribution``'s.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from liveshop.accounts.models import Role
from liveshop.accounts.service import get_user
from liveshop.affiliates.models import AttributionClick
from liveshop.catalog.products import get_product
from liveshop.core.clock import utcnow
from liveshop.core.errors import NotFound, Unprocessable
from liveshop.core.i18n import gettext as _

ATTRIBUTION_WINDOW = timedelta(days=7)


async def ensure_creator(session: AsyncSession, creator_id: int) -> None:
    try:
        user = await get_user(session, creator_id)
    except NotFound as exc:
        raise NotFound(
            _("creator %(creator_id)s does not exist", creator_id=creator_id),
            code="creator-not-found",
        ) from exc
    if Role.CREATOR not in user.role_names:
        raise NotFound(
            _("creator %(creator_id)s does not exist", creator_id=creator_id),
            code="creator-not-found",
        )


async def record_click(
    session: AsyncSession, *, buyer_id: int, creator_id: int, product_id: int
) -> AttributionClick:
    """The buyer followed the creator's link to the product. Commits."""
    await ensure_creator(session, creator_id)
    try:
        await get_product(session, product_id)
    except NotFound as exc:
        raise Unprocessable(
            _("product %(product_id)s does not exist", product_id=product_id),
            code="unknown-product",
            product_id=product_id,
        ) from exc
    click = AttributionClick(
        buyer_id=buyer_id, creator_id=creator_id, product_id=product_id, clicked_at=utcnow()
    )
    session.add(click)
    await session.commit()
    return click


async def latest_clicks(
    session: AsyncSession, *, buyer_id: int, product_ids: Sequence[int], at: datetime
) -> dict[int, tuple[int, datetime]]:
    """Product -> (creator, time) of the buyer's latest click inside the window."""
    rows = await session.execute(
        select(
            AttributionClick.product_id, AttributionClick.creator_id, AttributionClick.clicked_at
        )
        .where(
            AttributionClick.buyer_id == buyer_id,
            AttributionClick.product_id.in_(list(product_ids)),
            AttributionClick.clicked_at > at - ATTRIBUTION_WINDOW,
            AttributionClick.clicked_at <= at,
        )
        .order_by(AttributionClick.clicked_at, AttributionClick.id)
    )
    latest: dict[int, tuple[int, datetime]] = {}
    for product_id, creator_id, clicked_at in rows.all():
        latest[int(product_id)] = (int(creator_id), clicked_at)  # later rows win
    return latest
