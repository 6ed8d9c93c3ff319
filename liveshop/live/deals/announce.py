"""Flash deals' room events, queued inside the transaction that starts or ends the deal
(see ``liveshop.live.announce``): they go out once it commits, never if it rolls back."""

from __future__ import annotations

from liveshop.core.events import EventType
from liveshop.live.deals.models import FlashDeal
from liveshop.realtime.publish import AfterCommit, deal_ended_event, deal_started_event


def drop_fields(deal: FlashDeal) -> dict[str, object]:
    """How the deal shares its units, as the room and the API show it."""
    return {
        "policy": deal.policy,
        "per_product_limit": deal.per_product_limit,
        "hold_seconds": deal.hold_seconds,
        "draw_at": deal.draw_at.isoformat() if deal.draw_at else None,
        "seed_sha256": deal.lottery_seed_sha256,
        "seed": deal.lottery_seed if deal.drawn_at is not None else None,
        "served_through": deal.served_through,
        "version": deal.stock_version,
    }


def deal_started(room: AfterCommit, deal: FlashDeal) -> None:
    payload = deal_started_event(
        deal_id=deal.id,
        product_id=deal.product_id,
        sku_id=deal.sku_id,
        price_minor=deal.price_minor,
        currency=deal.currency,
        units=deal.units,
        per_buyer_limit=deal.per_buyer_limit,
        ends_at=deal.ends_at,
        regular_price_minor=deal.regular_price_minor,
        drop=drop_fields(deal),
    )
    room.publish(deal.session_id, EventType.DEAL_STARTED, payload)


def deal_ended(room: AfterCommit, deal: FlashDeal) -> None:
    payload = deal_ended_event(
        deal_id=deal.id, reason=deal.end_reason or "ended_early", sold=deal.sold
    )
    room.publish(deal.session_id, EventType.DEAL_ENDED, payload)
