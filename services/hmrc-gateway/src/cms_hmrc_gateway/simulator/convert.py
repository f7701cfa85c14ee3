"""Conversions between the synthetic population's plain model (cms_simulation.population.model) and cms.hmrc.v1 messages.

Pure functions: no gRPC, no SQL, no clock. Messages the API shares with the scenario service (employer, employment,
Self Assessment, unearned income) go through the port's types (adapter.py) and the gateway's convert.py, so both
services write them alike. `person_to_proto` / `person_from_proto` map the whole simulated person
(HmrcScenarioService.SimulatedPerson) and `person_from_proto(person_to_proto(p)) == p` holds for every Person the
model can express, except for these documented gaps:

- `Person.sex`, `previous_surnames` and `benefit_awards` (DWP's view) are not HMRC's: kept from `keep_from` too.
- `Person.other_parent_nino` has no proto field: `person_from_proto` takes it from `keep_from` (the record being
  replaced, when there is one) and is "" otherwise.
- An empty `Employment.employment_id` is not kept: an employment without an id is given one (see below).
- `SimulatedPayeIncome` names its employment by PAYE reference and payroll id only, so `PayeIncome.employment_id`
  comes back as the id of the person's employment with that PAYE reference and payroll id (the one overlapping the
  tax year when several do), or the derived id when none does. A PayeIncome whose employment_id disagrees with that
  does not round trip.

Wire conventions:

- Unset dates are unset message fields (never an all-zero Date in an output); an all-zero Date reads as None.
- An employment whose leaving date the employer never reported (`leaving_date_unreported`) has no `end_date` on the
  wire, as at HMRC. In a SimulatedPerson it is `potentially_ceased`, and the last day worked (the model's end_date,
  known to the simulation only) travels as `last_payment_date`: it is where the payments stop. On input,
  `potentially_ceased` sets `leaving_date_unreported`, and the last day worked is `end_date` when given, else
  `last_payment_date`. For any other employment `last_payment_date` is derived from RTI by the gateway and ignored on
  input.
- `SimulatedEmployment.pay_changes` are the model's `Employment.pay_changes` (oldest first; on input a change dated
  before the one listed ahead of it is refused, equal dates are allowed and the later one wins).
- `SimulatedEmployment.payments` (explicit RTI payments) are not modelled: the simulator generates payments from the
  annual figures. They are never written and are ignored on input.
- `UnearnedIncome.total_unearned_income_pence` is derived (the sum) and ignored on input.
- `SimulatedPerson.generated` is OUTPUT_ONLY in the contract but copied both ways here; the servicer decides what an
  upsert stores.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable
from typing import TypeVar, cast

from cms.common.v1 import types_pb2 as common
from cms.hmrc.v1 import hmrc_scenario_service_pb2 as scenario
from cms.hmrc.v1 import resources_pb2 as hmrc
from cms_platform.convert import date_or_violation, optional_date, pb_date, person_name
from cms_platform.errors import ViolationCollector
from cms_platform.identifiers import normalise_nino
from cms_platform.models import OutboxEvent
from cms_simulation.population import ids, model

from .. import convert as gateway_convert
from .. import port
from ..income.rules import is_tax_year
from .adapter import (
    address_to_port,
    employer_to_port,
    employment_to_port,
    self_assessment_to_port,
    unearned_to_port,
)

T = TypeVar("T")

# Built by name so that a value added on one side and not the other fails at import, not at run time.
_PAY_FREQUENCIES = {
    f: hmrc.PayFrequency.Value(f"PAY_FREQUENCY_{f.name}") for f in model.PayFrequency
}
_PAY_FREQUENCIES_BACK = {v: k for k, v in _PAY_FREQUENCIES.items()}
_END_REASONS = {
    r: hmrc.ChildBenefitEndReason.Value(f"CHILD_BENEFIT_END_REASON_{r.name}")
    for r in model.ChildBenefitEndReason
}
_END_REASONS_BACK = {v: k for k, v in _END_REASONS.items()}
_QUIRKS = {q: scenario.DataQuirk.Value(f"DATA_QUIRK_{q.name}") for q in model.DataQuirk}
_QUIRKS_BACK = {v: k for k, v in _QUIRKS.items()}

_NOT_ID_CHARACTERS = re.compile(r"[^A-Za-z0-9]+")


# ---------------------------------------------------------------------------------------------------------------
# Values
# ---------------------------------------------------------------------------------------------------------------


def pay_frequency_to_proto(f: model.PayFrequency) -> hmrc.PayFrequency.ValueType:
    return _PAY_FREQUENCIES[f]


def pay_frequency_from_proto(value: int) -> model.PayFrequency:
    """Raises ValueError for UNSPECIFIED or a value this service does not know."""
    try:
        return _PAY_FREQUENCIES_BACK[value]  # type: ignore[index]  # any int may come off the wire
    except KeyError:
        raise ValueError(f"{value} is not a pay frequency") from None


def end_reason_to_proto(
    reason: model.ChildBenefitEndReason | None,
) -> hmrc.ChildBenefitEndReason.ValueType:
    """None (no end reason held) is CHILD_BENEFIT_END_REASON_UNSPECIFIED."""
    return hmrc.CHILD_BENEFIT_END_REASON_UNSPECIFIED if reason is None else _END_REASONS[reason]


def end_reason_from_proto(value: int) -> model.ChildBenefitEndReason | None:
    """UNSPECIFIED is None; raises ValueError for a value this service does not know."""
    if value == hmrc.CHILD_BENEFIT_END_REASON_UNSPECIFIED:
        return None
    try:
        return _END_REASONS_BACK[value]  # type: ignore[index]  # any int may come off the wire
    except KeyError:
        raise ValueError(f"{value} is not a Child Benefit end reason") from None


def quirk_to_proto(q: model.DataQuirk) -> scenario.DataQuirk.ValueType:
    return _QUIRKS[q]


def quirk_from_proto(value: int) -> model.DataQuirk:
    """Raises ValueError for UNSPECIFIED or a value this service does not know."""
    try:
        return _QUIRKS_BACK[value]  # type: ignore[index]  # any int may come off the wire
    except KeyError:
        raise ValueError(f"{value} is not a data quirk") from None


# ---------------------------------------------------------------------------------------------------------------
# Messages
# ---------------------------------------------------------------------------------------------------------------


def address_to_proto(a: model.Address) -> common.Address:
    return gateway_convert.address_to_proto(address_to_port(a))


def address_from_proto(msg: common.Address) -> model.Address:
    """Copied as held: an empty country stays empty (the model's "GB" default is not applied)."""
    return model.Address(
        lines=tuple(msg.lines), post_town=msg.post_town, postcode=msg.postcode, country=msg.country
    )


def employer_to_proto(e: model.Employer) -> hmrc.Employer:
    return gateway_convert.employer_to_proto(employer_to_port(e))


def employer_from_proto(msg: hmrc.Employer) -> model.Employer:
    return model.Employer(
        name=msg.name,
        address=address_from_proto(msg.address),
        telephone_number=msg.telephone_number,
        paye_reference=msg.paye_reference,
        armed_forces=msg.armed_forces,
    )


def employment_to_proto(
    e: model.Employment,
    *,
    last_payment_date: dt.date | None = None,
    potentially_ceased: bool = False,
) -> hmrc.Employment:
    """The employment as HMRC reports it. HMRC never reports the end date of an employment whose leaving date the
    employer did not report (`leaving_date_unreported`): end_date is then unset. `last_payment_date` and
    `potentially_ceased` come from the RTI payments and the clock, which the model does not hold."""
    view = port.EmploymentView(
        employment_to_port(e, end_reported=not e.leaving_date_unreported),
        live=e.end_date is None,
        last_payment_date=last_payment_date,
        potentially_ceased=potentially_ceased,
    )
    return gateway_convert.employment_to_proto(view)


def simulated_employment_to_proto(e: model.Employment) -> scenario.SimulatedEmployment:
    """The employment with its annual figures and pay changes. An unreported leaving is `potentially_ceased` with the last day
    worked as `last_payment_date` (see the module docstring); explicit `payments` are not modelled."""
    unreported = e.leaving_date_unreported
    return scenario.SimulatedEmployment(
        employment=employment_to_proto(
            e, last_payment_date=e.end_date if unreported else None, potentially_ceased=unreported
        ),
        annual_taxable_pay_pence=e.annual_taxable_pay_pence,
        annual_employee_pension_contributions_pence=e.annual_employee_pension_contributions_pence,
        annual_benefits_taxed_via_payroll_pence=e.annual_benefits_in_kind_pence,
        pay_changes=[
            scenario.ScheduledPay(effective_date=pb_date(since), annual_taxable_pay_pence=annual)
            for since, annual in e.pay_changes
        ],
    )


def child_identity_to_proto(child: model.Child) -> hmrc.ChildIdentity:
    return hmrc.ChildIdentity(
        name=person_name(child.forenames, child.surname),
        date_of_birth=pb_date(child.date_of_birth),
        child_reference_number=child.child_reference_number,
    )


def unearned_to_proto(tax_year: str, u: model.UnearnedIncome | None) -> hmrc.UnearnedIncome:
    """None (no Self Assessment return for the year) is a not-filed answer with every amount zero."""
    return gateway_convert.unearned_to_proto(tax_year, None if u is None else unearned_to_port(u))


def unearned_from_proto(msg: hmrc.UnearnedIncome) -> model.UnearnedIncome | None:
    """None when no return was filed; the total is derived, so the message's total is not read."""
    if not msg.self_assessment_return_filed:
        return None
    return model.UnearnedIncome(
        uk_property_profit_pence=msg.uk_property_profit_pence,
        savings_interest_pence=msg.savings_interest_pence,
        uk_dividends_pence=msg.uk_dividends_pence,
        foreign_dividends_pence=msg.foreign_dividends_pence,
        other_income_pence=msg.other_income_pence,
    )


def self_assessment_to_proto(sa: model.SelfAssessment) -> hmrc.SelfAssessmentIncomeBreakdown:
    return gateway_convert.self_assessment_to_proto(self_assessment_to_port(sa))


def paye_income_to_proto(pi: model.PayeIncome) -> scenario.SimulatedPayeIncome:
    """The employment is named by PAYE reference and payroll id only (no employment_id on the wire)."""
    return scenario.SimulatedPayeIncome(
        paye_reference=pi.paye_reference,
        payroll_id=pi.payroll_id,
        taxable_pay_pence=pi.taxable_pay_pence,
        taxable_benefits_pence=pi.taxable_benefits_pence,
        employee_pension_contributions_pence=pi.employee_pension_contributions_pence,
        tax_deducted_pence=pi.tax_deducted_pence,
    )


def tax_year_to_proto(y: model.TaxYearIncome) -> scenario.SimulatedTaxYear:
    return scenario.SimulatedTaxYear(
        tax_year=y.tax_year,
        paye_income=[paye_income_to_proto(pi) for pi in y.paye],
        self_assessment=None
        if y.self_assessment is None
        else self_assessment_to_proto(y.self_assessment),
        unearned_income=None if y.unearned is None else unearned_to_proto(y.tax_year, y.unearned),
    )


def child_benefit_to_proto(award: model.ChildBenefitAward) -> scenario.SimulatedChildBenefitAward:
    return scenario.SimulatedChildBenefitAward(
        child_benefit_reference=award.reference,
        award_start_date=pb_date(award.award_start_date),
        award_end_date=optional_date(award.award_end_date),
        elected_not_to_be_paid=award.elected_not_to_be_paid,
        children=[
            scenario.SimulatedChild(
                identity=child_identity_to_proto(c),
                relationship_start_date=pb_date(c.relationship_start_date),
                end_date=optional_date(c.end_date),
                end_reason=end_reason_to_proto(c.end_reason),
                approved_education_or_training_reported=c.approved_education_or_training_reported,
                end_date_reported=optional_date(c.end_date_reported_on),
            )
            for c in award.children
        ],
    )


def person_to_proto(p: model.Person) -> scenario.SimulatedPerson:
    """Everything the HMRC simulator holds about the person. `other_parent_nino` has no field (see the docstring)."""
    return scenario.SimulatedPerson(
        identity=common.PersonIdentity(
            nino=p.nino,
            name=person_name(p.forenames, p.surname, p.title),
            date_of_birth=pb_date(p.date_of_birth),
        ),
        address=address_to_proto(p.address),
        date_of_death=optional_date(p.date_of_death),
        restricted=p.restricted,
        partner_nino=p.partner_nino,
        self_assessment_utr=p.self_assessment_utr,
        self_employed=p.self_employed,
        employments=[simulated_employment_to_proto(e) for e in p.employments],
        tax_years=[tax_year_to_proto(y) for y in p.tax_years],
        child_benefit=None if p.child_benefit is None else child_benefit_to_proto(p.child_benefit),
        quirks=sorted(_QUIRKS[q] for q in p.quirks),
        generated=p.generated,
    )


def queued_event(row: OutboxEvent) -> scenario.QueuedEvent:
    """A feed event a life event queued (its outbox row), keyed by its interest."""
    return scenario.QueuedEvent(
        event_id=row.event_id, event_type=row.event_type, interest_id=row.partition_key
    )


# ---------------------------------------------------------------------------------------------------------------
# SimulatedPerson -> Person, with every bad field named
# ---------------------------------------------------------------------------------------------------------------


def derived_employment_id(nino: str, paye_reference: str, payroll_id: str) -> str:
    """The stable id of an employment that arrives without one: opaque (it must not spell the NINO), the same for the
    same NINO, PAYE reference and payroll id (each compared without spaces and punctuation)."""
    return ids.hashed(
        ids.EMPLOYMENT,
        normalise_nino(nino),
        *(_NOT_ID_CHARACTERS.sub("-", part).strip("-") for part in (paye_reference, payroll_id)),
    )


def person_from_proto(
    msg: scenario.SimulatedPerson, *, keep_from: model.Person | None = None
) -> model.Person:
    """The person a SimulatedPerson describes (e.g. an UpsertPerson request).

    `keep_from` is the record the message replaces, if any (normally the one held for the same NINO). It supplies
    what the message cannot carry: `other_parent_nino` (no proto field; "" without keep_from), and the id of an
    employment that arrives without one but has the PAYE reference and payroll id of one of keep_from's employments
    (the contract: an upsert keeps the id of such an employment). Any other employment without an id gets
    `derived_employment_id(...)`, with "-2", "-3", ... added if that id is already taken.

    Raises InvalidArgument listing every bad field, named by its path in the SimulatedPerson (e.g. `identity.nino`,
    `employments[0].employment.employer.paye_reference`, `tax_years[1].tax_year`).
    """
    v = ViolationCollector()
    identity = msg.identity
    if not identity.nino.strip():
        v.add("identity.nino", "is required")
    date_of_birth = date_or_violation(
        identity.date_of_birth, "identity.date_of_birth", v, required=True
    )
    date_of_death = date_or_violation(msg.date_of_death, "date_of_death", v, required=False)
    employments = _employments_from_proto(msg, keep_from, v)
    tax_years = tuple(
        _tax_year_from_proto(y, f"tax_years[{n}]", identity.nino, employments, v)
        for n, y in enumerate(msg.tax_years)
    )
    child_benefit = (
        _child_benefit_from_proto(msg.child_benefit, v) if msg.HasField("child_benefit") else None
    )
    quirks = frozenset(
        q
        for n, value in enumerate(msg.quirks)
        if (q := _enum(value, quirk_from_proto, f"quirks[{n}]", v, required=False)) is not None
    )
    v.raise_if_any()
    return model.Person(
        nino=identity.nino,
        title=identity.name.title,
        forenames=identity.name.forenames,
        surname=identity.name.surname,
        date_of_birth=_checked(date_of_birth),
        address=address_from_proto(msg.address),
        partner_nino=msg.partner_nino,
        other_parent_nino=keep_from.other_parent_nino if keep_from is not None else "",
        # DWP facts HMRC's view does not hold: kept from the record replaced.
        sex=keep_from.sex if keep_from is not None else "",
        previous_surnames=keep_from.previous_surnames if keep_from is not None else (),
        benefit_awards=keep_from.benefit_awards if keep_from is not None else (),
        self_assessment_utr=msg.self_assessment_utr,
        self_employed=msg.self_employed,
        employments=tuple(employments),
        tax_years=tax_years,
        child_benefit=child_benefit,
        date_of_death=date_of_death,
        restricted=msg.restricted,
        quirks=quirks,
        generated=msg.generated,
    )


def _checked(value: T | None) -> T:
    """A value that is None only where a violation was recorded: the person is never built from it, as
    person_from_proto raises first (the parts are built before, so every bad field is named at once)."""
    return cast(T, value)


def _enum(
    value: int,
    convert: Callable[[int], T],
    path: str,
    v: ViolationCollector,
    *,
    required: bool = True,
) -> T | None:
    if value == 0 and required:
        v.add(path, "is required")
        return None
    try:
        return convert(value)
    except ValueError as exc:
        v.add(path, str(exc))
        return None


def _employments_from_proto(
    msg: scenario.SimulatedPerson, keep_from: model.Person | None, v: ViolationCollector
) -> list[model.Employment]:
    nino = msg.identity.nino
    taken = {s.employment.employment_id for s in msg.employments if s.employment.employment_id}
    explicit: dict[str, int] = {}
    previous: dict[tuple[str, str], list[str]] = {}
    for held in keep_from.employments if keep_from is not None else ():
        previous.setdefault((held.employer.paye_reference, held.payroll_id), []).append(
            held.employment_id
        )

    employments = []
    for n, s in enumerate(msg.employments):
        path = f"employments[{n}].employment"
        if not s.HasField("employment"):
            v.add(path, "is required")
            continue
        # s.payments (explicit RTI payments) are not modelled: payments are generated from the annual figures.
        e = s.employment
        employer = employer_from_proto(e.employer)
        if not employer.paye_reference.strip():
            v.add(f"{path}.employer.paye_reference", "is required")
        start_date = date_or_violation(e.start_date, f"{path}.start_date", v, required=True)
        end_date = date_or_violation(e.end_date, f"{path}.end_date", v, required=False)
        last_payment_date = date_or_violation(
            e.last_payment_date, f"{path}.last_payment_date", v, required=False
        )
        pay_frequency = _enum(e.pay_frequency, pay_frequency_from_proto, f"{path}.pay_frequency", v)
        if e.potentially_ceased and end_date is None:
            end_date = last_payment_date  # the last day worked: payments stop there (see the module docstring)
        pay_changes: list[tuple[dt.date | None, int]] = []
        for k, change in enumerate(s.pay_changes):
            change_path = f"employments[{n}].pay_changes[{k}].effective_date"
            since = date_or_violation(change.effective_date, change_path, v, required=True)
            if (
                since is not None
                and pay_changes
                and pay_changes[-1][0] is not None
                and since < pay_changes[-1][0]
            ):
                v.add(
                    change_path,
                    f"must not be before pay_changes[{k - 1}].effective_date (oldest first)",
                )
            pay_changes.append((since, change.annual_taxable_pay_pence))

        if e.employment_id:
            employment_id = e.employment_id
            if employment_id in explicit:
                v.add(f"{path}.employment_id", f"duplicates employments[{explicit[employment_id]}]")
            explicit.setdefault(employment_id, n)
        else:
            kept = [
                i
                for i in previous.get((employer.paye_reference, e.payroll_id), ())
                if i and i not in taken
            ]
            employment_id = (
                kept[0]
                if kept
                else _unused(
                    derived_employment_id(nino, employer.paye_reference, e.payroll_id), taken
                )
            )
            taken.add(employment_id)

        employments.append(
            model.Employment(
                employment_id=employment_id,
                employer=employer,
                payroll_id=e.payroll_id,
                start_date=_checked(start_date),
                end_date=end_date,
                pay_frequency=_checked(pay_frequency),
                annual_taxable_pay_pence=s.annual_taxable_pay_pence,
                annual_employee_pension_contributions_pence=s.annual_employee_pension_contributions_pence,
                annual_benefits_in_kind_pence=s.annual_benefits_taxed_via_payroll_pence,
                occupational_pension=e.occupational_pension,
                leaving_date_unreported=e.potentially_ceased,
                pay_changes=tuple((_checked(since), pay) for since, pay in pay_changes),
            )
        )
    return employments


def _unused(candidate: str, taken: set[str]) -> str:
    if candidate not in taken:
        return candidate
    n = 2
    while f"{candidate}-{n}" in taken:
        n += 1
    return f"{candidate}-{n}"


def _tax_year_from_proto(
    y: scenario.SimulatedTaxYear,
    path: str,
    nino: str,
    employments: list[model.Employment],
    v: ViolationCollector,
) -> model.TaxYearIncome:
    valid_year = is_tax_year(y.tax_year)
    if not valid_year:
        v.add(
            f"{path}.tax_year",
            'must be a tax year like "2024-25" (the second part the first plus one)',
        )
    paye = []
    for j, pi in enumerate(y.paye_income):
        if not pi.paye_reference.strip():
            v.add(f"{path}.paye_income[{j}].paye_reference", "is required")
        paye.append(
            model.PayeIncome(
                employment_id=_paye_employment_id(
                    pi, y.tax_year if valid_year else None, nino, employments
                ),
                paye_reference=pi.paye_reference,
                payroll_id=pi.payroll_id,
                taxable_pay_pence=pi.taxable_pay_pence,
                taxable_benefits_pence=pi.taxable_benefits_pence,
                employee_pension_contributions_pence=pi.employee_pension_contributions_pence,
                tax_deducted_pence=pi.tax_deducted_pence,
            )
        )

    self_assessment = None
    if y.HasField("self_assessment"):
        sa = y.self_assessment
        self_assessment = model.SelfAssessment(
            return_received_date=_checked(
                date_or_violation(
                    sa.return_received_date,
                    f"{path}.self_assessment.return_received_date",
                    v,
                    required=True,
                )
            ),
            employment_income_pence=sa.employment_income_pence,
            self_employment_profit_pence=sa.self_employment_profit_pence,
            partnership_profit_pence=sa.partnership_profit_pence,
            trade_loss_relief_pence=sa.trade_loss_relief_pence,
            pension_income_pence=sa.pension_income_pence,
            taxable_benefits_pence=sa.taxable_benefits_pence,
        )

    unearned = None
    if y.HasField("unearned_income"):
        u = y.unearned_income
        if (
            valid_year and u.tax_year and u.tax_year != y.tax_year
        ):  # a bad tax_year is reported once, above
            v.add(f"{path}.unearned_income.tax_year", "must be empty or the tax year it is in")
        unearned = unearned_from_proto(u)
        if unearned is None and (
            u.uk_property_profit_pence
            or u.savings_interest_pence
            or u.uk_dividends_pence
            or u.foreign_dividends_pence
            or u.other_income_pence
        ):
            v.add(
                f"{path}.unearned_income.self_assessment_return_filed",
                "must be true when amounts are given",
            )
    return model.TaxYearIncome(
        tax_year=y.tax_year, paye=tuple(paye), self_assessment=self_assessment, unearned=unearned
    )


def _paye_employment_id(
    pi: scenario.SimulatedPayeIncome,
    tax_year: str | None,
    nino: str,
    employments: list[model.Employment],
) -> str:
    """The employment with this PAYE reference and payroll id (the one overlapping the tax year when several do)."""
    matches = [
        e
        for e in employments
        if e.employer.paye_reference == pi.paye_reference and e.payroll_id == pi.payroll_id
    ]
    if len(matches) > 1 and tax_year is not None:
        first = int(tax_year[:4])
        year_start, year_end = dt.date(first, 4, 6), dt.date(first + 1, 4, 5)
        overlapping = [
            e
            for e in matches
            if e.start_date is not None
            and e.start_date <= year_end
            and (e.end_date is None or e.end_date >= year_start)
        ]
        matches = overlapping or matches
    return (
        matches[0].employment_id
        if matches
        else derived_employment_id(nino, pi.paye_reference, pi.payroll_id)
    )


def _child_benefit_from_proto(
    award: scenario.SimulatedChildBenefitAward, v: ViolationCollector
) -> model.ChildBenefitAward:
    children = []
    for k, c in enumerate(award.children):
        path = f"child_benefit.children[{k}]"
        children.append(
            model.Child(
                forenames=c.identity.name.forenames,
                surname=c.identity.name.surname,
                date_of_birth=_checked(
                    date_or_violation(
                        c.identity.date_of_birth, f"{path}.identity.date_of_birth", v, required=True
                    )
                ),
                child_reference_number=c.identity.child_reference_number,
                relationship_start_date=_checked(
                    date_or_violation(
                        c.relationship_start_date,
                        f"{path}.relationship_start_date",
                        v,
                        required=True,
                    )
                ),
                end_date=date_or_violation(c.end_date, f"{path}.end_date", v, required=False),
                end_reason=(
                    None
                    if c.end_reason == hmrc.CHILD_BENEFIT_END_REASON_UNSPECIFIED
                    else _enum(c.end_reason, end_reason_from_proto, f"{path}.end_reason", v)
                ),
                approved_education_or_training_reported=c.approved_education_or_training_reported,
                end_date_reported_on=date_or_violation(
                    c.end_date_reported, f"{path}.end_date_reported", v, required=False
                ),
            )
        )
    return model.ChildBenefitAward(
        reference=award.child_benefit_reference,
        award_start_date=_checked(
            date_or_violation(
                award.award_start_date, "child_benefit.award_start_date", v, required=True
            )
        ),
        award_end_date=date_or_violation(
            award.award_end_date, "child_benefit.award_end_date", v, required=False
        ),
        elected_not_to_be_paid=award.elected_not_to_be_paid,
        children=tuple(children),
    )
