"""Simulated credit files agree with what the other gateways see of the same people (through GetCreditFile)."""

from __future__ import annotations

from cms.cra.v1 import cra_scenario_service_pb2 as sc
from cms.cra.v1 import resources_pb2 as pb


def test_files_agree_with_the_other_gateways_for_a_couple(cra):
    chidi = cra("GetCreditFile", sc.GetCreditFileRequest(nino="AC345678C"))
    dana = cra("GetCreditFile", sc.GetCreditFileRequest(nino="AE456789D"))
    joint = {a.account_id for a in chidi.current_accounts if a.holding == pb.ACCOUNT_HOLDING_JOINT}
    assert joint and joint == {
        a.account_id for a in dana.current_accounts if a.holding == pb.ACCOUNT_HOLDING_JOINT
    }
    assert [a.name.surname for a in chidi.financial_associates] == ["Whitfield"]
    # Self-employed with £182,000 profit: takings land in a sole trader's business account.
    business = [
        a for a in chidi.current_accounts if a.holding == pb.ACCOUNT_HOLDING_SOLE_TRADER_BUSINESS
    ]
    assert business and business[0].average_monthly_credit_turnover_pence > 15_000_00
