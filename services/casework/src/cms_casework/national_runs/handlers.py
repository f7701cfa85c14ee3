"""The national runs' consumer: one consumer group shared by every casework replica takes the chunks of the work
topic, so the group's members share a run's partitions. A chunk's cases are done by the scheduler's own per-case work
(each case its own transaction, idempotent on the case: a case already done for the date is not due any more), or for
a run of the collection reform by its own (`runs`, by the run's job: the what-if's calculation of the chunk, the
migration's move of each case), and the chunk's done-marker is written in the transaction that records its event as
processed, with what the run's owner keeps of the chunk (ChunkDone.keep); the offset is committed after. A chunk delivered again (a crash before the commit, a rebalance) finds its marker and is skipped; a chunk of
a run this database never issued (its issue id is not the run's here) is ignored."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping, Sequence

import structlog
from sqlalchemy.orm import Session

from cms.casework.v1 import casework_service_pb2 as api
from cms.casework.v1 import national_runs_pb2 as nr
from cms_platform import cloudevents
from cms_platform.clock import Clock
from cms_platform.consumer import Subscription
from cms_platform.convert import day_of
from cms_platform.metrics import counter

from . import rules, service

log = structlog.get_logger(__name__)

# The scheduler's per-case work for a chunk: job, business date, case ids -> what they came to.
ChunkWork = Callable[[api.ScheduledJob.ValueType, dt.date, Sequence[str]], api.ScheduledJobResult]
# Another kind of run's work for a chunk (the collection reform's), by the run's job: the chunk -> what it came to.
RunWork = Callable[[nr.NationalRunChunkIssued], service.ChunkDone]

CHUNKS = counter(
    "cms_casework_national_run_chunks_total",
    "Chunks of national runs this replica took: done, skipped as done before (a redelivery), or foreign (of a run "
    "this database never issued)",
    ["work", "outcome"],
)


def _scheduled(work: ChunkWork, event: nr.NationalRunChunkIssued) -> service.ChunkDone:
    as_of = day_of(event.as_of_date)
    assert as_of is not None  # always set by service.issue
    result = work(event.job, as_of, list(event.case_ids))
    return service.ChunkDone(
        rules.ChunkOutcome(
            items_due=result.items_due,
            items_processed=result.items_processed,
            items_failed=result.items_failed,
            failures=tuple(result.failures),
        )
    )


def subscription(
    *, clock: Clock, group: str, work: ChunkWork, runs: Mapping[str, RunWork] | None = None
) -> Subscription:
    def chunk_issued(
        s: Session, event: nr.NationalRunChunkIssued, _env: cloudevents.Envelope
    ) -> None:
        run = service.issued_here(s, run_id=event.run_id, issue_id=event.issue_id)
        job_name = run.job if run is not None else api.ScheduledJob.Name(event.job)
        if run is None:
            CHUNKS.labels(job_name, "foreign").inc()
            log.warning(
                "national run chunk of a run this database never issued; ignored",
                run=event.run_id,
                chunk=event.chunk,
            )
            return
        if service.chunk_done(s, run_id=event.run_id, chunk=event.chunk):
            CHUNKS.labels(job_name, "skipped").inc()
            log.info(
                "national run chunk already done; skipped", run=event.run_id, chunk=event.chunk
            )
            return
        other = (runs or {}).get(run.job)
        if other is None and run.job not in api.ScheduledJob.DESCRIPTOR.values_by_name:
            # Never a scheduled job's work for another kind of run's cases: retried, then parked for an operator.
            raise RuntimeError(f"no work for national runs of {run.job} in this process")
        done = other(event) if other is not None else _scheduled(work, event)
        completed = service.mark_done(
            s, run_id=event.run_id, chunk=event.chunk, outcome=done.outcome, clock=clock
        )
        if done.keep is not None:
            done.keep(s, completed)
        CHUNKS.labels(job_name, "done").inc()
        log.info(
            "national run chunk done",
            run=event.run_id,
            chunk=event.chunk,
            of=event.chunk_count,
            processed=done.outcome.items_processed,
            failed=done.outcome.items_failed,
        )
        if completed:
            log.info("national run complete", run=event.run_id, chunks=event.chunk_count)

    return Subscription(
        group_id=group,
        handlers={nr.NationalRunChunkIssued: chunk_issued},
        max_poll_records=1,
    )
