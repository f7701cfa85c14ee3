"""Unit and property tests for the variation rules (cms_casework.variations.rules), the new changes' effects
(cms_casework.changes.apply) and what the calculation is given for them (cms_casework.calculations.rules)."""

from __future__ import annotations

import dataclasses
import datetime as dt

import pytest
from google.type import date_pb2
from hypothesis import given
from hypothesis import strategies as st

from cms.calculation.v1 import resources_pb2 as calc_pb
from cms.casework.v1 import resources_pb2 as pb
from cms.common.v1 import types_pb2 as common
from cms.hmrc.v1 import hmrc_service_pb2 as hmrc_api
from cms_casework.calculations import rules as calculation_rules
from cms_casework.changes import apply
from cms_casework.changes import rules as change_rules
from cms_casework.variations import rules

G = pb.VariationGround
R = pb.VariationRejectionReason
BASIC = rules.Facts(has_calculation=True, rate="BASIC", applicant_is_paying_parent=True)


def d(day: dt.date) -> date_pb2.Date:
    return date_pb2.Date(year=day.year, month=day.month, day=day.day)


def reason(variation: pb.Variation, facts: rules.Facts = BASIC) -> int | None:
    found = rules.preliminary_consideration(variation, facts)
    return None if found is None else found[0]


def contact(weekly: int) -> pb.Variation:
    return pb.Variation(ground=G.VARIATION_GROUND_CONTACT_COSTS, claimed_weekly_amount_pence=weekly)


# -- preliminary consideration (reg 57) ----------------------------------------------------------------------------


def test_special_expenses_at_and_above_the_reg_68_threshold_go_ahead_and_below_it_are_rejected():
    assert reason(contact(1000)) is None
    assert reason(contact(999)) == R.VARIATION_REJECTION_REASON_BELOW_THRESHOLD
    text = rules.preliminary_consideration(contact(500), BASIC)[1]
    assert (
        "£5.00 a week" in text and "£10.00 a week" in text and "reg 68" in text and "reg 57" in text
    )


def test_a_relevant_other_childs_illness_has_no_threshold():
    variation = pb.Variation(
        ground=G.VARIATION_GROUND_RELEVANT_OTHER_CHILD_ILLNESS_OR_DISABILITY,
        claimed_weekly_amount_pence=1,
    )
    assert reason(variation) is None


def test_no_ground_no_calculation_default_decision_and_the_wrong_applicant_are_rejected():
    assert (
        reason(pb.Variation(claimed_weekly_amount_pence=5000))
        == R.VARIATION_REJECTION_REASON_NO_GROUND
    )
    assert reason(contact(0)) == R.VARIATION_REJECTION_REASON_NO_GROUND
    none = dataclasses.replace(BASIC, has_calculation=False, rate="")
    assert reason(contact(5000), none) == R.VARIATION_REJECTION_REASON_NO_CURRENT_DECISION
    default = dataclasses.replace(BASIC, rate="DEFAULT")
    assert reason(contact(5000), default) == R.VARIATION_REJECTION_REASON_DEFAULT_DECISION_IN_FORCE
    receiver = dataclasses.replace(BASIC, applicant_is_paying_parent=False)
    assert (
        reason(contact(5000), receiver) == R.VARIATION_REJECTION_REASON_GROUND_NOT_OPEN_TO_APPLICANT
    )
    diverted = pb.Variation(
        ground=G.VARIATION_GROUND_DIVERTED_INCOME, claimed_weekly_amount_pence=5000
    )
    assert reason(diverted) == R.VARIATION_REJECTION_REASON_GROUND_NOT_OPEN_TO_APPLICANT
    assert reason(diverted, receiver) is None


def test_the_rate_rules_grounds_out():
    receiver = dataclasses.replace(BASIC, applicant_is_paying_parent=False)
    on_is = dataclasses.replace(
        receiver, rate="FLAT", couple_benefits=frozenset({"INCOME_SUPPORT"})
    )
    on_pension = dataclasses.replace(
        receiver,
        rate="FLAT",
        own_benefits=frozenset({"STATE_PENSION"}),
        couple_benefits=frozenset({"STATE_PENSION"}),
    )
    nil = dataclasses.replace(receiver, rate="NIL")
    unearned = pb.Variation(
        ground=G.VARIATION_GROUND_UNEARNED_INCOME, claimed_annual_amount_pence=300_000
    )
    not_counted = pb.Variation(
        ground=G.VARIATION_GROUND_INCOME_NOT_TAKEN_INTO_ACCOUNT, claimed_weekly_amount_pence=20_000
    )
    excluded = R.VARIATION_REJECTION_REASON_RATE_EXCLUDES_GROUND
    # Additional income: not on a reg 44(2) benefit's flat rate, nor on the nil rate.
    assert reason(unearned, on_is) == excluded and reason(unearned, nil) == excluded
    assert reason(unearned, on_pension) is None
    # Income not taken into account: only on a flat rate for a benefit of one's own, or the nil rate (reg 70).
    assert reason(not_counted, receiver) == excluded and reason(not_counted, on_is) == excluded
    assert reason(not_counted, on_pension) is None and reason(not_counted, nil) is None
    # Special expenses: not on the nil rate or a benefit's flat rate.
    flat_payer = dataclasses.replace(BASIC, rate="FLAT", own_benefits=frozenset({"STATE_PENSION"}))
    assert reason(contact(5000), flat_payer) == excluded
    assert reason(contact(5000), dataclasses.replace(BASIC, rate="NIL")) == excluded
    assert (
        reason(contact(5000), dataclasses.replace(BASIC, rate="FLAT")) is None
    )  # low income, no benefit


