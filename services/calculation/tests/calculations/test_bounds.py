"""Every amount the engine accepts gives an answer the contract can carry (calculations/service.py over
engine/calculate.py): a preview of any input within the bounds, however extreme, is a Calculation or a domain
refusal, never an overflow of the contract's int64 fields; past the bound, the amount's field is named."""

from __future__ import annotations

import datetime as dt

import pytest
from google.type import date_pb2
from hypothesis import given, settings
from hypothesis import strategies as st

from cms.calculation.v1 import resources_pb2 as pb
from cms_calculation.calculations import service
from cms_calculation.engine.calculate import MAX_AMOUNT_PENCE
from cms_calculation.engine.rules import RuleBook
from cms_platform.clock import ManualClock
from cms_platform.errors import DomainError, InvalidArgument

BOOK = RuleBook()
CLOCK = ManualClock(dt.datetime(2026, 5, 1, 9, 0, tzinfo=dt.UTC))
amounts = st.one_of(st.just(MAX_AMOUNT_PENCE), st.integers(0, MAX_AMOUNT_PENCE))


def _input(annual: int, weekly: int, pension: int, extras: list[int], expenses: list[int]):
    given = pb.CalculationInput(
        effective_date=date_pb2.Date(year=2026, month=5, day=1),
        service_type=pb.SERVICE_TYPE_COLLECT_AND_PAY,
        paying_parent_income=pb.PayingParentIncome(
            hmrc_gross_annual_income_pence=annual,
            hmrc_tax_year="2025-26",
            pension_contributions_annual_pence=pension,
            current_income=pb.CurrentIncome(gross_weekly_income_pence=weekly),
        ),
        qualifying_children=[
            pb.QualifyingChild(child_reference=f"child-{i}", receiving_parent_reference=f"rp-{i}")
            for i in range(3)
        ],
    )
    for i, amount in enumerate(extras):
        given.additional_incomes.add(
            kind=pb.ADDITIONAL_INCOME_KIND_UNEARNED_INCOME
            if i % 2
            else pb.ADDITIONAL_INCOME_KIND_DIVERTED_INCOME,
            weekly_amount_pence=amount,
        )
    for amount in expenses:
        given.special_expenses.add(
            kind=pb.SPECIAL_EXPENSE_KIND_CONTACT_COSTS, weekly_amount_pence=amount
        )
    return given


@settings(max_examples=60, deadline=None)
@given(
    annual=amounts,
    weekly=amounts,
    pension=amounts,
    extras=st.lists(amounts, max_size=20),
    expenses=st.lists(amounts, max_size=5),
)
def test_any_amount_within_the_bounds_gives_an_answer_or_a_refusal(
    annual, weekly, pension, extras, expenses
):
    given = _input(annual, weekly, pension, extras, expenses)
    try:
        calc = service.preview(
            request_input=given,
            case_reference="case-bounds",
            rule_set_version="",
            rule_book=BOOK,
            clock=CLOCK,
            full=True,
        )
    except DomainError:
        return  # e.g. a variation the rules refuse: a refusal, not an overflow
    assert calc.weekly_amount_pence >= 0


@pytest.mark.parametrize("too_much", [MAX_AMOUNT_PENCE + 1, 2**63 - 1])
def test_an_amount_past_the_bound_is_refused_naming_its_field(too_much):
    with pytest.raises(InvalidArgument) as err:
        service.preview(
            request_input=_input(0, 0, 0, [too_much], [too_much]),
            case_reference="case-bounds",
            rule_set_version="",
            rule_book=BOOK,
            clock=CLOCK,
        )
    assert {v.field for v in err.value.violations} == {
        "input.additional_incomes[0].weekly_amount_pence",
        "input.special_expenses[0].weekly_amount_pence",
    }
