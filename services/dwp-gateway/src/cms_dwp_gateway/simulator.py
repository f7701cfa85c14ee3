"""CIS simulated over the shared synthetic population."""

from __future__ import annotations

import datetime as dt

from cms_platform.population import Population

from .port import NinoVerification


class SimulatedCis:
    def __init__(self, population: Population):
        self._population = population

    def verify_nino(self, *, nino: str, forenames: str, surname: str, date_of_birth: dt.date) -> NinoVerification:
        m = self._population.match(nino=nino, forenames=forenames, surname=surname, date_of_birth=date_of_birth)
        if m.person is None:
            return NinoVerification(found=False)
        return NinoVerification(found=True, failed_rules=m.failed_rules, nino=m.person.nino)
