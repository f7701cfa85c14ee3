"""The liability timeline's arithmetic (cms_casework.liability.rules): day-weighted backdated differences, exact to
the penny with one rounding per segment, the splice a rebuild makes, and back-to-back periods."""

from __future__ import annotations

import datetime as dt

import pytest
from hypothesis import given
from hypothesis import strategies as st

from cms_casework.liability import rules
from cms_casework.liability.rules import Span

D = dt.date


def test_a_fall_backdated_three_weeks_is_overpaid_by_three_weeks_of_the_difference():
    """£96 a week was in force; from 11 May it is £67, decided on 1 June: 21 days, (67 - 96) x 21 / 7 = -£87."""
    before = [Span(D(2026, 4, 6), None, 9600)]
    new = Span(D(2026, 5, 11), D(2026, 6, 1), 6700)
    assert rules.backdated_difference(new, before, decided_on=D(2026, 6, 1)) == -8700
    assert rules.due_and_overpaid(-8700) == (0, 8700)


def test_part_weeks_are_weighted_by_day_and_rounded_once():
    """10 days at £10.01 more a week: 1001 x 10 / 7 = 1430 pence (1430.0...); 3 days: 1001 x 3 / 7 = 429 exactly."""
    before = [Span(D(2026, 1, 1), None, 5000)]
    assert (
        rules.backdated_difference(Span(D(2026, 3, 1), None, 6001), before, D(2026, 3, 11)) == 1430
    )
    assert rules.backdated_difference(Span(D(2026, 3, 1), None, 6001), before, D(2026, 3, 4)) == 429
    # 1 day at 1p a week more: 1/7 of a penny rounds to nothing; 4 days: 4/7 rounds up to a penny.
    assert rules.backdated_difference(Span(D(2026, 3, 1), None, 5001), before, D(2026, 3, 2)) == 0
    assert rules.backdated_difference(Span(D(2026, 3, 1), None, 5001), before, D(2026, 3, 5)) == 1
    assert rules.backdated_difference(Span(D(2026, 3, 1), None, 4999), before, D(2026, 3, 5)) == -1


def test_days_across_two_earlier_segments_are_each_measured_against_their_own_amount():
    """From 1 March at £50: 1-10 March were £40 (+£10 x 10/7), 11-14 March were £70 (-£20 x 4/7), decided 15 March:
    (10 x 10 - 20 x 4) x 100 / 7 = 2000 / 7 = 285.7 -> 286 pence."""
    before = [Span(D(2026, 1, 1), D(2026, 3, 11), 4000), Span(D(2026, 3, 11), None, 7000)]
    assert (
        rules.backdated_difference(Span(D(2026, 3, 1), None, 5000), before, D(2026, 3, 15)) == 286
    )


def test_days_no_earlier_segment_covered_were_nil():
    """The first liability from the initial effective date, decided two weeks later: two weeks are due."""
    assert rules.backdated_difference(Span(D(2026, 4, 6), None, 9600), [], D(2026, 4, 20)) == 19200


def test_nothing_is_backdated_from_the_decision_date_on():
    before = [Span(D(2026, 1, 1), None, 4000)]
    assert rules.backdated_difference(Span(D(2026, 6, 1), None, 9000), before, D(2026, 6, 1)) == 0
    assert rules.backdated_days(D(2026, 6, 8), None, D(2026, 6, 1)) == 0
    assert rules.backdated_days(D(2026, 5, 1), D(2026, 5, 8), D(2026, 6, 1)) == 7


def test_a_rebuild_supersedes_what_runs_on_past_its_date_and_carries_what_started_before():
    current = [
        Span(D(2026, 1, 1), D(2026, 2, 1), 100),
        Span(D(2026, 2, 1), D(2026, 3, 1), 200),
        Span(D(2026, 3, 1), None, 300),
    ]
    assert rules.splice(current, D(2026, 2, 15)) == rules.Splice(superseded=(1, 2), carried=(1,))
    assert rules.splice(current, D(2026, 3, 1)) == rules.Splice(superseded=(2,), carried=())
    assert rules.splice(current, D(2026, 1, 1)) == rules.Splice(superseded=(0, 1, 2), carried=())


def test_chain_makes_back_to_back_periods_up_to_the_end():
    starts = [D(2026, 5, 11), D(2026, 6, 1), D(2026, 5, 11), D(2026, 6, 29)]
    assert rules.chain(starts, None) == [
        (D(2026, 5, 11), D(2026, 6, 1)),
        (D(2026, 6, 1), D(2026, 6, 29)),
        (D(2026, 6, 29), None),
    ]
    assert rules.chain(starts, D(2026, 6, 20)) == [
        (D(2026, 5, 11), D(2026, 6, 1)),
        (D(2026, 6, 1), D(2026, 6, 20)),
    ]


