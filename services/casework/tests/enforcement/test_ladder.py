"""The enforcement ladder through the running stack (EnforcementService, the real account, the real cra-gateway):
each step's entry conditions and refusals, who decides, the charges and their waiver, the RDO thresholds, the LSDO's
interim and final orders, and a receipt paying maintenance and arrears before the £300 liability order charge.
Business clock: 6 April 2026; Alex pays Bethan £416.00 a month and the £83.20 collection fee."""

from __future__ import annotations

import datetime as dt

import grpc

from cms.casework.v1 import accounts_service_pb2 as acapi
from cms.casework.v1 import accounts_service_pb2_grpc as acgrpc
from cms.casework.v1 import casework_service_pb2 as api
from cms.casework.v1 import enforcement_pb2 as epb
from cms.casework.v1 import enforcement_service_pb2 as eapi
from cms.casework.v1 import money_events_pb2 as mev
from cms.casework.v1 import resources_pb2 as pb
from cms.common.v1 import types_pb2 as common
from cms.cra.v1 import cra_scenario_service_pb2 as cra_sc
from cms.cra.v1 import cra_scenario_service_pb2_grpc as cra_sc_grpc
from cms.cra.v1 import resources_pb2 as cra_pb
from cms_devkit.testing import wait_until
from cms_platform.convert import pb_date

from ..arrears.helpers import (
    MONTHLY_DUE,
    balances,
    ledger,
    letters_of,
    receive,
)
from ..arrears.helpers import opened as opened_account
from ..money.conftest import chidi_and_sian
from .conftest import case_in_arrears, enforcement_events, reason, refused, rid

S = epb.EnforcementStep


def open_case(enforcement, case: pb.Case) -> epb.EnforcementCase:
    return enforcement.call(
        "OpenEnforcementCase", eapi.OpenEnforcementCaseRequest(request_id=rid(), parent=case.name)
    )


def take(enforcement, ec: epb.EnforcementCase, step: int, *, as_tl: bool = False, **fields):
    request = eapi.TakeEnforcementActionRequest(
        request_id=rid(),
        parent=ec.name,
        enforcement_action=epb.EnforcementAction(step=step, **fields),
    )
    if as_tl:
        return enforcement.as_team_leader("TakeEnforcementAction", request)
    return enforcement.call("TakeEnforcementAction", request)


def test_enforcement_needs_arrears_and_runs_with_case_surveillance(stack, enforcement, clock):
    clear = stack.new_live_case(chidi_and_sian())
    opened_account(stack, clear)
    assert reason(refused(lambda: open_case(enforcement, clear))) == "NO_ARREARS"

    case = case_in_arrears(stack, clock, 700_00)
    opened = open_case(enforcement, case)
    assert opened.state == epb.ENFORCEMENT_CASE_STATE_OPEN
    assert opened.arrears_pence == 700_00 and opened.surveillance_active
    watched = stack.call("GetCase", api.GetCaseRequest(name=case.name))
    assert watched.case_surveillance.active
    assert reason(refused(lambda: open_case(enforcement, case))) == "ENFORCEMENT_OPEN"
    assert len(enforcement_events(stack, case.name, "case_opened")) == 1

    # The CRA's alert on the paying parent (a new current account on their credit file) comes through the broker and
    # is recorded on the enforcement case.
    with grpc.insecure_channel(f"127.0.0.1:{stack.services['cra'].server.port}") as channel:
        cra_sc_grpc.CraScenarioServiceStub(channel).ApplyCreditFileChange(
            cra_sc.ApplyCreditFileChangeRequest(
                request_id=rid(),
                nino=case.paying_parent.identity.nino,
                add_current_account=cra_pb.CurrentAccount(
                    provider_name="Thameside Bank",
                    sort_code="30-90-12",
                    account_number="41234567",
                    holding=cra_pb.ACCOUNT_HOLDING_SOLE,
                ),
            ),
            metadata=stack.creds.staff("scenario-admin", "scenario_admin"),
            timeout=10,
        )

    def alerts() -> list[str]:
        got = enforcement.call(
            "GetEnforcementCase", eapi.GetEnforcementCaseRequest(name=opened.name)
        )
        return [a.kind for a in got.surveillance_alerts]

    assert wait_until(alerts, timeout=120, what="the CRA's alert on the enforcement case") == [
        "NEW_CURRENT_ACCOUNT"
    ]

    closed = enforcement.call(
        "CloseEnforcementCase",
        eapi.CloseEnforcementCaseRequest(request_id=rid(), name=opened.name, reason="paid in full"),
    )
    assert closed.state == epb.ENFORCEMENT_CASE_STATE_CLOSED and not closed.surveillance_active
    assert not stack.call("GetCase", api.GetCaseRequest(name=case.name)).case_surveillance.active


