"""``core.db.in_list``: a batch's IN list deduplicated and padded to a power of two, so that
PostgreSQL's driver reuses a few prepared statements instead of preparing one per batch size."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from liveshop.core.db import in_list


@given(st.lists(st.integers(min_value=-(2**63), max_value=2**63 - 1), max_size=700))
def test_the_same_values_in_a_power_of_two(values: list[int]) -> None:
    padded = in_list(values)
    assert set(padded) == set(values)
    if values:
        assert len(padded) & (len(padded) - 1) == 0  # a power of two
        assert len(set(values)) <= len(padded) < 2 * len(set(values))
    else:
        assert padded == []


def test_sizes_fall_into_few_statements() -> None:
    sizes = {len(in_list(range(n))) for n in range(1, 201)}
    assert sizes == {1, 2, 4, 8, 16, 32, 64, 128, 256}
    assert in_list(["b", "a", "b"]) == ["b", "a"]
