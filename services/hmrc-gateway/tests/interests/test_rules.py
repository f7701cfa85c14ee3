"""The feeds' pure rules (cms_hmrc_gateway.interests.rules): when an annual update is due, when RTI pay has moved
enough, what counts as a DEO employment change, and when a Child Benefit end date is news; each reported once."""

from __future__ import annotations

import datetime as dt

import pytest
from hypothesis import given
from hypothesis import strategies as st

from cms_hmrc_gateway.interests.rules import (
    DUE_DAYS_BEFORE_ANNIVERSARY,
    EmploymentChange,
    anniversary_to_report,
    change_basis_points,
    deductible,
    deo_changes,
    due_anniversary,
    employment_change,
    employment_snapshot,
    end_date_notices,
    rti_change,
)
from cms_hmrc_gateway.port import (
    Address,
    Child,
    ChildBenefitStatus,
    ChildToFind,
    Employer,
    Employment,
    EmploymentView,
    PayFrequency,
)

days = st.dates(dt.date(1990, 1, 1), dt.date(2090, 12, 31))
pence = st.integers(0, 10_000_000)

# -- annual updates ------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("on", "due"),
    [
        (dt.date(2026, 4, 19), dt.date(2025, 5, 20)),  # the 2026 update is not due yet
        (dt.date(2026, 4, 20), dt.date(2026, 5, 20)),  # 30 days before the anniversary
        (dt.date(2026, 12, 31), dt.date(2026, 5, 20)),
        (dt.date(2024, 4, 20), dt.date(2024, 5, 20)),  # the review date itself
        (dt.date(2024, 4, 19), None),  # before the first update is due
    ],
)
def test_the_update_due_30_days_before_each_anniversary(on, due):
    assert due_anniversary(dt.date(2024, 5, 20), on) == due


def test_a_29_february_review_falls_on_28_february_in_other_years():
    assert due_anniversary(dt.date(2024, 2, 29), dt.date(2025, 2, 1)) == dt.date(2025, 2, 28)
    assert due_anniversary(dt.date(2024, 2, 29), dt.date(2028, 2, 1)) == dt.date(2028, 2, 29)


@given(review=days, on=days)
def test_the_due_anniversary_is_the_latest_within_the_notice(review, on):
    due = due_anniversary(review, on)
    if due is None:
        assert on < review - dt.timedelta(days=DUE_DAYS_BEFORE_ANNIVERSARY)
        return
    assert due - dt.timedelta(days=DUE_DAYS_BEFORE_ANNIVERSARY) <= on
    assert (due.month, due.day) in ((review.month, review.day), (2, 28))
    following = due_anniversary(review, due + dt.timedelta(days=400))
    assert following is not None and following > due  # the next one comes a year on


def test_an_anniversary_is_reported_once():
    review, on = dt.date(2024, 5, 20), dt.date(2026, 4, 20)
    assert anniversary_to_report(review, on, {}) == dt.date(2026, 5, 20)
    assert anniversary_to_report(review, on, {"reported_for": "2026-05-20"}) is None
    assert anniversary_to_report(None, on, {}) is None  # no review date, no update


# -- RTI current income ---------------------------------------------------------------------------------------------


def test_change_basis_points_round_down_and_count_pay_from_nil_as_double():
    assert change_basis_points(125_00, 100_00) == 2500
    assert change_basis_points(100_00, 300_00) == -6667  # floor, as the contract's int says
    assert change_basis_points(1, 0) == 10_000 and change_basis_points(0, 0) == 0


def test_with_a_baseline_only_a_move_past_the_threshold_is_reported_and_only_once():
    state, change = rti_change(
        {}, current=700_00, baseline=690_00, threshold_bp=0, registering=True
    )
    assert change is None  # 1% from the baseline
    state, change = rti_change(
        state, current=1_000_00, baseline=690_00, threshold_bp=0, registering=False
    )
    assert change is not None and change.previous_weekly_income_pence == 690_00
    assert change.change_basis_points == 4492
    state, again = rti_change(
        state, current=1_000_00, baseline=690_00, threshold_bp=0, registering=False
    )
    assert again is None  # already reported
    _, smaller = rti_change(
        state, current=800_00, baseline=690_00, threshold_bp=2000, registering=False
    )
    assert smaller is None  # 15.9% is under the case's 20%


def test_without_a_baseline_registering_sets_it_and_any_change_is_reported():
    state, change = rti_change({}, current=500_00, baseline=0, threshold_bp=0, registering=True)
    assert change is None and state == {"previous": 500_00}
    state, change = rti_change(state, current=510_00, baseline=0, threshold_bp=0, registering=False)
    assert change is not None and (change.previous_weekly_income_pence, state["previous"]) == (
        500_00,
        510_00,
    )


