"""The collection reform's runs (docs/domain/money.md, "The end of Direct Pay"), driven by casework's own caller.

The what-if reads the live cases a page at a time (the rows in one query, the paying parents' compliance in one
session, the decisions in force with one BatchGetCalculations: their inputs exactly as decided) and calculates each
again under the reform rule set, every page a message of one BulkCalculate stream (what-if items, the paying
parent's compliance set), keeps each answered page's figures (rules.part_of: sums, not cases, so a national
caseload fits a replica's memory) and adds them up (rules.add_up). It changes nothing, so a what-if whose runner
stopped starts again from the first case.

The migration moves each listed Direct Pay case in three steps, each safe to repeat: (1) its change of service type
to Collect & Pay is reported from the run's start date, verified at source (casework's own decision, raised once per
case whatever the run), and the case's row marked REPORTED in the same transaction; (2) the case's verified changes
are applied (changes.flows.apply_pending_for_system: the recalculation and the new payment plan, idempotent on the
case's version); (3) under the case's row lock, once: both parents' notices, the paying parent's request to set up a
method of payment with its "Set Up Method Of Payment" service request, DirectPayCaseMigrated, and the row MOVED. A
run stopped at any point is taken up again (by this process or the next) and converges: each case moves once.

With CASEWORK_NATIONAL_RUNS_PARTITIONED both are national runs instead (national_runs): the runner that takes the job
up lists its cases and issues them as chunks on the national runs' topic, in one transaction, and every casework
replica's consumer group does the chunks. A what-if chunk is calculated as a page is (what_if_chunk) and its figures
kept (rules.WhatIfPart); the transaction that marks the last chunk done adds them up into the results, exactly those
of one run (rules.add_up). A migration chunk moves its cases with the same three steps (migration_chunk), and the
transaction that marks the last chunk done finishes the run."""

from __future__ import annotations

import contextvars
import datetime as dt
import queue
import threading
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, TypeVar

from sqlalchemy.orm import Session, sessionmaker

from cms.calculation.v1 import calculation_service_pb2 as calc_api
from cms.calculation.v1 import resources_pb2 as calc_pb
from cms.casework.v1 import casework_service_pb2 as case_api
from cms.casework.v1 import collection_reform_pb2 as cr
from cms.casework.v1 import money_events_pb2 as money_ev
from cms.casework.v1 import national_runs_pb2 as nr
from cms.casework.v1 import resources_pb2 as pb
from cms_platform import calls, outbox
from cms_platform.clock import Clock
from cms_platform.convert import day_of, pb_date
from cms_platform.errors import DomainError
from cms_platform.identity import bind_caller, reset_caller, service_caller
from cms_platform.scheduling import PeriodicJob

from ..case_records import service as case_records
from ..changes import flows as change_flows
from ..changes import service as changes
from ..correspondence import service as correspondence
from ..downstream import Downstream, call, call_streaming
from ..national_runs import rules as run_rules
from ..national_runs import service as national_runs
from ..service_requests import service as srs
from . import rules, service

if TYPE_CHECKING:
    from ..case_records.models import CaseRecord

T = TypeVar("T")
JOB = "casework-collection-reform"
SYSTEM = service_caller(JOB)
SET_UP_SUB_AREA = "Set Up Method Of Payment"
# The what-if's one BulkCalculate stream: a fixed allowance plus a little per case (reading its page included).
BULK_TIMEOUT_SECONDS = 600.0
BULK_SECONDS_PER_CASE = 0.01
# Live cases read at a time (one query, one BatchGetCalculations), sent as one BulkCalculate message.
PAGE_SIZE = rules.ITEMS_PER_BATCH


def source_of(case_id: str) -> str:
    """The change of service type the migration raises on a case: one per case, whatever the run."""
    return f"direct-pay-migration/{case_id}"


@dataclass
class Reform:
    """What the runs need from casework's settings."""

    sessions: sessionmaker
    clock: Clock
    downstream: Downstream
    fees_reform_date: dt.date | None
    lease_seconds: float
    # Cases a chunk when the runs are national runs (CASEWORK_NATIONAL_RUNS_PARTITIONED); None: in one process.
    chunk_size: int | None = None


def _start_of(doc: cr.ReformWhatIf | cr.DirectPayMigration) -> dt.date:
    """The run's start date, always a whole date: service.start_what_if / start_migration set it from one."""
    start = day_of(doc.start_date)
    assert start is not None
    return start


# -- the what-if ---------------------------------------------------------------------------------------------------


