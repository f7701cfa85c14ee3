"""Population model <-> cms.hmrc.v1 conversion: round trips (hand-built and generated people), the HMRC view of an
employment, the ids given to employments that arrive without one, and every bad field person_from_proto names."""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Callable
from dataclasses import replace

import pytest
from google.type import date_pb2
from hypothesis import given, settings
from hypothesis import strategies as st

from cms.hmrc.v1 import hmrc_scenario_service_pb2 as scenario
from cms.hmrc.v1 import resources_pb2 as hmrc
from cms_hmrc_gateway.convert import rti_payment_to_proto
from cms_hmrc_gateway.port import RtiPayment as ReportedRtiPayment
from cms_hmrc_gateway.simulator.convert import (
    address_from_proto,
    address_to_proto,
    child_identity_to_proto,
    derived_employment_id,
    employer_from_proto,
    employer_to_proto,
    employment_to_proto,
    end_reason_from_proto,
    end_reason_to_proto,
    pay_frequency_from_proto,
    pay_frequency_to_proto,
    person_from_proto,
    person_to_proto,
    self_assessment_to_proto,
    unearned_to_proto,
)
from cms_platform.convert import pb_date, strict_date
from cms_platform.errors import InvalidArgument
from cms_simulation.population.model import (
    Address,
    Child,
    ChildBenefitAward,
    ChildBenefitEndReason,
    DataQuirk,
    Employer,
    Employment,
    PayeIncome,
    PayFrequency,
    Person,
    SelfAssessment,
    TaxYearIncome,
    UnearnedIncome,
)

NINO = "AB123456C"
ACME = Employer(
    "Acme Widgets Ltd",
    Address(("Unit 4", "Trade Park"), "Leeds", "LS1 4AB"),
    "0113 496 0000",
    "247/A1987CB",
)
MOD = Employer(
    "Ministry of Defence",
    Address(("MOD Main Building", "Whitehall"), "London", "SW1A 2HB"),
    "020 7946 0000",
    "120/MOD1234",
    armed_forces=True,
)
ENDED = Employment(
    "AB123456C-E1",
    ACME,
    "P001",
    dt.date(2019, 9, 2),
    dt.date(2024, 7, 31),
    PayFrequency.MONTHLY,
    2_800_000,
    annual_employee_pension_contributions_pence=140_000,
    annual_benefits_in_kind_pence=45_000,
)
LIVE = Employment(
    "AB123456C-E2",
    MOD,
    "MOD-77",
    dt.date(2024, 8, 19),
    None,
    PayFrequency.FOUR_WEEKLY,
    3_450_000,
    pay_changes=(
        (dt.date(2025, 4, 1), 3_600_000),
        (dt.date(2025, 9, 1), 3_100_000),
        (dt.date(2025, 9, 1), 3_200_000),
    ),
)