def test_a_span_must_end_after_it_starts():
    with pytest.raises(ValueError):
        Span(D(2026, 1, 2), D(2026, 1, 2), 0)


days = st.integers(min_value=0, max_value=800)
pence = st.integers(min_value=0, max_value=500_000)


@given(
    start=days,
    cuts=st.lists(days, max_size=5),
    old=st.lists(pence, min_size=6, max_size=6),
    new=pence,
    decided=days,
)
def test_the_difference_is_the_exact_day_sum_rounded_once(start, cuts, old, new, decided):
    """Whatever the earlier segments: the difference is within half a penny of the exact sum over days of
    (new - old that day) / 7, and splitting the new segment at any day changes the total by at most a penny per part."""
    base = D(2026, 1, 1)
    bounds = sorted({0, *cuts})
    previous = [
        Span(
            base + dt.timedelta(days=b),
            base + dt.timedelta(days=bounds[i + 1]) if i + 1 < len(bounds) else None,
            old[i],
        )
        for i, b in enumerate(bounds)
    ]
    first = base + dt.timedelta(days=start)
    decided_on = base + dt.timedelta(days=decided)
    got = rules.backdated_difference(Span(first, None, new), previous, decided_on)

    def in_force(day: dt.date) -> int:
        return next(
            (s.weekly_pence for s in previous if s.start <= day and (s.end is None or day < s.end)),
            0,
        )

    exact_sevenths = sum(
        new - in_force(first + dt.timedelta(days=i))
        for i in range(max(0, (decided_on - first).days))
    )
    assert abs(got * 7 - exact_sevenths) <= 3  # |error| <= 3/7 of a penny: nearest penny


@given(n=st.integers(min_value=-(10**12), max_value=10**12))
def test_dividing_by_a_week_rounds_to_the_nearest_penny_symmetrically(n):
    got = rules.divide_by_week(n)
    assert abs(got * 7 - n) <= 3
    assert rules.divide_by_week(-n) == -got


def test_a_closure_rebuild_carries_on_up_to_it_and_overpays_the_days_after():
    current = [Span(D(2026, 4, 6), None, 9600)]
    plan = rules.plan_rebuild(current, [], end=D(2026, 5, 18), today=D(2026, 6, 1))
    assert plan.splice == rules.Splice(superseded=(0,), carried=(0,))
    assert plan.closure_nil
    assert plan.segments == ((Span(D(2026, 5, 18), D(2026, 6, 1), 0), -19200),)
    assert rules.rebuilt(current, plan, D(2026, 5, 18)) == [
        Span(D(2026, 4, 6), D(2026, 5, 18), 9600),
        Span(D(2026, 5, 18), D(2026, 6, 1), 0),
    ]


rebuild_steps = st.lists(
    st.tuples(
        st.integers(min_value=0, max_value=30),  # days from the previous decision to this one
        st.lists(
            st.tuples(st.integers(min_value=0, max_value=120), pence), min_size=1, max_size=4
        ),  # (days after the base date, weekly) of each decided segment
    ),
    min_size=1,
    max_size=6,
)


@given(steps=rebuild_steps)
def test_rebuilds_tile_the_timeline_and_their_amounts_add_up_to_the_days_charged_wrongly(steps):
    """After any sequence of rebuilds (decision dates in order, each from any date): the segments in force tile the
    timeline without gap or overlap; and what all the rebuilds made due or overpaid adds up, to within rounding, to
    the sum over days of (final weekly amount - the weekly amount in force for that day when it was first passed by a
    decision) / 7: what the paying parent was charged wrongly."""
    base = D(2026, 1, 1)
    current: list[Span] = []
    total = 0
    made = 0
    decided_on = base
    snapshots: list[tuple[dt.date, list[Span]]] = []  # (decision date, the timeline after it)
    for gap, decided in steps:
        decided_on = decided_on + dt.timedelta(days=gap)
        dates = [(base + dt.timedelta(days=offset), weekly) for offset, weekly in decided]
        unique = dict(dates)
        plan = rules.plan_rebuild(current, list(unique.items()), end=None, today=decided_on)
        current = rules.rebuilt(current, plan, min(unique))
        total += sum(difference for _, difference in plan.segments)
        made += len(plan.segments)
        snapshots.append((decided_on, current))
    # Tiling.
    for before, after in zip(current, current[1:], strict=False):
        assert before.end == after.start
    assert current[-1].end is None

    def value(timeline: list[Span], day: dt.date) -> int:
        return next(
            (s.weekly_pence for s in timeline if s.start <= day and (s.end is None or day < s.end)),
            0,
        )

    exact_sevenths = 0
    for i in range((decided_on - base).days):
        day = base + dt.timedelta(days=i)
        # Charged: the timeline after the last decision made on or before the day (nil before any).
        charged_by = [tl for when, tl in snapshots if when <= day]
        charged = value(charged_by[-1], day) if charged_by else 0
        exact_sevenths += value(current, day) - charged
    assert abs(total * 7 - exact_sevenths) <= 4 * made


