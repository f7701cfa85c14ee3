"""Calculation statements rendered from hand-built stored Calculations (no server)."""

from __future__ import annotations

import pytest
from google.type import date_pb2

from cms.calculation.v1 import resources_pb2 as pb
from cms.common.v1 import types_pb2 as common
from cms_calculation.calculations.statements import format_date, render_statement
from cms_calculation.engine.money import percent
from cms_platform.errors import InvalidArgument

PP = pb.STATEMENT_AUDIENCE_PAYING_PARENT
RP = pb.STATEMENT_AUDIENCE_RECEIVING_PARENT
CW = pb.STATEMENT_AUDIENCE_CASEWORKER

# rp-b's own figures (and the totals that would reveal them): never in rp-a's statement.
RP_B_FIGURES = [
    "£22.86",
    "£4.57",
    "£0.91",
    "£21.95",
    "£43.90",
    "£87.80",
    "£95.12",
    "£86.86",
    "£376.39",
    "£17.37",
    "£104.23",
    "£451.66",
    "£3.47",
    "£83.39",
]


def periodic(
    weekly: int, fortnightly: int, four_weekly: int, monthly: int
) -> list[common.PeriodicAmount]:
    return [
        common.PeriodicAmount(frequency=f, amount_pence=a)
        for f, a in (
            (common.PAYMENT_FREQUENCY_WEEKLY, weekly),
            (common.PAYMENT_FREQUENCY_FORTNIGHTLY, fortnightly),
            (common.PAYMENT_FREQUENCY_FOUR_WEEKLY, four_weekly),
            (common.PAYMENT_FREQUENCY_MONTHLY, monthly),
        )
    ]


def step(kind, citation, explanation, *params, rp="", child="", amount=None) -> pb.CalculationStep:
    return pb.CalculationStep(
        kind=kind,
        citation=citation,
        explanation=explanation,
        amount_pence=amount,
        receiving_parent_reference=rp,
        child_reference=child,
        rule_set_parameters=params,
    )


STEPS = [
    step(
        pb.CALCULATION_STEP_KIND_INCOME,
        "2012 Regs reg 35(1)",
        "Your income of £31,285.71 a year from HMRC is £600.00 a week (divided by 365, times 7).",
        amount=600_00,
    ),
    step(
        pb.CALCULATION_STEP_KIND_RATE,
        "Child Support Act 1991 Sch 1 para 2(1)",
        "The basic rate for 3 children is 16% of £600.00.",
        "basic_percent",
    ),
    step(
        pb.CALCULATION_STEP_KIND_ROUNDING,
        "2012 Regs reg 6",
        "The amount is rounded to the nearest pound: £96.00 a week.",
        "round_rate_to_pound",
    ),
    step(
        pb.CALCULATION_STEP_KIND_APPORTIONMENT,
        "Child Support Act 1991 Sch 1 para 6",
        "£64.00 a week is for the 2 qualifying children living with this receiving parent.",
        rp="rp-a",
    ),
    step(
        pb.CALCULATION_STEP_KIND_APPORTIONMENT,
        "Child Support Act 1991 Sch 1 para 6",
        "£32.00 a week is for the 1 qualifying child living with this receiving parent.",
        rp="rp-b",
    ),
    step(
        pb.CALCULATION_STEP_KIND_SHARED_CARE,
        "Child Support Act 1991 Sch 1 para 7",
        "Amy spends 0 nights a year with the paying parent, so there is no shared-care reduction.",
        "shared_care_bands",
        child="c1",
    ),
    step(
        pb.CALCULATION_STEP_KIND_SHARED_CARE,
        "Child Support Act 1991 Sch 1 para 7",
        "Child c3 spends 120 nights a year with the paying parent: the 2/7 band.",
        "shared_care_bands",
        child="c3",
    ),
    step(
        pb.CALCULATION_STEP_KIND_SHARED_CARE,
        "Child Support Act 1991 Sch 1 para 8",
        "Shared care reduces the amount for rp-b by 2/7 to £22.86 a week.",
        "shared_care_bands",
        rp="rp-b",
    ),
    step(
        pb.CALCULATION_STEP_KIND_COLLECTION_FEE,
        "Child Support Fees Regulations 2014 regs 7 and 8",
        "On Collect and Pay the paying parent pays a further 20% and the receiving parent's payments are reduced by 4%.",
        "collection_fee.paying_parent_basis_points",
        "collection_fee.receiving_parent_basis_points",
    ),
]


