"""HMRC simulated over the shared synthetic population."""

from __future__ import annotations

from cms_platform.population import Population

from .port import EarnedIncomeSummary, MatchOutcome, PersonToMatch


class SimulatedHmrc:
    def __init__(self, population: Population):
        self._population = population

    def summary_of_earned_income(self, person: PersonToMatch) -> EarnedIncomeSummary:
        m = self._population.match(nino=person.nino, forenames=person.forenames, surname=person.surname,
                                   date_of_birth=person.date_of_birth)
        if m.person is None:
            return EarnedIncomeSummary(MatchOutcome.NOT_FOUND)
        if not m.matched:
            # HMRC reports a partial match and releases no data.
            return EarnedIncomeSummary(MatchOutcome.PARTIAL, m.failed_rules)
        income = m.person.earned_income_pence
        if income is None:
            return EarnedIncomeSummary(MatchOutcome.MATCHED, income_data_held=False)
        return EarnedIncomeSummary(MatchOutcome.MATCHED, income_data_held=True, tax_year=m.person.earned_income_tax_year,
                                   gross_income_pence=income, employment_income_pence=income)
