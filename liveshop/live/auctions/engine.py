"""The auction's rules, with no database: proxy (maximum) bids, the increment table and the
timer (anti-snipe or sudden death). ``place`` decides one bid against the lot's state; the
service runs it for each bid of a batch, in arrival order, under the lot's row lock, and
writes the state it leaves. A property test drives it against a plain model.

Proxy bidding (as eBay's): every bid is a maximum. The leader is the bidder with the
highest maximum (the earlier one on a tie); the price the room sees is what it takes to
beat the runner-up — one increment above the runner-up's maximum, never above the leader's.
So a bid never lowers the price, and the leader never pays more than they said.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from itertools import pairwise

from liveshop.core.errors import Unprocessable
from liveshop.core.i18n import gettext as _

# The step above a price: from 0, 1.00; from 20.00, 2.00; … (in minor units of a
# 2-exponent currency; a lot's own table may replace it).
DEFAULT_INCREMENTS: tuple[tuple[int, int], ...] = (
    (0, 100),
    (2_000, 200),
    (10_000, 500),
    (50_000, 1_000),
    (100_000, 2_500),
)
MAX_STEPS = 20


def check_increments(table: Sequence[Sequence[int]]) -> list[list[int]]:
    """A table of ``[from_minor, increment_minor]`` rows: the first from 0, ``from``
    strictly rising, increments positive and never falling (so a higher price never needs a
    smaller step: the price a proxy bid sets can only rise)."""
    rows = [list(r) for r in table]
    if not 1 <= len(rows) <= MAX_STEPS or any(len(r) != 2 for r in rows):
        raise Unprocessable(
            _(
                "the increment table has 1 to %(max_steps)s [from_minor, increment_minor] rows",
                max_steps=MAX_STEPS,
            ),
            code="bad-increments",
        )
    if rows[0][0] != 0:
        raise Unprocessable(_("the increment table starts from 0"), code="bad-increments")
    for (f0, i0), (f1, i1) in pairwise(rows):
        if f1 <= f0 or i1 < i0:
            raise Unprocessable(
                _("the increment table's prices rise and its steps never fall"),
                code="bad-increments",
            )
    if any(i <= 0 for _f, i in rows):
        raise Unprocessable(_("increments are above 0"), code="bad-increments")
    return rows


def increment(table: Sequence[Sequence[int]], price: int) -> int:
    step = table[0][1]
    for start, inc in table:
        if price >= start:
            step = inc
        else:
            break
    return step


@dataclass(frozen=True, slots=True)
class Lot:
    """What the bidding reads and writes of an auction row."""

    start_minor: int
    increments: tuple[tuple[int, int], ...]
    ends_at: datetime
    anti_snipe: bool
    snipe: timedelta
    current_minor: int = 0
    leader_id: int | None = None
    leader_max_minor: int = 0
    bid_count: int = 0
    extensions: int = 0

    def minimum(self) -> int:
        """The least a new bidder must offer now."""
        if self.leader_id is None:
            return self.start_minor
        return self.current_minor + increment(self.increments, self.current_minor)


@dataclass(frozen=True, slots=True)
class Placed:
    """One bid's outcome. ``accepted``: stored as a bid (it raised the price, a maximum or
    took the lead); otherwise ``code`` says why not."""

    accepted: bool
    leading: bool
    code: str | None = None
    detail: str = ""
    minimum: int = 0
    extended: bool = False


def place(lot: Lot, bidder_id: int, max_minor: int, now: datetime) -> tuple[Lot, Placed]:
    """Decide one bid at ``now`` (the server's clock)."""
    if now >= lot.ends_at:
        return lot, Placed(False, False, "auction-ended", "the hammer has fallen")
    minimum = lot.minimum()
    if bidder_id == lot.leader_id:
        if max_minor <= lot.leader_max_minor:
            return lot, Placed(
                False,
                True,
                "already-leading",
                "you lead already; to raise your maximum, bid above it",
                minimum=minimum,
            )
        # A higher maximum for the leader: the price stays where the runner-up put it.
        return replace(lot, leader_max_minor=max_minor, bid_count=lot.bid_count + 1), Placed(
            True, True, minimum=minimum
        )
    if max_minor < minimum:
        return lot, Placed(
            False,
            False,
            "bid-too-low",
            f"the least bid now is {minimum}",
            minimum=minimum,
        )
    if lot.leader_id is None:
        after = replace(lot, leader_id=bidder_id, leader_max_minor=max_minor)
        after = replace(after, current_minor=lot.start_minor)
        leading = True
    elif max_minor > lot.leader_max_minor:
        price = min(
            max_minor,
            lot.leader_max_minor + increment(lot.increments, lot.leader_max_minor),
        )
        after = replace(lot, leader_id=bidder_id, leader_max_minor=max_minor, current_minor=price)
        leading = True
    else:  # the leader's proxy answers: the price rises to beat this bid, up to their max
        price = min(lot.leader_max_minor, max_minor + increment(lot.increments, max_minor))
        after = replace(lot, current_minor=max(price, lot.current_minor))
        leading = False
    after = replace(after, bid_count=lot.bid_count + 1)
    extended = False
    if lot.anti_snipe and lot.ends_at - now < lot.snipe:
        after = replace(after, ends_at=now + lot.snipe, extensions=lot.extensions + 1)
        extended = True
    return after, Placed(True, leading, minimum=after.minimum(), extended=extended)
