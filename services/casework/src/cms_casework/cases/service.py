"""Case service functions (keyword-only, explicit session) and the calculate flow."""

from __future__ import annotations

import uuid

from google.type import date_pb2
from prometheus_client import Histogram
from sqlalchemy.orm import Session

from cms.calculation.v1 import calculation_service_pb2 as calc_api
from cms.calculation.v1 import resources_pb2 as calc_pb
from cms.casework.v1 import casework_service_pb2 as api
from cms.casework.v1 import events_pb2
from cms.casework.v1 import resources_pb2 as pb
from cms.common.v1 import types_pb2 as common
from cms.hmrc.v1 import hmrc_service_pb2 as hmrc_api
from cms_platform import outbox
from cms_platform.clock import Clock
from cms_platform.errors import FailedPrecondition, InvalidArgument, NotFound, PreconditionViolation

from . import rules
from .models import CaseRecord

TOPIC = "cms.casework.events.v1"
SOURCE = "/cms/casework"
CASE_CREATED = "uk.gov.cms.casework.case.created.v1"
CASE_CALCULATED = "uk.gov.cms.casework.case.calculated.v1"

# The CMS target: 80% of applications reach their first calculation within six weeks.
APPLICATION_TO_FIRST_CALCULATION = Histogram(
    "cms_casework_application_to_first_calculation_days", "Days from application to the first calculation",
    buckets=(1, 7, 14, 21, 28, 35, 42, 56, 84, 182))

# Calculation request ids are derived from ours, so a retried CalculateCase is a retried CreateCalculation.
_CALC_NAMESPACE = uuid.UUID("5b0f8d8e-3a53-4b8e-9a57-1d1f7c0f2a10")


def _case_id(name: str) -> str:
    prefix = "cases/"
    if not name.startswith(prefix) or not name[len(prefix):]:
        raise InvalidArgument.field("name", "must look like cases/{case_id}")
    return name[len(prefix):]


def _document(row: CaseRecord) -> pb.Case:
    case = pb.Case()
    case.ParseFromString(row.document)
    return case


def _store(row: CaseRecord, case: pb.Case, clock: Clock) -> None:
    now = clock.now()
    case.update_time.FromDatetime(now)
    row.state = pb.CaseState.Name(case.state)
    row.document = case.SerializeToString()
    row.updated_at = now


def create(*, db_session: Session, request: api.CreateCaseRequest, clock: Clock) -> pb.Case:
    rules.check_new_case(request)
    now = clock.now()
    case_id = str(uuid.uuid4())
    case = pb.Case(name=f"cases/{case_id}", state=pb.CASE_STATE_APPLICATION)
    case.paying_parent.CopyFrom(request.paying_parent)
    case.receiving_parent.CopyFrom(request.receiving_parent)
    for client in (case.paying_parent, case.receiving_parent):
        client.name = f"clients/{uuid.uuid4()}"
        client.identity.nino = rules.normalise_nino(client.identity.nino)
        client.security_details.security_answer_set = bool(client.security_details.security_answer)
        client.security_details.security_answer = ""  # INPUT_ONLY: never stored in the document we return
    for child in request.qualifying_children:
        c = case.qualifying_children.add()
        c.CopyFrom(child)
        c.child_id = str(uuid.uuid4())
    case.relevant_other_children.extend(request.relevant_other_children)
    case.children_in_family_based_arrangements.extend(request.children_in_family_based_arrangements)
    case.service_type = request.service_type or pb.SERVICE_TYPE_DIRECT_PAY
    case.payment_frequency = request.payment_frequency or common.PAYMENT_FREQUENCY_MONTHLY
    case.applicant = request.applicant
    today = clock.today()
    case.application_date.CopyFrom(request.application_date if request.HasField("application_date") else
                                   date_pb2.Date(year=today.year, month=today.month, day=today.day))
    case.create_time.FromDatetime(now)
    case.update_time.FromDatetime(now)
    db_session.add(CaseRecord(id=case_id, state=pb.CaseState.Name(case.state),
                              paying_parent_nino=case.paying_parent.identity.nino,
                              document=case.SerializeToString(), created_at=now, updated_at=now))
    outbox.publish(db_session, clock=clock, topic=TOPIC, event_type=CASE_CREATED, source=SOURCE, key=case.name,
                   subject=case.name, message=events_pb2.CaseCreated(
                       case_id=case_id, paying_parent_nino=case.paying_parent.identity.nino,
                       paying_parent=case.paying_parent.name, receiving_parent=case.receiving_parent.name,
                       qualifying_child_count=len(case.qualifying_children), application_date=case.application_date,
                       applicant=case.applicant, service_type=case.service_type,
                       payment_frequency=case.payment_frequency))
    return case


def load(*, db_session: Session, name: str) -> tuple[CaseRecord, pb.Case]:
    row = db_session.get(CaseRecord, _case_id(name))
    if row is None:
        raise NotFound("case", name)
    return row, _document(row)


# ---- the calculate flow: gather facts (remote), then record the result (one transaction) -------------------

def hmrc_income_request(case: pb.Case) -> hmrc_api.GetSummaryOfEarnedIncomeRequest:
    return hmrc_api.GetSummaryOfEarnedIncomeRequest(person=case.paying_parent.identity)


