"""The default maintenance decision when the paying parent's current income does not come in the time allowed, and
the calculation that replaces it (or that is made within the time) once it comes.

Each flow gathers what it needs from the other services first, outside any transaction, then records the decision
in one transaction: the case's calculation and payment plan (calculations.flows), the request's new state, its
service request and, for the RPC, the audit entry and the stored response."""

from __future__ import annotations

from sqlalchemy.orm import Session, sessionmaker

from cms.casework.v1 import casework_service_pb2 as api
from cms.casework.v1 import resources_pb2 as pb
from cms_platform.clock import Clock
from cms_platform.convert import day_of, pb_date
from cms_platform.errors import InvalidArgument, ViolationCollector
from cms_platform.idempotency import replay, run_idempotent
from cms_platform.identity import Caller

from ..access import service as access
from ..calculations import flows as recording
from ..calculations import rules as calculation_rules
from ..calculations import service as calculations
from ..case_records import service as case_records
from ..clients import service as clients
from ..downstream import Downstream
from . import rules, service
from .models import CurrentIncomeRequestRecord


def make_default_decision(
    *, sessions: sessionmaker, request_id: str, clock: Clock, downstream: Downstream
) -> None:
    """The time allowed has run out with no current income: a default maintenance decision from the initial
    effective date (s.12(1) of the Child Support Act 1991), at the rule set's default rate for the number of
    qualifying children (a calculation instead, if HMRC holds income by now). A request answered meanwhile, or
    another replica's decision, is left alone."""
    with sessions() as s:
        request = s.get(CurrentIncomeRequestRecord, request_id)
        if request is None or request.state != rules.State.AWAITING.value:
            return
        row = case_records.case_row(s, request.case_id)
        case = case_records.assemble(s, row)
        covered = [case_records.assemble(s, r) for r in calculations.live_cases_of(s, row)[1:]]
    if case.state != pb.CASE_STATE_INITIAL_CALCULATION:
        return  # closed meanwhile, or calculated another way
    effective = day_of(case.initial_effective_date) or clock.today()
    income = calculations.gather_income(case, downstream=downstream)
    # HMRC may hold income by now (a return filed meanwhile): then there is enough to calculate.
    default = rules.needs_current_income(
        hmrc_income_held=income.hmrc.income_data_held,
        current_income_held=bool(case.paying_parent.employment_and_income.current_income_source),
    )
    calc_input = calculation_rules.calculation_input(
        cases=[case, *covered],
        payer=case.paying_parent,
        income=income,
        effective=effective,
        this_case=case,
        default_decision=default,
    )
    calculation = calculations.request_calculation(
        downstream=downstream,
        case=case,
        calc_input=calc_input,
        reason=pb.CALCULATION_REASON_INITIAL,
        request_id=f"default-decision-{request_id}",
    )
    with sessions.begin() as s:
        request = s.get(CurrentIncomeRequestRecord, request_id, with_for_update=True)
        if request is None or request.state != rules.State.AWAITING.value:
            return
        row = case_records.case_row(s, request.case_id, lock=True)
        recording.record_calculation(
            s, row=row, calculation=calculation, reason=pb.CALCULATION_REASON_INITIAL, clock=clock
        )
        if default:
            service.defaulted(
                s, request=request, calculation=calculation.name, effective=effective, clock=clock
            )
        else:
            service.answered(s, request=request, clock=clock)


def _validated(request: api.ProvideCurrentIncomeRequest) -> None:
    v = ViolationCollector()
    if not request.request_id.strip():
        v.add("request_id", "is required")
    if request.source not in pb.IncomeSource.values() or not request.source:
        v.add("source", "choose where the figure comes from")
    if request.gross_weekly_income_pence < 0:
        v.add("gross_weekly_income_pence", "must not be negative")
    v.raise_if_any()


def provide_current_income(
    *,
    sessions: sessionmaker,
    request: api.ProvideCurrentIncomeRequest,
    caller: Caller,
    clock: Clock,
    downstream: Downstream,
) -> pb.Case:
    """ProvideCurrentIncome: the first calculation from the income, or the calculation replacing the default
    decision (effective as rules.calculation_effective_date says), recorded with the paying parent's income."""
    _validated(request)
    with sessions() as s:
        previous = replay(s, request=request, response_type=pb.Case)
        if previous is not None:
            return previous
        row = case_records.visible_case(s, name=request.name, caller=caller)
        case = case_records.assemble(s, row)
        waiting = service.open_request_of(s, row.id)
        if waiting is None:
            raise service.not_waiting(request.name)
        state = rules.State(waiting.state)
        default_effective = waiting.default_effective_date
        covered = [case_records.assemble(s, r) for r in calculations.live_cases_of(s, row)[1:]]
    case_records.ensure_open(case, "a closed case cannot be calculated")
    initial = day_of(case.initial_effective_date)
    if initial is None:
        raise InvalidArgument.field("name", "the case has no initial effective date yet")
    effective = rules.calculation_effective_date(
        state=state,
        initial_effective_date=initial,
        default_effective_date=default_effective,
        received_on=clock.today(),
    )
    held = case.paying_parent.employment_and_income
    held.current_gross_weekly_income_pence = request.gross_weekly_income_pence
    held.current_income_source = request.source
    held.current_income_date.CopyFrom(pb_date(effective))
    reason = (
        pb.CALCULATION_REASON_CORRECTION_REVISION
        if state == rules.State.DEFAULT_DECISION_MADE
        else pb.CALCULATION_REASON_INITIAL
    )
    income = calculations.gather_income(case, downstream=downstream)
    calculation = calculations.request_calculation(
        downstream=downstream,
        case=case,
        calc_input=calculation_rules.calculation_input(
            cases=[case, *covered],
            payer=case.paying_parent,
            income=income,
            effective=effective,
            this_case=case,
        ),
        reason=reason,
        request_id=request.request_id,
    )

    def execute(s: Session) -> pb.Case:
        row = case_records.case_row(s, case.name.removeprefix("cases/"), lock=True)
        waiting = service.open_request_of(s, row.id, lock=True)
        if waiting is None or waiting.state != state.value:
            raise service.not_waiting(request.name)  # answered or defaulted meanwhile: ask again
        payer_row = clients.client_row(s, row.paying_parent_client_id, lock=True)
        payer = clients.document(payer_row)
        payer.employment_and_income.current_gross_weekly_income_pence = (
            request.gross_weekly_income_pence
        )
        payer.employment_and_income.current_income_source = request.source
        payer.employment_and_income.current_income_date.CopyFrom(pb_date(effective))
        payer.employment_and_income.update_time.FromDatetime(clock.now())
        clients.save(payer_row, payer, clock)
        out, _ = recording.record_calculation(
            s, row=row, calculation=calculation, reason=reason, clock=clock
        )
        service.answered(s, request=waiting, clock=clock)
        access.audit(s, clock=clock, caller=caller, case_id=row.id, resource=request.name)
        return out

    return run_idempotent(
        sessions, request=request, response_type=pb.Case, clock=clock, execute=execute
    )