def _pages(
    reform: Reform, read: Callable[[Session, str], list[T]], key: Callable[[T], str]
) -> Iterator[list[T]]:
    """The caseload a page at a time: `read(session, after)` in key order (keyset), each page in a session of its own
    (a run over the whole caseload holds no transaction open between pages), until a page is empty."""
    after = ""
    while True:
        with reform.sessions() as s:
            page = read(s, after)
        if not page:
            return
        yield page
        after = key(page[-1])


def _live_page(s: Session, after: str) -> list[tuple[CaseRecord, pb.Case]]:
    return case_records.live_cases_page(s, after=after, limit=PAGE_SIZE)


def _case_id(row: tuple[CaseRecord, pb.Case]) -> str:
    return row[0].id


def live_cases(reform: Reform) -> list[str]:
    """The live cases' ids, in id order."""
    pages = _pages(reform, lambda s, after: case_records.live_case_ids(s, after=after), str)
    return [case_id for page in pages for case_id in page]


@dataclass
class _Page:
    """One page of the live caseload as the what-if reads it: how many cases it covers, those with a decision as
    they stand and as what-if items, and those left out (no decision to recalculate, or calculation could not give
    it)."""

    cases: int
    today: list[rules.CaseToday]
    items: list[calc_api.BulkCalculateItem]
    failures: list[str]


def _page_of(reform: Reform, rows: list[tuple[CaseRecord, pb.Case]], on: dt.date) -> _Page:
    """These live cases as the what-if reads them: their paying parents' compliance in one session, their decisions
    in one BatchGetCalculations."""
    with reform.sessions() as s:
        # Compliance is the paying parent's across all their cases: the page's parents asked together (a case
        # without a paying parent's record counts as compliant, as arrears.estates.compliant has it).
        by_parent = service.non_compliant_parents(
            s, [row.paying_parent_client_id for row, _ in rows], on
        )
        non_compliant = {
            row.id: by_parent.get(row.paying_parent_client_id, False) for row, _ in rows
        }
    page = _Page(cases=len(rows), today=[], items=[], failures=[])
    if not rows:
        return page
    decisions = _decisions(
        reform,
        [
            case.latest_calculation.calculation
            for _, case in rows
            if case.latest_calculation.calculation
        ],
    )
    for row, case in rows:
        if not case.latest_calculation.calculation:
            page.failures.append(f"cases/{row.id}: no calculation in force")
            continue
        decided = decisions[case.latest_calculation.calculation]
        if isinstance(decided, str):
            page.failures.append(f"cases/{row.id}: {decided}")
            continue
        today, item = _today_of(row.id, case, decided, non_compliant=non_compliant[row.id])
        page.today.append(today)
        page.items.append(item)
    return page


def _decisions(reform: Reform, names: list[str]) -> dict[str, calc_pb.Calculation | str]:
    """Each name's stored decision, read with one BatchGetCalculations. One name calculation cannot answer fails
    that whole read (AIP-231), so the page is then asked name by name and only that case fails (why, as text)."""
    if not names:
        return {}
    try:
        answer = call(
            reform.downstream.calculation.BatchGetCalculations,
            calc_api.BatchGetCalculationsRequest(names=names, view=calc_pb.CALCULATION_VIEW_FULL),
            what="calculation",
        )
        found: dict[str, calc_pb.Calculation | str] = dict(
            zip(names, answer.calculations, strict=True)
        )
        return found
    except DomainError:
        pass
    out: dict[str, calc_pb.Calculation | str] = {}
    for name in names:
        try:
            out[name] = call(
                reform.downstream.calculation.GetCalculation,
                calc_api.GetCalculationRequest(name=name, view=calc_pb.CALCULATION_VIEW_FULL),
                what="calculation",
            )
        except DomainError as exc:
            out[name] = str(getattr(exc, "message", None) or exc)
    return out


