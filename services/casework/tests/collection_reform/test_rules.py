"""The collection reform's pure rules: months of fee income, the what-if's totals, a migration run's progress."""

from __future__ import annotations

import datetime as dt

from hypothesis import given
from hypothesis import strategies as st

from cms_casework.collection_reform import rules


def test_twelve_months_from_a_mid_month_start_cover_exactly_a_year():
    months = rules.months_from(dt.date(2026, 4, 6))
    assert months[0] == (dt.date(2026, 4, 6), 25)
    assert months[1] == (dt.date(2026, 5, 1), 31)
    assert sum(days for _, days in months) == 365
    assert months[-1][0] == dt.date(2027, 4, 1)


@given(st.dates(min_value=dt.date(2020, 1, 1), max_value=dt.date(2040, 12, 31)))
def test_months_are_contiguous_and_span_twelve_months(start):
    months = rules.months_from(start)
    day = start
    for first, days in months:
        assert first == day and days > 0
        day = first + dt.timedelta(days=days)
    assert 365 <= (day - start).days <= 366


def _today(case_id, *, direct_pay=True, receipts=100_00, non_compliant=False, payer="p1"):
    return rules.CaseToday(case_id, payer, direct_pay, 2, receipts, non_compliant)


def test_totals_count_direct_pay_cases_children_and_receipts():
    today = [
        _today("a", receipts=100_00),
        _today("b", direct_pay=False, receipts=96_00, non_compliant=True, payer="p2"),
        _today("c", receipts=50_00, payer="p2", non_compliant=True),
    ]
    reform = [
        rules.CaseUnderReform("a", 98_00, 2_00, 2_00),
        rules.CaseUnderReform("b", 98_00, 20_00, 2_00),
        # "c" failed at the calculation: left out of every figure
    ]
    totals = rules.what_if_totals(today, reform, start=dt.date(2026, 4, 6))
    assert (totals.cases_moving, totals.children_moving) == (1, 2)
    assert totals.paying_parents_non_compliant == 1
    assert (totals.weekly_receipts_before_pence, totals.weekly_receipts_after_pence) == (
        196_00,
        196_00,
    )
    assert (totals.receiving_less, totals.receiving_more) == (1, 1)
    assert totals.fee_income[0] == (dt.date(2026, 4, 6), 22_00 * 25 // 7, 4_00 * 25 // 7)


@given(
    st.lists(
        st.tuples(st.integers(0, 10_000_00), st.integers(0, 2_000_00), st.integers(0, 2_000_00)),
        max_size=30,
    )
)
def test_fee_income_never_exceeds_the_weekly_fees_over_the_year(parts):
    today = [_today(str(i)) for i in range(len(parts))]
    reform = [rules.CaseUnderReform(str(i), r, p, q) for i, (r, p, q) in enumerate(parts)]
    totals = rules.what_if_totals(today, reform, start=dt.date(2026, 4, 6))
    weekly = sum(p + q for _, p, q in parts)
    assert totals.fee_income_total_pence <= weekly * 365 / 7
    assert totals.fee_income_total_pence >= weekly * 365 // 7 - 2 * 12
    assert totals.receiving_less + totals.receiving_more <= len(parts)


@given(
    st.lists(st.sampled_from(["PENDING", rules.REPORTED, rules.MOVED, rules.FAILED]), max_size=50)
)
def test_progress_adds_up(steps):
    p = rules.progress(len(steps), steps)
    assert p.moved + p.failed + p.remaining == len(steps)
    assert p.remaining == sum(1 for s in steps if s in ("PENDING", rules.REPORTED))


def test_batches_hold_at_most_a_thousand_items():
    batches = list(rules.in_batches(range(2500)))
    assert [len(b) for b in batches] == [1000, 1000, 500]


@given(
    st.lists(
        st.tuples(
            st.booleans(),  # Direct Pay
            st.booleans(),  # non-compliant
            st.sampled_from(
                ["p1", "p2", "p3"]
            ),  # paying parent: one parent's cases in several parts
            st.integers(0, 500_00),  # receipts before
            st.integers(0, 500_00),  # receipts after
            st.integers(0, 100_00),  # paying parent's fee
            st.integers(0, 100_00),  # receiving parent's fee
        ),
        max_size=30,
    ),
    st.lists(st.integers(1, 30), max_size=10),
)
def test_parts_add_up_to_exactly_the_whole(cases, cuts):
    """A what-if run as chunks (national runs) gives the figures of one run: the chunks' parts, each kept as JSON,
    added up, whatever the cut points; a paying parent non-compliant in two chunks is counted once, and fee income is
    rounded down on the whole caseload's weekly fees, not chunk by chunk."""
    today = [
        rules.CaseToday(str(i), payer, dp, 1, before, nc)
        for i, (dp, nc, payer, before, *_) in enumerate(cases)
    ]
    reform = [
        rules.CaseUnderReform(str(i), after, paying, receiving)
        for i, (*_, after, paying, receiving) in enumerate(cases)
    ]
    start = dt.date(2026, 4, 6)
    bounds = sorted({0, len(cases), *(c for c in cuts if c < len(cases))})
    parts = [
        rules.WhatIfPart.from_json(rules.part_of(today[lo:hi], reform[lo:hi]).to_json())
        for lo, hi in zip(bounds, bounds[1:], strict=False)
    ]
    assert rules.add_up(parts, start=start) == rules.what_if_totals(today, reform, start=start)
