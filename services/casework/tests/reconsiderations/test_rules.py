"""Unit and property tests for the disputes rules (cms_casework.reconsiderations.rules): the time limits of a
mandatory reconsideration (reg 14(1) and reg 15 of SI 2012/2677), of an appeal (rule 22 of SI 2008/2685), of a
revision on the CMS's own initiative, and the explanations every decision carries."""

from __future__ import annotations

import datetime as dt

from hypothesis import given
from hypothesis import strategies as st

from cms.casework.v1 import resources_pb2 as pb
from cms_casework.reconsiderations.rules import (
    DEFAULTS,
    DisputeParameters,
    Timing,
    appeal_deadline,
    appeal_timing,
    clearance_overdue,
    clearance_target,
    explain_appeal,
    explain_reconsideration,
    explain_revision,
    for_client,
    representations_due,
    request_timing,
    revision_allowed,
)
from cms_casework.wording import pounds

DAY = dt.date(2026, 4, 6)
days = st.dates(min_value=dt.date(2013, 1, 1), max_value=dt.date(2040, 12, 31))


def test_a_request_is_in_time_up_to_the_thirtieth_day_after_notification():
    assert request_timing(DAY, DAY) == Timing.IN_TIME
    assert request_timing(DAY, DAY + dt.timedelta(days=30)) == Timing.IN_TIME
    assert request_timing(DAY, DAY + dt.timedelta(days=31)) == Timing.LATE


def test_a_late_request_is_possible_up_to_thirteen_months_and_no_later():
    assert request_timing(DAY, dt.date(2027, 5, 6)) == Timing.LATE
    assert request_timing(DAY, dt.date(2027, 5, 7)) == Timing.OUT_OF_TIME


@given(days, st.integers(min_value=0, max_value=800))
def test_request_timing_is_monotonic(notified, after):
    """The later the request, the later its band: in time, then late, then out of time, never back."""
    order = [Timing.IN_TIME, Timing.LATE, Timing.OUT_OF_TIME]
    here = order.index(request_timing(notified, notified + dt.timedelta(days=after)))
    nxt = order.index(request_timing(notified, notified + dt.timedelta(days=after + 1)))
    assert nxt >= here


def test_an_appeal_is_due_within_a_month_of_the_notice_and_late_by_at_most_twelve_more():
    notice = dt.date(2026, 5, 20)
    assert appeal_deadline(notice) == dt.date(2026, 6, 20)
    assert appeal_timing(notice, dt.date(2026, 6, 20)) == Timing.IN_TIME
    assert appeal_timing(notice, dt.date(2026, 6, 21)) == Timing.LATE
    assert appeal_timing(notice, dt.date(2027, 6, 20)) == Timing.LATE
    assert appeal_timing(notice, dt.date(2027, 6, 21)) == Timing.OUT_OF_TIME


def test_the_cms_may_revise_on_its_own_initiative_only_within_thirty_days():
    assert revision_allowed(DAY, DAY + dt.timedelta(days=30))
    assert not revision_allowed(DAY, DAY + dt.timedelta(days=31))


def test_the_dates_a_reconsideration_is_tracked_against_are_parameters():
    assert representations_due(DAY) == DAY + dt.timedelta(days=14)
    assert clearance_target(DAY) == DAY + dt.timedelta(days=28)
    slower = DisputeParameters(clearance_target_days=42, representations_days=21)
    assert clearance_target(DAY, slower) == DAY + dt.timedelta(days=42)
    assert representations_due(DAY, slower) == DAY + dt.timedelta(days=21)
    target = clearance_target(DAY)
    assert not clearance_overdue(target, target, decided=False)
    assert clearance_overdue(target, target + dt.timedelta(days=1), decided=False)
    assert not clearance_overdue(target, target + dt.timedelta(days=1), decided=True)
    assert DEFAULTS.request_days == 30 and DEFAULTS.late_request_limit_months == 13


def test_a_parent_sees_only_their_own_side():
    mr = pb.MandatoryReconsideration(
        requesting_client="clients/alex",
        grounds="my income was lower",
        late_reason="in hospital",
        representations=[
            pb.ReconsiderationRepresentations(client="clients/bethan", text="he earns more")
        ],
    )
    alex, bethan = for_client(mr, "clients/alex"), for_client(mr, "clients/bethan")
    assert (alex.grounds, alex.late_reason, list(alex.representations)) == (
        "my income was lower",
        "in hospital",
        [],
    )
    assert (bethan.grounds, bethan.late_reason) == ("", "")
    assert [r.text for r in bethan.representations] == ["he earns more"]
    assert mr.grounds and len(mr.representations) == 1  # the stored one is untouched


def test_explanations_say_what_changed_from_when_and_cite_the_rule():
    revised = explain_reconsideration(
        outcome=pb.RECONSIDERATION_OUTCOME_REVISED,
        notified=DAY,
        effective=dt.date(2026, 3, 30),
        before=9600,
        after=7100,
        reason="the income used was too high.",
        late=False,
        appeal_by=dt.date(2026, 5, 20),
    )
    assert "from 30 March 2026 goes down from £96.00 to £71.00" in revised.text
    assert "must reach it by 20 May 2026" in revised.text
    assert "s.16" in revised.citation and "reg 14(1)(a)" in revised.citation
    assert "rule 22" in revised.citation
    kept = explain_reconsideration(
        outcome=pb.RECONSIDERATION_OUTCOME_NOT_REVISED,
        notified=DAY,
        effective=DAY,
        before=9600,
        after=9600,
        reason="the income was right",
        late=True,
        appeal_by=dt.date(2026, 5, 20),
    )
    assert "stays as it was: the income was right." in kept.text
    assert "reg 15" in kept.citation
    assert (
        "stays at £96.00"
        in explain_revision(
            notified=DAY, effective=DAY, before=9600, after=9600, reason="typo in the address"
        ).text
    )
    allowed = explain_appeal(
        outcome=pb.APPEAL_OUTCOME_ALLOWED,
        decided=dt.date(2026, 9, 1),
        effective=DAY,
        before=9600,
        after=12000,
        note="shared care is 1 night a week",
    )
    assert "goes up from £96.00 to £120.00" in allowed.text and "s.20" in allowed.citation


@given(st.integers(min_value=0, max_value=10**11))
def test_pounds_are_pence_written_out(pence):
    written = pounds(pence)
    assert int(written[1:].replace(",", "").replace(".", "")) == pence
