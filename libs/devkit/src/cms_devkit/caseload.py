"""A national-scale caseload for benchmarks: N live cases from the synthetic population, bulk-loaded into casework's
and calculation's databases by the domain's own code (docs/benchmarks.md, "How the caseload is built").

Each case is opened as an application would be, by the services' own functions, on a scratch SQLite database in
memory: casework's `cases.service.create` (its clients found or added, the acknowledgement, the audit entry), the
application checks recorded as all passed (`applications.flows.record_checks`: live from its start date, its annual
review a year on), the initial calculation made and stored by the calculation service's own `create` on the HMRC
figure the hmrc-gateway simulation gives for the paying parent, and recorded on the case by
`calculations.flows.record_calculation` (its liability timeline, payment plan and notices). A batch of cases is then
copied, table by table, into the real databases with one multi-row INSERT per table, and the scratch database is
emptied for the next batch. So the rows are those the services write, at bulk-insert speed, without one database round
trip per query.

What is left out: the outbox (a loaded caseload's events were published long ago; copied, they would all be relayed
again at once) and the stored request ids. Families come from the population the gateways serve (same size and
seed), so hmrc-gateway and dwp-gateway know every parent and child.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import functools
import multiprocessing
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field

from sqlalchemy import create_engine, delete, inspect, select
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session
from sqlalchemy.pool import StaticPool

from cms.calculation.v1 import resources_pb2 as calc_pb
from cms.casework.v1 import resources_pb2 as pb
from cms.common.v1 import types_pb2 as common
from cms.hmrc.v1 import hmrc_service_pb2 as hmrc_api
from cms.hmrc.v1 import resources_pb2 as hmrc_pb
from cms_calculation.calculations import convert as calculation_convert
from cms_calculation.calculations import service as calculation_service
from cms_calculation.calculations.models import StoredCalculation
from cms_calculation.engine.rules import RuleBook
from cms_casework.access.rules import DEFAULT_WORKGROUP
from cms_casework.applications import convert as application_convert
from cms_casework.applications import flows as applications
from cms_casework.calculations import flows as recording
from cms_casework.calculations import rules as calculation_rules
from cms_casework.case_records import service as case_records
from cms_casework.case_records.models import CaseRecord
from cms_casework.cases import service as cases
from cms_casework.clients import service as clients
from cms_casework.clients.models import ClientRecord
from cms_casework.liability import rules as liability_rules
from cms_casework.liability import service as liability
from cms_casework.names import new_id
from cms_casework.scheduler import rules as scheduler_rules
from cms_platform.clock import ManualClock
from cms_platform.convert import day_of, pb_date, years_after
from cms_platform.db import Base, make_engine
from cms_platform.identifiers import normalise_nino
from cms_platform.identity import staff_caller
from cms_simulation.population import Population
from cms_simulation.population.child_benefit import child_status
from cms_simulation.population.hmrc import hmrc_figure, latest_available_tax_year

from .families import Family

# Tables a loaded caseload leaves empty: its events were published long ago, its requests answered.
SKIPPED = frozenset(
    {"outbox_events", "outbox_partition_marks", "outbox_relay_state", "idempotent_requests"}
)
# The calculation service's own table; every other table the domain writes is casework's.
CALCULATION_TABLES = frozenset({"calculations"})
LOADER = staff_caller("caseload-loader", "caseworker")
_HOUSEHOLD = 3  # a household takes three consecutive population indexes, the receiving parent first
_DAYS = 365


@dataclass(frozen=True)
class Plan:
    """What to load. `as_of` is the business date the benchmark runs on. Cases start on days spread over the year
    before it, so their annual reviews fall evenly over the year after; one family in `review_every` starts a year
    less 30 days before it, so its review is due on `as_of` (a review is taken 30 days ahead): 365 gives a day's
    share of a year's reviews (about 2,700 a day for 1,000,000 cases)."""

    cases: int
    as_of: dt.date
    review_every: int = 365
    batch: int = 1000  # cases a transaction
    # True: each case through the services' flows on the scratch database (open_case), then copied; False: its rows
    # built directly (build_case), several times faster, the way a national caseload is loaded.
    flows: bool = False
    workers: int = (
        1  # processes building cases (generating the population's people is most of the work)
    )


