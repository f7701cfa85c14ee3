"""Thin gRPC adapter: who may call (access.py), request-id replay, then the domain flow in one transaction.

Calls to other services (the application checks, calculations) happen outside any transaction: the flow gathers,
then records. A refused call on a case is audited in its own transaction, since the call's own rolls back."""

from __future__ import annotations

from collections.abc import Callable

from sqlalchemy.orm import Session, sessionmaker

from cms.casework.v1 import casework_service_pb2 as api
from cms.casework.v1 import casework_service_pb2_grpc as api_grpc
from cms.casework.v1 import resources_pb2 as pb
from cms_platform.clock import Clock
from cms_platform.errors import PermissionDenied
from cms_platform.idempotency import replay, run_idempotent
from cms_platform.identity import Caller, current_caller
from cms_platform.paging import page

from . import access, correspondence, store
from .access import CASEWORKER, CLIENT, EVERYONE, SENSITIVE, SERVICE, STAFF, TEAM_LEADER
from .cases import application
from .cases import service as cases
from .changes import service as changes
from .clients import service as clients
from .downstream import Downstream
from .models import CaseAuditRecord, PaymentPlanRecord
from .scheduler import jobs
from .service_requests import service as srs

CASE_STAFF = (CASEWORKER, TEAM_LEADER, SENSITIVE)


def _case_id_in(request) -> str:
    for field in ("name", "parent"):
        value = getattr(request, field, "")
        if isinstance(value, str) and value.startswith("cases/"):
            return value.split("/")[1]
    return ""


