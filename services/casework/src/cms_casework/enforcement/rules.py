"""The enforcement ladder as pure rules (docs/domain/money.md, "Enforcement"): each step's entry conditions, who
decides it, the financial data it needs and its enforcement charge; and what a regular deduction order takes.

Pure domain logic: no gRPC, no SQL, no clock. Money is integer pence.

- Steps: Child Support Act 1991 ss31-40B; the administrative liability order of the Child Support (Enforcement)
  Act 2023 only from a date the setting CASEWORK_ADMINISTRATIVE_LIABILITY_ORDERS_FROM names (its commencement is
  not known).
- Charges: Child Support Fees Regulations 2014 (SI 2014/612) reg 10: liability order £300, DEO £50, DER £50, RDO
  £50, LSDO £200. Waivers: reg 12.
- Regular deduction orders: CSA 1991 s32A and the Child Support (Collection and Enforcement) Regulations 1992
  (SI 1992/1989) Part 3A: the deduction leaves the paying parent at least 60% of their net weekly income; nothing
  is taken when the balance on the deduction date is below £40 (monthly order) or £10 (weekly order); a joint
  account only after the account holders' representations.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from cms.casework.v1 import enforcement_pb2 as epb
from cms.common.v1 import types_pb2 as common

S = epb.EnforcementStep
CASEWORKER, TEAM_LEADER = "caseworker", "team_leader"
ENFORCEMENT, DEDUCTION_ORDER = "ENFORCEMENT", "DEDUCTION_ORDER"


@dataclass(frozen=True)
class Step:
    """One step of the ladder: who decides it, what it needs and what it charges."""

    decider: str = CASEWORKER
    charge_pence: int = 0
    # The charge is made when the order is granted (a liability order), not when applied for.
    charged_when_granted: bool = False
    needs_negotiation: bool = True
    needs_liability_order: bool = False
    needs_charging_order: bool = False
    needs_finding: bool = False
    needs_no_ongoing_liability: bool = False
    # The CRA search purpose of the financial data obtained first ("" for none).
    financial_data: str = ""


LADDER: dict[int, Step] = {
    S.ENFORCEMENT_STEP_CONTACT_AND_NEGOTIATION: Step(needs_negotiation=False),
    S.ENFORCEMENT_STEP_DEDUCTION_FROM_EARNINGS_ORDER: Step(charge_pence=50_00),
    S.ENFORCEMENT_STEP_DEDUCTION_FROM_EARNINGS_REQUEST: Step(charge_pence=50_00),
    S.ENFORCEMENT_STEP_REGULAR_DEDUCTION_ORDER: Step(
        decider=TEAM_LEADER, charge_pence=50_00, financial_data=DEDUCTION_ORDER
    ),
    S.ENFORCEMENT_STEP_LUMP_SUM_DEDUCTION_ORDER: Step(
        decider=TEAM_LEADER, charge_pence=200_00, financial_data=DEDUCTION_ORDER
    ),
    S.ENFORCEMENT_STEP_DEDUCTION_FROM_BENEFIT_FOR_ARREARS: Step(needs_no_ongoing_liability=True),
    S.ENFORCEMENT_STEP_LIABILITY_ORDER: Step(
        decider=TEAM_LEADER,
        charge_pence=300_00,
        charged_when_granted=True,
        financial_data=ENFORCEMENT,
    ),
    S.ENFORCEMENT_STEP_ADMINISTRATIVE_LIABILITY_ORDER: Step(
        decider=TEAM_LEADER, charge_pence=300_00, financial_data=ENFORCEMENT
    ),
    S.ENFORCEMENT_STEP_ENFORCEMENT_AGENTS: Step(needs_liability_order=True),
    S.ENFORCEMENT_STEP_CHARGING_ORDER: Step(
        decider=TEAM_LEADER, needs_liability_order=True, financial_data=ENFORCEMENT
    ),
    S.ENFORCEMENT_STEP_ORDER_FOR_SALE: Step(
        decider=TEAM_LEADER, needs_liability_order=True, needs_charging_order=True
    ),
    S.ENFORCEMENT_STEP_THIRD_PARTY_DEBT_ORDER: Step(
        decider=TEAM_LEADER, needs_liability_order=True
    ),
    S.ENFORCEMENT_STEP_DRIVING_DISQUALIFICATION: Step(
        decider=TEAM_LEADER, needs_liability_order=True, needs_finding=True
    ),
    S.ENFORCEMENT_STEP_PASSPORT_DISQUALIFICATION: Step(
        decider=TEAM_LEADER, needs_liability_order=True, needs_finding=True
    ),
    S.ENFORCEMENT_STEP_COMMITTAL: Step(
        decider=TEAM_LEADER, needs_liability_order=True, needs_finding=True
    ),
}

# Recording a finding of wilful refusal or culpable neglect, and waiving a charge, are a team leader's decisions.
FINDING_DECIDER = TEAM_LEADER
WAIVER_DECIDER = TEAM_LEADER
LIABILITY_ORDER_STEPS = (
    S.ENFORCEMENT_STEP_LIABILITY_ORDER,
    S.ENFORCEMENT_STEP_ADMINISTRATIVE_LIABILITY_ORDER,
)


def may_decide(decider: str, role: str) -> bool:
    """A team leader decides a caseworker's steps too; a caseworker only their own."""
    return role == TEAM_LEADER or (decider == CASEWORKER and role == CASEWORKER)


