"""Enforcement actions that reach the CRA (docs/domain/money.md, "Enforcement"): case surveillance started and stopped
with enforcement (cases.service), and the Financial Data Enforcement a step obtains first, with the legal basis it is
asked under. The request is checked before the agency is asked, and the change is recorded once per request id."""

from __future__ import annotations

from sqlalchemy.orm import sessionmaker

from cms.casework.v1 import enforcement_pb2 as epb
from cms.casework.v1 import enforcement_service_pb2 as api
from cms.casework.v1 import resources_pb2 as pb
from cms.cra.v1 import cra_service_pb2 as cra_api
from cms.cra.v1 import resources_pb2 as cra_pb
from cms_platform.clock import Clock
from cms_platform.idempotency import replay, run_idempotent
from cms_platform.identity import Caller

from ..cases import service as cases
from ..downstream import Downstream, call
from . import rules, service

_PURPOSE = {
    rules.ENFORCEMENT: cra_pb.SEARCH_PURPOSE_ENFORCEMENT,
    rules.DEDUCTION_ORDER: cra_pb.SEARCH_PURPOSE_DEDUCTION_ORDER,
}


def open_case(
    *,
    sessions: sessionmaker,
    request: api.OpenEnforcementCaseRequest,
    caller: Caller,
    clock: Clock,
    downstream: Downstream,
) -> epb.EnforcementCase:
    """OpenEnforcementCase: the agency starts surveillance of the paying parent (an open case only), then the
    enforcement case is recorded with it."""
    surveil = False
    with sessions() as s:
        if replay(s, request=request, response_type=epb.EnforcementCase) is None:
            _, case, _ = service.check_open(s, request=request, caller=caller, clock=clock)
            surveil = case.state != pb.CASE_STATE_CLOSED
            if surveil:
                cases.surveil_with_agency(
                    case,
                    request=service.surveillance_request(
                        case.name, request_id=request.request_id, active=True, today=clock.today()
                    ),
                    downstream=downstream,
                )
    return run_idempotent(
        sessions,
        request=request,
        response_type=epb.EnforcementCase,
        clock=clock,
        execute=lambda s: service.open_case(
            s, request=request, caller=caller, clock=clock, surveil=surveil
        ),
    )


def close_case(
    *,
    sessions: sessionmaker,
    request: api.CloseEnforcementCaseRequest,
    caller: Caller,
    clock: Clock,
    downstream: Downstream,
) -> epb.EnforcementCase:
    """CloseEnforcementCase: the agency stops the surveillance enforcement started, then the case closes."""
    with sessions() as s:
        if replay(s, request=request, response_type=epb.EnforcementCase) is None:
            _, case, row = service.check_close(s, request=request, caller=caller)
            if epb.EnforcementCase.FromString(row.document).surveillance_active:
                cases.surveil_with_agency(
                    case,
                    request=service.surveillance_request(
                        case.name, request_id=request.request_id, active=False, today=clock.today()
                    ),
                    downstream=downstream,
                )
    return run_idempotent(
        sessions,
        request=request,
        response_type=epb.EnforcementCase,
        clock=clock,
        execute=lambda s: service.close_case(s, request=request, caller=caller, clock=clock),
    )


def financial_data(
    case: pb.Case, *, purpose: str, downstream: Downstream
) -> epb.EnforcementFinancialData:
    """The CRA's Financial Data Enforcement for the paying parent, asked under the step's legal basis."""
    basis = cra_pb.LegalBasis(
        case_reference=case.name.removeprefix("cases/"), purpose=_PURPOSE[purpose]
    )
    found = call(
        downstream.cra.GetFinancialDataEnforcement,
        cra_api.GetFinancialDataEnforcementRequest(
            legal_basis=basis, person=case.paying_parent.identity
        ),
        what="cra-gateway",
    )
    return epb.EnforcementFinancialData(
        purpose=purpose,
        case_reference=basis.case_reference,
        search_reference=found.search_reference,
        account_leads=len(found.account_leads),
        employment_leads=len(found.employment_leads),
        property_leads=len(found.property_leads),
        cautions=list(found.cautions)[:50],
    )


def take_action(
    *,
    sessions: sessionmaker,
    request: api.TakeEnforcementActionRequest,
    caller: Caller,
    clock: Clock,
    downstream: Downstream,
) -> epb.EnforcementAction:
    """TakeEnforcementAction: a step that needs financial data obtains it once its entry conditions hold; the step
    is then taken with the data recorded on it."""
    data: epb.EnforcementFinancialData | None = None
    with sessions() as s:
        if replay(s, request=request, response_type=epb.EnforcementAction) is None:
            _, case, _, step = service.check_action(s, request=request, caller=caller, clock=clock)
            if step.financial_data:
                data = financial_data(case, purpose=step.financial_data, downstream=downstream)
    return run_idempotent(
        sessions,
        request=request,
        response_type=epb.EnforcementAction,
        clock=clock,
        execute=lambda s: service.take_action(
            s, request=request, caller=caller, clock=clock, financial_data=data
        ),
    )
