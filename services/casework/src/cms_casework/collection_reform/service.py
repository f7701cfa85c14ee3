"""The collection reform's records (docs/domain/money.md, "The end of Direct Pay"): what-ifs and migration runs as
long-running jobs (started, claimed by one runner at a time under a lease, their progress saved and exported as
metrics), each case's progress through a run, and the one place the reform asks who is compliant. Keyword-only
functions over an explicit session."""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TypeVar

from sqlalchemy import select
from sqlalchemy.orm import Session

from cms.casework.v1 import collection_reform_pb2 as cr
from cms.casework.v1 import money_events_pb2 as money_ev
from cms_platform import outbox
from cms_platform.clock import Clock
from cms_platform.convert import pb_date
from cms_platform.errors import FailedPrecondition, NotFound, PreconditionViolation
from cms_platform.identity import Caller
from cms_platform.metrics import gauge

from ..arrears import estates as arrears_estates
from ..names import id_from, new_id
from . import rules
from .models import (
    DirectPayMigrationCaseRecord,
    DirectPayMigrationRecord,
    ReformWhatIfPartRecord,
    ReformWhatIfRecord,
)

J = cr.CollectionReformJobState
RUNNING = J.Name(cr.COLLECTION_REFORM_JOB_STATE_RUNNING)
PENDING = "PENDING"

WHAT_IF_CASES = gauge(
    "cms_casework_reform_what_if_cases",
    "The reform what-if running: live cases to calculate (total) and calculated (done)",
    ["what_if", "progress"],
)
MIGRATION_CASES = gauge(
    "cms_casework_direct_pay_migration_cases",
    "A Direct Pay migration run: cases total, moved, failed and remaining",
    ["migration", "progress"],
)


def non_compliant_parents(db: Session, client_ids: Sequence[str], on: dt.date) -> dict[str, bool]:
    """Whether each paying parent (client id) would pay the reform's non-compliant fee: the arrears context's
    compliance from the ledger over CASEWORK_COMPLIANCE_WINDOW_DAYS (arrears.estates.compliant), as the charge run
    asks it, for a page of parents with their ledgers read together."""
    return {
        client_id: not ok
        for client_id, ok in arrears_estates.paying_parents_compliant(db, client_ids, on).items()
    }


def _precondition(code: str, subject: str, description: str) -> FailedPrecondition:
    return FailedPrecondition(PreconditionViolation(code, subject, description), reason=code)


def _lease(clock: Clock, seconds: float) -> dt.datetime:
    return clock.now() + dt.timedelta(seconds=seconds)


# -- what-ifs ------------------------------------------------------------------------------------------------------


def what_if_document(row: ReformWhatIfRecord) -> cr.ReformWhatIf:
    return cr.ReformWhatIf.FromString(row.document)


def save_what_if(row: ReformWhatIfRecord, doc: cr.ReformWhatIf, clock: Clock) -> None:
    doc.update_time.FromDatetime(clock.now())
    row.state, row.document, row.updated_at = (
        J.Name(doc.state),
        doc.SerializeToString(),
        clock.now(),
    )
    WHAT_IF_CASES.labels(row.id, "total").set(doc.cases_total)
    WHAT_IF_CASES.labels(row.id, "done").set(doc.cases_done)


def start_what_if(db: Session, *, start: dt.date, caller: Caller, clock: Clock) -> cr.ReformWhatIf:
    what_if_id = new_id()
    doc = cr.ReformWhatIf(
        name=f"reformWhatIfs/{what_if_id}",
        state=cr.COLLECTION_REFORM_JOB_STATE_RUNNING,
        start_date=pb_date(start),
        rule_set_version=rules.REFORM_RULE_SET,
        started_by=caller.subject,
    )
    doc.create_time.FromDatetime(clock.now())
    row = ReformWhatIfRecord(
        id=what_if_id,
        state="",
        document=b"",
        lease_until=clock.now(),  # free for the first runner
        created_at=clock.now(),
        updated_at=clock.now(),
    )
    save_what_if(row, doc, clock)
    db.add(row)
    return doc


