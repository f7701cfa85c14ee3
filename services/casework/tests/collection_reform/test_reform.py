"""The end of Direct Pay through the running stack: the what-if agrees with per-case previews under the reform rule
set; the migration moves every Direct Pay case once, with notices and a method of payment to set up; a dry run
changes nothing; a run stopped mid-way is taken up by a new casework process and every case still moves once;
caseworkers are refused."""

from __future__ import annotations

import datetime as dt

import grpc
import pytest

from cms.calculation.v1 import calculation_service_pb2 as calc_api
from cms.calculation.v1 import calculation_service_pb2_grpc as calc_grpc
from cms.calculation.v1 import resources_pb2 as calc_pb
from cms.casework.v1 import casework_service_pb2 as api
from cms.casework.v1 import casework_service_pb2_grpc as api_grpc
from cms.casework.v1 import collection_reform_pb2 as cr
from cms.casework.v1 import collection_reform_service_pb2 as rapi
from cms.casework.v1 import resources_pb2 as pb
from cms_casework.app import CaseworkService
from cms_casework.case_records import service as case_records
from cms_casework.collection_reform import flows, service
from cms_devkit.testing import wait_until
from cms_platform import calls
from cms_platform.convert import pb_date
from cms_platform.identity import bind_caller, reset_caller

from ..conftest import alex_and_bethan, d, start_stack
from ..money.conftest import MoneyStack, chidi_and_sian
from .conftest import reform_call, rid

START = dt.date(2026, 5, 1)
DONE = (cr.COLLECTION_REFORM_JOB_STATE_SUCCEEDED, cr.COLLECTION_REFORM_JOB_STATE_FAILED)


def _cases(stack):
    direct_pay = stack.new_live_case(alex_and_bethan(service_type=pb.SERVICE_TYPE_DIRECT_PAY))
    request = chidi_and_sian()
    request.service_type = pb.SERVICE_TYPE_DIRECT_PAY
    other = stack.new_live_case(request)
    return direct_pay, other


def _finished(stack, method, name):
    def done():
        job = reform_call(stack, method, getattr(rapi, f"{method}Request")(name=name))
        return job if job.state in DONE else None

    return wait_until(done, timeout=180, what=f"{name} to finish")


def _letters(stack, case, kind):
    found = stack.call(
        "ListCorrespondence", api.ListCorrespondenceRequest(parent=case.name, page_size=200)
    ).correspondence
    return [c for c in found if c.kind == kind]


def _srs(stack, case, sub_area):
    found = stack.call(
        "ListServiceRequests", api.ListServiceRequestsRequest(parent=case.name)
    ).service_requests
    return [sr for sr in found if sr.sub_area == sub_area]


def test_the_what_if_agrees_with_the_sum_of_per_case_previews(stack):
    direct_pay = stack.new_live_case(alex_and_bethan(service_type=pb.SERVICE_TYPE_DIRECT_PAY))
    collect = stack.new_live_case(chidi_and_sian())
    started = reform_call(
        stack,
        "StartReformWhatIf",
        rapi.StartReformWhatIfRequest(request_id=rid(), start_date=pb_date(START)),
    )
    what_if = _finished(stack, "GetReformWhatIf", started.name)
    assert what_if.state == cr.COLLECTION_REFORM_JOB_STATE_SUCCEEDED, what_if.error
    assert (what_if.cases_total, what_if.cases_done) == (2, 2)
    results = what_if.results
    assert (results.cases_moving, results.children_moving, results.cases_failed) == (1, 2, 0)
    assert results.paying_parents_non_compliant == 0

    calc = calc_grpc.CalculationServiceStub(
        grpc.insecure_channel(f"127.0.0.1:{stack.services['calculation'].server.port}")
    )
    who = stack.creds.staff("tl-1", "team_leader")
    paying = receiving = before = after = 0
    for case in (direct_pay, collect):
        decided = calc.GetCalculation(
            calc_api.GetCalculationRequest(
                name=case.latest_calculation.calculation, view=calc_pb.CALCULATION_VIEW_FULL
            ),
            metadata=who,
        )
        preview_input = calc_pb.CalculationInput()
        preview_input.CopyFrom(decided.input)
        preview_input.compliance_status = calc_pb.COMPLIANCE_STATUS_COMPLIANT
        preview = calc.PreviewCalculation(
            calc_api.PreviewCalculationRequest(input=preview_input, rule_set_version="reform-2025"),
            metadata=who,
        )
        paying += preview.collection_fees.paying_parent_fee_weekly_pence
        receiving += preview.collection_fees.receiving_parent_fee_weekly_pence
        before += decided.receiving_parent_amounts[0].weekly_amount_received_pence or (
            decided.receiving_parent_amounts[0].weekly_amount_pence
        )
        after += preview.collection_fees.receiving_parent_weekly_total_pence
    assert results.weekly_receipts_before_pence == before
    assert results.weekly_receipts_after_pence == after
    # 1 May 2026 to 30 April 2027: 365 days of the weekly fees, month by month, rounded down.
    assert len(results.fee_income) == 12
    assert results.fee_income[0].month_start == d(2026, 5, 1)
    # Each side's weekly fees for the month's days, rounded down (a forecast never overstates).
    assert results.fee_income_total_pence == sum(
        paying * m.days // 7 + receiving * m.days // 7 for m in _month_days()
    )
    assert results.fee_income_total_pence > 0