def test_unearned_income_rests_on_hmrcs_figure_or_a_higher_amount_put_forward():
    receiver = dataclasses.replace(BASIC, applicant_is_paying_parent=False)
    unearned = pb.Variation(ground=G.VARIATION_GROUND_UNEARNED_INCOME)
    assert reason(unearned, receiver) == R.VARIATION_REJECTION_REASON_NO_GROUND
    low = dataclasses.replace(receiver, hmrc_unearned_annual_pence=84_000)
    assert reason(unearned, low) == R.VARIATION_REJECTION_REASON_BELOW_THRESHOLD
    enough = dataclasses.replace(receiver, hmrc_unearned_annual_pence=250_000)
    assert reason(unearned, enough) is None
    unearned.claimed_annual_amount_pence = 260_000
    assert reason(unearned, low) is None


@given(
    ground=st.sampled_from(sorted(rules.SPECIAL_EXPENSES | rules.ADDITIONAL_INCOME)),
    amount=st.integers(min_value=0, max_value=10**9),
    paying=st.booleans(),
    rate=st.sampled_from(["BASIC", "BASIC_PLUS", "REDUCED", "FLAT", "NIL", "DEFAULT", ""]),
)
def test_an_application_goes_ahead_only_when_every_condition_holds(ground, amount, paying, rate):
    variation = pb.Variation(
        ground=ground, claimed_weekly_amount_pence=amount, claimed_annual_amount_pence=amount
    )
    facts = rules.Facts(has_calculation=bool(rate), rate=rate, applicant_is_paying_parent=paying)
    found = rules.preliminary_consideration(variation, facts)
    goes_ahead = (
        bool(rate)
        and rate != "DEFAULT"
        and (ground in rules.SPECIAL_EXPENSES) == paying
        and amount > 0
        and amount >= rules._threshold(ground, rules.DEFAULTS)
        and rules._rate_excludes(ground, facts) is None
    )
    assert (found is None) == goes_ahead
    if found is not None:
        assert found[0] != R.VARIATION_REJECTION_REASON_UNSPECIFIED and "SI 2012/2677" in found[1]


# -- dates ----------------------------------------------------------------------------------------------------------


@given(
    application=st.dates(min_value=dt.date(2013, 1, 1), max_value=dt.date(2040, 1, 1)),
    offset=st.integers(min_value=-400, max_value=400),
)
def test_an_agreed_variation_takes_effect_from_the_application_or_the_later_date_the_ground_arose(
    application, offset
):
    arose = application + dt.timedelta(days=offset)
    on = rules.effective_date(application, arose)
    assert on == max(application, arose) and on >= application
    assert rules.effective_date(application, None) == application


def test_decidable_after_representations_or_the_time_allowed():
    applied = dt.date(2026, 4, 20)
    due = rules.representations_due(applied)
    assert due == dt.date(2026, 5, 4)
    waiting = pb.VARIATION_STATE_AWAITING_REPRESENTATIONS
    assert not rules.decidable(waiting, due, due)
    assert rules.decidable(waiting, due, due + dt.timedelta(days=1))
    assert rules.decidable(pb.VARIATION_STATE_READY_FOR_DECISION, due, applied)
    assert not rules.decidable(pb.VARIATION_STATE_REJECTED, due, due + dt.timedelta(days=99))
    longer = rules.VariationParameters(representation_period_days=21)
    assert rules.representations_due(applied, params=longer) == dt.date(2026, 5, 11)