def rich_person() -> Person:
    children = (
        Child(
            "Maya",
            "Hughes",
            dt.date(2008, 2, 11),
            "MH080211A",
            dt.date(2008, 3, 1),
            dt.date(2024, 8, 31),
            ChildBenefitEndReason.REACHED_16_NOT_IN_EDUCATION,
        ),
        Child(
            "Owen",
            "Hughes",
            dt.date(2006, 5, 3),
            "OH060503B",
            dt.date(2006, 6, 1),
            dt.date(2025, 2, 28),
            ChildBenefitEndReason.LEFT_APPROVED_EDUCATION,
            approved_education_or_training_reported=True,
        ),
        Child("Isla", "Hughes-Reed", dt.date(2015, 10, 20), "", dt.date(2015, 11, 1)),
    )
    return Person(
        nino=NINO,
        title="Ms",
        forenames="Rhian Elin",
        surname="Hughes",
        date_of_birth=dt.date(1981, 4, 6),
        address=Address(("Flat 2", "17 Station Road"), "Cardiff", "CF10 1AA"),
        partner_nino="CD654321B",
        other_parent_nino="EF112233D",
        self_assessment_utr="1234567890",
        self_employed=True,
        employments=(ENDED, LIVE),
        tax_years=(
            TaxYearIncome(
                "2023-24",
                paye=(
                    PayeIncome(
                        "AB123456C-E1", "247/A1987CB", "P001", 2_790_000, 45_000, 139_500, 345_600
                    ),
                ),
            ),
            TaxYearIncome(
                "2024-25",
                paye=(
                    PayeIncome(
                        "AB123456C-E1", "247/A1987CB", "P001", 930_000, 15_000, 46_500, 112_000
                    ),
                    PayeIncome("AB123456C-E2", "120/MOD1234", "MOD-77", 2_100_000, 0, 0, 210_000),
                ),
                self_assessment=SelfAssessment(
                    dt.date(2026, 1, 20),
                    employment_income_pence=3_030_000,
                    self_employment_profit_pence=820_000,
                    partnership_profit_pence=10_000,
                    trade_loss_relief_pence=120_000,
                    pension_income_pence=5_000,
                    taxable_benefits_pence=15_000,
                ),
                unearned=UnearnedIncome(
                    uk_property_profit_pence=640_000,
                    savings_interest_pence=12_345,
                    uk_dividends_pence=50_000,
                    foreign_dividends_pence=7_000,
                    other_income_pence=1,
                ),
            ),
            TaxYearIncome(
                "2025-26",
                self_assessment=SelfAssessment(dt.date(2026, 4, 30)),
                unearned=UnearnedIncome(),
            ),
        ),
        child_benefit=ChildBenefitAward("CHB12345678AB", dt.date(2006, 6, 1), None, True, children),
        date_of_death=dt.date(2026, 3, 14),
        restricted=True,
        quirks=frozenset({DataQuirk.TWO_PAYS_ONE_MONTH, DataQuirk.CHILD_BENEFIT_END_BEFORE_START}),
        generated=False,
    )


def minimal_person(**changes) -> Person:
    return replace(
        Person(NINO, "", "Sam", "Lee", dt.date(1990, 1, 1), Address((), "", "", "")), **changes
    )


def round_trip(p: Person, *, keep_from: Person | None = None) -> Person:
    wire = scenario.SimulatedPerson.FromString(person_to_proto(p).SerializeToString())
    return person_from_proto(wire, keep_from=keep_from)


# ---------------------------------------------------------------------------------------------------------------
# Round trips
# ---------------------------------------------------------------------------------------------------------------


def test_rich_person_round_trips_keeping_other_parent_from_the_replaced_record():
    p = rich_person()
    assert round_trip(p, keep_from=p) == p


def test_other_parent_nino_has_no_field_and_is_empty_without_keep_from():
    p = rich_person()
    assert round_trip(p) == replace(p, other_parent_nino="")
    assert (
        round_trip(p, keep_from=minimal_person(other_parent_nino="GH998877C")).other_parent_nino
        == "GH998877C"
    )


def test_minimal_person_round_trips():
    p = minimal_person()
    assert round_trip(p) == p
    msg = person_to_proto(p)
    assert not msg.HasField("date_of_death") and not msg.HasField("child_benefit")


