"""The paying parent's income at application, through the real casework server and the gateways (conftest.stack):
Universal Credit with earnings, and RTI current income compared with the HMRC historic figure (reg 34 of
SI 2012/2677)."""

from __future__ import annotations

import uuid

import grpc
from google.type import date_pb2

from cms.casework.v1 import casework_service_pb2 as api
from cms.common.v1 import types_pb2 as common
from cms.dwp.v1 import dwp_scenario_service_pb2 as dwp_sc
from cms.dwp.v1 import dwp_scenario_service_pb2_grpc as dwp_sc_grpc
from cms.dwp.v1 import resources_pb2 as dwp_pb

from ..conftest import alex_and_bethan, d


def _award_universal_credit(stack, *, earnings: bool, nino: str = "AA123456A") -> None:
    with grpc.insecure_channel(f"127.0.0.1:{stack.services['dwp'].server.port}") as channel:
        dwp_sc_grpc.DwpScenarioServiceStub(channel).StartBenefitAward(
            dwp_sc.StartBenefitAwardRequest(
                request_id=str(uuid.uuid4()),
                nino=nino,
                benefit_type=dwp_pb.BENEFIT_TYPE_UNIVERSAL_CREDIT,
                start_date=date_pb2.Date(year=2026, month=1, day=6),
                amount=common.PeriodicAmount(
                    frequency=common.PAYMENT_FREQUENCY_MONTHLY, amount_pence=212_00
                ),
                universal_credit=dwp_pb.UniversalCreditDetails(
                    earned_income_in_assessment_period=earnings
                ),
            ),
            metadata=stack.creds.staff("scenario-admin", "scenario_admin"),
            timeout=10,
        )


def test_a_universal_credit_claimant_with_earnings_is_assessed_on_income(stack):
    # Alex earns £31,200 a year and claims UC with earned income in the assessment period: UC is not then a
    # prescribed benefit (reg 44(2)), so the basic rate on his income applies, 16% of £600 for two children.
    _award_universal_credit(stack, earnings=True)
    live = stack.new_live_case()
    assert (live.latest_calculation.rate, live.latest_calculation.weekly_amount_pence) == (
        "BASIC",
        96_00,
    )
    held = stack.call("GetClient", api.GetClientRequest(name=live.paying_parent.name))
    (uc,) = [b for b in held.benefits if b.benefit == "UNIVERSAL_CREDIT"]
    assert uc.universal_credit_earned_income


def test_universal_credit_with_no_earned_income_is_the_flat_rate(stack):
    _award_universal_credit(stack, earnings=False)
    live = stack.new_live_case()
    assert (live.latest_calculation.rate, live.latest_calculation.weekly_amount_pence) == (
        "FLAT",
        7_00,
    )
    assert live.latest_calculation.effective_date == d(2026, 4, 6)