def test_agreed_amounts_and_evidence():
    variation = contact(3000)
    assert rules.default_agreed_amount(variation) == 3000
    assert rules.agreed_amount_problem(variation, 3000) is None
    assert rules.agreed_amount_problem(variation, 2000) is None
    assert "more than" in rules.agreed_amount_problem(variation, 3001)
    assert rules.agreed_amount_problem(variation, 0) == "must be more than nil"
    assert rules.evidence_problem(variation) is not None
    variation.evidence.add(kind=pb.EVIDENCE_KIND_DOCUMENT)
    assert rules.evidence_problem(variation) is None
    unearned = pb.Variation(
        ground=G.VARIATION_GROUND_UNEARNED_INCOME,
        claimed_annual_amount_pence=100_000,
        hmrc_unearned_income=pb.HmrcUnearnedIncome(
            self_assessment_return_filed=True, total_annual_pence=300_000
        ),
    )
    assert (
        rules.default_agreed_amount(unearned) == 300_000
        and rules.evidence_problem(unearned) is None
    )


# -- the changes' effects and the calculation input ------------------------------------------------------------------


def _case() -> tuple[pb.Case, dict[str, pb.Client]]:
    payer = pb.Client(name="clients/p")
    case = pb.Case(
        name="cases/c",
        paying_parent=pb.Client(name="clients/p"),
        receiving_parent=pb.Client(name="clients/r"),
        qualifying_children=[
            pb.QualifyingChild(child_id="amy"),
            pb.QualifyingChild(child_id="ben"),
        ],
    )
    return case, {"clients/p": payer, "clients/r": pb.Client(name="clients/r")}


def _change(on: dt.date, **detail) -> pb.ChangeOfCircumstances:
    ((member, value),) = detail.items()
    types = {
        "nil_rate_category_change": pb.CHANGE_OF_CIRCUMSTANCES_TYPE_NIL_RATE_CATEGORY,
        "equal_day_to_day_care_change": pb.CHANGE_OF_CIRCUMSTANCES_TYPE_EQUAL_DAY_TO_DAY_CARE,
        "partner_paying_parent_change": pb.CHANGE_OF_CIRCUMSTANCES_TYPE_PARTNER_PAYING_PARENT,
        "variation_agreed": pb.CHANGE_OF_CIRCUMSTANCES_TYPE_VARIATION_AGREED,
    }
    change = pb.ChangeOfCircumstances(type=types[member], effective_date=d(on), name=f"x/{member}")
    getattr(change, member).CopyFrom(value)
    return change


def _input(case: pb.Case, payer: pb.Client, on: dt.date) -> calc_pb.CalculationInput:
    income = calculation_rules.Income(hmrc_api.GetSummaryOfEarnedIncomeResponse(), [])
    return calculation_rules.calculation_input(
        cases=[case], payer=payer, income=income, effective=on, this_case=case
    )


def test_a_prisoner_is_nil_rate_from_the_change_until_release():
    case, clients = _case()
    jailed, released = dt.date(2026, 5, 1), dt.date(2026, 9, 1)
    prisoner = pb.NilRateCategoryChange(category=pb.NIL_RATE_CATEGORY_PRISONER)
    out = apply.plan_application(
        case, clients, [_change(jailed, nil_rate_category_change=prisoner)]
    )
    assert out.needs_calculation and out.effective == jailed
    prisoner.ended = True
    out = apply.plan_application(
        out.case, out.clients, [_change(released, nil_rate_category_change=prisoner)]
    )
    payer = out.clients["clients/p"]
    (period,) = payer.nil_rate_categories
    assert (period.period.start_date, period.period.end_date) == (d(jailed), d(released))
    assert list(_input(out.case, payer, jailed).nil_rate_conditions) == [
        calc_pb.NIL_RATE_CONDITION_PRISONER
    ]
    assert list(_input(out.case, payer, released - dt.timedelta(days=1)).nil_rate_conditions) == [
        calc_pb.NIL_RATE_CONDITION_PRISONER
    ]
    assert not _input(out.case, payer, released).nil_rate_conditions
    assert not _input(out.case, payer, jailed - dt.timedelta(days=1)).nil_rate_conditions


def test_every_nil_rate_category_maps_to_a_condition_of_the_calculation():
    for value in pb.NilRateCategory.values():
        if value:
            name = pb.NilRateCategory.Name(value).replace(
                "NIL_RATE_CATEGORY_", "NIL_RATE_CONDITION_"
            )
            assert name in calc_pb.NilRateCondition.DESCRIPTOR.values_by_name