def test_proto_view_of_rich_person():
    msg = person_to_proto(rich_person())
    assert msg.identity.nino == NINO
    assert (msg.identity.name.title, msg.identity.name.forenames, msg.identity.name.surname) == (
        "Ms",
        "Rhian Elin",
        "Hughes",
    )
    assert msg.identity.date_of_birth == date_pb2.Date(year=1981, month=4, day=6)
    assert msg.date_of_death == date_pb2.Date(year=2026, month=3, day=14)
    assert list(msg.address.lines) == ["Flat 2", "17 Station Road"] and msg.address.country == "GB"
    assert list(msg.quirks) == [
        scenario.DATA_QUIRK_TWO_PAYS_ONE_MONTH,
        scenario.DATA_QUIRK_CHILD_BENEFIT_END_BEFORE_START,
    ]

    ended, live = msg.employments
    assert ended.employment.end_date == date_pb2.Date(year=2024, month=7, day=31)
    assert ended.employment.pay_frequency == hmrc.PAY_FREQUENCY_MONTHLY
    assert ended.annual_benefits_taxed_via_payroll_pence == 45_000
    assert not ended.payments
    assert not live.employment.HasField("end_date") and not live.employment.HasField(
        "last_payment_date"
    )
    assert (
        live.employment.employer.armed_forces
        and live.employment.pay_frequency == hmrc.PAY_FREQUENCY_FOUR_WEEKLY
    )
    assert live.annual_taxable_pay_pence == 3_450_000
    assert [(c.effective_date, c.annual_taxable_pay_pence) for c in live.pay_changes] == [
        (date_pb2.Date(year=2025, month=4, day=1), 3_600_000),
        (date_pb2.Date(year=2025, month=9, day=1), 3_100_000),
        (date_pb2.Date(year=2025, month=9, day=1), 3_200_000),
    ]

    y2324, y2425, y2526 = msg.tax_years
    assert not y2324.HasField("self_assessment") and not y2324.HasField("unearned_income")
    assert [pi.paye_reference for pi in y2425.paye_income] == ["247/A1987CB", "120/MOD1234"]
    assert y2425.unearned_income.self_assessment_return_filed
    assert y2425.unearned_income.tax_year == "2024-25"
    assert (
        y2425.unearned_income.total_unearned_income_pence == 640_000 + 12_345 + 50_000 + 7_000 + 1
    )
    assert (
        y2526.unearned_income.self_assessment_return_filed
        and y2526.unearned_income.total_unearned_income_pence == 0
    )

    award = msg.child_benefit
    assert award.child_benefit_reference == "CHB12345678AB" and award.elected_not_to_be_paid
    assert not award.HasField("award_end_date")
    assert [c.end_reason for c in award.children] == [
        hmrc.CHILD_BENEFIT_END_REASON_REACHED_16_NOT_IN_EDUCATION,
        hmrc.CHILD_BENEFIT_END_REASON_LEFT_APPROVED_EDUCATION,
        hmrc.CHILD_BENEFIT_END_REASON_UNSPECIFIED,
    ]
    assert not award.children[2].HasField("end_date")
    assert award.children[1].approved_education_or_training_reported


def test_leaving_date_unreported_has_no_end_date_and_round_trips_as_potentially_ceased():
    ceased = replace(ENDED, leaving_date_unreported=True)
    hmrc_view = employment_to_proto(ceased)
    assert not hmrc_view.HasField("end_date") and not hmrc_view.potentially_ceased

    sim = person_to_proto(minimal_person(employments=(ceased,))).employments[0].employment
    assert not sim.HasField("end_date")
    assert sim.potentially_ceased and sim.last_payment_date == date_pb2.Date(
        year=2024, month=7, day=31
    )
    p = minimal_person(employments=(ceased, replace(LIVE, leaving_date_unreported=True)))
    assert round_trip(p) == p


def test_potentially_ceased_input_takes_end_date_before_last_payment_date():
    msg = person_to_proto(minimal_person(employments=(ENDED,)))
    e = msg.employments[0].employment
    e.potentially_ceased = True
    e.last_payment_date.CopyFrom(pb_date(dt.date(2024, 8, 28)))
    got = person_from_proto(msg).employments[0]
    assert got.leaving_date_unreported and got.end_date == dt.date(2024, 7, 31)


def test_employment_to_proto_passes_rti_facts_through():
    e = employment_to_proto(LIVE, last_payment_date=dt.date(2025, 3, 28), potentially_ceased=True)
    assert e.last_payment_date == date_pb2.Date(year=2025, month=3, day=28) and e.potentially_ceased
    assert e.employment_id == "AB123456C-E2" and e.payroll_id == "MOD-77"
    assert e.start_date == date_pb2.Date(year=2024, month=8, day=19)


