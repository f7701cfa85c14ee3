"""HmrcGatewayService, the gRPC API over the HMRC port: each RPC checks its request (every bad field named), asks
the port at the clock's date, audits the enquiry and answers. HMRC's platform admits or refuses each enquiry
inside the port, so a malformed request is INVALID_ARGUMENT before it could be throttled. Interests and the
monthly Child Benefit check keep their state and rules in their own packages."""

from __future__ import annotations

from collections.abc import Iterator

import grpc
from google.rpc import status_pb2
from sqlalchemy.orm import Session, sessionmaker

from cms.hmrc.v1 import hmrc_service_pb2 as api
from cms.hmrc.v1 import hmrc_service_pb2_grpc as api_grpc
from cms.hmrc.v1 import resources_pb2 as pb
from cms_platform.audit import AuditTrail
from cms_platform.clock import Clock
from cms_platform.errors import DomainError, ViolationCollector
from cms_platform.grpc_errors import error_domain, to_status
from cms_platform.idempotency import run_idempotent

from . import convert
from .child_benefit import convert as child_benefit_convert
from .child_benefit import service as child_benefit
from .interests import convert as interests_convert
from .interests import flows as interest_flows
from .interests import service as interests
from .port import HmrcFeeds, HmrcPort

ERROR_DOMAIN = error_domain("hmrc-gateway")


