"""The CalculationService gRPC API, thin: each method turns its request into a call of the calculations or rule-set
service and the result into the contract's message. Domain errors become statuses in the server's interceptor,
except a bulk item's: `bulk_response` makes it that item's google.rpc.Status, so one bad item never ends the
stream. Bulk worker processes run `bulk_response` too (the app hands it to the runner), so they answer with the
same bytes the service process would."""

from __future__ import annotations

from collections.abc import Iterator, Sequence

import grpc
from sqlalchemy.orm import Session, sessionmaker

from cms.calculation.v1 import calculation_service_pb2 as api
from cms.calculation.v1 import calculation_service_pb2_grpc as api_grpc
from cms.calculation.v1 import resources_pb2 as pb
from cms_platform.clock import Clock
from cms_platform.grpc_errors import error_domain, to_status
from cms_platform.idempotency import run_idempotent

from .calculations import convert, service
from .calculations.bulk import BulkRunner
from .engine.rules import RuleBook
from .rule_sets import convert as rule_sets_convert
from .rule_sets import service as rule_sets

# The ErrorInfo domain of a bulk item's status: the one the server gives every other error of this service.
ERROR_DOMAIN = error_domain("calculation")


def bulk_response(outcomes: Sequence[service.ItemOutcome]) -> api.BulkCalculateResponse:
    """A batch's answer: one result per item, in order, each its Calculation or its error's status."""
    response = api.BulkCalculateResponse()
    add = response.results.add
    for o in outcomes:
        if o.error is not None:
            add(
                request_id=o.item.request_id,
                case_reference=o.item.case_reference,
                error=to_status(o.error, domain=ERROR_DOMAIN),
            )
        elif o.calculation is not None:
            add(
                request_id=o.item.request_id, case_reference=o.item.case_reference
            ).calculation.CopyFrom(o.calculation)
        else:  # never skip an item: the answers must stay aligned with the items
            raise ValueError(
                f"bulk item {o.item.request_id!r} has neither a calculation nor an error"
            )
    return response


class CalculationServicer(api_grpc.CalculationServiceServicer):
    def __init__(
        self,
        *,
        sessions: sessionmaker[Session],
        clock: Clock,
        rule_book: RuleBook,
        bulk_runner: BulkRunner,
    ):
        self._sessions = sessions
        self._clock = clock
        self._rules = rule_book
        self._bulk = bulk_runner

    def CreateCalculation(
        self, request: api.CreateCalculationRequest, context: grpc.ServicerContext
    ) -> pb.Calculation:
        return run_idempotent(
            self._sessions,
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

    def GetCalculation(
        self, request: api.GetCalculationRequest, context: grpc.ServicerContext
    ) -> pb.Calculation:
        with self._sessions() as s:
            calc = service.get(db_session=s, name=request.name)
        return convert.basic_view(calc) if request.view == pb.CALCULATION_VIEW_BASIC else calc

    def BatchGetCalculations(
        self, request: api.BatchGetCalculationsRequest, context: grpc.ServicerContext
    ) -> api.BatchGetCalculationsResponse:
        with self._sessions() as s:
            calcs = service.batch_get(db_session=s, names=list(request.names))
        if request.view == pb.CALCULATION_VIEW_BASIC:
            calcs = [convert.basic_view(c) for c in calcs]
        return api.BatchGetCalculationsResponse(calculations=calcs)

    def ListCalculations(
        self, request: api.ListCalculationsRequest, context: grpc.ServicerContext
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

    def PreviewCalculation(
        self, request: api.PreviewCalculationRequest, context: grpc.ServicerContext
    ) -> pb.Calculation:
        return service.preview(
            request_input=request.input,
            case_reference=request.case_reference,
            rule_set_version=request.rule_set_version,
            rule_book=self._rules,
            clock=self._clock,
        )

    def BulkCalculate(
        self, request_iterator: Iterator[api.BulkCalculateRequest], context: grpc.ServicerContext
    ) -> Iterator[api.BulkCalculateResponse]:
        return self._bulk.run(request_iterator, self._bulk_batch, self._bulk_batch)

    def _bulk_batch(
        self,
        items: list[api.BulkCalculateItem],
        decided: list[service.Decided | None] | None = None,
    ) -> list[service.ItemOutcome]:
        """A batch the runner calculates in this process, or writes having had it decided in a worker (stored items
        need the database session)."""
        return service.bulk_batch(
            sessions=self._sessions,
            items=items,
            rule_book=self._rules,
            clock=self._clock,
            decided=decided,
        )

    def RenderCalculationStatement(
        self, request: api.RenderCalculationStatementRequest, context: grpc.ServicerContext
    ) -> pb.CalculationStatement:
        with self._sessions() as s:
            return service.statement(
                db_session=s,
                name=request.name,
                audience=request.audience,
                receiving_parent_reference=request.receiving_parent_reference,
            )

    def GetRuleSet(
        self, request: api.GetRuleSetRequest, context: grpc.ServicerContext
    ) -> pb.RuleSet:
        return rule_sets_convert.rule_set_message(
            rule_sets.get(rule_book=self._rules, name=request.name)
        )

    def ListRuleSets(
        self, request: api.ListRuleSetsRequest, context: grpc.ServicerContext
    ) -> api.ListRuleSetsResponse:
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