def test_explicit_rti_payments_are_ignored_on_input():
    msg = person_to_proto(minimal_person(employments=(LIVE,)))
    msg.employments[0].payments.append(
        rti_payment_to_proto(
            ReportedRtiPayment(dt.date(2025, 1, 3), "2024-25", 40, 0, 265_000, 1_200_000)
        )
    )
    assert person_from_proto(msg).employments == (LIVE,)


# ---------------------------------------------------------------------------------------------------------------
# Employment ids
# ---------------------------------------------------------------------------------------------------------------


def without_ids(p: Person) -> scenario.SimulatedPerson:
    msg = person_to_proto(p)
    for s in msg.employments:
        s.employment.employment_id = ""
    return msg


def test_employment_without_id_gets_a_stable_opaque_id_and_paye_income_follows_it():
    got = person_from_proto(without_ids(rich_person()))
    first, second = (
        derived_employment_id("AB123456C", "247/A1987CB", "P001"),
        derived_employment_id("AB123456C", "120/MOD1234", "MOD-77"),
    )
    assert [e.employment_id for e in got.employments] == [first, second]
    assert [pi.employment_id for y in got.tax_years for pi in y.paye] == [first, first, second]
    assert person_from_proto(without_ids(rich_person())) == got
    # The id never spells the NINO; punctuation and case of the NINO do not change it.
    assert not any("AB123456C" in i.upper() for i in (first, second))
    assert derived_employment_id("ab 12 34 56 c", "247 A1987CB", "P001") == first
    assert first != second


def test_rehire_on_the_same_payroll_id_gets_a_suffix_and_paye_income_goes_to_the_employment_in_the_year():
    rehired = replace(ENDED, employment_id="x", start_date=dt.date(2025, 5, 1), end_date=None)
    p = minimal_person(
        employments=(ENDED, rehired),
        tax_years=(
            TaxYearIncome("2024-25", paye=(PayeIncome("?", "247/A1987CB", "P001", 1),)),
            TaxYearIncome("2025-26", paye=(PayeIncome("?", "247/A1987CB", "P001", 2),)),
            TaxYearIncome("2026-27", paye=(PayeIncome("?", "999/ZZZ", "", 3),)),
        ),
    )
    got = person_from_proto(without_ids(p))
    first, second = (e.employment_id for e in got.employments)
    derived = derived_employment_id("AB123456C", "247/A1987CB", "P001")
    assert (first, second) == (derived, f"{derived}-2")
    assert [y.paye[0].employment_id for y in got.tax_years] == [
        first,
        second,
        derived_employment_id("AB123456C", "999/ZZZ", ""),
    ]


def test_employment_without_id_keeps_the_id_of_the_replaced_records_employment():
    p = rich_person()
    assert person_from_proto(without_ids(p), keep_from=p) == p


def test_explicit_ids_are_never_reused_for_employments_without_one():
    msg = person_to_proto(
        minimal_person(
            employments=(
                ENDED,
                replace(
                    LIVE, employment_id=derived_employment_id(NINO, ACME.paye_reference, "P001")
                ),
            )
        )
    )
    msg.employments[0].employment.employment_id = ""
    assert [e.employment_id for e in person_from_proto(msg).employments] == [
        f"{derived_employment_id(NINO, ACME.paye_reference, 'P001')}-2",
        derived_employment_id(NINO, ACME.paye_reference, "P001"),
    ]


# ---------------------------------------------------------------------------------------------------------------
# Values and small messages
# ---------------------------------------------------------------------------------------------------------------


def test_dates():
    assert pb_date(None) == date_pb2.Date()
    assert strict_date(date_pb2.Date()) is None
    assert strict_date(pb_date(dt.date(2024, 2, 29))) == dt.date(2024, 2, 29)
    with pytest.raises(ValueError, match="full date"):
        strict_date(date_pb2.Date(year=2024, month=2))
    with pytest.raises(ValueError, match="not a calendar date"):
        strict_date(date_pb2.Date(year=2023, month=2, day=29))