def _today_of(
    case_id: str, case: pb.Case, decided: calc_pb.Calculation, *, non_compliant: bool
) -> tuple[rules.CaseToday, calc_api.BulkCalculateItem]:
    """The case as it stands and its what-if item: its decision's inputs exactly, with the paying parent's
    compliance as the reform's fees would find it."""
    share = _share(decided, case.name)
    calc_input = calc_pb.CalculationInput()
    calc_input.CopyFrom(decided.input)
    calc_input.compliance_status = (
        calc_pb.COMPLIANCE_STATUS_NON_COMPLIANT
        if non_compliant
        else calc_pb.COMPLIANCE_STATUS_COMPLIANT
    )
    today = rules.CaseToday(
        case_id=case_id,
        paying_parent=case.paying_parent.name,
        direct_pay=case.service_type == pb.SERVICE_TYPE_DIRECT_PAY,
        children=sum(1 for c in case.qualifying_children if not c.end_date.year),
        receipts_weekly_pence=share.weekly_amount_received_pence
        if share.weekly_amount_received_pence or case.service_type != pb.SERVICE_TYPE_DIRECT_PAY
        else share.weekly_amount_pence,
        non_compliant=non_compliant,
    )
    item = calc_api.BulkCalculateItem(
        request_id=str(uuid.uuid5(uuid.NAMESPACE_URL, f"reform-what-if/{case_id}")),
        case_reference=case_id,
        input=calc_input,
        what_if=True,
        rule_set_version=rules.REFORM_RULE_SET,
    )
    return today, item


def _share(calculation: calc_pb.Calculation, case_name: str) -> calc_pb.ReceivingParentAmount:
    for part in calculation.receiving_parent_amounts:
        if part.receiving_parent_reference == case_name:
            return part
    return calc_pb.ReceivingParentAmount()


class _Pages:
    """The what-if's requests for its one BulkCalculate stream, read a page at a time as gRPC takes them (in
    gRPC's own thread, so the next page is read while calculation works on the last; the caller's context goes
    with it). Each request's page waits in `sent` for its answer; a page with nothing to calculate is carried
    with the next one. Reading stops when the caseload ends, when `stopping()`, or at a failure, kept in `error`
    for the caller to raise: one raised in gRPC's thread would only cancel the stream, its reason lost."""

    def __init__(self, reform: Reform, on: dt.date, stopping: Callable[[], bool]):
        self.sent: queue.SimpleQueue[_Page] = queue.SimpleQueue()
        self.unsent = _Page(cases=0, today=[], items=[], failures=[])
        self.error: Exception | None = None
        self.stopped = False
        self._reform, self._on, self._stopping = reform, on, stopping
        self._context = contextvars.copy_context()

    def requests(self) -> Iterator[calc_api.BulkCalculateRequest]:
        steps = self._read()
        while True:
            request = self._context.run(next, steps, None)
            if request is None:
                return
            yield request

    def _read(self) -> Iterator[calc_api.BulkCalculateRequest]:
        try:
            for rows in _pages(self._reform, _live_page, _case_id):
                if self._stopping():
                    self.stopped = True
                    return
                page = _page_of(self._reform, rows, self._on)
                carried = self.unsent
                carried.cases += page.cases
                carried.failures.extend(page.failures)
                carried.today.extend(page.today)
                carried.items.extend(page.items)
                if carried.items:
                    self.unsent = _Page(cases=0, today=[], items=[], failures=[])
                    self.sent.put(carried)
                    yield calc_api.BulkCalculateRequest(items=carried.items)
        except Exception as exc:  # noqa: BLE001 - raised again in the caller's thread
            self.error = exc


def _calculated(
    answer: calc_api.BulkCalculateResponse,
    after: list[rules.CaseUnderReform],
    failures: list[str],
) -> None:
    """A BulkCalculate answer's cases under the reform onto `after`, those it refused onto `failures`."""
    for result in answer.results:
        if result.HasField("error"):
            failures.append(
                f"cases/{result.case_reference}: the calculation refused it ({result.error.message})"
            )
            continue
        part = _share(result.calculation, f"cases/{result.case_reference}")
        after.append(
            rules.CaseUnderReform(
                case_id=result.case_reference,
                receipts_weekly_pence=part.weekly_amount_received_pence,
                paying_parent_fee_weekly_pence=part.paying_parent_fee_weekly_pence,
                receiving_parent_fee_weekly_pence=part.receiving_parent_fee_weekly_pence,
            )
        )


def _results(
    totals: rules.WhatIfTotals, *, cases_failed: int, failures: list[str]
) -> cr.ReformWhatIfResults:
    return cr.ReformWhatIfResults(
        cases_moving=totals.cases_moving,
        children_moving=totals.children_moving,
        fee_income=[
            cr.ReformFeeIncomeMonth(
                month_start=pb_date(first),
                paying_parent_fees_pence=paying,
                receiving_parent_fees_pence=receiving,
                total_pence=paying + receiving,
            )
            for first, paying, receiving in totals.fee_income
        ],
        fee_income_total_pence=totals.fee_income_total_pence,
        paying_parents_non_compliant=totals.paying_parents_non_compliant,
        weekly_receipts_before_pence=totals.weekly_receipts_before_pence,
        weekly_receipts_after_pence=totals.weekly_receipts_after_pence,
        receiving_parents_receiving_less=totals.receiving_less,
        receiving_parents_receiving_more=totals.receiving_more,
        cases_failed=cases_failed,
        failures=[f[:300] for f in failures[: rules.MAX_FAILURES_LISTED]],
    )