@dataclass
class Loaded:
    cases: int = 0
    qualifying_children: int = 0
    cases_with_child_16_plus: int = 0  # the monthly Child Benefit check's cases
    children_on_those_cases: int = 0  # and the children it sends
    reviews_due: int = 0
    # The population index after the last family loaded: where a further part starts.
    next_start: int = 0
    seconds: float = 0.0
    domain_seconds: float = 0.0  # the services' code on the scratch database
    copy_seconds: float = 0.0  # the multi-row INSERTs into the real databases

    @property
    def per_second(self) -> float:
        return self.cases / self.seconds if self.seconds > 0 else float("nan")


def caseload_families(
    *, on: dt.date, population: Population, start: int = 0
) -> Iterator[tuple[Family, int]]:
    """(family, households read) for each receiving parent with Child Benefit for a child (of any age: children of 16
    to 19 in education are what the monthly check is about) and a living paying parent with an HMRC figure on `on`.
    A child is on the case when HMRC showed it entitled on `on`; each family is read once (no wrapping round)."""
    read = 0
    for index in range(start - start % _HOUSEHOLD, population.size, _HOUSEHOLD):
        read += 1
        receiver = population.person_at(index)
        award = receiver.child_benefit
        if award is None or not receiver.other_parent_nino or receiver.date_of_death:
            continue
        payer = population.person(receiver.other_parent_nino)
        if payer is None or payer.date_of_death or latest_available_tax_year(payer, on) is None:
            continue
        children = tuple(c for c in award.children if child_status(award, c, on).entitled)
        if children:
            yield Family(index, receiver, payer, children), read


def hmrc_summary(family: Family, on: dt.date) -> hmrc_api.GetSummaryOfEarnedIncomeResponse | None:
    """The paying parent's HMRC figure as hmrc-gateway answers GetSummaryOfEarnedIncome (reg 36 of SI 2012/2677);
    None when HMRC holds none on that date."""
    year = latest_available_tax_year(family.payer, on)
    if year is None:
        return None
    figure = hmrc_figure(year, family.payer.employments)
    return hmrc_api.GetSummaryOfEarnedIncomeResponse(
        match=common.MatchResult(outcome=common.MATCH_OUTCOME_MATCHED),
        income_data_held=True,
        tax_year=year.tax_year,
        gross_income_pence=figure.gross_pence,
    )


def _start_day(index: int, plan: Plan) -> dt.date:
    """The case's start: for one family in `review_every`, a year less 30 days before `as_of` (its review is due
    then); for the rest, a day that puts their review later in the year."""
    household = index // _HOUSEHOLD
    if household % plan.review_every == 0:
        return plan.as_of - dt.timedelta(days=_DAYS - 30)
    return plan.as_of - dt.timedelta(days=_DAYS - 31 - household % (_DAYS - 31))


def _prepared(
    found: Family, plan: Plan
) -> tuple[Family, dt.date, hmrc_api.GetSummaryOfEarnedIncomeResponse] | None:
    """The family as it applied on its start day, with the HMRC figure then; None when it could not have (no child
    born yet, no figure held)."""
    start = _start_day(found.index, plan)
    # A child born since the case started joins it later (a change): not at its application.
    family = dataclasses.replace(
        found, children=tuple(c for c in found.children if c.date_of_birth < start)
    )
    summary = hmrc_summary(family, start)
    if not family.children or summary is None:
        return None
    return family, start, summary


