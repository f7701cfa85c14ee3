"""CIS and Jobcentre Plus simulated over the shared synthetic population: SimulatedCis and SimulatedJcp implement the
DWP port (port.py), converting the population's people and awards to the port's types, with what scenarios and Send
Update changed laid over them (overlay.py). Every enquiry is admitted by the simulated systems' behaviour
(cms_simulation.behaviour: maintenance windows, outages, throttling per caller, latency, as the scenario admin's
settings and outage windows have them now: controls.py), as a real call could be refused."""

from __future__ import annotations

import dataclasses
import datetime as dt
import hashlib
import random
import re
import uuid

from sqlalchemy.orm import sessionmaker

from cms.dwp.v1 import dwp_scenario_service_pb2 as api
from cms_platform.clock import Clock
from cms_platform.identifiers import normalise_nino
from cms_platform.identity import current_caller
from cms_simulation.behaviour import ExternalSystemBehaviour, behaviour_from
from cms_simulation.controls import next_batch, seconds_of
from cms_simulation.population import Population, ids
from cms_simulation.population import model as sim
from cms_simulation.state import StateVersion

from ..deductions import convert as deduction_convert
from ..deductions import rules
from ..port import (
    Address,
    AddressUpdate,
    AddressUpdateResult,
    AwardComponent,
    AwardEndReason,
    AwardQuery,
    BenefitAward,
    BenefitAwards,
    BenefitType,
    Child,
    ChildQuery,
    ChildVerification,
    DeductionType,
    JcpDecision,
    JcpInstruction,
    NinoQuery,
    NinoVerification,
    PaymentFrequency,
    PaymentSuspension,
    PersonRecord,
    Sex,
    UpdateOutcome,
)
from . import decision_maker
from .controls import DwpControls, batch_times, chance, initial, initial_conditions
from .convert import upserted_person
from .overlay import Overlay
from .settings import SimulatedDwpGatewaySettings

_NOISE = re.compile(r"[\s\-'’]")
_SEX = {"M": Sex.MALE, "F": Sex.FEMALE}
# Who decides automated and interface instructions.
JCP = "JCP Deduction Decision Making Unit"
# The rules a partial match fails on at random (CIS's, and the postcode when one is given).
MATCH_RULES = ("SURNAME", "FORENAME_INITIAL", "DATE_OF_BIRTH", "POSTCODE")


def _norm(text: str) -> str:
    """CIS compares names ignoring case, spaces, hyphens and apostrophes."""
    return _NOISE.sub("", text).upper()


def person_id(identifier: str) -> str:
    """The opaque CIS person id (of a NINO or a Child Reference Number) the gateway logs and audits instead."""
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
    """CIS's matching rules once a record is found: exact surname and date of birth, the forename's initial."""
    failed = []
    if _norm(surname) != _norm(held_surname):
        failed.append("SURNAME")
    if _norm(forenames)[:1] != _norm(held_forenames)[:1]:
        failed.append("FORENAME_INITIAL")
    if date_of_birth != held_dob:
        failed.append("DATE_OF_BIRTH")
    return failed


# -- the population's people as the port's records ----------------------------------------------------------------


def award_of(a: sim.BenefitAward) -> BenefitAward:
    return BenefitAward(
        award_id=a.award_id,
        benefit_type=BenefitType(a.benefit_type.value),
        claimant_nino=a.claimant_nino,
        start_date=a.start_date,
        decision_date=a.decision_date,
        amount_pence=a.amount_pence,
        payment_frequency=PaymentFrequency(a.payment_frequency),
        partner_nino=a.partner_nino,
        end_date=a.end_date,
        end_reason=AwardEndReason(a.end_reason.value) if a.end_reason else None,
        components=tuple(
            AwardComponent(c.type, c.sub_type, c.amount_pence, c.payable) for c in a.components
        ),
        suspensions=tuple(
            PaymentSuspension(s.start_date, s.end_date, s.reason) for s in a.suspensions
        ),
        uc_earned_income=a.uc_earned_income,
        uc_assessment_day=a.uc_assessment_day,
        uc_standard_allowance_monthly_pence=a.uc_standard_allowance_monthly_pence,
        uc_third_party_deduction_count=a.uc_third_party_deduction_count,
        uc_other_deductions_monthly_pence=a.uc_other_deductions_monthly_pence,
        cis_updated_on=a.cis_updated_on,
    )


def child_of(c: sim.Child) -> Child:
    return Child(
        person_id=person_id(c.child_reference_number),
        child_reference_number=c.child_reference_number,
        forenames=c.forenames,
        surname=c.surname,
        date_of_birth=c.date_of_birth,
        relationship_start_date=c.relationship_start_date,
    )