def run_what_if(reform: Reform, what_if_id: str, stopping: Callable[[], bool]) -> None:
    if reform.chunk_size:
        _issue_what_if(reform, what_if_id, reform.chunk_size)
        return
    with reform.sessions.begin() as s:
        doc = service.claim_what_if(
            s, what_if_id=what_if_id, clock=reform.clock, lease_seconds=reform.lease_seconds
        )
    if doc is None:
        return
    start = _start_of(doc)
    with reform.sessions() as s:
        total = case_records.live_case_count(s)
    done = 0
    # Each page's figures as it is answered: the run keeps sums (and the non-compliant parents' ids), not every
    # case, so a national caseload fits a replica's memory.
    parts: list[rules.WhatIfPart] = []
    failures: list[str] = []
    pages = _Pages(reform, start, stopping)
    try:
        # One stream for the whole caseload: calculation's workers stay busy while the next page is read.
        answers = call_streaming(
            reform.downstream.calculation.BulkCalculate,
            pages.requests(),
            what="calculation",
            timeout=BULK_TIMEOUT_SECONDS + BULK_SECONDS_PER_CASE * total,
        )
        for answer in answers:
            page = pages.sent.get_nowait()  # answers come in the order of the requests
            failures.extend(page.failures)
            after: list[rules.CaseUnderReform] = []
            _calculated(answer, after, failures)
            parts.append(rules.part_of(page.today, after))
            done += page.cases
            with reform.sessions.begin() as s:
                service.what_if_progress(
                    s,
                    what_if_id=what_if_id,
                    total=max(total, done),
                    done=done,
                    clock=reform.clock,
                    lease_seconds=reform.lease_seconds,
                )
            if stopping():
                answers.close()  # the call is cancelled with it, the pages not yet read are not
                return  # the lease runs out and the next runner starts again
        if pages.error is not None:
            raise pages.error
        if pages.stopped:
            return
    except DomainError as exc:
        with reform.sessions.begin() as s:
            service.finish_what_if(
                s,
                what_if_id=what_if_id,
                results=None,
                error=str(getattr(exc, "message", None) or exc),
                clock=reform.clock,
            )
        return
    failures.extend(pages.unsent.failures)  # the last pages' cases, none of them to calculate
    total = max(total, done + pages.unsent.cases)
    totals = rules.add_up(parts, start=start)
    failures.sort()  # in case id order, as a partitioned run lists them
    results = _results(totals, cases_failed=len(failures), failures=failures)
    with reform.sessions.begin() as s:
        service.what_if_progress(
            s,
            what_if_id=what_if_id,
            total=total,
            done=total,
            clock=reform.clock,
            lease_seconds=reform.lease_seconds,
        )
        service.finish_what_if(
            s, what_if_id=what_if_id, results=results, error="", clock=reform.clock
        )


# -- the what-if as a national run ---------------------------------------------------------------------------------


def _issue_what_if(reform: Reform, what_if_id: str, chunk_size: int) -> None:
    """The what-if's live cases issued as chunks: once (a what-if already issued is left to its chunks), by the
    runner that claimed it. A what-if of no cases is done at once."""
    run_id = rules.what_if_run_id(what_if_id)
    with reform.sessions() as s:
        if national_runs.run_of(s, run_id) is not None:
            return
    with reform.sessions.begin() as s:
        claimed = service.claim_what_if(
            s, what_if_id=what_if_id, clock=reform.clock, lease_seconds=reform.lease_seconds
        )
    if claimed is None:
        return
    case_ids = live_cases(reform)
    with reform.sessions.begin() as s:
        # The what-if locked: a runner that claimed it beside this one (its lease ran out) finds the run issued.
        doc = service.running_what_if(s, what_if_id=what_if_id)
        if doc is None or national_runs.run_of(s, run_id) is not None:
            return
        start = _start_of(doc)
        run = national_runs.issue(
            s,
            job=case_api.SCHEDULED_JOB_UNSPECIFIED,
            job_name=rules.WHAT_IF_RUN,
            as_of=start,
            run_on=start,
            case_ids=case_ids,
            chunk_size=chunk_size,
            clock=reform.clock,
            run_id=run_id,
            reform_run=doc.name,
        )
        service.what_if_progress(
            s,
            what_if_id=what_if_id,
            total=run.items_due,
            done=0,
            clock=reform.clock,
            lease_seconds=reform.lease_seconds,
        )
        if not run.chunk_count:
            _finish_issued_what_if(s, reform, what_if_id, start)