def test_collection_powers_without_a_court(stack, enforcement, clock):
    case = case_in_arrears(stack, clock, 700_00)
    ec = open_case(enforcement, case)

    # Nothing before contact and negotiation; a benefit deduction for arrears never while liability goes on.
    err = refused(
        lambda: take(
            enforcement,
            ec,
            S.ENFORCEMENT_STEP_REGULAR_DEDUCTION_ORDER,
            as_tl=True,
            deduction_amount_pence=100_00,
            deduction_frequency=common.PAYMENT_FREQUENCY_MONTHLY,
        )
    )
    assert reason(err) == "NO_NEGOTIATION"
    assert reason(
        refused(lambda: take(enforcement, ec, S.ENFORCEMENT_STEP_CONTACT_AND_NEGOTIATION))
    ) == ("NO_NEGOTIATION")  # no agreement made and no note of how one was tried
    contact = take(
        enforcement,
        ec,
        S.ENFORCEMENT_STEP_CONTACT_AND_NEGOTIATION,
        note="Called twice and wrote: no offer to pay",
    )
    assert contact.state == epb.ENFORCEMENT_ACTION_STATE_TAKEN and not contact.charge
    assert (
        reason(
            refused(
                lambda: take(enforcement, ec, S.ENFORCEMENT_STEP_DEDUCTION_FROM_BENEFIT_FOR_ARREARS)
            )
        )
        == "ONGOING_LIABILITY"
    )

    # An RDO is a team leader's; a joint account needs representations first.
    rdo = dict(deduction_amount_pence=100_00, deduction_frequency=common.PAYMENT_FREQUENCY_MONTHLY)
    denied = refused(
        lambda: take(enforcement, ec, S.ENFORCEMENT_STEP_REGULAR_DEDUCTION_ORDER, **rdo)
    )
    assert denied.code() == grpc.StatusCode.PERMISSION_DENIED
    joint = refused(
        lambda: take(
            enforcement,
            ec,
            S.ENFORCEMENT_STEP_REGULAR_DEDUCTION_ORDER,
            as_tl=True,
            joint_account=True,
            **rdo,
        )
    )
    assert reason(joint) == "NO_REPRESENTATIONS"
    bad = refused(
        lambda: take(
            enforcement,
            ec,
            S.ENFORCEMENT_STEP_REGULAR_DEDUCTION_ORDER,
            as_tl=True,
            deduction_amount_pence=100_00,
            deduction_frequency=common.PAYMENT_FREQUENCY_FORTNIGHTLY,
        )
    )
    assert bad.code() == grpc.StatusCode.INVALID_ARGUMENT
    owed_before = balances(stack, case, clock.today()).owed
    order = take(
        enforcement,
        ec,
        S.ENFORCEMENT_STEP_REGULAR_DEDUCTION_ORDER,
        as_tl=True,
        joint_account=True,
        representations_date=pb_date(clock.today()),
        **rdo,
    )
    assert order.charge_pence == 50_00 and order.charge
    assert order.financial_data.purpose == "DEDUCTION_ORDER"
    assert order.financial_data.case_reference == case.name.removeprefix("cases/")
    assert order.financial_data.search_reference
    after = balances(stack, case, clock.today())
    assert after.owed == owed_before + 50_00 and after.enforcement_charges == 50_00
    assert after.arrears == 700_00  # an enforcement charge is never arrears

    # The thresholds: below £40 on a monthly order nothing is taken; the protected 60% of income binds.
    def deduct(balance: int, income: int, days_ago: int) -> epb.RegularDeduction:
        return enforcement.call(
            "RecordRegularDeduction",
            eapi.RecordRegularDeductionRequest(
                request_id=rid(),
                name=order.name,
                deduction_date=pb_date(clock.today() - dt.timedelta(days=days_ago)),
                balance_pence=balance,
                net_weekly_income_pence=income,
            ),
        )

    nothing = deduct(39_99, 500_00, 2)
    assert (nothing.taken_pence, nothing.limited_by, nothing.receipt) == (
        0,
        "BALANCE_BELOW_MINIMUM",
        "",
    )
    capped = deduct(1000_00, 20_00, 1)  # 40% of £20 a week over 52/12 weeks: £34.66
    assert (capped.taken_pence, capped.limited_by) == (34_66, "PROTECTED_INCOME")
    assert capped.receipt.startswith("accounts/")
    full = deduct(1000_00, 500_00, 0)
    assert (full.taken_pence, full.limited_by) == (100_00, "")
    assert balances(stack, case, clock.today()).received == 134_66
    assert reason(refused(lambda: deduct(1000_00, 500_00, 0))) == "DEDUCTION_RECORDED"

    # LSDO: arrears only; the interim order freezes, the final order takes it and brings £200.
    lsdo_more = refused(
        lambda: take(
            enforcement,
            ec,
            S.ENFORCEMENT_STEP_LUMP_SUM_DEDUCTION_ORDER,
            as_tl=True,
            lump_sum_pence=10_000_00,
        )
    )
    assert reason(lsdo_more) == "MORE_THAN_ARREARS"
    interim = take(
        enforcement,
        ec,
        S.ENFORCEMENT_STEP_LUMP_SUM_DEDUCTION_ORDER,
        as_tl=True,
        lump_sum_pence=200_00,
    )
    assert interim.state == epb.ENFORCEMENT_ACTION_STATE_INTERIM_ORDER and not interim.charge
    final = enforcement.as_team_leader(
        "MakeFinalLumpSumDeductionOrder",
        eapi.MakeFinalLumpSumDeductionOrderRequest(request_id=rid(), name=interim.name),
    )
    assert final.state == epb.ENFORCEMENT_ACTION_STATE_FINAL_ORDER
    assert final.receipt and final.charge_pence == 200_00
    again = refused(
        lambda: enforcement.as_team_leader(
            "MakeFinalLumpSumDeductionOrder",
            eapi.MakeFinalLumpSumDeductionOrderRequest(request_id=rid(), name=interim.name),
        )
    )
    assert reason(again) == "NOT_INTERIM"
    assert balances(stack, case, clock.today()).enforcement_charges == 250_00
    assert letters_of(stack, case, pb.CORRESPONDENCE_KIND_ENFORCEMENT_CHARGE_NOTICE)


