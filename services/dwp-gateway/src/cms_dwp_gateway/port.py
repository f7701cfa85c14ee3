"""The DWP port (CIS and Jobcentre Plus), in domain terms. A real CIS/JCP client implements the same methods."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Protocol

from cms_simulation.population.model import BenefitAward, BenefitType, Child, Person


@dataclass(frozen=True)
class NinoVerification:
    found: bool
    failed_rules: tuple[str, ...] = ()
    nino: str = ""
    person_id: str = ""
    person: Person | None = None


@dataclass(frozen=True)
class ChildVerification:
    found: bool
    failed_rules: tuple[str, ...] = ()
    person_id: str = ""
    child: Child | None = None
    parent: Person | None = None


class CisPort(Protocol):
    def verify_nino(
        self, *, nino: str, forenames: str, surname: str, date_of_birth: dt.date, postcode: str = ""
    ) -> NinoVerification:
        """CIS Verify NINO."""
        ...

    def verify_child(
        self, *, crn: str, parent_nino: str, forenames: str, surname: str, date_of_birth: dt.date
    ) -> ChildVerification:
        """CIS Verify CRN."""
        ...

    def person(self, nino: str) -> Person | None:
        """CIS Retrieve Personal Data (None: no record)."""
        ...

    def child(self, crn: str) -> tuple[Person, Child] | None:
        """A child's record through its Child Benefit claimant."""
        ...

    def awards(
        self,
        nino: str,
        *,
        types: frozenset[BenefitType] = frozenset(),
        live_from: dt.date | None = None,
        live_to: dt.date | None = None,
    ) -> list[BenefitAward] | None:
        """CIS Get Benefit Award Information, newest start first (None: no record)."""
        ...
