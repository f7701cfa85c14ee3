"""The monthly Child Benefit check's pure decisions (cms_casework.scheduler.rules)."""

from __future__ import annotations

import datetime as dt

from hypothesis import given
from hypothesis import strategies as st

from cms.casework.v1 import resources_pb2 as pb
from cms_casework.scheduler import rules
from cms_platform.convert import pb_date

AS_OF = dt.date(2026, 9, 1)


def _child(child_id: str, born: dt.date, ended: dt.date | None = None) -> pb.QualifyingChild:
    child = pb.QualifyingChild(child_id=child_id, date_of_birth=pb_date(born))
    if ended:
        child.end_date.CopyFrom(pb_date(ended))
    return child


def test_every_current_child_of_a_case_with_one_aged_16_is_checked():
    case = pb.Case(
        qualifying_children=[
            _child("a", dt.date(2010, 9, 1)),  # 16 today
            _child("b", dt.date(2015, 1, 1)),
            _child("c", dt.date(2009, 1, 1), ended=dt.date(2025, 8, 31)),  # already left
        ]
    )
    assert [c.child_id for c in rules.children_to_check(case, AS_OF)] == ["a", "b"]


def test_a_case_whose_children_are_all_under_16_is_not_checked():
    case = pb.Case(qualifying_children=[_child("a", dt.date(2010, 9, 2))])  # 16 tomorrow
    assert rules.children_to_check(case, AS_OF) == []


def test_child_benefit_payable_past_the_check_ends_nothing():
    assert rules.ended_on(entitled=True, end_date=None, as_of=AS_OF) is None
    assert rules.ended_on(entitled=True, end_date=dt.date(2027, 8, 31), as_of=AS_OF) is None


def test_an_end_date_reached_ends_the_childs_part_from_that_date():
    # reg 18(3)(a) of SI 2012/2677: a child ceasing to be a qualifying child takes effect from the date it happened.
    assert rules.ended_on(entitled=False, end_date=dt.date(2026, 8, 31), as_of=AS_OF) == dt.date(
        2026, 8, 31
    )
    assert rules.ended_on(entitled=False, end_date=None, as_of=AS_OF) == AS_OF


def test_a_child_who_reached_20_leaves_for_that_reason():
    child = _child("a", dt.date(2006, 8, 30))
    assert rules.ending(child, dt.date(2026, 8, 31)).turned_20
    assert not rules.ending(_child("b", dt.date(2008, 1, 1)), dt.date(2026, 8, 31)).turned_20


@given(st.lists(st.integers(), max_size=3000), st.integers(min_value=1, max_value=1000))
def test_batches_keep_every_item_in_order_and_none_is_too_big(items, size):
    batches = list(rules.in_batches(items, size))
    assert [i for b in batches for i in b] == items
    assert all(1 <= len(b) <= size for b in batches)


@given(st.uuids().map(str), st.uuids().map(str))
def test_an_item_id_names_its_case_and_child(case_id, child_id):
    assert rules.case_and_child(rules.item_id(case_id, child_id)) == (case_id, child_id)


@given(st.dates(min_value=dt.date(1990, 1, 1), max_value=dt.date(2020, 12, 31)))
def test_a_child_is_16_from_their_16th_birthday_and_not_a_day_before(born):
    if (born.month, born.day) == (2, 29):
        born = born - dt.timedelta(days=1)
    birthday = born.replace(year=born.year + 16)
    assert rules.age_on(born, birthday) == 16
    assert rules.age_on(born, birthday - dt.timedelta(days=1)) == 15


@given(
    born=st.dates(min_value=dt.date(1990, 1, 1), max_value=dt.date(2040, 12, 31)),
    on=st.dates(min_value=dt.date(2005, 1, 1), max_value=dt.date(2060, 12, 31)),
)
def test_the_cases_selected_for_the_check_include_every_child_of_16_or_over(born, on):
    """The column pre-filter never drops a child the rule would check, 29 February birthdays included, and lets
    through at most a day's births more."""
    if rules.age_on(born, on) >= rules.OLDEST_CHECKED_AGE:
        assert born <= rules.born_by_to_check(on)
    if born <= rules.born_by_to_check(on) - dt.timedelta(days=2):
        assert rules.age_on(born, on) >= rules.OLDEST_CHECKED_AGE


def test_a_29_february_child_is_selected_on_the_day_the_rule_counts_16():
    born = dt.date(2012, 2, 29)
    assert rules.age_on(born, dt.date(2028, 2, 29)) == 16
    assert born <= rules.born_by_to_check(dt.date(2028, 2, 29))
    assert rules.age_on(born, dt.date(2028, 2, 28)) == 15
