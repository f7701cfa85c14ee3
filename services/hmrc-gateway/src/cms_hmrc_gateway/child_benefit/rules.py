"""The pure rules of the monthly Child Benefit check: how many children one message may carry, and which refusals
from HMRC stop the run (the client re-sends what has no answer) rather than fail one child."""

from __future__ import annotations

from dataclasses import dataclass

from cms_platform.errors import DomainError

from ..port import Answer, ChildBenefitStatus, ChildToFind, PersonToMatch

MAX_CHECK_ITEMS = 1000  # children per message
# HMRC down for maintenance or out: every later child would fail the same way.
RUN_STOPPING_REASONS = frozenset({"SCHEDULED_MAINTENANCE", "SERVER_ERROR"})


def stops_the_run(error: DomainError) -> bool:
    return error.reason in RUN_STOPPING_REASONS


@dataclass(frozen=True)
class ChildToCheck:
    item_id: str
    case_id: str
    claimant: PersonToMatch
    child: ChildToFind


@dataclass(frozen=True)
class CheckResult:
    """HMRC's answer for one child, or why there is none."""

    answer: Answer[list[ChildBenefitStatus]] | None = None
    error: DomainError | None = None
