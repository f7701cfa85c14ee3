"""The gRPC API: request-id replay, then the domain call in one transaction, proto in and out. Who may call each RPC
is its access option in the contract, enforced by the platform before anything here runs; a call it refuses, and a
data-level refusal here (a case the caller may not see, a client acting on someone else's record), is audited on
the case. The operation (for request-id replay and the audit trail) is the one being served (cms_platform.calls).

Calls to other services (the application checks, calculations, the agency) happen outside any transaction: those
flows gather, then record. A refused call on a case is audited in its own transaction, since the call's own rolls
back."""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

import grpc
from google.protobuf.message import Message
from sqlalchemy.orm import sessionmaker

from cms.casework.v1 import casework_service_pb2 as api
from cms.casework.v1 import casework_service_pb2_grpc as api_grpc
from cms.casework.v1 import resources_pb2 as pb
from cms_platform.clock import Clock
from cms_platform.errors import InvalidArgument

from .access import service as access
from .applications import flows as applications
from .cases import flows as case_flows
from .cases import service as cases
from .changes import flows as change_flows
from .changes import service as changes
from .clients import service as clients
from .correspondence import service as correspondence
from .default_decisions import flows as default_decisions
from .downstream import Downstream
from .liability import flows as liability
from .payment_plans import service as payment_plans
from .reconsiderations import flows as reconsideration_flows
from .reconsiderations import service as reconsiderations
from .scheduler.service import Scheduler
from .service_requests import service as srs
from .servicing import Servicing
from .third_parties import service as third_parties
from .variations import flows as variation_flows
from .variations import service as variations

R = TypeVar("R")
M = TypeVar("M", bound=Message)
Ctx = grpc.ServicerContext


