"""The periodic surveillance pass: every surveillance checked at the clock's date, in a background thread."""

from __future__ import annotations

import structlog
from sqlalchemy.orm import sessionmaker

from cms_platform import calls
from cms_platform.clock import Clock
from cms_platform.scheduling import PeriodicJob

from ..port import CreditReferencePort
from . import flows
from .rules import DEFAULTS, SurveillanceParameters

log = structlog.get_logger(__name__)

JOB = "cra-surveillance"


def surveillance_scheduler(
    *,
    sessions: sessionmaker,
    cra: CreditReferencePort,
    clock: Clock,
    interval_seconds: float,
    params: SurveillanceParameters = DEFAULTS,
) -> PeriodicJob:
    """Checks at the clock's date every `interval_seconds` (agencies send monitoring alerts daily; a shorter
    interval notices a moved clock soon). 0 turns it off."""

    def run() -> None:
        with calls.serving(JOB):
            checked, raised, reviews = flows.run_due(
                sessions=sessions, cra=cra, clock=clock, params=params
            )
        if raised or reviews:
            log.info("surveillance checks ran", checked=checked, alerts=raised, reviews_due=reviews)

    return PeriodicJob(JOB, interval_seconds, run)
