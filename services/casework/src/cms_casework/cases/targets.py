"""The six-week target, as a gauge for the on-call engineer: how many applications are still waiting for their first
calculation six weeks after they were made (the histogram in calculations.flows measures the ones that got there).
A COUNT over the cases table every few minutes; docs/slo.md says how the alert reads it."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import func, select
from sqlalchemy.orm import sessionmaker

from cms.casework.v1 import resources_pb2 as pb
from cms_platform.clock import Clock
from cms_platform.metrics import gauge
from cms_platform.scheduling import PeriodicJob

from ..case_records.models import CaseRecord

SIX_WEEKS = dt.timedelta(weeks=6)
JOB = "casework-six-week-target"

APPLICATIONS_PAST_SIX_WEEKS = gauge(
    "cms_casework_applications_past_six_weeks",
    "Open applications (before their first calculation) made more than six weeks ago",
)
# Still before their first calculation: an application, or verified and waiting to be calculated.
_WAITING = (
    pb.CaseState.Name(pb.CASE_STATE_APPLICATION),
    pb.CaseState.Name(pb.CASE_STATE_INITIAL_CALCULATION),
)


def count_past_six_weeks(sessions: sessionmaker, clock: Clock) -> int:
    """Count the open applications older than six weeks and set the gauge; returns the count."""
    with sessions() as s:
        count = s.scalar(
            select(func.count())
            .select_from(CaseRecord)
            .where(CaseRecord.state.in_(_WAITING), CaseRecord.created_at < clock.now() - SIX_WEEKS)
        )
    APPLICATIONS_PAST_SIX_WEEKS.set(count or 0)
    return int(count or 0)


def watcher(sessions: sessionmaker, clock: Clock, interval_seconds: float) -> PeriodicJob:
    return PeriodicJob(JOB, interval_seconds, lambda: count_past_six_weeks(sessions, clock))