def test_equal_care_leaves_the_child_out_from_its_date_and_its_end_brings_the_child_back():
    case, clients = _case()
    start, end = dt.date(2026, 5, 1), dt.date(2026, 7, 1)
    care = pb.EqualDayToDayCareChange(child_id="amy")
    out = apply.plan_application(case, clients, [_change(start, equal_day_to_day_care_change=care)])
    care.ended = True
    out = apply.plan_application(
        out.case, out.clients, [_change(end, equal_day_to_day_care_change=care)]
    )
    payer = out.clients["clients/p"]

    def equal(on: dt.date) -> dict[str, bool]:
        return {
            c.child_reference: c.equal_day_to_day_care
            for c in _input(out.case, payer, on).qualifying_children
        }

    assert equal(start) == {"amy": True, "ben": False}
    assert equal(end) == {"amy": False, "ben": False}
    assert equal(start - dt.timedelta(days=1)) == {"amy": False, "ben": False}


def test_a_partner_who_pays_too_is_sent_for_the_dates_it_applies():
    case, clients = _case()
    start = dt.date(2026, 5, 1)
    out = apply.plan_application(
        case, clients, [_change(start, partner_paying_parent_change=pb.PartnerPayingParentChange())]
    )
    payer = out.clients["clients/p"]
    assert _input(out.case, payer, start).partner_is_paying_parent
    assert not _input(out.case, payer, start - dt.timedelta(days=1)).partner_is_paying_parent


def test_an_agreed_variation_is_in_every_calculation_from_its_date_once():
    case, clients = _case()
    on = dt.date(2026, 4, 20)
    agreed = pb.AgreedVariation(
        variation="cases/c/variations/v1",
        ground=G.VARIATION_GROUND_CONTACT_COSTS,
        weekly_amount_pence=3000,
        period=common.DateRange(start_date=d(on)),
    )
    unearned = pb.AgreedVariation(
        variation="cases/c/variations/v2",
        ground=G.VARIATION_GROUND_UNEARNED_INCOME,
        annual_amount_pence=300_000,
        period=common.DateRange(start_date=d(on)),
    )
    out = apply.plan_application(
        case,
        clients,
        [_change(on, variation_agreed=agreed), _change(on, variation_agreed=unearned)],
    )
    again = apply.plan_application(out.case, out.clients, [_change(on, variation_agreed=agreed)])
    assert len(again.case.variations) == 2
    later = _input(again.case, again.clients["clients/p"], on + dt.timedelta(days=400))
    (expense,) = later.special_expenses
    assert (expense.kind, expense.weekly_amount_pence, expense.variation_reference) == (
        calc_pb.SPECIAL_EXPENSE_KIND_CONTACT_COSTS,
        3000,
        "cases/c/variations/v1",
    )
    (income,) = later.additional_incomes
    assert (income.kind, income.annual_amount_pence) == (
        calc_pb.ADDITIONAL_INCOME_KIND_UNEARNED_INCOME,
        300_000,
    )
    before = _input(again.case, again.clients["clients/p"], on - dt.timedelta(days=1))
    assert not before.special_expenses and not before.additional_incomes


def test_every_ground_maps_to_a_kind_of_the_calculation():
    for value in rules.SPECIAL_EXPENSES:
        name = pb.VariationGround.Name(value).replace("VARIATION_GROUND_", "SPECIAL_EXPENSE_KIND_")
        assert name in calc_pb.SpecialExpenseKind.DESCRIPTOR.values_by_name
    for value in rules.ADDITIONAL_INCOME:
        name = pb.VariationGround.Name(value).replace(
            "VARIATION_GROUND_", "ADDITIONAL_INCOME_KIND_"
        )
        assert name in calc_pb.AdditionalIncomeKind.DESCRIPTOR.values_by_name


@pytest.mark.parametrize(
    "member, detail, field",
    [
        (
            "nil_rate_category_change",
            pb.NilRateCategoryChange(),
            "nil_rate_category_change.category",
        ),
        (
            "nil_rate_category_change",
            pb.NilRateCategoryChange(category=pb.NIL_RATE_CATEGORY_PRISONER, ended=True),
            "nil_rate_category_change.category",
        ),
        (
            "equal_day_to_day_care_change",
            pb.EqualDayToDayCareChange(child_id="zed"),
            "equal_day_to_day_care_change.child_id",
        ),
        (
            "equal_day_to_day_care_change",
            pb.EqualDayToDayCareChange(child_id="amy", ended=True),
            "equal_day_to_day_care_change.ended",
        ),
        (
            "partner_paying_parent_change",
            pb.PartnerPayingParentChange(ended=True),
            "partner_paying_parent_change.ended",
        ),
        ("variation_agreed", pb.AgreedVariation(), "variation_agreed.variation"),
    ],
)
def test_a_change_that_would_do_nothing_is_refused_naming_the_field(member, detail, field):
    case, _ = _case()
    change = _change(dt.date(2026, 5, 1), **{member: detail})
    assert field in change_rules.missing_information(change, case)