def record_of(
    p: sim.Person,
    *,
    address: Address | None = None,
    awards: tuple[BenefitAward, ...] | None = None,
) -> PersonRecord:
    """The person's CIS record, with the address and awards CIS holds now when they changed."""
    return PersonRecord(
        person_id=person_id(p.nino),
        nino=p.nino,
        title=p.title,
        forenames=p.forenames,
        surname=p.surname,
        date_of_birth=p.date_of_birth,
        address=address
        if address is not None
        else Address(p.address.lines, p.address.post_town, p.address.postcode, p.address.country),
        sex=_SEX.get(p.sex, Sex.UNSPECIFIED),
        previous_surnames=p.previous_surnames,
        date_of_death=p.date_of_death,
        restricted=p.restricted,
        partner_nino=p.partner_nino,
        children=tuple(child_of(c) for c in p.child_benefit.children) if p.child_benefit else (),
        benefit_awards=awards
        if awards is not None
        else tuple(award_of(a) for a in p.benefit_awards),
    )


# -- CIS -----------------------------------------------------------------------------------------------------------


class SimulatedCis:
    def __init__(
        self,
        population: Population,
        overlay: Overlay,
        behaviour: ExternalSystemBehaviour,
        controls: DwpControls,
    ):
        self._population = population
        self._overlay = overlay
        self._behaviour = behaviour
        self._controls = controls
        self._random = random.Random()

    def admit(self) -> None:
        caller = current_caller()
        self._behaviour.admit(caller.subject if caller else "")

    def person(self, nino: str) -> PersonRecord | None:
        """The person as CIS holds them now: an upserted record replaces the generated one, scenario awards replace
        generated ones of the same id, and an address Send Update changed replaces the one held."""
        return self._held(nino)[0]

    def scenario(self, nino: str) -> api.PersonScenario | None:
        """The scenario flags an upsert gave the person (None: none)."""
        return self._held(nino)[1]

    def _held(self, nino: str) -> tuple[PersonRecord | None, api.PersonScenario | None]:
        nino = normalise_nino(nino)
        changes = self._overlay.changes(nino)
        held = self._population.person(nino)
        if held is None and changes.person is None:
            return None, None
        by_id = {a.award_id: award_of(a) for a in (held.benefit_awards if held else ())} | {
            a.award_id: a for a in changes.awards
        }
        awards = tuple(sorted(by_id.values(), key=lambda a: a.start_date))
        if changes.person is not None:
            record, scenario = changes.person
            return upserted_person(
                record, person_id=person_id, address=changes.address, awards=awards
            ), scenario
        assert held is not None
        return record_of(held, address=changes.address, awards=awards), None

    def child(self, crn: str) -> tuple[PersonRecord, Child] | None:
        found = self._population.child(normalise_nino(crn))
        if found is None:
            return None
        parent, child = found
        return record_of(parent), child_of(child)

    def verify_nino(self, query: NinoQuery) -> NinoVerification:
        held, scenario = self._held(query.nino)
        if held is None:
            return NinoVerification(found=False)
        failed = cis_failed_rules(
            held.forenames,
            held.surname,
            held.date_of_birth,
            forenames=query.forenames,
            surname=query.surname,
            date_of_birth=query.date_of_birth,
        )
        if query.postcode and _norm(query.postcode) != _norm(held.address.postcode):
            failed.append("POSTCODE")
        failed += [r for r in (scenario.failed_match_rules if scenario else ()) if r not in failed]
        if chance(self._controls.settings().partial_match_basis_points, self._random):
            rules_left = [r for r in MATCH_RULES[:3] if r not in failed]
            failed += [self._random.choice(rules_left)] if rules_left else []
        return NinoVerification(True, tuple(failed), held.nino, held.person_id, held)

    def verify_child(self, query: ChildQuery) -> ChildVerification:
        parent: PersonRecord | None
        if query.crn:
            found = self.child(query.crn)
            if found is None:
                return ChildVerification(False)
            parent, child = found
        else:
            parent = self.person(query.parent_nino)
            candidates = [
                c
                for c in (parent.children if parent else ())
                if _norm(c.forenames)[:1] == _norm(query.forenames)[:1]
                and c.date_of_birth == query.date_of_birth
            ]
            if len(candidates) != 1:
                return ChildVerification(False)  # no such child, or more than one
            child = candidates[0]
        failed = cis_failed_rules(
            child.forenames,
            child.surname,
            child.date_of_birth,
            forenames=query.forenames,
            surname=query.surname,
            date_of_birth=query.date_of_birth,
        )
        return ChildVerification(True, tuple(failed), child.person_id, child, parent)

    def awards(self, query: AwardQuery) -> BenefitAwards | None:
        held = self.person(query.nino)
        if held is None:
            return None
        out = [
            a
            for a in held.benefit_awards
            if (not query.types or a.benefit_type in query.types)
            and (query.live_to is None or a.start_date <= query.live_to)
            and (query.live_from is None or a.end_date is None or a.end_date >= query.live_from)
        ]
        out.sort(key=lambda a: (a.start_date, ids.legacy(a.award_id)), reverse=True)
        return BenefitAwards(held.person_id, held.record_updated_on, tuple(out))

    def send_update(self, update: AddressUpdate) -> AddressUpdateResult:
        """Applied when the old address is the one held, referred to DWP staff for a restricted record."""
        held = self.person(update.nino)
        if (
            held is None
            or update.old_address_line_1.strip().upper() != held.address.lines[0].strip().upper()
            or update.old_postcode.replace(" ", "").upper()
            != held.address.postcode.replace(" ", "").upper()
        ):
            return AddressUpdateResult(UpdateOutcome.ADDRESS_MISMATCH)
        outcome = UpdateOutcome.REFERRED if held.restricted else UpdateOutcome.APPLIED
        result = AddressUpdateResult(outcome, "CIS" + uuid.uuid4().hex[:10].upper())
        if outcome is UpdateOutcome.APPLIED:
            self._overlay.change_address(held.nino, update.new_address)
        return result


