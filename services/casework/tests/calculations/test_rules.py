"""What casework gives the calculation (cms_casework.calculations.rules): Universal Credit with earnings, and current
income from HMRC RTI."""

from __future__ import annotations

import datetime as dt

from hypothesis import given
from hypothesis import strategies as st

from cms.calculation.v1 import resources_pb2 as calc_pb
from cms.casework.v1 import resources_pb2 as pb
from cms.common.v1 import types_pb2 as common
from cms.hmrc.v1 import hmrc_service_pb2 as hmrc_api
from cms.hmrc.v1 import resources_pb2 as hmrc_pb
from cms_casework.calculations import rules
from cms_platform.convert import day_of, pb_date

ON = dt.date(2026, 4, 6)


def _input(*awards: pb.BenefitAward) -> calc_pb.CalculationInput:
    case = pb.Case(
        name="cases/1",
        qualifying_children=[
            pb.QualifyingChild(child_id="c1", date_of_birth=pb_date(dt.date(2015, 1, 1)))
        ],
    )
    income = rules.Income(
        hmrc_api.GetSummaryOfEarnedIncomeResponse(
            gross_income_pence=31_200_00, income_data_held=True
        ),
        list(awards),
    )
    return rules.calculation_input(
        cases=[case], payer=pb.Client(name="clients/p"), income=income, effective=ON, this_case=case
    )


def _uc(earnings: bool) -> pb.BenefitAward:
    return pb.BenefitAward(
        benefit="UNIVERSAL_CREDIT",
        period=common.DateRange(start_date=pb_date(dt.date(2026, 1, 6))),
        universal_credit_earned_income=earnings,
    )


def test_universal_credit_with_no_earned_income_is_sent_as_the_prescribed_benefit():
    (receipt,) = _input(_uc(False)).benefits
    assert receipt.benefit == calc_pb.BENEFIT_UNIVERSAL_CREDIT_NO_EARNED_INCOME


def test_universal_credit_with_earned_income_is_not_a_prescribed_benefit():
    # reg 44(2) of SI 2012/2677 prescribes only UC calculated on the basis of no earned income.
    assert not _input(_uc(True)).benefits


def _employment(frequency, pays, ended: dt.date | None = None) -> hmrc_pb.RtiEmploymentIncome:
    employment = hmrc_pb.Employment(pay_frequency=frequency)
    if ended:
        employment.end_date.CopyFrom(pb_date(ended))
    return hmrc_pb.RtiEmploymentIncome(
        employment=employment,
        payments=[hmrc_pb.RtiPayment(taxable_pay_pence=p) for p in pays],
    )


def test_monthly_pay_is_a_twelfth_of_a_year_whether_the_window_holds_three_payments_or_four():
    three = rules.rti_weekly_income(
        [_employment(hmrc_pb.PAY_FREQUENCY_MONTHLY, [2600_00] * 3)], on=ON, days_asked=91
    )
    four = rules.rti_weekly_income(
        [_employment(hmrc_pb.PAY_FREQUENCY_MONTHLY, [2600_00] * 4)], on=ON, days_asked=91
    )
    assert three == four == 31_200_00 * 7 // 365


def test_an_ended_employment_is_not_current_income_and_no_pay_is_none():
    assert (
        rules.rti_weekly_income(
            [_employment(hmrc_pb.PAY_FREQUENCY_WEEKLY, [500_00] * 13, ended=dt.date(2026, 3, 1))],
            on=ON,
            days_asked=91,
        )
        is None
    )
    assert rules.rti_weekly_income([], on=ON, days_asked=91) is None


def test_irregular_pay_is_averaged_over_the_days_asked():
    assert (
        rules.rti_weekly_income(
            [_employment(hmrc_pb.PAY_FREQUENCY_IRREGULAR, [910_00])], on=ON, days_asked=91
        )
        == 70_00
    )


@given(
    st.sampled_from(
        [
            (hmrc_pb.PAY_FREQUENCY_WEEKLY, 52),
            (hmrc_pb.PAY_FREQUENCY_FORTNIGHTLY, 26),
            (hmrc_pb.PAY_FREQUENCY_FOUR_WEEKLY, 13),
            (hmrc_pb.PAY_FREQUENCY_MONTHLY, 12),
        ]
    ),
    st.integers(min_value=0, max_value=100_000_00),
    st.integers(min_value=1, max_value=14),
)
def test_steady_pay_gives_its_yearly_amount_a_week(frequency_and_periods, pay, count):
    frequency, periods = frequency_and_periods
    weekly = rules.rti_weekly_income([_employment(frequency, [pay] * count)], on=ON, days_asked=91)
    assert weekly == pay * periods * 7 // 365


