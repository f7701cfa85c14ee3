"""The feed scheduler: walks the active interests as the clock moves and publishes what has become due (annual
and unearned income updates, Child Benefit end dates reached, RTI pay drifting past a threshold, a DEO employment
going quiet). One transaction per interest, so a crash loses nothing and repeats nothing."""

from __future__ import annotations

import threading

import structlog
from sqlalchemy.orm import sessionmaker

from cms.hmrc.v1 import resources_pb2 as pb
from cms_platform.clock import Clock

from . import interests
from .models import InterestRecord
from .simulator import SimulatedHmrc

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
                queued += len(interests.check(s, record=record, interest=interest, person=hmrc.person(record.nino),
                                              hmrc=hmrc, clock=clock, on=on))
        after = page[-1]


class FeedScheduler:
    def __init__(self, *, sessions: sessionmaker, hmrc: SimulatedHmrc, clock: Clock, interval_seconds: float):
        self._sessions, self._hmrc, self._clock = sessions, hmrc, clock
        self._interval = interval_seconds
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="hmrc-feeds", daemon=True)

    def start(self) -> None:
        if self._interval > 0:
            self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join(timeout=10)

    def _run(self) -> None:
        while not self._stop.wait(self._interval):
            try:
                n = run_due(sessions=self._sessions, hmrc=self._hmrc, clock=self._clock)
                if n:
                    log.info("feed events queued", events=n)
            except Exception as exc:  # noqa: BLE001 - the next pass retries; nothing was half-written
                log.warning("feed pass failed", error=str(exc))