def open_case(
    s: Session,
    family: Family,
    *,
    start: dt.date,
    summary: hmrc_api.GetSummaryOfEarnedIncomeResponse,
    rule_book: RuleBook,
) -> pb.Case:
    """One family's case, from application to its first calculation, by the services' own functions."""
    clock = ManualClock(dt.datetime.combine(start, dt.time(9), tzinfo=dt.UTC))
    request = family.create_case_request()
    request.application_date.CopyFrom(pb_date(start))
    created = cases.create(s, request=request, caller=LOADER, clock=clock)
    row = case_records.case_row(s, created.name.removeprefix("cases/"))
    checks = applications.Checks(
        nino_match=common.MatchResult(outcome=common.MATCH_OUTCOME_MATCHED),
        employment_status=pb.EMPLOYMENT_STATUS_EMPLOYED,
        # HMRC's answer for each child, recorded as gather_checks records it.
        qualifying={
            c.child_id: application_convert.benefit_status(
                hmrc_pb.ChildBenefitChildStatus(entitled=True, in_payment=True), clock.now()
            )
            for c in created.qualifying_children
        },
        cis_interest=True,
        hmrc_interest=True,
    )
    case = applications.record_checks(s, row=row, checks=checks, clock=clock)
    effective = day_of(case.initial_effective_date)
    assert effective is not None  # record_checks sets it when every check passed
    calc_input = calculation_rules.calculation_input(
        cases=[case],
        payer=case.paying_parent,
        income=calculation_rules.Income(summary, []),
        effective=effective,
        this_case=case,
    )
    calculation = calculation_service.create(
        db_session=s,
        case_reference=row.id,
        request_input=calc_input,
        reason=calc_pb.CALCULATION_REASON_INITIAL,
        rule_book=rule_book,
        clock=clock,
    )
    case, _plan = recording.record_calculation(
        s, row=row, calculation=calculation, reason=pb.CALCULATION_REASON_INITIAL, clock=clock
    )
    return case


def _columns(row: object) -> dict:
    table = row.__table__  # type: ignore[attr-defined]
    return {c.key: getattr(row, c.key) for c in table.columns}