@given(
    st.lists(st.integers(min_value=0, max_value=10_000_00), min_size=1, max_size=6),
    st.integers(0, 5),
)
def test_two_jobs_add_up(first, extra):
    one = _employment(hmrc_pb.PAY_FREQUENCY_MONTHLY, first)
    two = _employment(hmrc_pb.PAY_FREQUENCY_WEEKLY, [extra * 100_00] * 13)
    both = rules.rti_weekly_income([one, two], on=ON, days_asked=91)
    alone = rules.rti_weekly_income([one], on=ON, days_asked=91)
    other = rules.rti_weekly_income([two], on=ON, days_asked=91)
    assert both is not None and alone is not None and other is not None
    assert both == alone + other


# -- DWP's awards combined with the benefit starts and ends casework verified ----------------------------------------

JSA = "JOBSEEKERS_ALLOWANCE_INCOME_BASED"


def _award(
    start: dt.date | None,
    end: dt.date | None = None,
    *,
    benefit: str = JSA,
    fact: str = "",
    partner: bool = False,
    earnings: bool = False,
) -> pb.BenefitAward:
    award = pb.BenefitAward(
        benefit=benefit,
        partner_award=partner,
        verified_change=fact,
        universal_credit_earned_income=earnings,
    )
    if start:
        award.period.start_date.CopyFrom(pb_date(start))
    if end:
        award.period.end_date.CopyFrom(pb_date(end))
    return award


def _paid(dwp, held, on=ON) -> list[tuple[str, bool]]:
    return [(a.benefit, a.partner_award) for a in rules.benefits_in_payment(dwp, held, on)]


FACT = "cases/1/changesOfCircumstances/1"


def test_a_verified_start_dwp_does_not_know_is_in_payment_from_its_date():
    held = [_award(dt.date(2026, 4, 1), fact=FACT)]
    assert _paid([], held, dt.date(2026, 3, 31)) == []
    assert _paid([], held) == [(JSA, False)]
    # The copy of DWP's awards taken at the application is not a fact: DWP's own answer supersedes it.
    assert _paid([], [_award(dt.date(2026, 4, 1))]) == []


def test_a_benefit_both_report_is_one_award_and_dwp_decides_universal_credit_earnings():
    assert _paid([_award(dt.date(2026, 1, 1))], [_award(dt.date(2026, 4, 1), fact=FACT)]) == [
        (JSA, False)
    ]
    dwp = [_award(dt.date(2026, 1, 1), benefit="UNIVERSAL_CREDIT", earnings=True)]
    held = [_award(dt.date(2026, 4, 1), benefit="UNIVERSAL_CREDIT", fact=FACT)]
    (award,) = rules.benefits_in_payment(dwp, held, ON)
    assert award.universal_credit_earned_income
    # DWP no longer reports it on the date: the earnings are as casework verified them.
    dwp = [
        _award(dt.date(2026, 1, 1), dt.date(2026, 3, 1), benefit="UNIVERSAL_CREDIT", earnings=True)
    ]
    (award,) = rules.benefits_in_payment(dwp, held, ON)
    assert not award.universal_credit_earned_income


def test_the_latest_start_or_end_decides_whoever_reported_it():
    # DWP ended the award in March; casework verified a new start on 1 April: in payment.
    dwp = [_award(dt.date(2025, 6, 1), dt.date(2026, 3, 15))]
    assert _paid(dwp, [_award(dt.date(2026, 4, 1), fact=FACT)]) == [(JSA, False)]
    # Casework verified a start in February; DWP records the award ended on 15 March: not in payment after it.
    assert _paid(dwp, [_award(dt.date(2026, 2, 1), fact=FACT)]) == []
    assert _paid(dwp, [_award(dt.date(2026, 2, 1), fact=FACT)], dt.date(2026, 3, 15)) == [
        (JSA, False)
    ]
    # A verified end overrules the award DWP still shows open (a stale CIS record).
    stale = [_award(dt.date(2025, 6, 1))]
    assert _paid(stale, [_award(dt.date(2025, 6, 1), dt.date(2026, 3, 31), fact=FACT)]) == []
    assert _paid(stale, [_award(None, dt.date(2026, 3, 31), fact=FACT)]) == []
    # An end alone says only that the benefit stopped: it never puts it in payment before then.
    assert _paid([], [_award(None, dt.date(2026, 5, 31), fact=FACT)]) == []
    # ... until DWP records a start after it.
    assert _paid(
        [_award(dt.date(2026, 4, 2))], [_award(None, dt.date(2026, 3, 31), fact=FACT)], ON
    ) == [(JSA, False)]


def test_an_award_that_stopped_the_day_it_started_was_never_in_payment_and_still_stops_dwps():
    stopped = [_award(ON, ON - dt.timedelta(days=1), fact=FACT)]
    assert _paid([], stopped) == []
    assert _paid([_award(ON)], stopped) == []
    assert _paid([_award(ON)], stopped, ON + dt.timedelta(days=1)) == []


