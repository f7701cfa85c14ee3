"""The gateways' feeds through the real casework server (conftest.stack): a CIS benefit broadcast and an HMRC RTI
pay rise each become a change of circumstances, applied by the feed pass."""

from __future__ import annotations

import datetime as dt
import uuid

import grpc

from cms.casework.v1 import casework_service_pb2 as api
from cms.casework.v1 import resources_pb2 as pb
from cms.hmrc.v1 import hmrc_scenario_service_pb2 as hmrc_sc
from cms.hmrc.v1 import hmrc_scenario_service_pb2_grpc as hmrc_sc_grpc
from cms_devkit.testing import wait_until
from cms_hmrc_gateway.interests import flows as hmrc_feeds
from cms_simulation.population import ids

from ..conftest import d


def test_a_cis_benefit_broadcast_leads_to_a_recalculation(stack, clock):
    case = stack.new_live_case()
    stack.award_jsa()
    held = stack.recalculated(case)
    assert held.latest_calculation.reason == pb.CALCULATION_REASON_CHANGE_OF_CIRCUMSTANCES
    assert held.latest_calculation.rate == "FLAT"  # income-based JSA: the flat rate
    assert held.current_payment_plan != case.current_payment_plan
    changes = stack.call(
        "ListChangesOfCircumstances", api.ListChangesOfCircumstancesRequest(parent=case.name)
    )
    [benefit] = changes.changes_of_circumstances
    assert (
        benefit.type == pb.CHANGE_OF_CIRCUMSTANCES_TYPE_CHANGE_BENEFIT_DETAILS
        and benefit.source_event_id
    )
    assert benefit.state == pb.CHANGE_OF_CIRCUMSTANCES_STATE_APPLIED and benefit.liability_changed


def test_an_rti_pay_rise_reported_by_hmrc_is_applied_past_the_tolerance(stack, clock):

    case = stack.new_live_case()
    hmrc = stack.services["hmrc"]
    channel = grpc.insecure_channel(f"127.0.0.1:{hmrc.server.port}")
    hmrc_sc_grpc.HmrcScenarioServiceStub(channel).ApplyLifeEvent(
        hmrc_sc.ApplyLifeEventRequest(
            request_id=str(uuid.uuid4()),
            nino="AA123456A",
            effective_date=d(2026, 4, 6),
            pay_change=hmrc_sc.PayChange(
                employment_id=ids.employment_id("AA123456A", 2),
                new_annual_taxable_pay_pence=52_000_00,
            ),
        ),
        metadata=stack.creds.staff("scenario-admin", "scenario_admin"),
        timeout=10,
    )
    channel.close()
    clock.advance(dt.timedelta(days=100))  # three monthly pays at the new rate
    assert hmrc_feeds.run_due(sessions=hmrc.sessions, hmrc=hmrc.hmrc, clock=clock) >= 1

    def applied():
        found = stack.call(
            "ListChangesOfCircumstances",
            api.ListChangesOfCircumstancesRequest(
                parent=case.name, type=pb.CHANGE_OF_CIRCUMSTANCES_TYPE_CHANGE_INCOME
            ),
        ).changes_of_circumstances
        return [c for c in found if c.state != pb.CHANGE_OF_CIRCUMSTANCES_STATE_VERIFIED] or None

    [income] = wait_until(applied, timeout=60, what="the RTI change to be applied")
    assert (
        income.reported_by == pb.REPORTER_HMRC
        and income.income_change.source == pb.INCOME_SOURCE_RTI
    )
    assert (
        income.state == pb.CHANGE_OF_CIRCUMSTANCES_STATE_APPLIED
        and income.income_change.tolerance_breached
    )
    held = stack.call("GetCase", api.GetCaseRequest(name=case.name))
    assert held.latest_calculation.weekly_amount_pence > case.latest_calculation.weekly_amount_pence
