"""The time limits and explanations of disputes, as pure rules (no I/O): when a mandatory reconsideration may be
asked for, when an appeal may be lodged, when the CMS may revise a decision on its own initiative, the dates a
reconsideration is tracked against, what a parent sees of one, and every casework decision explained in plain
English with the rule cited (docs/domain/disputes.md).

The statute: a decision may be revised (Child Support Act 1991 s.16) on an application made within 30 days of the
date it was notified, or on the Secretary of State's own initiative within those 30 days (reg 14(1) of SI 2012/2677);
a late application needs a reason and can be no later than 13 months after notification (reg 15 of SI 2012/2677).
An appeal to the First-tier Tribunal (s.20 of the 1991 Act) lies only after the decision has been reconsidered
(reg 14A of SI 2012/2677) and must reach the tribunal within one month of the reconsideration notice; the tribunal
cannot extend that by more than 12 months (rule 22 of SI 2008/2685). A revised decision takes effect from the date
the original did (s.16(3) of the 1991 Act); a supersession from the date the regulations give (s.17(4) of the 1991
Act and reg 18 of SI 2012/2677)."""

from __future__ import annotations

import datetime as dt
import enum
from dataclasses import dataclass

from cms.casework.v1 import resources_pb2 as pb
from cms_platform.convert import months_after

from ..wording import long_date, movement


@dataclass(frozen=True)
class DisputeParameters:
    """The limits, named; the defaults are the statute's, except the two the CMS sets itself (marked)."""

    # Days after notification within which a reconsideration may be asked for, or the CMS may revise (reg 14(1)).
    request_days: int = 30
    # Months after notification beyond which no late request is accepted, whatever the reason (reg 15).
    late_request_limit_months: int = 13
    # Months after the reconsideration notice within which an appeal reaches the tribunal (SI 2008/2685 r.22).
    appeal_months: int = 1
    # Months beyond that month by which the tribunal may extend the time (SI 2008/2685 r.22(8)).
    appeal_extension_limit_months: int = 12
    # [CMS] Days the other parent is given to make representations.
    representations_days: int = 14
    # [CMS] Days from the request within which the CMS aims to decide (the clearance target): the CMS statistics
    # report the share of reconsiderations cleared within 28 days.
    clearance_target_days: int = 28


DEFAULTS = DisputeParameters()


class Timing(enum.Enum):
    """Where a request (or appeal) falls against its time limits."""

    IN_TIME = "in time"
    LATE = "late, allowed with a reason"
    OUT_OF_TIME = "out of time"


def request_deadline(notified: dt.date, params: DisputeParameters = DEFAULTS) -> dt.date:
    """The last day a reconsideration may be asked for (or the CMS may revise) without a reason for lateness."""
    return notified + dt.timedelta(days=params.request_days)


def request_timing(
    notified: dt.date, requested: dt.date, params: DisputeParameters = DEFAULTS
) -> Timing:
    """A request for reconsideration of a decision notified on `notified`, made on `requested`."""
    if requested <= request_deadline(notified, params):
        return Timing.IN_TIME
    if requested <= months_after(notified, params.late_request_limit_months):
        return Timing.LATE
    return Timing.OUT_OF_TIME


def revision_allowed(
    notified: dt.date, today: dt.date, params: DisputeParameters = DEFAULTS
) -> bool:
    """Whether the CMS may still revise a decision on its own initiative, on any ground (reg 14(1))."""
    return today <= request_deadline(notified, params)


def appeal_deadline(notice: dt.date, params: DisputeParameters = DEFAULTS) -> dt.date:
    """The last day an appeal reaches the tribunal in time, the reconsideration notice dated `notice`."""
    return months_after(notice, params.appeal_months)


def appeal_timing(notice: dt.date, lodged: dt.date, params: DisputeParameters = DEFAULTS) -> Timing:
    if lodged <= appeal_deadline(notice, params):
        return Timing.IN_TIME
    limit = months_after(notice, params.appeal_months + params.appeal_extension_limit_months)
    return Timing.LATE if lodged <= limit else Timing.OUT_OF_TIME


def representations_due(requested: dt.date, params: DisputeParameters = DEFAULTS) -> dt.date:
    return requested + dt.timedelta(days=params.representations_days)


