"""Pure arithmetic: allocate() and reversal() never lose or invent a minor unit."""

from __future__ import annotations

from collections import Counter
from decimal import Decimal
from fractions import Fraction

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from liveshop.ledger.allocation import allocate, retarget, reversal
from liveshop.ledger.entries import (
    AccountKey,
    InvalidPosting,
    Posting,
    UnbalancedTransaction,
    natural_balance,
    owed_to_party,
    sums_by_currency,
    validate_postings,
)
from liveshop.ledger.models import AccountType
from tests.ledger.strategies import balanced_postings, partitions

CLEARING = AccountKey(AccountType.PAYMENT_CLEARING, "provider:sandbox", "GBP")
SHOP = AccountKey(AccountType.SELLER_PAYABLE, "shop:1", "GBP")
REVENUE = AccountKey(AccountType.PLATFORM_REVENUE, "market:GB", "GBP")
TAX = AccountKey(AccountType.TAX_PAYABLE, "market:GB", "GBP")
CREATOR = AccountKey(AccountType.CREATOR_PAYABLE, "creator:7", "GBP")
REFUNDS = AccountKey(AccountType.REFUNDS_PAYABLE, "provider:sandbox", "GBP")


def per_account(postings: list[Posting]) -> Counter[AccountKey]:
    totals: Counter[AccountKey] = Counter()
    for p in postings:
        totals[p.account] += p.amount_minor
    return totals


def test_allocate_examples() -> None:
    assert allocate(100, [1, 1, 1]) == [34, 33, 33]
    assert allocate(-100, [1, 1, 1]) == [-34, -33, -33]
    assert allocate(101, [1, 0, 1]) == [51, 0, 50]
    assert allocate(0, [5, 7]) == [0, 0]
    assert allocate(7, [3]) == [7]


@pytest.mark.parametrize(
    ("total", "weights", "error"),
    [
        (10, [], ValueError),
        (10, [0, 0], ValueError),
        (10, [1, -1, 3], ValueError),
        (10.0, [1, 1], TypeError),
        (10, [1.5, 1], TypeError),
        (Decimal(10), [1, 1], TypeError),
        (True, [1, 1], TypeError),
    ],
)
def test_allocate_rejects(total: object, weights: list[object], error: type[Exception]) -> None:
    with pytest.raises(error):
        allocate(total, weights)  # type: ignore[arg-type]


@settings(max_examples=300, deadline=None)
@given(
    total=st.integers(-(10**15), 10**15),
    weights=st.lists(st.integers(0, 10**6), min_size=1, max_size=12).filter(lambda w: sum(w) > 0),
)
def test_allocate_is_exact_and_fair(total: int, weights: list[int]) -> None:
    shares = allocate(total, weights)
    assert sum(shares) == total
    whole = sum(weights)
    for share, w in zip(shares, weights, strict=True):
        assert isinstance(share, int)
        assert abs(Fraction(share) - Fraction(total * w, whole)) < 1
        if w == 0:
            assert share == 0


def test_refund_in_thirds_is_exact() -> None:
    """£19.99 order: seller 15.19, platform 1.00, VAT 3.33, creator 0.47, refunded a unit at a
    time. Without the running numerator the three identical calls could not add up."""
    sale = [
        Posting(CLEARING, 1999),
        Posting(SHOP, -1519),
        Posting(REVENUE, -100),
        Posting(TAX, -333),
        Posting(CREATOR, -47),
    ]
    parts = [reversal(sale, numerator=1, denominator=3, already_reversed=k) for k in (0, 1, 2)]
    for part in parts:
        assert sums_by_currency(part) == {"GBP": 0}
    assert sorted(per_account(p)[CLEARING] for p in parts) == [-667, -666, -666]
    total = per_account([p for part in parts for p in part])
    assert dict(total) == {CLEARING: -1999, SHOP: 1519, REVENUE: 100, TAX: 333, CREATOR: 47}
    naive = [reversal(sale, numerator=1, denominator=3) for _ in range(3)]
    assert naive[0] == naive[1] == naive[2]  # stateless: the running numerator is required


def test_refund_goes_to_refunds_payable() -> None:
    sale = [Posting(CLEARING, 1200), Posting(SHOP, -1000), Posting(TAX, -200)]
    refund = retarget(reversal(sale, numerator=1, denominator=1), {CLEARING: REFUNDS})
    assert per_account(refund) == Counter({REFUNDS: -1200, SHOP: 1000, TAX: 200})
    with pytest.raises(InvalidPosting):
        retarget(sale, {CLEARING: AccountKey(AccountType.REFUNDS_PAYABLE, "provider:x", "EUR")})


