"""facts_from_input's shortcut for plain inputs (no benefit, nil-rate condition or variation) gives exactly the facts,
or the refusal, of the field-by-field conversion, whatever the enum values and dates on the wire; and a Calculation's
create_time is its instant as timestamp_of() gives it."""

from __future__ import annotations

import datetime as dt

from google.type import date_pb2
from hypothesis import given, settings
from hypothesis import strategies as st

from cms.calculation.v1 import resources_pb2 as pb
from cms_calculation.calculations import convert
from cms_calculation.engine import model
from cms_calculation.engine.calculate import calculate
from cms_calculation.engine.rules import RuleBook
from cms_platform.convert import timestamp_of
from cms_platform.errors import InvalidArgument

BOOK = RuleBook()
CALC_INPUT = pb.CalculationInput(
    effective_date=date_pb2.Date(year=2026, month=5, day=1),
    service_type=pb.SERVICE_TYPE_DIRECT_PAY,
    paying_parent_income=pb.PayingParentIncome(hmrc_gross_annual_income_pence=31_200_00),
    qualifying_children=[pb.QualifyingChild(child_reference="c", receiving_parent_reference="rp")],
)

dates = st.one_of(
    st.dates().map(lambda d: date_pb2.Date(year=d.year, month=d.month, day=d.day)),
    st.builds(
        date_pb2.Date,
        year=st.integers(0, 2100),
        month=st.integers(0, 13),
        day=st.integers(0, 32),
    ),
)
enum_values = st.integers(0, 5)


@st.composite
def inputs(draw) -> pb.CalculationInput:
    i = pb.CalculationInput(
        effective_date=draw(dates),
        service_type=draw(enum_values),
        compliance_status=draw(enum_values),
        payment_frequency=draw(enum_values),
        relevant_other_child_count=draw(st.integers(0, 4)),
        other_arrangement_child_count=draw(st.integers(0, 2)),
        default_maintenance_decision=draw(st.booleans()),
        partner_is_paying_parent=draw(st.booleans()),
    )
    for n in range(draw(st.integers(0, 3))):
        i.qualifying_children.add(
            child_reference=f"c{n}",
            receiving_parent_reference=draw(st.sampled_from(["rp", "rp-2", ""])),
            shared_care_nights=draw(st.integers(0, 366)),
            shared_care_period_nights=draw(st.sampled_from([0, 0, 180])),
            equal_day_to_day_care=draw(st.booleans()),
            forename=draw(st.sampled_from(["", "Amy"])),
        )
    if draw(st.booleans()):
        income = i.paying_parent_income
        income.hmrc_gross_annual_income_pence = draw(st.integers(0, 10**9))
        income.hmrc_tax_year = draw(st.sampled_from(["", "2024-25"]))
        income.pension_contributions_annual_pence = draw(st.integers(0, 10**6))
        income.hmrc_income_unavailable = draw(st.booleans())
        if draw(st.booleans()):
            income.current_income.gross_weekly_income_pence = draw(st.integers(0, 10**6))
            income.current_income.estimated = draw(st.booleans())
            income.current_income.in_place = draw(st.booleans())
    if draw(st.integers(0, 3)) == 0:
        i.benefits.add(benefit=draw(st.integers(0, 25)), recipient=draw(enum_values))
    if draw(st.integers(0, 5)) == 0:
        i.nil_rate_conditions.append(draw(st.integers(0, 9)))
    if draw(st.integers(0, 5)) == 0:
        i.special_expenses.add(kind=draw(enum_values), weekly_amount_pence=20_00)
    if draw(st.integers(0, 5)) == 0:
        i.additional_incomes.add(kind=draw(enum_values), weekly_amount_pence=50_00)
    return i


def converted(conversion, i: pb.CalculationInput) -> model.CalculationFacts | list:
    try:
        return conversion(i)
    except InvalidArgument as exc:
        return exc.violations


@settings(max_examples=1000, deadline=None)
@given(inputs())
def test_the_plain_input_shortcut_converts_exactly_as_the_checked_conversion(i):
    assert converted(convert.facts_from_input, i) == converted(convert._checked_facts, i)


def test_a_plain_input_with_an_impossible_date_is_refused_naming_the_field():
    i = pb.CalculationInput(
        effective_date=date_pb2.Date(year=2026, month=2, day=30),
        service_type=pb.SERVICE_TYPE_DIRECT_PAY,
    )
    assert [(v.field, v.description) for v in converted(convert.facts_from_input, i)] == [
        ("input.effective_date", "is not a calendar date")
    ]


@settings(max_examples=300, deadline=None)
@given(
    st.datetimes(
        min_value=dt.datetime(1970, 1, 1),
        max_value=dt.datetime(2200, 1, 1),
        timezones=st.sampled_from([dt.UTC, dt.timezone(dt.timedelta(hours=-5, minutes=-30))]),
    )
)
def test_a_calculations_create_time_is_the_instant_as_timestamp_of_gives_it(created):
    facts = convert.facts_from_input(CALC_INPUT)
    rules = BOOK.in_force(facts.effective_date)
    assert rules is not None
    calc = convert.calculation_message(
        name="",
        case_reference="case",
        reason=0,
        request_input=CALC_INPUT,
        result=calculate(facts, rules),
        rules=rules,
        created=created,
    )
    assert calc.create_time == timestamp_of(created)