@pytest.mark.parametrize(
    ("code", "value"),
    [
        ("W1", hmrc.PAY_FREQUENCY_WEEKLY),
        ("W2", hmrc.PAY_FREQUENCY_FORTNIGHTLY),
        ("W4", hmrc.PAY_FREQUENCY_FOUR_WEEKLY),
        ("M1", hmrc.PAY_FREQUENCY_MONTHLY),
        ("M3", hmrc.PAY_FREQUENCY_QUARTERLY),
        ("M6", hmrc.PAY_FREQUENCY_BI_ANNUALLY),
        ("MA", hmrc.PAY_FREQUENCY_ANNUALLY),
        ("IO", hmrc.PAY_FREQUENCY_ONE_OFF),
        ("IR", hmrc.PAY_FREQUENCY_IRREGULAR),
    ],
)
def test_pay_frequencies(code, value):
    assert pay_frequency_to_proto(PayFrequency(code)) == value
    assert pay_frequency_from_proto(value) == PayFrequency(code)


def test_pay_frequency_from_proto_refuses_unspecified():
    with pytest.raises(ValueError):
        pay_frequency_from_proto(hmrc.PAY_FREQUENCY_UNSPECIFIED)


@pytest.mark.parametrize("reason", [*ChildBenefitEndReason, None])
def test_end_reasons(reason):
    value = end_reason_to_proto(reason)
    assert (
        hmrc.ChildBenefitEndReason.Name(value)
        == f"CHILD_BENEFIT_END_REASON_{reason.value if reason else 'UNSPECIFIED'}"
    )
    assert end_reason_from_proto(value) == reason


def test_end_reason_from_proto_refuses_unknown_values():
    with pytest.raises(ValueError):
        end_reason_from_proto(99)


def test_address_and_employer():
    assert address_from_proto(address_to_proto(ACME.address)) == ACME.address
    assert employer_from_proto(employer_to_proto(MOD)) == MOD
    assert employer_to_proto(ACME).address.postcode == "LS1 4AB"


def test_child_identity():
    child = rich_person().child_benefit.children[0]
    msg = child_identity_to_proto(child)
    assert (msg.name.forenames, msg.name.surname, msg.child_reference_number) == (
        "Maya",
        "Hughes",
        "MH080211A",
    )
    assert msg.date_of_birth == date_pb2.Date(year=2008, month=2, day=11)


def test_unearned_income():
    none = unearned_to_proto("2024-25", None)
    assert (
        none.tax_year == "2024-25"
        and not none.self_assessment_return_filed
        and none.total_unearned_income_pence == 0
    )
    some = unearned_to_proto(
        "2024-25", UnearnedIncome(uk_dividends_pence=300, other_income_pence=5)
    )
    assert (
        some.self_assessment_return_filed
        and some.uk_dividends_pence == 300
        and some.total_unearned_income_pence == 305
    )


def test_unearned_income_not_filed_reads_as_none():
    msg = person_to_proto(minimal_person(tax_years=(TaxYearIncome("2024-25"),)))
    msg.tax_years[0].unearned_income.CopyFrom(unearned_to_proto("2024-25", None))
    assert person_from_proto(msg).tax_years[0].unearned is None


def test_self_assessment_and_rti_payment():
    sa = self_assessment_to_proto(
        SelfAssessment(dt.date(2025, 1, 31), self_employment_profit_pence=1_000_00)
    )
    assert (
        sa.return_received_date == date_pb2.Date(year=2025, month=1, day=31)
        and sa.self_employment_profit_pence == 1_000_00
    )
    rti = rti_payment_to_proto(
        ReportedRtiPayment(
            dt.date(2025, 1, 31),
            "2024-25",
            0,
            10,
            250_000,
            2_500_000,
            12_500,
            3_000,
            -4_000,
            "30 hrs or more",
        )
    )
    assert (rti.tax_year, rti.month_number, rti.tax_deducted_pence, rti.hours_worked_band) == (
        "2024-25",
        10,
        -4_000,
        "30 hrs or more",
    )
    assert rti.payment_date == date_pb2.Date(year=2025, month=1, day=31)


