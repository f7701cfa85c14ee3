"""Hand-written people every environment has, whatever the seed and size (NINOs and CRNs in the A... range, which
the generator never uses). Their PAYE tax years are computed from their employments like everyone else's, so RTI
payments and end-of-year figures agree.

Family 1 (the walking skeleton and the e2e suites):
- AA123456A Alex Turner, born 1985-03-14, paying parent: PAYE, £31,200 taxable pay in 2025-26 (and 2026-27).
- AB234567B Bethan Morgan, born 1979-11-02, receiving parent: PAYE, £52,000 in 2025-26; Child Benefit for
  Amy Morgan (2015-07-01, CRN AK100001A) and Ben Morgan (2018-02-09, CRN AK100002B).

Family 2 (Child Benefit past 16, a self-employed payer and a relevant other child):
- AC345678C Chidi Okafor, born 1990-06-30, paying parent: self-employed, Self Assessment (UTR 4720938165) with
  £182,000 trading profit in 2025-26 (return received 6 April 2026); partner of Dana Whitfield.
- AG765432A Siân Llewellyn-Price, born 1983-05-17, receiving parent: part-time PAYE; Child Benefit for
  Ffion Okafor (2009-05-20, CRN AK100003C, 17 in 2026, approved education reported: runs to the day before her
  20th birthday), Tomos Okafor (2010-03-01, CRN AK100004D, 16 in 2026, nothing reported: ends 31 August 2026)
  and Osian Okafor (2014-11-11, CRN AK100005A).
- AE456789D Dana Whitfield, born 1988-01-09: no income data at all; Chidi's partner, claiming Child Benefit for
  their daughter Zara Okafor (2024-10-03, CRN AK100006B) but opted out of payment (High Income Child Benefit Charge):
  a relevant other child of Chidi's, entitled but not in payment. DWP: a live income-based JSA award (her own
  claim, not a couple claim; her first "B" award) since 2 March 2026, £181.00 a fortnight (£90.50 a week), so a
  deduction from benefit is possible (e.g. on 6 April 2026).

DWP only:
- AH567890B Ryan Doherty, born 1991-08-21, single, no family links: a PAYE job ended 30 June 2023 (latest HMRC year
  2023-24); Universal Credit since 24 July 2023 with no earned income (his first "M" award, assessment periods from
  the 24th, £400.14 standard allowance + £475.00 housing, no deductions): a UC deduction from benefit is possible.

Award and employment ids are opaque (population.ids): `ids.award_id("AE456789D", "B", 1)`,
`ids.employment_id("AA123456A", 2)`.

Everyone's sex is recorded (Alex, Chidi and Ryan "M"; Bethan, Siân and Dana "F"); no fixture has previous surnames.
"""

from __future__ import annotations

import dataclasses
import datetime as dt

from . import ids
from .model import (
    Address,
    AwardComponent,
    BenefitAward,
    BenefitType,
    Child,
    ChildBenefitAward,
    Employer,
    Employment,
    PayFrequency,
    Person,
    SelfAssessment,
    TaxYearIncome,
    UnearnedIncome,
)
from .rti import paye_income_by_year
from .tax_year import RTI_START_YEAR, tax_year_label

HORIZON_START = 2026
D = dt.date


def _with_paye(
    person: Person, sa: dict[int, tuple[SelfAssessment, UnearnedIncome | None]] | None = None
) -> Person:
    by_year: dict[int, list] = {}
    for e in person.employments:
        for year, p in paye_income_by_year(
            e, RTI_START_YEAR, HORIZON_START, quirks=person.quirks
        ).items():
            by_year.setdefault(year, []).append(p)
    sa = sa or {}
    years = []
    for year in sorted(by_year.keys() | sa.keys()):
        filed, unearned = sa.get(year, (None, None))
        years.append(
            TaxYearIncome(tax_year_label(year), tuple(by_year.get(year, ())), filed, unearned)
        )
    return dataclasses.replace(person, tax_years=tuple(years))