def test_the_calculation_is_given_a_verified_benefit_dwp_does_not_know():
    case = pb.Case(
        name="cases/1",
        qualifying_children=[
            pb.QualifyingChild(child_id="c1", date_of_birth=pb_date(dt.date(2015, 1, 1)))
        ],
    )
    income = rules.Income(
        hmrc_api.GetSummaryOfEarnedIncomeResponse(
            gross_income_pence=31_200_00, income_data_held=True
        ),
        [],
    )

    def receipts(*held: pb.BenefitAward) -> list[int]:
        payer = pb.Client(name="clients/p", benefits=list(held))
        calc = rules.calculation_input(
            cases=[case], payer=payer, income=income, effective=ON, this_case=case
        )
        return [r.benefit for r in calc.benefits]

    assert receipts(_award(dt.date(2026, 4, 1), fact=FACT)) == [
        calc_pb.BENEFIT_JOBSEEKERS_ALLOWANCE_INCOME_BASED
    ]
    uc = dict(benefit="UNIVERSAL_CREDIT", fact=FACT)
    assert receipts(_award(dt.date(2026, 4, 1), **uc)) == [
        calc_pb.BENEFIT_UNIVERSAL_CREDIT_NO_EARNED_INCOME
    ]
    assert receipts(_award(dt.date(2026, 4, 1), earnings=True, **uc)) == []


_DAY = st.dates(min_value=dt.date(2025, 1, 1), max_value=dt.date(2027, 12, 31))
_PERIOD = st.tuples(st.one_of(st.none(), _DAY), st.one_of(st.none(), _DAY))
# A start, and an end on or after it or none.
_DATED = st.builds(
    lambda start, days: (start, None if days is None else start + dt.timedelta(days=days)),
    _DAY,
    st.one_of(st.none(), st.integers(0, 400)),
)
_KEY = st.tuples(st.sampled_from([JSA, "INCOME_SUPPORT", "UNIVERSAL_CREDIT"]), st.booleans())


def _awards(periods, keys, *, fact: str) -> list[pb.BenefitAward]:
    return [
        _award(start, end, benefit=b, partner=p, fact=fact)
        for (start, end), (b, p) in zip(periods, keys, strict=False)
    ]


@given(st.lists(_PERIOD, max_size=4), st.lists(_KEY, min_size=4, max_size=4), _DAY)
def test_without_facts_dwps_awards_in_payment_on_the_day_are_the_answer(periods, keys, on):
    dwp = _awards(periods, keys, fact="")
    expected = {
        (a.benefit, a.partner_award)
        for a in dwp
        if (not a.period.start_date.year or day_of(a.period.start_date) <= on)
        and (not a.period.end_date.year or day_of(a.period.end_date) >= on)
    }
    paid = _paid(dwp, [], on)
    assert len(paid) == len(set(paid))  # one award per benefit and recipient
    assert set(paid) == expected


@given(st.lists(_DATED, max_size=3), st.lists(_KEY, min_size=3, max_size=3), _DAY)
def test_facts_alone_are_in_payment_on_the_days_they_cover_and_repeating_dwp_changes_nothing(
    periods, keys, on
):
    facts, dwp = _awards(periods, keys, fact=FACT), _awards(periods, keys, fact="")
    covered = {
        (a.benefit, a.partner_award)
        for a in facts
        if day_of(a.period.start_date) <= on
        and (not a.period.end_date.year or day_of(a.period.end_date) >= on)
    }
    assert set(_paid([], facts, on)) == covered
    # A fact DWP also reports is one award: the answer is DWP's alone, one award per benefit and recipient.
    paid = _paid(dwp, facts, on)
    assert len(paid) == len(set(paid)) and set(paid) == set(_paid(dwp, [], on)) == covered


@given(
    st.lists(_PERIOD, max_size=3),
    st.lists(_PERIOD, max_size=3),
    st.lists(_KEY, min_size=3, max_size=3),
    st.lists(_KEY, min_size=3, max_size=3),
    _DAY,
)
def test_each_benefit_and_recipient_is_decided_by_its_own_awards_alone(
    first, second, first_keys, second_keys, on
):
    dwp, facts = _awards(first, first_keys, fact=""), _awards(second, second_keys, fact=FACT)
    paid = _paid(dwp, facts, on)
    assert len(paid) == len(set(paid))
    for key in set(first_keys) | set(second_keys):
        mine = [a for a in dwp if (a.benefit, a.partner_award) == key]
        verified = [a for a in facts if (a.benefit, a.partner_award) == key]
        assert (key in paid) == bool(_paid(mine, verified, on))
        # On the day casework's one fact starts or stops the benefit, the fact decides whatever DWP says.
        if len(verified) == 1:
            (fact,) = verified
            first, last = day_of(fact.period.start_date), day_of(fact.period.end_date)
            if first == on and (last is None or last >= on):
                assert key in paid
            if last is not None and last + dt.timedelta(days=1) == on:
                assert key not in paid