@pytest.fixture
def calc() -> pb.Calculation:
    effective = date_pb2.Date(year=2025, month=4, day=1)
    return pb.Calculation(
        name="calculations/abc123",
        case_reference="CASE-1",
        input=pb.CalculationInput(
            effective_date=effective,
            paying_parent_income=pb.PayingParentIncome(
                hmrc_gross_annual_income_pence=31_285_71, hmrc_tax_year="2023-24"
            ),
            qualifying_children=[
                pb.QualifyingChild(
                    child_reference="c1", receiving_parent_reference="rp-a", forename="Amy"
                ),
                pb.QualifyingChild(child_reference="c2", receiving_parent_reference="rp-a"),
                pb.QualifyingChild(
                    child_reference="c3",
                    receiving_parent_reference="rp-b",
                    shared_care_nights=120,
                    forename="Zoe",
                ),
            ],
            service_type=pb.SERVICE_TYPE_COLLECT_AND_PAY,
            payment_frequency=common.PAYMENT_FREQUENCY_MONTHLY,
            paying_parent_reference="pp-1",
        ),
        reason=pb.CALCULATION_REASON_INITIAL,
        effective_date=effective,
        rate=pb.RATE_BASIC,
        weekly_amount_pence=86_86,
        gross_weekly_income_pence=600_00,
        income=pb.IncomeDetermination(
            basis=pb.INCOME_BASIS_HISTORIC,
            historic_weekly_income_pence=600_00,
            uncapped_weekly_income_pence=600_00,
            gross_weekly_income_pence=600_00,
            roc_reduced_weekly_income_pence=600_00,
        ),
        receiving_parent_amounts=[
            pb.ReceivingParentAmount(
                receiving_parent_reference="rp-a",
                qualifying_child_count=2,
                apportioned_weekly_amount_pence=64_00,
                weekly_amount_pence=64_00,
                receiving_parent_fee_weekly_pence=2_56,
                paying_parent_fee_weekly_pence=12_80,
                weekly_amount_received_pence=61_44,
                received_periodic_amounts=periodic(61_44, 122_88, 245_76, 266_24),
            ),
            pb.ReceivingParentAmount(
                receiving_parent_reference="rp-b",
                qualifying_child_count=1,
                apportioned_weekly_amount_pence=32_00,
                weekly_amount_pence=22_86,
                receiving_parent_fee_weekly_pence=91,
                paying_parent_fee_weekly_pence=4_57,
                weekly_amount_received_pence=21_95,
                received_periodic_amounts=periodic(21_95, 43_90, 87_80, 95_12),
            ),
        ],
        child_amounts=[
            pb.ChildAmount(
                child_reference="c1",
                receiving_parent_reference="rp-a",
                shared_care_nights=0,
                shared_care_band=pb.SHARED_CARE_BAND_NONE,
                weekly_amount_pence=32_00,
            ),
            pb.ChildAmount(
                child_reference="c2",
                receiving_parent_reference="rp-a",
                shared_care_nights=0,
                shared_care_band=pb.SHARED_CARE_BAND_NONE,
                weekly_amount_pence=32_00,
            ),
            pb.ChildAmount(
                child_reference="c3",
                receiving_parent_reference="rp-b",
                shared_care_nights=120,
                shared_care_band=pb.SHARED_CARE_BAND_TWO_SEVENTHS,
                weekly_amount_pence=22_86,
            ),
        ],
        periodic_amounts=periodic(86_86, 173_72, 347_44, 376_39),
        payment_frequency=common.PAYMENT_FREQUENCY_MONTHLY,
        collection_fees=pb.CollectionFees(
            charged=True,
            paying_parent_fee_basis_points=2000,
            receiving_parent_fee_basis_points=400,
            paying_parent_fee_weekly_pence=17_37,
            receiving_parent_fee_weekly_pence=3_47,
            paying_parent_weekly_total_pence=104_23,
            receiving_parent_weekly_total_pence=83_39,
            paying_parent_periodic_amounts=periodic(104_23, 208_46, 416_92, 451_66),
        ),
        steps=STEPS,
        rule_set_version="2014-08-11",
    )


