"""DWP facts of a person on a date: which benefit awards are live, and whether an award's payments are suspended.

An award is live on a date from its start date to its end date, both inclusive (the end date is the last day of
entitlement). A suspension covers its start date to its end date, both inclusive; an open suspension (no end date)
covers every day from its start. Nothing here reads a clock: the caller passes its own date.
"""

from __future__ import annotations

import datetime as dt

from .model import BenefitAward, BenefitType, Person

# Income-related benefits CMS treats as prescribed for the paying parent or their partner (2012 Regs reg 44(2);
# docs/domain/calculation.md §2.3).
MEANS_TESTED = frozenset(
    {
        BenefitType.INCOME_SUPPORT,
        BenefitType.JOBSEEKERS_ALLOWANCE_INCOME_BASED,
        BenefitType.EMPLOYMENT_AND_SUPPORT_ALLOWANCE_INCOME_RELATED,
        BenefitType.PENSION_CREDIT,
        BenefitType.UNIVERSAL_CREDIT,
    }
)


def live_on(award: BenefitAward, on: dt.date) -> bool:
    """Started on or before `on` and not ended before it."""
    return award.start_date <= on and (award.end_date is None or award.end_date >= on)


def live_awards(person: Person, on: dt.date) -> tuple[BenefitAward, ...]:
    """The person's awards (as claimant or partner) live on a date, oldest first."""
    return tuple(a for a in person.benefit_awards if live_on(a, on))


def suspended_on(award: BenefitAward, on: dt.date) -> bool:
    """True when a payment suspension covers the date (an award can be live and suspended at once)."""
    return any(
        s.start_date <= on and (s.end_date is None or s.end_date >= on) for s in award.suspensions
    )
