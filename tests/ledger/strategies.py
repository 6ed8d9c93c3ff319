"""Hypothesis strategies for ledger tests: accounts, balanced postings, partitions of 1."""

from __future__ import annotations

from hypothesis import strategies as st

from liveshop.ledger.entries import AccountKey, Posting
from liveshop.ledger.models import AccountType

CURRENCIES = ("GBP", "VND", "JPY", "KWD", "IDR")  # exponents 2, 0, 0, 3, 2
PARTIES = ("platform", "shop:1", "shop:2", "creator:7", "agency:3", "market:GB", "provider:sandbox")
MAX_AMOUNT = 10**12


def account_keys(currency: str) -> st.SearchStrategy[AccountKey]:
    return st.builds(
        AccountKey,
        type=st.sampled_from(list(AccountType)),
        party=st.sampled_from(PARTIES),
        currency=st.just(currency),
    )


@st.composite
def balanced_postings(draw: st.DrawFn, max_amount: int = MAX_AMOUNT) -> list[Posting]:
    """1..3 currencies, each with 2..6 non-zero postings summing to zero, shuffled."""
    postings: list[Posting] = []
    currencies = draw(st.lists(st.sampled_from(CURRENCIES), min_size=1, max_size=3, unique=True))
    for cur in currencies:
        amounts = draw(
            st.lists(st.integers(-max_amount, max_amount).filter(bool), min_size=1, max_size=5)
        )
        total = sum(amounts)
        if total:
            amounts.append(-total)
        postings.extend(Posting(draw(account_keys(cur)), a) for a in amounts)
    return list(draw(st.permutations(postings)))


def partitions(max_part: int = 200) -> st.SearchStrategy[list[int]]:
    """Positive parts; ``sum(parts)`` is the denominator, each part one partial fraction."""
    return st.lists(st.integers(1, max_part), min_size=1, max_size=6)
