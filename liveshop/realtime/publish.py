"""Publishing into a live room — the one API every domain uses to reach viewers.

No viewer may ever see a change the database does not have. A change made in a transaction
queues its event with :meth:`RoomPublisher.on_commit` (``liveshop.core.db.on_commit``): it
goes out once the transaction commits and never if it rolls back. The direct calls below are
for what is not a database change (counters, a sale already committed by someone else, video
state) or is published after its commit. Each event is numbered in the room's sequence
(atomically on the broker), so it does not matter which node publishes: all viewers on all
nodes see the same event with the same ``seq``.

    publisher = room_publisher(request.app)   # or RoomPublisherDep in a route
    room = publisher.on_commit(session)       # queued now, published by session.commit()
    room.publish(session_id, EventType.PIN, pin_event(product))
    await publisher.stock(session_id, sku_id=sku.id, available=summary.available)
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Annotated, Any, Protocol

from fastapi import Depends, FastAPI, Request
from sqlalchemy.ext.asyncio import AsyncSession

from liveshop.core.broker import Broker
from liveshop.core.db import on_commit
from liveshop.core.events import EventType, encode_body
from liveshop.realtime.ports import DealStockListener
from liveshop.realtime.state import HELD, PRIVATE

TICKER_TEXT_MAX = 140


def room_channel(session_id: int) -> str:
    return f"room:{session_id}"


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value is not None else None


class PinnedProduct(Protocol):
    """A product as the ``pin`` event carries it (price in the market's currency, stock)."""

    def to_event(self) -> dict[str, Any]: ...


def pin_event(product: PinnedProduct | None) -> dict[str, Any]:
    return {"product": product.to_event() if product is not None else None}


def session_started_event(at: datetime | None) -> dict[str, Any]:
    return {"at": _iso(at)}


def session_ended_event(status: str, at: datetime | None) -> dict[str, Any]:
    return {"status": status, "at": _iso(at)}


def comment_hidden_event(comment_ids: Sequence[int]) -> dict[str, Any]:
    return {"ids": list(comment_ids)}


def comment_shown_event(
    *, comment_id: int, user_id: int, display_name: str, text: str, host: bool, at: datetime
) -> dict[str, Any]:
    """The line with ``comment_ts``, when it was first posted (epoch ms), so rooms put it
    back in its place."""
    payload = _comment(comment_id, user_id, display_name, text, host)
    payload["comment_ts"] = round(at.timestamp() * 1000, 3)
    return payload


def deal_started_event(
    *,
    deal_id: int,
    product_id: int,
    sku_id: int,
    price_minor: int,
    currency: str,
    units: int,
    ends_at: datetime,
    regular_price_minor: int | None = None,
    per_buyer_limit: int | None = None,
    drop: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """``per_buyer_limit``: units one buyer may take from the deal (None: no limit);
    ``drop``: how the deal shares its units (policy, hold, lottery draw), as the deals
    domain words it."""
    deal = {
        "deal_id": deal_id,
        "product_id": product_id,
        "sku_id": sku_id,
        "price_minor": price_minor,
        "regular_price_minor": regular_price_minor,
        "currency": currency,
        "units": units,
        "per_buyer_limit": per_buyer_limit,
        "available": units,
        "ends_at": _iso(ends_at),
        **(drop or {}),
    }
    return {"deal": deal}


def deal_ended_event(*, deal_id: int, reason: str, sold: int) -> dict[str, Any]:
    """``reason``: "sold_out", "expired" or "ended_early"."""
    return {"deal_id": deal_id, "reason": reason, "sold": sold}


class AfterCommit:
    """The room events of one database transaction: queued while it is open, published in
    the order queued once it commits (by the ``commit()`` that commits it, before the caller
    goes on), dropped if it rolls back. ``seqs``: the numbers they got, once out."""

    def __init__(self, publisher: RoomPublisher, session: AsyncSession) -> None:
        self.publisher = publisher
        self.session = session
        self.seqs: list[int] = []

    def publish(
        self,
        session_id: int,
        event_type: EventType,
        payload: Mapping[str, Any],
        *,
        ts: float | None = None,
    ) -> None:
        async def send() -> None:
            self.seqs.append(await self.publisher.publish(session_id, event_type, payload, ts=ts))

        on_commit(self.session, send)

    @property
    def last_seq(self) -> int | None:
        return self.seqs[-1] if self.seqs else None


class RoomPublisher:
    def __init__(self, broker: Broker, *, history: int = 1000) -> None:
        self.broker = broker
        self.history = history
        # The node's claim desk (handed in by the deals domain): hears each deal's stock
        # published outside a claim batch. Per publisher, so per app: nothing process-wide.
        self.deal_stock: DealStockListener | None = None

    async def publish(
        self,
        session_id: int,
        event_type: EventType,
        payload: Mapping[str, Any],
        *,
        ts: float | None = None,
    ) -> int:
        """Any room event; returns its seq. ``ts`` defaults to now (epoch ms)."""
        body = encode_body(event_type, payload, ts=ts)
        seq, _ = await self.broker.publish_sequenced(
            room_channel(session_id), body, history=self.history
        )
        return seq

    def on_commit(self, session: AsyncSession) -> AfterCommit:
        """Events that go out only once ``session``'s transaction commits."""
        return AfterCommit(self, session)

    def publish_on_commit(
        self,
        session: AsyncSession,
        session_id: int,
        event_type: EventType,
        payload: Mapping[str, Any],
        *,
        ts: float | None = None,
    ) -> AfterCommit:
        """One event queued on ``session``: published when its transaction commits."""
        queued = self.on_commit(session)
        queued.publish(session_id, event_type, payload, ts=ts)
        return queued

    async def comment(
        self,
        session_id: int,
        *,
        comment_id: int,
        user_id: int,
        display_name: str,
        text: str,
        host: bool,
        held: bool = False,
        private: bool = False,
    ) -> int:
        """A stored chat line. ``host``: the creator's or a moderator's (never sampled away).

        ``held``: the automatic filter held it — rooms deliver it to its author's sockets
        (as an ordinary ``comment``, the marker taken out: see ``realtime.state.Ev``) and to
        the room's hosts' (marked ``held``, for the moderator screen), and leave it out of
        everyone else's frames, snapshots and replays. ``private`` (a held complaint: it
        went to seller support, and the creator sees only how many): its author's only."""
        payload = _comment(comment_id, user_id, display_name, text, host)
        if held:
            payload[HELD] = PRIVATE if private else True
        return await self.publish(session_id, EventType.COMMENT, payload)

    async def pin(self, session_id: int, product: PinnedProduct | None) -> int:
        """Pinned product with price in the market's currency and stock; None unpins."""
        return await self.publish(session_id, EventType.PIN, pin_event(product))

    async def stock(
        self,
        session_id: int,
        *,
        sku_id: int,
        available: int,
        product_id: int | None = None,
        deal_id: int | None = None,
        ts: float | None = None,
        **drop: int | None,
    ) -> int:
        """Units left of a SKU (of a flash deal's allocation when ``deal_id`` is given).

        Coalesced in the room: within one tick only the latest per (sku, deal) goes out,
        so publish every change — viewers always end on the true last number. ``drop``: a
        deal's ``version`` (a viewer keeps the highest it saw), ``paying``, ``waiting``,
        ``served_through``.
        """
        payload: dict[str, Any] = {
            "sku_id": sku_id,
            "available": available,
            "product_id": product_id,
            "deal_id": deal_id,
            **drop,
        }
        return await self.publish(session_id, EventType.STOCK, payload, ts=ts)

    async def deal_started(
        self,
        session_id: int,
        *,
        deal_id: int,
        product_id: int,
        sku_id: int,
        price_minor: int,
        currency: str,
        units: int,
        ends_at: datetime,
        regular_price_minor: int | None = None,
        per_buyer_limit: int | None = None,
    ) -> int:
        payload = deal_started_event(
            deal_id=deal_id,
            product_id=product_id,
            sku_id=sku_id,
            price_minor=price_minor,
            currency=currency,
            units=units,
            ends_at=ends_at,
            regular_price_minor=regular_price_minor,
            per_buyer_limit=per_buyer_limit,
        )
        return await self.publish(session_id, EventType.DEAL_STARTED, payload)

    async def deal_ended(self, session_id: int, *, deal_id: int, reason: str, sold: int) -> int:
        """``reason``: "sold_out", "expired" or "ended_early"."""
        payload = deal_ended_event(deal_id=deal_id, reason=reason, sold=sold)
        return await self.publish(session_id, EventType.DEAL_ENDED, payload)

    async def purchase(
        self,
        session_id: int,
        *,
        product_id: int,
        title: str,
        city: str | None = None,
        quantity: int = 1,
    ) -> int:
        """Ticker line. Never pass a name, e-mail or address: ``city`` is the most it says."""
        where = f" in {city}" if city else ""
        what = f"{quantity} × {title}" if quantity > 1 else title
        text = f"Someone{where} just bought {what}"[:TICKER_TEXT_MAX]
        # One payload for the whole room: the viewers' pages word it in their own languages
        # from ``city``/``title``/``quantity`` (``static/js/room.js``: tickerText); ``text``
        # is the English line for API clients.
        payload = {
            "product_id": product_id,
            "quantity": quantity,
            "title": title[:TICKER_TEXT_MAX],
            "city": city,
            "text": text,
        }
        return await self.publish(session_id, EventType.PURCHASE, payload)

    async def session_started(self, session_id: int, *, at: datetime | None) -> int:
        return await self.publish(session_id, EventType.SESSION_STARTED, session_started_event(at))

    async def session_ended(self, session_id: int, *, status: str, at: datetime | None) -> int:
        payload = session_ended_event(status, at)
        return await self.publish(session_id, EventType.SESSION_ENDED, payload)


def room_publisher(app: FastAPI) -> RoomPublisher:
    """The app's publisher (set up by ``liveshop.realtime.wiring.install_realtime``)."""
    publisher: RoomPublisher = app.state.hub.publisher
    return publisher


def _publisher_dep(request: Request) -> RoomPublisher:
    return room_publisher(request.app)


RoomPublisherDep = Annotated[RoomPublisher, Depends(_publisher_dep)]


def _comment(
    comment_id: int, user_id: int, display_name: str, text: str, host: bool
) -> dict[str, Any]:
    """A chat line as events carry it."""
    return {
        "id": comment_id,
        "user": {"id": user_id, "name": display_name},
        "text": text,
        "host": host,
    }