def test_liability_order_sanctions_and_waivers(stack, enforcement, clock):
    case = case_in_arrears(stack, clock, 700_00)
    ec = open_case(enforcement, case)
    take(enforcement, ec, S.ENFORCEMENT_STEP_CONTACT_AND_NEGOTIATION, note="No reply to letters")

    # Nothing after a liability order without one; the administrative order is not yet available.
    for step in (
        S.ENFORCEMENT_STEP_CHARGING_ORDER,
        S.ENFORCEMENT_STEP_THIRD_PARTY_DEBT_ORDER,
        S.ENFORCEMENT_STEP_DRIVING_DISQUALIFICATION,
    ):
        assert (
            reason(refused(lambda s=step: take(enforcement, ec, s, as_tl=True)))
            == "NO_LIABILITY_ORDER"
        )
    assert (
        reason(
            refused(
                lambda: take(
                    enforcement, ec, S.ENFORCEMENT_STEP_ADMINISTRATIVE_LIABILITY_ORDER, as_tl=True
                )
            )
        )
        == "ADMINISTRATIVE_LIABILITY_ORDER_NOT_AVAILABLE"
    )

    # The application (a team leader's) obtains financial data for enforcement; the charge comes when granted.
    denied = refused(lambda: take(enforcement, ec, S.ENFORCEMENT_STEP_LIABILITY_ORDER))
    assert denied.code() == grpc.StatusCode.PERMISSION_DENIED
    applied = take(enforcement, ec, S.ENFORCEMENT_STEP_LIABILITY_ORDER, as_tl=True)
    assert applied.state == epb.ENFORCEMENT_ACTION_STATE_APPLIED and not applied.charge
    assert (
        applied.financial_data.purpose == "ENFORCEMENT" and applied.financial_data.search_reference
    )
    assert letters_of(stack, case, pb.CORRESPONDENCE_KIND_LIABILITY_ORDER_APPLICATION_NOTICE)
    granted = enforcement.as_team_leader(
        "RecordLiabilityOrderOutcome",
        eapi.RecordLiabilityOrderOutcomeRequest(
            request_id=rid(), name=applied.name, outcome=epb.LIABILITY_ORDER_OUTCOME_GRANTED
        ),
    )
    assert granted.state == epb.ENFORCEMENT_ACTION_STATE_GRANTED and granted.charge_pence == 300_00
    (applied_event,) = enforcement_events(stack, case.name, "charge_applied")
    assert mev.EnforcementChargeApplied.FromString(applied_event.value).amount_pence == 300_00
    assert balances(stack, case, clock.today()).enforcement_charges == 300_00
    # And the account's API shows it apart from the arrears.
    listed = acgrpc.AccountsServiceStub(stack.channel).ListAccounts(
        acapi.ListAccountsRequest(case=case.name),
        metadata=stack.creds.staff("cw-1", "caseworker"),
        timeout=20,
    )
    assert listed.accounts[0].balances.enforcement_charges_pence == 300_00

    # After the order: a charging order (with financial data), then an order for sale; sanctions need the finding.
    assert reason(
        refused(lambda: take(enforcement, ec, S.ENFORCEMENT_STEP_ORDER_FOR_SALE, as_tl=True))
    ) == ("NO_CHARGING_ORDER")
    charging = take(enforcement, ec, S.ENFORCEMENT_STEP_CHARGING_ORDER, as_tl=True)
    assert charging.financial_data.purpose == "ENFORCEMENT"
    take(enforcement, ec, S.ENFORCEMENT_STEP_ORDER_FOR_SALE, as_tl=True)
    take(enforcement, ec, S.ENFORCEMENT_STEP_ENFORCEMENT_AGENTS)
    assert (
        reason(
            refused(
                lambda: take(
                    enforcement, ec, S.ENFORCEMENT_STEP_PASSPORT_DISQUALIFICATION, as_tl=True
                )
            )
        )
        == "NO_WILFUL_REFUSAL_FINDING"
    )
    finding = eapi.RecordWilfulRefusalFindingRequest(
        request_id=rid(),
        name=ec.name,
        note="Means to pay shown by the CRA data; refused every offer",
    )
    assert refused(lambda: enforcement.call("RecordWilfulRefusalFinding", finding)).code() == (
        grpc.StatusCode.PERMISSION_DENIED
    )
    found = enforcement.as_team_leader("RecordWilfulRefusalFinding", finding)
    assert found.wilful_refusal_finding.recorded_by == "tl-1"
    committal = take(enforcement, ec, S.ENFORCEMENT_STEP_COMMITTAL, as_tl=True)
    assert committal.state == epb.ENFORCEMENT_ACTION_STATE_TAKEN
    assert (
        len(
            enforcement.call(
                "GetEnforcementCase", eapi.GetEnforcementCaseRequest(name=ec.name)
            ).actions
        )
        == 6
    )

    # A waiver is a team leader's, on a reg 12 ground, and covers the charge once.
    waive = eapi.WaiveEnforcementChargeRequest(
        request_id=rid(), name=granted.name, ground=epb.CHARGE_WAIVER_GROUND_SUCCESSFUL_APPEAL
    )
    assert refused(lambda: enforcement.call("WaiveEnforcementCharge", waive)).code() == (
        grpc.StatusCode.PERMISSION_DENIED
    )
    owed = balances(stack, case, clock.today()).owed
    waived = enforcement.as_team_leader("WaiveEnforcementCharge", waive)
    assert waived.waived_pence == 300_00
    assert balances(stack, case, clock.today()).owed == owed - 300_00
    waive.request_id = rid()
    assert (
        reason(refused(lambda: enforcement.as_team_leader("WaiveEnforcementCharge", waive)))
        == "CHARGE_WAIVED"
    )
    no_charge = eapi.WaiveEnforcementChargeRequest(
        request_id=rid(), name=charging.name, ground=epb.CHARGE_WAIVER_GROUND_CMS_ERROR
    )
    assert (
        reason(refused(lambda: enforcement.as_team_leader("WaiveEnforcementCharge", no_charge)))
        == "NO_CHARGE"
    )
    (waived_event,) = enforcement_events(stack, case.name, "charge_waived")
    assert mev.EnforcementChargeWaived.FromString(waived_event.value).ground == (
        epb.CHARGE_WAIVER_GROUND_SUCCESSFUL_APPEAL
    )
    waivers = [
        e
        for e in ledger(stack, case)
        if e.adjustment_kind == mev.ADJUSTMENT_KIND_ENFORCEMENT_CHARGE_WAIVER
    ]
    assert [e.amount_pence for e in waivers] == [-300_00]