def section(statement: pb.CalculationStatement, heading: str) -> str:
    found = [s for s in statement.sections if s.heading == heading]
    assert len(found) == 1, f"{heading!r} not in {[s.heading for s in statement.sections]}"
    return "\n".join(found[0].paragraphs)


def headings(statement: pb.CalculationStatement) -> list[str]:
    return [s.heading for s in statement.sections]


def test_paying_parent_statement(calc):
    s = render_statement(calc, PP)
    assert (s.calculation, s.audience, s.receiving_parent_reference) == (
        "calculations/abc123",
        PP,
        "",
    )
    assert s.title == "Your child maintenance calculation from 1 April 2025"
    assert headings(s) == [
        "What you will pay",
        "The income we used",
        "How we worked it out",
        "Children",
        "Collection fees",
        "If you think this is wrong",
        "The rules we applied",
    ]
    pay = section(s, "What you will pay")
    assert "You will pay £86.86 a week" in pay
    assert "Payments are made monthly: £376.39 a month." in pay
    assert "basic rate" in pay
    income = section(s, "The income we used")
    assert "your income from HMRC for the 2023-24 tax year: £600.00 a week" in income
    assert "The gross weekly income we used is £600.00." in income
    assert section(s, "How we worked it out").split("\n") == [st.explanation for st in STEPS]
    children = section(s, "Children")
    assert "Amy: 0 nights a year with you; £32.00 a week" in children
    assert "c2: 0 nights" in children
    assert "Zoe: 120 nights a year with you; £22.86 a week" in children
    fees = section(s, "Collection fees")
    assert "fee of 20%" in fees and "£17.37 a week" in fees and "£104.23 a week in total" in fees
    assert "£451.66 a month" in fees
    assert "4%" not in fees  # the receiving parents' fee is theirs
    assert "mandatory reconsideration within one month of the date of the decision" in section(
        s, "If you think this is wrong"
    )
    assert section(s, "The rules we applied").split("\n") == [
        "2012 Regs reg 35(1)",
        "Child Support Act 1991 Sch 1 para 2(1)",
        "2012 Regs reg 6",
        "Child Support Act 1991 Sch 1 para 6",
        "Child Support Act 1991 Sch 1 para 7",
        "Child Support Act 1991 Sch 1 para 8",
        "Child Support Fees Regulations 2014 regs 7 and 8",
    ]
    assert "[" not in s.plain_text and "rule-set parameters" not in s.plain_text


