"""DwpGatewayService, the gRPC API: each RPC checks its request, reaches CIS or Jobcentre Plus through the port
(which may refuse it: maintenance, outage, throttling), runs the domain call — in one transaction with its request
id when it changes something — and answers. CIS enquiries are audited by the CIS person id."""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

import grpc
from google.protobuf.message import Message
from sqlalchemy.orm import Session, sessionmaker

from cms.dwp.v1 import dwp_service_pb2 as api
from cms.dwp.v1 import dwp_service_pb2_grpc as api_grpc
from cms.dwp.v1 import resources_pb2 as pb
from cms_platform.audit import AuditTrail
from cms_platform.clock import Clock
from cms_platform.errors import NotFound, ViolationCollector
from cms_platform.idempotency import run_idempotent
from cms_platform.paging import page

from . import convert
from .audit import match_outcome
from .deductions import convert as deduction_convert
from .deductions import rules as deduction_rules
from .deductions import service as deductions
from .interests import flows as broadcasts
from .interests import service as interests
from .port import CisPort, JobcentrePlusPort

M = TypeVar("M", bound=Message)


class DwpGatewayServicer(api_grpc.DwpGatewayServiceServicer):
    def __init__(
        self,
        *,
        cis: CisPort,
        jcp: JobcentrePlusPort,
        clock: Clock,
        sessions: sessionmaker,
        audit: AuditTrail,
        deduction_parameters: deduction_rules.DeductionParameters = deduction_rules.DEFAULTS,
    ):
        self._cis = cis
        self._jcp = jcp
        self._clock = clock
        self._sessions = sessions
        self._audit = audit
        self._params = deduction_parameters

    def _once(self, request: Message, response_type: type[M], execute: Callable[[Session], M]) -> M:
        """`execute` once per request id (the operation being served), in one transaction with its answer."""
        return run_idempotent(
            self._sessions,
            request=request,
            response_type=response_type,
            clock=self._clock,
            execute=execute,
        )

    # -- deductions from benefit ------------------------------------------------------------------------------------

    def SetUpDeduction(
        self, request: api.SetUpDeductionRequest, context: grpc.ServicerContext
    ) -> pb.Deduction:
        self._jcp.admit()
        return self._once(
            request,
            pb.Deduction,
            lambda s: deductions.set_up(
                s,
                order=deduction_convert.set_up(request),
                cis=self._cis,
                jcp=self._jcp,
                clock=self._clock,
                params=self._params,
            ),
        )

    def ChangeDeductionAmount(
        self, request: api.ChangeDeductionAmountRequest, context: grpc.ServicerContext
    ) -> pb.Deduction:
        self._jcp.admit()
        return self._once(
            request,
            pb.Deduction,
            lambda s: deductions.change_amount(
                s,
                request=request,
                cis=self._cis,
                jcp=self._jcp,
                clock=self._clock,
                params=self._params,
            ),
        )

    def ChangeDeductionType(
        self, request: api.ChangeDeductionTypeRequest, context: grpc.ServicerContext
    ) -> pb.Deduction:
        self._jcp.admit()
        return self._once(
            request,
            pb.Deduction,
            lambda s: deductions.change_type(
                s,
                request=request,
                cis=self._cis,
                jcp=self._jcp,
                clock=self._clock,
                params=self._params,
            ),
        )

    def CancelDeduction(
        self, request: api.CancelDeductionRequest, context: grpc.ServicerContext
    ) -> pb.Deduction:
        self._jcp.admit()
        return self._once(
            request,
            pb.Deduction,
            lambda s: deductions.cancel(s, request=request, clock=self._clock),
        )

    def RecordNonAutomatedDeductionDecision(
        self,
        request: api.RecordNonAutomatedDeductionDecisionRequest,
        context: grpc.ServicerContext,
    ) -> pb.Deduction:
        self._jcp.admit()
        return self._once(
            request,
            pb.Deduction,
            lambda s: deductions.record_clerical(s, request=request, clock=self._clock),
        )

    def GetDeductionRequestForm(
        self, request: api.GetDeductionRequestFormRequest, context: grpc.ServicerContext
    ) -> pb.DeductionRequestForm:
        self._jcp.admit()
        with self._sessions() as s:
            return deductions.request_form(
                s,
                deduction_id=request.deduction_id,
                instruction_id=request.instruction_id,
                cis=self._cis,
                clock=self._clock,
            )

    def GetDeduction(
        self, request: api.GetDeductionRequest, context: grpc.ServicerContext
    ) -> pb.Deduction:
        with self._sessions() as s:
            return deductions.get(s, deduction_id=request.deduction_id)

    def ListDeductions(
        self, request: api.ListDeductionsRequest, context: grpc.ServicerContext
    ) -> api.ListDeductionsResponse:
        with self._sessions() as s:
            found, next_page_token = deductions.list_deductions(
                s,
                case_id=request.case_id,
                paying_parent_nino=request.paying_parent_nino,
                states=list(request.states),
                page_size=request.page_size,
                page_token=request.page_token,
            )
        return api.ListDeductionsResponse(deductions=found, next_page_token=next_page_token)

    # -- business interests -----------------------------------------------------------------------------------------

    def RegisterInterest(
        self, request: api.RegisterInterestRequest, context: grpc.ServicerContext
    ) -> pb.BusinessInterest:
        v = ViolationCollector()
        convert.check_nino(request.nino, "nino", v)
        v.raise_if_any()
        self._cis.admit()  # only a well-formed request reaches CIS
        return self._once(
            request,
            pb.BusinessInterest,
            lambda s: interests.register(
                s,
                cis=self._cis,
                nino=request.nino,
                case_id=request.case_id,
                role=request.role,
                businesses=list(request.businesses),
                clock=self._clock,
            ),
        )

    def DeregisterInterest(
        self, request: api.DeregisterInterestRequest, context: grpc.ServicerContext
    ) -> pb.BusinessInterest:
        self._cis.admit()
        return self._once(
            request,
            pb.BusinessInterest,
            lambda s: interests.deregister(s, interest_id=request.interest_id, clock=self._clock),
        )

    def SendPersonUpdate(
        self, request: api.SendPersonUpdateRequest, context: grpc.ServicerContext
    ) -> api.SendPersonUpdateResponse:
        v = ViolationCollector()
        convert.check_nino(request.nino, "nino", v)
        v.raise_if_any()
        self._cis.admit()  # only a well-formed request reaches CIS
        return self._once(
            request,
            api.SendPersonUpdateResponse,
            lambda s: broadcasts.send_update(s, request=request, cis=self._cis, clock=self._clock),
        )

    def ListInterests(
        self, request: api.ListInterestsRequest, context: grpc.ServicerContext
    ) -> api.ListInterestsResponse:
        with self._sessions() as s:
            found, next_page_token = interests.list_interests(
                s,
                nino=request.nino,
                case_id=request.case_id,
                include_deregistered=request.include_deregistered,
                page_size=request.page_size,
                page_token=request.page_token,
            )
        return api.ListInterestsResponse(interests=found, next_page_token=next_page_token)

    # -- CIS enquiries ----------------------------------------------------------------------------------------------

    def VerifyNino(
        self, request: api.VerifyNinoRequest, context: grpc.ServicerContext
    ) -> api.VerifyNinoResponse:
        query = convert.nino_query(request)
        self._cis.admit()  # only a well-formed request reaches CIS
        found = self._cis.verify_nino(query)
        out = convert.nino_verification(found)
        self._audit.record(found.person_id, request.context, match_outcome(out.match))
        return out

    def VerifyChildReferenceNumber(
        self, request: api.VerifyChildReferenceNumberRequest, context: grpc.ServicerContext
    ) -> api.VerifyChildReferenceNumberResponse:
        query = convert.child_query(request)
        self._cis.admit()  # only a well-formed request reaches CIS
        found = self._cis.verify_child(query)
        out = convert.child_verification(found)
        self._audit.record(found.person_id, request.context, match_outcome(out.match))
        return out

    def GetPersonRecord(
        self, request: api.GetPersonRecordRequest, context: grpc.ServicerContext
    ) -> pb.PersonRecord:
        convert.check_person_record_request(request)
        self._cis.admit()  # only a well-formed request reaches CIS
        if request.nino:
            person = self._cis.person(request.nino)
            if person is None:
                raise NotFound("person", "people/unknown", "CIS holds no record for this NINO")
            self._audit.record(person.person_id, request.context, "FOUND")
            return convert.person_record(person)
        found = self._cis.child(request.child_reference_number)
        if found is None:
            raise NotFound(
                "person", "people/unknown", "CIS holds no record for this Child Reference Number"
            )
        return convert.child_record(*found)

    def ListBenefitAwards(
        self, request: api.ListBenefitAwardsRequest, context: grpc.ServicerContext
    ) -> api.ListBenefitAwardsResponse:
        query = convert.award_query(request)
        self._cis.admit()  # only a well-formed request reaches CIS
        size, offset = page(request.page_size, request.page_token, maximum=200)
        found = self._cis.awards(query)
        if found is None:
            raise NotFound("person", "people/unknown", "CIS holds no record for this NINO")
        self._audit.record(found.person_id, request.context, "FOUND")
        return convert.benefit_awards(
            found.awards,
            nino=query.nino,
            on=self._clock.today(),
            offset=offset,
            size=size,
            record_updated_on=found.record_updated_on,
        )

    def ViewBenefitInfo(
        self, request: api.ViewBenefitInfoRequest, context: grpc.ServicerContext
    ) -> api.BenefitInfo:
        on = convert.view_on(request, self._clock.today())
        self._cis.admit()  # only a well-formed request reaches CIS
        person = self._cis.person(request.nino)
        if person is None:
            raise NotFound("person", "people/unknown", "CIS holds no record for this NINO")
        live = [a for a in person.benefit_awards if a.live_on(on)]
        self._audit.record(person.person_id, request.context, "FOUND")
        return convert.benefit_info(person, on, live)
