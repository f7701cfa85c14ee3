"""The arrears rules: an agreement's schedule and terms, its compliance, a Direct Pay shortfall, what the arrears check
counts as newly missed, and a Regulation 8 decision's figures (unit examples and hypothesis properties)."""

from __future__ import annotations

import datetime as dt

from hypothesis import given
from hypothesis import strategies as st

from cms.common.v1 import types_pb2 as common
from cms_casework.arrears import rules
from cms_casework.arrears.rules import Payment, Reported, Terms

TODAY = dt.date(2026, 4, 6)
W, F, FW, M = (
    common.PAYMENT_FREQUENCY_WEEKLY,
    common.PAYMENT_FREQUENCY_FORTNIGHTLY,
    common.PAYMENT_FREQUENCY_FOUR_WEEKLY,
    common.PAYMENT_FREQUENCY_MONTHLY,
)


def fields(violations: list[rules.Violation]) -> set[str]:
    return {v.field for v in violations}


# -- agreements: examples -------------------------------------------------------------------------------------------


def test_a_lump_sum_then_monthly_instalments_add_up_to_the_arrears_with_a_smaller_last_one():
    terms = Terms(
        arrears_pence=1_000_00,
        lump_sum_pence=250_00,
        lump_sum_due=dt.date(2026, 4, 10),
        instalment_pence=100_00,
        frequency=M,
        first_instalment=dt.date(2026, 5, 31),
    )
    assert rules.check_terms(terms, today=TODAY) == []
    payments = rules.schedule(terms)
    assert payments[0] == Payment(dt.date(2026, 4, 10), 250_00, lump_sum=True)
    assert [p.amount_pence for p in payments[1:]] == [100_00] * 7 + [50_00]
    # Monthly from the 31st: clamped to shorter months, each from the first date.
    assert [p.due for p in payments[1:4]] == [
        dt.date(2026, 5, 31),
        dt.date(2026, 6, 30),
        dt.date(2026, 7, 31),
    ]


def test_a_lump_sum_alone_needs_no_instalments():
    terms = Terms(arrears_pence=500_00, lump_sum_pence=500_00, lump_sum_due=TODAY)
    assert rules.check_terms(terms, today=TODAY) == []
    assert rules.schedule(terms) == [Payment(TODAY, 500_00, lump_sum=True)]


def test_weekly_fortnightly_and_four_weekly_instalments_fall_every_7_14_and_28_days():
    for frequency, days in ((W, 7), (F, 14), (FW, 28)):
        terms = Terms(
            arrears_pence=300, instalment_pence=100, frequency=frequency, first_instalment=TODAY
        )
        dues = [p.due for p in rules.schedule(terms)]
        assert dues == [TODAY + dt.timedelta(days=days * i) for i in range(3)]


def test_a_schedule_beyond_24_months_needs_a_reason_named_on_the_instalment():
    terms = Terms(
        arrears_pence=2_500_00, instalment_pence=100_00, frequency=M, first_instalment=TODAY
    )  # 25 monthly instalments: the last on 6 April 2028, 24 months on to the day
    assert rules.check_terms(terms, today=TODAY) == []
    longer = Terms(
        arrears_pence=2_600_00, instalment_pence=100_00, frequency=M, first_instalment=TODAY
    )
    violations = rules.check_terms(longer, today=TODAY)
    assert fields(violations) == {"instalment_amount_pence", "extension_reason"}
    assert "6 May 2028" in violations[0].description
    extended = Terms(**{**longer.__dict__, "extension_reason": "income falls while on sick pay"})
    assert rules.check_terms(extended, today=TODAY) == []


def test_the_term_is_a_parameter():
    # 14 monthly instalments: the last on 6 May 2027, a month beyond a 12-month term.
    terms = Terms(
        arrears_pence=1_400_00, instalment_pence=100_00, frequency=M, first_instalment=TODAY
    )
    assert rules.check_terms(terms, today=TODAY) == []
    short = rules.AgreementParameters(max_term_months=12)
    assert fields(rules.check_terms(terms, today=TODAY, params=short)) == {
        "instalment_amount_pence",
        "extension_reason",
    }