def build_case(
    family: Family,
    *,
    start: dt.date,
    summary: hmrc_api.GetSummaryOfEarnedIncomeResponse,
    rule_book: RuleBook,
) -> dict[str, list[dict]]:
    """The rows `open_case` leaves for one family's case, by table, without a database: the same documents, built
    by the same functions wherever they do not need one (the clients' and the case's search columns by
    `clients.save` and `case_records.save`, the calculation input by casework's `calculation_input`, the decision
    by the calculation service's `evaluate` and `calculation_message`, the first segment's wording by the
    liability rules). Left out, as history a benchmark does not read: the letters, the audit entries and the first
    payment plan (the case's next decision issues one)."""
    now = dt.datetime.combine(start, dt.time(9), tzinfo=dt.UTC)
    clock = ManualClock(now)
    request = family.create_case_request()
    rows: dict[str, list[dict]] = {}

    # cases.service.create: the clients found by NINO or added (clients.find_or_add), the case as applied for.
    client_rows = []
    for given in (request.paying_parent, request.receiving_parent):
        client = pb.Client()
        client.CopyFrom(given)
        client_id = new_id()
        client.name = f"clients/{client_id}"
        client.identity.nino = normalise_nino(given.identity.nino)
        client.security_details.security_answer_set = False
        if given is request.paying_parent:
            # applications.flows.record_checks: the employment status HMRC gave, no DWP award.
            client.employment_and_income.employment_status = pb.EMPLOYMENT_STATUS_EMPLOYED
            client.employment_and_income.update_time.FromDatetime(now)
        row = ClientRecord(
            id=client_id,
            nino=client.identity.nino,
            document=b"",
            version=1,
            created_at=now,
            updated_at=now,
        )
        clients.save(row, client, clock)
        client_rows.append(row)
    payer, receiver = client_rows
    cid = new_id()
    case = pb.Case(
        name=f"cases/{cid}",
        state=pb.CASE_STATE_LIVE,
        workgroup=DEFAULT_WORKGROUP,
        service_type=pb.SERVICE_TYPE_DIRECT_PAY,
        payment_frequency=request.payment_frequency,
        applicant=pb.APPLICANT_ROLE_RECEIVING_PARENT,
    )
    case.paying_parent.CopyFrom(clients.document(payer))
    case.receiving_parent.CopyFrom(clients.document(receiver))
    for applied in request.qualifying_children:
        child = case.qualifying_children.add()
        child.CopyFrom(applied)
        child.child_id = new_id()[:8]
        child.parentage_disputed = False
        child.child_benefit.CopyFrom(
            application_convert.benefit_status(
                hmrc_pb.ChildBenefitChildStatus(entitled=True, in_payment=True), now
            )
        )
    case.application_date.CopyFrom(pb_date(start))
    case.create_time.FromDatetime(now)
    # record_checks: every check passed, so the case moves on; liability from the notification (reg 12).
    case.application_checks.CopyFrom(
        pb.ApplicationChecks(
            paying_parent_nino_verification=common.MatchResult(
                outcome=common.MATCH_OUTCOME_MATCHED
            ),
            paying_parent_employment_status=pb.EMPLOYMENT_STATUS_EMPLOYED,
            cis_interest_registered=True,
            hmrc_interest_registered=True,
        )
    )
    case.application_checks.check_time.FromDatetime(now)
    case.initial_effective_date.CopyFrom(pb_date(start))
    case.annual_review_date.CopyFrom(pb_date(years_after(start, 1)))

    # The initial calculation, as the calculation service's CreateCalculation makes and stores it.
    calc_input = calculation_rules.calculation_input(
        cases=[case],
        payer=case.paying_parent,
        income=calculation_rules.Income(summary, []),
        effective=start,
        this_case=case,
    )
    result, rule_set = calculation_service.evaluate(request_input=calc_input, rule_book=rule_book)
    calc_id = str(uuid.uuid4())
    calculation = calculation_convert.calculation_message(
        name=f"calculations/{calc_id}",
        case_reference=cid,
        reason=calc_pb.CALCULATION_REASON_INITIAL,
        request_input=calc_input,
        result=result,
        rules=rule_set,
        created=now,
    )
    rows["calculations"] = [
        _columns(
            StoredCalculation(
                id=calc_id,
                case_reference=cid,
                effective_date=start,
                rate=result.rate.value,
                rule_set_version=result.rule_set_version,
                calculation=calculation.SerializeToString(),
                created_at=now,
            )
        )
    ]

    # calculations.flows.record_calculation: the latest calculation on the case, its first liability segment.
    share = calculation_rules.share_of(calculation, case.name)
    rate = calc_pb.Rate.Name(calculation.rate).removeprefix("RATE_")
    latest = pb.LatestCalculation(
        calculation=calculation.name,
        weekly_amount_pence=share.weekly_amount_pence,
        rate=rate,
        effective_date=calculation.effective_date,
        gross_weekly_income_pence=calculation.gross_weekly_income_pence,
        income_basis=calc_pb.IncomeBasis.Name(calculation.income.basis).removeprefix(
            "INCOME_BASIS_"
        ),
        reason=pb.CALCULATION_REASON_INITIAL,
        periodic_amount=next(
            (p for p in share.received_periodic_amounts if p.frequency == case.payment_frequency),
            None,
        ),
        historic_weekly_income_pence=calculation.income.historic_weekly_income_pence,
        current_weekly_income_pence=calculation.income.current_weekly_income_pence,
    )
    latest.calculate_time.FromDatetime(now)
    case.latest_calculation.CopyFrom(latest)
    case.first_calculation_time.FromDatetime(now)
    segment_id, rebuild_id = new_id(), new_id()
    segment = pb.LiabilitySegment(
        name=f"cases/{cid}/liabilityTimeline/segments/{segment_id}",
        state=pb.LIABILITY_SEGMENT_STATE_CURRENT,
        rebuild=rebuild_id,
        calculation=calculation.name,
        weekly_amount_pence=share.weekly_amount_pence,
        rate=rate,
        rule_set_version=calculation.rule_set_version,
        reason=pb.CALCULATION_REASON_INITIAL,
        start_date=pb_date(start),
        decision_date=pb_date(start),
    )
    segment.explanation.explanation, segment.explanation.citation = liability_rules.explain(
        liability_rules.Wording(
            reason="INITIAL", start=start, weekly_pence=share.weekly_amount_pence, rate=rate
        )
    )
    segment.create_time.FromDatetime(now)
    rows["liability_segments"] = [
        {
            "id": segment_id,
            "case_id": cid,
            "state": liability.CURRENT,
            "start_date": start,
            "rebuild": rebuild_id,
            "document": segment.SerializeToString(),
            "created_at": now,
        }
    ]
    case_row = CaseRecord(
        id=cid,
        state="",
        paying_parent_nino=payer.nino,
        paying_parent_client_id=payer.id,
        receiving_parent_client_id=receiver.id,
        owner="",
        document=b"",
        version=1,
        created_at=now,
        updated_at=now,
    )
    case_records.save(case_row, case, clock)
    rows["clients"] = [_columns(r) for r in client_rows]
    rows["cases"] = [_columns(case_row)]
    return rows


