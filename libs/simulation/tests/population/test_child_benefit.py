"""Child Benefit on a date (cms_simulation.population.child_benefit): the terminal-date rules, opting out of
payment, recorded and reported ends, and an award's end ending every child."""

from __future__ import annotations

import dataclasses
import datetime as dt

from cms_simulation.population.child_benefit import (
    child_status,
    quarter_end_on_or_after,
    sixteen_terminal_date,
)
from cms_simulation.population.model import Child, ChildBenefitAward, ChildBenefitEndReason

D = dt.date


def award(*children: Child, elected=False, end=None) -> ChildBenefitAward:
    return ChildBenefitAward("CHB12345678AB", D(2010, 3, 1), end, elected, children)


def test_child_benefit_ends_on_31_august_after_the_16th_birthday_unless_education_is_reported():
    child = Child("Tomos", "Okafor", D(2010, 3, 1), "TA000001A", D(2010, 3, 1))
    assert sixteen_terminal_date(child.date_of_birth) == D(2026, 8, 31)
    on_the_day = child_status(award(child), child, D(2026, 8, 31))
    assert (
        on_the_day.entitled and on_the_day.in_payment and on_the_day.terminal_date == D(2026, 8, 31)
    )
    after = child_status(award(child), child, D(2026, 9, 1))
    assert not after.entitled and (after.end_date, after.end_reason) == (
        D(2026, 8, 31),
        ChildBenefitEndReason.REACHED_16_NOT_IN_EDUCATION,
    )
    reported = dataclasses.replace(child, approved_education_or_training_reported=True)
    assert child_status(award(reported), reported, D(2028, 9, 1)).entitled
    assert child_status(award(reported), reported, D(2030, 2, 28)).entitled
    at_twenty = child_status(award(reported), reported, D(2030, 3, 1))
    assert not at_twenty.entitled and (at_twenty.end_date, at_twenty.end_reason) == (
        D(2030, 2, 28),
        ChildBenefitEndReason.REACHED_20,
    )


def test_terminal_dates():
    assert sixteen_terminal_date(D(2010, 8, 31)) == D(2026, 8, 31)
    assert sixteen_terminal_date(D(2010, 9, 1)) == D(2027, 8, 31)
    assert sixteen_terminal_date(D(2008, 2, 29)) == D(2024, 8, 31)
    assert [
        quarter_end_on_or_after(d)
        for d in (D(2025, 1, 10), D(2024, 2, 29), D(2025, 6, 1), D(2025, 12, 1))
    ] == [D(2025, 2, 28), D(2024, 2, 29), D(2025, 8, 31), D(2026, 2, 28)]


def test_opting_out_is_entitled_but_not_in_payment():
    child = Child("Zara", "Okafor", D(2024, 10, 3), "TA000002A", D(2024, 10, 3))
    s = child_status(award(child, elected=True), child, D(2026, 1, 1))
    assert (s.entitled, s.in_payment, s.elected_not_to_be_paid) == (True, False, True)


def test_an_event_is_known_once_it_has_passed_and_an_award_end_ends_every_child():
    child = Child(
        "Ffion",
        "Okafor",
        D(2009, 5, 20),
        "TA000003A",
        D(2009, 5, 20),
        D(2027, 2, 28),
        ChildBenefitEndReason.LEFT_APPROVED_EDUCATION,
        True,
    )
    before = child_status(award(child), child, D(2026, 10, 1))
    assert before.entitled and before.end_date is None and before.terminal_date == D(2029, 5, 19)
    after = child_status(award(child), child, D(2027, 3, 1))
    assert not after.entitled and after.end_reason == ChildBenefitEndReason.LEFT_APPROVED_EDUCATION
    ended = child_status(award(child, end=D(2026, 1, 31)), child, D(2026, 2, 1))
    assert (ended.end_date, ended.end_reason) == (D(2026, 1, 31), ChildBenefitEndReason.CLAIM_ENDED)
    dirty = dataclasses.replace(
        child, end_date=D(2009, 1, 1), end_reason=ChildBenefitEndReason.CLAIM_ENDED
    )
    assert not child_status(award(dirty), dirty, D(2015, 1, 1)).entitled


def test_an_end_reported_ahead_is_known_from_when_it_was_reported():
    child = Child(
        "Ffion",
        "Okafor",
        D(2009, 5, 20),
        "TA000003A",
        D(2009, 5, 20),
        D(2027, 2, 28),
        ChildBenefitEndReason.LEFT_APPROVED_EDUCATION,
        True,
        end_date_reported_on=D(2027, 1, 10),
    )
    assert child_status(award(child), child, D(2027, 1, 9)).terminal_date == D(2029, 5, 19)
    told = child_status(award(child), child, D(2027, 1, 10))
    assert told.entitled and told.end_date is None and told.terminal_date == D(2027, 2, 28)