class _M:
    def __init__(self, days):
        self.days = days


def _month_days():
    from cms_casework.collection_reform import rules

    return [_M(days) for _, days in rules.months_from(START)]


def test_a_dry_run_changes_nothing_and_the_run_moves_each_case_once(stack):
    cases = _cases(stack)
    dry = reform_call(
        stack,
        "StartDirectPayMigration",
        rapi.StartDirectPayMigrationRequest(
            request_id=rid(), start_date=pb_date(START), dry_run=True
        ),
    )
    dry = _finished(stack, "GetDirectPayMigration", dry.name)
    assert dry.state == cr.COLLECTION_REFORM_JOB_STATE_SUCCEEDED
    assert dry.cases_total == dry.cases_moved == 2
    assert sorted(dry.cases) == sorted(c.name for c in cases)
    for case in cases:
        held = stack.call("GetCase", api.GetCaseRequest(name=case.name))
        assert held.service_type == pb.SERVICE_TYPE_DIRECT_PAY
        assert not _letters(stack, case, pb.CORRESPONDENCE_KIND_DIRECT_PAY_ENDING_NOTICE)

    run = reform_call(
        stack,
        "StartDirectPayMigration",
        rapi.StartDirectPayMigrationRequest(request_id=rid(), start_date=pb_date(START)),
    )
    run = _finished(stack, "GetDirectPayMigration", run.name)
    assert run.state == cr.COLLECTION_REFORM_JOB_STATE_SUCCEEDED, run.failures
    assert (run.cases_total, run.cases_moved, run.cases_failed, run.cases_remaining) == (2, 2, 0, 0)
    _each_moved_once(stack, cases)

    # Another run finds no Direct Pay case left.
    again = reform_call(
        stack,
        "StartDirectPayMigration",
        rapi.StartDirectPayMigrationRequest(request_id=rid(), start_date=pb_date(START)),
    )
    again = _finished(stack, "GetDirectPayMigration", again.name)
    assert again.cases_total == 0
    _each_moved_once(stack, cases)


def _each_moved_once(stack, cases):
    for case in cases:
        held = stack.call("GetCase", api.GetCaseRequest(name=case.name))
        assert held.service_type == pb.SERVICE_TYPE_COLLECT_AND_PAY
        notices = _letters(stack, case, pb.CORRESPONDENCE_KIND_DIRECT_PAY_ENDING_NOTICE)
        assert sorted(n.recipient for n in notices) == sorted(
            [held.paying_parent.name, held.receiving_parent.name]
        )
        assert (
            len(_letters(stack, case, pb.CORRESPONDENCE_KIND_METHOD_OF_PAYMENT_SET_UP_REQUEST)) == 1
        )
        assert len(_srs(stack, case, flows.SET_UP_SUB_AREA)) == 1
        changes = stack.call(
            "ListChangesOfCircumstances",
            api.ListChangesOfCircumstancesRequest(
                parent=case.name, type=pb.CHANGE_OF_CIRCUMSTANCES_TYPE_CHANGE_TO_SERVICE_TYPE
            ),
        ).changes_of_circumstances
        assert [c.state for c in changes] == [pb.CHANGE_OF_CIRCUMSTANCES_STATE_APPLIED]
        migrated = stack.money_events(
            case.name, "collection_reform.direct_pay_case_migrated", expected=1
        )
        # One event; delivery is at least once (an outbox relay may publish it again, e.g. a second process's relay
        # on the same database after it judged the broker to have lost its events), so it is counted by its id.
        assert len({dict(r.headers)["ce_id"] for r in migrated}) == 1