# -- Jobcentre Plus ------------------------------------------------------------------------------------------------


class SimulatedJcp:
    """Jobcentre Plus deciding deductions in batch windows, by the benefit decision maker's checks over the award
    the simulated CIS holds on the decision date."""

    def __init__(
        self,
        cis: SimulatedCis,
        behaviour: ExternalSystemBehaviour,
        *,
        controls: DwpControls,
        params: rules.DeductionParameters,
    ):
        self._cis = cis
        self._behaviour = behaviour
        self._controls = controls
        self._params = params

    def admit(self) -> None:
        caller = current_caller()
        self._behaviour.admit(caller.subject if caller else "")

    def decision_due(self, submitted: dt.datetime) -> dt.datetime:
        """The first batch run at least the decision delay after submission (settings: controls.py)."""
        settings = self._controls.settings()
        return next_batch(
            submitted + dt.timedelta(seconds=seconds_of(settings.jcp_decision_delay)),
            batch_times(settings),
        )

    def held(self, at: dt.datetime) -> bool:
        """Whether an outage of the whole system holds JCP's batch at `at`."""
        return bool(self._controls.live(at, "")[1])

    def decide(self, instruction: JcpInstruction, *, on: dt.date) -> JcpDecision:
        """The decision maker's answer on `on`; accepted from the later of `on` and the start asked for. A
        scenario may make JCP reject every instruction for a person."""
        scenario = self._cis.scenario(instruction.beneficiary_nino)
        forced = (
            deduction_convert.rejection_of(scenario.deduction_rejection_reason)
            if scenario
            else None
        )
        if forced is not None:
            return JcpDecision(
                accepted=False,
                decided_on=on,
                decided_by=JCP,
                rejection=forced,
                detail="rejected by the person's scenario",
            )
        settings = self._controls.settings()
        params = dataclasses.replace(
            self._params,
            universal_credit_deductions_with_earnings=settings.universal_credit_deductions_with_earnings,
        )
        person = self._cis.person(instruction.beneficiary_nino)
        award = (
            next((a for a in person.benefit_awards if a.award_id == instruction.award_id), None)
            if person
            else None
        )
        weekly_liability = (
            rules.weekly_pence_of(award, instruction.maintenance_pence)
            if award is not None
            and instruction.deduction_type is DeductionType.NON_STANDARD_FLAT_RATE
            else 0
        )
        outcome = decision_maker.decide(
            award,
            kind=instruction.deduction_type,
            weekly_liability_pence=weekly_liability,
            live=award is not None and award.live_on(on),
            suspended=award is not None and award.suspended_on(on),
            p=params,
        )
        return JcpDecision(
            accepted=outcome.accepted,
            decided_on=on,
            decided_by=JCP,
            start_date=max(on, instruction.start_date) if outcome.accepted else None,
            rejection=outcome.rejection,
            detail=outcome.detail,
        )


def simulated_dwp(
    settings: SimulatedDwpGatewaySettings,
    *,
    clock: Clock,
    sessions: sessionmaker,
    params: rules.DeductionParameters,
) -> tuple[SimulatedCis, SimulatedJcp, DwpControls]:
    """CIS and JCP as the settings describe them (and the scenario admin's run-time settings and outages, once
    set): over the shared population, refusing calls by one behaviour (so a maintenance window, an outage or the
    throttle covers both), JCP deciding after its batch delay."""
    # One version read a call serves both the controls and the overlay.
    version = StateVersion(sessions)
    controls = DwpControls(sessions, initial(settings), initial_conditions(settings), version)
    behaviour = behaviour_from(settings, clock, "CIS", "SERVICE_UNAVAILABLE", live=controls.live)
    cis = SimulatedCis(
        Population(size=settings.population_size, seed=settings.population_seed),
        Overlay(sessions, clock, version),
        behaviour,
        controls,
    )
    jcp = SimulatedJcp(cis, behaviour, controls=controls, params=params)
    return cis, jcp, controls