class CaseworkServicer(Servicing, api_grpc.CaseworkServiceServicer):
    def __init__(
        self,
        *,
        sessions: sessionmaker,
        clock: Clock,
        downstream: Downstream,
        scheduler: Scheduler | None = None,
    ):
        self._sessions, self._clock, self._downstream = sessions, clock, downstream
        self._scheduler = scheduler or Scheduler(
            sessions=sessions, clock=clock, downstream=downstream
        )

    def audits_caseless(self, resource: str) -> bool:
        # A case-less service request's refusal is audited on no case, as its reads are.
        return resource.startswith(f"{srs.CASELESS}/")

    # -- cases ---------------------------------------------------------------------------------------------------

    def CreateCase(self, request: api.CreateCaseRequest, context: Ctx) -> pb.Case:
        return self._change(
            request,
            pb.Case,
            lambda s, c: cases.create(s, request=request, caller=c, clock=self._clock),
        )

    def GetCase(self, request: api.GetCaseRequest, context: Ctx) -> pb.Case:
        return self._read(
            request,
            lambda s, c: cases.get(s, name=request.name, caller=c, clock=self._clock),
        )

    def ListCases(self, request: api.ListCasesRequest, context: Ctx) -> api.ListCasesResponse:
        return self._read(
            request,
            lambda s, c: cases.list_cases(s, request=request, caller=c, clock=self._clock),
        )

    def VerifyApplication(self, request: api.VerifyApplicationRequest, context: Ctx) -> pb.Case:
        return self._guard(
            request,
            lambda c: applications.verify(
                sessions=self._sessions,
                request=request,
                caller=c,
                clock=self._clock,
                downstream=self._downstream,
            ),
        )

    def CalculateCase(self, request: api.CalculateCaseRequest, context: Ctx) -> pb.Case:
        return self._guard(
            request,
            lambda c: applications.calculate(
                sessions=self._sessions,
                request=request,
                caller=c,
                clock=self._clock,
                downstream=self._downstream,
            ),
        )

    def CloseCase(self, request: api.CloseCaseRequest, context: Ctx) -> pb.Case:
        return self._guard(
            request,
            lambda c: case_flows.close_case(
                sessions=self._sessions,
                request=request,
                caller=c,
                clock=self._clock,
                downstream=self._downstream,
            ),
        )

    def SetPersonalInterest(self, request: api.SetPersonalInterestRequest, context: Ctx) -> pb.Case:
        return self._change(
            request,
            pb.Case,
            lambda s, c: case_flows.set_personal_interest(
                s, request=request, caller=c, clock=self._clock
            ),
        )

    def SetCaseSurveillance(self, request: api.SetCaseSurveillanceRequest, context: Ctx) -> pb.Case:
        return self._guard(
            request,
            lambda c: case_flows.set_surveillance(
                sessions=self._sessions,
                request=request,
                caller=c,
                clock=self._clock,
                downstream=self._downstream,
            ),
        )

    # -- clients, safeguards, third parties ----------------------------------------------------------------------

    def GetClient(self, request: api.GetClientRequest, context: Ctx) -> pb.Client:
        return self._read(request, lambda s, c: clients.get(s, name=request.name, caller=c))

    def RecordUnacceptableBehaviour(
        self, request: api.RecordUnacceptableBehaviourRequest, context: Ctx
    ) -> pb.UnacceptableBehaviourRecord:
        return self._change(
            request,
            pb.UnacceptableBehaviourRecord,
            lambda s, c: clients.record_unacceptable_behaviour(
                s, request=request, caller=c, clock=self._clock
            ),
        )

    def ListUnacceptableBehaviourRecords(
        self, request: api.ListUnacceptableBehaviourRecordsRequest, context: Ctx
    ) -> api.ListUnacceptableBehaviourRecordsResponse:
        return self._read(
            request,
            lambda s, c: clients.list_unacceptable_behaviour(s, request=request),
        )

    def ReviewPotentiallyViolentStatus(
        self, request: api.ReviewPotentiallyViolentStatusRequest, context: Ctx
    ) -> pb.Client:
        return self._change(
            request,
            pb.Client,
            lambda s, c: clients.review_potentially_violent_status(
                s, request=request, clock=self._clock
            ),
        )

    def CreateThirdParty(self, request: api.CreateThirdPartyRequest, context: Ctx) -> pb.ThirdParty:
        return self._change(
            request,
            pb.ThirdParty,
            lambda s, c: third_parties.create_third_party(s, request=request, clock=self._clock),
        )

    def GetThirdParty(self, request: api.GetThirdPartyRequest, context: Ctx) -> pb.ThirdParty:
        return self._read(
            request,
            lambda s, c: third_parties.get_third_party(s, name=request.name),
        )

    def ListThirdParties(
        self, request: api.ListThirdPartiesRequest, context: Ctx
    ) -> api.ListThirdPartiesResponse:
        return self._read(
            request,
            lambda s, c: third_parties.list_third_parties(s, request=request),
        )

    def UpdateThirdParty(self, request: api.UpdateThirdPartyRequest, context: Ctx) -> pb.ThirdParty:
        return self._change(
            request,
            pb.ThirdParty,
            lambda s, c: third_parties.update_third_party(s, request=request, clock=self._clock),
        )

    # -- service requests ----------------------------------------------------------------------------------------

    def CreateServiceRequest(
        self, request: api.CreateServiceRequestRequest, context: Ctx
    ) -> pb.ServiceRequest:
        return self._change(
            request,
            pb.ServiceRequest,
            lambda s, c: srs.create(s, request=request, caller=c, clock=self._clock),
        )

    def GetServiceRequest(
        self, request: api.GetServiceRequestRequest, context: Ctx
    ) -> pb.ServiceRequest:
        return self._read(
            request,
            lambda s, c: srs.get(s, name=request.name, caller=c, clock=self._clock),
        )

    def ListServiceRequests(
        self, request: api.ListServiceRequestsRequest, context: Ctx
    ) -> api.ListServiceRequestsResponse:
        return self._read(
            request,
            lambda s, c: srs.list_srs(s, request=request, caller=c, clock=self._clock),
        )

    def UpdateServiceRequestStatus(
        self, request: api.UpdateServiceRequestStatusRequest, context: Ctx
    ) -> pb.ServiceRequest:
        return self._change(
            request,
            pb.ServiceRequest,
            lambda s, c: change_flows.update_service_request_status(
                s, request=request, caller=c, clock=self._clock
            ),
        )

    def AssignServiceRequest(
        self, request: api.AssignServiceRequestRequest, context: Ctx
    ) -> pb.ServiceRequest:
        return self._change(
            request,
            pb.ServiceRequest,
            lambda s, c: srs.assign(s, request=request, caller=c, clock=self._clock),
        )

    # -- changes of circumstances --------------------------------------------------------------------------------

    def ReportChangeOfCircumstances(
        self, request: api.ReportChangeOfCircumstancesRequest, context: Ctx
    ) -> pb.ChangeOfCircumstances:
        if request.change_of_circumstances.type == pb.CHANGE_OF_CIRCUMSTANCES_TYPE_VARIATION_AGREED:
            # Only a decision on a variation application raises it (DecideVariation).
            raise InvalidArgument.field(
                "change_of_circumstances.type",
                "a variation is applied for with ApplyForVariation and reaches the case when it is agreed",
            )
        return self._change(
            request,
            pb.ChangeOfCircumstances,
            lambda s, c: changes.report(s, request=request, caller=c, clock=self._clock),
        )

    def GetChangeOfCircumstances(
        self, request: api.GetChangeOfCircumstancesRequest, context: Ctx
    ) -> pb.ChangeOfCircumstances:
        return self._read(
            request,
            lambda s, c: changes.get(s, name=request.name, caller=c, clock=self._clock),
        )

    def ListChangesOfCircumstances(
        self, request: api.ListChangesOfCircumstancesRequest, context: Ctx
    ) -> api.ListChangesOfCircumstancesResponse:
        return self._read(
            request,
            lambda s, c: changes.list_changes(s, request=request, caller=c, clock=self._clock),
        )

    def VerifyChangeOfCircumstances(
        self, request: api.VerifyChangeOfCircumstancesRequest, context: Ctx
    ) -> pb.ChangeOfCircumstances:
        return self._change(
            request,
            pb.ChangeOfCircumstances,
            lambda s, c: changes.verify(s, request=request, caller=c, clock=self._clock),
        )

    def AuthoriseChangeOfCircumstances(
        self, request: api.AuthoriseChangeOfCircumstancesRequest, context: Ctx
    ) -> pb.ChangeOfCircumstances:
        return self._change(
            request,
            pb.ChangeOfCircumstances,
            lambda s, c: changes.authorise(s, request=request, caller=c, clock=self._clock),
        )

    def ApplyChangesOfCircumstances(
        self, request: api.ApplyChangesOfCircumstancesRequest, context: Ctx
    ) -> api.ApplyChangesOfCircumstancesResponse:
        return self._guard(
            request,
            lambda c: change_flows.apply_pending(
                sessions=self._sessions,
                request=request,
                caller=c,
                clock=self._clock,
                downstream=self._downstream,
            ),
        )

    # -- variations -----------------------------------------------------------------------------------------------

    def ApplyForVariation(
        self, request: api.ApplyForVariationRequest, context: Ctx
    ) -> pb.Variation:
        return self._guard(
            request,
            lambda c: variation_flows.apply_for(
                sessions=self._sessions,
                request=request,
                caller=c,
                clock=self._clock,
                downstream=self._downstream,
            ),
        )

    def GetVariation(self, request: api.GetVariationRequest, context: Ctx) -> pb.Variation:
        return self._read(
            request,
            lambda s, c: variations.get(s, name=request.name, caller=c, clock=self._clock),
        )

    def ListVariations(
        self, request: api.ListVariationsRequest, context: Ctx
    ) -> api.ListVariationsResponse:
        return self._read(
            request,
            lambda s, c: variations.list_variations(
                s, request=request, caller=c, clock=self._clock
            ),
        )

    def RecordVariationEvidence(
        self, request: api.RecordVariationEvidenceRequest, context: Ctx
    ) -> pb.Variation:
        return self._change(
            request,
            pb.Variation,
            lambda s, c: variations.record_evidence(
                s, request=request, caller=c, clock=self._clock
            ),
        )

    def RecordVariationRepresentations(
        self, request: api.RecordVariationRepresentationsRequest, context: Ctx
    ) -> pb.Variation:
        return self._change(
            request,
            pb.Variation,
            lambda s, c: variations.record_representations(
                s, request=request, caller=c, clock=self._clock
            ),
        )

    def DecideVariation(self, request: api.DecideVariationRequest, context: Ctx) -> pb.Variation:
        return self._guard(
            request,
            lambda c: variation_flows.decide(
                sessions=self._sessions,
                request=request,
                caller=c,
                clock=self._clock,
                downstream=self._downstream,
            ),
        )

    # -- payment plans, correspondence, audit --------------------------------------------------------------------

    def GetPaymentPlan(self, request: api.GetPaymentPlanRequest, context: Ctx) -> pb.PaymentPlan:
        return self._read(
            request,
            lambda s, c: payment_plans.get(s, name=request.name, caller=c, clock=self._clock),
        )

    def ListPaymentPlans(
        self, request: api.ListPaymentPlansRequest, context: Ctx
    ) -> api.ListPaymentPlansResponse:
        plans, token = self._case_page(request, items=payment_plans.list_for_case, maximum=200)
        return api.ListPaymentPlansResponse(payment_plans=plans, next_page_token=token)

    def ListCorrespondence(
        self, request: api.ListCorrespondenceRequest, context: Ctx
    ) -> api.ListCorrespondenceResponse:
        items, token = self._case_page(request, items=correspondence.list_for_case, maximum=200)
        return api.ListCorrespondenceResponse(correspondence=items, next_page_token=token)

    def ListAuditEntries(
        self, request: api.ListAuditEntriesRequest, context: Ctx
    ) -> api.ListAuditEntriesResponse:
        # Reading the audit trail is not itself audited.
        entries, token = self._case_page(request, items=access.entries, maximum=500, audited=False)
        return api.ListAuditEntriesResponse(audit_entries=entries, next_page_token=token)

    # -- scheduler -----------------------------------------------------------------------------------------------

    def RunScheduledWork(
        self, request: api.RunScheduledWorkRequest, context: Ctx
    ) -> api.RunScheduledWorkResponse:
        return self._guard(
            request,
            lambda c: self._scheduler.run_request(request),
        )

    # -- disputes: mandatory reconsideration, appeal and revision ---------------------------------------------------

    def _flow(self, request: Message, flow: Callable[..., R]) -> R:
        """A dispute flow that looks a decision up or revises it (calls out of any transaction)."""
        return self._guard(
            request,
            lambda c: flow(
                sessions=self._sessions,
                request=request,
                caller=c,
                clock=self._clock,
                downstream=self._downstream,
            ),
        )

    def RequestMandatoryReconsideration(
        self, request: api.RequestMandatoryReconsiderationRequest, context: Ctx
    ) -> pb.MandatoryReconsideration:
        return self._flow(request, reconsideration_flows.request)

    def GetMandatoryReconsideration(
        self, request: api.GetMandatoryReconsiderationRequest, context: Ctx
    ) -> pb.MandatoryReconsideration:
        return self._read(
            request,
            lambda s, c: reconsiderations.get(s, name=request.name, caller=c, clock=self._clock),
        )

    def ListMandatoryReconsiderations(
        self, request: api.ListMandatoryReconsiderationsRequest, context: Ctx
    ) -> api.ListMandatoryReconsiderationsResponse:
        return self._read(
            request,
            lambda s, c: reconsiderations.list_for_case(
                s, request=request, caller=c, clock=self._clock
            ),
        )

    def RecordReconsiderationRepresentations(
        self, request: api.RecordReconsiderationRepresentationsRequest, context: Ctx
    ) -> pb.MandatoryReconsideration:
        return self._change(
            request,
            pb.MandatoryReconsideration,
            lambda s, c: reconsiderations.record_representations(
                s, request=request, caller=c, clock=self._clock
            ),
        )

    def DecideMandatoryReconsideration(
        self, request: api.DecideMandatoryReconsiderationRequest, context: Ctx
    ) -> pb.MandatoryReconsideration:
        return self._flow(request, reconsideration_flows.decide)

    def LodgeAppeal(
        self, request: api.LodgeAppealRequest, context: Ctx
    ) -> pb.MandatoryReconsideration:
        return self._change(
            request,
            pb.MandatoryReconsideration,
            lambda s, c: reconsiderations.lodge_appeal(
                s, request=request, caller=c, clock=self._clock
            ),
        )

    def RecordAppealOutcome(
        self, request: api.RecordAppealOutcomeRequest, context: Ctx
    ) -> pb.MandatoryReconsideration:
        return self._flow(request, reconsideration_flows.record_appeal_outcome)

    def ReviseDecision(
        self, request: api.ReviseDecisionRequest, context: Ctx
    ) -> pb.DecisionRevision:
        return self._flow(request, reconsideration_flows.revise_decision)

    # -- default maintenance decisions ---------------------------------------------------------------------------

    def ProvideCurrentIncome(
        self, request: api.ProvideCurrentIncomeRequest, context: Ctx
    ) -> pb.Case:
        return self._guard(
            request,
            lambda c: default_decisions.provide_current_income(
                sessions=self._sessions,
                request=request,
                caller=c,
                clock=self._clock,
                downstream=self._downstream,
            ),
        )

    # -- liability timeline --------------------------------------------------------------------------------------

    def GetLiabilityTimeline(
        self, request: api.GetLiabilityTimelineRequest, context: Ctx
    ) -> pb.LiabilityTimeline:
        return self._read(
            request,
            lambda s, c: liability.get(s, request=request, caller=c, clock=self._clock),
        )