def test_receiving_parent_statement_is_their_own_part_only(calc):
    s = render_statement(calc, RP, "rp-a")
    assert (s.audience, s.receiving_parent_reference) == (RP, "rp-a")
    assert s.title == "Your child maintenance calculation from 1 April 2025"
    assert headings(s) == [
        "What you will receive",
        "The income we used",
        "How we worked it out",
        "Children",
        "Collection fees",
        "If you think this is wrong",
        "The rules we applied",
    ]
    receive = section(s, "What you will receive")
    assert "your 2 children is £64.00 a week" in receive
    assert "You will receive £61.44 a week." in receive
    assert "Payments are made monthly: £266.24 a month." in receive
    assert "the paying parent's income from HMRC" in section(s, "The income we used")
    assert section(s, "How we worked it out").split("\n") == [
        STEPS[i].explanation for i in (0, 1, 2, 3, 5, 8)
    ]
    children = section(s, "Children")
    assert "Amy: 0 nights a year with the paying parent; £32.00 a week" in children
    assert "c2: 0 nights" in children
    fees = section(s, "Collection fees")
    assert (
        "A fee of 4% (£2.56 a week) is taken from your child maintenance, so you receive £61.44 a week."
        in fees
    )
    assert "Child Support Act 1991 Sch 1 para 8" not in section(
        s, "The rules we applied"
    )  # only rp-b's step cites it

    text = s.plain_text + "".join(p for sec in s.sections for p in sec.paragraphs)
    for secret in ["rp-b", "c3", "Zoe", "120 nights", "2/7", "1 qualifying child", *RP_B_FIGURES]:
        assert secret not in text, secret


def test_other_receiving_parent_sees_only_theirs(calc):
    s = render_statement(calc, RP, "rp-b")
    assert "Zoe: 120 nights a year with the paying parent; £22.86 a week" in section(s, "Children")
    assert "You will receive £21.95 a week." in section(s, "What you will receive")
    assert "£95.12 a month" in section(s, "What you will receive")
    assert "Child c3 spends 120 nights" in section(s, "How we worked it out")
    for secret in [
        "rp-a",
        "Amy",
        "c1",
        "c2",
        "£64.00",
        "£61.44",
        "£2.56",
        "£266.24",
        "£86.86",
        "£17.37",
    ]:
        assert secret not in s.plain_text, secret


def test_caseworker_statement_has_citations_parameters_and_everyone(calc):
    s = render_statement(calc, CW, "ignored")
    assert (s.audience, s.receiving_parent_reference) == (CW, "")
    assert s.title == "Child maintenance calculation calculations/abc123 from 1 April 2025"
    assert headings(s) == [
        "Summary",
        "The income we used",
        "How we worked it out",
        "Children",
        "Collection fees",
        "Rule set",
    ]
    summary = section(s, "Summary")
    assert "CASE-1" in summary and "£86.86 a week" in summary and "£376.39 a month" in summary
    assert (
        "Receiving parent rp-a: £64.00 a week for 2 qualifying children; receives £61.44 a week"
        in summary
    )
    assert (
        "Receiving parent rp-b: £22.86 a week for 1 qualifying child; receives £21.95 a week"
        in summary
    )
    workings = section(s, "How we worked it out").split("\n")
    assert workings[1] == (
        "The basic rate for 3 children is 16% of £600.00. [Child Support Act 1991 Sch 1 para 2(1)] "
        "(rule-set parameters: basic_percent)"
    )
    assert workings[0].endswith("[2012 Regs reg 35(1)]")  # no parameters, no empty brackets
    assert workings[-1].endswith(
        "(rule-set parameters: collection_fee.paying_parent_basis_points, "
        "collection_fee.receiving_parent_basis_points)"
    )
    assert len(workings) == len(STEPS)
    children = section(s, "Children")
    assert (
        "Amy (c1, receiving parent rp-a)" in children and "c2 (receiving parent rp-a)" in children
    )
    assert "Zoe (c3, receiving parent rp-b)" in children
    fees = section(s, "Collection fees")
    assert (
        "20%" in fees
        and "£104.23" in fees
        and "4%" in fees
        and "£3.47" in fees
        and "£83.39" in fees
    )
    assert "Rule set version 2014-08-11 was applied." in section(s, "Rule set")


@pytest.mark.parametrize(
    ("audience", "reference"), [(PP, ""), (RP, "rp-a"), (RP, "rp-b"), (CW, "")]
)
def test_plain_text_has_title_and_every_heading(calc, audience, reference):
    s = render_statement(calc, audience, reference)
    assert s.plain_text.startswith(s.title + "\n\n")
    for sec in s.sections:
        assert sec.heading and sec.paragraphs
        assert f"\n{sec.heading}\n" in s.plain_text
        for p in sec.paragraphs:
            assert p in s.plain_text


