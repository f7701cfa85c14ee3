"""National runs over an explicit session: a run issued as chunks (its record and its chunks' events in the caller's
transaction, through the outbox), whether a chunk is done, a chunk marked done, and a run's progress."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from cms.casework.v1 import casework_service_pb2 as api
from cms.casework.v1 import national_runs_pb2 as nr
from cms_platform import outbox
from cms_platform.clock import Clock
from cms_platform.convert import pb_date

from ..names import new_id
from . import rules
from .models import NationalRunChunkRecord, NationalRunRecord


@dataclass(frozen=True)
class ChunkDone:
    """What a chunk's work came to, and what the run's owner keeps of it: `keep` runs in the transaction that marks
    the chunk done (so exactly once a chunk), told whether that chunk completed the run."""

    outcome: rules.ChunkOutcome
    keep: Callable[[Session, bool], None] | None = None


def run_of(s: Session, run_id: str) -> NationalRunRecord | None:
    return s.get(NationalRunRecord, run_id)


def issue(
    s: Session,
    *,
    job: api.ScheduledJob.ValueType,
    job_name: str,
    as_of: dt.date,
    run_on: dt.date,
    case_ids: Sequence[str],
    chunk_size: int,
    clock: Clock,
    run_id: str = "",
    reform_run: str = "",
) -> NationalRunRecord:
    """The run for `job_name` named for `run_on` (the date, or the month's first day for a monthly job), issued as
    chunks of `chunk_size` cases to be done as of `as_of`: the run's record and one event a chunk, in this
    transaction. A run already issued is returned as it is (its chunks went out with it), so starting a date again
    after a crash issues nothing twice. A run of the collection reform names itself (`run_id`) and its what-if or
    migration run (`reform_run`)."""
    run_id = run_id or rules.run_id(job_name, run_on)
    existing = run_of(s, run_id)
    if existing is not None:
        return existing
    parts = rules.chunks(case_ids, chunk_size)
    run = NationalRunRecord(
        id=run_id,
        job=job_name,
        as_of_date=as_of,
        chunk_count=len(parts),
        items_due=sum(len(p) for p in parts),
        issued_at=clock.now(),
        issue_id=new_id(),
        # A run with nothing to do is complete as it is issued.
        completed_at=None if parts else clock.now(),
    )
    s.add(run)
    outbox.publish_many(
        s,
        clock=clock,
        events_=(
            (
                key := rules.chunk_key(run_id, n),
                key,
                nr.NationalRunChunkIssued(
                    run_id=run_id,
                    job=job,
                    as_of_date=pb_date(as_of),
                    chunk=n,
                    chunk_count=len(parts),
                    case_ids=part,
                    issue_id=run.issue_id,
                    reform_run=reform_run,
                ),
            )
            for n, part in enumerate(parts)
        ),
    )
    return run


def issued_here(s: Session, *, run_id: str, issue_id: str) -> NationalRunRecord | None:
    """The run the chunk is of, if this database issued it (not merely a run of the same id)."""
    run = run_of(s, run_id)
    return run if run is not None and run.issue_id == issue_id else None


def chunk_done(s: Session, *, run_id: str, chunk: int) -> bool:
    return s.get(NationalRunChunkRecord, (run_id, chunk)) is not None


def mark_done(
    s: Session, *, run_id: str, chunk: int, outcome: rules.ChunkOutcome, clock: Clock
) -> bool:
    """Record a chunk done with what its cases came to; returns whether that completed the run. The run's row is
    locked first, so two replicas finishing its last chunks at once see each other's marker."""
    run = s.get(NationalRunRecord, run_id, with_for_update=True)
    s.add(
        NationalRunChunkRecord(
            run_id=run_id,
            chunk=chunk,
            items_due=outcome.items_due,
            items_processed=outcome.items_processed,
            items_failed=outcome.items_failed,
            failures="\n".join(f.replace("\n", " ") for f in outcome.failures),
            done_at=clock.now(),
        )
    )
    s.flush()
    if run is None or run.completed_at is not None:
        return False
    done = len(
        s.scalars(
            select(NationalRunChunkRecord.chunk).where(NationalRunChunkRecord.run_id == run_id)
        ).all()
    )
    if done < run.chunk_count:
        return False
    run.completed_at = clock.now()
    return True


def progress(s: Session, run_id: str) -> rules.Progress | None:
    """The run's progress, from its chunks done; None for a run never issued."""
    run = run_of(s, run_id)
    if run is None:
        return None
    done = [
        rules.ChunkOutcome(
            items_due=c.items_due,
            items_processed=c.items_processed,
            items_failed=c.items_failed,
            failures=tuple(line for line in c.failures.split("\n") if line),
        )
        for c in s.scalars(
            select(NationalRunChunkRecord)
            .where(NationalRunChunkRecord.run_id == run_id)
            .order_by(NationalRunChunkRecord.chunk)
        )
    ]
    return rules.progress(run_id, chunk_count=run.chunk_count, items_due=run.items_due, done=done)