def clearance_target(requested: dt.date, params: DisputeParameters = DEFAULTS) -> dt.date:
    return requested + dt.timedelta(days=params.clearance_target_days)


def clearance_overdue(target: dt.date, today: dt.date, *, decided: bool) -> bool:
    """Undecided after its target date."""
    return not decided and today > target


# -- what a parent sees ---------------------------------------------------------------------------------------------


def for_client(mr: pb.MandatoryReconsideration, client: str) -> pb.MandatoryReconsideration:
    """A parent's view: their own side only. The other parent's grounds, reason for lateness and representations are
    theirs, and left out; the outcome, its explanation and the dates are for both."""
    seen = pb.MandatoryReconsideration()
    seen.CopyFrom(mr)
    if mr.requesting_client != client:
        seen.ClearField("grounds")
        seen.ClearField("late_reason")
    del seen.representations[:]
    seen.representations.extend(r for r in mr.representations if r.client == client)
    return seen


# -- explanations ---------------------------------------------------------------------------------------------------

REVISION_ON_REQUEST = "Child Support Act 1991 s.16; SI 2012/2677 reg 14(1)(a) and reg 14A"
LATE_REVISION_ON_REQUEST = "Child Support Act 1991 s.16; SI 2012/2677 reg 14A and reg 15"
REVISION_ON_OWN_INITIATIVE = "Child Support Act 1991 s.16; SI 2012/2677 reg 14(1)(b)"
APPEAL = "Child Support Act 1991 s.20; SI 2008/2685 rule 22"


@dataclass(frozen=True)
class Explanation:
    text: str
    citation: str

    def message(self) -> pb.DecisionExplanation:
        return pb.DecisionExplanation(explanation=self.text, citation=self.citation)


def explain_reconsideration(
    *,
    outcome: pb.ReconsiderationOutcome.ValueType,
    notified: dt.date,
    effective: dt.date,
    before: int,
    after: int,
    reason: str,
    late: bool,
    appeal_by: dt.date,
) -> Explanation:
    """The reconsideration's outcome, as the notice gives it, with the right of appeal."""
    citation = LATE_REVISION_ON_REQUEST if late else REVISION_ON_REQUEST
    opening = f"We looked again at the decision of {long_date(notified)}"
    if outcome == pb.RECONSIDERATION_OUTCOME_REVISED:
        what = f"{opening} and changed it, from the date it took effect: {reason.strip()}"
        what = f"{what.rstrip('.')}. {movement(effective, before, after)}"
    else:
        what = f"{opening} and it stays as it was: {reason.strip()}".rstrip(".") + "."
    appeal = (
        f" If you disagree you can appeal to the First-tier Tribunal (Social Entitlement Chamber); the appeal "
        f"must reach it by {long_date(appeal_by)}."
    )
    return Explanation(what + appeal, f"{citation}; {APPEAL}")


def explain_appeal(
    *,
    outcome: pb.AppealOutcome.ValueType,
    decided: dt.date,
    effective: dt.date,
    before: int,
    after: int,
    note: str,
) -> Explanation:
    if outcome == pb.APPEAL_OUTCOME_ALLOWED:
        text = (
            f"The First-tier Tribunal allowed the appeal on {long_date(decided)} and we changed the decision as it "
            f"directed: {note.strip()}".rstrip(".")
            + f". {movement(effective, before, after)}"
        )
        return Explanation(text, f"{APPEAL}; Child Support Act 1991 s.16(3)")
    text = (
        f"The First-tier Tribunal dismissed the appeal on {long_date(decided)}: {note.strip()}".rstrip(
            "."
        )
        + ". The decision stays as it was."
    )
    return Explanation(text, APPEAL)


def explain_revision(
    *, notified: dt.date, effective: dt.date, before: int, after: int, reason: str
) -> Explanation:
    """A revision on the CMS's own initiative within the 30 days."""
    text = (
        f"We found the decision of {long_date(notified)} was wrong and changed it from the date it took "
        f"effect: {reason.strip()}".rstrip(".")
        + f". {movement(effective, before, after)}"
    )
    return Explanation(text, f"{REVISION_ON_OWN_INITIATIVE}; s.16(3)")
