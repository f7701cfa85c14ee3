"""The feed scheduler: walks the active interests as the clock moves and publishes what has become due (annual
and unearned income updates, Child Benefit end dates reached, RTI pay drifting past a threshold, a DEO employment
going quiet). One transaction per interest, so a crash loses nothing and repeats nothing."""

from __future__ import annotations

import structlog
from sqlalchemy.orm import sessionmaker

from cms.hmrc.v1 import resources_pb2 as pb
from cms_platform.clock import Clock
from cms_platform.scheduling import PeriodicJob

from . import interests
from .models import InterestRecord
from .simulator.adapter import SimulatedHmrc

log = structlog.get_logger(__name__)


def run_due(*, sessions: sessionmaker, hmrc: SimulatedHmrc, clock: Clock) -> int:
    """One pass over every active interest; returns the number of events queued."""
    queued, after = 0, ""
    on = clock.today()
    while True:
        with sessions() as s:
            page = [r.id for r in interests.due_interests(s, after_id=after)]
        if not page:
            return queued
        for interest_id in page:
            with sessions.begin() as s:
                record = s.get(InterestRecord, interest_id, with_for_update=True)
                if record is None or not record.active:
                    continue
                interest = pb.Interest.FromString(record.interest)
                queued += len(
                    interests.check(
                        s,
                        record=record,
                        interest=interest,
                        person=hmrc.person(record.nino),
                        hmrc=hmrc,
                        clock=clock,
                        on=on,
                    )
                )
        after = page[-1]


def feed_scheduler(
    *, sessions: sessionmaker, hmrc: SimulatedHmrc, clock: Clock, interval_seconds: float
) -> PeriodicJob:
    def run() -> None:
        n = run_due(sessions=sessions, hmrc=hmrc, clock=clock)
        if n:
            log.info("feed events queued", events=n)

    return PeriodicJob("hmrc-feeds", interval_seconds, run)
