"""The auction's rules as a state machine (hypothesis): any sequence of bids from a few
bidders, the clock moving on, and the hammer. Checked against a plain model: the leader is
the bidder with the highest maximum (the first to reach it on a tie), the price is at least
the runner-up's best and at most one step above it (never above the leader's maximum, never
below the start),
prices never fall, no bid counts at or after the end, anti-snipe resets the timer to N
seconds on a bid in the last N and sudden death never moves it."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, rule

from liveshop.core.errors import Unprocessable
from liveshop.live.auctions import engine

T0 = datetime(2026, 12, 6, 20, 0, tzinfo=UTC)
TABLE = ((0, 100), (2_000, 200), (5_000, 500))


class Bidding(RuleBasedStateMachine):
    @initialize(
        anti_snipe=st.booleans(),
        start=st.integers(100, 3_000),
        duration=st.integers(5, 30),
        snipe=st.integers(1, 5),
    )
    def open_lot(self, anti_snipe: bool, start: int, duration: int, snipe: int) -> None:
        self.now = T0
        self.lot = engine.Lot(
            start_minor=start,
            increments=TABLE,
            ends_at=T0 + timedelta(seconds=duration),
            anti_snipe=anti_snipe,
            snipe=timedelta(seconds=snipe),
        )
        self.first_end = self.lot.ends_at
        self.best: dict[int, tuple[int, int]] = {}  # bidder -> (best max, order reached)
        self.order = 0
        self.last_price = 0
        self.hammered: int | None = None

    @rule(ms=st.integers(0, 4_000))
    def time_passes(self, ms: int) -> None:
        self.now += timedelta(milliseconds=ms)

    @rule(who=st.integers(1, 4), over=st.integers(-300, 4_000))
    def bid(self, who: int, over: int) -> None:
        if self.hammered is not None:
            return
        amount = max(1, self.lot.minimum() + over)
        before = self.lot
        after, placed = engine.place(self.lot, who, amount, self.now)
        if self.now >= before.ends_at:
            assert not placed.accepted and placed.code == "auction-ended"
            assert after == before
            return
        # The leader may raise their own maximum by any amount; anyone else bids at least
        # the minimum.
        if who == before.leader_id:
            expected = amount > before.leader_max_minor
        else:
            expected = amount >= before.minimum()
        assert placed.accepted == expected, (placed, amount, before)
        if not placed.accepted:
            assert after == before
            return
        self.order += 1
        if amount > self.best.get(who, (0, 0))[0]:
            self.best[who] = (amount, self.order)
        if who == before.leader_id:
            assert after.ends_at == before.ends_at and after.current_minor == before.current_minor
        elif before.anti_snipe and before.ends_at - self.now < before.snipe:
            assert after.ends_at == self.now + before.snipe
        else:
            assert after.ends_at == before.ends_at
        self.lot = after

    @rule()
    def hammer(self) -> None:
        if self.now >= self.lot.ends_at and self.hammered is None:
            self.hammered = self.lot.leader_id if self.lot.leader_id is not None else 0

    @invariant()
    def leader_and_price_follow_the_model(self) -> None:
        lot = self.lot
        if not self.best:
            assert lot.leader_id is None
            return
        ranked = sorted(self.best.items(), key=lambda kv: (-kv[1][0], kv[1][1]))
        leader, (top, _) = ranked[0]
        assert lot.leader_id == leader and lot.leader_max_minor == top
        if len(ranked) == 1:
            assert lot.current_minor == lot.start_minor
        else:
            # At least the runner-up's best, at most one step above it (and never above the
            # leader's maximum): exactly that step unless the leader had only matched it
            # (a tie goes to the first) when it came.
            second = ranked[1][1][0]
            assert second <= lot.current_minor <= min(top, second + engine.increment(TABLE, second))
        assert lot.start_minor <= lot.current_minor <= top
        assert lot.current_minor >= self.last_price
        self.last_price = lot.current_minor
        if self.hammered:
            assert self.hammered == leader

    @invariant()
    def the_timer_only_moves_by_anti_snipe(self) -> None:
        if not self.lot.anti_snipe:
            assert self.lot.ends_at == self.first_end and self.lot.extensions == 0
        else:
            assert self.lot.ends_at >= self.first_end


TestBidding = Bidding.TestCase
TestBidding.settings = settings(max_examples=80, stateful_step_count=30, deadline=None)


def test_increment_tables_are_checked() -> None:
    assert engine.check_increments([[0, 50], [1000, 100]]) == [[0, 50], [1000, 100]]
    for bad in ([], [[10, 50]], [[0, 100], [500, 50]], [[0, 100], [0, 200]], [[0, 0]], [[0]]):
        with pytest.raises(Unprocessable):
            engine.check_increments(bad)
    assert engine.increment(TABLE, 1_999) == 100 and engine.increment(TABLE, 2_000) == 200