HARBOUR = Employer(
    "Harbour Logistics Ltd",
    Address(("Unit 7", "Stourton Link"), "LEEDS", "LS10 1RT"),
    "0113 496 0412",
    "247/A1987CB",
)
PENNINE = Employer(
    "Pennine Rail Ltd",
    Address(("Station House", "New Station Street"), "LEEDS", "LS1 4DY"),
    "0113 496 0958",
    "120/PR48213",
)
CARDIFF_UNI = Employer(
    "University of Cardiff",
    Address(("Main Building", "Park Place"), "CARDIFF", "CF10 3AT"),
    "029 2018 0177",
    "961/UC20334",
)
SWANSEA_TRUST = Employer(
    "Swansea Academies Trust",
    Address(("Heol y Felin",), "SWANSEA", "SA1 8PE"),
    "01632 960447",
    "581/SAT0091",
)

ALEX = _with_paye(
    Person(
        nino="AA123456A",
        title="Mr",
        forenames="Alex",
        surname="Turner",
        date_of_birth=D(1985, 3, 14),
        sex="M",
        address=Address(("14 Victoria Road",), "LEEDS", "LS6 1DL"),
        other_parent_nino="AB234567B",
        employments=(
            Employment(
                ids.employment_id("AA123456A", 1),
                PENNINE,
                "0048213",
                D(2011, 9, 5),
                D(2019, 8, 30),
                PayFrequency.MONTHLY,
                2_280_000,
                annual_employee_pension_contributions_pence=91_200,
                pay_changes=((D(2014, 4, 6), 2_400_000), (D(2017, 4, 6), 2_520_000)),
            ),
            Employment(
                ids.employment_id("AA123456A", 2),
                HARBOUR,
                "EMP04127",
                D(2019, 9, 2),
                None,
                PayFrequency.MONTHLY,
                2_880_000,
                annual_employee_pension_contributions_pence=124_800,
                pay_changes=((D(2022, 4, 6), 3_000_000), (D(2025, 4, 6), 3_120_000)),
            ),
        ),
        generated=False,
    )
)

BETHAN = _with_paye(
    Person(
        nino="AB234567B",
        title="Ms",
        forenames="Bethan",
        surname="Morgan",
        date_of_birth=D(1979, 11, 2),
        sex="F",
        address=Address(("Flat 3", "27 Heol Llanishen Fach"), "CARDIFF", "CF14 6LP"),
        other_parent_nino="AA123456A",
        employments=(
            Employment(
                ids.employment_id("AB234567B", 1),
                CARDIFF_UNI,
                "P204511",
                D(2012, 1, 9),
                None,
                PayFrequency.MONTHLY,
                3_900_000,
                annual_employee_pension_contributions_pence=312_000,
                pay_changes=(
                    (D(2016, 4, 6), 4_300_000),
                    (D(2020, 4, 6), 4_800_000),
                    (D(2025, 4, 6), 5_200_000),
                ),
            ),
        ),
        child_benefit=ChildBenefitAward(
            "CHB41230587MB",
            D(2015, 7, 1),
            None,
            False,
            (
                Child("Amy", "Morgan", D(2015, 7, 1), "AK100001A", D(2015, 7, 1)),
                Child("Ben", "Morgan", D(2018, 2, 9), "AK100002B", D(2018, 2, 9)),
            ),
        ),
        generated=False,
    )
)


def _chidi_sa(profit: int, received: dt.date) -> tuple[SelfAssessment, UnearnedIncome | None]:
    return SelfAssessment(received, self_employment_profit_pence=profit), UnearnedIncome(
        savings_interest_pence=84_000
    )


CHIDI = _with_paye(
    Person(
        nino="AC345678C",
        title="Mr",
        forenames="Chidi",
        surname="Okafor",
        date_of_birth=D(1990, 6, 30),
        sex="M",
        address=Address(("The Old Forge", "Mill Lane"), "BRISTOL", "BS7 8QA"),
        partner_nino="AE456789D",
        other_parent_nino="AG765432A",
        self_assessment_utr="4720938165",
        self_employed=True,
        generated=False,
    ),
    sa={
        2016: _chidi_sa(4_150_000, D(2018, 1, 29)),
        2017: _chidi_sa(6_800_000, D(2019, 1, 30)),
        2018: _chidi_sa(9_200_000, D(2020, 1, 24)),
        2019: _chidi_sa(11_050_000, D(2021, 1, 28)),
        2020: _chidi_sa(8_700_000, D(2022, 1, 20)),
        2021: _chidi_sa(12_900_000, D(2022, 12, 14)),
        2022: _chidi_sa(15_400_000, D(2024, 1, 30)),
        2023: _chidi_sa(16_900_000, D(2024, 11, 2)),
        2024: _chidi_sa(17_650_000, D(2025, 5, 12)),
        2025: _chidi_sa(18_200_000, D(2026, 4, 6)),
    },
)

