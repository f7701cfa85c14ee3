"""Child Benefit as HMRC would report it on a date: entitlement, payment and end dates by the terminal-date rules.

Rules (docs/domain/external-systems.md §1.7, docs/domain/changes-of-circumstances.md §11.5; CCM18025):
- A child is on the award from the relationship start date. With no end date recorded, Child Benefit stops on
  31 August on or after the 16th birthday unless approved education or training (full-time non-advanced, or unpaid
  approved training) has been reported; then it can run to the day before the 20th birthday at the latest.
- A recorded end date (left education: a quarter-end terminal date; started work, an apprenticeship or higher
  education; the young person's own benefit claim; not reconfirmed; the claim ended; the child died) is known to
  HMRC once it has passed, from `end_date_reported_on` when the change was reported ahead, or ahead of time when
  it is a scheduled terminal date (REACHED_16_NOT_IN_EDUCATION, NOT_RECONFIRMED, REACHED_20). Until then the
  rule-derived terminal date stands.
- An award end date ends every child on it (CLAIM_ENDED) unless the child ended earlier.
- Opting out of payment (High Income Child Benefit Charge) leaves the claimant entitled but not paid; the CMS
  treats it as receiving Child Benefit (regs 50(4), 54(2)).
- End dates are inclusive: the last day of entitlement. Dirty records (an end date before the relationship start,
  DataQuirk.CHILD_BENEFIT_END_BEFORE_START) are reported as held: never entitled.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from .model import Child, ChildBenefitAward, ChildBenefitEndReason

SCHEDULED_REASONS = frozenset(
    {
        ChildBenefitEndReason.REACHED_16_NOT_IN_EDUCATION,
        ChildBenefitEndReason.NOT_RECONFIRMED,
        ChildBenefitEndReason.REACHED_20,
    }
)


def add_years(d: dt.date, years: int) -> dt.date:
    """The same day `years` later; 29 February becomes 1 March (when a leap-day birthday is reached in the UK)."""
    try:
        return d.replace(year=d.year + years)
    except ValueError:
        return dt.date(d.year + years, 3, 1)


def age_on(date_of_birth: dt.date, on: dt.date) -> int:
    return (
        on.year
        - date_of_birth.year
        - ((on.month, on.day) < (date_of_birth.month, date_of_birth.day))
    )


def sixteen_terminal_date(date_of_birth: dt.date) -> dt.date:
    """31 August on or after the 16th birthday."""
    sixteen = add_years(date_of_birth, 16)
    return dt.date(
        sixteen.year if sixteen <= dt.date(sixteen.year, 8, 31) else sixteen.year + 1, 8, 31
    )


def last_day_before_twenty(date_of_birth: dt.date) -> dt.date:
    return add_years(date_of_birth, 20) - dt.timedelta(days=1)


def quarter_end_on_or_after(d: dt.date) -> dt.date:
    """The next Child Benefit terminal date after leaving education: the last day of February, May, August or
    November."""
    for month in (2, 5, 8, 11):
        if d.month <= month:
            end = dt.date(d.year, month + 1, 1) - dt.timedelta(days=1)
            if end >= d:
                return end
    return dt.date(d.year + 1, 3, 1) - dt.timedelta(days=1)


def rule_terminal_date(child: Child) -> tuple[dt.date, ChildBenefitEndReason]:
    """Where entitlement ends by the rules alone, from what has been reported."""
    if child.approved_education_or_training_reported:
        return last_day_before_twenty(child.date_of_birth), ChildBenefitEndReason.REACHED_20
    return sixteen_terminal_date(
        child.date_of_birth
    ), ChildBenefitEndReason.REACHED_16_NOT_IN_EDUCATION


@dataclass(frozen=True, slots=True)
class ChildStatus:
    entitled: bool
    in_payment: bool  # entitled and not opted out of payment
    elected_not_to_be_paid: bool
    end_date: dt.date | None  # set once entitlement has ended (inclusive last day)
    end_reason: ChildBenefitEndReason | None
    # Where entitlement will end as HMRC knows it today (FTNAE's currentClaimEndDate); None once ended.
    terminal_date: dt.date | None = None


def child_status(award: ChildBenefitAward, child: Child, on: dt.date) -> ChildStatus:
    """The child's Child Benefit on a date, as HMRC would report it then."""
    end, reason = child.end_date, child.end_reason
    told = child.end_date_reported_on is not None and child.end_date_reported_on <= on
    if end is not None and end > on and reason not in SCHEDULED_REASONS and not told:
        end, reason = None, None  # an event HMRC has not been told about yet
    if end is None:
        end, reason = rule_terminal_date(child)
    if award.award_end_date is not None and award.award_end_date < end:
        end, reason = award.award_end_date, ChildBenefitEndReason.CLAIM_ENDED
    started = max(child.relationship_start_date, award.award_start_date) <= on
    if end < on or end < child.relationship_start_date:
        return ChildStatus(False, False, award.elected_not_to_be_paid, end, reason, None)
    if not started:
        return ChildStatus(False, False, award.elected_not_to_be_paid, None, None, end)
    return ChildStatus(
        True, not award.elected_not_to_be_paid, award.elected_not_to_be_paid, None, None, end
    )