class HmrcGatewayServicer(api_grpc.HmrcGatewayServiceServicer):
    def __init__(
        self,
        *,
        hmrc: HmrcPort,
        feeds: HmrcFeeds,
        sessions: sessionmaker,
        clock: Clock,
        audit: AuditTrail,
    ):
        self._hmrc = hmrc
        self._feeds = feeds
        self._sessions = sessions
        self._clock = clock
        self._audit = audit

    # -- Child Benefit ---------------------------------------------------------------------------------------------

    def VerifyReceivingParentReceivingChildBenefit(
        self,
        request: api.VerifyReceivingParentReceivingChildBenefitRequest,
        context: grpc.ServicerContext,
    ) -> api.VerifyReceivingParentReceivingChildBenefitResponse:
        v = ViolationCollector()
        children = convert.children_from_request(
            request.qualifying_children, "qualifying_children", v
        )
        claimant = convert.person_to_match(request.receiving_parent, "receiving_parent", v)
        v.raise_if_any()
        assert claimant is not None
        answer = self._hmrc.child_benefit(claimant, children, self._clock.today())
        self._audit.record(claimant.nino, request.context, answer.match.outcome.value)
        return convert.receiving_child_benefit_response(answer)

    def VerifyChildBenefitInPaymentForOtherChildren(
        self,
        request: api.VerifyChildBenefitInPaymentForOtherChildrenRequest,
        context: grpc.ServicerContext,
    ) -> api.VerifyChildBenefitInPaymentForOtherChildrenResponse:
        v = ViolationCollector()
        children = convert.children_from_request([c.child for c in request.children], "children", v)
        convert.check_other_child_categories(request, v)
        claimant = convert.person_to_match(request.claimant, "claimant", v)
        v.raise_if_any()
        assert claimant is not None
        answer = self._hmrc.other_children_benefit(claimant, children, self._clock.today())
        self._audit.record(claimant.nino, request.context, answer.match.outcome.value)
        return convert.other_children_response(answer)

    def RequestChildBenefitEndDate(
        self, request: api.RequestChildBenefitEndDateRequest, context: grpc.ServicerContext
    ) -> api.RequestChildBenefitEndDateResponse:
        v = ViolationCollector()
        child = convert.child_from_request(request.child, "child", v)
        claimant = convert.person_to_match(request.claimant, "claimant", v)
        v.raise_if_any()
        assert claimant is not None and child is not None
        answer = self._hmrc.child_benefit(claimant, [child], self._clock.today())
        self._audit.record(claimant.nino, request.context, answer.match.outcome.value)
        return convert.end_date_response(answer)

    # -- employment ------------------------------------------------------------------------------------------------

    def GetPayingParentEmploymentStatus(
        self, request: api.GetPayingParentEmploymentStatusRequest, context: grpc.ServicerContext
    ) -> api.GetPayingParentEmploymentStatusResponse:
        person = convert.person(request.person)
        answer = self._hmrc.employment_status(person, self._clock.today())
        self._audit.record(person.nino, request.context, answer.match.outcome.value)
        return convert.employment_status_response(answer)

    def LocatePayingParentEmployerRecords(
        self, request: api.LocatePayingParentEmployerRecordsRequest, context: grpc.ServicerContext
    ) -> api.LocatePayingParentEmployerRecordsResponse:
        person = convert.person(request.person)
        answer = self._hmrc.employer_records(person, self._clock.today())
        self._audit.record(person.nino, request.context, answer.match.outcome.value)
        return convert.employer_records_response(answer)

    def GetEmploymentDetailsForDeductionFromEarnings(
        self,
        request: api.GetEmploymentDetailsForDeductionFromEarningsRequest,
        context: grpc.ServicerContext,
    ) -> api.GetEmploymentDetailsForDeductionFromEarningsResponse:
        person = convert.person(request.person)
        answer = self._hmrc.live_employments(person, self._clock.today())
        self._audit.record(person.nino, request.context, answer.match.outcome.value)
        return convert.deduction_from_earnings_response(answer)

    # -- income ----------------------------------------------------------------------------------------------------

    def GetSummaryOfEarnedIncome(
        self, request: api.GetSummaryOfEarnedIncomeRequest, context: grpc.ServicerContext
    ) -> api.GetSummaryOfEarnedIncomeResponse:
        person = convert.person(request.person)
        answer = self._hmrc.earned_income(person, self._clock.today())
        self._audit.record(person.nino, request.context, answer.match.outcome.value)
        return convert.earned_income_response(answer)

    def GetBreakdownOfIncomeSummary(
        self, request: api.GetBreakdownOfIncomeSummaryRequest, context: grpc.ServicerContext
    ) -> api.GetBreakdownOfIncomeSummaryResponse:
        person = convert.person(request.person)
        today = self._clock.today()
        tax_year = convert.tax_year(request.tax_year, today)
        answer = self._hmrc.earned_income(person, today, tax_year)
        self._audit.record(person.nino, request.context, answer.match.outcome.value)
        return convert.breakdown_response(answer, tax_year)

    def GetUnearnedIncome(
        self, request: api.GetUnearnedIncomeRequest, context: grpc.ServicerContext
    ) -> api.GetUnearnedIncomeResponse:
        person = convert.person(request.person)
        today = self._clock.today()
        tax_year = convert.tax_year(request.tax_year, today)
        answer = self._hmrc.unearned_income(person, today, tax_year)
        self._audit.record(person.nino, request.context, answer.match.outcome.value)
        return convert.unearned_income_response(answer)

    def GetRtiCurrentIncome(
        self, request: api.GetRtiCurrentIncomeRequest, context: grpc.ServicerContext
    ) -> api.GetRtiCurrentIncomeResponse:
        v = ViolationCollector()
        person = convert.person_to_match(request.person, "person", v)
        start, end = convert.rti_period(request, self._clock.today(), v)
        v.raise_if_any()
        assert person is not None
        answer = self._hmrc.rti_income(person, start, end)
        self._audit.record(person.nino, request.context, answer.match.outcome.value)
        return convert.rti_income_response(answer)

    # -- interests -------------------------------------------------------------------------------------------------

    def RegisterInterest(
        self, request: api.RegisterInterestRequest, context: grpc.ServicerContext
    ) -> api.RegisterInterestResponse:
        person = convert.person(request.person)

        def register(s: Session) -> api.RegisterInterestResponse:
            match, interest = interest_flows.register(
                s,
                wanted=interests_convert.interest_from_request(request),
                person=person,
                hmrc=self._hmrc,
                feeds=self._feeds,
                clock=self._clock,
            )
            return convert.register_interest_response(match, interest)

        response = run_idempotent(
            self._sessions,
            request=request,
            response_type=api.RegisterInterestResponse,
            clock=self._clock,
            execute=register,
        )
        # Audited with no service request (docs/domain/external-systems.md §1.8).
        self._audit.records(
            [(person.nino, request.case_id, "", convert.outcome_name(response.match.outcome))]
        )
        return response

    def RemoveInterest(
        self, request: api.RemoveInterestRequest, context: grpc.ServicerContext
    ) -> pb.Interest:
        return run_idempotent(
            self._sessions,
            request=request,
            response_type=pb.Interest,
            clock=self._clock,
            execute=lambda s: interests.remove(
                s, interest_id=request.interest_id, clock=self._clock
            ),
        )

    def ListInterests(
        self, request: api.ListInterestsRequest, context: grpc.ServicerContext
    ) -> api.ListInterestsResponse:
        with self._sessions() as s:
            found, next_page_token = interests.list_interests(
                s,
                case_id=request.case_id,
                nino=request.nino,
                interest_type=request.interest_type,
                show_removed=request.show_removed,
                page_size=request.page_size,
                page_token=request.page_token,
            )
        return api.ListInterestsResponse(interests=found, next_page_token=next_page_token)

    # -- the monthly Child Benefit check ----------------------------------------------------------------------------

    def RunMonthlyChildBenefitCheck(
        self,
        request_iterator: Iterator[api.RunMonthlyChildBenefitCheckRequest],
        context: grpc.ServicerContext,
    ) -> Iterator[api.RunMonthlyChildBenefitCheckResponse]:
        on = self._clock.today()
        for request in request_iterator:
            child_benefit_convert.check_message(request)
            items = [child_benefit_convert.child_to_check(item) for item in request.items]
            results = child_benefit.check_children(self._hmrc, items=items, on=on)
            self._audit.records(child_benefit_convert.audit_entries(request.run_id, items, results))
            yield child_benefit_convert.check_response(request.items, results, error_status=_status)


def _status(error: DomainError) -> status_pb2.Status:
    """A child's own error, as the status the stream carries for it."""
    return to_status(error, domain=ERROR_DOMAIN)
