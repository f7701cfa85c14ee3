"""CIS simulated over the shared synthetic population (implements the CIS port)."""

from __future__ import annotations

import dataclasses
import datetime as dt
import hashlib
import re
from collections.abc import Callable

from cms_simulation.population import Population, normalise_nino
from cms_simulation.population.model import BenefitAward, BenefitType, Child, Person

from .port import ChildVerification, NinoVerification

_NOISE = re.compile(r"[\s\-'’]")


def _norm(text: str) -> str:
    """CIS compares names ignoring case, spaces, hyphens and apostrophes."""
    return _NOISE.sub("", text).upper()


def person_id(identifier: str) -> str:
    """The opaque CIS person id the gateway logs and audits instead of the NINO."""
    return "cis-" + hashlib.sha256(f"cis-person:{identifier}".encode()).hexdigest()[:20]


def cis_failed_rules(
    held_forenames: str,
    held_surname: str,
    held_dob: dt.date,
    *,
    forenames: str,
    surname: str,
    date_of_birth: dt.date,
) -> list[str]:
    failed = []
    if _norm(surname) != _norm(held_surname):
        failed.append("SURNAME")
    if _norm(forenames)[:1] != _norm(held_forenames)[:1]:
        failed.append("FORENAME_INITIAL")
    if date_of_birth != held_dob:
        failed.append("DATE_OF_BIRTH")
    return failed


class SimulatedCis:
    def __init__(
        self,
        population: Population,
        stored_awards: Callable[[str], list[BenefitAward]] = lambda _n: [],
    ):
        self._population = population
        self._stored = stored_awards

    def person(self, nino: str) -> Person | None:
        """The person with their awards as CIS holds them now: scenario awards replace generated ones of the same id."""
        held = self._population.person(normalise_nino(nino))
        if held is None:
            return None
        moved = getattr(self._stored, "address", lambda _n: None)(held.nino)
        if moved is not None:
            held = dataclasses.replace(held, address=moved)
        stored = self._stored(held.nino)
        if not stored:
            return held
        by_id = {a.award_id: a for a in held.benefit_awards} | {a.award_id: a for a in stored}
        return dataclasses.replace(
            held, benefit_awards=tuple(sorted(by_id.values(), key=lambda a: a.start_date))
        )

    def child(self, crn: str) -> tuple[Person, Child] | None:
        return self._population.child(normalise_nino(crn))

    def verify_nino(
        self, *, nino: str, forenames: str, surname: str, date_of_birth: dt.date, postcode: str = ""
    ) -> NinoVerification:
        held = self.person(nino)
        if held is None:
            return NinoVerification(found=False)
        failed = cis_failed_rules(
            held.forenames,
            held.surname,
            held.date_of_birth,
            forenames=forenames,
            surname=surname,
            date_of_birth=date_of_birth,
        )
        if postcode and _norm(postcode) != _norm(held.address.postcode):
            failed.append("POSTCODE")
        return NinoVerification(True, tuple(failed), held.nino, person_id(held.nino), held)

    def verify_child(
        self, *, crn: str, parent_nino: str, forenames: str, surname: str, date_of_birth: dt.date
    ) -> ChildVerification:
        if crn:
            found = self.child(crn)
            if found is None:
                return ChildVerification(False)
            parent, child = found
        else:
            parent = self.person(parent_nino)
            award = parent.child_benefit if parent else None
            candidates = [
                c
                for c in (award.children if award else ())
                if _norm(c.forenames)[:1] == _norm(forenames)[:1]
                and c.date_of_birth == date_of_birth
            ]
            if len(candidates) != 1:
                return ChildVerification(False)  # no such child, or more than one
            child = candidates[0]
        failed = cis_failed_rules(
            child.forenames,
            child.surname,
            child.date_of_birth,
            forenames=forenames,
            surname=surname,
            date_of_birth=date_of_birth,
        )
        return ChildVerification(
            True, tuple(failed), person_id(child.child_reference_number), child, parent
        )

    def awards(
        self,
        nino: str,
        *,
        types: frozenset[BenefitType] = frozenset(),
        live_from: dt.date | None = None,
        live_to: dt.date | None = None,
    ) -> list[BenefitAward] | None:
        held = self.person(nino)
        if held is None:
            return None
        out = [
            a
            for a in held.benefit_awards
            if (not types or a.benefit_type in types)
            and (live_to is None or a.start_date <= live_to)
            and (live_from is None or a.end_date is None or a.end_date >= live_from)
        ]
        return sorted(out, key=lambda a: (a.start_date, a.award_id), reverse=True)


def live_on(award: BenefitAward, on: dt.date) -> bool:
    return award.start_date <= on and (award.end_date is None or award.end_date >= on)


def suspended_on(award: BenefitAward, on: dt.date) -> bool:
    return any(
        s.start_date <= on and (s.end_date is None or s.end_date >= on) for s in award.suspensions
    )
