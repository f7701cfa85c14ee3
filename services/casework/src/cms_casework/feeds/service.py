"""Applying what the feeds raised: the changes HMRC and CIS reported arrive verified at source, and applying them
needs the calculation service, so it happens after the event's transaction, in a short background pass that applies
every case's feed changes until none are left. The pass starts as soon as an event that raised such a change has
committed (feeds.handlers wakes it), and again every interval: a crash between the commit and the pass loses nothing,
the next tick applies what the lost wake would have. Each change keeps the trace context of the event that raised it,
and a case's pass continues that trace."""

from __future__ import annotations

import structlog
from sqlalchemy.orm import sessionmaker

from cms_platform import calls, telemetry
from cms_platform.clock import Clock
from cms_platform.db import single_writer
from cms_platform.errors import DomainError
from cms_platform.identity import bind_caller, reset_caller, service_caller
from cms_platform.scheduling import PeriodicJob, side_by_side

from ..changes import flows as change_flows
from ..changes import service as changes
from ..downstream import Downstream

log = structlog.get_logger(__name__)

# Who raises and applies changes from the gateways' feeds (audit entries and service requests name it).
FEEDS = service_caller("casework-feeds")

JOB = "casework-feed-changes"


# Cases a pass applies side by side: each waits mostly on hmrc-gateway, dwp-gateway, the calculation service and the
# database, so one at a time could not keep up with a steady feed (a backlog of minutes at 20 broadcasts a second).
# Each case is its own transactions; a race with another case of the same paying parent is a conflict, applied again.
PARALLEL_CASES = 4


def apply_feed_changes(*, sessions: sessionmaker, clock: Clock, downstream: Downstream) -> int:
    """Apply the verified changes feeds raised, case by case (up to PARALLEL_CASES at once). Returns how many cases
    were brought up to date."""
    with sessions() as s:
        # Each case with the trace contexts of the events that raised its changes, read once for the pass.
        work = changes.feed_work(s)
    case_ids = sorted(work)

    def apply(case_id: str) -> bool:
        try:
            contexts = work[case_id]
            # In the trace of the event that raised the change (linked to any others): the calls it makes
            # and the CaseCalculated it publishes belong to the broadcast that caused them.
            with telemetry.continued(f"{JOB} apply", contexts):
                change_flows.apply_pending_for_system(
                    sessions=sessions,
                    parent=f"cases/{case_id}",
                    caller=FEEDS,
                    clock=clock,
                    downstream=downstream,
                )
            return True
        except Exception as exc:  # noqa: BLE001 - this case waits for the next pass; the others go on
            log.warning(
                "could not apply feed changes yet",
                case=f"cases/{case_id}",
                error=str(exc) if isinstance(exc, DomainError) else type(exc).__name__,
            )
            return False

    token = bind_caller(FEEDS)
    try:
        with calls.serving(JOB):
            # SQLite takes one writer at a time: cases side by side would only wait on its lock.
            at_most = 1 if single_writer(sessions) else PARALLEL_CASES
            return sum(side_by_side(apply, case_ids, at_most=at_most, name=JOB))
    finally:
        reset_caller(token)


def applier(
    *, sessions: sessionmaker, clock: Clock, downstream: Downstream, interval_seconds: float
) -> PeriodicJob:
    """The feed pass as a background job, woken by the feed handlers (feeds.handlers) and ticking as a safety net."""
    return PeriodicJob(
        JOB,
        interval_seconds,
        lambda: apply_feed_changes(sessions=sessions, clock=clock, downstream=downstream),
    )