def check_hmrc_income(answer: hmrc_api.GetSummaryOfEarnedIncomeResponse) -> None:
    if answer.match.outcome != common.MATCH_OUTCOME_MATCHED:
        raise FailedPrecondition(PreconditionViolation(
            "PAYING_PARENT_NOT_MATCHED_BY_HMRC", "paying_parent.identity",
            f"HMRC did not match the paying parent ({common.MatchOutcome.Name(answer.match.outcome)}"
            f"{': ' + ', '.join(answer.match.failed_rules) if answer.match.failed_rules else ''}); "
            "check the NINO, name and date of birth"))
    if not answer.income_data_held:
        raise FailedPrecondition(PreconditionViolation(
            "HMRC_INCOME_NOT_HELD", "paying_parent",
            "HMRC holds no earned income for the paying parent; current income must be gathered"))


def calculation_request(*, case: pb.Case, request: api.CalculateCaseRequest, income: hmrc_api.GetSummaryOfEarnedIncomeResponse,
                        clock: Clock) -> calc_api.CreateCalculationRequest:
    if case.state == pb.CASE_STATE_CLOSED:
        raise FailedPrecondition(PreconditionViolation("CASE_CLOSED", case.name, "a closed case cannot be calculated"))
    today = clock.today()
    effective = request.effective_date if request.HasField("effective_date") else \
        date_pb2.Date(year=today.year, month=today.month, day=today.day)
    live_children = [c for c in case.qualifying_children if not c.HasField("end_date")]
    return calc_api.CreateCalculationRequest(
        request_id=str(uuid.uuid5(_CALC_NAMESPACE, f"{case.name}/{request.request_id}")),
        case_reference=_case_id(case.name),
        reason=calc_pb.CALCULATION_REASON_INITIAL if not case.HasField("latest_calculation")
        else calc_pb.CALCULATION_REASON_CHANGE_OF_CIRCUMSTANCES,
        input=calc_pb.CalculationInput(
            effective_date=effective,
            paying_parent_income=calc_pb.PayingParentIncome(
                hmrc_gross_annual_income_pence=income.gross_income_pence, hmrc_tax_year=income.tax_year),
            qualifying_children=[calc_pb.QualifyingChild(
                child_reference=c.child_id, receiving_parent_reference=case.receiving_parent.name,
                shared_care_nights=c.paying_parent_nights_per_year, forename=c.name.forenames)
                for c in live_children],
            relevant_other_child_count=sum(1 for c in case.relevant_other_children if not c.HasField("end_date")),
            service_type=(calc_pb.SERVICE_TYPE_COLLECT_AND_PAY if case.service_type == pb.SERVICE_TYPE_COLLECT_AND_PAY
                          else calc_pb.SERVICE_TYPE_DIRECT_PAY),
            payment_frequency=case.payment_frequency,
            paying_parent_reference=case.paying_parent.name,
        ))


def record_calculation(*, db_session: Session, name: str, calculation: calc_pb.Calculation, clock: Clock) -> pb.Case:
    row, case = load(db_session=db_session, name=name)
    now = clock.now()
    previous = case.latest_calculation.weekly_amount_pence if case.HasField("latest_calculation") else 0
    first = not case.HasField("first_calculation_time")
    reason = pb.CALCULATION_REASON_INITIAL if first else pb.CALCULATION_REASON_CHANGE_OF_CIRCUMSTANCES
    periodic = next((p for p in calculation.periodic_amounts if p.frequency == case.payment_frequency), None)
    latest = pb.LatestCalculation(
        calculation=calculation.name, weekly_amount_pence=calculation.weekly_amount_pence,
        rate=calc_pb.Rate.Name(calculation.rate).removeprefix("RATE_"), effective_date=calculation.effective_date,
        gross_weekly_income_pence=calculation.gross_weekly_income_pence,
        income_basis=calc_pb.IncomeBasis.Name(calculation.income.basis).removeprefix("INCOME_BASIS_"),
        reason=reason, periodic_amount=periodic)
    latest.calculate_time.FromDatetime(now)
    case.latest_calculation.CopyFrom(latest)
    if first:
        case.first_calculation_time.FromDatetime(now)
        # Payment plans arrive with the full casework flow; until then the case waits in INITIAL_CALCULATION.
        case.state = pb.CASE_STATE_INITIAL_CALCULATION
        APPLICATION_TO_FIRST_CALCULATION.observe((now - row.created_at).total_seconds() / 86400)
    _store(row, case, clock)
    outbox.publish(db_session, clock=clock, topic=TOPIC, event_type=CASE_CALCULATED, source=SOURCE, key=case.name,
                   subject=case.name, message=events_pb2.CaseCalculated(
                       case_id=_case_id(case.name), calculation=calculation.name,
                       weekly_amount_pence=calculation.weekly_amount_pence, rate=latest.rate,
                       paying_parent_nino=case.paying_parent.identity.nino, effective_date=calculation.effective_date,
                       payment_frequency=case.payment_frequency, reason=reason,
                       previous_weekly_amount_pence=previous,
                       gross_weekly_income_pence=calculation.gross_weekly_income_pence,
                       income_basis=latest.income_basis, qualifying_child_count=len(calculation.child_amounts),
                       service_type=case.service_type, method_of_payment_from=case.method_of_payment_from))
    return case
