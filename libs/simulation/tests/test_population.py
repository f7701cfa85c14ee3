"""The shared synthetic population: matching (HMRC's rules: exact NINO and date of birth, forename initial, first
three letters of the surname), NINOs, tax years, RTI, the HMRC figure, Child Benefit rules and the generator."""

from __future__ import annotations

import dataclasses
import datetime as dt
import functools
import time
import tracemalloc

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cms_simulation.population import FIXTURES, Population
from cms_simulation.population._awards import state_pension_date
from cms_simulation.population.child_benefit import (
    age_on,
    child_status,
    quarter_end_on_or_after,
    sixteen_terminal_date,
)
from cms_simulation.population.dwp import MEANS_TESTED, live_awards, live_on, suspended_on
from cms_simulation.population.generator import CHILD_SLOTS, Generator
from cms_simulation.population.hmrc import (
    PAYE,
    SELF_ASSESSMENT,
    hmrc_figure,
    latest_available_tax_year,
)
from cms_simulation.population.model import (
    Address,
    AwardEndReason,
    BenefitAward,
    BenefitType,
    Child,
    ChildBenefitAward,
    ChildBenefitEndReason,
    DataQuirk,
    Employer,
    Employment,
    PayeIncome,
    PayFrequency,
    PaymentSuspension,
    Person,
    SelfAssessment,
    TaxYearIncome,
    UnearnedIncome,
)
from cms_simulation.population.nino import (
    CHILD_PREFIXES,
    PEOPLE_PREFIXES,
    NinoScheme,
    format_nino,
    normalise_nino,
    valid_nino,
)
from cms_simulation.population.rti import (
    pay_day,
    paye_income_by_year,
    paye_income_for_year,
    person_paye_income,
    rti_payments,
)
from cms_simulation.population.tax_year import (
    parse_tax_year,
    sa_tax_year,
    short_tax_year,
    tax_month,
    tax_week,
    tax_year_end,
    tax_year_of,
    tax_year_start,
    tax_years_between,
)

DOB = dt.date(1985, 3, 14)
D = dt.date
SMALL = Population(size=3_000, seed=99)
ACME = Employer(
    "Acme Widgets Ltd",
    Address(("Unit 4", "Trade Park"), "LEEDS", "LS1 4AB"),
    "0113 496 0000",
    "247/A1987CB",
)


# -- matching (unchanged behaviour) -------------------------------------------------------------------------------


def test_full_match_ignores_case_spaces_and_everything_after_the_rules():
    m = Population().match(
        nino="aa 12 34 56 a", forenames="A.", surname="TURNBULL", date_of_birth=DOB
    )
    assert m.matched and m.person.surname == "Turner"


def test_partial_match_names_every_failed_rule():
    m = Population().match(
        nino="AA123456A", forenames="Bob", surname="Smith", date_of_birth=dt.date(1985, 3, 15)
    )
    assert not m.matched
    assert m.failed_rules == ("FORENAME_INITIAL", "SURNAME_FIRST_THREE_LETTERS", "DATE_OF_BIRTH")


def test_unknown_nino_is_not_found():
    m = Population().match(nino="ZX999999D", forenames="Alex", surname="Turner", date_of_birth=DOB)
    assert m.person is None and not m.matched


def test_generated_people_match_on_their_own_details():
    p = SMALL.person_at(1234)
    m = SMALL.match(
        nino=format_nino(p.nino).lower(),
        forenames=p.forenames,
        surname=p.surname,
        date_of_birth=p.date_of_birth,
    )
    assert m.matched and m.person == p


# -- NINOs --------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "nino", ["AA123456A", "aa 12 34 56 a", "CR123456B", "JK123456C", "NA000799C", "AB 123456 D"]
)
def test_valid_ninos(nino):
    assert valid_nino(nino)


@pytest.mark.parametrize(
    "nino",
    [
        "DA123456A",
        "FA123456A",
        "IA123456A",
        "QA123456A",
        "UA123456A",
        "VA123456A",  # first letter
        "AD123456A",
        "AF123456A",
        "AI123456A",
        "AQ123456A",
        "AU123456A",
        "AV123456A",
        "AO123456A",  # second letter
        "BG123456A",
        "GB123456A",
        "KN123456A",
        "NK123456A",
        "NT123456A",
        "TN123456A",
        "ZZ123456A",  # never issued
        "AA123456E",
        "AA12345A",
        "AA1234567A",
        "A1123456A",
        "",
        "AA123456",
    ],
)
def test_invalid_ninos_are_rejected(nino):
    assert not valid_nino(nino)


@settings(max_examples=300, deadline=None)
@given(
    st.integers(min_value=0, max_value=len(PEOPLE_PREFIXES) * 1_000_000 - 1), st.integers(0, 2**32)
)
def test_every_generated_nino_is_valid_and_decodes_back_to_its_index(index, key):
    scheme = NinoScheme(PEOPLE_PREFIXES, key)
    nino = scheme.encode(index)
    assert valid_nino(nino) and nino[0] not in "AZ" and nino[:2] not in {"CR", "MW", "NC"}
    assert scheme.decode(nino) == index
    assert scheme.decode(nino.lower()) == index and scheme.decode(format_nino(nino)) == index
    wrong_suffix = nino[:8] + "ABCD"[("ABCD".index(nino[8]) + 1) % 4]
    assert scheme.decode(wrong_suffix) is None


@settings(max_examples=300, deadline=None)
@given(st.integers(min_value=0, max_value=2_000_000), st.integers(0, CHILD_SLOTS - 1))
def test_every_crn_is_valid_and_decodes_back_to_its_household_and_child(block, number):
    g = Generator(2012, 6_000_003)
    crn = g.crn(block, number)
    assert valid_nino(crn) and crn[:2] in CHILD_PREFIXES
    assert g.child_index_of(crn) == (block, number)
    assert g.people.decode(crn) is None  # children and adults never share a range