class CaseworkServicer(api_grpc.CaseworkServiceServicer):
    def __init__(
        self,
        *,
        sessions: sessionmaker,
        clock: Clock,
        downstream: Downstream,
        deadline: float,
        scheduler: jobs.Scheduler | None = None,
    ):
        self._sessions, self._clock, self._downstream, self._deadline = (
            sessions,
            clock,
            downstream,
            deadline,
        )
        self._scheduler = scheduler or jobs.Scheduler(
            sessions=sessions, clock=clock, downstream=downstream
        )

    # -- plumbing ------------------------------------------------------------------------------------------------

    def _refused(self, caller: Caller, method: str, case_id: str, resource: str) -> None:
        if not case_id:
            return
        with self._sessions.begin() as s:
            access.audit(
                s,
                clock=self._clock,
                caller=caller,
                method=method,
                case_id=case_id,
                resource=resource,
                permitted=False,
            )

    def _guard(self, method: str, roles: tuple[str, ...], request, fn: Callable[[Caller], object]):
        caller = current_caller()
        try:
            access.require(*roles)
            return fn(caller)
        except access.HiddenCase as hidden:
            self._refused(caller, method, hidden.case_id, hidden.name)
            raise
        except PermissionDenied:
            self._refused(
                caller,
                method,
                _case_id_in(request),
                getattr(request, "name", "") or getattr(request, "parent", ""),
            )
            raise

    def _read(self, method: str, roles, request, fn: Callable[[Session, Caller], object]):
        def run(caller):
            with self._sessions.begin() as s:  # reads write their audit entry
                return fn(s, caller)

        return self._guard(method, roles, request, run)

    def _change(
        self, method: str, roles, request, response_type, fn: Callable[[Session, Caller], object]
    ):
        def run(caller):
            return run_idempotent(
                self._sessions,
                method=method,
                request=request,
                response_type=response_type,
                clock=self._clock,
                execute=lambda s: fn(s, caller),
            )

        return self._guard(method, roles, request, run)

    # -- cases ---------------------------------------------------------------------------------------------------

    def CreateCase(self, request, context):
        return self._change(
            "CreateCase",
            (CASEWORKER, TEAM_LEADER, CLIENT),
            request,
            pb.Case,
            lambda s, c: cases.create(s, request=request, caller=c, clock=self._clock),
        )

    def GetCase(self, request, context):
        return self._read(
            "GetCase",
            EVERYONE,
            request,
            lambda s, c: cases.get(s, name=request.name, caller=c, clock=self._clock),
        )

    def ListCases(self, request, context):
        return self._read(
            "ListCases",
            (*STAFF, CLIENT),
            request,
            lambda s, c: cases.list_cases(s, request=request, caller=c, clock=self._clock),
        )

    def _two_phase(self, method: str, request, gather, record):
        """Replay, read the case, gather from other services (no transaction), record (one transaction)."""

        def run(caller):
            with self._sessions() as s:
                previous = replay(s, method=method, request=request, response_type=pb.Case)
                if previous is not None:
                    return previous
                row = cases.visible_row(
                    s, name=request.name, caller=caller, method=method, clock=self._clock
                )
                case = store.assemble(s, row)
            gathered = gather(case)

            def execute(s):
                row = store.case_row(s, case.name.removeprefix("cases/"), lock=True)
                out = record(s, row, gathered)
                access.audit(
                    s,
                    clock=self._clock,
                    caller=caller,
                    method=method,
                    case_id=row.id,
                    resource=request.name,
                    permitted=True,
                )
                return out

            return run_idempotent(
                self._sessions,
                method=method,
                request=request,
                response_type=pb.Case,
                clock=self._clock,
                execute=execute,
            )

        return self._guard(method, (CASEWORKER, TEAM_LEADER, SENSITIVE, SERVICE), request, run)

    def VerifyApplication(self, request, context):
        return self._two_phase(
            "VerifyApplication",
            request,
            lambda case: application.gather_checks(
                case,
                downstream=self._downstream,
                request_id=request.request_id,
                clock=self._clock,
                context=context,
            ),
            lambda s, row, checks: application.record_checks(
                s, row=row, checks=checks, clock=self._clock
            ),
        )

    def CalculateCase(self, request, context):
        def gather(case: pb.Case):
            checks = None
            if case.state == pb.CASE_STATE_APPLICATION:
                checks = application.gather_checks(
                    case,
                    downstream=self._downstream,
                    request_id=request.request_id,
                    clock=self._clock,
                    context=context,
                )
                if checks.outstanding:
                    # Recorded on the case for the caseworker, then refused: the calculation needs them all.
                    with self._sessions.begin() as s:
                        application.record_checks(
                            s,
                            row=store.case_row(s, case.name.removeprefix("cases/"), lock=True),
                            checks=checks,
                            clock=self._clock,
                        )
                    raise application.checks_failed(case.name, checks)
            return application.gather_for_calculation(
                case,
                request=request,
                checks=checks,
                sessions=self._sessions,
                downstream=self._downstream,
                clock=self._clock,
                context=context,
            )

        return self._two_phase(
            "CalculateCase",
            request,
            gather,
            lambda s, row, gathered: application.record_requested_calculation(
                s, row=row, gathered=gathered, clock=self._clock
            ),
        )

    def CloseCase(self, request, context):
        return self._change(
            "CloseCase",
            (CASEWORKER, TEAM_LEADER, SENSITIVE),
            request,
            pb.Case,
            lambda s, c: cases.close(s, request=request, caller=c, clock=self._clock),
        )

    def SetPersonalInterest(self, request, context):
        return self._change(
            "SetPersonalInterest",
            CASE_STAFF,
            request,
            pb.Case,
            lambda s, c: cases.set_personal_interest(
                s, request=request, caller=c, clock=self._clock
            ),
        )

    def SetCaseSurveillance(self, request, context):
        def run(caller):
            with self._sessions() as s:
                if (
                    replay(s, method="SetCaseSurveillance", request=request, response_type=pb.Case)
                    is None
                ):
                    cases.check_surveillance_request(
                        request, self._clock.today()
                    )  # before the agency is asked
                    row = cases.visible_row(
                        s,
                        name=request.name,
                        caller=caller,
                        method="SetCaseSurveillance",
                        clock=self._clock,
                    )
                    case = store.assemble(s, row)
                    # The agency watches the paying parent's credit file; its alerts come back through the feed.
                    cases.surveil_with_agency(
                        case, request=request, downstream=self._downstream, context=context
                    )
            return run_idempotent(
                self._sessions,
                method="SetCaseSurveillance",
                request=request,
                response_type=pb.Case,
                clock=self._clock,
                execute=lambda s: cases.set_surveillance(
                    s, request=request, caller=caller, clock=self._clock
                ),
            )

        return self._guard("SetCaseSurveillance", CASE_STAFF, request, run)

    # -- clients, safeguards, third parties ----------------------------------------------------------------------

    def GetClient(self, request, context):
        return self._read(
            "GetClient", EVERYONE, request, lambda s, c: clients.get(s, name=request.name, caller=c)
        )

    def RecordUnacceptableBehaviour(self, request, context):
        return self._change(
            "RecordUnacceptableBehaviour",
            CASE_STAFF,
            request,
            pb.UnacceptableBehaviourRecord,
            lambda s, c: clients.record_unacceptable_behaviour(
                s, request=request, caller=c, clock=self._clock
            ),
        )

    def ListUnacceptableBehaviourRecords(self, request, context):
        return self._read(
            "ListUnacceptableBehaviourRecords",
            CASE_STAFF,
            request,
            lambda s, c: clients.list_unacceptable_behaviour(s, request=request),
        )

    def ReviewPotentiallyViolentStatus(self, request, context):
        return self._change(
            "ReviewPotentiallyViolentStatus",
            (TEAM_LEADER,),
            request,
            pb.Client,
            lambda s, c: clients.review_potentially_violent_status(
                s, request=request, clock=self._clock
            ),
        )

    def CreateThirdParty(self, request, context):
        return self._change(
            "CreateThirdParty",
            CASE_STAFF,
            request,
            pb.ThirdParty,
            lambda s, c: clients.create_third_party(s, request=request, clock=self._clock),
        )

    def GetThirdParty(self, request, context):
        return self._read(
            "GetThirdParty",
            (*CASE_STAFF, SERVICE),
            request,
            lambda s, c: clients.get_third_party(s, name=request.name),
        )

    def ListThirdParties(self, request, context):
        return self._read(
            "ListThirdParties",
            (*CASE_STAFF, SERVICE),
            request,
            lambda s, c: clients.list_third_parties(s, request=request),
        )

    def UpdateThirdParty(self, request, context):
        return self._change(
            "UpdateThirdParty",
            CASE_STAFF,
            request,
            pb.ThirdParty,
            lambda s, c: clients.update_third_party(s, request=request, clock=self._clock),
        )

    # -- service requests ----------------------------------------------------------------------------------------

    def CreateServiceRequest(self, request, context):
        return self._change(
            "CreateServiceRequest",
            (*CASE_STAFF, CLIENT),
            request,
            pb.ServiceRequest,
            lambda s, c: srs.create(s, request=request, caller=c, clock=self._clock),
        )

    def GetServiceRequest(self, request, context):
        return self._read(
            "GetServiceRequest",
            (*CASE_STAFF, CLIENT, SERVICE),
            request,
            lambda s, c: srs.get(s, name=request.name, caller=c, clock=self._clock),
        )

    def ListServiceRequests(self, request, context):
        return self._read(
            "ListServiceRequests",
            (*CASE_STAFF, CLIENT, SERVICE),
            request,
            lambda s, c: srs.list_srs(s, request=request, caller=c, clock=self._clock),
        )

    def UpdateServiceRequestStatus(self, request, context):
        return self._change(
            "UpdateServiceRequestStatus",
            CASE_STAFF,
            request,
            pb.ServiceRequest,
            lambda s, c: srs.update_status(s, request=request, caller=c, clock=self._clock),
        )

    def AssignServiceRequest(self, request, context):
        return self._change(
            "AssignServiceRequest",
            CASE_STAFF,
            request,
            pb.ServiceRequest,
            lambda s, c: srs.assign(s, request=request, caller=c, clock=self._clock),
        )

    # -- changes of circumstances --------------------------------------------------------------------------------

    def ReportChangeOfCircumstances(self, request, context):
        return self._change(
            "ReportChangeOfCircumstances",
            (*CASE_STAFF, CLIENT, SERVICE),
            request,
            pb.ChangeOfCircumstances,
            lambda s, c: changes.report(s, request=request, caller=c, clock=self._clock),
        )

    def GetChangeOfCircumstances(self, request, context):
        return self._read(
            "GetChangeOfCircumstances",
            (*CASE_STAFF, CLIENT, SERVICE),
            request,
            lambda s, c: changes.get(s, name=request.name, caller=c, clock=self._clock),
        )

    def ListChangesOfCircumstances(self, request, context):
        return self._read(
            "ListChangesOfCircumstances",
            (*CASE_STAFF, CLIENT, SERVICE),
            request,
            lambda s, c: changes.list_changes(s, request=request, caller=c, clock=self._clock),
        )

    def VerifyChangeOfCircumstances(self, request, context):
        return self._change(
            "VerifyChangeOfCircumstances",
            CASE_STAFF,
            request,
            pb.ChangeOfCircumstances,
            lambda s, c: changes.verify(s, request=request, caller=c, clock=self._clock),
        )

    def AuthoriseChangeOfCircumstances(self, request, context):
        return self._change(
            "AuthoriseChangeOfCircumstances",
            (TEAM_LEADER,),
            request,
            pb.ChangeOfCircumstances,
            lambda s, c: changes.authorise(s, request=request, caller=c, clock=self._clock),
        )

    def ApplyChangesOfCircumstances(self, request, context):
        return self._guard(
            "ApplyChangesOfCircumstances",
            (*CASE_STAFF, SERVICE),
            request,
            lambda c: changes.apply_pending(
                sessions=self._sessions,
                request=request,
                caller=c,
                clock=self._clock,
                downstream=self._downstream,
                context=context,
            ),
        )

    # -- payment plans, correspondence, audit --------------------------------------------------------------------

    def GetPaymentPlan(self, request, context):
        def get(s, caller):
            case_row, row = cases.visible_child(
                s,
                name=request.name,
                collection="paymentPlans",
                model=PaymentPlanRecord,
                what="payment plan",
                caller=caller,
                method="GetPaymentPlan",
                clock=self._clock,
            )
            access.audit(
                s,
                clock=self._clock,
                caller=caller,
                method="GetPaymentPlan",
                case_id=case_row.id,
                resource=request.name,
                permitted=True,
            )
            return pb.PaymentPlan.FromString(row.document)

        return self._read("GetPaymentPlan", EVERYONE, request, get)

    def ListPaymentPlans(self, request, context):
        def list_plans(s, caller):
            from sqlalchemy import select

            row = cases.visible_row(
                s,
                name=request.parent,
                caller=caller,
                method="ListPaymentPlans",
                clock=self._clock,
                field="parent",
            )
            size, offset = page(request.page_size, request.page_token, maximum=200)
            rows = s.scalars(
                select(PaymentPlanRecord)
                .where(PaymentPlanRecord.case_id == row.id)
                .order_by(PaymentPlanRecord.issued_at.desc(), PaymentPlanRecord.id)
                .offset(offset)
                .limit(size + 1)
            ).all()
            access.audit(
                s,
                clock=self._clock,
                caller=caller,
                method="ListPaymentPlans",
                case_id=row.id,
                resource=request.parent,
                permitted=True,
            )
            return api.ListPaymentPlansResponse(
                payment_plans=[pb.PaymentPlan.FromString(r.document) for r in rows[:size]],
                next_page_token=str(offset + size) if len(rows) > size else "",
            )

        return self._read("ListPaymentPlans", EVERYONE, request, list_plans)

    def ListCorrespondence(self, request, context):
        def list_items(s, caller):
            row = cases.visible_row(
                s,
                name=request.parent,
                caller=caller,
                method="ListCorrespondence",
                clock=self._clock,
                field="parent",
            )
            size, offset = page(request.page_size, request.page_token, maximum=200)
            items, more = correspondence.list_for_case(s, case_id=row.id, size=size, offset=offset)
            access.audit(
                s,
                clock=self._clock,
                caller=caller,
                method="ListCorrespondence",
                case_id=row.id,
                resource=request.parent,
                permitted=True,
            )
            return api.ListCorrespondenceResponse(
                correspondence=items, next_page_token=str(offset + size) if more else ""
            )

        return self._read("ListCorrespondence", CASE_STAFF, request, list_items)

    def ListAuditEntries(self, request, context):
        def list_entries(s, caller):
            from sqlalchemy import select

            row = cases.visible_row(
                s,
                name=request.parent,
                caller=caller,
                method="ListAuditEntries",
                clock=self._clock,
                field="parent",
            )
            size, offset = page(request.page_size, request.page_token, maximum=500)
            rows = s.scalars(
                select(CaseAuditRecord)
                .where(CaseAuditRecord.case_id == row.id)
                .order_by(CaseAuditRecord.id.desc())
                .offset(offset)
                .limit(size + 1)
            ).all()
            return api.ListAuditEntriesResponse(
                audit_entries=[access.audit_entry(r) for r in rows[:size]],
                next_page_token=str(offset + size) if len(rows) > size else "",
            )

        return self._read("ListAuditEntries", (TEAM_LEADER, SENSITIVE), request, list_entries)

    # -- scheduler -----------------------------------------------------------------------------------------------

    def RunScheduledWork(self, request, context):
        return self._guard(
            "RunScheduledWork",
            (SERVICE, TEAM_LEADER),
            request,
            lambda c: self._scheduler.run_request(request, context=context),
        )
