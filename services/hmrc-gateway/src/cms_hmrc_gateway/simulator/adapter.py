"""HMRC simulated over the shared synthetic population: implements the HMRC port (port.HmrcPort and
port.HmrcFeeds), turning the population's model into the port's types.

A person comes from the scenario overrides first (upserted or changed by a life event), then from the generated
population. Everything is answered as HMRC would see it on the date asked about: the latest tax year HMRC holds
(ended, at most six years old), live employments with unreported leaving dates still looking live, Child Benefit
end dates by the terminal-date rules as the clock passes them. Every enquiry is first admitted by the simulated
system's behaviour (throttle per calling application, maintenance windows, outages, latency: cms_simulation
.behaviour); what HMRC reports on registered interests (the feeds) is not an enquiry and is not throttled.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Collection, Mapping, Sequence
from typing import TypeVar

from cms_platform import calls
from cms_platform.clock import Clock
from cms_platform.errors import FailedPrecondition, PreconditionViolation
from cms_platform.identity import current_caller
from cms_simulation.behaviour import ExternalSystemBehaviour, behaviour_from
from cms_simulation.population import Population, failed_match_rules, model, normalise_nino
from cms_simulation.population import hmrc as hmrc_rules
from cms_simulation.population.child_benefit import child_status, rule_terminal_date
from cms_simulation.population.rti import rti_payments
from cms_simulation.population.tax_year import tax_year_end, tax_year_of, tax_year_start

from ..port import (
    Address,
    Answer,
    Child,
    ChildBenefitEndReason,
    ChildBenefitStatus,
    ChildToFind,
    EarnedIncome,
    Employer,
    EmployerRecords,
    Employment,
    EmploymentStatus,
    EmploymentStatusView,
    EmploymentView,
    IncomeSource,
    MatchOutcome,
    MatchResult,
    PayeIncome,
    PayFrequency,
    PersonToMatch,
    RtiEmploymentIncome,
    RtiIncome,
    RtiPayment,
    SelfAssessment,
    UnearnedIncome,
    UnearnedIncomeYear,
)
from .rules import find_child
from .settings import SimulatedHmrcSettings

POTENTIALLY_CEASED_AFTER_DAYS = 90  # no payment for this long and no leaving date reported

# Scenario people by NINO (simulator.service.Overrides), ahead of the generated population.
OverrideLookup = Callable[[str], model.Person | None]
# The same for many NINOs in one query: each NINO asked about, with its override or None.
OverridesLookup = Callable[[Collection[str]], Mapping[str, model.Person | None]]
# What a Child Benefit enquiry reads of the person held: a whole person, or just the claimant.
_Held = TypeVar("_Held", model.Person, model.Claimant)


def payments(
    e: model.Employment,
    start: dt.date,
    end: dt.date,
    quirks: frozenset[model.DataQuirk] = frozenset(),
) -> list[model.RtiPayment]:
    """RTI payments made in [start, end] (pay rises and cuts included by the population's RTI model)."""
    return [p for p in rti_payments(e, start, end, quirks=quirks) if start <= p.payment_date <= end]


def person_to_match(p: model.Person) -> PersonToMatch:
    """The identity HMRC holds, which always matches itself."""
    return PersonToMatch(p.nino, p.forenames, p.surname, p.date_of_birth)


class SimulatedHmrc:
    def __init__(
        self,
        population: Population,
        overrides: OverrideLookup = lambda _nino: None,
        *,
        behaviour: ExternalSystemBehaviour | None = None,
        overrides_of: OverridesLookup | None = None,
    ):
        self._population = population
        self._overrides = overrides
        self._overrides_of = overrides_of
        self._behaviour = behaviour

    @classmethod
    def from_settings(
        cls,
        settings: SimulatedHmrcSettings,
        *,
        clock: Clock,
        overrides: OverrideLookup,
        overrides_of: OverridesLookup | None = None,
    ) -> SimulatedHmrc:
        """The population and behaviour the settings describe, with the scenario overrides on top."""
        return cls(
            Population(size=settings.population_size, seed=settings.population_seed),
            overrides,
            behaviour=behaviour_from(settings, clock, "HMRC"),
            overrides_of=overrides_of,
        )

    # -- people ----------------------------------------------------------------------------------------------------

    def person(self, nino: str) -> model.Person | None:
        nino = normalise_nino(nino)
        return self._overrides(nino) or self._population.person(nino)

    def for_people(self, ninos: Collection[str]) -> SimulatedHmrc:
        """This simulator with these people's scenario overrides read together (one query, not one per person):
        for one message of the monthly check. An override stored meanwhile shows from the next message on."""
        if self._overrides_of is None:
            return self
        loaded = self._overrides_of({normalise_nino(n) for n in ninos})
        return SimulatedHmrc(
            self._population,
            lambda nino: loaded[nino] if nino in loaded else self._overrides(nino),
            behaviour=self._behaviour,
        )

    def seeing(self, changed: model.Person) -> SimulatedHmrc:
        """This simulator with one person as changed in a transaction not yet committed."""
        return SimulatedHmrc(
            self._population,
            lambda nino: changed if nino == changed.nino else self._overrides(nino),
            behaviour=self._behaviour,
        )

    def _admit(self) -> None:
        """HMRC's platform takes the enquiry, or refuses it (UNAVAILABLE, RESOURCE_EXHAUSTED) before any data."""
        if self._behaviour is not None:
            self._behaviour.admit(current_caller().subject)

    def _matched(
        self, asked: PersonToMatch, on: dt.date
    ) -> tuple[MatchResult, model.Person | None]:
        return self._match_held(asked, self.person(asked.nino), on)

    def _claimant(self, nino: str) -> model.Claimant | None:
        """The person as a Child Benefit enquiry sees them: a scenario person's fields, or the generated claimant
        (without the income a whole person would generate)."""
        nino = normalise_nino(nino)
        override = self._overrides(nino)
        if override is not None:
            return model.Claimant.of(override)
        return self._population.child_benefit_claimant(nino)

    def _match_held(
        self, asked: PersonToMatch, held: _Held | None, on: dt.date
    ) -> tuple[MatchResult, _Held | None]:
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

    # -- enquiries (port.HmrcPort) -----------------------------------------------------------------------------------

    def match(self, person: PersonToMatch, on: dt.date) -> MatchResult:
        self._admit()
        return self._matched(person, on)[0]

    def employment_status(self, person: PersonToMatch, on: dt.date) -> Answer[EmploymentStatusView]:
        self._admit()
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
        self._admit()
        match, held = self._matched(person, on)
        if held is None:
            return Answer(match)
        this_year = tax_year_start(tax_year_of(on))
        previous_year_start = this_year.replace(year=this_year.year - 1)
        views = [
            v
            for v in self.employment_views(held, on)
            if v.live
            or (v.employment.end_date is not None and v.employment.end_date >= previous_year_start)
        ]
        views.sort(key=lambda v: (not v.live, -(v.last_payment_date or dt.date.min).toordinal()))
        return Answer(match, EmployerRecords(tuple(views), address_to_port(held.address)))

    def live_employments(
        self, person: PersonToMatch, on: dt.date
    ) -> Answer[tuple[EmploymentView, ...]]:
        self._admit()
        match, held = self._matched(person, on)
        if held is None:
            return Answer(match)
        return Answer(
            match,
            tuple(
                v for v in self.employment_views(held, on) if v.live and not v.potentially_ceased
            ),
        )

    def earned_income(
        self, person: PersonToMatch, on: dt.date, tax_year: str = ""
    ) -> Answer[EarnedIncome]:
        self._admit()
        return self._earned_income(person, on, tax_year)

    def unearned_income(
        self, person: PersonToMatch, on: dt.date, tax_year: str = ""
    ) -> Answer[UnearnedIncomeYear]:
        self._admit()
        return self._unearned_income(person, on, tax_year)

    def rti_income(self, person: PersonToMatch, start: dt.date, end: dt.date) -> Answer[RtiIncome]:
        self._admit()
        return self._rti_income(person, start, end)

    def child_benefit(
        self, claimant: PersonToMatch, children: Sequence[ChildToFind], on: dt.date
    ) -> Answer[list[ChildBenefitStatus]]:
        self._admit()
        match, held = self._match_held(claimant, self._claimant(claimant.nino), on)
        if held is None:
            return Answer(match)
        return Answer(match, [self._status_in_time(held, asked, on) for asked in children])

    def other_children_benefit(
        self, claimant: PersonToMatch, children: Sequence[ChildToFind], on: dt.date
    ) -> Answer[list[ChildBenefitStatus]]:
        """Verify CHB In Payment For ROC/CIFBA: a relevant other child counts when the paying parent *or their
        partner* gets Child Benefit for them (reg 77), so a child not on the claimant's own claim is looked for on
        the claim of the partner HMRC holds for the claimant."""
        self._admit()
        match, held = self._matched(claimant, on)
        if held is None:
            return Answer(match)
        partner = self.person(held.partner_nino) if held.partner_nino else None
        out = []
        for asked in children:
            status = self._status_in_time(held, asked, on)
            if status.found is None and partner is not None:
                status = self.child_benefit_status(partner, asked, on)
            out.append(status)
        return Answer(match, out)

    # -- what HMRC reports on registered interests (port.HmrcFeeds) --------------------------------------------------
    # As the enquiries answer for the person HMRC holds, without being admitted: HMRC pushes these.

    def reporting(self, nino: str, on: dt.date) -> bool:
        held = self.person(nino)
        return held is not None and not (
            held.date_of_death is not None and held.date_of_death <= on
        )

    def latest_income(self, nino: str, on: dt.date) -> EarnedIncome | None:
        held = self.person(nino)
        return None if held is None else self._earned_income(person_to_match(held), on, "").data

    def latest_unearned_income(self, nino: str, on: dt.date) -> UnearnedIncomeYear | None:
        held = self.person(nino)
        return None if held is None else self._unearned_income(person_to_match(held), on, "").data

    def current_income(self, nino: str, start: dt.date, end: dt.date) -> RtiIncome | None:
        held = self.person(nino)
        return None if held is None else self._rti_income(person_to_match(held), start, end).data

    def employments(self, nino: str, on: dt.date) -> tuple[EmploymentView, ...]:
        held = self.person(nino)
        return () if held is None else tuple(self.employment_views(held, on))

    def children_on_award(
        self, nino: str, children: Sequence[ChildToFind], on: dt.date
    ) -> tuple[ChildBenefitStatus, ...] | None:
        held = self.person(nino)
        award = held.child_benefit if held is not None else None
        if held is None or award is None:
            return None
        watched = children or [
            ChildToFind(c.forenames, c.surname, c.date_of_birth, c.child_reference_number)
            for c in award.children
        ]
        return tuple(self.child_benefit_status(held, asked, on) for asked in watched)

    # -- answers from the population ---------------------------------------------------------------------------------

    def employment_view(self, e: model.Employment, on: dt.date) -> EmploymentView:
        ended = e.end_date is not None and e.end_date < on
        window_end = min(on, e.end_date) if e.end_date else on
        paid = payments(e, max(e.start_date, window_end - dt.timedelta(days=400)), window_end)
        last = paid[-1].payment_date if paid else None
        if ended and not e.leaving_date_unreported:
            return EmploymentView(
                employment_to_port(e, end_reported=True), live=False, last_payment_date=last
            )
        # Live as far as HMRC knows (an unreported leaving date never reaches HMRC).
        quiet_since = last or e.start_date
        ceased = (on - quiet_since).days > POTENTIALLY_CEASED_AFTER_DAYS
        return EmploymentView(
            employment_to_port(e, end_reported=False),
            live=True,
            last_payment_date=last,
            potentially_ceased=ceased,
        )

    def employment_views(self, held: model.Person, on: dt.date) -> list[EmploymentView]:
        """Every employment started by `on`, as HMRC reports it then."""
        return [self.employment_view(e, on) for e in held.employments if e.start_date <= on]

    def _earned_income(
        self, person: PersonToMatch, on: dt.date, tax_year: str
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
            PayeIncome(
                self.employment_view(by_id[p.employment_id], on),
                taxable_pay_pence=p.taxable_pay_pence,
                taxable_benefits_pence=p.taxable_benefits_pence,
                employee_pension_contributions_pence=p.employee_pension_contributions_pence,
                tax_deducted_pence=p.tax_deducted_pence,
            )
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
                self_assessment=None
                if year.self_assessment is None
                else self_assessment_to_port(year.self_assessment),
            ),
        )

    def _unearned_income(
        self, person: PersonToMatch, on: dt.date, tax_year: str
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
                    tax_year, _unearned(year.unearned) if filed and year is not None else None
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
        return Answer(match, UnearnedIncomeYear(latest.tax_year, _unearned(latest.unearned)))

    def _rti_income(self, person: PersonToMatch, start: dt.date, end: dt.date) -> Answer[RtiIncome]:
        match, held = self._matched(person, end)
        if held is None:
            return Answer(match)
        out = []
        total = 0
        for e in held.employments:
            if e.start_date > end or (e.end_date is not None and e.end_date < start):
                continue
            paid = payments(e, start, end, quirks=held.quirks)
            if paid:
                out.append(
                    RtiEmploymentIncome(
                        self.employment_view(e, end),
                        tuple(rti_payment_to_port(p) for p in paid),
                    )
                )
                total += sum(p.taxable_pay_pence for p in paid)
        days = (end - start).days + 1
        return Answer(match, RtiIncome(tuple(out), total * 7 // days, start, end))

    def _status_in_time(
        self, held: model.Person | model.Claimant, asked: ChildToFind, on: dt.date
    ) -> ChildBenefitStatus:
        """One child's status, unless the call is running out: its answer must be whole, so it is refused."""
        calls.ensure_time("verifying the children")
        return self.child_benefit_status(held, asked, on)

    def child_benefit_status(
        self, held: model.Person | model.Claimant, asked: ChildToFind, on: dt.date
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
                    model.ChildBenefitEndReason.CLAIM_ENDED
                    if award.award_end_date == end
                    else rule_terminal_date(found)[1]
                )
            )
        return ChildBenefitStatus(
            asked,
            child_to_port(found),
            entitled=s.entitled,
            in_payment=s.in_payment,
            elected_not_to_be_paid=s.elected_not_to_be_paid,
            end_date=end,
            end_reason=None if reason is None else end_reason_to_port(reason),
        )


def _ended(tax_year: str, on: dt.date) -> bool:
    """A tax year "2024-25" has ended by 6 April 2025."""
    return tax_year_end(tax_year) < on


def _unearned(u: model.UnearnedIncome | None) -> UnearnedIncome:
    """A filed return without unearned income is all zeros."""
    return UnearnedIncome() if u is None else unearned_to_port(u)


# ---------------------------------------------------------------------------------------------------------------
# The population's model as the port's types
# ---------------------------------------------------------------------------------------------------------------


def address_to_port(a: model.Address) -> Address:
    return Address(a.lines, a.post_town, a.postcode, a.country)


def employer_to_port(e: model.Employer) -> Employer:
    return Employer(
        e.name, address_to_port(e.address), e.telephone_number, e.paye_reference, e.armed_forces
    )


def employment_to_port(e: model.Employment, *, end_reported: bool) -> Employment:
    """`end_reported`: HMRC knows the leaving date (else the employment has no end date as HMRC reports it)."""
    return Employment(
        employment_id=e.employment_id,
        employer=employer_to_port(e.employer),
        payroll_id=e.payroll_id,
        start_date=e.start_date,
        end_date=e.end_date if end_reported else None,
        pay_frequency=PayFrequency[e.pay_frequency.name],
        occupational_pension=e.occupational_pension,
    )


def rti_payment_to_port(p: model.RtiPayment) -> RtiPayment:
    return RtiPayment(
        payment_date=p.payment_date,
        tax_year=p.tax_year,
        week_number=p.week_number,
        month_number=p.month_number,
        taxable_pay_pence=p.taxable_pay_pence,
        taxable_pay_to_date_pence=p.taxable_pay_to_date_pence,
        employee_pension_contributions_pence=p.employee_pension_contributions_pence,
        benefits_taxed_via_payroll_pence=p.benefits_taxed_via_payroll_pence,
        tax_deducted_pence=p.tax_deducted_pence,
        hours_worked_band=p.hours_worked_band,
    )


def self_assessment_to_port(sa: model.SelfAssessment) -> SelfAssessment:
    return SelfAssessment(
        return_received_date=sa.return_received_date,
        employment_income_pence=sa.employment_income_pence,
        self_employment_profit_pence=sa.self_employment_profit_pence,
        partnership_profit_pence=sa.partnership_profit_pence,
        trade_loss_relief_pence=sa.trade_loss_relief_pence,
        pension_income_pence=sa.pension_income_pence,
        taxable_benefits_pence=sa.taxable_benefits_pence,
    )


def unearned_to_port(u: model.UnearnedIncome) -> UnearnedIncome:
    return UnearnedIncome(
        uk_property_profit_pence=u.uk_property_profit_pence,
        savings_interest_pence=u.savings_interest_pence,
        uk_dividends_pence=u.uk_dividends_pence,
        foreign_dividends_pence=u.foreign_dividends_pence,
        other_income_pence=u.other_income_pence,
    )


def child_to_port(c: model.Child) -> Child:
    return Child(
        forenames=c.forenames,
        surname=c.surname,
        date_of_birth=c.date_of_birth,
        child_reference_number=c.child_reference_number,
        relationship_start_date=c.relationship_start_date,
        approved_education_or_training_reported=c.approved_education_or_training_reported,
    )


def end_reason_to_port(reason: model.ChildBenefitEndReason) -> ChildBenefitEndReason:
    return ChildBenefitEndReason[reason.name]