@settings(max_examples=300, deadline=None)
@given(postings=balanced_postings(), parts=partitions())
def test_partial_reversals_return_every_account_to_zero(
    postings: list[Posting], parts: list[int]
) -> None:
    denominator = sum(parts)
    legs = Counter(p.account for p in postings)
    done = 0
    applied: list[Posting] = []
    for n in parts:
        part = reversal(postings, numerator=n, denominator=denominator, already_reversed=done)
        assert all(v == 0 for v in sums_by_currency(part).values())
        assert all(type(p.amount_minor) is int and p.amount_minor != 0 for p in part)
        got = per_account(part)
        for key, amount in per_account(postings).items():
            exact = Fraction(-amount * n, denominator)
            # each posting is within 1 minor unit of its exact share on the first slice and
            # within 2 on later ones (a difference of two roundings)
            slack = legs[key] * (1 if done == 0 else 2)
            assert abs(got[key] - exact) < slack
        done += n
        applied.extend(part)
    net = per_account(postings)
    net.update(per_account(applied))
    assert all(v == 0 for v in net.values()), net


@settings(max_examples=150, deadline=None)
@given(postings=balanced_postings(), data=st.data())
def test_reversal_does_not_depend_on_posting_order(
    postings: list[Posting], data: st.DataObject
) -> None:
    d = data.draw(st.integers(1, 500))
    n = data.draw(st.integers(1, d))
    shuffled = data.draw(st.permutations(postings))
    assert per_account(reversal(postings, numerator=n, denominator=d)) == per_account(
        reversal(shuffled, numerator=n, denominator=d)
    )


@pytest.mark.parametrize(
    ("numerator", "denominator", "already"),
    [(0, 3, 0), (4, 3, 0), (2, 3, 2), (1, 0, 0), (-1, 3, 0), (1, 3, -1)],
)
def test_reversal_rejects_bad_fractions(numerator: int, denominator: int, already: int) -> None:
    sale = [Posting(CLEARING, 10), Posting(SHOP, -10)]
    with pytest.raises(ValueError):
        reversal(sale, numerator=numerator, denominator=denominator, already_reversed=already)


def test_reversal_of_a_tiny_slice_can_be_empty() -> None:
    sale = [Posting(CLEARING, 1), Posting(SHOP, -1)]
    assert reversal(sale, numerator=1, denominator=3) == []
    assert reversal(sale, numerator=2, denominator=3, already_reversed=1) == [
        Posting(CLEARING, -1),
        Posting(SHOP, 1),
    ]


def test_posting_refuses_anything_but_a_nonzero_int() -> None:
    for bad in (1.0, 0.5, Decimal("1"), True, "10", None):
        with pytest.raises(TypeError):
            Posting(CLEARING, bad)  # type: ignore[arg-type]
    with pytest.raises(InvalidPosting):
        Posting(CLEARING, 0)


@pytest.mark.parametrize(
    ("type_", "party", "currency"),
    [
        ("cash", "platform", "GBP"),
        (AccountType.SELLER_PAYABLE, "shop:1", "XXY"),
        (AccountType.SELLER_PAYABLE, "shop:1", "gbp"),
        (AccountType.SELLER_PAYABLE, "", "GBP"),
        (AccountType.SELLER_PAYABLE, "shop 1", "GBP"),
        (AccountType.SELLER_PAYABLE, "shop:", "GBP"),
        (AccountType.SELLER_PAYABLE, "Shop:1", "GBP"),
        (AccountType.SELLER_PAYABLE, "shop:" + "1" * 64, "GBP"),
    ],
)
def test_account_key_refuses_bad_names(type_: str, party: str, currency: str) -> None:
    with pytest.raises(InvalidPosting):
        AccountKey(type_, party, currency)  # type: ignore[arg-type]


def test_validate_postings() -> None:
    with pytest.raises(InvalidPosting):
        validate_postings([])
    with pytest.raises(InvalidPosting):
        validate_postings([Posting(CLEARING, 5)])
    with pytest.raises(UnbalancedTransaction):
        validate_postings([Posting(CLEARING, 5), Posting(SHOP, -4)])
    vnd = AccountKey(AccountType.SELLER_PAYABLE, "shop:1", "VND")
    with pytest.raises(UnbalancedTransaction):  # sums to zero overall but not per currency
        validate_postings([Posting(CLEARING, 5), Posting(vnd, -5)])
    assert len(validate_postings([Posting(CLEARING, 5), Posting(SHOP, -5)])) == 2


def test_sign_helpers() -> None:
    assert owed_to_party(-900) == 900
    assert natural_balance(AccountType.SELLER_PAYABLE, -900) == 900
    assert natural_balance(AccountType.PAYMENT_CLEARING, 1000) == 1000
    assert natural_balance(AccountType.PLATFORM_SUBSIDY_EXPENSE, 50) == 50
    assert AccountType.CREATOR_PAYABLE.is_payable
    assert not AccountType.PLATFORM_REVENUE.is_payable
    with pytest.raises(TypeError):
        owed_to_party(1.5)  # type: ignore[arg-type]


def test_documented_example() -> None:
    """The figures in docs/architecture.md, "Money path: the ledger"."""
    sale = [
        Posting(CLEARING, 2400),
        Posting(SHOP, -1780),
        Posting(REVENUE, -120),
        Posting(TAX, -400),
        Posting(CREATOR, -100),
    ]
    validate_postings(sale)
    refund = retarget(reversal(sale, numerator=1, denominator=2), {CLEARING: REFUNDS})
    assert per_account(refund) == Counter(
        {SHOP: 890, REVENUE: 60, TAX: 200, CREATOR: 50, REFUNDS: -1200}
    )