SIAN = _with_paye(
    Person(
        nino="AG765432A",
        title="Mrs",
        forenames="Siân",
        surname="Llewellyn-Price",
        date_of_birth=D(1983, 5, 17),
        sex="F",
        address=Address(("8 Heol y Felin",), "SWANSEA", "SA2 9GH"),
        other_parent_nino="AC345678C",
        employments=(
            Employment(
                ids.employment_id("AG765432A", 1),
                SWANSEA_TRUST,
                "0091377",
                D(2017, 9, 1),
                None,
                PayFrequency.MONTHLY,
                1_420_000,
                pay_changes=((D(2022, 4, 6), 1_560_000), (D(2025, 4, 6), 1_640_000)),
            ),
        ),
        child_benefit=ChildBenefitAward(
            "CHB70452219LP",
            D(2009, 5, 20),
            None,
            False,
            (
                Child(
                    "Ffion",
                    "Okafor",
                    D(2009, 5, 20),
                    "AK100003C",
                    D(2009, 5, 20),
                    approved_education_or_training_reported=True,
                ),
                Child("Tomos", "Okafor", D(2010, 3, 1), "AK100004D", D(2010, 3, 1)),
                Child("Osian", "Okafor", D(2014, 11, 11), "AK100005A", D(2014, 11, 11)),
            ),
        ),
        generated=False,
    )
)

DANA = Person(
    nino="AE456789D",
    title="Ms",
    forenames="Dana",
    surname="Whitfield",
    date_of_birth=D(1988, 1, 9),
    sex="F",
    address=CHIDI.address,
    partner_nino="AC345678C",
    child_benefit=ChildBenefitAward(
        "CHB88120346DW",
        D(2024, 10, 3),
        None,
        True,
        (Child("Zara", "Okafor", D(2024, 10, 3), "AK100006B", D(2024, 10, 3)),),
    ),
    benefit_awards=(
        BenefitAward(
            ids.award_id("AE456789D", "B", 1),
            BenefitType.JOBSEEKERS_ALLOWANCE_INCOME_BASED,
            "AE456789D",
            D(2026, 3, 2),
            D(2026, 3, 16),
            181_00,
            "FORTNIGHTLY",
            components=(AwardComponent("PERSONAL_ALLOWANCE", "SINGLE", 181_00),),
            cis_updated_on=D(2026, 3, 16),
        ),
    ),
    generated=False,
)

PORTSIDE = Employer(
    "Portside Fulfilment Ltd",
    Address(("Unit 12", "Trafford Park Road"), "MANCHESTER", "M17 1HH"),
    "0161 496 0733",
    "475/PF30118",
)

RYAN = _with_paye(
    Person(
        nino="AH567890B",
        title="Mr",
        forenames="Ryan",
        surname="Doherty",
        date_of_birth=D(1991, 8, 21),
        sex="M",
        address=Address(("Flat 6", "41 Ladybarn Lane"), "MANCHESTER", "M14 6YU"),
        employments=(
            Employment(
                ids.employment_id("AH567890B", 1),
                PORTSIDE,
                "0030118",
                D(2019, 3, 4),
                D(2023, 6, 30),
                PayFrequency.WEEKLY,
                1_750_000,
                pay_changes=((D(2021, 4, 6), 1_850_000),),
            ),
        ),
        benefit_awards=(
            BenefitAward(
                ids.award_id("AH567890B", "M", 1),
                BenefitType.UNIVERSAL_CREDIT,
                "AH567890B",
                D(2023, 7, 24),
                D(2023, 8, 28),
                875_14,
                "MONTHLY",
                components=(
                    AwardComponent("STANDARD_ALLOWANCE", "SINGLE", 400_14),
                    AwardComponent("HOUSING_ELEMENT", "RENT", 475_00),
                ),
                uc_earned_income=False,
                uc_assessment_day=24,
                uc_standard_allowance_monthly_pence=400_14,
                cis_updated_on=D(2026, 4, 6),
            ),
        ),
        generated=False,
    )
)

FIXTURES: tuple[Person, ...] = (ALEX, BETHAN, CHIDI, SIAN, DANA, RYAN)
