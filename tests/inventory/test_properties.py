"""Rule-based property test: any sequence of receive, adjust, reserve, split, commit (also
late), release, expire and return keeps every stock invariant and matches a plain Python
model of the counts, per warehouse and per reservation (both databases)."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from hypothesis import HealthCheck, event, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    initialize,
    invariant,
    precondition,
    rule,
    run_state_machine_as_test,
)
from sqlalchemy import select

from liveshop.core.clock import utcnow
from liveshop.core.db import Database
from liveshop.core.errors import Conflict
from liveshop.inventory import service as inv
from liveshop.inventory.models import Reservation, StockLevel
from tests.conftest import reset_database
from tests.inventory.conftest import assert_stock_consistent, insert_shop, insert_sku

WAREHOUSES = (0, 1)  # 0: the default warehouse (stock is taken from it first), 1: a second one
HOLD = timedelta(minutes=10)


@dataclass
class Level:
    received: int = 0
    available: int = 0
    held: int = 0
    sold: int = 0

    def counts(self) -> tuple[int, int, int, int]:
        return (self.received, self.available, self.held, self.sold)


@dataclass
class Res:
    level: int
    quantity: int
    expiring: bool
    parent: int | None = None
    status: str = "held"


@dataclass
class Model:
    """What the counts should be, computed the simple way."""

    levels: dict[int, Level] = field(default_factory=dict)
    res: dict[int, Res] = field(default_factory=dict)

    def order(self, first: int | None = None) -> list[int]:
        present = [w for w in WAREHOUSES if w in self.levels]
        return sorted(present, key=lambda w: w != first)

    def live_parent(self, r: Res) -> Res | None:
        parent = self.res.get(r.parent) if r.parent is not None else None
        return parent if parent is not None and parent.status == "held" else None

    def give_back(self, r: Res) -> None:
        parent = self.live_parent(r)
        if parent is not None:
            event("units went back to the parent")
            parent.quantity += r.quantity
        else:
            self.levels[r.level].held -= r.quantity
            self.levels[r.level].available += r.quantity

    def pick(self, i: int, *statuses: str, child: bool = False) -> int | None:
        ids = sorted(
            rid
            for rid, r in self.res.items()
            if (not statuses or r.status in statuses) and (not child or r.parent is not None)
        )
        return ids[i % len(ids)] if ids else None


class StockMachine(RuleBasedStateMachine):
    def __init__(self, loop: asyncio.AbstractEventLoop, db: Database) -> None:
        super().__init__()
        self.loop, self.db = loop, db
        self.model = Model()
        self.warehouse_ids: dict[int, int] = {}
        self.level_ids: dict[int, int] = {}  # model warehouse -> stock_levels.id

    def run(self, fn: Any) -> Any:
        """Run ``fn(session)`` in its own transaction; commit unless it raised."""

        async def go() -> Any:
            async with self.db.session() as s:
                out = await fn(s)
                await s.commit()
                return out

        return self.loop.run_until_complete(go())

    @initialize(first=st.integers(1, 12))
    def setup(self, first: int) -> None:
        async def go() -> None:
            await reset_database(self.db)
            self.shop_id = await insert_shop(self.db)
            self.sku_id = await insert_sku(self.db, self.shop_id)

        self.loop.run_until_complete(go())

        async def houses(s: Any) -> dict[int, int]:
            default = await inv.ensure_default_warehouse(s, self.shop_id)
            second = await inv.create_warehouse(s, self.shop_id, name="Second")
            return {0: default, 1: second.id}

        self.warehouse_ids = self.run(houses)
        self.stock(0, first)

    @rule(w=st.sampled_from(WAREHOUSES), delta=st.integers(-6, 9).filter(bool))
    def stock(self, w: int, delta: int) -> None:
        """receive (delta > 0, or adjust up) and adjust (delta < 0)."""
        lv = self.model.levels.get(w)
        ok = delta > 0 or (lv is not None and lv.available >= -delta)
        wid = self.warehouse_ids[w]
        try:
            if delta > 0 and delta % 2:
                self.run(
                    lambda s: inv.receive(
                        s,
                        sku_id=self.sku_id,
                        quantity=delta,
                        reason="",
                        actor_id=None,
                        warehouse_id=wid,
                    )
                )
            else:
                self.run(
                    lambda s: inv.adjust(
                        s,
                        sku_id=self.sku_id,
                        delta=delta,
                        reason="count",
                        actor_id=None,
                        warehouse_id=wid,
                    )
                )
        except inv.StockWouldGoNegative:
            assert not ok
            return
        assert ok
        lv = self.model.levels.setdefault(w, Level())
        lv.received += delta
        lv.available += delta

    @rule(n=st.integers(1, 4), expiring=st.booleans())
    def reserve(self, n: int, expiring: bool) -> None:
        hold = HOLD if expiring else None
        want = next((w for w in self.model.order() if self.model.levels[w].available >= n), None)
        try:
            r = self.run(
                lambda s: inv.reserve(
                    s, sku_id=self.sku_id, quantity=n, reference="order:x", hold_for=hold
                )
            )
        except inv.OutOfStock as exc:
            assert want is None
            assert exc.available == max(lv.available for lv in self.model.levels.values())
            return
        assert want is not None and r.stock_level_id == self.level_ids[want]
        self.model.levels[want].available -= n
        self.model.levels[want].held += n
        self.model.res[r.id] = Res(want, n, expiring)

    @precondition(lambda self: self.model.res)
    @rule(i=st.integers(0, 100), n=st.integers(1, 3), expiring=st.booleans())
    def split(self, i: int, n: int, expiring: bool) -> None:
        parent_id = self.model.pick(i, "held") or self.model.pick(i)
        assert parent_id is not None
        p = self.model.res[parent_id]
        ok = p.status == "held" and p.quantity >= n
        hold = HOLD if expiring else None
        try:
            child = self.run(
                lambda s: inv.split_reservation(
                    s, parent_id, quantity=n, reference="order:y", hold_for=hold
                )
            )
        except inv.OutOfStock as exc:
            assert not ok
            assert exc.available == (p.quantity if p.status == "held" else 0)
            return
        assert ok
        event("split")
        p.quantity -= n
        self.model.res[child.id] = Res(p.level, n, expiring, parent=parent_id)

    @precondition(lambda self: self.model.res)
    @rule(i=st.integers(0, 100), late=st.booleans(), child=st.booleans())
    def commit(self, i: int, late: bool, child: bool) -> None:
        rid = None
        if late:  # a payment arriving after its hold ran out or was cancelled
            done = ("expired", "released")
            rid = self.model.pick(i, *done, child=child) or self.model.pick(i, *done)
        rid = rid or self.model.pick(i)
        assert rid is not None
        r = self.model.res[rid]
        try:
            got = self.run(lambda s: inv.commit_reservation(s, rid))
        except inv.ReservationLost:
            event("commit: late, stock gone")
            assert r.status in ("expired", "released")
            parent = self.model.live_parent(r)
            assert parent is None or parent.quantity < r.quantity
            if r.parent is None:  # a split's units come from its parent or not at all
                assert all(self.model.levels[w].available < r.quantity for w in self.model.order())
            return
        if r.status == "held":
            self.model.levels[r.level].held -= r.quantity
            self.model.levels[r.level].sold += r.quantity
        elif r.status != "committed":
            parent = self.model.live_parent(r)
            if r.parent is not None:
                assert parent is not None and parent.quantity >= r.quantity
                event("commit: late, from the parent")
                parent.quantity -= r.quantity
                self.model.levels[r.level].held -= r.quantity
                self.model.levels[r.level].sold += r.quantity
            else:
                event("commit: late, from available")
                w = next(
                    w
                    for w in self.model.order(first=r.level)
                    if self.model.levels[w].available >= r.quantity
                )
                assert got.stock_level_id == self.level_ids[w]
                r.level = w
                self.model.levels[w].available -= r.quantity
                self.model.levels[w].sold += r.quantity
        r.status = "committed"

    @precondition(lambda self: self.model.res)
    @rule(i=st.integers(0, 100), child=st.booleans())
    def release(self, i: int, child: bool) -> None:
        rid = (self.model.pick(i, "held", child=True) if child else None) or self.model.pick(i)
        assert rid is not None
        r = self.model.res[rid]
        done = self.run(lambda s: inv.release_reservation(s, rid))
        assert done == (r.status == "held")
        if done:
            r.status = "released"
            self.model.give_back(r)

    @rule()
    def expire_all_due(self) -> None:
        later = utcnow() + timedelta(days=1)
        n = self.run(lambda s: inv.release_expired(s, now=later))
        due = [r for r in self.model.res.values() if r.status == "held" and r.expiring]
        assert n == len(due)
        for r in due:  # all leave HELD first: an expiring parent takes no units back
            r.status = "expired"
        for r in due:
            self.model.give_back(r)

    @precondition(lambda self: any(lv.sold for lv in self.model.levels.values()))
    @rule(n=st.integers(1, 4))
    def return_units(self, n: int) -> None:
        want = next((w for w in self.model.order() if self.model.levels[w].sold >= n), None)
        try:
            self.run(lambda s: inv.return_units(s, sku_id=self.sku_id, quantity=n, reference="r"))
        except Conflict as exc:
            assert exc.code == "nothing-to-return" and want is None
            return
        assert want is not None
        self.model.levels[want].sold -= n
        self.model.levels[want].available += n

    @invariant()
    def database_matches_the_model(self) -> None:
        if not self.warehouse_ids:
            return

        async def read(s: Any) -> Any:
            summary = await inv.stock_summary(s, self.sku_id)  # nothing is due: reads only
            levels = (
                await s.execute(
                    select(
                        StockLevel.warehouse_id,
                        StockLevel.id,
                        StockLevel.received,
                        StockLevel.available,
                        StockLevel.held,
                        StockLevel.sold,
                    ).where(StockLevel.sku_id == self.sku_id)
                )
            ).all()
            res = (
                await s.execute(
                    select(
                        Reservation.id,
                        Reservation.stock_level_id,
                        Reservation.status,
                        Reservation.quantity,
                    )
                )
            ).all()
            return summary, levels, res

        summary, levels, res = self.run(read)
        by_warehouse = {wid: (lid, tuple(c)) for wid, lid, *c in levels}
        for w, wid in self.warehouse_ids.items():
            if wid in by_warehouse:
                self.level_ids[w] = by_warehouse[wid][0]
        got_levels = {
            w: by_warehouse[wid][1] for w, wid in self.warehouse_ids.items() if wid in by_warehouse
        }
        assert got_levels == {w: lv.counts() for w, lv in self.model.levels.items()}
        for received, available, held, sold in got_levels.values():
            assert min(available, held, sold) >= 0
            assert received == available + held + sold
        for lid, counts in by_warehouse.values():  # held = units of HELD reservations
            assert counts[2] == sum(q for _, at, status, q in res if at == lid and status == "held")
        assert {rid: (status, q) for rid, _, status, q in res} == {
            rid: (r.status, r.quantity) for rid, r in self.model.res.items()
        }
        totals = [sum(c[k] for c in got_levels.values()) for k in range(4)]
        assert summary == inv.StockSummary(self.sku_id, *totals)

    def teardown(self) -> None:
        if self.warehouse_ids:  # the movement log rebuilds every count
            self.loop.run_until_complete(assert_stock_consistent(self.db, self.sku_id))


def test_stock_operations_keep_every_invariant(db_url: str) -> None:
    loop = asyncio.new_event_loop()
    db = Database(db_url)
    try:
        run_state_machine_as_test(
            lambda: StockMachine(loop, db),
            settings=settings(
                max_examples=30,
                stateful_step_count=30,
                deadline=None,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
            ),
        )
    finally:
        loop.run_until_complete(db.dispose())
        loop.close()