# ---------------------------------------------------------------------------------------------------------------
# Bad input: every violation named by its path in the SimulatedPerson
# ---------------------------------------------------------------------------------------------------------------


def violations(msg: scenario.SimulatedPerson) -> dict[str, str]:
    with pytest.raises(InvalidArgument) as err:
        person_from_proto(msg)
    return {v.field: v.description for v in err.value.violations}


def bad(change: Callable[[scenario.SimulatedPerson], object]) -> scenario.SimulatedPerson:
    msg = person_to_proto(rich_person())
    change(msg)
    return msg


@pytest.mark.parametrize(
    ("change", "path"),
    [
        (lambda m: setattr(m.identity, "nino", ""), "identity.nino"),
        (lambda m: setattr(m.identity, "nino", "  "), "identity.nino"),
        (lambda m: m.identity.ClearField("date_of_birth"), "identity.date_of_birth"),
        (
            lambda m: setattr(m.identity.date_of_birth, "day", 31),
            "identity.date_of_birth",
        ),  # 31 April
        (lambda m: setattr(m.date_of_death, "day", 0), "date_of_death"),
        (lambda m: setattr(m.tax_years[1], "tax_year", "2024-26"), "tax_years[1].tax_year"),
        (lambda m: setattr(m.tax_years[0], "tax_year", "2023/24"), "tax_years[0].tax_year"),
        (lambda m: setattr(m.tax_years[2], "tax_year", ""), "tax_years[2].tax_year"),
        (lambda m: m.employments[0].ClearField("employment"), "employments[0].employment"),
        (
            lambda m: setattr(m.employments[0].employment.employer, "paye_reference", ""),
            "employments[0].employment.employer.paye_reference",
        ),
        (
            lambda m: m.employments[1].employment.ClearField("start_date"),
            "employments[1].employment.start_date",
        ),
        (
            lambda m: setattr(
                m.employments[1].employment, "pay_frequency", hmrc.PAY_FREQUENCY_UNSPECIFIED
            ),
            "employments[1].employment.pay_frequency",
        ),
        (
            lambda m: setattr(m.employments[1].employment, "pay_frequency", 42),
            "employments[1].employment.pay_frequency",
        ),
        (
            lambda m: setattr(m.employments[1].employment, "employment_id", "AB123456C-E1"),
            "employments[1].employment.employment_id",
        ),
        (
            lambda m: m.employments[1].pay_changes[1].ClearField("effective_date"),
            "employments[1].pay_changes[1].effective_date",
        ),
        (
            lambda m: setattr(m.employments[1].pay_changes[2].effective_date, "month", 3),
            "employments[1].pay_changes[2].effective_date",
        ),
        (
            lambda m: setattr(m.tax_years[1].paye_income[1], "paye_reference", ""),
            "tax_years[1].paye_income[1].paye_reference",
        ),
        (
            lambda m: m.tax_years[1].self_assessment.ClearField("return_received_date"),
            "tax_years[1].self_assessment.return_received_date",
        ),
        (
            lambda m: setattr(m.tax_years[1].unearned_income, "tax_year", "2023-24"),
            "tax_years[1].unearned_income.tax_year",
        ),
        (
            lambda m: setattr(
                m.tax_years[1].unearned_income, "self_assessment_return_filed", False
            ),
            "tax_years[1].unearned_income.self_assessment_return_filed",
        ),
        (
            lambda m: m.child_benefit.children[2].identity.ClearField("date_of_birth"),
            "child_benefit.children[2].identity.date_of_birth",
        ),
        (
            lambda m: m.child_benefit.children[1].ClearField("identity"),
            "child_benefit.children[1].identity.date_of_birth",
        ),
        (
            lambda m: m.child_benefit.children[0].ClearField("relationship_start_date"),
            "child_benefit.children[0].relationship_start_date",
        ),
        (
            lambda m: setattr(m.child_benefit.children[0], "end_reason", 99),
            "child_benefit.children[0].end_reason",
        ),
        (
            lambda m: m.child_benefit.ClearField("award_start_date"),
            "child_benefit.award_start_date",
        ),
        (lambda m: m.quirks.append(scenario.DATA_QUIRK_UNSPECIFIED), "quirks[2]"),
    ],
)
def test_each_bad_field_is_named(change, path):
    assert set(violations(bad(change))) == {path}


