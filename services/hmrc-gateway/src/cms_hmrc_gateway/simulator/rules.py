"""The simulated HMRC's pure rules over the population's model: how HMRC finds a child on an award, and how a
scripted life event (a new job, a pay change, a job loss, a child leaving education, a death) changes a person.
No I/O: the scenario service stores what these return."""

from __future__ import annotations

import dataclasses
import datetime as dt

from cms_simulation.population import ids, normalise_nino
from cms_simulation.population.child_benefit import quarter_end_on_or_after
from cms_simulation.population.model import (
    Child,
    ChildBenefitEndReason,
    Employer,
    Employment,
    PayFrequency,
    Person,
)

from ..port import ChildToFind


def find_child(children: tuple[Child, ...], asked: ChildToFind) -> Child | None:
    """By CRN when the CMS holds one, else by forename initial, surname and date of birth within the award."""
    if asked.child_reference_number:
        crn = normalise_nino(asked.child_reference_number)
        return next((c for c in children if c.child_reference_number == crn), None)
    return next(
        (
            c
            for c in children
            if c.date_of_birth == asked.date_of_birth
            and c.forenames[:1].upper() == asked.forenames.strip()[:1].upper()
            and c.surname[:3].upper() == asked.surname.strip()[:3].upper()
        ),
        None,
    )


def find_employment(person: Person, employment_id: str) -> int | None:
    """The position of one of the person's employments."""
    return next(
        (i for i, e in enumerate(person.employments) if e.employment_id == employment_id), None
    )


def with_new_job(
    person: Person,
    *,
    employer: Employer,
    payroll_id: str,
    pay_frequency: PayFrequency,
    annual_taxable_pay_pence: int,
    on: dt.date,
) -> Person:
    """A job starting on `on`; its id and (when none is given) payroll id follow the number of jobs held."""
    n = len(person.employments) + 1
    job = Employment(
        employment_id=ids.employment_id(person.nino, n, kind=""),
        employer=employer,
        payroll_id=payroll_id or f"P{n:05d}",
        start_date=on,
        end_date=None,
        pay_frequency=pay_frequency,
        annual_taxable_pay_pence=annual_taxable_pay_pence,
    )
    return dataclasses.replace(person, employments=(*person.employments, job))


def with_pay_change(person: Person, index: int, *, annual_pence: int, on: dt.date) -> Person:
    """The employment at `index` pays `annual_pence` a year from `on`."""
    e = person.employments[index]
    changed = dataclasses.replace(e, pay_changes=(*e.pay_changes, (on, annual_pence)))
    return _with_employment(person, index, changed)


def with_job_loss(
    person: Person, index: int, *, on: dt.date, leaving_date_unreported: bool
) -> Person:
    """The employment at `index` ends on `on` (HMRC never hears of it when the leaving date goes unreported)."""
    e = person.employments[index]
    changed = dataclasses.replace(e, end_date=on, leaving_date_unreported=leaving_date_unreported)
    return _with_employment(person, index, changed)


def with_child_leaving_education(
    person: Person, child: Child, *, reason: ChildBenefitEndReason, on: dt.date
) -> Person:
    """The education was reported (that is why Child Benefit ran past 16); it now ends at the next quarter-end
    terminal date (end of February, May, August or November), reported to HMRC on `on`."""
    award = person.child_benefit
    assert award is not None  # the child was found on it
    children = tuple(
        dataclasses.replace(
            c,
            end_date=quarter_end_on_or_after(on),
            end_reason=reason,
            end_date_reported_on=on,
        )
        if c is child
        else c
        for c in award.children
    )
    return dataclasses.replace(person, child_benefit=dataclasses.replace(award, children=children))


def with_death(person: Person, on: dt.date) -> Person:
    return dataclasses.replace(person, date_of_death=on)


def _with_employment(person: Person, index: int, employment: Employment) -> Person:
    jobs = list(person.employments)
    jobs[index] = employment
    return dataclasses.replace(person, employments=tuple(jobs))
