"""Thin gRPC adapters over the HMRC port: check the request, admit it (throttle, maintenance), ask the port at the
clock's date, audit, answer. Interests and the monthly batch keep their state through the domain modules."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator

from sqlalchemy.orm import sessionmaker

from cms.common.v1 import types_pb2 as common
from cms.hmrc.v1 import hmrc_service_pb2 as api
from cms.hmrc.v1 import hmrc_service_pb2_grpc as api_grpc
from cms.hmrc.v1 import resources_pb2 as pb
from cms_platform.audit import AuditTrail
from cms_platform.clock import Clock
from cms_platform.convert import date_or_violation
from cms_platform.errors import DomainError, InvalidArgument, ViolationCollector
from cms_platform.grpc_errors import to_status
from cms_platform.idempotency import run_idempotent
from cms_platform.identity import current_caller
from cms_simulation.behaviour import ExternalSystemBehaviour
from cms_simulation.population.tax_year import tax_year_of

from . import convert as answers
from . import interests
from .port import PersonToMatch
from .simulator import convert
from .simulator.adapter import SimulatedHmrc

ERROR_DOMAIN = "hmrc-gateway.cms.gov.uk"
FIRST_TAX_YEAR = "2013-14"  # RTI data starts here
MAX_CHECK_ITEMS = 1000


def _person(identity, path: str = "person") -> PersonToMatch:
    v = ViolationCollector()
    person = answers.person_to_match(identity, path, v)
    v.raise_if_any()
    assert person is not None
    return person


def check_tax_year(tax_year: str, today: dt.date, path: str = "tax_year") -> str:
    """ "YYYY-YY", second part the first plus one, from 2013-14 (RTI) to the current tax year."""
    if not tax_year:
        return ""
    ok = (
        len(tax_year) == 7
        and tax_year[4] == "-"
        and tax_year[:4].isdigit()
        and tax_year[5:].isdigit()
    )
    if not ok or (int(tax_year[:4]) + 1) % 100 != int(tax_year[5:]):
        raise InvalidArgument.field(path, f'{tax_year!r} is not a tax year like "2024-25"')
    if tax_year < FIRST_TAX_YEAR:
        raise InvalidArgument.field(
            path, f"{tax_year} is before {FIRST_TAX_YEAR}, the first year of RTI data"
        )
    if tax_year > tax_year_of(today):
        raise InvalidArgument.field(path, f"{tax_year} has not started yet")
    return tax_year


class HmrcGatewayServicer(api_grpc.HmrcGatewayServiceServicer):
    def __init__(
        self,
        *,
        hmrc: SimulatedHmrc,
        sessions: sessionmaker,
        clock: Clock,
        behaviour: ExternalSystemBehaviour,
        audit: AuditTrail,
    ):
        self._hmrc = hmrc
        self._sessions = sessions
        self._clock = clock
        self._behaviour = behaviour
        self._audit = audit

    def _admit(self) -> dt.date:
        caller = current_caller()
        self._behaviour.admit(caller.subject if caller else "")
        return self._clock.today()

    def _audited(self, interface: str, nino: str, context: pb.EnquiryContext, answer):
        self._audit.record(nino, context, answer.match.outcome.value)
        return answer

    # -- Child Benefit ---------------------------------------------------------------------------------------------

    def _children(self, children, path: str):
        v = ViolationCollector()
        out = [answers.child_from_request(c, f"{path}[{i}]", v) for i, c in enumerate(children)]
        return v, out

    def VerifyReceivingParentReceivingChildBenefit(self, request, context):
        v, children = self._children(request.qualifying_children, "qualifying_children")
        claimant = answers.person_to_match(request.receiving_parent, "receiving_parent", v)
        v.raise_if_any()
        on = self._admit()
        answer = self._audited(
            "VerifyReceivingParentReceivingChildBenefit",
            claimant.nino,
            request.context,
            self._hmrc.child_benefit(claimant, children, on),
        )
        statuses = answer.data or []
        return api.VerifyReceivingParentReceivingChildBenefitResponse(
            match=answers.match_to_proto(answer.match),
            receiving_child_benefit=any(s.entitled for s in statuses),
            children=[answers.child_status_to_proto(s) for s in statuses],
        )

    def VerifyChildBenefitInPaymentForOtherChildren(self, request, context):
        v, children = self._children([c.child for c in request.children], "children")
        categories = (
            api.OTHER_CHILD_CATEGORY_RELEVANT_OTHER_CHILD,
            api.OTHER_CHILD_CATEGORY_FAMILY_BASED_ARRANGEMENT,
        )
        for i, c in enumerate(request.children):
            if c.category not in categories:
                v.add(
                    f"children[{i}].category",
                    "choose RELEVANT_OTHER_CHILD or FAMILY_BASED_ARRANGEMENT",
                )
        claimant = answers.person_to_match(request.claimant, "claimant", v)
        v.raise_if_any()
        on = self._admit()
        answer = self._audited(
            "VerifyChildBenefitInPaymentForOtherChildren",
            claimant.nino,
            request.context,
            self._hmrc.other_children_benefit(claimant, children, on),
        )
        return api.VerifyChildBenefitInPaymentForOtherChildrenResponse(
            match=answers.match_to_proto(answer.match),
            children=[answers.child_status_to_proto(s) for s in answer.data or []],
        )

    def RequestChildBenefitEndDate(self, request, context):
        v = ViolationCollector()
        child = answers.child_from_request(request.child, "child", v)
        claimant = answers.person_to_match(request.claimant, "claimant", v)
        v.raise_if_any()
        on = self._admit()
        answer = self._audited(
            "RequestChildBenefitEndDate",
            claimant.nino,
            request.context,
            self._hmrc.child_benefit(claimant, [child], on),
        )
        out = api.RequestChildBenefitEndDateResponse(match=answers.match_to_proto(answer.match))
        if answer.data:
            out.child_status.CopyFrom(answers.child_status_to_proto(answer.data[0]))
        return out

    # -- employment ------------------------------------------------------------------------------------------------

    def GetPayingParentEmploymentStatus(self, request, context):
        person = _person(request.person)
        on = self._admit()
        answer = self._audited(
            "GetPayingParentEmploymentStatus",
            person.nino,
            request.context,
            self._hmrc.employment_status(person, on),
        )
        out = api.GetPayingParentEmploymentStatusResponse(
            match=answers.match_to_proto(answer.match)
        )
        if answer.data:
            d = answer.data
            out.employment_status = pb.EmploymentStatus.Value(f"EMPLOYMENT_STATUS_{d.status.value}")
            out.live_employments.extend(
                answers.employment_view_to_proto(e) for e in d.live_employments
            )
            out.self_assessment_registered = d.self_assessment_registered
            out.latest_self_employment_tax_year = d.latest_self_employment_tax_year
        return out

    def LocatePayingParentEmployerRecords(self, request, context):
        person = _person(request.person)
        on = self._admit()
        answer = self._audited(
            "LocatePayingParentEmployerRecords",
            person.nino,
            request.context,
            self._hmrc.employer_records(person, on),
        )
        out = api.LocatePayingParentEmployerRecordsResponse(
            match=answers.match_to_proto(answer.match)
        )
        if answer.data:
            out.employments.extend(
                answers.employment_view_to_proto(e) for e in answer.data.employments
            )
            if answer.data.address:
                out.hmrc_held_address.CopyFrom(convert.address_to_proto(answer.data.address))
        return out

    def GetEmploymentDetailsForDeductionFromEarnings(self, request, context):
        person = _person(request.person)
        on = self._admit()
        answer = self._audited(
            "GetEmploymentDetailsForDeductionFromEarnings",
            person.nino,
            request.context,
            self._hmrc.live_employments(person, on),
        )
        out = api.GetEmploymentDetailsForDeductionFromEarningsResponse(
            match=answers.match_to_proto(answer.match)
        )
        out.employments.extend(answers.employment_view_to_proto(e) for e in answer.data or ())
        return out

    # -- income ----------------------------------------------------------------------------------------------------

    def GetSummaryOfEarnedIncome(self, request, context):
        person = _person(request.person)
        on = self._admit()
        return answers.earned_income_response(
            self._audited(
                "GetSummaryOfEarnedIncome",
                person.nino,
                request.context,
                self._hmrc.earned_income(person, on),
            )
        )

    def GetBreakdownOfIncomeSummary(self, request, context):
        person = _person(request.person)
        tax_year = check_tax_year(request.tax_year, self._clock.today())
        on = self._admit()
        answer = self._audited(
            "GetBreakdownOfIncomeSummary",
            person.nino,
            request.context,
            self._hmrc.earned_income(person, on, tax_year),
        )
        out = api.GetBreakdownOfIncomeSummaryResponse(match=answers.match_to_proto(answer.match))
        i = answer.data
        if i is not None:
            out.income_data_held = True
            out.tax_year = i.tax_year
            out.gross_income_pence = i.gross_income_pence
            out.source = answers.income_source_to_proto(i.source)
            out.components.CopyFrom(answers.components_to_proto(i))
            for view, paye in i.paye:
                out.employments.add(
                    employment=answers.employment_view_to_proto(view),
                    taxable_pay_pence=paye.taxable_pay_pence,
                    taxable_benefits_pence=paye.taxable_benefits_pence,
                    employee_pension_contributions_pence=paye.employee_pension_contributions_pence,
                    tax_deducted_pence=paye.tax_deducted_pence,
                )
            if i.self_assessment is not None:
                out.self_assessment.CopyFrom(convert.self_assessment_to_proto(i.self_assessment))
        elif tax_year:
            out.tax_year = tax_year
        return out

    def GetUnearnedIncome(self, request, context):
        person = _person(request.person)
        tax_year = check_tax_year(request.tax_year, self._clock.today())
        on = self._admit()
        answer = self._audited(
            "GetUnearnedIncome",
            person.nino,
            request.context,
            self._hmrc.unearned_income(person, on, tax_year),
        )
        out = api.GetUnearnedIncomeResponse(match=answers.match_to_proto(answer.match))
        if answer.data is not None:
            out.unearned_income.CopyFrom(
                convert.unearned_to_proto(answer.data.tax_year, answer.data.unearned)
            )
        return out

    def GetRtiCurrentIncome(self, request, context):
        v = ViolationCollector()
        person = answers.person_to_match(request.person, "person", v)
        today = self._clock.today()
        start, end = today - dt.timedelta(days=interests.RTI_WINDOW_DAYS - 1), today
        if request.HasField("payment_period"):
            period = request.payment_period
            start = date_or_violation(period.start_date, "payment_period.start_date", v) or start
            if period.HasField("end_date") and (
                period.end_date.year or period.end_date.month or period.end_date.day
            ):
                end = date_or_violation(period.end_date, "payment_period.end_date", v) or end
            if end < start:
                v.add("payment_period.end_date", "is before the start date")
            if end > today:
                v.add("payment_period.end_date", "is in the future")
        v.raise_if_any()
        self._admit()
        answer = self._audited(
            "GetRtiCurrentIncome",
            person.nino,
            request.context,
            self._hmrc.rti_income(person, start, end),
        )
        out = api.GetRtiCurrentIncomeResponse(match=answers.match_to_proto(answer.match))
        if answer.data is not None:
            out.employments.extend(
                answers.rti_employment_to_proto(view, payments)
                for view, payments in answer.data.employments
            )
            out.average_weekly_taxable_pay_pence = answer.data.average_weekly_taxable_pay_pence
        return out

    # -- interests -------------------------------------------------------------------------------------------------

    def RegisterInterest(self, request, context):
        person = _person(request.person)
        self._admit()
        response = run_idempotent(
            self._sessions,
            method="RegisterInterest",
            request=request,
            response_type=api.RegisterInterestResponse,
            clock=self._clock,
            execute=lambda s: interests.register(
                s, request=request, asked=person, hmrc=self._hmrc, clock=self._clock
            ),
        )
        self._audit.records(
            [(person.nino, request.case_id, "", common_outcome(response.match.outcome))],
        )
        return response

    def RemoveInterest(self, request, context):
        return run_idempotent(
            self._sessions,
            method="RemoveInterest",
            request=request,
            response_type=pb.Interest,
            clock=self._clock,
            execute=lambda s: interests.remove(
                s, interest_id=request.interest_id, clock=self._clock
            ),
        )

    def ListInterests(self, request, context):
        with self._sessions() as s:
            return interests.list_interests(s, request=request)

    # -- the monthly Child Benefit check ----------------------------------------------------------------------------

    def RunMonthlyChildBenefitCheck(
        self, request_iterator, context
    ) -> Iterator[api.RunMonthlyChildBenefitCheckResponse]:
        on = self._clock.today()
        caller = current_caller()
        who = caller.subject if caller else ""
        for request in request_iterator:
            v = ViolationCollector()
            if not request.run_id.strip():
                v.add("run_id", "is required")
            if not 1 <= len(request.items) <= MAX_CHECK_ITEMS:
                v.add("items", f"send 1 to {MAX_CHECK_ITEMS} children per message")
            v.raise_if_any()
            response = api.RunMonthlyChildBenefitCheckResponse()
            audit: list[tuple[str, str, str, str]] = []
            for item in request.items:
                result = response.results.add(item_id=item.item_id, case_id=item.case_id)
                try:
                    self._behaviour.admit(who)
                    self._check_one(request.run_id, item, on, result, audit)
                except DomainError as exc:
                    if exc.reason in ("SCHEDULED_MAINTENANCE", "SERVER_ERROR"):
                        raise  # the run stops; the client re-sends what has no answer
                    result.ClearField("claimant_match")
                    result.ClearField("child_status")
                    result.error.CopyFrom(to_status(exc, domain=ERROR_DOMAIN))
            self._audit.records(audit)
            yield response

    def _check_one(
        self, run_id: str, item: api.ChildBenefitCheckItem, on: dt.date, out, audit: list
    ) -> None:
        v = ViolationCollector()
        for name in ("item_id", "case_id"):
            if not getattr(item, name).strip():
                v.add(name, "is required")
        claimant = answers.person_to_match(item.claimant, "claimant", v)
        child = answers.child_from_request(item.child, "child", v)
        v.raise_if_any()
        answer = self._hmrc.child_benefit(claimant, [child], on)
        audit.append((claimant.nino, item.case_id, run_id, answer.match.outcome.value))
        out.claimant_match.CopyFrom(answers.match_to_proto(answer.match))
        if answer.data:
            out.child_status.CopyFrom(answers.child_status_to_proto(answer.data[0]))


def common_outcome(outcome: int) -> str:
    return common.MatchOutcome.Name(outcome).removeprefix("MATCH_OUTCOME_")
