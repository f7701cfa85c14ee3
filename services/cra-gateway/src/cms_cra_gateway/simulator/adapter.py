"""A credit reference agency simulated over the shared synthetic population: the port (port.py) implemented over
generated files (credit_files.py), the scenario changes stored in this gateway's database, and the soft-search
footprints its searches leave. It behaves as the real system would (cms_simulation.behaviour: maintenance windows,
outages, throttling per calling application, latency): every search and monitoring registration is admitted first,
for the caller of the call being served."""

from __future__ import annotations

import datetime as dt
import uuid

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from cms.cra.v1 import cra_scenario_service_pb2 as admin
from cms.cra.v1 import resources_pb2 as pb
from cms_platform.clock import Clock
from cms_platform.identifiers import normalise_nino
from cms_platform.identity import current_caller
from cms_simulation.behaviour import ExternalSystemBehaviour, behaviour_from
from cms_simulation.population import Population, failed_match_rules
from cms_simulation.population.model import Person
from cms_simulation.settings import SimulatorSettings

from ..port import Search, SearchOutcome
from .changes import ChangeError, apply_change
from .credit_files import (
    DEFAULTS,
    CreditFileGenerator,
    FileParameters,
    apply_scenarios,
    as_of,
    file_reference,
)
from .models import CreditFileChangeRecord, SearchFootprintRecord

SEARCHER_NAME = "Child Maintenance Service"
SYSTEM = "the credit reference agency"


class SimulatedCra:
    def __init__(
        self,
        population: Population,
        sessions: sessionmaker,
        clock: Clock,
        *,
        behaviour: ExternalSystemBehaviour | None = None,
        params: FileParameters = DEFAULTS,
    ):
        self.population = population
        self._sessions, self._clock = sessions, clock
        self._behaviour = behaviour or ExternalSystemBehaviour(clock=clock, system=SYSTEM)
        self.generator = CreditFileGenerator(
            seed=population.seed, address_for=population.generator.address, params=params
        )

    @classmethod
    def from_settings(
        cls, settings: SimulatorSettings, *, sessions: sessionmaker, clock: Clock
    ) -> SimulatedCra:
        """The agency the settings describe: their population, and how the system behaves."""
        return cls(
            Population(size=settings.population_size, seed=settings.population_seed),
            sessions,
            clock,
            behaviour=behaviour_from(settings, clock, SYSTEM),
        )

    def _admit(self) -> None:
        self._behaviour.admit(current_caller().subject)

    def file_reference(self, nino: str) -> str:
        return file_reference(self.population.seed, normalise_nino(nino))

    def person(self, nino: str) -> Person | None:
        return self.population.person(nino)

    def file_in(self, db: Session, nino: str, *, on: dt.date) -> pb.CreditFile | None:
        """The whole file on a date, read inside the caller's transaction (so a change just made is in it), with
        the named scenarios it carries. None: nobody in the population has this NINO."""
        person = self.population.person(nino)
        if person is None:
            return None
        partner = self.population.person(person.partner_nino) if person.partner_nino else None
        f = self.generator.generate(person, partner=partner, on=on)
        scenarios = self.generator.scenarios(person)
        rows = db.scalars(
            select(CreditFileChangeRecord)
            .where(CreditFileChangeRecord.nino == person.nino)
            .order_by(CreditFileChangeRecord.id)
        )
        for row in rows:
            if row.effective_date > on:
                continue
            try:
                apply_change(
                    f,
                    admin.ApplyCreditFileChangeRequest.FromString(row.change),
                    effective=row.effective_date,
                    new_id=row.created_id,
                    scenarios=scenarios,
                )
            except ChangeError:
                continue  # refers to an entry a later-dated change adds: not on the file yet on this date
        apply_scenarios(f, scenarios, generator=self.generator, seed=self.population.seed, on=on)
        return as_of(f, on)

    # -- the port -------------------------------------------------------------------------------------------------

    def monitor(self, nino: str, *, on: dt.date) -> pb.CreditFile | None:
        with self._sessions() as s:
            f = self.file_in(s, nino, on=on)
        return None if f is None or pb.CREDIT_FILE_SCENARIO_NO_TRACE in f.scenarios else f

    def register_monitoring(self, nino: str, *, on: dt.date) -> pb.CreditFile | None:
        self._admit()
        return self.monitor(nino, on=on)

    def amend_monitoring(self, nino: str) -> None:
        self._admit()  # the surveillance itself is kept by the gateway: nothing else to tell the simulation

    def search(self, search: Search, *, on: dt.date) -> SearchOutcome:
        self._admit()
        nino = normalise_nino(search.nino)
        reference = self.file_reference(nino)
        with self._sessions.begin() as s:
            f = self.file_in(s, nino, on=on)
            person = self.population.person(nino)
            if f is None or person is None or pb.CREDIT_FILE_SCENARIO_NO_TRACE in f.scenarios:
                return SearchOutcome(False, (), None, "", reference)
            failed = list(_failed_rules(person, f, search))
            if pb.CREDIT_FILE_SCENARIO_PARTIAL_MATCH in f.scenarios:
                failed.append("NAME_VARIANT")
            search_reference = f"SRCH-{uuid.uuid4().hex[:16].upper()}"
            s.add(
                SearchFootprintRecord(
                    search_reference=search_reference,
                    nino=nino,
                    footprint_type="SOFT",
                    searcher_name=SEARCHER_NAME,
                    purpose=pb.SearchPurpose.Name(search.purpose),
                    search_time=self._clock.now(),
                )
            )
        return SearchOutcome(True, tuple(failed), f, search_reference, reference)


def _failed_rules(person: Person, f: pb.CreditFile, search: Search) -> tuple[str, ...]:
    """The agency matches on name and date of birth; a surname the file holds as an alias (a maiden name) matches."""
    failed = failed_match_rules(person, search.forenames, search.surname, search.date_of_birth)
    if "SURNAME_FIRST_THREE_LETTERS" in failed and any(
        a.surname[:3].upper() == search.surname.strip()[:3].upper() for a in f.aliases
    ):
        failed = tuple(r for r in failed if r != "SURNAME_FIRST_THREE_LETTERS")
    return failed