def test_bad_terms_name_their_fields():
    bad = Terms(
        arrears_pence=100_00,
        lump_sum_pence=200_00,
        lump_sum_due=TODAY - dt.timedelta(days=1),
        instalment_pence=0,
        frequency=0,
        first_instalment=None,
    )
    assert fields(rules.check_terms(bad, today=TODAY)) == {"lump_sum_pence", "lump_sum_due_date"}
    no_instalment = Terms(arrears_pence=100_00, lump_sum_pence=50_00, lump_sum_due=TODAY)
    assert fields(rules.check_terms(no_instalment, today=TODAY)) == {
        "instalment_amount_pence",
        "payment_frequency",
        "first_instalment_date",
    }
    no_lump_date = Terms(arrears_pence=100_00, lump_sum_pence=100_00)
    assert fields(rules.check_terms(no_lump_date, today=TODAY)) == {"lump_sum_due_date"}
    past = Terms(
        arrears_pence=100,
        instalment_pence=10,
        frequency=W,
        first_instalment=TODAY - dt.timedelta(1),
    )
    assert fields(rules.check_terms(past, today=TODAY)) == {"first_instalment_date"}
    assert rules.check_terms(Terms(arrears_pence=0), today=TODAY)[0].description.startswith(
        "there are no"
    )


def test_a_mistyped_penny_instalment_is_refused_even_with_a_reason():
    terms = Terms(
        arrears_pence=1_000_00,
        instalment_pence=1,
        frequency=W,
        first_instalment=TODAY,
        extension_reason="x",
    )
    assert fields(rules.check_terms(terms, today=TODAY)) == {"instalment_amount_pence"}


# -- compliance -----------------------------------------------------------------------------------------------------


def test_receipts_pay_the_oldest_payment_first_and_what_is_left_is_returned():
    payments = [Payment(TODAY, 100), Payment(TODAY + dt.timedelta(7), 100)]
    paid, left = rules.pay(payments, 150)
    assert [p.paid_pence for p in paid] == [100, 50] and left == 0
    paid, left = rules.pay(paid, 80)
    assert [p.paid_pence for p in paid] == [100, 100] and left == 30
    assert rules.completed(paid)


def test_a_payment_is_missed_only_after_its_due_date_and_the_grace_period():
    payments = [Payment(TODAY, 100, paid_pence=40)]
    assert rules.first_missed(payments, as_of=TODAY + dt.timedelta(days=3), grace_days=3) is None
    assert (
        rules.first_missed(payments, as_of=TODAY + dt.timedelta(days=4), grace_days=3)
        == payments[0]
    )
    assert (
        rules.first_missed([Payment(TODAY, 100, 100)], as_of=TODAY + dt.timedelta(30), grace_days=0)
        is None
    )


# -- Direct Pay -----------------------------------------------------------------------------------------------------


def test_a_direct_pay_report_needs_past_distinct_short_payments():
    ok = [Reported(dt.date(2026, 3, 1), 400_00, 100_00), Reported(dt.date(2026, 2, 1), 400_00, 0)]
    assert rules.check_reported(ok, today=TODAY) == []
    assert rules.shortfall(ok) == 700_00
    bad = [
        Reported(TODAY + dt.timedelta(days=1), 100, 0),
        Reported(dt.date(2026, 3, 1), 100, 100),
        Reported(dt.date(2026, 3, 1), 0, 0),
        Reported(None, 100, -1),
    ]
    assert fields(rules.check_reported(bad, today=TODAY)) == {
        "missed_payments[0].due_date",
        "missed_payments[1].received_pence",
        "missed_payments[2].due_date",
        "missed_payments[2].expected_pence",
        "missed_payments[3].due_date",
        "missed_payments[3].received_pence",
    }


# -- the arrears check ----------------------------------------------------------------------------------------------


def test_only_a_rise_in_what_is_overdue_is_a_missed_payment():
    assert rules.newly_missed(0, 296_40) == 296_40
    assert rules.newly_missed(296_40, 296_40) == 0
    assert rules.newly_missed(296_40, 100_00) == 0  # paid off in part
    # Due 2 April, 3 days' grace (3 to 5 April): missed on 6 April.
    assert rules.cutoff(TODAY, 3) == dt.date(2026, 4, 2)
    assert rules.cutoff(TODAY, 0) == dt.date(2026, 4, 5)


# -- overpayments ---------------------------------------------------------------------------------------------------


def test_an_offset_takes_what_the_arrears_take_and_the_rest_stays_as_credit():
    offset = rules.offset_against_arrears(overpaid_pence=300_00, arrears_pence=120_00)
    assert offset.offset_pence == 120_00
    text = " ".join(offset.explanation)
    assert "reg 8" in text and "£300.00" in text and "£120.00" in text and "£180.00" in text