def test_a_backdated_change_explains_its_movement_and_what_it_made_due():
    text, citation = rules.explain(
        rules.Wording(
            reason="CHANGE_OF_CIRCUMSTANCES",
            start=dt.date(2026, 5, 11),
            weekly_pence=110_00,
            rate="BASIC",
            changes=1,
            before_pence=96_00,
            due_pence=42_00,
            backdated_days=21,
        )
    )
    assert citation == rules.SUPERSESSION
    assert text == (
        "We changed the decision because of a change of circumstances taking effect on 11 May 2026. "
        "The weekly amount from 11 May 2026 goes up from £96.00 to £110.00. "
        "The 21 days before the decision make £42.00 more due."
    )


@pytest.mark.parametrize(
    ("wording", "citation", "opening"),
    [
        (
            rules.Wording("INITIAL", dt.date(2026, 4, 6), 96_00, "BASIC"),
            rules.INITIAL,
            "This is the first",
        ),
        (
            rules.Wording("INITIAL", dt.date(2026, 4, 6), 51_00, "DEFAULT"),
            rules.DEFAULT_DECISION,
            "We made a default maintenance decision",
        ),
        (
            rules.Wording(
                "CORRECTION_REVISION", dt.date(2026, 4, 6), 80_00, "BASIC", before_pence=96_00
            ),
            rules.REVISION,
            "We changed the decision from the date it took effect",
        ),
        (
            rules.Wording("ANNUAL_REVIEW", dt.date(2027, 4, 6), 99_00, "BASIC", before_pence=96_00),
            rules.ANNUAL_REVIEW,
            "We looked at the calculation again at its annual review",
        ),
        (
            rules.Wording("CHANGE_OF_CIRCUMSTANCES", dt.date(2026, 7, 1), 0, "", closure=True),
            rules.CLOSURE,
            "The case closed on 1 July 2026",
        ),
    ],
)
def test_each_kind_of_decision_cites_its_rule(wording, citation, opening):
    text, cited = rules.explain(wording)
    assert cited == citation
    assert text.startswith(opening)


def test_a_rebuild_from_a_date_recalculates_each_later_start_once():
    """A rebuild from 1 June supersedes the segments from 15 and 29 June: each is calculated again from its own
    start, with what started it; the segment from 6 April and one starting on 1 June itself are not later starts."""
    in_force = [
        (D(2026, 4, 6), "first"),
        (D(2026, 6, 1), "same day"),
        (D(2026, 6, 29), "income"),
        (D(2026, 6, 15), "child"),
    ]
    assert rules.later_starts(in_force, D(2026, 6, 1)) == [
        (D(2026, 6, 15), "child"),
        (D(2026, 6, 29), "income"),
    ]
    # Only those before a closure, when the case closes.
    assert rules.later_starts(in_force, D(2026, 6, 1), before=D(2026, 6, 29)) == [
        (D(2026, 6, 15), "child")
    ]


@given(
    starts=st.lists(st.dates(D(2026, 1, 1), D(2028, 12, 31)), max_size=12),
    after=st.dates(D(2026, 1, 1), D(2028, 12, 31)),
)
def test_later_starts_are_the_distinct_dates_after_the_rebuild_in_order(starts, after):
    out = rules.later_starts([(s, i) for i, s in enumerate(starts)], after)
    dates = [on for on, _ in out]
    assert dates == sorted({s for s in starts if s > after})
    # The first given for a date wins.
    assert all(starts.index(on) == i for on, i in out)


def test_a_segment_made_because_another_case_closed_says_so_with_the_rule():
    """Sch 1 para 6 to the 1991 Act: one calculation for all the paying parent's cases, apportioned; a closure moves
    each other case's share."""
    text, citation = rules.explain(
        rules.Wording(
            "CHANGE_OF_CIRCUMSTANCES",
            D(2026, 5, 18),
            72_00,
            "BASIC",
            before_pence=38_00,
            due_pence=68_00,
            backdated_days=14,
            other_case_closed=True,
        )
    )
    assert citation == "Child Support Act 1991 s.17 and Sch 1 para 6"
    assert text.startswith(
        "We recalculated because another of the paying parent's cases closed on 18 May 2026."
    )
    assert "goes up from £38.00 to £72.00" in text
    assert "The 14 days before the decision make £68.00 more due." in text