def test_every_violation_is_collected_before_raising():
    def change(m: scenario.SimulatedPerson) -> None:
        m.identity.nino = ""
        m.tax_years[1].tax_year = "2024-2025"
        m.employments[0].employment.employer.paye_reference = ""
        m.employments[0].employment.ClearField("start_date")
        m.employments[1].employment.pay_frequency = hmrc.PAY_FREQUENCY_UNSPECIFIED
        m.child_benefit.children[1].identity.ClearField("date_of_birth")

    got = violations(bad(change))
    assert got == {
        "identity.nino": "is required",
        "tax_years[1].tax_year": 'must be a tax year like "2024-25" (the second part the first plus one)',
        "employments[0].employment.employer.paye_reference": "is required",
        "employments[0].employment.start_date": "is required",
        "employments[1].employment.pay_frequency": "is required",
        "child_benefit.children[1].identity.date_of_birth": "is required",
    }


# ---------------------------------------------------------------------------------------------------------------
# Generated round trips
# ---------------------------------------------------------------------------------------------------------------

text = st.text(
    st.characters(min_codepoint=0x20, max_codepoint=0x24F, exclude_categories=("Cs",)), max_size=12
)
pence = st.integers(-(2**63), 2**63 - 1)
any_date = st.dates(dt.date(1, 1, 1), dt.date(9999, 12, 31))
addresses = st.builds(Address, st.lists(text, max_size=3).map(tuple), text, text, text)
employers = st.builds(Employer, text, addresses, text, text.filter(str.strip), st.booleans())


@st.composite
def employment_lists(draw) -> tuple[Employment, ...]:
    ids = draw(st.lists(text.filter(bool), unique=True, max_size=4))
    return tuple(
        Employment(
            employment_id=employment_id,
            employer=draw(employers),
            payroll_id=draw(text),
            start_date=draw(any_date),
            end_date=draw(st.none() | any_date),
            pay_frequency=draw(st.sampled_from(PayFrequency)),
            annual_taxable_pay_pence=draw(pence),
            annual_employee_pension_contributions_pence=draw(pence),
            annual_benefits_in_kind_pence=draw(pence),
            occupational_pension=draw(st.booleans()),
            leaving_date_unreported=draw(st.booleans()),
            pay_changes=tuple(
                sorted(draw(st.lists(st.tuples(any_date, pence), max_size=3)), key=lambda c: c[0])
            ),
        )
        for employment_id in ids
    )


@settings(max_examples=200, deadline=None)
@given(
    employments=employment_lists(),
    date_of_birth=any_date,
    date_of_death=st.none() | any_date,
    quirks=st.frozensets(st.sampled_from(DataQuirk)),
)
def test_generated_people_round_trip(employments, date_of_birth, date_of_death, quirks):
    p = minimal_person(
        employments=employments,
        date_of_birth=date_of_birth,
        date_of_death=date_of_death,
        quirks=quirks,
    )
    assert round_trip(p) == p


@given(any_date | st.none())
def test_generated_dates_round_trip(d):
    assert strict_date(pb_date(d)) == d


