"""Generated NINOs (cms_simulation.population.nino): the keyed index <-> NINO bijection, its spread, and the
prefix ranges kept clear of fixtures and test values. The format rules themselves are the platform's
(libs/platform/tests/test_identifiers.py)."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from cms_simulation.population import Population
from cms_simulation.population.generator import Generator
from cms_simulation.population.nino import (
    CHILD_PREFIXES,
    PEOPLE_PREFIXES,
    NinoScheme,
    format_nino,
    valid_nino,
)

SMALL = Population(size=3_000, seed=99)


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
