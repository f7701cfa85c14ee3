"""Thin gRPC adapter: request → domain service → response. Errors are mapped by the server, except a bulk item's,
which becomes that item's status so one bad item never ends the stream."""

from __future__ import annotations

from collections.abc import Iterator

from sqlalchemy.orm import sessionmaker

from cms.calculation.v1 import calculation_service_pb2 as api
from cms.calculation.v1 import calculation_service_pb2_grpc as api_grpc
from cms.calculation.v1 import resources_pb2 as pb
from cms_platform.clock import Clock
from cms_platform.idempotency import run_idempotent

from ..engine.rules import RuleBook
from ..rule_sets import convert as rule_sets_convert
from ..rule_sets import service as rule_sets
from . import bulk, convert, service


class CalculationServicer(api_grpc.CalculationServiceServicer):
    def __init__(
        self,
        *,
        sessions: sessionmaker,
        clock: Clock,
        rule_book: RuleBook,
        bulk_runner: bulk.BulkRunner,
    ):
        self._sessions = sessions
        self._clock = clock
        self._rules = rule_book
        self._bulk = bulk_runner

    def CreateCalculation(self, request: api.CreateCalculationRequest, context) -> pb.Calculation:
        return run_idempotent(
            self._sessions,
            method="CreateCalculation",
            request=request,
            response_type=pb.Calculation,
            clock=self._clock,
            execute=lambda s: service.create(
                db_session=s,
                case_reference=request.case_reference,
                request_input=request.input,
                reason=request.reason,
                rule_book=self._rules,
                clock=self._clock,
            ),
        )

    def GetCalculation(self, request: api.GetCalculationRequest, context) -> pb.Calculation:
        with self._sessions() as s:
            calc = service.get(db_session=s, name=request.name)
        return convert.basic_view(calc) if request.view == pb.CALCULATION_VIEW_BASIC else calc

    def ListCalculations(
        self, request: api.ListCalculationsRequest, context
    ) -> api.ListCalculationsResponse:
        with self._sessions() as s:
            calcs, token = service.list_for_case(
                db_session=s,
                case_reference=request.case_reference,
                page_size=request.page_size,
                page_token=request.page_token,
            )
        if request.view != pb.CALCULATION_VIEW_FULL:
            calcs = [convert.basic_view(c) for c in calcs]
        return api.ListCalculationsResponse(calculations=calcs, next_page_token=token)

    def PreviewCalculation(self, request: api.PreviewCalculationRequest, context) -> pb.Calculation:
        return service.preview(
            request_input=request.input,
            case_reference=request.case_reference,
            rule_set_version=request.rule_set_version,
            rule_book=self._rules,
            clock=self._clock,
        )

    def BulkCalculate(self, request_iterator, context) -> Iterator[api.BulkCalculateResponse]:
        return self._bulk.run(request_iterator, self._bulk_in_process)

    def _bulk_in_process(self, request: api.BulkCalculateRequest) -> api.BulkCalculateResponse:
        return bulk.response_for(
            service.bulk_batch(
                sessions=self._sessions,
                items=list(request.items),
                rule_book=self._rules,
                clock=self._clock,
            )
        )

    def RenderCalculationStatement(
        self, request: api.RenderCalculationStatementRequest, context
    ) -> pb.CalculationStatement:
        with self._sessions() as s:
            return service.statement(db_session=s, request=request)

    def GetRuleSet(self, request: api.GetRuleSetRequest, context) -> pb.RuleSet:
        return rule_sets_convert.rule_set_message(
            rule_sets.get(rule_book=self._rules, name=request.name)
        )

    def ListRuleSets(self, request: api.ListRuleSetsRequest, context) -> api.ListRuleSetsResponse:
        shown, token = rule_sets.list_page(
            rule_book=self._rules,
            page_size=request.page_size,
            page_token=request.page_token,
            effective_date=request.effective_date if request.HasField("effective_date") else None,
        )
        return api.ListRuleSetsResponse(
            rule_sets=[rule_sets_convert.rule_set_message(r) for r in shown],
            next_page_token=token,
        )
