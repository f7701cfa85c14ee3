"""The monthly Child Benefit check over the HMRC port: each child asked about on its own, so a child HMRC cannot
answer for (a bad item, a restricted claimant, a throttled enquiry) is that child's error, while maintenance or an
outage stops the run."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

from cms_platform.errors import DomainError

from ..port import HmrcPort
from .rules import CheckResult, ChildToCheck, stops_the_run


def check_children(
    hmrc: HmrcPort, *, items: Sequence[ChildToCheck | DomainError], on: dt.date
) -> list[CheckResult]:
    """One result per item, in order; an item that could not be read is its own error. Raises what stops the run."""
    hmrc = hmrc.for_people([i.claimant.nino for i in items if isinstance(i, ChildToCheck)])
    results = []
    for item in items:
        if isinstance(item, DomainError):
            results.append(CheckResult(error=item))
            continue
        try:
            answer = hmrc.child_benefit(item.claimant, [item.child], on)
        except DomainError as exc:
            if stops_the_run(exc):
                raise
            results.append(CheckResult(error=exc))
            continue
        results.append(CheckResult(answer=answer))
    return results