def test_consecutive_indexes_do_not_give_consecutive_ninos():
    ninos = [SMALL.nino_at(i) for i in range(200)]
    numbers = [int(n[2:8]) for n in ninos]
    assert len(set(ninos)) == 200
    assert (
        sum(
            1
            for a, b, x, y in zip(ninos, ninos[1:], numbers, numbers[1:], strict=False)
            if a[:2] == b[:2] and abs(x - y) <= 1
        )
        == 0
    )


def test_fixture_and_test_ninos_are_outside_the_generated_range():
    g = Generator(2012, 1_000_000)
    for nino in [
        "AA123456A",
        "AB234567B",
        "AC345678C",
        "AE456789D",
        "AG765432A",
        "ZX999999D",
        "AK100001A",
    ]:
        assert g.people.decode(nino) is None and g.children.decode(nino) is None
    assert all(p[0] not in "AZ" for p in PEOPLE_PREFIXES + CHILD_PREFIXES)
    assert not set(PEOPLE_PREFIXES) & set(CHILD_PREFIXES)


def test_normalise_nino():
    assert normalise_nino(" ab 12 34 56 c ") == "AB123456C"


# -- the population -------------------------------------------------------------------------------------------------


def test_same_seed_same_people_different_seed_different_people():
    a, b, c = (
        Population(size=10_000, seed=5),
        Population(size=10_000, seed=5),
        Population(size=10_000, seed=6),
    )
    for index in (0, 1, 2, 777, 9_999):
        assert a.person_at(index) == b.person_at(index)
        assert a.nino_at(index) == b.nino_at(index)
        assert a.person(a.nino_at(index)) == b.person_at(index)
    assert [a.nino_at(i) for i in range(50)] != [c.nino_at(i) for i in range(50)]
    assert (
        sum(
            a.person_at(i) == dataclasses.replace(c.person_at(i), nino=a.nino_at(i))
            for i in range(50)
        )
        == 0
    )


def test_an_index_at_or_beyond_the_size_is_unknown():
    p = Population(size=1_000, seed=3)
    beyond = p.generator.people.encode(1_000)  # a NINO the same scheme would give index 1,000
    assert p.person(beyond) is None and p.index_of(beyond) is None
    assert p.person(p.nino_at(999)) is not None
    with pytest.raises(IndexError):
        p.nino_at(1_000)
    assert len(p) == 1_000 and len(list(p.iter_people(990))) == 10


def test_links_to_people_beyond_the_size_are_dropped():
    p = Population(size=3_001, seed=3)  # the last block holds only its receiving parent
    last = p.person_at(3_000)
    assert last.other_parent_nino == "" and last.partner_nino == ""


def test_a_million_people_start_instantly_and_use_no_memory_per_person():
    tracemalloc.start()
    t = time.perf_counter()
    p = Population(size=1_000_000)
    took = time.perf_counter() - t
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    assert took < 0.05 and peak < 200_000
    assert p.person(p.nino_at(999_999)) is not None


def test_people_are_generated_quickly():
    g = Generator(11, 1_000_000)
    t = time.perf_counter()
    for index in range(0, 300_000, 300):
        g.person(index)
    assert (
        time.perf_counter() - t
    ) / 1_000 < 0.002  # about 0.2 ms each on a laptop; generous for CI


def test_families_link_both_ways_and_share_children_surnames_sensibly():
    checked = 0
    for p in SMALL.iter_people(0, 600):
        for link, back in (
            (p.partner_nino, "partner_nino"),
            (p.other_parent_nino, "other_parent_nino"),
        ):
            if link:
                assert getattr(SMALL.person(link), back) == p.nino
        if p.other_parent_nino and p.child_benefit:  # a receiving parent
            checked += 1
            assert all(
                age_on(p.date_of_birth, c.date_of_birth) >= 18 for c in p.child_benefit.children
            )
    assert checked > 100


def test_every_child_is_found_by_its_crn_with_its_claimant():
    for p in SMALL.iter_people(0, 300):
        for c in p.child_benefit.children if p.child_benefit else ():
            assert SMALL.child(c.child_reference_number) == (p, c)
    assert SMALL.child("AK100004D")[1].forenames == "Tomos"
    assert SMALL.child("TA000000A") is None