def what_if_chunk(reform: Reform, chunk: nr.NationalRunChunkIssued) -> national_runs.ChunkDone:
    """A chunk of a what-if (national_runs.handlers): its cases still live read and calculated under the reform as a
    page is (one BulkCalculate stream), and its figures kept when the chunk is marked done; the last chunk's
    transaction adds up every chunk's into the what-if's results. It changes nothing, so a chunk done again (a
    replica stopped before its marker) gives the same figures."""
    what_if_id = chunk.reform_run.removeprefix("reformWhatIfs/")
    start = day_of(chunk.as_of_date)
    assert start is not None  # always set by national_runs.service.issue
    today: list[rules.CaseToday] = []
    after: list[rules.CaseUnderReform] = []
    failures: list[str] = []
    error = ""
    token = bind_caller(SYSTEM)
    try:
        with calls.serving(JOB):
            with reform.sessions() as s:
                rows = case_records.live_cases_of(s, list(chunk.case_ids))
            page = _page_of(reform, rows, start)
            failures.extend(page.failures)
            today.extend(page.today)
            if page.items:
                answers = call_streaming(
                    reform.downstream.calculation.BulkCalculate,
                    iter(
                        [
                            calc_api.BulkCalculateRequest(items=items)
                            for items in rules.in_batches(page.items)
                        ]
                    ),
                    what="calculation",
                    timeout=BULK_TIMEOUT_SECONDS + BULK_SECONDS_PER_CASE * len(page.items),
                )
                for answer in answers:
                    _calculated(answer, after, failures)
    except DomainError as exc:
        # As a single run would: the what-if fails with it (once every chunk is done).
        error = str(getattr(exc, "message", None) or exc)
    finally:
        reset_caller(token)
    figures = rules.part_of(today, after) if not error else rules.WhatIfPart()
    # In case id order: the chunks are the caseload in id order, so the what-if lists its failures as one run does.
    failures.sort()

    def keep(s: Session, completed: bool) -> None:
        service.record_what_if_part(
            s,
            what_if_id=what_if_id,
            chunk=chunk.chunk,
            cases=len(chunk.case_ids),
            figures=figures,
            cases_failed=len(failures),
            failures=failures,
            error=error,
            clock=reform.clock,
        )
        if completed:
            _finish_issued_what_if(s, reform, what_if_id, start)

    return national_runs.ChunkDone(
        run_rules.ChunkOutcome(
            items_due=len(chunk.case_ids),
            items_processed=len(after),
            items_failed=len(failures),
            failures=tuple(failures[: run_rules.MAX_FAILURES]),
        ),
        keep,
    )


def _finish_issued_what_if(s: Session, reform: Reform, what_if_id: str, start: dt.date) -> None:
    """Every chunk done: the what-if's results, its chunks' figures added up (or FAILED with a chunk's error)."""
    parts = service.what_if_parts(s, what_if_id=what_if_id)
    results = (
        None
        if parts.error
        else _results(
            rules.add_up(parts.figures, start=start),
            cases_failed=parts.cases_failed,
            failures=parts.failures,
        )
    )
    service.finish_what_if(
        s, what_if_id=what_if_id, results=results, error=parts.error, clock=reform.clock
    )


# -- the migration run ---------------------------------------------------------------------------------------------


def direct_pay_cases(reform: Reform) -> list[str]:
    """The live Direct Pay cases, in id order (the service type is in a case's stored document, not a column)."""
    return [
        row.id
        for page in _pages(reform, _live_page, _case_id)
        for row, case in page
        if case.service_type == pb.SERVICE_TYPE_DIRECT_PAY
    ]