def get_what_if(db: Session, *, name: str) -> cr.ReformWhatIf:
    row = db.get(ReformWhatIfRecord, id_from(name, "reformWhatIfs", "name"))
    if row is None:
        raise NotFound("reform what-if", name)
    return what_if_document(row)


# The two kinds of leased job: a what-if and a migration run.
_Job = TypeVar("_Job", ReformWhatIfRecord, DirectPayMigrationRecord)


def _running(db: Session, model: type[_Job]) -> list[str]:
    """The running jobs of a kind, oldest first."""
    return list(
        db.scalars(select(model.id).where(model.state == RUNNING).order_by(model.created_at))
    )


def _claim(
    db: Session, model: type[_Job], job_id: str, *, clock: Clock, lease_seconds: float
) -> _Job | None:
    """Lease a running job whose lease has run out (its runner stopped, or it was never taken); None if another
    runner holds it or it has finished."""
    row = db.get(model, job_id, with_for_update=True)
    if row is None or row.state != RUNNING or not rules.lease_expired(row.lease_until, clock.now()):
        return None
    row.lease_until = _lease(clock, lease_seconds)
    return row


def what_ifs_running(db: Session) -> list[str]:
    return _running(db, ReformWhatIfRecord)


def claim_what_if(
    db: Session, *, what_if_id: str, clock: Clock, lease_seconds: float
) -> cr.ReformWhatIf | None:
    """Take a running what-if whose lease has run out (its runner stopped, or it was never taken); None if another
    runner holds it or it has finished. It starts again from the first case: a what-if changes nothing."""
    row = _claim(db, ReformWhatIfRecord, what_if_id, clock=clock, lease_seconds=lease_seconds)
    return None if row is None else what_if_document(row)


def running_what_if(db: Session, *, what_if_id: str) -> cr.ReformWhatIf | None:
    """The what-if, locked, while it runs; None once it has finished (or was never started)."""
    row = db.get(ReformWhatIfRecord, what_if_id, with_for_update=True)
    return None if row is None or row.state != RUNNING else what_if_document(row)


def what_if_progress(
    db: Session, *, what_if_id: str, total: int, done: int, clock: Clock, lease_seconds: float
) -> None:
    row = db.get(ReformWhatIfRecord, what_if_id, with_for_update=True)
    if row is None or row.state != RUNNING:
        return
    doc = what_if_document(row)
    doc.cases_total, doc.cases_done = total, done
    row.lease_until = _lease(clock, lease_seconds)
    save_what_if(row, doc, clock)


def finish_what_if(
    db: Session,
    *,
    what_if_id: str,
    results: cr.ReformWhatIfResults | None,
    error: str,
    clock: Clock,
) -> None:
    """The what-if SUCCEEDED with its results (ReformWhatIfCompleted published), or FAILED with why."""
    row = db.get(ReformWhatIfRecord, what_if_id, with_for_update=True)
    if row is None or row.state != RUNNING:
        return
    doc = what_if_document(row)
    if results is None:
        doc.state, doc.error = cr.COLLECTION_REFORM_JOB_STATE_FAILED, error[:500]
    else:
        doc.state = cr.COLLECTION_REFORM_JOB_STATE_SUCCEEDED
        doc.results.CopyFrom(results)
        outbox.publish(
            db,
            clock=clock,
            key=doc.name,
            subject=doc.name,
            message=money_ev.ReformWhatIfCompleted(
                what_if_id=what_if_id,
                cases_total=doc.cases_total,
                cases_moving=results.cases_moving,
                fee_income_total_pence=results.fee_income_total_pence,
                cases_failed=results.cases_failed,
            ),
        )
    doc.complete_time.FromDatetime(clock.now())
    save_what_if(row, doc, clock)


# -- a what-if as a national run: its figures chunk by chunk -------------------------------------------------------