def test_a_run_stopped_mid_way_is_taken_up_by_a_new_process(
    start_service, creds, kafka_bootstrap, calculation
):
    first = start_stack(
        start_service,
        creds,
        kafka_bootstrap,
        calculation,
        MoneyStack,
        collection_reform_interval_seconds=0,  # no runner: the test drives the steps up to the "crash"
        collection_reform_lease_seconds=0,
    )
    cases = _cases(first)
    started = reform_call(
        first,
        "StartDirectPayMigration",
        rapi.StartDirectPayMigrationRequest(request_id=rid(), start_date=pb_date(START)),
    )
    migration_id = started.name.removeprefix("directPayMigrations/")
    reform = first.casework._collection_reform.reform
    ids = sorted(c.name.removeprefix("cases/") for c in cases)
    with reform.sessions.begin() as s:
        service.enlist(s, migration_id=migration_id, case_ids=ids, clock=reform.clock)
    # Stopped after the first case's change was reported, and after the second's was applied too.
    assert flows.report_move(reform, migration_id, ids[0], START) == "REPORTED"
    assert flows.report_move(reform, migration_id, ids[1], START) == "REPORTED"
    from cms_casework.changes import flows as change_flows

    with calls.serving(flows.JOB):
        change_flows.apply_pending_for_system(
            sessions=reform.sessions,
            parent=f"cases/{ids[1]}",
            caller=flows.SYSTEM,
            clock=reform.clock,
            downstream=reform.downstream,
        )
    first.casework.stop()

    # A new casework process on the same database, brokers and consumer groups, with its runner on.
    settings = first.casework.settings.model_copy(
        update={"collection_reform_interval_seconds": 0.2}
    )
    restarted = CaseworkService(settings, clock=first.casework.clock)
    channel = grpc.insecure_channel(f"127.0.0.1:{restarted.start()}")
    second = MoneyStack(
        restarted,
        api_grpc.CaseworkServiceStub(channel),
        creds,
        first.services,
        first.bootstrap,
        channel,
    )
    try:
        _taken_up(second, started.name, cases)
    finally:
        channel.close()
        restarted.stop()


def _taken_up(second, name, cases):
    run = _finished(second, "GetDirectPayMigration", name)
    assert (run.cases_total, run.cases_moved, run.cases_failed) == (2, 2, 0), run.failures
    _each_moved_once(second, cases)
    # Without CASEWORK_DIRECT_PAY_MIGRATION_START_DATE the scheduled job moves nothing.
    result = second.run_scheduled(pb_date(START), api.SCHEDULED_JOB_DIRECT_PAY_MIGRATION).results[0]
    assert result.items_processed == 0


def test_a_caseworker_is_refused(stack):
    for method, request in (
        ("StartReformWhatIf", rapi.StartReformWhatIfRequest(request_id=rid())),
        (
            "StartDirectPayMigration",
            rapi.StartDirectPayMigrationRequest(request_id=rid(), start_date=pb_date(START)),
        ),
    ):
        with pytest.raises(grpc.RpcError) as err:
            reform_call(stack, method, request, as_=stack.creds.staff("cw-1", "caseworker"))
        assert err.value.code() == grpc.StatusCode.PERMISSION_DENIED


class _Counted:
    """calculation's stub, counting the calls the what-if makes of each RPC."""

    def __init__(self, stub):
        self._stub = stub
        self.calls: dict[str, int] = {}

    def __getattr__(self, method):
        inner = getattr(self._stub, method)

        def counted(*args, **kwargs):
            self.calls[method] = self.calls.get(method, 0) + 1
            return inner(*args, **kwargs)

        return counted