# ---------------------------------------------------------------------------------------------------------------
# Coverage: a field added to the contract or to the model must be mapped here (or listed as a documented gap)
# ---------------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("message", "fields"),
    [
        (
            scenario.SimulatedPerson,
            {
                "identity",
                "address",
                "date_of_death",
                "restricted",
                "partner_nino",
                "self_assessment_utr",
                "self_employed",
                "employments",
                "tax_years",
                "child_benefit",
                "quirks",
                "generated",
            },
        ),
        # payments: explicit RTI payments are not modelled (ignored on input).
        (
            scenario.SimulatedEmployment,
            {
                "employment",
                "annual_taxable_pay_pence",
                "annual_employee_pension_contributions_pence",
                "annual_benefits_taxed_via_payroll_pence",
                "payments",
                "pay_changes",
            },
        ),
        (scenario.ScheduledPay, {"effective_date", "annual_taxable_pay_pence"}),
        (
            scenario.SimulatedTaxYear,
            {"tax_year", "paye_income", "self_assessment", "unearned_income"},
        ),
        (
            scenario.SimulatedPayeIncome,
            {
                "paye_reference",
                "payroll_id",
                "taxable_pay_pence",
                "taxable_benefits_pence",
                "employee_pension_contributions_pence",
                "tax_deducted_pence",
            },
        ),
        (
            scenario.SimulatedChildBenefitAward,
            {
                "child_benefit_reference",
                "award_start_date",
                "award_end_date",
                "elected_not_to_be_paid",
                "children",
            },
        ),
        (
            scenario.SimulatedChild,
            {
                "identity",
                "relationship_start_date",
                "end_date",
                "end_reason",
                "approved_education_or_training_reported",
                "end_date_reported",
            },
        ),
        # last_payment_date and potentially_ceased carry leaving_date_unreported (see convert's docstring).
        (
            hmrc.Employment,
            {
                "employment_id",
                "employer",
                "payroll_id",
                "start_date",
                "end_date",
                "pay_frequency",
                "last_payment_date",
                "potentially_ceased",
                "occupational_pension",
            },
        ),
    ],
)
def test_every_contract_field_is_known(message, fields):
    assert {f.name for f in message.DESCRIPTOR.fields} == fields


@pytest.mark.parametrize(
    ("cls", "fields"),
    [
        (
            Person,
            {
                "nino",
                "title",
                "forenames",
                "surname",
                "date_of_birth",
                "address",
                "partner_nino",
                "other_parent_nino",
                "self_assessment_utr",
                "self_employed",
                "employments",
                "tax_years",
                "child_benefit",
                "date_of_death",
                "restricted",
                "quirks",
                "generated",
                "sex",
                "previous_surnames",
                "benefit_awards",
            },
        ),
        (
            Employment,
            {
                "employment_id",
                "employer",
                "payroll_id",
                "start_date",
                "end_date",
                "pay_frequency",
                "annual_taxable_pay_pence",
                "annual_employee_pension_contributions_pence",
                "annual_benefits_in_kind_pence",
                "occupational_pension",
                "leaving_date_unreported",
                "pay_changes",
            },
        ),
        (TaxYearIncome, {"tax_year", "paye", "self_assessment", "unearned"}),
        (
            PayeIncome,
            {
                "employment_id",
                "paye_reference",
                "payroll_id",
                "taxable_pay_pence",
                "taxable_benefits_pence",
                "employee_pension_contributions_pence",
                "tax_deducted_pence",
            },
        ),
        (
            ChildBenefitAward,
            {
                "reference",
                "award_start_date",
                "award_end_date",
                "elected_not_to_be_paid",
                "children",
            },
        ),
        (
            Child,
            {
                "forenames",
                "surname",
                "date_of_birth",
                "child_reference_number",
                "relationship_start_date",
                "end_date",
                "end_reason",
                "approved_education_or_training_reported",
                "end_date_reported_on",
            },
        ),
    ],
)
def test_every_model_field_is_known(cls, fields):
    assert {f.name for f in dataclasses.fields(cls)} == fields
