"""The generator (cms_simulation.population.generator): children's CRNs, family links, speed, names and sex, and
the documented mix of people, incomes and Child Benefit."""

from __future__ import annotations

import datetime as dt

from hypothesis import given, settings
from hypothesis import strategies as st

from cms_simulation.population import Population
from cms_simulation.population.child_benefit import age_on
from cms_simulation.population.generator import CHILD_SLOTS, Generator
from cms_simulation.population.hmrc import hmrc_figure, latest_available_tax_year
from cms_simulation.population.model import DataQuirk, PayFrequency
from cms_simulation.population.nino import CHILD_PREFIXES, valid_nino

D = dt.date
SMALL = Population(size=3_000, seed=99)


@settings(max_examples=300, deadline=None)
@given(st.integers(min_value=0, max_value=2_000_000), st.integers(0, CHILD_SLOTS - 1))
def test_every_crn_is_valid_and_decodes_back_to_its_household_and_child(block, number):
    g = Generator(2012, 6_000_003)
    crn = g.crn(block, number)
    assert valid_nino(crn) and crn[:2] in CHILD_PREFIXES
    assert g.child_index_of(crn) == (block, number)
    assert g.people.decode(crn) is None  # children and adults never share a range


def test_links_to_people_beyond_the_size_are_dropped():
    p = Population(size=3_001, seed=3)  # the last block holds only its receiving parent
    last = p.person_at(3_000)
    assert last.other_parent_nino == "" and last.partner_nino == ""


def test_a_person_is_generated_on_their_own_whatever_came_before():
    """Random access: the national population is never walked to reach one person (its speed is shown by
    `make bench-hmrc`, not timed here)."""
    indices = list(range(0, 1_000_000, 99_991))
    forward = [Generator(11, 1_000_000).person(i) for i in indices]
    g = Generator(11, 1_000_000)
    backward = [g.person(i) for i in reversed(indices)]
    assert forward == list(reversed(backward))


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


def test_everyone_has_a_sex_matching_their_forenames_and_some_women_a_previous_surname():
    people = list(SMALL.iter_people(0, 3_000))
    assert {p.sex for p in people} == {"M", "F"}
    assert all(p.sex == "F" for p in people if p.title in ("Mrs", "Ms", "Miss"))
    assert all(p.sex == "M" for p in people if p.title == "Mr")
    changed = [p for p in people if p.previous_surnames]
    assert all(p.sex == "F" and p.surname not in p.previous_surnames for p in changed)
    assert 0.02 < len(changed) / len(people) < 0.07