def report_move(reform: Reform, migration_id: str, case_id: str, start: dt.date) -> str:
    """Step 1: the change of service type reported (once per case) and the case's row REPORTED. Returns the step
    the case is at."""
    with reform.sessions.begin() as s:
        row = service.case_progress(s, migration_id=migration_id, case_id=case_id)
        if row is None or row.step != service.PENDING:
            return "" if row is None else row.step
        case = case_records.load(s, case_id)[1]
        if changes.raised_from(s, case_id=case_id, source_event_id=source_of(case_id)):
            service.mark(row, rules.REPORTED, reform.clock)
            return rules.REPORTED
        if case.state != pb.CASE_STATE_LIVE or case.service_type != pb.SERVICE_TYPE_DIRECT_PAY:
            service.mark(
                row, rules.FAILED, reform.clock, failure="no longer a live Direct Pay case"
            )
            return rules.FAILED
        change = changes.report(
            s,
            request=case_api.ReportChangeOfCircumstancesRequest(
                parent=case.name,
                change_of_circumstances=pb.ChangeOfCircumstances(
                    type=pb.CHANGE_OF_CIRCUMSTANCES_TYPE_CHANGE_TO_SERVICE_TYPE,
                    effective_date=pb_date(start),
                    reported_by=pb.REPORTER_CMS,
                    payment_arrangement_change=pb.PaymentArrangementChange(
                        service_type=pb.SERVICE_TYPE_COLLECT_AND_PAY
                    ),
                    # The CMS's own decision under the reform: verified at source (changes.service.report).
                    evidence=[
                        pb.Evidence(
                            kind=pb.EVIDENCE_KIND_INTERFACE,
                            description="The end of Direct Pay: migration run",
                            received_date=pb_date(reform.clock.today()),
                        )
                    ],
                    note="The end of Direct Pay: moving to Collect & Pay",
                ),
            ),
            caller=SYSTEM,
            clock=reform.clock,
            source_event_id=source_of(case_id),
        )
        service.mark(row, rules.REPORTED, reform.clock, change=change.name)
        return rules.REPORTED


def complete_move(reform: Reform, migration_id: str, case_id: str, start: dt.date) -> None:
    """Step 3, once per case under its row lock: the notices, the method of payment to set up, the event."""
    with reform.sessions.begin() as s:
        row = service.case_progress(s, migration_id=migration_id, case_id=case_id)
        if row is None or row.step != rules.REPORTED:
            return
        case_row, case = case_records.load(s, case_id)
        if case.service_type != pb.SERVICE_TYPE_COLLECT_AND_PAY:
            service.mark(
                row,
                rules.FAILED,
                reform.clock,
                failure="the change of service type was not applied",
            )
            return
        _, sr = srs.raise_sr(
            s,
            case_row=case_row,
            process="Case Maintenance",
            area="Method Of Payment",
            sub_area=SET_UP_SUB_AREA,
            description="Direct Pay has ended: agree a method of payment for Collect & Pay with the paying parent",
            origin=pb.SERVICE_REQUEST_ORIGIN_SYSTEM,
            clock=reform.clock,
        )
        correspondence.notify_parents(
            s,
            case=case,
            case_id=case_id,
            kind=pb.CORRESPONDENCE_KIND_DIRECT_PAY_ENDING_NOTICE,
            clock=reform.clock,
            service_request=sr.name,
        )
        correspondence.schedule(
            s,
            case_id=case_id,
            kind=pb.CORRESPONDENCE_KIND_METHOD_OF_PAYMENT_SET_UP_REQUEST,
            recipient=case.paying_parent.name,
            clock=reform.clock,
            service_request=sr.name,
        )
        outbox.publish(
            s,
            clock=reform.clock,
            key=case.name,
            subject=case.name,
            message=money_ev.DirectPayCaseMigrated(
                case_id=case_id,
                migration_id=migration_id,
                change_of_circumstances=row.change_of_circumstances,
                service_request=sr.name,
                effective_date=pb_date(start),
            ),
        )
        service.mark(row, rules.MOVED, reform.clock)


def move_case(reform: Reform, migration_id: str, case_id: str, start: dt.date) -> None:
    step = report_move(reform, migration_id, case_id, start)
    if step != rules.REPORTED:
        return
    change_flows.apply_pending_for_system(
        sessions=reform.sessions,
        parent=f"cases/{case_id}",
        caller=SYSTEM,
        clock=reform.clock,
        downstream=reform.downstream,
    )
    complete_move(reform, migration_id, case_id, start)


def _fail(reform: Reform, migration_id: str, case_id: str, why: str) -> None:
    with reform.sessions.begin() as s:
        row = service.case_progress(s, migration_id=migration_id, case_id=case_id)
        if row is not None and row.step in (service.PENDING, rules.REPORTED):
            service.mark(row, rules.FAILED, reform.clock, failure=why)


