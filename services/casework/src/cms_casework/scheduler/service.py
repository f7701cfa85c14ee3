"""Scheduled work, driven by the clock: the monthly Child Benefit check, annual reviews, potentially-violent status
reviews, the self-service service level, case-surveillance reviews and the end-of-day correspondence dispatch.

`run(as_of)` does whatever is due on a business date; each item is its own transaction (one failure is reported,
not fatal; annual reviews and the recalculations of the monthly check go up to CASES_SIDE_BY_SIDE cases at once on
PostgreSQL), and a job done for a date is recorded so running the date again does nothing more. Within an RPC, the
run honours the call's deadline (cms_platform.calls.running_out): the items it does not reach are counted due but
neither processed nor failed, the jobs it does not start are left out of the answer, nothing cut short is recorded
as done, and the answer is not stored against the request id, so retrying the request continues the work. The same runs come
from RunScheduledWork (an operator or a test picks the date) and from a daily background pass at the clock's date.

With CASEWORK_NATIONAL_RUNS_PARTITIONED, the annual review and the monthly Child Benefit check are national runs
instead (national_runs): starting one writes its cases due as chunks to a partitioned work topic, which the consumer
group of every casework replica takes (work_chunk does a chunk with the same work); the job's answer is then the
run's progress. The collection reform's what-if and migration go out on the same topic from their own runner
(collection_reform.flows)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterator, Sequence
from functools import partial

from google.rpc import code_pb2
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from cms.casework.v1 import casework_service_pb2 as api
from cms.casework.v1 import resources_pb2 as pb
from cms.hmrc.v1 import hmrc_service_pb2 as hmrc_api
from cms_platform import calls, conflicts, idempotency
from cms_platform.clock import Clock
from cms_platform.convert import date_or_violation, day_of, pb_date, years_after
from cms_platform.db import single_writer
from cms_platform.errors import Conflict, DomainError, Unavailable, ViolationCollector
from cms_platform.identity import bind_caller, reset_caller, service_caller
from cms_platform.metrics import counter
from cms_platform.scheduling import PeriodicJob, side_by_side

from ..accounts import flows as account_runs
from ..applications.convert import child_identity
from ..arrears import estates as arrears_estates
from ..arrears import service as arrears
from ..calculations import flows as recording
from ..calculations import rules as calculation_rules
from ..calculations import service as calculations
from ..case_records import service as case_records
from ..case_records.models import CaseRecord
from ..changes import flows as change_flows
from ..changes import service as changes
from ..clients import service as clients
from ..clients.models import ClientRecord
from ..correspondence import service as correspondence
from ..default_decisions import flows as default_decision_flows
from ..default_decisions import service as default_decisions
from ..downstream import Downstream, call_streaming
from ..liability import service as liability
from ..methods_of_payment import service as methods_of_payment
from ..national_runs import flows as national_runs
from ..service_requests import service as srs
from . import rules
from .models import ScheduledJobRun

J = api.ScheduledJob
ALL_JOBS = tuple(j for j in J.values() if j)
ANNUAL_REVIEW_LEAD = dt.timedelta(days=30)
JOB = "casework-scheduler"
# What each scheduled job did with the items due: an item that fails (a case) leaves the pass a success, so it is
# counted here for the alert CmsScheduledItemsFailing (`work`, not `job`: Prometheus has a `job` label of its own).
SCHEDULED_ITEMS = counter(
    "cms_casework_scheduled_items_total",
    "Items (cases, orders, letters) a scheduled job processed or failed to, by job",
    ["work", "outcome"],
)
SYSTEM = service_caller(JOB)
CLAIM_TIMEOUT = dt.timedelta(minutes=30)  # [D] longer than any job takes
PV_REVIEW_SUB_AREA = "Potentially Violent Status Review"
SURVEILLANCE_SUB_AREA = "Case Surveillance Review"
# The jobs a national run can issue as chunks of cases for the casework replicas' consumer group (national_runs),
# when CASEWORK_NATIONAL_RUNS_PARTITIONED is set.
PARTITIONED_JOBS = (J.SCHEDULED_JOB_ANNUAL_REVIEW, J.SCHEDULED_JOB_MONTHLY_CHILD_BENEFIT_CHECK)


# The contract's deadline for a whole national run of the monthly Child Benefit check (about 150,000 children).
STREAM_DEADLINE_SECONDS = 3600.0
# A broken stream is opened again (from the last case answered) this many times in all.
STREAM_ATTEMPTS = 3
# Cases a job works on side by side (annual reviews, the cases whose children left): each waits mostly on the
# gateways, the calculation service and the database. A race between two cases of one paying parent is a conflict,
# done again from a fresh read.
CASES_SIDE_BY_SIDE = 4
MAX_FAILURES_LISTED = 100


class _StreamProgress:
    """The cases answered so far, counted once each (answers come in case id order), and where a broken stream
    resumes: the case of the last answer, sent again whole (its children's answers are idempotent)."""

    def __init__(self) -> None:
        self.cases = 0
        self.resume_from = ""

    def answered(self, case_id: str) -> None:
        if case_id > self.resume_from:
            self.cases += 1
            self.resume_from = case_id


def _deadline_watch() -> Callable[[], bool]:
    """Whether the call being served is running out, for the stream's request producer (which gRPC runs on its
    own thread, outside the call's context)."""
    served = calls.current_call()

    def stop() -> bool:
        left = served.time_remaining() if served is not None else None
        return left is not None and left < calls.ANSWER_MARGIN_SECONDS

    return stop


def _stream_timeout() -> float:
    left = calls.time_remaining()
    return (
        STREAM_DEADLINE_SECONDS
        if left is None
        else max(0.05, min(STREAM_DEADLINE_SECONDS, left - 0.1))
    )


class Scheduler:
    def __init__(
        self,
        *,
        sessions: sessionmaker,
        clock: Clock,
        downstream: Downstream,
        arrears_grace_days: int = 3,
        direct_pay_migration: Callable[[dt.date], api.ScheduledJobResult] | None = None,
        national_run_chunk_size: int | None = None,
    ):
        self._sessions, self._clock, self._downstream = sessions, clock, downstream
        # Cases a job works on at once (side_by_side): one at a time on SQLite's single writer.
        self._side_by_side = 1 if single_writer(sessions) else CASES_SIDE_BY_SIDE
        # Set: the partitioned jobs are issued as national runs of chunks this size, not run here item by item.
        self._chunk_size = national_run_chunk_size
        self._arrears_grace_days = arrears_grace_days
        # The end of Direct Pay (collection_reform.flows.scheduled_job), wired by the app.
        self._direct_pay_migration_job = direct_pay_migration

    # -- entry points ----------------------------------------------------------------------------------------------

    def run_request(self, request: api.RunScheduledWorkRequest) -> api.RunScheduledWorkResponse:
        """RunScheduledWork: the jobs asked for (all when none) on the date asked for, once per request id."""
        v = ViolationCollector()
        as_of = date_or_violation(request.as_of_date, "as_of_date", v)
        for i, job in enumerate(request.jobs):
            if job not in ALL_JOBS:
                v.add(f"jobs[{i}]", "is not a scheduled job")
        v.raise_if_any()
        assert as_of is not None  # required: a missing date was refused above
        response_type = api.RunScheduledWorkResponse
        with self._sessions() as s:
            previous = idempotency.replay(s, request=request, response_type=response_type)
        if previous is not None:
            return previous
        # A job named twice runs once (its second run would find it done).
        response = self.run(as_of, tuple(dict.fromkeys(request.jobs)) or ALL_JOBS)
        if calls.running_out():
            # Cut short by the deadline (see run): not stored, so a retry with this request id continues.
            return response
        try:
            with self._sessions.begin() as s:
                idempotency.remember(s, request=request, response=response, clock=self._clock)
        except Exception:  # noqa: BLE001 - a concurrent retry stored it first; the work itself is already recorded
            pass
        return response

    def run(
        self, as_of: dt.date, jobs: Sequence[api.ScheduledJob.ValueType] = ALL_JOBS
    ) -> api.RunScheduledWorkResponse:
        out = api.RunScheduledWorkResponse()
        work: dict[api.ScheduledJob.ValueType, Callable[[dt.date], api.ScheduledJobResult]] = {
            J.SCHEDULED_JOB_MONTHLY_CHILD_BENEFIT_CHECK: self._monthly_child_benefit_check,
            J.SCHEDULED_JOB_ANNUAL_REVIEW: self._annual_review,
            J.SCHEDULED_JOB_POTENTIALLY_VIOLENT_STATUS_REVIEW: self._potentially_violent_status_review,
            J.SCHEDULED_JOB_SELF_SERVICE_SLA_CHECK: self._self_service_sla_check,
            J.SCHEDULED_JOB_CASE_SURVEILLANCE_REVIEW: self._case_surveillance_review,
            J.SCHEDULED_JOB_CORRESPONDENCE_DISPATCH: self._correspondence_dispatch,
            J.SCHEDULED_JOB_DEFAULT_MAINTENANCE_DECISION: self._default_maintenance_decision,
            J.SCHEDULED_JOB_DEDUCTION_ORDER_REMITTANCE_CHECK: self._deduction_order_remittance_check,
            J.SCHEDULED_JOB_ACCOUNT_CHARGES: self._account_charges,
            J.SCHEDULED_JOB_PAYMENT_RUN: self._payment_run,
            J.SCHEDULED_JOB_ARREARS_CHECK: self._arrears_check,
            J.SCHEDULED_JOB_DIRECT_PAY_MIGRATION: self._direct_pay_migration,
            J.SCHEDULED_JOB_ARREARS_WRITE_OFF_REVIEW: self._arrears_write_off_review,
        }
        # Downstream calls and audit entries name the scheduler, within what an RPC running it has left.
        token = bind_caller(SYSTEM)
        try:
            with calls.serving(JOB, timeout=calls.time_remaining()):
                for job in jobs:
                    if calls.running_out():
                        break  # the deadline is near: the jobs not started are left for the next run
                    key = self._run_key(job, as_of)
                    if not self._claim(job, key):
                        # Already done for this date: nothing more (a national run's answer is its progress).
                        out.results.append(self._done_answer(job, key))
                        continue
                    issued = bool(self._chunk_size) and job in PARTITIONED_JOBS
                    result = self._issue(job, as_of, key) if issued else work[job](as_of)
                    result.job = job
                    if not issued:  # a national run's chunks count their items as they are done
                        SCHEDULED_ITEMS.labels(J.Name(job), "processed").inc(result.items_processed)
                        SCHEDULED_ITEMS.labels(J.Name(job), "failed").inc(result.items_failed)
                    # A job the deadline may have cut short (_each) is not recorded as done: its claim is
                    # released, and the next run picks up what is still due.
                    finished = not calls.running_out()
                    with self._sessions.begin() as s:
                        claimed = s.get(ScheduledJobRun, (J.Name(job), key), with_for_update=True)
                        if claimed is not None and finished:
                            claimed.result = result.SerializeToString()
                            claimed.run_at = self._clock.now()
                        elif claimed is not None:
                            s.delete(claimed)
                    out.results.append(result)
        finally:
            reset_caller(token)
        return out

    def _issue(
        self, job: api.ScheduledJob.ValueType, as_of: dt.date, key: dt.date
    ) -> api.ScheduledJobResult:
        """The job as a national run (named by its run key: the month's first day for the Child Benefit check): its
        cases due, issued as chunks for the replicas' consumer group; answered with the run's progress (the job is
        recorded as done for the date once the run is issued: the chunks do the rest)."""
        assert self._chunk_size
        due: dict[api.ScheduledJob.ValueType, Callable[[dt.date], list[str]]] = {
            J.SCHEDULED_JOB_ANNUAL_REVIEW: self._annual_reviews_due,
            J.SCHEDULED_JOB_MONTHLY_CHILD_BENEFIT_CHECK: self._child_benefit_checks_due,
        }
        return national_runs.issue_run(
            sessions=self._sessions,
            clock=self._clock,
            job=job,
            as_of=as_of,
            run_on=key,
            case_ids=due[job](as_of),
            chunk_size=self._chunk_size,
        )

    def _done_answer(self, job: api.ScheduledJob.ValueType, key: dt.date) -> api.ScheduledJobResult:
        """The answer for a job already done for the date: nothing, or for a national run its progress so far."""
        found = (
            national_runs.progress_answer(sessions=self._sessions, job=job, as_of=key)
            if job in PARTITIONED_JOBS
            else None
        )
        answer = found or api.ScheduledJobResult()
        answer.job = job
        return answer

    def work_chunk(
        self, job: api.ScheduledJob.ValueType, as_of: dt.date, case_ids: Sequence[str]
    ) -> api.ScheduledJobResult:
        """A chunk of a national run (national_runs.handlers): the job's per-case work for each case, exactly as the
        run in this process does it (one transaction a case, a failure reported and the rest going on), as the
        scheduler. A case no longer due is left as it is, so a chunk done again has no second effect."""
        result = api.ScheduledJobResult(job=job)
        token = bind_caller(SYSTEM)
        try:
            with calls.serving(JOB):
                if job == J.SCHEDULED_JOB_MONTHLY_CHILD_BENEFIT_CHECK:
                    result.MergeFrom(self._child_benefit_check_of(case_ids, as_of))
                else:
                    self._each_side_by_side(result, self._reviews(case_ids, as_of))
        finally:
            reset_caller(token)
        SCHEDULED_ITEMS.labels(J.Name(job), "processed").inc(result.items_processed)
        SCHEDULED_ITEMS.labels(J.Name(job), "failed").inc(result.items_failed)
        return result

    def _claim(self, job: api.ScheduledJob.ValueType, key: dt.date) -> bool:
        """Take a job for a date, so two replicas never run it at once. A claim that never finished (its replica
        died) is taken over after CLAIM_TIMEOUT; the jobs pick up whatever is still due, so nothing is lost."""
        now = self._clock.now()
        try:
            with self._sessions.begin() as s:
                row = s.get(ScheduledJobRun, (J.Name(job), key), with_for_update=True)
                if row is None:
                    s.add(ScheduledJobRun(job=J.Name(job), as_of_date=key, result=b"", run_at=now))
                    return True
                if row.result or now - row.run_at < CLAIM_TIMEOUT:
                    return False
                row.run_at = now
                return True
        except IntegrityError:
            return False  # another replica claimed it a moment ago

    def periodic(self, interval_seconds: float) -> PeriodicJob:
        return PeriodicJob(JOB, interval_seconds, lambda: self.run(self._clock.today()))

    @staticmethod
    def _run_key(job: api.ScheduledJob.ValueType, as_of: dt.date) -> dt.date:
        # The monthly Child Benefit check runs once a month, whichever day of it is asked for first.
        return (
            as_of.replace(day=1)
            if job == J.Value("SCHEDULED_JOB_MONTHLY_CHILD_BENEFIT_CHECK")
            else as_of
        )

    def _each(self, result: api.ScheduledJobResult, name: str, work: Callable[[], object]) -> None:
        self._count(result, name, self._attempt(work))

    def _each_side_by_side(
        self, result: api.ScheduledJobResult, items: Sequence[tuple[str, Callable[[], object]]]
    ) -> None:
        """_each over independent items (each case its own transactions), up to CASES_SIDE_BY_SIDE at once."""
        outcomes = side_by_side(
            lambda item: self._attempt(item[1]), items, at_most=self._side_by_side, name=JOB
        )
        for (name, _), outcome in zip(items, outcomes, strict=True):
            self._count(result, name, outcome)

    @staticmethod
    def _attempt(work: Callable[[], object]) -> str | None:
        """ "" done, None not reached before the call's deadline, else why it failed."""
        if calls.running_out():
            return (
                None  # due but not reached before the call's deadline: neither processed nor failed
            )
        try:
            work()
            return ""
        except DomainError as exc:
            return str(getattr(exc, "message", None) or exc)

    @staticmethod
    def _count(result: api.ScheduledJobResult, name: str, outcome: str | None) -> None:
        result.items_due += 1
        if outcome == "":
            result.items_processed += 1
        elif outcome is not None:
            result.items_failed += 1
            result.failures.append(f"{name}: {outcome}"[:300])

    # -- jobs ------------------------------------------------------------------------------------------------------

    def _child_benefit_checks_due(self, as_of: dt.date) -> list[str]:
        """The live cases with a child to check on `as_of`, in case id order, read as the check itself reads them."""
        return [case_id for page in self._pages_to_check(as_of) for case_id, _, _ in page]

    def _pages_to_check(
        self,
        as_of: dt.date,
        resume_from: str = "",
        stop: Callable[[], bool] = lambda: False,
        only: Sequence[str] | None = None,
    ) -> Iterator[list[tuple[str, str, list[pb.QualifyingChild]]]]:
        """The cases with children to check, a page of live cases at a time (keyset on the case id, from
        `resume_from` inclusive; of `only` those cases when given), each as (case id, receiving parent's client id,
        its children to check). Only the cases whose eldest current child is old enough are read (an indexed
        column), and the rule (rules.children_to_check) decides on each document."""
        cursor, inclusive = resume_from, True
        born_by = rules.born_by_to_check(as_of)
        while not stop():
            with self._sessions() as s:
                after = CaseRecord.id >= cursor if inclusive else CaseRecord.id > cursor
                q = select(
                    CaseRecord.id, CaseRecord.receiving_parent_client_id, CaseRecord.document
                ).where(
                    CaseRecord.state == case_records.LIVE,
                    CaseRecord.eldest_child_born <= born_by,
                    after,
                )
                if only is not None:
                    q = q.where(CaseRecord.id.in_(only))
                rows = s.execute(q.order_by(CaseRecord.id).limit(rules.CASES_PER_PAGE)).all()
            if not rows:
                return
            cursor, inclusive = rows[-1][0], False
            page = []
            for case_id, claimant_id, document in rows:
                children = rules.children_to_check(pb.Case.FromString(document), as_of)
                if children:
                    page.append((case_id, claimant_id, children))
            yield page

    def _child_benefit_check_of(
        self, case_ids: Sequence[str], as_of: dt.date
    ) -> api.ScheduledJobResult:
        """A chunk of the monthly Child Benefit check: its cases' children through a stream of their own, and the
        ended children's cases recalculated, as the whole check does it. Every case of the chunk counts: one not
        answered because the stream broke for good is failed; one no longer with a child to check has nothing left to
        do. A child's ending is reported once per source, so a chunk done again reports nothing twice."""
        checked = self._monthly_child_benefit_check(as_of, only=case_ids)
        # The stream's own failure comes first in the list and counts one of items_failed; the rest are cases.
        broke = bool(checked.failures) and checked.failures[0].startswith("hmrc-gateway")
        failed_cases = checked.items_failed - broke
        processed = checked.items_processed if broke else len(case_ids) - failed_cases
        return api.ScheduledJobResult(
            items_due=len(case_ids),
            items_processed=processed,
            items_failed=len(case_ids) - processed,
            failures=checked.failures,
        )

    def _monthly_child_benefit_check(
        self, as_of: dt.date, only: Sequence[str] | None = None
    ) -> api.ScheduledJobResult:
        """Every qualifying child of every live case with a qualifying child aged 16 or over goes to HMRC through
        one bidirectional stream (hmrc-gateway RunMonthlyChildBenefitCheck), read page by page and sent in batches
        as HMRC takes them; a child whose Child Benefit has ended leaves the case from the end date (a change of
        circumstances reported by HMRC, verified at source), and each such case is recalculated once, after all its
        children's answers are in. A broken stream is resumed from the last case answered. `only`: those cases
        alone (a national run's chunk)."""
        result = api.ScheduledJobResult()
        run_id = f"chb-{as_of:%Y-%m}"
        # Only the cases with a child to end: a few in a hundred.
        ended: dict[str, dict[str, dt.date]] = {}
        failed: dict[str, str] = {}
        progress = _StreamProgress()
        stop = _deadline_watch()
        for attempt in range(1, STREAM_ATTEMPTS + 1):
            try:
                answers = call_streaming(
                    self._downstream.hmrc.RunMonthlyChildBenefitCheck,
                    self._check_requests(run_id, as_of, progress.resume_from, stop, only),
                    what="hmrc-gateway",
                    timeout=_stream_timeout(),
                )
                for answer in answers:
                    for r in answer.results:
                        case_id, child_id = rules.case_and_child(r.item_id)
                        progress.answered(case_id)
                        if r.HasField("error"):
                            failed[case_id] = (
                                f"child {child_id}: HMRC answered {code_pb2.Code.Name(r.error.code)}"
                            )
                            continue
                        on = rules.ended_on(
                            entitled=r.child_status.entitled,
                            end_date=day_of(r.child_status.end_date),
                            as_of=as_of,
                        )
                        if on is not None:
                            ended.setdefault(case_id, {})[child_id] = on
                    if calls.running_out():
                        break
                break
            except Unavailable:
                if attempt == STREAM_ATTEMPTS or calls.running_out():
                    result.failures.append(
                        f"hmrc-gateway unavailable after {progress.cases} cases; the next run resumes"
                    )
                    result.items_failed += 1
                    break
        result.items_due = progress.cases
        # Cases not reached before the deadline are neither: the job is then not recorded as done, and the next run
        # checks again.
        to_end = sorted(ended)
        outcomes = side_by_side(
            lambda case_id: self._attempt(
                partial(self._end_children, case_id, ended[case_id], as_of)
            ),
            to_end,
            at_most=self._side_by_side,
            name=JOB,
        )
        failed.update((case_id, why) for case_id, why in zip(to_end, outcomes, strict=True) if why)
        result.items_failed += len(failed)
        result.items_processed = progress.cases - len(failed)
        for case_id, why in sorted(failed.items())[:MAX_FAILURES_LISTED]:
            result.failures.append(f"cases/{case_id}: {why}"[:300])
        return result

    def _check_requests(
        self,
        run_id: str,
        as_of: dt.date,
        resume_from: str,
        stop: Callable[[], bool],
        only: Sequence[str] | None = None,
    ) -> Iterator[hmrc_api.RunMonthlyChildBenefitCheckRequest]:
        for batch in rules.in_batches(self._children_to_check(as_of, resume_from, stop, only)):
            yield hmrc_api.RunMonthlyChildBenefitCheckRequest(run_id=run_id, items=batch)

    def _children_to_check(
        self,
        as_of: dt.date,
        resume_from: str,
        stop: Callable[[], bool],
        only: Sequence[str] | None = None,
    ) -> Iterator[hmrc_api.ChildBenefitCheckItem]:
        """The children to send (_pages_to_check), with each page's receiving parents read in one query."""
        for page in self._pages_to_check(as_of, resume_from, stop, only):
            with self._sessions() as s:
                claimants = {
                    c.id: clients.document(c).identity
                    for c in s.scalars(
                        select(ClientRecord).where(ClientRecord.id.in_({p[1] for p in page}))
                    )
                }
            for case_id, claimant_id, children in page:
                for child in children:
                    yield hmrc_api.ChildBenefitCheckItem(
                        item_id=rules.item_id(case_id, child.child_id),
                        case_id=case_id,
                        claimant=claimants.get(claimant_id),
                        child=child_identity(child),
                    )

    def _end_children(self, case_id: str, ended: dict[str, dt.date], as_of: dt.date) -> None:
        """Report the ended children's leaving (once per child and month) in one transaction, then apply the case's
        changes: one recalculation however many children left. Reported together, because the feed applier applies
        any verified change raised from a source (feeds.service): one child's change committed alone could be
        applied by it before the next child's is reported, and the case recalculated once per child."""
        with self._sessions() as s:
            case = case_records.assemble(s, case_records.case_row(s, case_id))
        if case.state != pb.CASE_STATE_LIVE:
            return
        leaving: list[tuple[pb.ChangeOfCircumstances, str]] = []
        for child in case.qualifying_children:
            on = ended.get(child.child_id)
            if on is None or child.end_date.year:
                continue
            end = rules.ending(child, on)
            change = pb.ChangeOfCircumstances(
                type=pb.CHANGE_OF_CIRCUMSTANCES_TYPE_CHILD_TURNS_20
                if end.turned_20
                else pb.CHANGE_OF_CIRCUMSTANCES_TYPE_QC_NOT_IN_FULL_TIME_EDUCATION,
                effective_date=pb_date(end.on),
                reported_by=pb.REPORTER_HMRC,
                child_change=pb.ChildChange(child_id=child.child_id),
                evidence=[
                    pb.Evidence(
                        kind=pb.EVIDENCE_KIND_INTERFACE,
                        description="HMRC Child Benefit end date",
                        received_date=pb_date(as_of),
                    )
                ],
            )
            leaving.append((change, f"chb-{as_of:%Y-%m}-{child.child_id}"))
        if not leaving:
            return
        self._report_once(case, leaving)
        change_flows.apply_pending_for_system(
            sessions=self._sessions,
            parent=case.name,
            caller=SYSTEM,
            clock=self._clock,
            downstream=self._downstream,
        )

    def _report_once(
        self, case: pb.Case, found: Sequence[tuple[pb.ChangeOfCircumstances, str]]
    ) -> None:
        """Report the changes the job found on a case, each once per source (a rerun finds it raised), in one
        transaction, retried when it loses a race with the feed applier or a caseworker on the same case."""
        case_id = case.name.removeprefix("cases/")

        def report() -> None:
            with self._sessions.begin() as s:
                for change, source in found:
                    if changes.raised_from(s, case_id=case_id, source_event_id=source):
                        continue
                    changes.report(
                        s,
                        request=api.ReportChangeOfCircumstancesRequest(
                            parent=case.name, change_of_circumstances=change
                        ),
                        caller=SYSTEM,
                        clock=self._clock,
                        source_event_id=source,
                    )

        conflicts.retrying(report)

    def _annual_review(self, as_of: dt.date) -> api.ScheduledJobResult:
        """From 30 days before each review date: the updated HMRC figure, a recalculation from the review date and a
        new payment plan; the next review is a year on."""
        result = api.ScheduledJobResult()
        self._each_side_by_side(result, self._reviews(self._annual_reviews_due(as_of), as_of))
        return result

    def _reviews(
        self, case_ids: Sequence[str], as_of: dt.date
    ) -> list[tuple[str, Callable[[], object]]]:
        """Each case's annual review as an item for _each_side_by_side: the run in one process and a national run's
        chunk review their cases alike, up to CASES_SIDE_BY_SIDE at once."""
        return [
            (
                f"cases/{case_id}",
                partial(conflicts.retrying, partial(self._annual_review_of, case_id, as_of)),
            )
            for case_id in case_ids
        ]

    def _annual_reviews_due(self, as_of: dt.date) -> list[str]:
        """The live cases whose review date falls within the lead of `as_of`, in case id order."""
        with self._sessions() as s:
            return list(
                s.scalars(
                    select(CaseRecord.id)
                    .where(
                        CaseRecord.state == case_records.LIVE,
                        CaseRecord.annual_review_date <= as_of + ANNUAL_REVIEW_LEAD,
                    )
                    .order_by(CaseRecord.id)
                )
            )

    def _annual_review_of(self, case_id: str, as_of: dt.date) -> None:
        """One case's annual review as of `as_of`. A case no longer due (reviewed already, by another replica or an
        earlier delivery of its national run's chunk, or closed since it was picked) is left as it is, so doing a
        case twice for a date has no second effect."""
        with self._sessions() as s:
            row = case_records.case_row(s, case_id)
            if row.state != case_records.LIVE:
                return
            case = case_records.assemble(s, row)
            covered = [case_records.assemble(s, r) for r in calculations.live_cases_of(s, row)[1:]]
            in_force, version = liability.current_starts(s, case_id=case_id), row.version
        review_date = day_of(case.annual_review_date)
        if review_date is None:
            return  # a live case always has one
        if review_date > as_of + ANNUAL_REVIEW_LEAD:
            return  # reviewed already: its next review is a year on
        income = calculations.gather_income(case, downstream=self._downstream)
        calc_input = calculation_rules.calculation_input(
            cases=[case, *covered],
            payer=case.paying_parent,
            income=income,
            effective=review_date,
            this_case=case,
        )
        calculation = calculations.request_calculation(
            downstream=self._downstream,
            case=case,
            calc_input=calc_input,
            reason=pb.CALCULATION_REASON_ANNUAL_REVIEW,
            request_id=f"annual-review-{review_date}-v{version}",
        )
        # Segments already decided for later dates (an expected change, say) are calculated again from their
        # own starts, on the updated figure: the review supersedes them but not what started them.
        later = recording.gather_later(
            case=case,
            covered=covered,
            income=income,
            after=review_date,
            in_force=in_force,
            request_id=f"annual-review-{review_date}-v{version}",
            downstream=self._downstream,
        )
        with self._sessions.begin() as s:
            row = case_records.case_row(s, case_id, lock=True)
            document = case_records.assemble(s, row)
            if day_of(document.annual_review_date) != review_date:
                return  # another replica did this review
            if row.version != version:
                # Changed since it was read (a change applied, say): review it again from a fresh read.
                raise Conflict("the case changed while it was being reviewed")
            document.annual_review_date.CopyFrom(pb_date(years_after(review_date, 1)))
            case_records.save(row, document, self._clock)
            recording.record_with_later(
                s,
                row=row,
                calculation=calculation,
                reason=pb.CALCULATION_REASON_ANNUAL_REVIEW,
                later=later,
                clock=self._clock,
            )
            for recipient in (document.paying_parent.name, document.receiving_parent.name):
                correspondence.schedule(
                    s,
                    case_id=row.id,
                    kind=pb.CORRESPONDENCE_KIND_ANNUAL_REVIEW_NOTICE,
                    recipient=recipient,
                    clock=self._clock,
                )

    def _raise_review_sr(
        self, case_row: CaseRecord, sub_area: str, description: str, s: Session
    ) -> bool:
        if srs.has_open(s, case_id=case_row.id, sub_area=sub_area):
            return False  # raised on an earlier day and still being worked
        srs.raise_sr(
            s,
            case_row=case_row,
            process="Case Maintenance",
            area="Safeguarding" if sub_area == PV_REVIEW_SUB_AREA else "Enforcement",
            sub_area=sub_area,
            description=description,
            origin=pb.SERVICE_REQUEST_ORIGIN_SYSTEM,
            clock=self._clock,
        )
        return True

    def _potentially_violent_status_review(self, as_of: dt.date) -> api.ScheduledJobResult:
        result = api.ScheduledJobResult()
        with self._sessions() as s:
            client_ids = list(
                s.scalars(
                    select(ClientRecord.id).where(
                        ClientRecord.potentially_violent_review_due <= as_of
                    )
                )
            )
        for client_id in client_ids:

            def review(client_id: str = client_id) -> None:
                with self._sessions.begin() as s:
                    for row in case_records.cases_of_client(s, client_id, open_only=True):
                        self._raise_review_sr(
                            row,
                            PV_REVIEW_SUB_AREA,
                            f"Review the potentially-violent status of clients/{client_id}",
                            s,
                        )

            self._each(result, f"clients/{client_id}", review)
        return result

    def _self_service_sla_check(self, as_of: dt.date) -> api.ScheduledJobResult:
        with self._sessions.begin() as s:
            due, breached = srs.check_self_service_sla(
                s, now=correspondence.end_of_day(as_of), clock=self._clock
            )
        return api.ScheduledJobResult(items_due=due, items_processed=breached)

    def _case_surveillance_review(self, as_of: dt.date) -> api.ScheduledJobResult:
        result = api.ScheduledJobResult()
        with self._sessions() as s:
            ids = list(
                s.scalars(
                    select(CaseRecord.id).where(
                        CaseRecord.surveillance_review_date <= as_of,
                        CaseRecord.state != case_records.CLOSED,
                    )
                )
            )
        for case_id in ids:

            def review(case_id: str = case_id) -> None:
                with self._sessions.begin() as s:
                    self._raise_review_sr(
                        case_records.case_row(s, case_id),
                        SURVEILLANCE_SUB_AREA,
                        "Case surveillance review date reached: decide whether enforcement can resume",
                        s,
                    )

            self._each(result, f"cases/{case_id}", review)
        return result

    def _default_maintenance_decision(self, as_of: dt.date) -> api.ScheduledJobResult:
        """Current income requests whose time allowed ended before `as_of`: a default maintenance decision each."""
        result = api.ScheduledJobResult()
        with self._sessions() as s:
            open_ids = default_decisions.still_open(s)
        # Requests overtaken first (their case closed, or a reported change of income replaced the default
        # decision): closed with their service requests, and not decided on.
        for request_id in open_ids:
            with self._sessions.begin() as s:
                default_decisions.end_if_overtaken(s, request_id=request_id, clock=self._clock)
        with self._sessions() as s:
            due = default_decisions.past_their_time(s, as_of)
        for request_id in due:

            def decide(request_id: str = request_id) -> None:
                default_decision_flows.make_default_decision(
                    sessions=self._sessions,
                    request_id=request_id,
                    clock=self._clock,
                    downstream=self._downstream,
                )

            self._each(result, f"currentIncomeRequests/{request_id}", decide)
        return result

    def _deduction_order_remittance_check(self, as_of: dt.date) -> api.ScheduledJobResult:
        """Deduction orders in force with a month's pay days unremitted past the 19th of the next month: a late
        remittance service request and event each, once per order per month."""
        result = api.ScheduledJobResult()
        with self._sessions() as s:
            order_ids = methods_of_payment.orders_in_force(s)
        for order_id in order_ids:

            def check(order_id: str = order_id) -> None:
                with self._sessions.begin() as s:
                    methods_of_payment.check_remittance(
                        s, order_id=order_id, as_of=as_of, clock=self._clock
                    )

            self._each(result, f"deductionOrders/{order_id}", check)
        return result

    def _correspondence_dispatch(self, as_of: dt.date) -> api.ScheduledJobResult:
        with self._sessions.begin() as s:
            sent = correspondence.dispatch_due(s, as_of=as_of, clock=self._clock)
        return api.ScheduledJobResult(items_due=sent, items_processed=sent)

    def _account_charges(self, as_of: dt.date) -> api.ScheduledJobResult:
        """Collect & Pay charges due by `as_of` (accounts.flows): items are accounts, a chunk per transaction."""
        run = account_runs.run_charges(sessions=self._sessions, as_of=as_of, clock=self._clock)
        return api.ScheduledJobResult(items_due=run.due, items_processed=run.done)

    def _payment_run(self, as_of: dt.date) -> api.ScheduledJobResult:
        """The daily payment run (accounts.flows): items are receiving parents paid."""
        run = account_runs.run_payments(sessions=self._sessions, on=as_of, clock=self._clock)
        return api.ScheduledJobResult(items_due=run.due, items_processed=run.done)

    # ---- Arrears ----

    def _arrears_check(self, as_of: dt.date) -> api.ScheduledJobResult:
        """Collect & Pay arrears (arrears.service): each arrears agreement in force with a payment missed is broken,
        each suspension whose review date came raises its review SR, and each live Collect & Pay case is checked for
        missed payments and credit. Each item is its own transaction."""
        result = api.ScheduledJobResult()
        grace = self._arrears_grace_days
        with self._sessions() as s:
            agreements = arrears.agreements_in_force(s)
            reviews = arrears.reviews_due(s, as_of=as_of)
            case_ids = list(
                s.scalars(
                    select(CaseRecord.id)
                    .where(CaseRecord.state == case_records.LIVE)
                    .order_by(CaseRecord.id)
                )
            )
        for agreement_id in agreements:

            def check_agreement(agreement_id: str = agreement_id) -> None:
                with self._sessions.begin() as s:
                    arrears.check_agreement(
                        s,
                        agreement_id=agreement_id,
                        as_of=as_of,
                        grace_days=grace,
                        clock=self._clock,
                    )

            self._each(result, f"arrearsAgreements/{agreement_id}", check_agreement)
        for suspension_id in reviews:

            def review(suspension_id: str = suspension_id) -> None:
                with self._sessions.begin() as s:
                    arrears.raise_review(s, suspension_id=suspension_id, clock=self._clock)

            self._each(result, f"arrearsSuspensions/{suspension_id}", review)
        for case_id in case_ids:

            def check(case_id: str = case_id) -> None:
                with self._sessions.begin() as s:
                    arrears.check_case(
                        s, case_id=case_id, as_of=as_of, grace_days=grace, clock=self._clock
                    )

            self._each(result, f"cases/{case_id}", partial(conflicts.retrying, check))
        return result

    # ---- Collection reform ----

    def _direct_pay_migration(self, as_of: dt.date) -> api.ScheduledJobResult:
        """The end of Direct Pay (collection_reform.flows): from CASEWORK_DIRECT_PAY_MIGRATION_START_DATE, the
        migration run for that date, to its end; nothing without the setting."""
        if self._direct_pay_migration_job is None:
            return api.ScheduledJobResult()
        return self._direct_pay_migration_job(as_of)

    def _arrears_write_off_review(self, as_of: dt.date) -> api.ScheduledJobResult:
        """Each closed case whose arrears may be written off on the date (arrears.estates: under £7, no ongoing
        liability, no payment for 90 days; MPA Regs 2009 as amended by SI 2024/87) gets an "Arrears Write-Off Review"
        service request for a team leader's decision, not twice while one is open. Every closed case is looked at,
        each in its own transaction."""
        result = api.ScheduledJobResult()
        with self._sessions() as s:
            case_ids = list(
                s.scalars(
                    select(CaseRecord.id)
                    .where(CaseRecord.state == case_records.CLOSED)
                    .order_by(CaseRecord.id)
                )
            )
        for case_id in case_ids:

            def review(case_id: str = case_id) -> None:
                with self._sessions.begin() as s:
                    arrears_estates.review_write_off(
                        s, case_id=case_id, as_of=as_of, clock=self._clock
                    )

            self._each(result, f"cases/{case_id}", partial(conflicts.retrying, review))
        return result
