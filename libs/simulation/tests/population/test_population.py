"""Population (cms_simulation.population): people by NINO and by index, HMRC-style matching (exact NINO and date
of birth, forename initial, first three letters of the surname), children by CRN and the 16+ Child Benefit
iterators."""

from __future__ import annotations

import dataclasses
import datetime as dt
import time
import tracemalloc

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cms_simulation.population import FIXTURES, Claimant, Population
from cms_simulation.population.child_benefit import age_on
from cms_simulation.population.model import DataQuirk
from cms_simulation.population.nino import format_nino

DOB = dt.date(1985, 3, 14)
D = dt.date
SMALL = Population(size=3_000, seed=99)


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


def test_a_million_people_start_instantly_and_use_no_memory_per_person():
    tracemalloc.start()
    t = time.perf_counter()
    p = Population(size=1_000_000)
    took = time.perf_counter() - t
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    assert took < 0.05 and peak < 200_000
    assert p.person(p.nino_at(999_999)) is not None


def test_every_child_is_found_by_its_crn_with_its_claimant():
    for p in SMALL.iter_people(0, 300):
        for c in p.child_benefit.children if p.child_benefit else ():
            assert SMALL.child(c.child_reference_number) == (p, c)
    assert SMALL.child("AK100004D")[1].forenames == "Tomos"
    assert SMALL.child("TA000000A") is None


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


# -- the Child Benefit claimant (generated without the income) -----------------------------------------------------


@settings(max_examples=300, deadline=None)
@given(
    seed=st.integers(0, 2**32),
    index=st.integers(0, 2_999),
    cached_first=st.booleans(),
)
def test_a_claimant_is_the_whole_persons_identity_death_restriction_and_award(
    seed, index, cached_first
):
    population = Population(size=3_000, seed=seed)
    nino = population.nino_at(index)
    if cached_first:  # the claimant cache answers as a fresh generation would
        population.child_benefit_claimant(nino)
    claimant = population.child_benefit_claimant(nino)
    fresh = Population(size=3_000, seed=seed).person_at(index)
    assert claimant == Claimant.of(fresh)


def test_claimants_are_found_for_fixtures_and_not_for_unknown_ninos():
    assert SMALL.child_benefit_claimant("ab 23 45 67 b") == Claimant.of(SMALL.person("AB234567B"))
    assert SMALL.child_benefit_claimant("ZX999999D") is None


def test_claimants_equal_their_whole_person_for_each_rare_fact():
    """Deaths and restrictions are 1 in 1,000, too rare for the random sample above: the first people with each
    rare fact (died, restricted, no claim, opted out, a dirty child record) are compared too."""
    population = Population(size=30_000, seed=99)
    g = population.generator
    wanted = {
        "died": lambda p: p.date_of_death is not None,
        "restricted": lambda p: p.restricted,
        "no claim": lambda p: p.child_benefit is None,
        "opted out": lambda p: (
            p.child_benefit is not None and p.child_benefit.elected_not_to_be_paid
        ),
        "dirty": lambda p: DataQuirk.CHILD_BENEFIT_END_BEFORE_START in p.quirks,
    }
    found: dict[str, int] = {}
    for index in range(30_000):
        death, restricted = g.death_and_restriction(index)
        common = ("no claim", "opted out", "dirty")
        if not (death or restricted) and all(name in found for name in common):
            continue  # only the rare facts are still wanted: skip generating everyone else
        person = g.person(index)
        for name, has in wanted.items():
            if name not in found and has(person):
                found[name] = index
                assert population.child_benefit_claimant(person.nino) == Claimant.of(person)
        if len(found) == len(wanted):
            break
    assert sorted(found) == sorted(wanted)