def run_migration(reform: Reform, migration_id: str, stopping: Callable[[], bool]) -> None:
    if reform.chunk_size:
        with reform.sessions() as s:
            if national_runs.run_of(s, rules.migration_run_id(migration_id)) is not None:
                return  # issued as a national run: its chunks do the rest
    with reform.sessions.begin() as s:
        doc = service.claim_migration(
            s, migration_id=migration_id, clock=reform.clock, lease_seconds=reform.lease_seconds
        )
    if doc is None:
        return
    start = _start_of(doc)
    if doc.dry_run:
        would_move = direct_pay_cases(reform)
        with reform.sessions.begin() as s:
            service.dry_run_outcome(
                s, migration_id=migration_id, would_move=would_move, clock=reform.clock
            )
            service.finish_migration(s, migration_id=migration_id, clock=reform.clock)
        return
    if reform.chunk_size:
        _issue_migration(reform, migration_id, start, reform.chunk_size)
        return
    with reform.sessions() as s:
        listed = service.enlisted(s, migration_id=migration_id)
    if not listed:
        found = direct_pay_cases(reform)
        with reform.sessions.begin() as s:
            service.enlist(s, migration_id=migration_id, case_ids=found, clock=reform.clock)
    with reform.sessions() as s:
        to_move = service.cases_to_move(s, migration_id=migration_id)
    for case_id in to_move:
        if stopping():
            return  # taken up again once the lease runs out
        try:
            move_case(reform, migration_id, case_id, start)
        except DomainError as exc:
            _fail(reform, migration_id, case_id, str(getattr(exc, "message", None) or exc))
        with reform.sessions.begin() as s:
            service.refresh_migration(
                s, migration_id=migration_id, clock=reform.clock, lease_seconds=reform.lease_seconds
            )
    with reform.sessions.begin() as s:
        service.refresh_migration(
            s, migration_id=migration_id, clock=reform.clock, lease_seconds=reform.lease_seconds
        )
        service.finish_migration(s, migration_id=migration_id, clock=reform.clock)


# -- the migration as a national run -------------------------------------------------------------------------------


def _issue_migration(reform: Reform, migration_id: str, start: dt.date, chunk_size: int) -> None:
    """The run's cases still to move (listed now if the run has not listed them yet) issued as chunks, in the
    transaction that lists them and counts the run's progress so far; once (a run already issued is left to its
    chunks). A run with nothing to move is finished at once."""
    run_id = rules.migration_run_id(migration_id)
    with reform.sessions() as s:
        listed = service.enlisted(s, migration_id=migration_id)
    found = [] if listed else direct_pay_cases(reform)
    with reform.sessions.begin() as s:
        # Locks the run: a runner that listed its cases beside this one finds the run issued.
        doc = service.refresh_migration(
            s, migration_id=migration_id, clock=reform.clock, lease_seconds=reform.lease_seconds
        )
        running = doc is not None and doc.state == cr.COLLECTION_REFORM_JOB_STATE_RUNNING
        if not running or national_runs.run_of(s, run_id) is not None:
            return
        if not listed:
            service.enlist(s, migration_id=migration_id, case_ids=found, clock=reform.clock)
        run = national_runs.issue(
            s,
            job=case_api.SCHEDULED_JOB_UNSPECIFIED,
            job_name=rules.MIGRATION_RUN,
            as_of=start,
            run_on=start,
            case_ids=service.cases_to_move(s, migration_id=migration_id),
            chunk_size=chunk_size,
            clock=reform.clock,
            run_id=run_id,
            reform_run=f"directPayMigrations/{migration_id}",
        )
        if not run.chunk_count:
            _finish_issued_migration(s, reform, migration_id)


