"""The enforcement ladder's pure rules: entry conditions and who decides each step, the charges (Fees Regs 2014
reg 10), the regular deduction order's thresholds (hypothesis), and the account's allocation with enforcement charges
always last (hypothesis)."""

from __future__ import annotations

import datetime as dt

from hypothesis import given
from hypothesis import strategies as st

from cms.casework.v1 import enforcement_pb2 as epb
from cms.common.v1 import types_pb2 as common
from cms_casework.accounts import rules as accounts
from cms_casework.enforcement import rules

S = epb.EnforcementStep
WEEKLY, MONTHLY = common.PAYMENT_FREQUENCY_WEEKLY, common.PAYMENT_FREQUENCY_MONTHLY
READY = rules.Situation(
    arrears_pence=1000_00,
    negotiation_recorded=True,
    ongoing_liability=False,
    liability_order_granted=True,
    charging_order_made=True,
    finding_recorded=True,
    administrative_liability_orders_available=True,
)


def code(step: int, **changes) -> str | None:
    refused = rules.refusal(step, rules.Situation(**{**READY.__dict__, **changes}))
    return refused.code if refused else None


def test_every_step_may_be_taken_when_everything_it_needs_holds():
    assert set(rules.LADDER) == {v for v in S.values() if v}
    for step in rules.LADDER:
        assert code(step) is None


def test_each_entry_condition_refuses_with_its_own_reason():
    assert code(S.ENFORCEMENT_STEP_LUMP_SUM_DEDUCTION_ORDER, arrears_pence=0) == "NO_ARREARS"
    assert code(S.ENFORCEMENT_STEP_REGULAR_DEDUCTION_ORDER, negotiation_recorded=False) == (
        "NO_NEGOTIATION"
    )
    assert code(S.ENFORCEMENT_STEP_CONTACT_AND_NEGOTIATION, negotiation_recorded=False) is None
    assert code(S.ENFORCEMENT_STEP_DEDUCTION_FROM_BENEFIT_FOR_ARREARS, ongoing_liability=True) == (
        "ONGOING_LIABILITY"
    )
    for step in (
        S.ENFORCEMENT_STEP_ENFORCEMENT_AGENTS,
        S.ENFORCEMENT_STEP_CHARGING_ORDER,
        S.ENFORCEMENT_STEP_THIRD_PARTY_DEBT_ORDER,
        S.ENFORCEMENT_STEP_COMMITTAL,
    ):
        assert code(step, liability_order_granted=False) == "NO_LIABILITY_ORDER"
    assert code(S.ENFORCEMENT_STEP_ORDER_FOR_SALE, charging_order_made=False) == (
        "NO_CHARGING_ORDER"
    )
    for step in (
        S.ENFORCEMENT_STEP_DRIVING_DISQUALIFICATION,
        S.ENFORCEMENT_STEP_PASSPORT_DISQUALIFICATION,
        S.ENFORCEMENT_STEP_COMMITTAL,
    ):
        assert code(step, finding_recorded=False) == "NO_WILFUL_REFUSAL_FINDING"
    assert (
        code(
            S.ENFORCEMENT_STEP_ADMINISTRATIVE_LIABILITY_ORDER,
            administrative_liability_orders_available=False,
        )
        == "ADMINISTRATIVE_LIABILITY_ORDER_NOT_AVAILABLE"
    )


def test_the_administrative_liability_order_is_available_only_from_its_setting():
    today = dt.date(2026, 4, 6)
    assert not rules.administrative_liability_orders_available(None, today)
    assert not rules.administrative_liability_orders_available(today + dt.timedelta(days=1), today)
    assert rules.administrative_liability_orders_available(today, today)


def test_charges_are_the_fees_regulations_and_team_leaders_decide_the_court_steps():
    charges = {step: rule.charge_pence for step, rule in rules.LADDER.items() if rule.charge_pence}
    assert charges == {
        S.ENFORCEMENT_STEP_DEDUCTION_FROM_EARNINGS_ORDER: 50_00,
        S.ENFORCEMENT_STEP_DEDUCTION_FROM_EARNINGS_REQUEST: 50_00,
        S.ENFORCEMENT_STEP_REGULAR_DEDUCTION_ORDER: 50_00,
        S.ENFORCEMENT_STEP_LUMP_SUM_DEDUCTION_ORDER: 200_00,
        S.ENFORCEMENT_STEP_LIABILITY_ORDER: 300_00,
        S.ENFORCEMENT_STEP_ADMINISTRATIVE_LIABILITY_ORDER: 300_00,
    }
    lo = rules.LADDER[S.ENFORCEMENT_STEP_LIABILITY_ORDER]
    assert lo.charged_when_granted and lo.financial_data == rules.ENFORCEMENT
    assert rules.LADDER[S.ENFORCEMENT_STEP_CHARGING_ORDER].financial_data == rules.ENFORCEMENT
    assert rules.LADDER[S.ENFORCEMENT_STEP_REGULAR_DEDUCTION_ORDER].financial_data == (
        rules.DEDUCTION_ORDER
    )
    assert not rules.may_decide(rules.TEAM_LEADER, rules.CASEWORKER)
    assert rules.may_decide(rules.CASEWORKER, rules.TEAM_LEADER)
    assert rules.may_decide(rules.CASEWORKER, rules.CASEWORKER)
    assert not rules.may_decide(rules.CASEWORKER, "sensitive_case_workgroup")


# -- regular deduction orders -------------------------------------------------------------------------------------

