"""A credit reference agency simulated over the shared synthetic population."""

from __future__ import annotations

import datetime as dt

from cms_platform.population import Population

from .port import TraceResult


class SimulatedCra:
    def __init__(self, population: Population):
        self._population = population

    def trace(self, *, case_reference: str, nino: str, forenames: str, surname: str,
              date_of_birth: dt.date) -> TraceResult:
        m = self._population.match(nino=nino, forenames=forenames, surname=surname, date_of_birth=date_of_birth)
        return TraceResult(found=m.person is not None, failed_rules=m.failed_rules)