def test_a_reduction_is_capped_at_the_amount_payable_so_it_goes_to_nil():
    cut = rules.reduce_amount_payable(
        overpaid_pence=500_00, amount_payable_pence=200_00, reduction_pence=300_00, start=TODAY
    )
    assert (
        cut.reduction_pence,
        cut.reduced_amount_pence,
        cut.periods,
        cut.final_reduction_pence,
    ) == (
        200_00,
        0,
        3,
        100_00,
    )
    assert any("to nil" in step for step in cut.explanation)
    assert "reg 9" in " ".join(cut.explanation)


def test_a_reduction_explains_the_periods_and_the_last_one():
    cut = rules.reduce_amount_payable(
        overpaid_pence=250_00, amount_payable_pence=400_00, reduction_pence=100_00, start=TODAY
    )
    assert (cut.reduced_amount_pence, cut.periods, cut.final_reduction_pence) == (300_00, 3, 50_00)
    assert "for 3 periods, the last by £50.00: £250.00 in all" in cut.explanation[-1]


# -- properties -----------------------------------------------------------------------------------------------------

pence = st.integers(min_value=1, max_value=10_000_000)
frequencies = st.sampled_from([W, F, FW, M])
days_ahead = st.integers(min_value=0, max_value=400)


@st.composite
def sound_terms(draw: st.DrawFn) -> Terms:
    arrears = draw(pence)
    lump = draw(st.integers(min_value=0, max_value=arrears))
    remaining = arrears - lump
    instalment = (
        draw(st.integers(min_value=max(1, remaining // 500 + 1), max_value=max(1, remaining)))
        if remaining
        else 0
    )
    return Terms(
        arrears_pence=arrears,
        lump_sum_pence=lump,
        lump_sum_due=TODAY + dt.timedelta(days=draw(days_ahead)) if lump else None,
        instalment_pence=instalment,
        frequency=draw(frequencies) if remaining else 0,
        first_instalment=TODAY + dt.timedelta(days=draw(days_ahead)) if remaining else None,
        extension_reason="agreed",
    )


@given(sound_terms())
def test_a_schedule_is_exact_to_the_penny_and_in_due_date_order(terms: Terms):
    assert rules.check_terms(terms, today=TODAY) == []
    payments = rules.schedule(terms)
    assert sum(p.amount_pence for p in payments) == terms.arrears_pence
    instalments = [p for p in payments if not p.lump_sum]
    assert sum(p.amount_pence for p in instalments) == terms.arrears_pence - terms.lump_sum_pence
    assert all(0 < p.amount_pence <= terms.instalment_pence for p in instalments)
    assert all(p.amount_pence == terms.instalment_pence for p in instalments[:-1])
    dues = [p.due for p in instalments]
    assert dues == sorted(dues) and len(set(dues)) == len(dues)


@given(sound_terms())
def test_without_a_reason_every_accepted_schedule_ends_within_24_months(terms: Terms):
    plain = Terms(**{**terms.__dict__, "extension_reason": ""})
    accepted = rules.check_terms(plain, today=TODAY) == []
    last = rules.schedule(plain)[-1].due
    assert accepted == (last <= dt.date(2028, 4, 6))


@given(sound_terms(), st.lists(st.integers(min_value=0, max_value=10_000_000), max_size=8))
def test_receipts_never_pay_more_than_is_due_and_nothing_is_lost(terms: Terms, receipts: list[int]):
    payments = rules.schedule(terms)
    left_over = 0
    for amount in receipts:
        payments, left = rules.pay(payments, amount)
        left_over += left
    paid = sum(p.paid_pence for p in payments)
    assert all(0 <= p.paid_pence <= p.amount_pence for p in payments)
    assert paid + left_over == sum(receipts)
    assert rules.completed(payments) == (paid == terms.arrears_pence)


@given(pence, pence, pence)
def test_a_reduction_recovers_exactly_the_overpayment_and_never_goes_below_nil(
    overpaid: int, payable: int, asked: int
):
    cut = rules.reduce_amount_payable(
        overpaid_pence=overpaid, amount_payable_pence=payable, reduction_pence=asked, start=TODAY
    )
    assert 0 < cut.reduction_pence <= min(asked, payable)
    assert cut.reduced_amount_pence == payable - cut.reduction_pence >= 0
    assert 0 < cut.final_reduction_pence <= cut.reduction_pence
    assert cut.reduction_pence * (cut.periods - 1) + cut.final_reduction_pence == overpaid


@given(st.integers(min_value=0, max_value=10**9), st.integers(min_value=0, max_value=10**9))
def test_an_offset_never_exceeds_the_overpayment_or_the_arrears(overpaid: int, arrears: int):
    offset = rules.offset_against_arrears(overpaid_pence=overpaid, arrears_pence=arrears)
    assert offset.offset_pence == min(overpaid, arrears)