def _scratch() -> Engine:
    engine = create_engine(
        "sqlite://", poolclass=StaticPool, connect_args={"check_same_thread": False}
    )
    Base.metadata.create_all(engine)
    return engine


def _copy(scratch: Engine, targets: dict[str, Engine], tables: dict[str, set[str]]) -> None:
    """Every row of the scratch database into the table of the same name in its target, one INSERT per table; then
    the scratch database is emptied."""
    with scratch.begin() as src:
        rows = {
            t.name: src.execute(select(t)).mappings().all()
            for t in Base.metadata.sorted_tables
            if t.name not in SKIPPED
        }
        for t in reversed(Base.metadata.sorted_tables):
            src.execute(delete(t))
    for service, engine in targets.items():
        with engine.begin() as dst:
            for t in Base.metadata.sorted_tables:
                if rows.get(t.name) and t.name in tables[service]:
                    # A serial key is the target's to number: the scratch database's numbers restart each batch.
                    serial = t.autoincrement_column
                    skip = serial.name if serial is not None else None
                    dst.execute(
                        t.insert(),
                        [{k: v for k, v in r.items() if k != skip} for r in rows[t.name]],
                    )


def _insert(
    built: dict[str, list[dict]], targets: dict[str, Engine], tables: dict[str, set[str]]
) -> None:
    for service, engine in targets.items():
        with engine.begin() as dst:
            for t in Base.metadata.sorted_tables:
                if built.get(t.name) and t.name in tables[service]:
                    dst.execute(t.insert(), built[t.name])


_CHUNK = 200  # households a worker reads at a time
_worker: tuple[Population, RuleBook] | None = None


def _init_worker(size: int, seed: int) -> None:
    global _worker
    _worker = (Population(size=size, seed=seed), RuleBook())


def _build_chunk(
    first: int, *, plan: Plan, checked_on: dt.date, given: tuple[Population, RuleBook] | None = None
) -> list[tuple[int, dict[str, list[dict]]]]:
    """(population index, rows) for each case of the families in households first.. first + _CHUNK."""
    population, rule_book = given or _worker or (Population(), RuleBook())
    out = []
    stop = min(population.size, first + _CHUNK * _HOUSEHOLD)
    for found, _ in caseload_families(on=checked_on, population=population, start=first):
        if found.index >= stop:
            break
        prepared = _prepared(found, plan)
        if prepared is not None:
            family, start, summary = prepared
            out.append(
                (
                    found.index,
                    build_case(family, start=start, summary=summary, rule_book=rule_book),
                )
            )
    return out


def load(
    *,
    casework_url: str,
    calculation_url: str,
    plan: Plan,
    population: Population | None = None,
    progress: Callable[[Loaded], None] | None = None,
    start: int = 0,
) -> Loaded:
    """Loads `plan.cases` live cases into the (migrated) casework and calculation databases, from the families at
    population index `start` on (a caseload grown in parts starts each part at the last one's `next_start`)."""
    population = population or Population()
    targets = {"casework": make_engine(casework_url), "calculation": make_engine(calculation_url)}
    existing = {name: set(inspect(e).get_table_names()) for name, e in targets.items()}
    tables = {
        "casework": existing["casework"] - CALCULATION_TABLES,
        "calculation": existing["calculation"] & CALCULATION_TABLES,
    }
    # The children on a case were entitled at the last monthly check, a month before the run.
    run = _Run(
        plan=plan,
        population=population,
        start=start,
        checked_on=plan.as_of - dt.timedelta(days=31),
        targets=targets,
        tables=tables,
        out=Loaded(next_start=start),
        progress=progress,
    )
    try:
        (_load_by_flows if plan.flows else _load_fast)(run)
    finally:
        for e in targets.values():
            e.dispose()
    out = run.out
    if out.cases < plan.cases:
        raise RuntimeError(
            f"the population of {population.size:,} holds only {out.cases:,} families from index {start:,}; "
            "a bigger one is needed"
        )
    out.seconds = time.perf_counter() - run.t0
    return out


