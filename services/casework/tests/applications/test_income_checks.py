"""The paying parent's income at application, through the real casework server and the gateways (conftest.stack):
Universal Credit with earnings, and RTI current income compared with the HMRC historic figure (reg 34 of
SI 2012/2677)."""

from __future__ import annotations

import uuid

import grpc
from google.type import date_pb2

from cms.casework.v1 import casework_service_pb2 as api
from cms.casework.v1 import resources_pb2 as pb
from cms.common.v1 import types_pb2 as common
from cms.dwp.v1 import dwp_scenario_service_pb2 as dwp_sc
from cms.dwp.v1 import dwp_scenario_service_pb2_grpc as dwp_sc_grpc
from cms.dwp.v1 import resources_pb2 as dwp_pb

from ..conftest import d


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


def _pay_rise(stack, annual_pence: int, *, nino: str = "AA123456A") -> None:
    """Alex's pay from 1 January 2026, in HMRC's records (RTI shows it; the HMRC figure for the tax year only in
    part)."""
    from cms.hmrc.v1 import hmrc_scenario_service_pb2 as hmrc_sc
    from cms.hmrc.v1 import hmrc_scenario_service_pb2_grpc as hmrc_sc_grpc

    admin = stack.creds.staff("scenario-admin", "scenario_admin")
    with grpc.insecure_channel(f"127.0.0.1:{stack.services['hmrc'].server.port}") as channel:
        scenario = hmrc_sc_grpc.HmrcScenarioServiceStub(channel)
        held = scenario.GetPerson(hmrc_sc.GetPersonRequest(nino=nino), metadata=admin, timeout=10)
        live = next(e for e in held.employments if not e.employment.end_date.year)
        live.pay_changes.add(
            effective_date=date_pb2.Date(year=2026, month=1, day=1),
            annual_taxable_pay_pence=annual_pence,
        )
        scenario.UpsertPerson(
            hmrc_sc.UpsertPersonRequest(request_id=str(uuid.uuid4()), person=held),
            metadata=admin,
            timeout=10,
        )


def test_rti_current_income_a_quarter_above_the_historic_figure_is_used_at_application(stack):
    # From January Alex earns £50,000 a year (£958.90 a week) against an HMRC figure of about £600-£690 a week:
    # a difference of more than 25% of historic income, so current income is used (reg 34(1)(a) of SI 2012/2677).
    _pay_rise(stack, 50_000_00)
    live = stack.new_live_case()
    latest = live.latest_calculation
    assert latest.income_basis == "CURRENT_DIFFERS_FROM_HISTORIC"
    assert abs(latest.current_weekly_income_pence - 50_000_00 * 7 // 365) < 100
    assert latest.gross_weekly_income_pence == latest.current_weekly_income_pence
    assert latest.historic_weekly_income_pence * 125 // 100 < latest.current_weekly_income_pence
    assert latest.rate == "BASIC_PLUS"
    payer = stack.call("GetClient", api.GetClientRequest(name=live.paying_parent.name))
    held = payer.employment_and_income
    assert (held.current_income_source, held.current_income_date) == (
        pb.INCOME_SOURCE_RTI,
        d(2026, 4, 6),
    )
    assert held.current_gross_weekly_income_pence == latest.current_weekly_income_pence


def test_rti_current_income_within_a_quarter_of_the_historic_figure_leaves_historic_income(stack):
    live = stack.new_live_case()
    latest = live.latest_calculation
    assert (latest.income_basis, latest.rate, latest.weekly_amount_pence) == (
        "HISTORIC",
        "BASIC",
        96_00,
    )
    # RTI was asked and compared: Alex's £31,200 a year is about £598 a week either way.
    assert abs(latest.current_weekly_income_pence - latest.historic_weekly_income_pence) < 200
    assert latest.current_weekly_income_pence > 0
    payer = stack.call("GetClient", api.GetClientRequest(name=live.paying_parent.name))
    assert not payer.employment_and_income.current_income_source
