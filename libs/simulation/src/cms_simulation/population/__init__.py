"""The synthetic population all three gateway simulators share, so HMRC, DWP and the CRA agree on a person.

`Population(size, seed)` is a national-scale population generated on demand: the same size and seed give the
same people everywhere, nothing is built up front (a million people start instantly), and a person is generated
from its index when asked for (a small LRU cache keeps recent ones). A Child Benefit enquiry needs less of a
person: `child_benefit_claimant` generates only that, without the income. Hand-written fixtures (fixtures.py: Alex
Turner AA123456A, Bethan Morgan AB234567B, Chidi Okafor AC345678C, Siân Llewellyn-Price AG765432A, Dana Whitfield
AE456789D, and for DWP Ryan Doherty AH567890B on Universal Credit) are found first and take no index.

Children are found through their claimants: `child(crn)`, and for the monthly 16+ Child Benefit check
`child_benefit_children_aged` (whole claimants) or the faster `child_benefit_children` (claimants' NINOs).

- model.py: the plain person model; nino.py: the index <-> NINO bijection (the NINO rules are
  cms_platform.identifiers'); tax_year.py: tax years, weeks and months; generator.py: how people, families and
  incomes are generated (with the mixes); rti.py: RTI payments and PAYE year totals; hmrc.py: the HMRC figure and
  the latest available tax year; child_benefit.py: entitlement and end dates on a date; _awards.py: how DWP
  benefit awards follow from a person's (and partner's) facts; dwp.py: live awards and suspensions on a date.
"""

from __future__ import annotations

import datetime as dt
import functools
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Literal, overload

from .fixtures import FIXTURES
from .generator import Generator
from .model import Child, Claimant, Person
from .nino import normalise_nino, valid_nino

SyntheticPerson = Person  # the first version's name

__all__ = [
    "FIXTURES",
    "Claimant",
    "Match",
    "Person",
    "Population",
    "SyntheticPerson",
    "normalise_nino",
    "valid_nino",
]


@dataclass(frozen=True)
class Match:
    """How a person held by a simulated system matched the identity a caller sent."""

    person: Person | None
    failed_rules: tuple[str, ...] = ()

    @property
    def matched(self) -> bool:
        return self.person is not None and not self.failed_rules


def failed_match_rules(
    held: Person | Claimant, forenames: str, surname: str, date_of_birth: dt.date
) -> tuple[str, ...]:
    """HMRC's matching rule once the NINO has found a record: the forename's first letter, the surname's first three
    letters and the exact date of birth. Returns the rules that failed (empty: a full match)."""
    failed = []
    if forenames.strip()[:1].upper() != held.forenames[:1].upper():
        failed.append("FORENAME_INITIAL")
    if surname.strip()[:3].upper() != held.surname[:3].upper():
        failed.append("SURNAME_FIRST_THREE_LETTERS")
    if date_of_birth != held.date_of_birth:
        failed.append("DATE_OF_BIRTH")
    return tuple(failed)


def _years_before(on: dt.date, years: int) -> dt.date:
    try:
        return on.replace(year=on.year - years)
    except ValueError:  # 29 February
        return dt.date(on.year - years, 2, 28)


# Every gateway builds the same population from these (or the same settings), so they agree on every person.
DEFAULT_SIZE = 1_000_000
DEFAULT_SEED = 2012