@dataclass
class _Run:
    """One load: what it loads, where to, and its running count (`out`)."""

    plan: Plan
    population: Population
    start: int
    checked_on: dt.date
    targets: dict[str, Engine]
    tables: dict[str, set[str]]
    out: Loaded
    progress: Callable[[Loaded], None] | None
    t0: float = field(default_factory=time.perf_counter)

    def counted(self, index: int, case: pb.Case) -> None:
        out, plan = self.out, self.plan
        out.cases += 1
        out.next_start = index + _HOUSEHOLD
        out.qualifying_children += len(case.qualifying_children)
        out.reviews_due += day_of(case.annual_review_date) == plan.as_of + dt.timedelta(days=30)
        # What the monthly check on `as_of` will send, by the scheduler's own rule.
        checked = scheduler_rules.children_to_check(case, plan.as_of)
        out.cases_with_child_16_plus += bool(checked)
        out.children_on_those_cases += len(checked)

    def done_batch(self) -> None:
        self.out.seconds = time.perf_counter() - self.t0
        if self.progress is not None:
            self.progress(self.out)


def _load_fast(run: _Run) -> None:
    plan, population, out = run.plan, run.population, run.out
    first = run.start - run.start % _HOUSEHOLD
    chunks = range(first, population.size, _CHUNK * _HOUSEHOLD)
    build = functools.partial(_build_chunk, plan=plan, checked_on=run.checked_on)
    pool = None
    if plan.workers > 1:
        pool = multiprocessing.get_context("fork").Pool(
            plan.workers, _init_worker, (population.size, population.seed)
        )
        results: Iterator = pool.imap(build, chunks)
    else:
        results = (build(c, given=(population, RuleBook())) for c in chunks)
    try:
        built: dict[str, list[dict]] = {}
        pending = 0
        d0 = time.perf_counter()
        for chunk in results:
            for index, rows in chunk:
                if out.cases == plan.cases:
                    break
                for table, table_rows in rows.items():
                    built.setdefault(table, []).extend(table_rows)
                run.counted(index, pb.Case.FromString(rows["cases"][0]["document"]))
                pending += 1
            if pending >= plan.batch or (pending and out.cases == plan.cases):
                c0 = time.perf_counter()
                out.domain_seconds += c0 - d0
                _insert(built, run.targets, run.tables)
                d0 = time.perf_counter()
                out.copy_seconds += d0 - c0
                built, pending = {}, 0
                run.done_batch()
            if out.cases == plan.cases:
                return
        if pending:  # the population ran out mid-batch: what was built is kept
            _insert(built, run.targets, run.tables)
    finally:
        if pool is not None:
            pool.terminate()
            pool.join()


def _load_by_flows(run: _Run) -> None:
    plan, out = run.plan, run.out
    rule_book = RuleBook()
    scratch = _scratch()
    families = caseload_families(on=run.checked_on, population=run.population, start=run.start)
    try:
        while out.cases < plan.cases:
            d0 = time.perf_counter()
            taken = 0
            with Session(scratch) as s, s.begin():
                for found, _ in families:
                    prepared = _prepared(found, plan)
                    if prepared is None:
                        continue
                    family, day, summary = prepared
                    case = open_case(s, family, start=day, summary=summary, rule_book=rule_book)
                    run.counted(found.index, case)
                    taken += 1
                    if taken == plan.batch or out.cases == plan.cases:
                        break
            if not taken:
                return
            c0 = time.perf_counter()
            out.domain_seconds += c0 - d0
            _copy(scratch, run.targets, run.tables)
            out.copy_seconds += time.perf_counter() - c0
            run.done_batch()
    finally:
        scratch.dispose()
