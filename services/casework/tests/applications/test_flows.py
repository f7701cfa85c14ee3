"""An application through the real casework server and the services it calls (conftest.stack): the checks,
the first calculation and payment plan, a downstream failure half-way, and the other children checked with HMRC."""

from __future__ import annotations

import uuid

import grpc
import pytest

from cms.casework.v1 import casework_service_pb2 as api
from cms.casework.v1 import resources_pb2 as pb
from cms.common.v1 import types_pb2 as common
from cms_casework.calculations.flows import APPLICATION_TO_FIRST_CALCULATION

from ..conftest import alex_and_bethan, d, error, events_of, person


def _first_calculations_measured() -> float:

    return next(
        s.value
        for s in APPLICATION_TO_FIRST_CALCULATION.collect()[0].samples
        if s.name.endswith("_count")
    )


def test_an_application_reaches_its_first_payment_plan(stack):
    measured = _first_calculations_measured()
    case = stack.call("CreateCase", alex_and_bethan())
    assert (
        case.state == pb.CASE_STATE_APPLICATION and case.paying_parent.identity.nino == "AA123456A"
    )
    verified = stack.call(
        "VerifyApplication",
        api.VerifyApplicationRequest(request_id=str(uuid.uuid4()), name=case.name),
    )
    checks = verified.application_checks
    assert verified.state == pb.CASE_STATE_INITIAL_CALCULATION and not checks.outstanding_checks
    assert checks.paying_parent_nino_verification.outcome == common.MATCH_OUTCOME_MATCHED
    assert checks.paying_parent_employment_status == pb.EMPLOYMENT_STATUS_EMPLOYED
    assert checks.cis_interest_registered and checks.hmrc_interest_registered
    assert all(c.child_benefit.entitled for c in verified.qualifying_children)
    assert (verified.initial_effective_date, verified.annual_review_date) == (
        d(2026, 4, 6),
        d(2027, 4, 6),
    )

    live = stack.call(
        "CalculateCase", api.CalculateCaseRequest(request_id=str(uuid.uuid4()), name=case.name)
    )
    assert live.state == pb.CASE_STATE_LIVE
    assert (live.latest_calculation.rate, live.latest_calculation.weekly_amount_pence) == (
        "BASIC",
        96_00,
    )
    plan = stack.call("GetPaymentPlan", api.GetPaymentPlanRequest(name=live.current_payment_plan))
    assert (
        plan.state == pb.PAYMENT_PLAN_STATE_CURRENT
        and plan.payment_frequency == common.PAYMENT_FREQUENCY_MONTHLY
    )
    assert plan.period.start_date == d(2026, 4, 6) and plan.period.end_date == d(2027, 4, 5)
    assert (
        len(plan.payments) == 12 and plan.payments[0].amount_due_pence == 416_00
    )  # £96 × 52 / 12, Direct Pay
    assert plan.total_due_pence == 12 * 416_00

    issued = events_of(stack, case.name, "case.payment_plan_issued")
    assert len(issued) == 1
    letters = stack.call(
        "ListCorrespondence", api.ListCorrespondenceRequest(parent=case.name)
    ).correspondence
    kinds = sorted(pb.CorrespondenceKind.Name(c.kind) for c in letters)
    assert (
        kinds.count("CORRESPONDENCE_KIND_PAYMENT_PLAN") == 2
        and "CORRESPONDENCE_KIND_APPLICATION_ACKNOWLEDGEMENT" in kinds
    )

    assert (
        _first_calculations_measured() == measured + 1
    )  # the six-week target is measured, once per case


@pytest.mark.own_calculation
def test_a_downstream_failure_half_way_leaves_the_case_as_it_was(stack):
    case = stack.call("CreateCase", alex_and_bethan())
    stack.services["calculation"].stop()
    err = error(
        lambda: stack.call(
            "CalculateCase",
            api.CalculateCaseRequest(request_id=str(uuid.uuid4()), name=case.name),
            attempts=1,
        )
    )
    assert err.code() == grpc.StatusCode.UNAVAILABLE
    held = stack.call("GetCase", api.GetCaseRequest(name=case.name))
    assert held.state == pb.CASE_STATE_APPLICATION and not held.current_payment_plan
    assert not held.HasField("latest_calculation")


def test_a_relevant_other_child_is_checked_with_hmrc_and_counted(stack):
    """Chidi Okafor's partner Dana claims Child Benefit for their daughter Zara but opted out of payment: entitled,
    so Zara is a relevant other child of Chidi's."""
    request = alex_and_bethan()
    request.paying_parent.identity.CopyFrom(person("AC345678C", "Chidi", "Okafor", (1990, 6, 30)))
    request.paying_parent.ClearField("address")
    request.receiving_parent.identity.CopyFrom(
        person("AG765432A", "Siân", "Llewellyn-Price", (1983, 5, 17))
    )
    del request.qualifying_children[:]
    request.qualifying_children.add(
        name=common.PersonName(forenames="Osian", surname="Okafor"),
        date_of_birth=d(2014, 11, 11),
        child_reference_number="AK100005A",
    )
    request.relevant_other_children.add(
        name=common.PersonName(forenames="Zara", surname="Okafor"),
        date_of_birth=d(2024, 10, 3),
        child_reference_number="AK100006B",
    )
    case = stack.new_live_case(request)
    [zara] = case.relevant_other_children
    assert zara.child_benefit.entitled and not zara.child_benefit.in_payment
    without = alex_and_bethan()
    without.paying_parent.CopyFrom(request.paying_parent)
    without.receiving_parent.CopyFrom(request.receiving_parent)
    del without.qualifying_children[:]
    without.qualifying_children.extend(request.qualifying_children)
    stack.call(
        "CloseCase",
        api.CloseCaseRequest(
            request_id=str(uuid.uuid4()),
            name=case.name,
            reason=pb.CASE_CLOSURE_REASON_APPLICANT_REQUEST,
        ),
    )
    alone = stack.new_live_case(without)
    assert (
        case.latest_calculation.weekly_amount_pence < alone.latest_calculation.weekly_amount_pence
    )