class Population:
    """People by NINO: the fixtures, then `size` generated people (indexes 0..size-1) for a seed."""

    def __init__(
        self,
        size: int = DEFAULT_SIZE,
        seed: int = DEFAULT_SEED,
        fixtures: tuple[Person, ...] = FIXTURES,
        *,
        horizon: str = "2026-27",
        cache_size: int = 1024,
    ):
        self._generator = Generator(seed, size, horizon)
        self._fixtures = {p.nino: p for p in fixtures}
        self._fixture_children = {
            c.child_reference_number: (p, c)
            for p in fixtures
            if p.child_benefit
            for c in p.child_benefit.children
        }
        self._person_at = functools.lru_cache(maxsize=cache_size)(self._generator.person)
        # A claimant is asked about once per child, and a case's children are asked about together.
        self._claimant_at = functools.lru_cache(maxsize=cache_size)(
            self._generator.child_benefit_claimant
        )

    @property
    def size(self) -> int:
        return self._generator.size

    @property
    def seed(self) -> int:
        return self._generator.seed

    @property
    def horizon(self) -> str:
        """The last tax year of every generated timeline."""
        return self._generator.horizon

    @property
    def fixtures(self) -> tuple[Person, ...]:
        return tuple(self._fixtures.values())

    @property
    def generator(self) -> Generator:
        return self._generator

    def __len__(self) -> int:
        """The number of generated people (the fixtures come on top)."""
        return self._generator.size

    def nino_at(self, index: int) -> str:
        if not 0 <= index < self.size:
            raise IndexError(f"index {index} outside the population of {self.size:,}")
        return self._generator.nino(index)

    def index_of(self, nino: str) -> int | None:
        """The index of a generated person's NINO (None for fixtures and unknown NINOs)."""
        return self._generator.index_of(normalise_nino(nino))

    def person_at(self, index: int) -> Person:
        return self._person_at(index)

    def person(self, nino: str) -> Person | None:
        """The person with this NINO (spaces and case ignored), or None."""
        n = normalise_nino(nino)
        fixture = self._fixtures.get(n)
        if fixture is not None:
            return fixture
        index = self._generator.index_of(n)
        return None if index is None else self._person_at(index)

    by_nino = person

    def child_benefit_claimant(self, nino: str) -> Claimant | None:
        """The person with this NINO as a Child Benefit enquiry sees them (`Claimant`: the same identity, death,
        restriction and award as `person` gives, without generating an income), or None."""
        n = normalise_nino(nino)
        fixture = self._fixtures.get(n)
        if fixture is not None:
            return Claimant.of(fixture)
        index = self._generator.index_of(n)
        return None if index is None else self._claimant_at(index)

    def child(self, crn: str) -> tuple[Person, Child] | None:
        """The Child Benefit claimant and the child with this Child Reference Number, or None."""
        n = normalise_nino(crn)
        if n in self._fixture_children:
            return self._fixture_children[n]
        found = self._generator.child_index_of(n)
        if found is None:
            return None
        block, number = found
        position = 0 if number < 4 else 2
        if block * 3 + position >= self.size:
            return None
        household = self._generator.household(block)
        if not any(s.number == number for s in household.claims[position]):
            return None
        claimant = self._person_at(block * 3 + position)
        award = claimant.child_benefit
        child = (
            next((c for c in award.children if c.child_reference_number == n), None)
            if award
            else None
        )
        return (claimant, child) if child is not None else None

    def iter_people(self, start: int = 0, stop: int | None = None) -> Iterator[Person]:
        """Generated people by index (not through the cache)."""
        stop = self.size if stop is None else min(stop, self.size)
        for index in range(max(0, start), stop):
            yield self._generator.person(index)

    def match(self, *, nino: str, forenames: str, surname: str, date_of_birth: dt.date) -> Match:
        """HMRC-style matching: exact NINO and date of birth, forename initial, first three letters of surname."""
        person = self.person(nino)
        if person is None:
            return Match(None)
        return Match(person, failed_match_rules(person, forenames, surname, date_of_birth))

    def child_benefit_children_aged(
        self, min_age: int, on: dt.date, limit: int | None = None, *, max_age: int = 19
    ) -> Iterator[tuple[Person, Child]]:
        """(claimant, child) for every child on a Child Benefit award aged min_age..max_age on a date (whatever the
        state of the child's Child Benefit: see child_benefit.child_status), fixtures first, then by index.

        Only the claimants who have such a child are generated: a cheap hash says how old each household's eldest
        child is, and households whose eldest is too young are skipped without being built. Building the claimant
        is most of the cost: `child_benefit_children` gives the claimant's NINO instead, several times faster.
        """
        yield from self._children_aged(min_age, on, limit, max_age, claimants=True)

    def child_benefit_children(
        self, min_age: int, on: dt.date, limit: int | None = None, *, max_age: int = 19
    ) -> Iterator[tuple[str, Child]]:
        """(claimant's NINO, child) for the same children as `child_benefit_children_aged`, in the same order,
        without generating the claimants (children do not depend on their claimant's income; look a claimant up
        with `person` when needed)."""
        yield from self._children_aged(min_age, on, limit, max_age, claimants=False)

    @overload
    def _children_aged(
        self,
        min_age: int,
        on: dt.date,
        limit: int | None,
        max_age: int,
        *,
        claimants: Literal[True],
    ) -> Iterator[tuple[Person, Child]]: ...

    @overload
    def _children_aged(
        self,
        min_age: int,
        on: dt.date,
        limit: int | None,
        max_age: int,
        *,
        claimants: Literal[False],
    ) -> Iterator[tuple[str, Child]]: ...

    def _children_aged(
        self, min_age: int, on: dt.date, limit: int | None, max_age: int, *, claimants: bool
    ) -> Iterator[tuple[Person | str, Child]]:
        if limit is not None and limit <= 0:
            return
        latest = _years_before(on, min_age).toordinal()  # born on or before: at least min_age
        earliest = _years_before(on, max_age + 1).toordinal()  # born after: at most max_age
        count = 0
        for p in self._fixtures.values():
            for c in p.child_benefit.children if p.child_benefit else ():
                if earliest < c.date_of_birth.toordinal() <= latest:
                    yield p if claimants else p.nino, c
                    count += 1
                    if count == limit:
                        return
        g = self._generator
        size = g.size
        for block in range((size + 2) // 3):
            eldest = g.eldest_dobs(block)
            for position, dob in ((0, eldest[0]), (2, eldest[1])):
                if dob is None or dob > latest or block * 3 + position >= size:
                    continue
                household = g.household(block)
                if not any(
                    earliest < s.date_of_birth <= latest for s in household.claims[position]
                ):
                    continue
                index = block * 3 + position
                # The household skeleton says this position claims, so the award (or claim) is there.
                claimant: Person | str
                children: tuple[Child, ...] = ()
                if claimants:
                    claimant = g.person(index)
                    if claimant.child_benefit is not None:
                        children = claimant.child_benefit.children
                else:
                    claimant = g.nino(index)
                    if (claim := g.claim(block, position, household)) is not None:
                        children = claim[0]
                for c in children:
                    if earliest < c.date_of_birth.toordinal() <= latest:
                        yield claimant, c
                        count += 1
                        if count == limit:
                            return
