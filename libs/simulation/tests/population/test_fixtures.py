"""The hand-written fixture people (cms_simulation.population.fixtures): their HMRC figures, the family with
teenagers, and their DWP awards."""

from __future__ import annotations

import datetime as dt

from cms_simulation.population import FIXTURES, Population
from cms_simulation.population.child_benefit import child_status
from cms_simulation.population.dwp import live_awards, suspended_on
from cms_simulation.population.hmrc import (
    PAYE,
    SELF_ASSESSMENT,
    hmrc_figure,
    latest_available_tax_year,
)
from cms_simulation.population.model import BenefitType

D = dt.date


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
