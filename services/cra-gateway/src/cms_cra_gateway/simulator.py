"""A credit reference agency simulated over the shared synthetic population: generated files (credit_files.py), the
scenario changes stored in this gateway's database, and the soft-search footprints its searches leave."""

from __future__ import annotations

import datetime as dt
import uuid

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from cms.cra.v1 import cra_scenario_service_pb2 as admin
from cms.cra.v1 import resources_pb2 as pb
from cms_platform.clock import Clock
from cms_simulation.population import Population, failed_match_rules, normalise_nino
from cms_simulation.population.model import Person

from .credit_files import (
    DEFAULTS,
    ChangeError,
    CreditFileGenerator,
    FileParameters,
    apply_change,
    apply_scenarios,
    as_of,
    file_reference,
)
from .models import CreditFileChangeRecord, SearchFootprintRecord
from .port import Search, SearchOutcome

SEARCHER_NAME = "Child Maintenance Service"


class SimulatedCra:
    def __init__(
        self,
        population: Population,
        sessions: sessionmaker,
        clock: Clock,
        *,
        params: FileParameters = DEFAULTS,
    ):
        self.population = population
        self._sessions, self._clock = sessions, clock
        self.generator = CreditFileGenerator(
            seed=population.seed, address_for=population.generator.address, params=params
        )

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

    def search(self, search: Search, *, on: dt.date) -> SearchOutcome:
        nino = normalise_nino(search.nino)
        reference = self.file_reference(nino)
        with self._sessions.begin() as s:
            f = self.file_in(s, nino, on=on)
            if f is None or pb.CREDIT_FILE_SCENARIO_NO_TRACE in f.scenarios:
                return SearchOutcome(False, (), None, "", reference)
            person = self.population.person(nino)
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


def footprints(db: Session, nino: str, *, size: int, offset: int) -> list[pb.SearchFootprint]:
    rows = db.scalars(
        select(SearchFootprintRecord)
        .where(SearchFootprintRecord.nino == normalise_nino(nino))
        .order_by(SearchFootprintRecord.id.desc())
        .offset(offset)
        .limit(size + 1)
    ).all()
    out = []
    for r in rows:
        fp = pb.SearchFootprint(
            search_reference=r.search_reference,
            searcher_name=r.searcher_name,
            type=pb.SearchFootprintType.Value(f"SEARCH_FOOTPRINT_TYPE_{r.footprint_type}"),
            purpose=pb.SearchPurpose.Value(r.purpose),
        )
        fp.search_time.FromDatetime(r.search_time)
        out.append(fp)
    return out