def test_a_receipt_pays_maintenance_and_arrears_before_the_liability_order_charge(
    stack, enforcement, clock
):
    case = case_in_arrears(stack, clock, 700_00)
    ec = open_case(enforcement, case)
    take(enforcement, ec, S.ENFORCEMENT_STEP_CONTACT_AND_NEGOTIATION, note="No reply to letters")
    applied = take(enforcement, ec, S.ENFORCEMENT_STEP_LIABILITY_ORDER, as_tl=True)
    enforcement.as_team_leader(
        "RecordLiabilityOrderOutcome",
        eapi.RecordLiabilityOrderOutcomeRequest(
            request_id=rid(), name=applied.name, outcome=epb.LIABILITY_ORDER_OUTCOME_GRANTED
        ),
    )
    # £700 arrears, April's £416 and its £83.20 fee, then £100 of the £300 charge.
    receive(stack, clock, case, 700_00 + MONTHLY_DUE + 100_00)
    allocations = [
        e for e in ledger(stack, case) if e.kind == mev.LEDGER_ENTRY_KIND_ALLOCATION and e.receipt
    ]
    targets = [e.allocation_target for e in allocations]
    assert targets[-1] == mev.ALLOCATION_TARGET_ENFORCEMENT_CHARGES
    assert mev.ALLOCATION_TARGET_ENFORCEMENT_CHARGES not in targets[:-1]
    assert allocations[-1].amount_pence == 100_00
    after = balances(stack, case, clock.today())
    assert after.arrears == 0 and after.owed == 200_00
    statement = [
        line
        for line in ledger(stack, case)
        if line.kind == mev.LEDGER_ENTRY_KIND_ENFORCEMENT_CHARGE
    ]
    assert [(line.amount_pence, line.cause) for line in statement] == [
        (300_00, "Enforcement charge: Liability Order")
    ]
