"""Paid in-room orders → the room's ticker and stock, a sold-out deal's end: coalesced.

A show's orders and GMV and a deal's units sold are counted inside the paying transaction
(``wiring.count_paid``, subscribed to ``orders.events.OrdersPaid``). What is left for after the
commit is telling the room — and ending a deal that has just sold out. One paid order at a
time, that was a transaction per order on the deal's row, the hottest of a drop, while the
room's news went out one purchase at a time. The node's ``SaleTally`` folds the paid orders it
hears of into one batch: the deals that sold out are ended in one transaction, and the rooms
get one ticker line per product and one stock figure per deal, whatever the number of orders.

Group commit, no timer (``core.group_commit``): the first paid order goes out at once; those
paid meanwhile wait for the next batch, so batches grow with the load and a quiet room pays
nothing extra. ``record`` returns once its batch has gone out, so a paid request answers after
the room has heard of it, as before.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field

import structlog

from liveshop.core.db import Database
from liveshop.core.group_commit import GroupCommit
from liveshop.inventory import service as inventory
from liveshop.live.deals import service as deals
from liveshop.live.deals.models import DealEndReason
from liveshop.live.deals.router import announce_deal_end, publish_deal_stock
from liveshop.orders.notify import OrderPaid
from liveshop.realtime.publish import RoomPublisher

log = structlog.get_logger("liveshop.live.deals.tally")


@dataclass
class _Sales:
    """What a batch of paid orders adds up to."""

    deal_units: dict[int, int] = field(default_factory=lambda: defaultdict(int))
    # (session, product) → units bought, and its title: one ticker line per product
    bought: dict[tuple[int, int], int] = field(default_factory=lambda: defaultdict(int))
    titles: dict[int, str] = field(default_factory=dict)
    skus: dict[int, tuple[int, int]] = field(default_factory=dict)  # sku → (session, product)

    def add(self, event: OrderPaid) -> None:
        session_id = event.live_session_id
        assert session_id is not None
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
        """Tell the paid order's room (end its deal if it sold out); returns once told."""
        if event.live_session_id is not None:
            await self._writer.submit(event)

    async def _write(self, events: list[OrderPaid]) -> list[None]:
        batch = _Sales()
        for event in events:
            batch.add(event)
        publisher = self.publisher()
        ended: set[int] = set()
        async with self.db.session() as s:
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
