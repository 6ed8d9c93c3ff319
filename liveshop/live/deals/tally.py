"""Paid in-room orders → the show's figures, the deal's count and the room's ticker, coalesced.

Every paid order of a show used to update the show's row (orders, GMV) and its deal's row
(units sold) in a transaction of its own. During a drop those two rows are the hottest in the
database: hundreds of paying buyers queued on their locks while the node's event loop was busy
elsewhere (a lock held across other coroutines' turns), and paying ran at ~20 orders/s with
half a core idle. The node's ``SaleTally`` folds every paid order it hears of into one pending
batch and writes it as ONE transaction — one ``UPDATE`` per show and per deal, whatever the
number of orders — then ends the deals that sold out and tells the rooms (one ticker line per
product, one stock figure per deal).

Group commit, no timer (like the claim desk's batcher): the first paid order is written at
once; those paid while a write is running wait for the next one, so batches grow with the load
and a quiet room pays nothing extra. ``record`` returns when the batch holding the order is
written, so the paid request answers after its room figures are in, as before.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field

import structlog

from liveshop.core.db import Database
from liveshop.core.group_commit import GroupCommit
from liveshop.inventory import service as inventory
from liveshop.live import activity
from liveshop.live.deals import service as deals
from liveshop.live.deals.models import DealEndReason
from liveshop.live.deals.router import announce_deal_end, publish_deal_stock
from liveshop.orders.notify import OrderPaid
from liveshop.realtime.publish import RoomPublisher

log = structlog.get_logger("liveshop.live.deals.tally")


@dataclass
class _Sales:
    """What a batch of paid orders adds up to."""

    shows: dict[int, list[int]] = field(default_factory=dict)  # session → [orders, gmv]
    currency: dict[int, str] = field(default_factory=dict)
    deal_units: dict[int, int] = field(default_factory=lambda: defaultdict(int))
    # (session, product) → units bought, and its title: one ticker line per product
    bought: dict[tuple[int, int], int] = field(default_factory=lambda: defaultdict(int))
    titles: dict[int, str] = field(default_factory=dict)
    skus: dict[int, tuple[int, int]] = field(default_factory=dict)  # sku → (session, product)

    def add(self, event: OrderPaid) -> None:
        session_id = event.live_session_id
        assert session_id is not None
        show = self.shows.setdefault(session_id, [0, 0])
        show[0] += 1
        show[1] += event.goods_minor
        self.currency[session_id] = event.currency
        for line in event.lines:
            if line.deal_id is not None:
                self.deal_units[line.deal_id] += line.quantity
            else:
                self.skus[line.sku_id] = (session_id, line.product_id)
            self.bought[(session_id, line.product_id)] += line.quantity
            self.titles[line.product_id] = line.title


class SaleTally:
    def __init__(self, db: Database, publisher: Callable[[], RoomPublisher]) -> None:
        self.db = db
        self.publisher = publisher
        self._writer: GroupCommit[OrderPaid, None] = GroupCommit(self._write, name="sale-tally")

    async def record(self, event: OrderPaid) -> None:
        """Count the paid order in its show (and deal); returns once it is written."""
        if event.live_session_id is not None:
            await self._writer.submit(event)

    async def _write(self, events: list[OrderPaid]) -> list[None]:
        batch = _Sales()
        for event in events:
            batch.add(event)
        publisher = self.publisher()
        ended: set[int] = set()
        async with self.db.session() as s:
            for session_id, (orders, gmv) in sorted(batch.shows.items()):
                await activity.record_sale(
                    s, session_id, gmv_minor=gmv, currency=batch.currency[session_id], orders=orders
                )
            for deal_id, units in sorted(batch.deal_units.items()):
                await deals.record_deal_sale(s, deal_id, units)
            await s.commit()
            for deal_id in sorted(batch.deal_units):
                deal = await deals.get_deal(s, deal_id)
                if deal.sold >= deal.units and await deals.end_deal(
                    s, deal.id, reason=DealEndReason.SOLD_OUT
                ):
                    ended.add(deal.id)
            await s.commit()
            for (session_id, product_id), quantity in batch.bought.items():
                await publisher.purchase(
                    session_id,
                    product_id=product_id,
                    title=batch.titles[product_id],
                    quantity=quantity,
                )
            for deal_id in sorted(batch.deal_units):
                deal = await deals.get_deal(s, deal_id)
                if deal.id in ended:
                    await announce_deal_end(s, publisher, deal)
                else:
                    await publish_deal_stock(s, publisher, deal)
            for sku_id, (session_id, product_id) in sorted(batch.skus.items()):
                summary = await inventory.stock_summary(s, sku_id)
                await publisher.stock(
                    session_id, sku_id=sku_id, available=summary.available, product_id=product_id
                )
            await s.commit()
        return [None] * len(events)
