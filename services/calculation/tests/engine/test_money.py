"""Integer-pence arithmetic: the balanced split and the way a percentage is written."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from cms_calculation.engine.money import percent, split_balanced


@given(st.integers(0, 10**9), st.lists(st.integers(1, 20), min_size=1, max_size=8))
def test_split_balanced_is_exact_and_fair(total, weights):
    parts = split_balanced(total, weights)
    assert sum(parts) == total
    whole = sum(weights)
    for part, w in zip(parts, weights, strict=True):
        assert abs(part * whole - total * w) < whole  # within one penny of the exact share


def test_percent_words():
    assert [percent(bp) for bp in (2000, 1410, 250)] == ["20%", "14.1%", "2.5%"]
