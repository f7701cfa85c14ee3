"""Current income requests and default maintenance decisions: the pure rules (cms_casework.default_decisions.rules)."""

from __future__ import annotations

import datetime as dt

from hypothesis import given
from hypothesis import strategies as st

from cms_casework.default_decisions import rules

INITIAL = dt.date(2026, 4, 6)


def test_only_no_income_at_all_means_asking():
    assert rules.needs_current_income(hmrc_income_held=False, current_income_held=False)
    assert not rules.needs_current_income(hmrc_income_held=True, current_income_held=False)
    assert not rules.needs_current_income(hmrc_income_held=False, current_income_held=True)


def test_the_time_allowed_is_14_days_and_the_default_decision_comes_after_it():
    due = rules.due_date(INITIAL)
    assert due == dt.date(2026, 4, 20)
    assert not rules.default_decision_due(due, due)
    assert rules.default_decision_due(due, due + dt.timedelta(days=1))


def test_income_within_the_time_is_calculated_from_the_initial_effective_date():
    assert (
        rules.calculation_effective_date(
            state=rules.State.AWAITING,
            initial_effective_date=INITIAL,
            default_effective_date=None,
            received_on=dt.date(2026, 4, 10),
        )
        == INITIAL
    )


@given(st.dates(min_value=INITIAL, max_value=dt.date(2030, 1, 1)))
def test_by_default_the_calculation_replaces_the_default_decision_from_its_own_date(received):
    # A revision takes effect from the date of the decision revised (s.16(3) of the 1991 Act).
    assert (
        rules.calculation_effective_date(
            state=rules.State.DEFAULT_DECISION_MADE,
            initial_effective_date=INITIAL,
            default_effective_date=INITIAL,
            received_on=received,
        )
        == INITIAL
    )


@given(st.dates(min_value=dt.date(2020, 1, 1), max_value=dt.date(2030, 1, 1)))
def test_the_alternative_replaces_it_from_the_information_never_before_the_decision(received):
    on = rules.calculation_effective_date(
        state=rules.State.DEFAULT_DECISION_MADE,
        initial_effective_date=INITIAL,
        default_effective_date=INITIAL,
        received_on=received,
        replaced_from=rules.ReplacedFrom.INFORMATION_RECEIVED,
    )
    assert on == max(received, INITIAL)


def test_a_request_is_overtaken_by_its_case_closing_or_by_a_calculation_from_other_income():
    assert rules.overtaken(state=rules.State.AWAITING, case_open=False, latest_rate="")
    assert not rules.overtaken(state=rules.State.AWAITING, case_open=True, latest_rate="")
    assert not rules.overtaken(
        state=rules.State.DEFAULT_DECISION_MADE, case_open=True, latest_rate="DEFAULT"
    )
    assert rules.overtaken(
        state=rules.State.DEFAULT_DECISION_MADE, case_open=True, latest_rate="BASIC"
    )