def test_the_what_if_reads_a_page_at_a_time_through_one_stream_and_can_stop(
    start_service, creds, kafka_bootstrap, calculation, monkeypatch
):
    stack = start_stack(
        start_service,
        creds,
        kafka_bootstrap,
        calculation,
        MoneyStack,
        collection_reform_interval_seconds=0,  # no runner: the test runs the what-ifs
        collection_reform_lease_seconds=0,
    )
    cases = _cases(stack)
    reform = stack.casework._collection_reform.reform
    counted = _Counted(reform.downstream.calculation)
    monkeypatch.setattr(reform.downstream, "calculation", counted)

    def what_if(page_size, stopping=lambda: False):
        monkeypatch.setattr(flows, "PAGE_SIZE", page_size)
        counted.calls.clear()
        started = reform_call(
            stack,
            "StartReformWhatIf",
            rapi.StartReformWhatIfRequest(request_id=rid(), start_date=pb_date(START)),
        )
        what_if_id = started.name.removeprefix("reformWhatIfs/")
        token = bind_caller(flows.SYSTEM)
        try:
            with calls.serving(flows.JOB):
                flows.run_what_if(reform, what_if_id, stopping)
        finally:
            reset_caller(token)
        with reform.sessions() as s:
            return what_if_id, service.get_what_if(s, name=started.name)

    whole_id, whole = what_if(1000)
    assert whole.state == cr.COLLECTION_REFORM_JOB_STATE_SUCCEEDED, whole.error
    assert counted.calls == {"BatchGetCalculations": 1, "BulkCalculate": 1}

    # A case a page: still one stream, one batch read per page, progress saved after each answer.
    paged_id, paged = what_if(1)
    assert counted.calls == {"BatchGetCalculations": 2, "BulkCalculate": 1}
    assert paged.state == cr.COLLECTION_REFORM_JOB_STATE_SUCCEEDED, paged.error
    assert (paged.cases_total, paged.cases_done) == (2, 2)
    assert paged.results == whole.results

    # Stopped (its lease to end) once the first page is read: the first answer is saved, nothing more.
    stopped_id, stopped = what_if(
        1, stopping=lambda: counted.calls.get("BatchGetCalculations", 0) >= 1
    )
    assert stopped.state == cr.COLLECTION_REFORM_JOB_STATE_RUNNING
    assert (stopped.cases_total, stopped.cases_done) == (2, 1)
    assert not stopped.HasField("results")
    token = bind_caller(flows.SYSTEM)
    try:
        with calls.serving(flows.JOB):
            flows.run_what_if(
                reform, stopped_id, lambda: False
            )  # taken up again: from the first case
    finally:
        reset_caller(token)
    with reform.sessions() as s:
        again = service.get_what_if(s, name=f"reformWhatIfs/{stopped_id}")
    assert again.state == cr.COLLECTION_REFORM_JOB_STATE_SUCCEEDED, again.error
    assert again.results == whole.results

    # One case with no decision, one whose decision calculation does not know: each fails alone, and the batch read
    # that NOT_FOUND failed is asked again name by name.
    ids = sorted(c.name.removeprefix("cases/") for c in cases)
    unknown = "calculations/00000000-0000-4000-8000-000000000000"
    with reform.sessions.begin() as s:
        for case_id, decision in ((ids[0], ""), (ids[1], unknown)):
            row, case = case_records.load(s, case_id, lock=True)
            case.latest_calculation.calculation = decision
            case_records.save(row, case, reform.clock)
    _, failing = what_if(1000)
    assert counted.calls == {"BatchGetCalculations": 1, "GetCalculation": 1, "BulkCalculate": 1}
    assert failing.state == cr.COLLECTION_REFORM_JOB_STATE_SUCCEEDED, failing.error
    assert (failing.cases_total, failing.cases_done) == (2, 2)
    assert failing.results.cases_failed == 2
    assert failing.results.cases_moving == 0
    assert failing.results.failures[0] == f"cases/{ids[0]}: no calculation in force"
    assert failing.results.failures[1].startswith(f"cases/{ids[1]}: ")
    assert "NOT_FOUND" in failing.results.failures[1]