@dataclass(frozen=True)
class Situation:
    """What the entry conditions look at, as the enforcement case and the account stand today."""

    arrears_pence: int
    negotiation_recorded: bool = False
    ongoing_liability: bool = True
    liability_order_granted: bool = False
    charging_order_made: bool = False
    finding_recorded: bool = False
    administrative_liability_orders_available: bool = False


@dataclass(frozen=True)
class Refusal:
    code: str
    description: str


def refusal(step: int, situation: Situation) -> Refusal | None:
    """Why the step may not be taken now (the first entry condition that does not hold), or None."""
    rule = LADDER[step]
    if situation.arrears_pence <= 0:
        return Refusal("NO_ARREARS", "the account shows no arrears to enforce")
    if (
        step == S.ENFORCEMENT_STEP_ADMINISTRATIVE_LIABILITY_ORDER
        and not situation.administrative_liability_orders_available
    ):
        return Refusal(
            "ADMINISTRATIVE_LIABILITY_ORDER_NOT_AVAILABLE",
            "administrative liability orders are not yet in force",
        )
    if rule.needs_negotiation and not situation.negotiation_recorded:
        return Refusal(
            "NO_NEGOTIATION", "contact and negotiation must be recorded before this step"
        )
    if rule.needs_no_ongoing_liability and situation.ongoing_liability:
        return Refusal(
            "ONGOING_LIABILITY",
            "a deduction from benefit for arrears needs the ongoing liability to have ended",
        )
    if rule.needs_liability_order and not situation.liability_order_granted:
        return Refusal("NO_LIABILITY_ORDER", "this step needs a liability order granted")
    if rule.needs_charging_order and not situation.charging_order_made:
        return Refusal("NO_CHARGING_ORDER", "an order for sale needs a charging order")
    if rule.needs_finding and not situation.finding_recorded:
        return Refusal(
            "NO_WILFUL_REFUSAL_FINDING",
            "a sanction needs a recorded finding of wilful refusal or culpable neglect",
        )
    return None


def administrative_liability_orders_available(
    available_from: dt.date | None, today: dt.date
) -> bool:
    """The 2023 Act's administrative liability orders: only from the configured date (None: not available)."""
    return available_from is not None and available_from <= today


# -- regular deduction orders ----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class RdoParameters:
    """The parameters of a regular deduction (CS (Collection and Enforcement) Regs 1992 Part 3A)."""

    # The share of net weekly income a deduction must leave the paying parent, in basis points.
    protected_income_bp: int = 6000
    # No deduction when the balance on the deduction date is below these.
    monthly_minimum_balance_pence: int = 40_00
    weekly_minimum_balance_pence: int = 10_00


RDO_DEFAULTS = RdoParameters()
RDO_FREQUENCIES = (common.PAYMENT_FREQUENCY_WEEKLY, common.PAYMENT_FREQUENCY_MONTHLY)


@dataclass(frozen=True)
class Deduction:
    taken_pence: int
    # Why less than the order's amount was taken ("" for the full amount).
    limited_by: str


def income_cap(net_weekly_income_pence: int, frequency: int, params: RdoParameters) -> int:
    """The most one deduction may take and still leave the protected share of income over its period (a monthly
    period is 52/12 weeks), rounded down."""
    free_bp = 10000 - params.protected_income_bp
    if frequency == common.PAYMENT_FREQUENCY_MONTHLY:
        return (net_weekly_income_pence * free_bp * 52) // (10000 * 12)
    return (net_weekly_income_pence * free_bp) // 10000


def regular_deduction(
    *,
    order_pence: int,
    frequency: int,
    balance_pence: int,
    net_weekly_income_pence: int,
    owed_pence: int,
    params: RdoParameters = RDO_DEFAULTS,
) -> Deduction:
    """What a regular deduction order takes on a deduction date: nothing below the minimum balance; else the order's
    amount, no more than the balance, the income cap or what is owed."""
    minimum = (
        params.monthly_minimum_balance_pence
        if frequency == common.PAYMENT_FREQUENCY_MONTHLY
        else params.weekly_minimum_balance_pence
    )
    if balance_pence < minimum:
        return Deduction(0, "BALANCE_BELOW_MINIMUM")
    limits = [
        (order_pence, ""),
        (income_cap(net_weekly_income_pence, frequency, params), "PROTECTED_INCOME"),
        (balance_pence, "BALANCE"),
        (max(0, owed_pence), "OWED"),
    ]
    taken, why = min(limits, key=lambda limit: limit[0])
    return Deduction(taken, why if taken < order_pence else "")