def record_what_if_part(
    db: Session,
    *,
    what_if_id: str,
    chunk: int,
    cases: int,
    figures: rules.WhatIfPart,
    cases_failed: int,
    failures: Sequence[str],
    error: str,
    clock: Clock,
) -> None:
    """A chunk's figures (in the transaction that marks the chunk done), and the what-if's cases done moved on by
    the chunk's cases, for GetReformWhatIf to show its progress."""
    db.add(
        ReformWhatIfPartRecord(
            what_if_id=what_if_id,
            chunk=chunk,
            cases=cases,
            cases_failed=cases_failed,
            failures="\n".join(
                f[:300].replace("\n", " ") for f in failures[: rules.MAX_FAILURES_LISTED]
            ),
            figures=figures.to_json(),
            error=error[:500],
            done_at=clock.now(),
        )
    )
    db.flush()
    row = db.get(ReformWhatIfRecord, what_if_id, with_for_update=True)
    if row is None or row.state != RUNNING:
        return
    doc = what_if_document(row)
    doc.cases_done = min(doc.cases_total, doc.cases_done + cases)
    save_what_if(row, doc, clock)


@dataclass(frozen=True)
class WhatIfParts:
    """A partitioned what-if's chunks done, in chunk order (so in case id order)."""

    figures: list[rules.WhatIfPart]
    cases_failed: int
    failures: list[str]
    # The first chunk's error, if any chunk could not be calculated at all.
    error: str


def what_if_parts(db: Session, *, what_if_id: str) -> WhatIfParts:
    rows = list(
        db.scalars(
            select(ReformWhatIfPartRecord)
            .where(ReformWhatIfPartRecord.what_if_id == what_if_id)
            .order_by(ReformWhatIfPartRecord.chunk)
        )
    )
    return WhatIfParts(
        figures=[rules.WhatIfPart.from_json(r.figures) for r in rows],
        cases_failed=sum(r.cases_failed for r in rows),
        failures=[line for r in rows for line in r.failures.split("\n") if line],
        error=next((r.error for r in rows if r.error), ""),
    )


# -- migration runs ------------------------------------------------------------------------------------------------

_SCHEDULED = uuid.UUID("1d6f3c52-84a1-4c0e-9b8e-5e2f7a0c6d31")


def scheduled_migration_id(start: dt.date) -> str:
    """The scheduled job's run for a start date: the same run however often the job runs."""
    return str(uuid.uuid5(_SCHEDULED, start.isoformat()))


def migration_document(row: DirectPayMigrationRecord) -> cr.DirectPayMigration:
    return cr.DirectPayMigration.FromString(row.document)


def save_migration(row: DirectPayMigrationRecord, doc: cr.DirectPayMigration, clock: Clock) -> None:
    doc.update_time.FromDatetime(clock.now())
    row.state, row.document, row.updated_at = (
        J.Name(doc.state),
        doc.SerializeToString(),
        clock.now(),
    )
    for label, value in (
        ("total", doc.cases_total),
        ("moved", doc.cases_moved),
        ("failed", doc.cases_failed),
        ("remaining", doc.cases_remaining),
    ):
        MIGRATION_CASES.labels(row.id, label).set(value)


def start_migration(
    db: Session,
    *,
    start: dt.date,
    dry_run: bool,
    caller: Caller,
    clock: Clock,
    migration_id: str = "",
) -> cr.DirectPayMigration:
    """A new run (RUNNING, for the runner to take up). One real run at a time; a dry run may run beside it. With
    `migration_id` (the scheduled job's), the run of that id if it exists already."""
    if migration_id:
        existing = db.get(DirectPayMigrationRecord, migration_id)
        if existing is not None:
            return migration_document(existing)
    if not dry_run:
        running = db.scalar(
            select(DirectPayMigrationRecord.id).where(
                DirectPayMigrationRecord.state == RUNNING,
                DirectPayMigrationRecord.dry_run.is_(False),
            )
        )
        if running is not None:
            raise _precondition(
                "MIGRATION_RUNNING",
                f"directPayMigrations/{running}",
                "a migration run is already running; follow it with GetDirectPayMigration",
            )
    migration_id = migration_id or new_id()
    doc = cr.DirectPayMigration(
        name=f"directPayMigrations/{migration_id}",
        state=cr.COLLECTION_REFORM_JOB_STATE_RUNNING,
        start_date=pb_date(start),
        dry_run=dry_run,
        started_by=caller.subject,
    )
    doc.create_time.FromDatetime(clock.now())
    row = DirectPayMigrationRecord(
        id=migration_id,
        state="",
        start_date=start,
        dry_run=dry_run,
        document=b"",
        lease_until=clock.now(),
        created_at=clock.now(),
        updated_at=clock.now(),
    )
    save_migration(row, doc, clock)
    db.add(row)
    return doc