pence = st.integers(min_value=0, max_value=10_000_00)


def test_the_minimum_balances_are_forty_pounds_monthly_and_ten_pounds_weekly():
    def taken(frequency: int, balance: int) -> rules.Deduction:
        return rules.regular_deduction(
            order_pence=5_00,
            frequency=frequency,
            balance_pence=balance,
            net_weekly_income_pence=1000_00,
            owed_pence=1000_00,
        )

    assert taken(MONTHLY, 39_99) == rules.Deduction(0, "BALANCE_BELOW_MINIMUM")
    assert taken(MONTHLY, 40_00) == rules.Deduction(5_00, "")
    assert taken(WEEKLY, 9_99) == rules.Deduction(0, "BALANCE_BELOW_MINIMUM")
    assert taken(WEEKLY, 10_00) == rules.Deduction(5_00, "")


def test_a_deduction_leaves_sixty_percent_of_net_weekly_income():
    # £300 a week: 40% is £120 weekly, £520 a month (52/12 weeks).
    weekly = rules.regular_deduction(
        order_pence=200_00,
        frequency=WEEKLY,
        balance_pence=5000_00,
        net_weekly_income_pence=300_00,
        owed_pence=5000_00,
    )
    assert weekly == rules.Deduction(120_00, "PROTECTED_INCOME")
    monthly = rules.regular_deduction(
        order_pence=600_00,
        frequency=MONTHLY,
        balance_pence=5000_00,
        net_weekly_income_pence=300_00,
        owed_pence=5000_00,
    )
    assert monthly == rules.Deduction(520_00, "PROTECTED_INCOME")


@given(
    order=st.integers(min_value=1, max_value=5000_00),
    frequency=st.sampled_from([WEEKLY, MONTHLY]),
    balance=pence,
    income=pence,
    owed=pence,
)
def test_a_deduction_never_takes_more_than_it_may(order, frequency, balance, income, owed):
    got = rules.regular_deduction(
        order_pence=order,
        frequency=frequency,
        balance_pence=balance,
        net_weekly_income_pence=income,
        owed_pence=owed,
    )
    minimum = 40_00 if frequency == MONTHLY else 10_00
    if balance < minimum:
        assert got == rules.Deduction(0, "BALANCE_BELOW_MINIMUM")
        return
    assert 0 <= got.taken_pence <= min(order, balance, owed)
    weeks_num, weeks_den = (52, 12) if frequency == MONTHLY else (1, 1)
    # What is left of the period's income is at least 60% of it.
    assert (income * weeks_num - got.taken_pence * weeks_den) * 10000 >= 6000 * income * weeks_num
    assert (got.limited_by == "") == (got.taken_pence == order)


# -- allocation: enforcement charges last ---------------------------------------------------------------------------

DAY = dt.date(2026, 4, 6)
debt = st.builds(
    lambda n, kind, days, amount: accounts.Debt(n, kind, DAY - dt.timedelta(days=days), amount),
    st.integers(min_value=1, max_value=10_000),
    st.sampled_from(
        [accounts.MAINTENANCE, accounts.PAYING_PARENT_FEE, accounts.ENFORCEMENT_CHARGE]
    ),
    st.integers(min_value=0, max_value=400),
    st.integers(min_value=1, max_value=1000_00),
)


@given(
    amount=st.integers(min_value=0, max_value=5000_00),
    debts=st.lists(debt, max_size=12, unique_by=lambda d: d.entry_id),
    order=st.permutations(list(accounts.ORDERABLE)),
)
def test_enforcement_charges_are_paid_only_once_everything_else_due_is(amount, debts, order):
    allocations = accounts.allocate(amount, debts, on=DAY, order=order)
    assert sum(a.amount for a in allocations) == amount
    enforcement = {d.entry_id for d in debts if d.is_enforcement}
    to_charges = sum(a.amount for a in allocations if a.covers in enforcement)
    assert all(
        (a.target == accounts.ENFORCEMENT_CHARGES) == (a.covers in enforcement) for a in allocations
    )
    if to_charges:
        others = sum(d.outstanding for d in debts if not d.is_enforcement)
        assert (
            sum(
                a.amount
                for a in allocations
                if a.covers is not None and a.covers not in enforcement
            )
            == others
        )
    targets = [a.target for a in allocations]
    if accounts.ENFORCEMENT_CHARGES in targets:
        first = targets.index(accounts.ENFORCEMENT_CHARGES)
        assert all(t in (accounts.ENFORCEMENT_CHARGES, accounts.CREDIT) for t in targets[first:])


def test_enforcement_charges_are_owed_but_never_arrears_and_only_a_waiver_covers_them():
    entries = [
        accounts.Entry(1, accounts.MAINTENANCE, 416_00, DAY),
        accounts.Entry(2, accounts.ENFORCEMENT_CHARGE, 300_00, DAY),
    ]
    b = accounts.balances(entries, as_of=DAY + dt.timedelta(days=10))
    assert (b.arrears, b.enforcement_charges, b.owed) == (416_00, 300_00, 716_00)
    debts = accounts.debts_of(entries)
    assert accounts.coverable(debts) == 416_00
    assert [a.covers for a in accounts.cover(416_00, debts, order=accounts.ORDERABLE)] == [1]
    assert accounts.enforcement_waiver(debts[1]) == [
        accounts.Allocation(accounts.ENFORCEMENT_CHARGES, 300_00, 2)
    ]
