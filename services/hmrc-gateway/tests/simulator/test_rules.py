"""The simulated HMRC's pure rules (cms_hmrc_gateway.simulator.rules): finding a child on an award, and what each
scripted life event does to a person."""

from __future__ import annotations

import dataclasses
import datetime as dt

import pytest
from hypothesis import given
from hypothesis import strategies as st

from cms_hmrc_gateway.port import ChildToFind
from cms_hmrc_gateway.simulator.rules import (
    find_child,
    find_employment,
    with_child_leaving_education,
    with_death,
    with_job_loss,
    with_new_job,
    with_pay_change,
)
from cms_simulation.population import FIXTURES, ids
from cms_simulation.population.model import (
    Address,
    Child,
    ChildBenefitAward,
    ChildBenefitEndReason,
    Employer,
    PayFrequency,
)

ON = dt.date(2026, 4, 15)
ALEX = next(p for p in FIXTURES if p.nino == "AA123456A")
ELLA = Child("Ella", "Kellaway", dt.date(2009, 3, 2), "JZ100001A", dt.date(2009, 3, 20))
SAM = Child("Sam", "Kellaway", dt.date(2014, 6, 9), "JZ100002A", dt.date(2014, 6, 20))
AWARD = ChildBenefitAward("CHB12345678AB", dt.date(2009, 9, 1), None, False, (ELLA, SAM))


@pytest.mark.parametrize(
    ("asked", "found"),
    [
        (ChildToFind("", "", None, "jz100002a"), SAM),  # the CRN decides, whatever the name
        (ChildToFind("E", "KELlaway-Smith", dt.date(2009, 3, 2)), ELLA),
        (ChildToFind("Ella", "Kellaway", dt.date(2009, 3, 3)), None),
        (ChildToFind("Ella", "Kellaway", dt.date(2009, 3, 2), "JZ100009A"), None),
    ],
)
def test_find_child(asked, found):
    assert find_child(AWARD.children, asked) == found


def test_a_new_job_is_numbered_after_the_jobs_held():
    employer = Employer("Bolt plc", Address(("1 Quay",), "Hull", "HU1 1AA"), "01482", "123/B55")
    after = with_new_job(
        ALEX,
        employer=employer,
        payroll_id="",
        pay_frequency=PayFrequency.WEEKLY,
        annual_taxable_pay_pence=20_000_00,
        on=ON,
    )
    n = len(ALEX.employments) + 1
    job = after.employments[-1]
    assert (job.employment_id, job.payroll_id, job.start_date, job.end_date) == (
        ids.employment_id("AA123456A", n, kind=""),
        f"P{n:05d}",
        ON,
        None,
    )


def test_pay_changes_and_job_losses_change_only_that_employment():
    index = find_employment(ALEX, ALEX.employments[-1].employment_id)
    assert index == len(ALEX.employments) - 1
    assert find_employment(ALEX, "nobody") is None
    raised = with_pay_change(ALEX, index, annual_pence=52_000_00, on=ON)
    assert raised.employments[index].annual_pay_on(ON) == 52_000_00
    assert raised.employments[:index] == ALEX.employments[:index]
    lost = with_job_loss(ALEX, index, on=ON, leaving_date_unreported=True)
    assert (lost.employments[index].end_date, lost.employments[index].leaving_date_unreported) == (
        ON,
        True,
    )


@given(st.dates(dt.date(2000, 1, 1), dt.date(2090, 12, 31)))
def test_leaving_education_ends_child_benefit_at_the_next_quarter_end(left):
    person = with_child_leaving_education(
        dataclasses.replace(ALEX, child_benefit=AWARD),
        ELLA,
        reason=ChildBenefitEndReason.LEFT_APPROVED_EDUCATION,
        on=left,
    )
    assert person.child_benefit is not None
    ella, sam = person.child_benefit.children
    assert sam == SAM and ella.end_date_reported_on == left
    assert ella.end_date is not None and ella.end_date >= left
    assert ella.end_date.month in (2, 5, 8, 11) and (ella.end_date + dt.timedelta(days=1)).day == 1
    assert (ella.end_date - left).days < 92


def test_death():
    assert with_death(ALEX, ON).date_of_death == ON
