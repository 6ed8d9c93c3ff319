"""Exact integer splitting: pro-rata shares and pro-rata reversals, never a lost minor unit.

The rule everywhere is *largest remainder* (Hamilton): every share starts at the floor of its
exact rational quota; the units still missing go one each to the largest remainders; ties go
to a deterministic order (see each function). Only ``//`` and ``%`` on ints are used.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from liveshop.ledger.entries import (
    AccountKey,
    InvalidPosting,
    Posting,
    require_minor_units,
    validate_postings,
)


def allocate(total: int, weights: Sequence[int]) -> list[int]:
    """Split ``total`` in proportion to ``weights``; the shares sum to ``total`` exactly.

    Each share is ``floor(total × w / W)`` or one more (largest remainder; ties go to the
    earlier weight). A negative total is split as ``-allocate(-total, weights)`` so the rule is
    the same on both sides of zero. Weights are non-negative ints with a positive sum; a zero
    weight always gets 0.
    """
    require_minor_units(total, "total")
    ws = [require_minor_units(w, "weight") for w in weights]
    if not ws:
        raise ValueError("allocate needs at least one weight")
    if any(w < 0 for w in ws):
        raise ValueError("weights must not be negative")
    whole = sum(ws)
    if whole <= 0:
        raise ValueError("weights must have a positive sum")
    if total < 0:
        return [-share for share in allocate(-total, ws)]
    shares = [total * w // whole for w in ws]
    remainders = [total * w % whole for w in ws]
    missing = total - sum(shares)
    # Stable sort: equal remainders keep their input order, so earlier weights win ties.
    for i in sorted(range(len(ws)), key=lambda i: -remainders[i])[:missing]:
        shares[i] += 1
    return shares


def _cumulative_shares(postings: Sequence[Posting], numerator: int, denominator: int) -> list[int]:
    """Each posting's amount × n/d, rounded so that every currency still sums to zero.

    Per currency: floors of the exact quotas, then +1 for the postings with the largest
    remainders (ties: by account key, then amount — so the answer does not depend on the order
    the postings were loaded in). The amounts of a currency sum to 0, so the quotas do too and
    the number of +1s is a whole number smaller than the number of postings.
    """
    shares = [0] * len(postings)
    remainders = [0] * len(postings)
    groups: dict[str, list[int]] = {}
    for i, p in enumerate(postings):
        shares[i], remainders[i] = divmod(p.amount_minor * numerator, denominator)
        groups.setdefault(p.account.currency, []).append(i)
    for indexes in groups.values():
        missing = -sum(shares[i] for i in indexes)
        ranked = sorted(
            indexes,
            key=lambda i: (-remainders[i], postings[i].account, postings[i].amount_minor),
        )
        for i in ranked[:missing]:
            shares[i] += 1
    return shares


def reversal(
    postings: Sequence[Posting],
    *,
    numerator: int,
    denominator: int,
    already_reversed: int = 0,
) -> list[Posting]:
    """The pro-rata reversal of ``numerator/denominator`` of a balanced set of postings.

    Rule: let ``R(F)`` be every posting's amount × F rounded by largest remainder per currency
    (so ``R(F)`` sums to zero per currency, ``R(0)`` is all zeros and ``R(1)`` is the amounts
    themselves). This returns ``-(R((k + n)/d) - R(k/d))`` for ``k = already_reversed``: the
    slice of the transaction between the fraction already reversed and the new total.

    Consequences, which the tests check:

    - every reversal sums to zero per currency (it is a difference of two balanced sets);
    - partial reversals of fractions adding up to 1, each given the running
      ``already_reversed`` (same ``denominator``), telescope to ``-R(1)``: every account comes
      back to exactly 0, to the minor unit;
    - each amount is within 2 minor units of its exact share (within 1 when ``k == 0``).

    The running numerator matters: calling ``numerator=1, denominator=3`` three times *without*
    ``already_reversed`` cannot be exact (the three answers are identical). Zero amounts are left
    out, so a tiny slice may come back as ``[]`` — then there is nothing to post.
    """
    items = validate_postings(postings)
    n = require_minor_units(numerator, "numerator")
    d = require_minor_units(denominator, "denominator")
    k = require_minor_units(already_reversed, "already_reversed")
    if d <= 0 or n <= 0 or k < 0 or k + n > d:
        raise ValueError(
            "need 0 < numerator, 0 <= already_reversed and already_reversed + numerator <= "
            f"denominator (got {n}, {k}, {d})"
        )
    before = _cumulative_shares(items, k, d)
    after = _cumulative_shares(items, k + n, d)
    return [
        Posting(p.account, b - a) for p, b, a in zip(items, before, after, strict=True) if a != b
    ]


def retarget(postings: Sequence[Posting], moves: Mapping[AccountKey, AccountKey]) -> list[Posting]:
    """The same postings with some accounts swapped (e.g. a refund's clearing leg sent to
    ``refunds_payable`` instead of ``payment_clearing``). Currencies must match."""
    out: list[Posting] = []
    for p in postings:
        target = moves.get(p.account, p.account)
        if target.currency != p.account.currency:
            raise InvalidPosting(f"cannot move {p.account} to {target}: currency differs")
        out.append(Posting(target, p.amount_minor))
    return out
