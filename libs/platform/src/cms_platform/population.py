"""The synthetic population all three gateway simulators share, so HMRC, DWP and the CRA agree on a person.

This first version is a small fixed set of seeded people, enough for the walking skeleton; the
deterministic national-scale generator replaces the seed list behind the same `Population` interface.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass


@dataclass(frozen=True)
class SyntheticPerson:
    nino: str
    forenames: str
    surname: str
    date_of_birth: dt.date
    # Taxable earned income HMRC holds for the latest tax year (pence a year); None = none held.
    earned_income_pence: int | None
    earned_income_tax_year: str = "2025-26"


@dataclass(frozen=True)
class Match:
    """How a person held by a simulated system matched the identity a caller sent."""

    person: SyntheticPerson | None
    failed_rules: tuple[str, ...] = ()

    @property
    def matched(self) -> bool:
        return self.person is not None and not self.failed_rules


SEED: tuple[SyntheticPerson, ...] = (
    SyntheticPerson("AA123456A", "Alex", "Turner", dt.date(1985, 3, 14), 31_200_00),
    SyntheticPerson("AB234567B", "Bethan", "Morgan", dt.date(1979, 11, 2), 52_000_00),
    SyntheticPerson("AC345678C", "Chidi", "Okafor", dt.date(1990, 6, 30), 182_000_00),
    SyntheticPerson("AE456789D", "Dana", "Whitfield", dt.date(1988, 1, 9), None),
)


def normalise_nino(nino: str) -> str:
    return nino.replace(" ", "").upper()


class Population:
    def __init__(self, people: tuple[SyntheticPerson, ...] = SEED):
        self._by_nino = {p.nino: p for p in people}

    def by_nino(self, nino: str) -> SyntheticPerson | None:
        return self._by_nino.get(normalise_nino(nino))

    def match(self, *, nino: str, forenames: str, surname: str, date_of_birth: dt.date) -> Match:
        """HMRC-style matching: exact NINO and date of birth, forename initial, first three letters of surname."""
        person = self.by_nino(nino)
        if person is None:
            return Match(None)
        failed = []
        if forenames[:1].upper() != person.forenames[:1].upper():
            failed.append("FORENAME_INITIAL")
        if surname[:3].upper() != person.surname[:3].upper():
            failed.append("SURNAME_FIRST_THREE_LETTERS")
        if date_of_birth != person.date_of_birth:
            failed.append("DATE_OF_BIRTH")
        return Match(person, tuple(failed))