def get_migration(db: Session, *, name: str) -> cr.DirectPayMigration:
    row = db.get(DirectPayMigrationRecord, id_from(name, "directPayMigrations", "name"))
    if row is None:
        raise NotFound("Direct Pay migration", name)
    return migration_document(row)


def migrations_running(db: Session) -> list[str]:
    return _running(db, DirectPayMigrationRecord)


def claim_migration(
    db: Session, *, migration_id: str, clock: Clock, lease_seconds: float
) -> cr.DirectPayMigration | None:
    """Take a running migration whose lease has run out; None if another runner holds it or it has finished."""
    row = _claim(
        db, DirectPayMigrationRecord, migration_id, clock=clock, lease_seconds=lease_seconds
    )
    return None if row is None else migration_document(row)


def enlisted(db: Session, *, migration_id: str) -> bool:
    """Whether the run has listed its cases (done once, when first taken up)."""
    return (
        db.scalar(
            select(DirectPayMigrationCaseRecord.case_id)
            .where(DirectPayMigrationCaseRecord.migration_id == migration_id)
            .limit(1)
        )
        is not None
    )


def enlist(db: Session, *, migration_id: str, case_ids: list[str], clock: Clock) -> None:
    """The run's cases, PENDING, and its total, in one transaction: the work list a restarted run resumes."""
    row = db.get(DirectPayMigrationRecord, migration_id, with_for_update=True)
    if row is None or enlisted(db, migration_id=migration_id):
        return
    for case_id in case_ids:
        db.add(
            DirectPayMigrationCaseRecord(
                migration_id=migration_id,
                case_id=case_id,
                step=PENDING,
                change_of_circumstances="",
                failure="",
                updated_at=clock.now(),
            )
        )
    doc = migration_document(row)
    doc.cases_total = doc.cases_remaining = len(case_ids)
    save_migration(row, doc, clock)


def cases_to_move(db: Session, *, migration_id: str) -> list[str]:
    """The run's cases not yet moved or failed (a REPORTED one is mid-move), in id order."""
    return list(
        db.scalars(
            select(DirectPayMigrationCaseRecord.case_id)
            .where(
                DirectPayMigrationCaseRecord.migration_id == migration_id,
                DirectPayMigrationCaseRecord.step.in_([PENDING, rules.REPORTED]),
            )
            .order_by(DirectPayMigrationCaseRecord.case_id)
        )
    )


def steps_of(
    db: Session, *, migration_id: str, case_ids: Sequence[str]
) -> list[tuple[str, str, str]]:
    """The cases' steps in the run, and why each that failed did, in case id order."""
    return [
        (case_id, step, failure)
        for case_id, step, failure in db.execute(
            select(
                DirectPayMigrationCaseRecord.case_id,
                DirectPayMigrationCaseRecord.step,
                DirectPayMigrationCaseRecord.failure,
            )
            .where(
                DirectPayMigrationCaseRecord.migration_id == migration_id,
                DirectPayMigrationCaseRecord.case_id.in_(list(case_ids)),
            )
            .order_by(DirectPayMigrationCaseRecord.case_id)
        )
    ]


