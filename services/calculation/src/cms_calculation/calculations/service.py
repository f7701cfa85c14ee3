"""Calculation decisions: make, store, find. Keyword-only functions taking an explicit session."""

from __future__ import annotations

import uuid

from sqlalchemy import select
from sqlalchemy.orm import Session

from cms.calculation.v1 import calculation_service_pb2 as api
from cms.calculation.v1 import events_pb2
from cms.calculation.v1 import resources_pb2 as pb
from cms_platform import outbox
from cms_platform.clock import Clock
from cms_platform.errors import InvalidArgument, NotFound

from ..engine.calculate import calculate
from . import convert
from .models import StoredCalculation

TOPIC = "cms.calculation.events.v1"
SOURCE = "/cms/calculation"
CALCULATION_CREATED = "uk.gov.cms.calculation.calculation.created.v1"


def preview(*, request_input: pb.CalculationInput, case_reference: str, clock: Clock) -> pb.Calculation:
    result = calculate(convert.facts_from_input(request_input))
    return convert.calculation_message(name="", case_reference=case_reference, reason=0,
                                       request_input=request_input, result=result, created=clock.now())


def create(*, db_session: Session, request: api.CreateCalculationRequest, clock: Clock) -> pb.Calculation:
    """Calculate, store the decision and record CalculationCreated, all in the caller's transaction."""
    result = calculate(convert.facts_from_input(request.input))
    calc_id = str(uuid.uuid4())
    now = clock.now()
    calc = convert.calculation_message(name=f"calculations/{calc_id}", case_reference=request.case_reference,
                                       reason=request.reason, request_input=request.input, result=result, created=now)
    db_session.add(StoredCalculation(id=calc_id, case_reference=request.case_reference,
                                     effective_date=convert.to_date(request.input.effective_date),
                                     rate=result.rate.value, rule_set_version=result.rule_set_version,
                                     calculation=calc.SerializeToString(), created_at=now))
    event = events_pb2.CalculationCreated(
        case_reference=request.case_reference, calculation=calc.name,
        paying_parent_reference=request.input.paying_parent_reference, reason=request.reason,
        effective_date=calc.effective_date, rate=calc.rate, gross_weekly_income_pence=calc.gross_weekly_income_pence,
        weekly_amount_pence=calc.weekly_amount_pence, receiving_parent_amounts=calc.receiving_parent_amounts,
        child_amounts=calc.child_amounts, periodic_amounts=calc.periodic_amounts,
        payment_frequency=calc.payment_frequency, service_type=request.input.service_type,
        collection_fees=calc.collection_fees, rule_set_version=calc.rule_set_version, create_time=calc.create_time)
    outbox.publish(db_session, clock=clock, topic=TOPIC, event_type=CALCULATION_CREATED, source=SOURCE,
                   key=request.case_reference, subject=calc.name, message=event)
    return calc


def _parse(row: StoredCalculation) -> pb.Calculation:
    calc = pb.Calculation()
    calc.ParseFromString(row.calculation)
    return calc


def get(*, db_session: Session, name: str) -> pb.Calculation:
    prefix = "calculations/"
    if not name.startswith(prefix) or not name[len(prefix):]:
        raise InvalidArgument.field("name", "must look like calculations/{calculation_id}")
    row = db_session.get(StoredCalculation, name[len(prefix):])
    if row is None:
        raise NotFound("calculation", name)
    return _parse(row)


def list_for_case(*, db_session: Session, case_reference: str, page_size: int, page_token: str
                  ) -> tuple[list[pb.Calculation], str]:
    size = min(page_size or 50, 500)
    try:
        offset = int(page_token or "0")
    except ValueError:
        raise InvalidArgument.field("page_token", "is not a token this service issued") from None
    rows = db_session.scalars(
        select(StoredCalculation).where(StoredCalculation.case_reference == case_reference)
        .order_by(StoredCalculation.effective_date.desc(), StoredCalculation.created_at.desc())
        .offset(offset).limit(size + 1)).all()
    next_token = str(offset + size) if len(rows) > size else ""
    return [_parse(r) for r in rows[:size]], next_token
