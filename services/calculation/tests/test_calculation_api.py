"""CalculationService through a real gRPC server on port 0 and a real database."""

from __future__ import annotations

import uuid

import grpc
import pytest
from google.type import date_pb2
from sqlalchemy import func, select

from cms.calculation.v1 import calculation_service_pb2 as api
from cms.calculation.v1 import calculation_service_pb2_grpc as api_grpc
from cms.calculation.v1 import resources_pb2 as pb
from cms_calculation.app import CalculationService
from cms_calculation.calculations.models import StoredCalculation
from cms_platform.grpc_errors import details_of, violated_fields
from cms_platform.models import OutboxEvent


def calc_input(annual_pence: int = 31_200_00, children: int = 2, **kw) -> pb.CalculationInput:
    return pb.CalculationInput(
        effective_date=date_pb2.Date(year=2026, month=5, day=1),
        paying_parent_income=pb.PayingParentIncome(hmrc_gross_annual_income_pence=annual_pence, hmrc_tax_year="2025-26"),
        qualifying_children=[pb.QualifyingChild(child_reference=f"child-{i}", receiving_parent_reference="rp-1")
                             for i in range(children)],
        service_type=pb.SERVICE_TYPE_DIRECT_PAY, **kw)


@pytest.fixture
def calculation(start_service):
    service, channel = start_service(CalculationService)
    return service, api_grpc.CalculationServiceStub(channel)


def test_basic_rate_two_children_is_explained_and_stored(calculation, creds):
    service, stub = calculation
    # £31,200 a year → £598.36 a week; 16% → £95.74 → £96 (rules.md §2.5 worked example shape).
    calc = stub.CreateCalculation(api.CreateCalculationRequest(request_id=str(uuid.uuid4()), case_reference="case-1",
                                                               input=calc_input()), metadata=creds.staff(), timeout=5)
    assert calc.rate == pb.RATE_BASIC
    assert calc.gross_weekly_income_pence == 59_836
    assert calc.weekly_amount_pence == 96_00
    assert [s.citation for s in calc.steps][0] == "2012 Regs reg 35(1)"
    monthly = {p.frequency: p.amount_pence for p in calc.periodic_amounts}
    assert monthly[4] == 416_00  # £96 × 52 / 12
    again = stub.GetCalculation(api.GetCalculationRequest(name=calc.name), metadata=creds.staff(), timeout=5)
    assert again == calc


def test_retry_with_same_request_id_has_one_effect(calculation, creds):
    service, stub = calculation
    request = api.CreateCalculationRequest(request_id=str(uuid.uuid4()), case_reference="case-2", input=calc_input())
    first = stub.CreateCalculation(request, metadata=creds.staff(), timeout=5)
    second = stub.CreateCalculation(request, metadata=creds.staff(), timeout=5)
    assert first == second
    with service.sessions() as s:
        assert s.scalar(select(func.count()).select_from(StoredCalculation)) == 1
        assert s.scalar(select(func.count()).select_from(OutboxEvent)) == 1


def test_same_request_id_for_a_different_request_is_refused(calculation, creds):
    _, stub = calculation
    rid = str(uuid.uuid4())
    stub.CreateCalculation(api.CreateCalculationRequest(request_id=rid, case_reference="c", input=calc_input()),
                           metadata=creds.staff(), timeout=5)
    with pytest.raises(grpc.RpcError) as err:
        stub.CreateCalculation(api.CreateCalculationRequest(request_id=rid, case_reference="other",
                                                            input=calc_input()), metadata=creds.staff(), timeout=5)
    assert err.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert violated_fields(err.value) == ["request_id"]


def test_bad_input_names_every_field(calculation, creds):
    _, stub = calculation
    with pytest.raises(grpc.RpcError) as err:
        stub.CreateCalculation(api.CreateCalculationRequest(request_id="not-a-uuid", input=pb.CalculationInput(
            effective_date=date_pb2.Date(year=2026, month=2, day=30))), metadata=creds.staff(), timeout=5)
    assert err.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    fields = set(violated_fields(err.value))
    assert {"request_id", "case_reference", "input.effective_date", "input.qualifying_children",
            "input.service_type"} <= fields
    assert details_of(err.value)["ErrorInfo"].reason == "INVALID_ARGUMENT"


def test_not_found_carries_resource_info(calculation, creds):
    _, stub = calculation
    with pytest.raises(grpc.RpcError) as err:
        stub.GetCalculation(api.GetCalculationRequest(name="calculations/nope"), metadata=creds.staff(), timeout=5)
    assert err.value.code() == grpc.StatusCode.NOT_FOUND
    assert details_of(err.value)["ResourceInfo"].resource_name == "calculations/nope"


def test_no_identity_is_unauthenticated(calculation):
    _, stub = calculation
    with pytest.raises(grpc.RpcError) as err:
        stub.PreviewCalculation(api.PreviewCalculationRequest(input=calc_input()), timeout=5)
    assert err.value.code() == grpc.StatusCode.UNAUTHENTICATED


def test_forged_identity_is_unauthenticated(calculation):
    from cms_platform.identity import IdentityCodec, staff_caller

    _, stub = calculation
    forged = IdentityCodec("some-other-key-that-is-long-enough-for-hs256").mint(staff_caller("mallory"))
    with pytest.raises(grpc.RpcError) as err:
        stub.PreviewCalculation(api.PreviewCalculationRequest(input=calc_input()),
                                metadata=(("authorization", f"Bearer {forged}"),), timeout=5)
    assert err.value.code() == grpc.StatusCode.UNAUTHENTICATED


def test_rates_below_basic_are_a_clear_precondition_until_the_full_engine(calculation, creds):
    _, stub = calculation
    with pytest.raises(grpc.RpcError) as err:
        stub.PreviewCalculation(api.PreviewCalculationRequest(input=calc_input(annual_pence=5_000_00)),
                                metadata=creds.staff(), timeout=5)
    assert err.value.code() == grpc.StatusCode.FAILED_PRECONDITION
    assert details_of(err.value)["PreconditionFailure"].violations[0].type == "RATE_NOT_SUPPORTED"