def test_the_mix_is_roughly_as_documented():
    people = [
        Population(size=1_000_000, seed=2012).generator.person(i) for i in range(0, 1_000_000, 250)
    ]
    n = len(people)

    def share(pred):
        return sum(1 for p in people if pred(p)) / n

    assert 0.08 < share(lambda p: not p.tax_years) < 0.20
    assert 0.05 < share(lambda p: p.self_employed) < 0.14
    assert 0.10 < share(lambda p: bool(p.self_assessment_utr)) < 0.25
    assert 0.30 < share(lambda p: p.child_benefit is not None) < 0.50
    assert 0 < share(lambda p: p.date_of_death is not None) < 0.01
    assert 0.01 < share(lambda p: DataQuirk.TWO_PAYS_ONE_MONTH in p.quirks) < 0.05
    claimants = [p for p in people if p.child_benefit]
    opted_out = sum(p.child_benefit.elected_not_to_be_paid for p in claimants) / len(claimants)
    assert 0.05 < opted_out < 0.20
    receiving = [p for p in claimants if p.other_parent_nino]
    with_teen = sum(
        any(16 <= age_on(c.date_of_birth, D(2026, 7, 1)) <= 19 for c in p.child_benefit.children)
        for p in receiving
    ) / len(receiving)
    assert 0.10 < with_teen < 0.20
    frequencies = [e.pay_frequency for p in people for e in p.employments]
    assert 0.65 < frequencies.count(PayFrequency.MONTHLY) / len(frequencies) < 0.85
    incomes = sorted(
        hmrc_figure(y).gross_pence
        for p in people
        if (y := latest_available_tax_year(p, D(2026, 6, 1)))
    )
    assert 15_000_00 < incomes[len(incomes) // 2] < 45_000_00
    stale = sum(
        1
        for p in people
        if (y := latest_available_tax_year(p, D(2026, 6, 1))) and y.tax_year < "2024-25"
    )
    assert stale > 0


# -- tax years ------------------------------------------------------------------------------------------------------


def test_tax_years_turn_on_6_april():
    assert tax_year_of(D(2026, 4, 5)) == "2025-26" and tax_year_of(D(2026, 4, 6)) == "2026-27"
    assert tax_year_of(D(1999, 12, 31)) == "1999-00"
    assert parse_tax_year("2025-26") == 2025 and parse_tax_year(2025) == 2025
    assert tax_year_start("2025-26") == D(2025, 4, 6) and tax_year_end("2025-26") == D(2026, 4, 5)
    assert tax_years_between(D(2024, 4, 5), "2026-27") == [
        "2023-24",
        "2024-25",
        "2025-26",
        "2026-27",
    ]
    assert short_tax_year("2019-20") == "19-20" and sa_tax_year("2019-20") == "2020"


@pytest.mark.parametrize("bad", ["2025-27", "2025-25", "2025/26", "25-26", "2025-2026", ""])
def test_malformed_tax_years_are_refused_clearly(bad):
    with pytest.raises(ValueError, match="tax year"):
        parse_tax_year(bad)


def test_the_second_part_must_follow_the_first():
    with pytest.raises(ValueError, match="the second part must be the year after the first"):
        parse_tax_year("2025-27")


def test_tax_months_and_weeks():
    assert [
        tax_month(d)
        for d in (D(2025, 4, 6), D(2025, 5, 5), D(2025, 5, 6), D(2026, 1, 5), D(2026, 4, 5))
    ] == [1, 1, 2, 9, 12]
    assert [
        tax_week(d) for d in (D(2025, 4, 6), D(2025, 4, 12), D(2025, 4, 13), D(2026, 4, 5))
    ] == [1, 1, 2, 53]


# -- RTI --------------------------------------------------------------------------------------------------------------


def employment(
    frequency=PayFrequency.MONTHLY, start=D(2020, 1, 6), end=None, annual=3_000_000, **kw
) -> Employment:
    return Employment("AB123456C-E1", ACME, "P1", start, end, frequency, annual, **kw)


@pytest.mark.parametrize(
    "frequency",
    [PayFrequency.MONTHLY, PayFrequency.WEEKLY, PayFrequency.FORTNIGHTLY, PayFrequency.FOUR_WEEKLY],
)
def test_rti_payments_over_a_whole_tax_year_sum_to_the_annual_pay(frequency):
    e = employment(
        frequency,
        annual=3_123_457,
        annual_employee_pension_contributions_pence=150_001,
        annual_benefits_in_kind_pence=90_000,
    )
    paid = rti_payments(e, D(2025, 4, 6), D(2026, 4, 5))
    periods = {
        PayFrequency.MONTHLY: 12,
        PayFrequency.WEEKLY: 52,
        PayFrequency.FORTNIGHTLY: 26,
        PayFrequency.FOUR_WEEKLY: 13,
    }[frequency]
    total = sum(p.taxable_pay_pence for p in paid)
    assert total * periods == pytest.approx(
        3_123_457 * len(paid), abs=periods * len(paid)
    )  # within rounding
    if frequency is PayFrequency.MONTHLY:
        assert len(paid) == 12 and total == 3_123_457  # the March payment carries the odd pence
        assert sum(p.employee_pension_contributions_pence for p in paid) == 150_001
        assert [p.month_number for p in paid] == list(range(1, 13)) and all(
            p.week_number == 0 for p in paid
        )
    else:
        christmas = {
            (12, 24),
            (12, 25),
            (12, 26),
            (12, 31),
        }  # a holiday Friday is paid the working day before
        assert all(
            p.payment_date.weekday() == 4 or (p.payment_date.month, p.payment_date.day) in christmas
            for p in paid
        )
        assert all(p.month_number == 0 for p in paid)
        assert [p.week_number for p in paid] == [tax_week(p.payment_date) for p in paid]
    assert paid[-1].taxable_pay_to_date_pence == total and all(
        p.tax_year == "2025-26" for p in paid
    )
    assert paye_income_for_year(e, "2025-26").taxable_pay_pence == total


def test_year_to_date_restarts_each_tax_year_and_payments_stay_within_the_employment():
    e = employment(start=D(2024, 11, 20), end=D(2025, 7, 10))
    paid = rti_payments(e, D(2024, 1, 1), D(2026, 1, 1))
    assert e.start_date <= paid[0].payment_date and paid[-1].payment_date <= e.end_date
    first_of_year = next(p for p in paid if p.tax_year == "2025-26")
    assert first_of_year.taxable_pay_to_date_pence == first_of_year.taxable_pay_pence
    # A window inside a year keeps the year-to-date totals from the start of the year.
    later = rti_payments(e, D(2025, 6, 1), D(2025, 6, 30))
    assert later[0].taxable_pay_to_date_pence == sum(
        p.taxable_pay_pence for p in paid if D(2025, 4, 6) <= p.payment_date <= D(2025, 6, 30)
    )


def test_monthly_pay_moves_back_from_weekends():
    paid = rti_payments(employment(), D(2025, 1, 1), D(2026, 12, 31))
    assert all(p.payment_date.weekday() < 5 for p in paid)
    assert len({(p.payment_date.year, p.payment_date.month) for p in paid}) == len(paid)


def test_pay_changes_apply_from_their_date():
    e = employment(pay_changes=((D(2025, 9, 6), 3_600_000),))
    paid = rti_payments(e, D(2025, 4, 6), D(2026, 4, 5))
    assert {p.taxable_pay_pence for p in paid if p.payment_date < D(2025, 9, 6)} == {250_000}
    assert {p.taxable_pay_pence for p in paid if p.payment_date >= D(2025, 9, 6)} >= {300_000}
    assert paye_income_for_year(e, 2025).taxable_pay_pence == sum(p.taxable_pay_pence for p in paid)


def test_two_pays_one_month_puts_the_january_pay_into_december():
    # An employment whose pay day is the 5th (pay days come from the employment id).
    e = next(
        e
        for i in range(1000)
        if pay_day(e := dataclasses.replace(employment(), employment_id=f"X-{i}")) == 5
    )
    normal = rti_payments(e, D(2025, 12, 1), D(2025, 12, 31))
    quirky = rti_payments(
        e, D(2025, 12, 1), D(2025, 12, 31), quirks=frozenset({DataQuirk.TWO_PAYS_ONE_MONTH})
    )
    assert len(normal) == 1 and len(quirky) == 2 and quirky[1].payment_date <= D(2025, 12, 18)
    whole = rti_payments(
        e, D(2025, 4, 6), D(2026, 4, 5), quirks=frozenset({DataQuirk.TWO_PAYS_ONE_MONTH})
    )
    assert sum(p.taxable_pay_pence for p in whole) == e.annual_taxable_pay_pence


def test_late_rti_submissions_arrive_after_the_payment():
    paid = rti_payments(
        employment(PayFrequency.WEEKLY),
        D(2024, 4, 6),
        D(2026, 4, 5),
        quirks=frozenset({DataQuirk.LATE_RTI_SUBMISSION}),
    )
    late = [p for p in paid if p.submission_date > p.payment_date]
    assert 0.1 < len(late) / len(paid) < 0.4 and all(
        (p.submission_date - p.payment_date).days <= 45 for p in late
    )
    on_time = rti_payments(employment(PayFrequency.WEEKLY), D(2024, 4, 6), D(2026, 4, 5))
    assert all(p.submission_date == p.payment_date for p in on_time)


def test_generated_paye_years_are_the_sums_of_their_rti_payments():
    checked = 0
    for p in SMALL.iter_people(0, 400):
        for ty in p.tax_years:
            start = parse_tax_year(ty.tax_year)
            for entry in ty.paye:
                e = next(e for e in p.employments if e.employment_id == entry.employment_id)
                paid = rti_payments(e, D(start, 4, 6), D(start + 1, 4, 5), quirks=p.quirks)
                assert entry.taxable_pay_pence == sum(x.taxable_pay_pence for x in paid)
                assert entry.tax_deducted_pence == sum(x.tax_deducted_pence for x in paid)
                checked += 1
        assert person_paye_income(p, "2024-25") == next(
            (ty.paye for ty in p.tax_years if ty.tax_year == "2024-25"), ()
        )
    assert checked > 1_000


@settings(max_examples=150, deadline=None)
@given(
    frequency=st.sampled_from(
        [
            PayFrequency.MONTHLY,
            PayFrequency.WEEKLY,
            PayFrequency.FORTNIGHTLY,
            PayFrequency.FOUR_WEEKLY,
        ]
    ),
    start=st.dates(D(2010, 1, 1), D(2026, 1, 1)),
    length=st.none() | st.integers(0, 4000),
    changes=st.lists(
        st.tuples(st.integers(2012, 2027), st.integers(1, 12), st.integers(100_000, 9_000_000)),
        max_size=4,
    ),
    two_pays=st.booleans(),
    n=st.integers(0, 99),
)
def test_the_fast_year_totals_agree_with_the_payments(
    frequency, start, length, changes, two_pays, n
):
    e = Employment(
        f"E-{n}",
        ACME,
        "P",
        start,
        None if length is None else start + dt.timedelta(days=length),
        frequency,
        2_345_678,
        100_000,
        12_000,
        pay_changes=tuple(sorted((D(y, m, 6), pay) for y, m, pay in changes)),
    )
    quirks = frozenset({DataQuirk.TWO_PAYS_ONE_MONTH}) if two_pays else frozenset()
    fast = paye_income_by_year(e, 2013, 2026, quirks=quirks)
    for year in range(2013, 2027):
        paid = rti_payments(e, D(year, 4, 6), D(year + 1, 4, 5), quirks=quirks)
        assert fast.get(year) == paye_income_for_year(e, year, quirks=quirks)
        assert (fast[year].taxable_pay_pence if year in fast else 0) == sum(
            p.taxable_pay_pence for p in paid
        )


# -- the HMRC figure ------------------------------------------------------------------------------------------------


def person_with(*years: TaxYearIncome, **kw) -> Person:
    return Person(
        "JK123456C",
        "Ms",
        "Rhian",
        "Hughes",
        D(1980, 1, 1),
        Address(("1 High Street",), "LEEDS", "LS6 1AA"),
        tax_years=years,
        **kw,
    )


PAYE_30K = (PayeIncome("E1", "247/A1987CB", "P1", 3_000_000, taxable_benefits_pence=50_000),)


def test_self_assessment_wins_over_paye():
    sa = SelfAssessment(
        D(2025, 1, 20),
        employment_income_pence=3_000_000,
        self_employment_profit_pence=1_000_000,
        partnership_profit_pence=200_000,
        trade_loss_relief_pence=150_000,
    )
    figure = hmrc_figure(
        TaxYearIncome("2023-24", PAYE_30K, sa, UnearnedIncome(uk_property_profit_pence=900_000))
    )
    assert figure.source == SELF_ASSESSMENT
    assert figure.components == {
        "employment": 3_000_000,
        "pension": 0,
        "taxable_benefits": 0,
        "trading_profit": 1_050_000,
    }
    assert figure.gross_pence == 4_050_000  # unearned income is not part of it
    paye = hmrc_figure(TaxYearIncome("2023-24", PAYE_30K))
    assert (paye.source, paye.gross_pence, paye.components["taxable_benefits"]) == (
        PAYE,
        3_050_000,
        50_000,
    )


def test_trading_losses_floor_at_nil():
    sa = SelfAssessment(
        D(2025, 1, 20), self_employment_profit_pence=100_000, trade_loss_relief_pence=500_000
    )
    assert hmrc_figure(TaxYearIncome("2023-24", (), sa)).components["trading_profit"] == 0


def test_pensions_paid_through_paye_count_as_pension_when_the_employments_are_given():
    pension = employment(occupational_pension=True)
    year = TaxYearIncome(
        "2024-25", (PayeIncome(pension.employment_id, "247/A1987CB", "P1", 1_200_000),)
    )
    assert hmrc_figure(year, [pension]).components["pension"] == 1_200_000
    assert (
        hmrc_figure(year).components["employment"] == 1_200_000
    )  # unflagged, it looks like employment


def test_the_latest_available_year_has_ended_is_held_and_is_at_most_six_years_old():
    on = D(2026, 11, 22)
    stale = person_with(TaxYearIncome("2019-20", PAYE_30K), TaxYearIncome("2020-21", PAYE_30K))
    assert latest_available_tax_year(stale, on).tax_year == "2020-21"
    assert latest_available_tax_year(stale, D(2027, 4, 6)) is None  # 2020-21 is now seven years old
    current = person_with(TaxYearIncome("2025-26", PAYE_30K), TaxYearIncome("2026-27", PAYE_30K))
    assert latest_available_tax_year(current, on).tax_year == "2025-26"  # 2026-27 has not ended
    assert latest_available_tax_year(current, D(2026, 4, 5)) is None
    sa = SelfAssessment(D(2027, 1, 30), self_employment_profit_pence=5_000_000)
    filer = person_with(
        TaxYearIncome("2024-25", (), SelfAssessment(D(2026, 1, 2), self_employment_profit_pence=1)),
        TaxYearIncome("2025-26", PAYE_30K, sa, UnearnedIncome(savings_interest_pence=1)),
    )
    before = latest_available_tax_year(filer, on)
    assert (before.tax_year, before.self_assessment, before.unearned) == (
        "2025-26",
        None,
        None,
    )  # PAYE until SA
    assert hmrc_figure(latest_available_tax_year(filer, D(2027, 2, 1))).gross_pence == 5_000_000
    sa_only = person_with(
        TaxYearIncome("2024-25", (), SelfAssessment(D(2026, 1, 2), self_employment_profit_pence=7)),
        TaxYearIncome("2025-26", (), sa),
    )
    assert (
        latest_available_tax_year(sa_only, on).tax_year == "2024-25"
    )  # the latest return is not in yet


# -- Child Benefit ---------------------------------------------------------------------------------------------------


def award(*children: Child, elected=False, end=None) -> ChildBenefitAward:
    return ChildBenefitAward("CHB12345678AB", D(2010, 3, 1), end, elected, children)


def test_child_benefit_ends_on_31_august_after_the_16th_birthday_unless_education_is_reported():
    child = Child("Tomos", "Okafor", D(2010, 3, 1), "TA000001A", D(2010, 3, 1))
    assert sixteen_terminal_date(child.date_of_birth) == D(2026, 8, 31)
    on_the_day = child_status(award(child), child, D(2026, 8, 31))
    assert (
        on_the_day.entitled and on_the_day.in_payment and on_the_day.terminal_date == D(2026, 8, 31)
    )
    after = child_status(award(child), child, D(2026, 9, 1))
    assert not after.entitled and (after.end_date, after.end_reason) == (
        D(2026, 8, 31),
        ChildBenefitEndReason.REACHED_16_NOT_IN_EDUCATION,
    )
    reported = dataclasses.replace(child, approved_education_or_training_reported=True)
    assert child_status(award(reported), reported, D(2028, 9, 1)).entitled
    assert child_status(award(reported), reported, D(2030, 2, 28)).entitled
    at_twenty = child_status(award(reported), reported, D(2030, 3, 1))
    assert not at_twenty.entitled and (at_twenty.end_date, at_twenty.end_reason) == (
        D(2030, 2, 28),
        ChildBenefitEndReason.REACHED_20,
    )


def test_terminal_dates():
    assert sixteen_terminal_date(D(2010, 8, 31)) == D(2026, 8, 31)
    assert sixteen_terminal_date(D(2010, 9, 1)) == D(2027, 8, 31)
    assert sixteen_terminal_date(D(2008, 2, 29)) == D(2024, 8, 31)
    assert [
        quarter_end_on_or_after(d)
        for d in (D(2025, 1, 10), D(2024, 2, 29), D(2025, 6, 1), D(2025, 12, 1))
    ] == [D(2025, 2, 28), D(2024, 2, 29), D(2025, 8, 31), D(2026, 2, 28)]


def test_opting_out_is_entitled_but_not_in_payment():
    child = Child("Zara", "Okafor", D(2024, 10, 3), "TA000002A", D(2024, 10, 3))
    s = child_status(award(child, elected=True), child, D(2026, 1, 1))
    assert (s.entitled, s.in_payment, s.elected_not_to_be_paid) == (True, False, True)


def test_an_event_is_known_once_it_has_passed_and_an_award_end_ends_every_child():
    child = Child(
        "Ffion",
        "Okafor",
        D(2009, 5, 20),
        "TA000003A",
        D(2009, 5, 20),
        D(2027, 2, 28),
        ChildBenefitEndReason.LEFT_APPROVED_EDUCATION,
        True,
    )
    before = child_status(award(child), child, D(2026, 10, 1))
    assert before.entitled and before.end_date is None and before.terminal_date == D(2029, 5, 19)
    after = child_status(award(child), child, D(2027, 3, 1))
    assert not after.entitled and after.end_reason == ChildBenefitEndReason.LEFT_APPROVED_EDUCATION
    ended = child_status(award(child, end=D(2026, 1, 31)), child, D(2026, 2, 1))
    assert (ended.end_date, ended.end_reason) == (D(2026, 1, 31), ChildBenefitEndReason.CLAIM_ENDED)
    dirty = dataclasses.replace(
        child, end_date=D(2009, 1, 1), end_reason=ChildBenefitEndReason.CLAIM_ENDED
    )
    assert not child_status(award(dirty), dirty, D(2015, 1, 1)).entitled


def test_the_16_plus_iterator_gives_only_children_of_those_ages_with_their_claimants():
    on = D(2026, 11, 22)
    got = list(SMALL.child_benefit_children_aged(16, on))
    assert got and all(16 <= age_on(c.date_of_birth, on) <= 19 for _, c in got)
    assert all(c in p.child_benefit.children for p, c in got)
    expected = {
        (p.nino, c.child_reference_number)
        for p in (*FIXTURES, *SMALL.iter_people())
        if p.child_benefit
        for c in p.child_benefit.children
        if 16 <= age_on(c.date_of_birth, on) <= 19
    }
    assert {(p.nino, c.child_reference_number) for p, c in got} == expected
    names = {c.forenames for p, c in got if not p.generated}
    assert names == {"Ffion", "Tomos"}
    assert len(list(SMALL.child_benefit_children_aged(16, on, limit=5))) == 5
    assert [(n, c) for n, c in SMALL.child_benefit_children(16, on)] == [
        (p.nino, c) for p, c in got
    ]
    assert all(
        age_on(c.date_of_birth, on) >= 18 for _, c in SMALL.child_benefit_children_aged(18, on)
    )


# -- fixtures -----------------------------------------------------------------------------------------------------


def test_fixture_people_keep_their_figures():
    p = Population(size=10)
    on = D(2026, 4, 6)
    expected = {
        "AA123456A": ("2025-26", PAYE, 31_200_00),
        "AB234567B": ("2025-26", PAYE, 52_000_00),
        "AC345678C": ("2025-26", SELF_ASSESSMENT, 182_000_00),
    }
    for nino, (year, source, gross) in expected.items():
        held = latest_available_tax_year(p.person(nino), on)
        figure = hmrc_figure(held)
        assert (held.tax_year, figure.source, figure.gross_pence) == (year, source, gross)
    assert (
        p.person("AE456789D").tax_years == ()
        and latest_available_tax_year(p.person("AE456789D"), on) is None
    )
    assert (
        p.person("AC345678C").partner_nino == "AE456789D"
        and p.person("AA123456A").other_parent_nino == "AB234567B"
    )


def test_the_fixture_family_with_teenagers():
    sian = Population(size=10).person("AG765432A")
    kids = {c.forenames: c for c in sian.child_benefit.children}
    on = D(2026, 9, 1)
    assert child_status(sian.child_benefit, kids["Ffion"], on).entitled  # 17, approved education
    tomos = child_status(sian.child_benefit, kids["Tomos"], on)
    assert not tomos.entitled and tomos.end_date == D(2026, 8, 31)
    dana = Population(size=10).person("AE456789D")
    zara = child_status(dana.child_benefit, dana.child_benefit.children[0], on)
    assert zara.entitled and not zara.in_payment


def test_an_end_reported_ahead_is_known_from_when_it_was_reported():
    child = Child(
        "Ffion",
        "Okafor",
        D(2009, 5, 20),
        "TA000003A",
        D(2009, 5, 20),
        D(2027, 2, 28),
        ChildBenefitEndReason.LEFT_APPROVED_EDUCATION,
        True,
        end_date_reported_on=D(2027, 1, 10),
    )
    assert child_status(award(child), child, D(2027, 1, 9)).terminal_date == D(2029, 5, 19)
    told = child_status(award(child), child, D(2027, 1, 10))
    assert told.entitled and told.end_date is None and told.terminal_date == D(2027, 2, 28)


# -- DWP facts ------------------------------------------------------------------------------------------------------

REF = D(2026, 7, 1)  # the generator's reference date for the default horizon
FAR_FUTURE = D(9999, 12, 31)


def _spa(dob: dt.date) -> dt.date:
    return state_pension_date(dob)


@functools.cache
def _dwp_sample() -> tuple[Person, ...]:
    """20,000 people of the default population, every 50th index (every position in the families)."""
    g = Population(size=1_000_000, seed=2012).generator
    return tuple(g.person(i) for i in range(0, 1_000_000, 50))


@functools.cache
def _pensioners() -> tuple[Person, ...]:
    """Everyone over State Pension age in the first 150,000 households (found from the cheap household skeletons)."""
    g = Population(size=1_000_000, seed=2012).generator
    out = []
    for block in range(0, 150_000):
        hh = g.household(block)
        out.extend(
            g.person(block * 3 + pos)
            for pos in range(3)
            if _spa(D.fromordinal(hh.dobs[pos])) <= REF
        )
    return tuple(p for p in out if p.date_of_death is None)


def test_everyone_has_a_sex_matching_their_forenames_and_some_women_a_previous_surname():
    people = list(SMALL.iter_people(0, 3_000))
    assert {p.sex for p in people} == {"M", "F"}
    assert all(p.sex == "F" for p in people if p.title in ("Mrs", "Ms", "Miss"))
    assert all(p.sex == "M" for p in people if p.title == "Mr")
    changed = [p for p in people if p.previous_surnames]
    assert all(p.sex == "F" and p.surname not in p.previous_surnames for p in changed)
    assert 0.02 < len(changed) / len(people) < 0.07


def test_a_couple_claim_is_listed_under_both_partners_with_the_same_id():
    couples = 0
    for p in SMALL.iter_people(0, 3_000):
        for a in p.benefit_awards:
            assert p.nino in (a.claimant_nino, a.partner_nino)
            if a.partner_nino:
                assert a.benefit_type in MEANS_TESTED and p.partner_nino in (
                    a.claimant_nino,
                    a.partner_nino,
                )
                other = SMALL.person(
                    a.partner_nino if p.nino == a.claimant_nino else a.claimant_nino
                )
                assert a in other.benefit_awards  # the same award, id and all
                couples += 1
    assert couples > 20
    ids = [
        a.award_id
        for p in SMALL.iter_people(0, 3_000)
        for a in p.benefit_awards
        if not a.partner_nino
    ]
    assert len(ids) == len(set(ids))


def _max_pay(e: Employment) -> int:
    return max([e.annual_taxable_pay_pence, *(pay for _, pay in e.pay_changes)])


def test_nobody_in_a_job_over_20k_has_an_income_related_award_live_at_the_same_time():
    checked = 0
    population = Population(size=1_000_000, seed=2012)
    for p in _dwp_sample()[:6_000]:
        for a in p.benefit_awards:
            if a.benefit_type not in MEANS_TESTED:
                continue
            checked += 1
            members = (
                [p]
                if not a.partner_nino
                else [population.person(a.claimant_nino), population.person(a.partner_nino)]
            )
            for m in members:
                for e in m.employments:
                    if _max_pay(e) > 20_000_00:
                        overlap = e.start_date <= (a.end_date or FAR_FUTURE) and a.start_date <= (
                            e.end_date or FAR_FUTURE
                        )
                        assert not overlap, (m.nino, e.employment_id, a.award_id)
                assert not m.self_assessment_utr
    assert checked > 300


def test_out_of_work_awards_end_when_work_starts_and_legacy_awards_move_to_universal_credit():
    migrated = 0
    for p in _dwp_sample()[:6_000]:
        awards = {a.award_id: a for a in p.benefit_awards}
        for a in p.benefit_awards:
            if a.end_reason is AwardEndReason.MIGRATED_TO_UNIVERSAL_CREDIT:
                migrated += 1
                uc = [
                    b
                    for b in awards.values()
                    if b.benefit_type is BenefitType.UNIVERSAL_CREDIT
                    and b.start_date == a.end_date + dt.timedelta(days=1)
                ]
                assert len(uc) == 1 and uc[0].claimant_nino == a.claimant_nino
            if a.benefit_type is BenefitType.UNIVERSAL_CREDIT:
                assert (
                    a.payment_frequency == "MONTHLY"
                    and a.uc_standard_allowance_monthly_pence in (400_14, 316_98, 628_10, 497_55)
                )
                assert (
                    a.uc_assessment_day == a.start_date.day
                    and 0 <= a.uc_third_party_deduction_count <= 3
                )
            if a.benefit_type is BenefitType.JOBSEEKERS_ALLOWANCE_CONTRIBUTION_BASED and a.end_date:
                assert (a.end_date - a.start_date).days <= 181
            assert (
                a.amount_pence > 0
                and isinstance(a.amount_pence, int)
                and a.decision_date >= a.start_date
            )
            assert a.end_date is None or a.end_date >= a.start_date
    assert migrated > 10


def test_pensioners_get_state_pension_and_a_fifth_pension_credit():
    pensioners = _pensioners()
    assert len(pensioners) > 300
    on_sp = [
        p
        for p in pensioners
        if any(a.benefit_type is BenefitType.STATE_PENSION for a in live_awards(p, REF))
    ]
    on_pc = [
        p
        for p in pensioners
        if any(a.benefit_type is BenefitType.PENSION_CREDIT for a in live_awards(p, REF))
    ]
    assert len(on_sp) / len(pensioners) > 0.93
    assert 0.15 < len(on_pc) / len(pensioners) < 0.25
    for p in on_sp:
        sp = next(a for a in p.benefit_awards if a.benefit_type is BenefitType.STATE_PENSION)
        assert sp.payment_frequency == "FOUR_WEEKLY" and sp.amount_pence <= 4 * 230_25
        assert sp.start_date >= _spa(p.date_of_birth)
    nobody_young = [
        p
        for p in _dwp_sample()
        if _spa(p.date_of_birth) > D(2027, 4, 5)
        and any(
            a.benefit_type in (BenefitType.STATE_PENSION, BenefitType.PENSION_CREDIT)
            for a in p.benefit_awards
        )
    ]
    assert nobody_young == []


def test_benefit_awards_are_deterministic():
    a, b = Population(size=30_000, seed=7), Population(size=30_000, seed=7)
    for index in range(0, 30_000, 97):
        assert a.person_at(index).benefit_awards == b.generator.person(index).benefit_awards
    # The same person, generated alone or after their partner, has the same awards.
    c = Population(size=30_000, seed=7)
    people = [c.generator.person(i) for i in range(3_000)]
    for index in range(0, 3_000, 7):
        assert Generator(7, 30_000).person(index) == people[index]


def test_the_dwp_mix_is_as_documented():
    people = [p for p in _dwp_sample() if p.date_of_death is None]
    working_age = [p for p in people if _spa(p.date_of_birth) > REF]
    assert len(people) > 19_900

    def share(group, benefits):
        return sum(
            1 for p in group if any(a.benefit_type in benefits for a in live_awards(p, REF))
        ) / len(group)

    assert 0.09 < share(working_age, MEANS_TESTED) < 0.15
    assert 0.07 < share(working_age, {BenefitType.UNIVERSAL_CREDIT}) < 0.11
    legacy = {
        BenefitType.INCOME_SUPPORT,
        BenefitType.JOBSEEKERS_ALLOWANCE_INCOME_BASED,
        BenefitType.EMPLOYMENT_AND_SUPPORT_ALLOWANCE_INCOME_RELATED,
    }
    assert 0.003 < share(working_age, legacy) < 0.03
    assert 0.01 < share(working_age, {BenefitType.PERSONAL_INDEPENDENCE_PAYMENT}) < 0.08
    assert 0.003 < share(working_age, {BenefitType.CARERS_ALLOWANCE}) < 0.03
    assert (
        0.002
        < share(
            working_age,
            {
                BenefitType.JOBSEEKERS_ALLOWANCE_CONTRIBUTION_BASED,
                BenefitType.EMPLOYMENT_AND_SUPPORT_ALLOWANCE_CONTRIBUTORY,
            },
        )
        < 0.03
    )
    awards = [a for p in people for a in p.benefit_awards]
    live = [a for a in awards if live_on(a, REF)]
    assert 0.005 < sum(suspended_on(a, REF) for a in live) / len(live) < 0.05
    stale = [
        a for a in live if a.cis_updated_on and a.cis_updated_on < REF - dt.timedelta(days=700)
    ]
    assert 0 < len(stale) / len(live) < 0.05
    uc = [a for a in live if a.benefit_type is BenefitType.UNIVERSAL_CREDIT]
    assert 0.03 < sum(a.uc_earned_income for a in uc) / len(uc) < 0.35
    assert any(a.uc_third_party_deduction_count for a in uc)
    seen = {a.benefit_type for a in awards}
    assert {
        BenefitType.MATERNITY_ALLOWANCE,
        BenefitType.ARMED_FORCES_COMPENSATION_SCHEME,
        BenefitType.INDUSTRIAL_INJURIES_DISABLEMENT_BENEFIT,
        BenefitType.DISABILITY_LIVING_ALLOWANCE,
    } <= seen


def test_the_fixture_benefit_awards():
    p = Population(size=10)
    dana = p.person("AE456789D")
    on = D(2026, 4, 6)
    (jsa,) = live_awards(dana, on)
    assert jsa.benefit_type is BenefitType.JOBSEEKERS_ALLOWANCE_INCOME_BASED and not suspended_on(
        jsa, on
    )
    assert (jsa.claimant_nino, jsa.amount_pence, jsa.payment_frequency) == (
        "AE456789D",
        181_00,
        "FORTNIGHTLY",
    )
    ryan = p.person("AH567890B")
    (uc,) = live_awards(ryan, on)
    assert uc.benefit_type is BenefitType.UNIVERSAL_CREDIT and not uc.uc_earned_income
    assert not any(e.end_date is None for e in ryan.employments)
    assert all(
        live_awards(p.person(n), on) == ()
        for n in ("AA123456A", "AB234567B", "AC345678C", "AG765432A")
    )
    assert {f.sex for f in FIXTURES} == {"M", "F"}


def test_live_awards_and_suspensions_on_a_date():
    award = BenefitAward(
        "X-B1",
        BenefitType.CARERS_ALLOWANCE,
        "AA123456A",
        D(2025, 1, 6),
        D(2025, 1, 20),
        83_30,
        "WEEKLY",
        end_date=D(2025, 12, 31),
        end_reason=AwardEndReason.ENTITLEMENT_ENDED,
        suspensions=(
            PaymentSuspension(D(2025, 3, 1), D(2025, 3, 31), "FAILED_TO_ATTEND"),
            PaymentSuspension(D(2025, 11, 1), None, "DOUBT_ON_ENTITLEMENT"),
        ),
    )
    later = BenefitAward(
        "X-B2",
        BenefitType.STATE_PENSION,
        "AA123456A",
        D(2026, 1, 1),
        D(2026, 1, 9),
        921_00,
        "FOUR_WEEKLY",
    )
    person = dataclasses.replace(FIXTURES[0], benefit_awards=(award, later))
    assert live_awards(person, D(2025, 1, 5)) == ()
    assert live_awards(person, D(2025, 1, 6)) == (award,)
    assert live_awards(person, D(2025, 12, 31)) == (award,)  # the end date is the last day
    assert live_awards(person, D(2026, 1, 1)) == (later,)
    assert not suspended_on(award, D(2025, 2, 28)) and suspended_on(award, D(2025, 3, 1))
    assert suspended_on(award, D(2025, 3, 31)) and not suspended_on(award, D(2025, 4, 1))
    assert suspended_on(award, D(2025, 11, 1)) and suspended_on(
        award, D(2030, 1, 1)
    )  # an open suspension
    assert not suspended_on(later, D(2026, 6, 1))
