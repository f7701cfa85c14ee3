"""Starting a national run as partitioned work, and its progress as a scheduled job's answer."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

import structlog
from sqlalchemy.orm import sessionmaker

from cms.casework.v1 import casework_service_pb2 as api
from cms_platform.clock import Clock

from . import rules, service

log = structlog.get_logger(__name__)


def answer(progress: rules.Progress) -> api.ScheduledJobResult:
    """A run's progress in the scheduled-work answer the contract already has: due is every case the run issued,
    processed and failed those of the chunks done so far (the run is complete when they add up to due)."""
    return api.ScheduledJobResult(
        items_due=progress.items_due,
        items_processed=progress.items_processed,
        items_failed=progress.items_failed,
        failures=list(progress.failures),
    )


def issue_run(
    *,
    sessions: sessionmaker,
    clock: Clock,
    job: api.ScheduledJob.ValueType,
    as_of: dt.date,
    case_ids: Sequence[str],
    chunk_size: int,
    run_on: dt.date | None = None,
) -> api.ScheduledJobResult:
    """Issue the run of `job` on `as_of` over `case_ids` (national_runs.service.issue) and answer its progress:
    nothing processed yet for a run just issued, what its chunks came to for one issued before. `run_on` names the
    run when a job runs once for several dates (the monthly check: its month's first day); `as_of` by default."""
    name = api.ScheduledJob.Name(job)
    with sessions.begin() as s:
        run = service.issue(
            s,
            job=job,
            job_name=name,
            as_of=as_of,
            run_on=run_on or as_of,
            case_ids=case_ids,
            chunk_size=chunk_size,
            clock=clock,
        )
        run_id, chunk_count = run.id, run.chunk_count
    log.info("national run issued", run=run_id, job=name, chunks=chunk_count, cases=len(case_ids))
    return (
        progress_answer(sessions=sessions, job=job, as_of=run_on or as_of)
        or api.ScheduledJobResult()
    )


def progress_answer(
    *, sessions: sessionmaker, job: api.ScheduledJob.ValueType, as_of: dt.date
) -> api.ScheduledJobResult | None:
    """The progress of the run of `job` named for `as_of` as a scheduled job's answer; None when none was issued."""
    with sessions() as s:
        found = service.progress(s, rules.run_id(api.ScheduledJob.Name(job), as_of))
    return None if found is None else answer(found)