def migration_chunk_done(
    db: Session, *, migration_id: str, moved: int, failed: int, clock: Clock
) -> None:
    """A chunk of a partitioned run done (in the transaction that marks it): the run's counts moved on by the
    chunk's, for GetDirectPayMigration to show its progress (each chunk is counted once; the run's cases are counted
    again from their rows when it finishes)."""
    row = db.get(DirectPayMigrationRecord, migration_id, with_for_update=True)
    if row is None or row.state != RUNNING:
        return
    doc = migration_document(row)
    doc.cases_moved += moved
    doc.cases_failed += failed
    doc.cases_remaining = max(0, doc.cases_total - doc.cases_moved - doc.cases_failed)
    save_migration(row, doc, clock)


def case_progress(
    db: Session, *, migration_id: str, case_id: str
) -> DirectPayMigrationCaseRecord | None:
    """One case's row in the run, locked."""
    return db.get(DirectPayMigrationCaseRecord, (migration_id, case_id), with_for_update=True)


def mark(
    row: DirectPayMigrationCaseRecord,
    step: str,
    clock: Clock,
    *,
    change: str = "",
    failure: str = "",
) -> None:
    row.step, row.updated_at = step, clock.now()
    if change:
        row.change_of_circumstances = change
    if failure:
        row.failure = failure[:300]


def refresh_migration(
    db: Session, *, migration_id: str, clock: Clock, lease_seconds: float
) -> cr.DirectPayMigration | None:
    """The run's progress counted again from its cases' rows (and its lease renewed)."""
    row = db.get(DirectPayMigrationRecord, migration_id, with_for_update=True)
    if row is None:
        return None
    doc = migration_document(row)
    cases = list(
        db.execute(
            select(
                DirectPayMigrationCaseRecord.case_id,
                DirectPayMigrationCaseRecord.step,
                DirectPayMigrationCaseRecord.failure,
            )
            .where(DirectPayMigrationCaseRecord.migration_id == migration_id)
            .order_by(DirectPayMigrationCaseRecord.case_id)
        )
    )
    counted = rules.progress(doc.cases_total, (step for _, step, _ in cases))
    doc.cases_moved, doc.cases_failed, doc.cases_remaining = (
        counted.moved,
        counted.failed,
        counted.remaining,
    )
    del doc.cases[:]
    doc.cases.extend(
        [f"cases/{c}" for c, step, _ in cases if step == rules.MOVED][: rules.MAX_CASES_LISTED]
    )
    del doc.failures[:]
    doc.failures.extend(
        [f"cases/{c}: {why}"[:300] for c, step, why in cases if step == rules.FAILED][
            : rules.MAX_FAILURES_LISTED
        ]
    )
    row.lease_until = _lease(clock, lease_seconds)
    save_migration(row, doc, clock)
    return doc


def finish_migration(db: Session, *, migration_id: str, clock: Clock) -> None:
    """The run SUCCEEDED (every case moved or failed); DirectPayMigrationCompleted unless it was a dry run."""
    row = db.get(DirectPayMigrationRecord, migration_id, with_for_update=True)
    if row is None or row.state != RUNNING:
        return
    doc = migration_document(row)
    doc.state = cr.COLLECTION_REFORM_JOB_STATE_SUCCEEDED
    doc.complete_time.FromDatetime(clock.now())
    if not doc.dry_run:
        outbox.publish(
            db,
            clock=clock,
            key=doc.name,
            subject=doc.name,
            message=money_ev.DirectPayMigrationCompleted(
                migration_id=migration_id,
                cases_total=doc.cases_total,
                cases_moved=doc.cases_moved,
                cases_failed=doc.cases_failed,
            ),
        )
    save_migration(row, doc, clock)


def dry_run_outcome(db: Session, *, migration_id: str, would_move: list[str], clock: Clock) -> None:
    """A dry run's answer: the cases that would move; nothing else is written."""
    row = db.get(DirectPayMigrationRecord, migration_id, with_for_update=True)
    if row is None or row.state != RUNNING:
        return
    doc = migration_document(row)
    doc.cases_total = doc.cases_moved = len(would_move)
    doc.cases_failed = doc.cases_remaining = 0
    del doc.cases[:]
    doc.cases.extend([f"cases/{c}" for c in would_move][: rules.MAX_CASES_LISTED])
    save_migration(row, doc, clock)
