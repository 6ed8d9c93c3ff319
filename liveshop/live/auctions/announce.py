"""Auctions' room events. ``auction_started`` and ``auction_ended`` are queued in the
transaction that starts or ends the lot (they go out once it commits); ``auction_bid`` is
published by the node's bid desk after a batch commits. Each carries the lot's ``version``
(raised by every batch), so a room never goes back to an older price from another node.
The leader appears by public name only."""

from __future__ import annotations

from typing import Any

from liveshop.core.events import EventType
from liveshop.live.auctions.engine import Lot, increment
from liveshop.live.auctions.models import Auction
from liveshop.realtime.publish import AfterCommit


def auction_fields(auction: Auction, leader_name: str | None) -> dict[str, Any]:
    lot_min = (
        auction.start_minor
        if auction.leader_id is None
        else auction.current_minor + increment(auction.increments, auction.current_minor)
    )
    return {
        "auction_id": auction.id,
        "product_id": auction.product_id,
        "sku_id": auction.sku_id,
        "title": auction.title,
        "quantity": auction.quantity,
        "currency": auction.currency,
        "start_minor": auction.start_minor,
        "current_minor": auction.current_minor if auction.leader_id is not None else None,
        "minimum_minor": lot_min,
        "leader_id": auction.leader_id,
        "leader_name": leader_name,
        "bids": auction.bid_count,
        "mode": auction.mode,
        "snipe_seconds": auction.snipe_seconds,
        "increments": auction.increments,
        "ends_at": auction.ends_at.isoformat(),
        "status": auction.status,
        "version": auction.version,
        "winner_id": auction.winner_id,
        "hammer_minor": auction.hammer_minor,
    }


def bid_fields(
    *,
    auction_id: int,
    version: int,
    lot: Lot,
    leader_name: str | None,
    currency: str,
    quantity: int,
) -> dict[str, Any]:
    return {
        "auction_id": auction_id,
        "version": version,
        "current_minor": lot.current_minor,
        "minimum_minor": lot.minimum(),
        "leader_id": lot.leader_id,
        "leader_name": leader_name,
        "bids": lot.bid_count,
        "ends_at": lot.ends_at.isoformat(),
        "extensions": lot.extensions,
        "currency": currency,
        "quantity": quantity,
    }


def started(room: AfterCommit, auction: Auction) -> None:
    payload = {"auction": auction_fields(auction, None)}
    room.publish(auction.session_id, EventType.AUCTION_STARTED, payload)


def hammer(room: AfterCommit, auction: Auction, leader_name: str | None) -> None:
    room.publish(auction.session_id, EventType.AUCTION_ENDED, auction_fields(auction, leader_name))


def ended(room: AfterCommit, auction: Auction, winner_name: str | None) -> None:
    fields = auction_fields(auction, winner_name if auction.winner_id else None)
    fields["winner_name"] = winner_name
    room.publish(auction.session_id, EventType.AUCTION_ENDED, fields)