@given(
    currents=st.lists(pence, min_size=1, max_size=8),
    baseline=pence,
    threshold=st.integers(0, 10_000),
)
def test_a_figure_is_never_reported_twice_in_a_row(currents, baseline, threshold):
    state, _ = rti_change(
        {}, current=currents[0], baseline=baseline, threshold_bp=threshold, registering=True
    )
    last = None
    for current in currents[1:]:
        state, change = rti_change(
            state, current=current, baseline=baseline, threshold_bp=threshold, registering=False
        )
        if change is not None:
            assert change.current_weekly_income_pence != last
            assert state["reported"] == current
            last = current


# -- deduction from earnings -------------------------------------------------------------------------------------

ACME = Employer("Acme Ltd", Address(("1 Mill Street",), "Leeds", "LS1 4AB", "GB"), "0161", "247/A1")


def view(
    employment_id: str = "acme",
    *,
    live: bool = True,
    ceased: bool = False,
    employer: Employer = ACME,
    payroll_id: str = "P100",
    end_date: dt.date | None = None,
) -> EmploymentView:
    e = Employment(
        employment_id,
        employer,
        payroll_id,
        dt.date(2019, 5, 1),
        end_date,
        PayFrequency.MONTHLY,
    )
    return EmploymentView(e, live=live, potentially_ceased=ceased)


def test_the_snapshot_keeps_the_stored_shape():
    assert employment_snapshot(view()) == {
        "live": True,
        "ceased": False,
        "employer": ["Acme Ltd", ["1 Mill Street"], "LS1 4AB", "0161"],
        "payroll": ["P100", "M1"],
    }


@pytest.mark.parametrize(
    ("was", "now", "change"),
    [
        (None, view(), EmploymentChange.EMPLOYMENT_STARTED),
        (None, view(live=False), None),
        (view(), view(live=False, end_date=dt.date(2026, 4, 1)), EmploymentChange.EMPLOYMENT_ENDED),
        (view(), view(ceased=True), EmploymentChange.POTENTIALLY_CEASED),
        (view(ceased=True), view(ceased=True), None),
        (
            view(),
            view(employer=Employer("Acme Group", ACME.address, "0161", "247/A1")),
            EmploymentChange.EMPLOYER_DETAILS_CHANGED,
        ),
        (view(), view(payroll_id="P200"), EmploymentChange.PAYROLL_DETAILS_CHANGED),
        (view(), view(), None),
    ],
)
def test_employment_changes(was, now, change):
    before = None if was is None else employment_snapshot(was)
    assert employment_change(before, employment_snapshot(now)) == change


def test_changes_are_dated_when_hmrc_says_they_happened():
    on = dt.date(2026, 4, 6)
    state, changes = deo_changes({}, [view()], on)
    assert [(c.change, c.change_date) for c in changes] == [
        (EmploymentChange.EMPLOYMENT_STARTED, dt.date(2019, 5, 1))
    ]
    state, changes = deo_changes(state, [view(live=False, end_date=dt.date(2026, 4, 1))], on)
    assert [(c.change, c.change_date) for c in changes] == [
        (EmploymentChange.EMPLOYMENT_ENDED, dt.date(2026, 4, 1))
    ]
    _, changes = deo_changes(state, [view(live=False, end_date=dt.date(2026, 4, 1))], on)
    assert changes == []  # reported once


def test_a_deduction_goes_only_to_live_employments_not_potentially_ceased():
    views = [view("a"), view("b", ceased=True), view("c", live=False)]
    assert [v.employment.employment_id for v in deductible(views)] == ["a"]


# -- Child Benefit end dates ---------------------------------------------------------------------------------------

ELLA = Child("Ella", "Kellaway", dt.date(2009, 3, 2), "JZ100001A", dt.date(2009, 3, 20))


def status(end: dt.date | None, found: Child | None = ELLA) -> ChildBenefitStatus:
    asked = ChildToFind("Ella", "Kellaway", dt.date(2009, 3, 2))
    return ChildBenefitStatus(asked, found, entitled=True, end_date=end)


def test_an_end_date_is_news_when_it_appears_or_changes_but_not_at_registration():
    state, notices = end_date_notices({}, [status(dt.date(2029, 3, 1))], registering=True)
    assert notices == [] and state == {"end_dates": {"JZ100001A": "2029-03-01"}}
    state, notices = end_date_notices(state, [status(dt.date(2029, 3, 1))], registering=False)
    assert notices == []
    state, notices = end_date_notices(state, [status(dt.date(2026, 5, 31))], registering=False)
    assert [(n.status.end_date, n.previous_end_date) for n in notices] == [
        (dt.date(2026, 5, 31), dt.date(2029, 3, 1))
    ]
    state, notices = end_date_notices(state, [status(None)], registering=False)
    assert notices == [] and state["end_dates"] == {"JZ100001A": ""}  # gone: remembered, not news


def test_a_child_hmrc_cannot_find_is_skipped():
    assert end_date_notices({}, [status(dt.date(2029, 3, 1), found=None)], registering=False) == (
        {"end_dates": {}},
        [],
    )
