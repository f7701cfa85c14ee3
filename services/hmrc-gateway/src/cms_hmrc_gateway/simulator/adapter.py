"""HMRC simulated over the shared synthetic population (implements the HMRC port).

A person comes from the scenario overrides first (upserted or changed by a life event), then from the generated
population. Everything is answered as HMRC would see it on the date asked about: the latest tax year HMRC holds
(ended, at most six years old), live employments with unreported leaving dates still looking live, Child Benefit
end dates by the terminal-date rules as the clock passes them.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

from cms_platform.errors import FailedPrecondition, PreconditionViolation
from cms_simulation.population import Population, failed_match_rules, normalise_nino
from cms_simulation.population import hmrc as hmrc_rules
from cms_simulation.population.child_benefit import child_status, rule_terminal_date
from cms_simulation.population.model import (
    Child,
    ChildBenefitEndReason,
    Employment,
    Person,
    UnearnedIncome,
)
from cms_simulation.population.rti import rti_payments
from cms_simulation.population.tax_year import tax_year_of

from ..port import (
    Answer,
    ChildBenefitStatus,
    ChildToFind,
    EarnedIncome,
    EmployerRecords,
    EmploymentStatus,
    EmploymentStatusView,
    EmploymentView,
    IncomeSource,
    MatchOutcome,
    MatchResult,
    PersonToMatch,
    RtiIncome,
    UnearnedIncomeYear,
)

POTENTIALLY_CEASED_AFTER_DAYS = 90  # no payment for this long and no leaving date reported


def payments(e: Employment, start: dt.date, end: dt.date, quirks=frozenset()) -> list:
    """RTI payments made in [start, end] (pay rises and cuts included by the population's RTI model)."""
    return [p for p in rti_payments(e, start, end, quirks=quirks) if start <= p.payment_date <= end]


def find_child(children: tuple[Child, ...], asked: ChildToFind) -> Child | None:
    """By CRN when the CMS holds one, else by forename initial, surname and date of birth within the award."""
    if asked.child_reference_number:
        crn = normalise_nino(asked.child_reference_number)
        return next((c for c in children if c.child_reference_number == crn), None)
    return next(
        (
            c
            for c in children
            if c.date_of_birth == asked.date_of_birth
            and c.forenames[:1].upper() == asked.forenames.strip()[:1].upper()
            and c.surname[:3].upper() == asked.surname.strip()[:3].upper()
        ),
        None,
    )


class SimulatedHmrc:
    def __init__(
        self, population: Population, overrides: Callable[[str], Person | None] = lambda _nino: None
    ):
        self._population = population
        self._overrides = overrides

    # -- people ----------------------------------------------------------------------------------------------------

    def person(self, nino: str) -> Person | None:
        nino = normalise_nino(nino)
        return self._overrides(nino) or self._population.person(nino)

    def seeing(self, changed: Person) -> SimulatedHmrc:
        """This simulator with one person as changed in a transaction not yet committed."""
        return SimulatedHmrc(
            self._population,
            lambda nino: changed if nino == changed.nino else self._overrides(nino),
        )

    def _matched(self, asked: PersonToMatch, on: dt.date) -> tuple[MatchResult, Person | None]:
        held = self.person(asked.nino)
        if held is None:
            return MatchResult(MatchOutcome.NOT_FOUND), None
        failed = failed_match_rules(held, asked.forenames, asked.surname, asked.date_of_birth)
        if failed:
            return MatchResult(MatchOutcome.PARTIAL, failed), None
        if held.date_of_death is not None and held.date_of_death <= on:
            raise FailedPrecondition(
                PreconditionViolation(
                    "PERSON_DECEASED",
                    "person",
                    "HMRC records the person as deceased: handle clerically",
                ),
                reason="PERSON_DECEASED",
                metadata={"date_of_death": held.date_of_death.isoformat()},
            )
        if held.restricted:
            raise FailedPrecondition(
                PreconditionViolation(
                    "RECORD_RESTRICTED",
                    "person",
                    "HMRC holds a restricted record: handle clerically",
                ),
                reason="RECORD_RESTRICTED",
            )
        return MatchResult(MatchOutcome.MATCHED), held

    def match(self, person: PersonToMatch, on: dt.date | None = None) -> MatchResult:
        return self._matched(person, on or dt.date.max)[0]

    # -- employments -----------------------------------------------------------------------------------------------

    def employment_view(self, e: Employment, on: dt.date) -> EmploymentView:
        ended = e.end_date is not None and e.end_date < on
        window_end = min(on, e.end_date) if e.end_date else on
        paid = payments(e, max(e.start_date, window_end - dt.timedelta(days=400)), window_end)
        last = paid[-1].payment_date if paid else None
        if ended and not e.leaving_date_unreported:
            return EmploymentView(e, live=False, last_payment_date=last)
        # Live as far as HMRC knows (an unreported leaving date never reaches HMRC).
        quiet_since = last or e.start_date
        ceased = (on - quiet_since).days > POTENTIALLY_CEASED_AFTER_DAYS
        return EmploymentView(e, live=True, last_payment_date=last, potentially_ceased=ceased)

    def employment_views(self, held: Person, on: dt.date) -> list[EmploymentView]:
        """Every employment started by `on`, as HMRC reports it then."""
        return [self.employment_view(e, on) for e in held.employments if e.start_date <= on]

    def employment_status(self, person: PersonToMatch, on: dt.date) -> Answer[EmploymentStatusView]:
        match, held = self._matched(person, on)
        if held is None:
            return Answer(match)
        live = tuple(v for v in self.employment_views(held, on) if v.live)
        employed = any(not v.employment.occupational_pension for v in live)
        status = {
            (True, True): EmploymentStatus.EMPLOYED_AND_SELF_EMPLOYED,
            (True, False): EmploymentStatus.EMPLOYED,
            (False, True): EmploymentStatus.SELF_EMPLOYED,
            (False, False): EmploymentStatus.NOT_EMPLOYED,
        }[(employed, held.self_employed)]
        latest_se = ""
        for ty in held.tax_years:
            if (
                ty.self_assessment
                and ty.self_assessment.self_employment_profit_pence
                and _ended(ty.tax_year, on)
            ):
                latest_se = ty.tax_year
        return Answer(
            match, EmploymentStatusView(status, live, bool(held.self_assessment_utr), latest_se)
        )

    def employer_records(self, person: PersonToMatch, on: dt.date) -> Answer[EmployerRecords]:
        match, held = self._matched(person, on)
        if held is None:
            return Answer(match)
        previous_year_start = _tax_year_start(on).replace(year=_tax_year_start(on).year - 1)
        views = [
            v
            for v in self.employment_views(held, on)
            if v.live
            or (v.employment.end_date is not None and v.employment.end_date >= previous_year_start)
        ]
        views.sort(key=lambda v: (not v.live, -(v.last_payment_date or dt.date.min).toordinal()))
        return Answer(match, EmployerRecords(tuple(views), held.address))

    def live_employments(
        self, person: PersonToMatch, on: dt.date
    ) -> Answer[tuple[EmploymentView, ...]]:
        match, held = self._matched(person, on)
        if held is None:
            return Answer(match)
        return Answer(
            match,
            tuple(
                v for v in self.employment_views(held, on) if v.live and not v.potentially_ceased
            ),
        )

    # -- income ----------------------------------------------------------------------------------------------------

    def earned_income(
        self, person: PersonToMatch, on: dt.date, tax_year: str = ""
    ) -> Answer[EarnedIncome]:
        match, held = self._matched(person, on)
        if held is None:
            return Answer(match)
        if tax_year:
            year = next((ty for ty in held.tax_years if ty.tax_year == tax_year), None)
        else:
            year = hmrc_rules.latest_available_tax_year(held, on)
        if year is None or (not year.paye and year.self_assessment is None):
            return Answer(match)
        figure = hmrc_rules.hmrc_figure(year, held.employments)
        by_id = {e.employment_id: e for e in held.employments}
        paye = tuple(
            (self.employment_view(by_id[p.employment_id], on), p)
            for p in year.paye
            if p.employment_id in by_id
        )
        c = figure.components
        return Answer(
            match,
            EarnedIncome(
                tax_year=year.tax_year,
                gross_income_pence=figure.gross_pence,
                source=IncomeSource(figure.source),
                employment_income_pence=c.get("employment", 0),
                pension_income_pence=c.get("pension", 0),
                taxable_benefits_pence=c.get("taxable_benefits", 0),
                trading_profit_pence=c.get("trading_profit", 0),
                paye=paye,
                self_assessment=year.self_assessment,
            ),
        )

    def unearned_income(
        self, person: PersonToMatch, on: dt.date, tax_year: str = ""
    ) -> Answer[UnearnedIncomeYear]:
        match, held = self._matched(person, on)
        if held is None:
            return Answer(match)
        if tax_year:
            year = next((ty for ty in held.tax_years if ty.tax_year == tax_year), None)
            filed = year is not None and year.self_assessment is not None
            return Answer(
                match,
                UnearnedIncomeYear(
                    tax_year, (year.unearned or UnearnedIncome()) if filed else None
                ),
            )
        oldest = tax_year_of(on.replace(year=on.year - 6))
        with_return = [
            ty
            for ty in held.tax_years
            if ty.self_assessment is not None and _ended(ty.tax_year, on) and ty.tax_year >= oldest
        ]
        if not with_return:
            return Answer(match, UnearnedIncomeYear("", None))
        latest = with_return[-1]
        return Answer(
            match, UnearnedIncomeYear(latest.tax_year, latest.unearned or UnearnedIncome())
        )

    def rti_income(self, person: PersonToMatch, start: dt.date, end: dt.date) -> Answer[RtiIncome]:
        match, held = self._matched(person, end)
        if held is None:
            return Answer(match)
        out = []
        total = 0
        for e in held.employments:
            if e.start_date > end or (e.end_date is not None and e.end_date < start):
                continue
            paid = tuple(payments(e, start, end, quirks=held.quirks))
            if paid:
                out.append((self.employment_view(e, end), paid))
                total += sum(p.taxable_pay_pence for p in paid)
        days = (end - start).days + 1
        return Answer(match, RtiIncome(tuple(out), total * 7 // days, start, end))

    # -- Child Benefit ---------------------------------------------------------------------------------------------

    def child_benefit(
        self, claimant: PersonToMatch, children: list[ChildToFind], on: dt.date
    ) -> Answer[list[ChildBenefitStatus]]:
        match, held = self._matched(claimant, on)
        if held is None:
            return Answer(match)
        return Answer(match, [self.child_benefit_status(held, asked, on) for asked in children])

    def other_children_benefit(
        self, claimant: PersonToMatch, children: list[ChildToFind], on: dt.date
    ) -> Answer[list[ChildBenefitStatus]]:
        """Verify CHB In Payment For ROC/CIFBA: a relevant other child counts when the paying parent *or their
        partner* gets Child Benefit for them (reg 77), so a child not on the claimant's own claim is looked for on
        the claim of the partner HMRC holds for the claimant."""
        match, held = self._matched(claimant, on)
        if held is None:
            return Answer(match)
        partner = self.person(held.partner_nino) if held.partner_nino else None
        out = []
        for asked in children:
            status = self.child_benefit_status(held, asked, on)
            if status.found is None and partner is not None:
                status = self.child_benefit_status(partner, asked, on)
            out.append(status)
        return Answer(match, out)

    def child_benefit_status(
        self, held: Person, asked: ChildToFind, on: dt.date
    ) -> ChildBenefitStatus:
        award = held.child_benefit
        found = find_child(award.children, asked) if award else None
        if award is None or found is None:
            return ChildBenefitStatus(asked, None)
        s = child_status(award, found, on)
        # HMRC reports the end date it holds: the one reached, else the one it knows is coming (FTNAE's
        # currentClaimEndDate), with its reason.
        end, reason = s.end_date, s.end_reason
        if end is None and s.terminal_date is not None:
            end = s.terminal_date
            reason = (
                found.end_reason
                if found.end_date == end and found.end_reason
                else (
                    ChildBenefitEndReason.CLAIM_ENDED
                    if award.award_end_date == end
                    else rule_terminal_date(found)[1]
                )
            )
        return ChildBenefitStatus(
            asked,
            found,
            entitled=s.entitled,
            in_payment=s.in_payment,
            elected_not_to_be_paid=s.elected_not_to_be_paid,
            end_date=end,
            end_reason=reason,
        )


def _tax_year_start(on: dt.date) -> dt.date:
    start = dt.date(on.year, 4, 6)
    return start if on >= start else dt.date(on.year - 1, 4, 6)


def _ended(tax_year: str, on: dt.date) -> bool:
    """A tax year "2024-25" has ended by 6 April 2025."""
    return dt.date(int(tax_year[:4]) + 1, 4, 6) <= on