@pytest.mark.parametrize(
    ("audience", "reference", "field", "words"),
    [
        (pb.STATEMENT_AUDIENCE_UNSPECIFIED, "", "audience", ""),
        (99, "", "audience", ""),
        (RP, "", "receiving_parent_reference", "required"),
        (RP, "rp-z", "receiving_parent_reference", "not a receiving parent on this calculation"),
    ],
)
def test_bad_requests_name_the_field(calc, audience, reference, field, words):
    with pytest.raises(InvalidArgument) as exc:
        render_statement(calc, audience, reference)
    assert [v.field for v in exc.value.violations] == [field]
    assert words in exc.value.violations[0].description


@pytest.mark.parametrize(
    ("basis", "expected"),
    [
        (
            pb.INCOME_BASIS_CURRENT_DIFFERS_FROM_HISTORIC,
            "current income of £450.00 a week instead of the HMRC figure of "
            "£600.00 a week, because they differ by 25% or more",
        ),
        (
            pb.INCOME_BASIS_CURRENT_HISTORIC_UNAVAILABLE,
            "current income of £450.00 a week, because HMRC could not give us",
        ),
        (pb.INCOME_BASIS_NOT_USED, "We did not use your income for this calculation."),
    ],
)
def test_income_basis_in_words(calc, basis, expected):
    calc.income.basis = basis
    calc.income.current_weekly_income_pence = 450_00
    assert expected in section(render_statement(calc, PP), "The income we used")


def test_variations_cap_and_other_children(calc):
    calc.income.special_expenses_weekly_pence = 15_00
    calc.income.additional_income_weekly_pence = 3000_00
    calc.income.uncapped_weekly_income_pence = 3585_00
    calc.income.capped = True
    calc.gross_weekly_income_pence = calc.income.gross_weekly_income_pence = 3000_00
    calc.income.roc_reduced_weekly_income_pence = 2670_00
    income = section(render_statement(calc, RP, "rp-a"), "The income we used")
    assert "We took off £15.00 a week for special expenses." in income
    assert "We added £3,000.00 a week of additional income." in income
    assert "Income of £3,585.00 a week is more than the most we can take into account" in income
    assert "The gross weekly income we used is £3,000.00." in income
    assert "other children living with the paying parent, £2,670.00 a week" in income


def test_direct_pay_weekly_has_no_fees_or_frequency_line(calc):
    calc.collection_fees.Clear()
    calc.payment_frequency = common.PAYMENT_FREQUENCY_UNSPECIFIED
    for audience, reference in [(PP, ""), (RP, "rp-a"), (CW, "")]:
        s = render_statement(calc, audience, reference)
        assert "Collection fees" not in headings(s)
        assert "Payments are made" not in s.plain_text


@pytest.mark.parametrize(
    ("rate", "words"),
    [
        (pb.RATE_NIL, "nil rate"),
        (pb.RATE_FLAT, "flat rate"),
        (pb.RATE_REDUCED, "reduced rate"),
        (pb.RATE_BASIC_PLUS, "basic plus rate"),
        (pb.RATE_DEFAULT, "default maintenance decision"),
        (pb.RATE_NO_LIABILITY, "no liability"),
    ],
)
def test_rate_in_words(calc, rate, words):
    calc.rate = rate
    assert words in section(render_statement(calc, PP), "What you will pay")


def test_format_date_and_percent():
    assert format_date(2025, 4, 1) == "1 April 2025"
    assert format_date(2012, 12, 10) == "10 December 2012"
    assert [percent(bp) for bp in (2000, 400, 250, 1234, 5, 0)] == [
        "20%",
        "4%",
        "2.5%",
        "12.34%",
        "0.05%",
        "0%",
    ]