def migration_chunk(reform: Reform, chunk: nr.NationalRunChunkIssued) -> national_runs.ChunkDone:
    """A chunk of a migration run (national_runs.handlers): each of its cases moved (move_case, each step safe to
    repeat, so a chunk done again after a replica stopped mid-way moves each case once), the run's counts moved on
    by the chunk's when it is marked done, and the run finished by the last chunk's transaction."""
    migration_id = chunk.reform_run.removeprefix("directPayMigrations/")
    start = day_of(chunk.as_of_date)
    assert start is not None  # always set by national_runs.service.issue
    token = bind_caller(SYSTEM)
    try:
        with calls.serving(JOB):
            for case_id in chunk.case_ids:
                try:
                    move_case(reform, migration_id, case_id, start)
                except DomainError as exc:
                    _fail(reform, migration_id, case_id, str(getattr(exc, "message", None) or exc))
    finally:
        reset_caller(token)
    with reform.sessions() as s:
        steps = service.steps_of(s, migration_id=migration_id, case_ids=list(chunk.case_ids))
    moved = sum(1 for _, step, _ in steps if step == rules.MOVED)
    failed = [f"cases/{c}: {why}" for c, step, why in steps if step == rules.FAILED]

    def keep(s: Session, completed: bool) -> None:
        service.migration_chunk_done(
            s, migration_id=migration_id, moved=moved, failed=len(failed), clock=reform.clock
        )
        if completed:
            _finish_issued_migration(s, reform, migration_id)

    return national_runs.ChunkDone(
        run_rules.ChunkOutcome(
            items_due=len(chunk.case_ids),
            items_processed=moved,
            items_failed=len(failed),
            failures=tuple(failed[: run_rules.MAX_FAILURES]),
        ),
        keep,
    )


def _finish_issued_migration(s: Session, reform: Reform, migration_id: str) -> None:
    """Every chunk done: the run counted again from its cases' rows, and finished."""
    service.refresh_migration(
        s, migration_id=migration_id, clock=reform.clock, lease_seconds=reform.lease_seconds
    )
    service.finish_migration(s, migration_id=migration_id, clock=reform.clock)


# -- the runner ----------------------------------------------------------------------------------------------------


class Runner:
    """Takes up every running what-if and migration run whose lease has run out: at once when one is started
    (`wake`), every `interval_seconds` besides (a run a stopped process left). `stop` ends a run between cases."""

    def __init__(self, reform: Reform, interval_seconds: float):
        self.reform = reform
        self._stopping = threading.Event()
        self._job = PeriodicJob(JOB, interval_seconds, self.run_due)

    def wake(self) -> None:
        self._job.wake()

    def what_if_chunk(self, chunk: nr.NationalRunChunkIssued) -> national_runs.ChunkDone:
        """A what-if's chunk, for the national runs' consumer (what_if_chunk)."""
        return what_if_chunk(self.reform, chunk)

    def migration_chunk(self, chunk: nr.NationalRunChunkIssued) -> national_runs.ChunkDone:
        """A migration run's chunk, for the national runs' consumer (migration_chunk)."""
        return migration_chunk(self.reform, chunk)

    def start(self) -> None:
        self._job.start()

    def stop(self) -> None:
        self._stopping.set()
        self._job.stop()

    def run_due(self) -> None:
        token = bind_caller(SYSTEM)
        try:
            with calls.serving(JOB):
                with self.reform.sessions() as s:
                    what_ifs = service.what_ifs_running(s)
                    migrations = service.migrations_running(s)
                for what_if_id in what_ifs:
                    run_what_if(self.reform, what_if_id, self._stopping.is_set)
                for migration_id in migrations:
                    run_migration(self.reform, migration_id, self._stopping.is_set)
        finally:
            reset_caller(token)

    def run_scheduled(self, start: dt.date) -> cr.DirectPayMigration:
        """SCHEDULED_JOB_DIRECT_PAY_MIGRATION: the run for the configured start date, started if need be and run
        here to its end (or taken up from where a stopped one left off)."""
        migration_id = service.scheduled_migration_id(start)
        with self.reform.sessions.begin() as s:
            service.start_migration(
                s,
                start=start,
                dry_run=False,
                caller=SYSTEM,
                clock=self.reform.clock,
                migration_id=migration_id,
            )
        run_migration(self.reform, migration_id, self._stopping.is_set)
        with self.reform.sessions() as s:
            return service.get_migration(s, name=f"directPayMigrations/{migration_id}")


def scheduled_job(
    runner: Runner, start: dt.date | None
) -> Callable[[dt.date], case_api.ScheduledJobResult]:
    """SCHEDULED_JOB_DIRECT_PAY_MIGRATION for the scheduler: nothing before the configured start date (or ever,
    when none is set); from it, the run for that date to its end. Items are the run's cases."""

    def job(as_of: dt.date) -> case_api.ScheduledJobResult:
        if start is None or as_of < start:
            return case_api.ScheduledJobResult()
        doc = runner.run_scheduled(start)
        return case_api.ScheduledJobResult(
            items_due=doc.cases_total,
            items_processed=doc.cases_moved,
            items_failed=doc.cases_failed,
            failures=list(doc.failures),
        )

    return job
