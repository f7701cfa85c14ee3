"""The fault suite: the five services as separate processes on a private PostgreSQL and a Tansu broker, a steady
workload driven through gRPC as real clients drive it, faults injected while it runs, and a census of what came out.

Workload: separated families of the shared synthetic population (cms_devkit.families); for each, CreateCase and
CalculateCase as a caseworker, then a DWP award of income-based Jobseeker's Allowance to the paying parent
(DwpScenarioService.StartBenefitAward, as a scenario admin), which dwp-gateway broadcasts on Kafka to the interest
the application checks registered, and casework turns into a change of benefit details, applies and recalculates
(the flat rate, reg 44 of the 2012 Regulations), issuing a new payment plan when that moved the liability (a paying
parent already at the flat rate keeps the plan he has). Every mutating call is retried on
UNAVAILABLE, DEADLINE_EXCEEDED and ABORTED with the same request id, after the server's RetryInfo delay when it gives
one, as the contracts ask of clients.

Faults (each while the workload runs): SIGKILL of each service in turn, restarted at once; the broker SIGKILLed and
restarted empty twice in quick succession; a PostgreSQL restart; a gateway SIGKILLed and kept down for 30 s before it
starts again (casework's deadlines, retries and breaker meet a dead downstream).

Census, per effect kind, from the services' own answers (Get/List over gRPC) and from casework's topic (distinct
CloudEvent ids per logical effect): attempted, acknowledged, found, lost (acknowledged but not found), duplicated (one
logical effect twice: two cases for one family, two changes for one award, two stored recalculations for one change,
one event under two ids) and the time each kind took to converge after the workload ended.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import shutil
import tempfile
import threading
import time
import uuid
from collections import Counter, defaultdict
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

import grpc
from google.type import date_pb2

from cms.calculation.v1 import calculation_service_pb2 as calc_api
from cms.calculation.v1 import calculation_service_pb2_grpc as calc_grpc
from cms.calculation.v1 import resources_pb2 as calc_pb
from cms.casework.v1 import casework_service_pb2 as api
from cms.casework.v1 import casework_service_pb2_grpc as api_grpc
from cms.casework.v1 import events_pb2 as ev
from cms.casework.v1 import resources_pb2 as pb
from cms.common.v1 import types_pb2 as common
from cms.dwp.v1 import dwp_scenario_service_pb2 as dwp_api
from cms.dwp.v1 import dwp_scenario_service_pb2_grpc as dwp_grpc
from cms.dwp.v1 import resources_pb2 as dwp_pb
from cms_platform import events
from cms_platform.grpc_errors import retry_delay_of
from cms_platform.identity import staff_caller

from . import infra
from .families import Family, families
from .issuer import SERVICES as AUDIENCES
from .issuer import LocalIssuer
from .stack import SERVICES, Stack

T = TypeVar("T")

RETRIED = (
    grpc.StatusCode.UNAVAILABLE,
    grpc.StatusCode.DEADLINE_EXCEEDED,
    grpc.StatusCode.ABORTED,
)
# Income-based Jobseeker's Allowance for a single person aged 25 or over, 2025-26: puts the case on the flat rate.
JSA_WEEKLY_PENCE = 92_05
TOPIC = events.topic_of(ev.CaseCreated)
CONVERGENCE_LIMIT_SECONDS = 60.0

# ---- the stack under test --------------------------------------------------------------------------------------


@dataclass
class Harness:
    """What the faults act on: the services' processes, the broker and the database server, all its own."""

    stack: Stack
    broker: infra.TansuBroker
    postgres: infra.PrivatePostgres
    issuer: LocalIssuer
    var: Path

    def metadata(self, role: str) -> tuple[tuple[str, str], ...]:
        token = self.issuer.mint(
            staff_caller(f"faults-{role}", role), audience=AUDIENCES, ttl=4 * 3600
        )
        return (("authorization", "Bearer " + token),)


@contextlib.contextmanager
def harness(var: Path | None = None, *, keep: bool = False) -> Iterator[Harness]:
    """Starts a private PostgreSQL server, Tansu on a port of its own and the five services; stops all of it.
    The services' logs stay in `var`/logs (a temporary directory, removed unless `keep`)."""
    own_var = var is None
    var = var or Path(tempfile.mkdtemp(prefix="cms-faults-"))
    postgres = infra.start_private_postgres()
    broker: infra.TansuBroker | None = None
    stack: Stack | None = None
    try:
        broker = infra.start_tansu()
        issuer = LocalIssuer.create(var / "identity")
        stack = Stack(
            var=var,
            bootstrap=broker.bootstrap,
            addresses={s.name: f"127.0.0.1:{infra.free_port()}" for s in SERVICES},
            issuer=issuer,
            postgres=postgres.url,
            inherit=False,
            extra={"SHUTDOWN_GRACE_SECONDS": "2", "LOG_FORMAT": "console"},
        )
        stack.write_service_tokens(ttl=4 * 3600)
        stack.start_all()
        yield Harness(stack, broker, postgres, issuer, var)
    finally:
        if stack is not None:
            stack.stop_all(timeout=15)
        if broker is not None:
            broker.stop()
        postgres.stop()
        if own_var and not keep:
            shutil.rmtree(var, ignore_errors=True)


# ---- clients -------------------------------------------------------------------------------------------------


@dataclass
class CallStats:
    """Logical calls by RPC, retried answers by status code, and calls never acknowledged by RPC and code."""

    calls: Counter = field(default_factory=Counter)
    retries: Counter = field(default_factory=Counter)
    failures: Counter = field(default_factory=Counter)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def note(self, counter: Counter, key: str) -> None:
        with self.lock:
            counter[key] += 1


def call_retrying(
    rpc: str,
    call: Callable[[], T],
    stats: CallStats,
    *,
    give_up_after: float,
    stop: threading.Event | None = None,
) -> T | None:
    """One logical call as a client makes it: the same request again on a transient answer, with backoff (the
    server's RetryInfo delay when it sends one), for up to `give_up_after` seconds. None: not acknowledged."""
    stats.note(stats.calls, rpc)
    deadline = time.monotonic() + give_up_after
    backoff = 0.2
    while True:
        try:
            return call()
        except grpc.RpcError as err:
            code = err.code()
            if code not in RETRIED or time.monotonic() > deadline:
                stats.note(stats.failures, f"{rpc} {code.name}")
                return None
            stats.note(stats.retries, code.name)
            hinted = retry_delay_of(err) if code == grpc.StatusCode.UNAVAILABLE else None
            delay = backoff if hinted is None else hinted
            backoff = min(backoff * 2, 2.0)
            if stop is not None and stop.is_set():
                stats.note(stats.failures, f"{rpc} {code.name}")
                return None
            time.sleep(min(max(delay, 0.05), 2.0))


# ---- the workload --------------------------------------------------------------------------------------------


@dataclass
class FamilyRun:
    family: Family
    create_request: api.CreateCaseRequest
    case: str = ""  # cases/<id>, once acknowledged
    created: bool = False
    calculate_attempted: bool = False
    calculated: bool = False
    award_attempted: bool = False
    awarded: bool = False
    # Whether the award moves the liability (the first calculation was not already at the flat rate): only then does
    # casework issue a new payment plan for it.
    award_moves: bool = True
    done: bool = False  # the client has finished with it (every call acknowledged or given up)


@dataclass
class Workload:
    """Families driven end to end by `workers` client threads, each pausing `pause` seconds between families."""

    harness: Harness
    min_families: int
    workers: int = 3
    pause: float = 0.3
    give_up_after: float = 120.0
    today: dt.date = field(default_factory=dt.date.today)  # the services run on the wall clock
    runs: list[FamilyRun] = field(default_factory=list)
    stats: CallStats = field(default_factory=CallStats)
    faults_done: threading.Event = field(default_factory=threading.Event)
    abort: threading.Event = field(default_factory=threading.Event)
    ended_at: float = 0.0

    def __post_init__(self) -> None:
        self._lock = threading.Lock()
        seen: set[str] = set()
        # One family per paying parent: an award is broadcast to every case of its claimant.
        self._families = (
            f
            for f in families(on=self.today, plain=True)
            if not (f.payer.nino in seen or seen.add(f.payer.nino))  # type: ignore[func-returns-value]
        )
        stack = self.harness.stack
        self._casework = grpc.insecure_channel(stack.addresses["casework"])
        self._dwp = grpc.insecure_channel(stack.addresses["dwp-gateway"])
        self.cases = api_grpc.CaseworkServiceStub(self._casework)
        self.dwp = dwp_grpc.DwpScenarioServiceStub(self._dwp)
        self.caseworker = self.harness.metadata("caseworker")
        self.admin = self.harness.metadata("scenario_admin")

    def close(self) -> None:
        self._casework.close()
        self._dwp.close()

    def started(self) -> int:
        with self._lock:
            return len(self.runs)

    def completed(self) -> int:
        with self._lock:
            return sum(1 for r in self.runs if r.done)

    def _next(self) -> FamilyRun | None:
        with self._lock:
            if self.abort.is_set() or (
                self.faults_done.is_set() and len(self.runs) >= self.min_families
            ):
                return None
            run = FamilyRun(family := next(self._families), family.create_case_request())
            self.runs.append(run)
            return run

    def _retrying(self, rpc: str, call: Callable[[], T]) -> T | None:
        return call_retrying(
            rpc, call, self.stats, give_up_after=self.give_up_after, stop=self.abort
        )

    def drive(self, run: FamilyRun) -> None:
        created = self._retrying(
            "CreateCase",
            lambda: self.cases.CreateCase(run.create_request, metadata=self.caseworker, timeout=5),
        )
        if created is None:
            return
        run.created, run.case = True, created.name
        calculate = api.CalculateCaseRequest(request_id=str(uuid.uuid4()), name=created.name)
        run.calculate_attempted = True
        calculated = self._retrying(
            "CalculateCase",
            lambda: self.cases.CalculateCase(calculate, metadata=self.caseworker, timeout=15),
        )
        if calculated is None:
            return
        run.calculated = True
        run.award_moves = calculated.latest_calculation.rate != "FLAT"
        award = dwp_api.StartBenefitAwardRequest(
            request_id=str(uuid.uuid4()),
            nino=run.family.payer.nino,
            benefit_type=dwp_pb.BENEFIT_TYPE_JOBSEEKERS_ALLOWANCE_INCOME_BASED,
            start_date=date_pb2.Date(
                year=self.today.year, month=self.today.month, day=self.today.day
            ),
            amount=common.PeriodicAmount(
                frequency=common.PAYMENT_FREQUENCY_WEEKLY, amount_pence=JSA_WEEKLY_PENCE
            ),
        )
        run.award_attempted = True
        run.awarded = (
            self._retrying(
                "StartBenefitAward",
                lambda: self.dwp.StartBenefitAward(award, metadata=self.admin, timeout=10),
            )
            is not None
        )

    def _worker(self) -> None:
        while (run := self._next()) is not None:
            try:
                self.drive(run)
            finally:
                run.done = True
            if self.pause:
                time.sleep(self.pause)

    def run_while(self, faults: Callable[[], None]) -> None:
        """Runs the workload while `faults()` runs, and until at least `min_families` have started."""
        threads = [
            threading.Thread(target=self._worker, name=f"workload-{n}", daemon=True)
            for n in range(self.workers)
        ]
        for t in threads:
            t.start()
        try:
            faults()
        finally:
            self.faults_done.set()
            for t in threads:
                t.join()
            self.ended_at = time.monotonic()


# ---- faults --------------------------------------------------------------------------------------------------


@dataclass
class Injected:
    label: str
    at: float  # seconds from the workload's start
    took: float
    wall: str = ""  # when, UTC, to match against the services' logs and records


@dataclass
class Fault:
    label: str
    act: Callable[[Harness], None]


def kill_service(name: str, down: float = 0.0) -> Fault:
    """SIGKILL of `name`, started again after `down` seconds (at once by default)."""

    def act(h: Harness) -> None:
        h.stack.kill(name)
        time.sleep(down)
        h.stack.restart(name)

    label = f"kept down {down:.0f} s" if down else "restarted"
    return Fault(f"SIGKILL {name}, {label}", act)


def broker_loss(gap: float = 3.0) -> Fault:
    def act(h: Harness) -> None:
        h.broker.restart()
        time.sleep(gap)
        h.broker.restart()

    return Fault(f"broker SIGKILLed and restarted empty, twice {gap:.0f} s apart", act)


def postgres_restart(down: float = 3.0) -> Fault:
    def act(h: Harness) -> None:
        h.postgres.halt()
        time.sleep(down)
        h.postgres.resume()

    return Fault(f"PostgreSQL stopped for {down:.0f} s and started again", act)


def gateway_outage(name: str = "hmrc-gateway", seconds: float = 30.0) -> Fault:
    return kill_service(name, down=seconds)


SCENARIOS: dict[str, Callable[[int], list[Fault]]] = {
    "kill-services": lambda rounds: [kill_service(s.name) for _ in range(rounds) for s in SERVICES],
    "broker-loss": lambda _rounds: [broker_loss()],
    "postgres-restart": lambda _rounds: [postgres_restart()],
    "gateway-outage": lambda _rounds: [gateway_outage()],
}


def run_faults(
    h: Harness,
    workload: Workload,
    faults: Sequence[Fault],
    *,
    settle: float,
    warm_up: int,
    injected: list[Injected],
    log: Callable[[str], None],
) -> None:
    """Waits for `warm_up` families to finish, then injects each fault with `settle` seconds of workload between."""
    start = time.monotonic()
    while workload.completed() < warm_up and not workload.abort.is_set():
        time.sleep(0.2)
    for fault in faults:
        began, wall = time.monotonic(), f"{dt.datetime.now(dt.UTC):%H:%M:%S}"
        log(f"  {began - start:6.1f} s  {fault.label}")
        fault.act(h)
        injected.append(Injected(fault.label, began - start, time.monotonic() - began, wall))
        time.sleep(settle)


# ---- the census ----------------------------------------------------------------------------------------------


@dataclass
class Row:
    effect: str
    attempted: int
    acknowledged: int
    found: int = 0
    lost: int = 0
    duplicated: int = 0
    converged: float | None = None  # seconds after the workload ended; None: not within the limit
    lost_in: list[str] = field(default_factory=list)  # the cases concerned, for the report
    duplicated_in: list[str] = field(default_factory=list)

    def tally(
        self, case: str, *, expected: int, found: int, duplicated: int = 0, detail: str = ""
    ) -> None:
        """One family's share: `expected` effects acknowledged, `found` of them found (at most expected);
        `detail` goes beside the case in the report when it has a duplicate."""
        found = min(found, expected)
        self.found += found
        self.lost += expected - found
        self.duplicated += duplicated
        if expected > found:
            self.lost_in.append(case)
        if duplicated:
            self.duplicated_in.append(f"{case} ({detail})" if detail else case)


def _benefit_change_completed(b: bytes) -> tuple[str, str] | None:
    m = ev.ChangeOfCircumstancesCompleted.FromString(b)
    if m.type != pb.CHANGE_OF_CIRCUMSTANCES_TYPE_CHANGE_BENEFIT_DETAILS:
        return None
    return m.case_id, m.change_of_circumstances


# Each event type's (case id, logical effect): one effect published under two CloudEvent ids is a duplicate.
EVENT_KEYS: dict[str, Callable[[bytes], tuple[str, str] | None]] = {
    events.event_type(ev.CaseCreated): lambda b: (
        (m := ev.CaseCreated.FromString(b)).case_id,
        m.case_id,
    ),
    events.event_type(ev.CaseCalculated): lambda b: (
        (m := ev.CaseCalculated.FromString(b)).case_id,
        m.calculation,
    ),
    events.event_type(ev.PaymentPlanIssued): lambda b: (
        (m := ev.PaymentPlanIssued.FromString(b)).case_id,
        m.payment_plan,
    ),
    events.event_type(ev.ChangeOfCircumstancesCompleted): _benefit_change_completed,
}
EVENT_LABELS = {
    events.event_type(ev.CaseCreated): "events: CaseCreated",
    events.event_type(ev.CaseCalculated): "events: CaseCalculated",
    events.event_type(ev.PaymentPlanIssued): "events: PaymentPlanIssued",
    events.event_type(ev.ChangeOfCircumstancesCompleted): "events: benefit change completed",
}


def read_topic(bootstrap: str, topic: str, timeout: float = 20.0) -> list[Any]:
    """Every record on the topic now, from the start of each partition to its end (no consumer group)."""
    from kafka import KafkaConsumer, TopicPartition

    consumer = KafkaConsumer(bootstrap_servers=bootstrap, group_id=None, enable_auto_commit=False)
    try:
        partitions = consumer.partitions_for_topic(topic) or set()
        tps = [TopicPartition(topic, p) for p in partitions]
        if not tps:
            return []
        consumer.assign(tps)
        consumer.seek_to_beginning(*tps)
        ends = consumer.end_offsets(tps)
        records: list[Any] = []
        deadline = time.monotonic() + timeout
        while any(consumer.position(tp) < ends[tp] for tp in tps):
            if time.monotonic() > deadline:
                raise TimeoutError(f"could not read {topic} to its end in {timeout} s")
            for batch in consumer.poll(timeout_ms=200).values():
                records.extend(batch)
        return records
    finally:
        consumer.close()


@dataclass
class CaseFacts:
    cases: list[pb.Case]
    benefit_changes: list[pb.ChangeOfCircumstances]
    plans: list[pb.PaymentPlan]
    calculations: list[calc_pb.Calculation]


def _listed(rpc: Callable[..., Any], request: Any, field: str, metadata: Any) -> list[Any]:
    """Every item of a paged List call: the request again with each next_page_token until there is none."""
    out: list[Any] = []
    while True:
        response = rpc(request, metadata=metadata, timeout=5)
        out.extend(getattr(response, field))
        if not response.next_page_token:
            return out
        request.page_token = response.next_page_token


class Census:
    """Counts the workload's effects as the services answer for them now."""

    def __init__(self, h: Harness, workload: Workload) -> None:
        self.h = h
        self.workload = workload
        self._channels = [
            grpc.insecure_channel(h.stack.addresses[n]) for n in ("casework", "calculation")
        ]
        self.cases = api_grpc.CaseworkServiceStub(self._channels[0])
        self.calcs = calc_grpc.CalculationServiceStub(self._channels[1])
        self.meta = h.metadata("caseworker")

    def close(self) -> None:
        for channel in self._channels:
            channel.close()

    def _facts(self, run: FamilyRun) -> CaseFacts:
        meta, stub = self.meta, self.cases
        cases = _listed(
            stub.ListCases,
            api.ListCasesRequest(paying_parent_nino=run.family.payer.nino, page_size=50),
            "cases",
            meta,
        )
        facts = CaseFacts(cases, [], [], [])
        for case in cases:
            facts.benefit_changes += _listed(
                stub.ListChangesOfCircumstances,
                api.ListChangesOfCircumstancesRequest(
                    parent=case.name,
                    type=pb.CHANGE_OF_CIRCUMSTANCES_TYPE_CHANGE_BENEFIT_DETAILS,
                    page_size=50,
                ),
                "changes_of_circumstances",
                meta,
            )
            facts.plans += _listed(
                stub.ListPaymentPlans,
                api.ListPaymentPlansRequest(parent=case.name, page_size=50),
                "payment_plans",
                meta,
            )
            facts.calculations += _listed(
                self.calcs.ListCalculations,
                calc_api.ListCalculationsRequest(
                    case_reference=case.name.removeprefix("cases/"), page_size=50
                ),
                "calculations",
                meta,
            )
        return facts

    def count(self) -> list[Row]:
        runs = list(self.workload.runs)
        with ThreadPoolExecutor(4) as pool:
            facts = list(pool.map(self._facts, runs))
        rows = {
            "cases": Row("cases (records)", len(runs), sum(r.created for r in runs)),
            "initial": Row(
                "initial calculations",
                sum(r.calculate_attempted for r in runs),
                sum(r.calculated for r in runs),
            ),
            "changes": Row(
                "benefit changes applied",
                sum(r.award_attempted for r in runs),
                sum(r.awarded for r in runs),
            ),
            "recalc": Row(
                "recalculations",
                sum(r.award_attempted for r in runs),
                sum(r.awarded for r in runs),
            ),
            "plans": Row(
                "payment plans",
                sum(r.calculate_attempted + (r.award_attempted and r.award_moves) for r in runs),
                sum(r.calculated + (r.awarded and r.award_moves) for r in runs),
            ),
        }
        case_ids: list[set[str]] = []
        for run, f in zip(runs, facts, strict=True):
            name = run.case or "(no case)"
            case = f.cases[0] if f.cases else None
            case_ids.append({c.name.removeprefix("cases/") for c in f.cases})
            initial = [c for c in f.calculations if c.reason == calc_pb.CALCULATION_REASON_INITIAL]
            recalcs = [
                c
                for c in f.calculations
                if c.reason == calc_pb.CALCULATION_REASON_CHANGE_OF_CIRCUMSTANCES
            ]
            applied = [
                c for c in f.benefit_changes if c.state == pb.CHANGE_OF_CIRCUMSTANCES_STATE_APPLIED
            ]
            recalculated = (
                case is not None
                and case.latest_calculation.reason == pb.CALCULATION_REASON_CHANGE_OF_CIRCUMSTANCES
                and case.latest_calculation.rate == "FLAT"
            )
            rows["cases"].tally(
                name,
                expected=int(run.created),
                found=int(case is not None),
                duplicated=max(0, len(f.cases) - 1),
            )
            rows["initial"].tally(
                name,
                expected=int(run.calculated),
                found=int(case is not None and case.state == pb.CASE_STATE_LIVE and bool(initial)),
                duplicated=max(0, len(initial) - 1),
            )
            rows["changes"].tally(
                name,
                expected=int(run.awarded),
                found=int(bool(applied)),
                duplicated=max(0, len(f.benefit_changes) - 1),
            )
            rows["recalc"].tally(
                name,
                expected=int(run.awarded),
                found=int(recalculated),
                duplicated=max(0, len(recalcs) - 1),
                detail=(
                    "stored: "
                    + ", ".join(
                        f"{c.name} at {c.create_time.ToDatetime():%H:%M:%S.%f}" for c in recalcs
                    )
                    + f"; the case names {case.latest_calculation.calculation if case else '-'}"
                ),
            )
            # One plan for the first calculation, one for the award's when the flat rate moves the liability.
            by_calculation = Counter(p.calculation for p in f.plans)
            rows["plans"].tally(
                name,
                expected=run.calculated + (run.awarded and run.award_moves),
                found=len(by_calculation),
                duplicated=sum(n - 1 for n in by_calculation.values())
                + max(0, len(by_calculation) - (run.calculate_attempted + run.award_attempted)),
            )
        return [*rows.values(), *self._events(runs, case_ids)]

    def _events(self, runs: list[FamilyRun], case_ids: list[set[str]]) -> list[Row]:
        """Per event type, the logical effects casework's topic holds for each family's cases, against what the
        acknowledged calls imply: a case created; a calculation and a plan for the first calculation and for the
        award's recalculation; the award's change completed."""
        seen: dict[str, dict[str, dict[str, set[str]]]] = {
            t: defaultdict(lambda: defaultdict(set)) for t in EVENT_KEYS
        }
        for record in read_topic(self.h.broker.bootstrap, TOPIC):
            headers = {k: v.decode() for k, v in record.headers or ()}
            kind = headers.get("ce_type", "")
            if kind in EVENT_KEYS and (key := EVENT_KEYS[kind](record.value)) is not None:
                seen[kind][key[0]][key[1]].add(headers.get("ce_id", ""))
        # (acknowledged, attempted): an effect of a call given up on may exist without being a duplicate.
        expected: dict[str, Callable[[FamilyRun], tuple[int, int]]] = {
            events.event_type(ev.CaseCreated): lambda r: (int(r.created), 1),
            events.event_type(ev.CaseCalculated): lambda r: (
                r.calculated + r.awarded,
                r.calculate_attempted + r.award_attempted,
            ),
            events.event_type(ev.PaymentPlanIssued): lambda r: (
                r.calculated + (r.awarded and r.award_moves),
                r.calculate_attempted + r.award_attempted,
            ),
            events.event_type(ev.ChangeOfCircumstancesCompleted): lambda r: (
                int(r.awarded),
                int(r.award_attempted),
            ),
        }
        rows = []
        for kind, label in EVENT_LABELS.items():
            row = Row(label, 0, 0)
            for run, ids in zip(runs, case_ids, strict=True):
                want, could = expected[kind](run)
                effects = {k: v for case in ids for k, v in seen[kind].get(case, {}).items()}
                row.attempted += want
                row.acknowledged += want
                row.tally(
                    run.case,
                    expected=want,
                    found=len(effects),
                    duplicated=sum(len(v) - 1 for v in effects.values())
                    + max(0, len(effects) - could),
                )
            rows.append(row)
        return rows


def converge(census: Census, since: float, limit: float, log: Callable[[str], None]) -> list[Row]:
    """Counts again and again until nothing is lost or `limit` seconds have passed since `since`; each row's
    converged time is when it first showed nothing lost (and kept it). A last count after two seconds more catches
    a late duplicate."""
    first_whole: dict[str, float] = {}
    while True:
        try:
            rows = census.count()
        except (grpc.RpcError, TimeoutError) as exc:  # a service still coming back: count again
            log(f"  census incomplete ({type(exc).__name__}); counting again")
            time.sleep(1.0)
            if time.monotonic() - since > limit:
                raise
            continue
        now = time.monotonic() - since
        for row in rows:
            if row.lost == 0:
                first_whole.setdefault(row.effect, now)
            else:
                first_whole.pop(row.effect, None)
        if all(r.lost == 0 for r in rows) or now > limit:
            break
        time.sleep(1.0)
    if all(r.lost == 0 for r in rows):
        time.sleep(2.0)
        rows = census.count()
    for row in rows:
        row.converged = first_whole.get(row.effect) if row.lost == 0 else None
    return rows


# ---- the report ----------------------------------------------------------------------------------------------


@dataclass
class Outcome:
    rows: list[Row]
    injected: list[Injected]
    stats: CallStats
    families: int
    workload_seconds: float
    crashed: dict[str, int]
    limit: float = CONVERGENCE_LIMIT_SECONDS

    @property
    def failures(self) -> list[str]:
        out = [f"{r.effect}: {r.lost} lost" for r in self.rows if r.lost]
        out += [f"{r.effect}: {r.duplicated} duplicated" for r in self.rows if r.duplicated]
        out += [
            f"{r.effect}: converged after {r.converged:.1f} s (limit {self.limit:.0f} s)"
            for r in self.rows
            if r.converged is not None and r.converged > self.limit
        ]
        out += [f"{name} exited by itself with {code}" for name, code in self.crashed.items()]
        # Every request is valid and every fault ends: a call refused, or retried for 120 s in vain, is a defect.
        out += [f"{key}: {n} calls not acknowledged" for key, n in self.stats.failures.items()]
        if not any(r.acknowledged for r in self.rows):
            out.append("the workload had nothing acknowledged")
        return out

    def table(self) -> str:
        head = (
            f"| {'effect':<32} | {'attempted':>9} | {'acknowledged':>12} | {'found':>6} | {'lost':>5} | "
            f"{'duplicated':>10} | {'converged':>9} |"
        )
        lines = [head, "|" + "|".join("-" * (len(c)) for c in head.split("|")[1:-1]) + "|"]
        for r in self.rows:
            conv = f"{r.converged:.1f} s" if r.converged is not None else "no"
            lines.append(
                f"| {r.effect:<32} | {r.attempted:>9} | {r.acknowledged:>12} | {r.found:>6} | {r.lost:>5} | "
                f"{r.duplicated:>10} | {conv:>9} |"
            )
        return "\n".join(lines)

    def markdown(self, title: str) -> str:
        faults = "\n".join(
            f"- at {i.at:.1f} s ({i.wall} UTC): {i.label} (took {i.took:.1f} s)"
            for i in self.injected
        )
        retries = ", ".join(f"{k} x{v}" for k, v in self.stats.retries.most_common()) or "none"
        failed = ", ".join(f"{k} x{v}" for k, v in self.stats.failures.most_common()) or "none"
        where = "\n".join(
            f"- {r.effect}: {what} in {', '.join(cases[:5])}{' ...' if len(cases) > 5 else ''}"
            for r in self.rows
            for what, cases in (("lost", r.lost_in), ("duplicated", r.duplicated_in))
            if cases
        )
        verdict = (
            f"PASS: nothing lost, nothing duplicated, converged within {self.limit:.0f} s"
            if not self.failures
            else "FAIL:\n" + "\n".join(f"- {f}" for f in self.failures)
        )
        return (
            f"# {title}\n\n"
            f"Workload: {self.families} families over {self.workload_seconds:.0f} s; calls "
            f"{sum(self.stats.calls.values())}; retried answers: {retries}; calls not acknowledged: {failed}.\n\n"
            f"Faults injected (seconds from the workload's start):\n{faults or '- none'}\n\n"
            f"{self.table()}\n\n"
            "converged: seconds from the end of the workload until every acknowledged effect of the kind was found.\n\n"
            + (f"Where (the first cases of each):\n{where}\n\n" if where else "")
            + f"{verdict}\n"
        )


def run(
    faults: Sequence[Fault],
    *,
    min_families: int,
    workers: int = 3,
    pause: float = 0.3,
    settle: float = 3.0,
    warm_up: int = 2,
    limit: float = CONVERGENCE_LIMIT_SECONDS,
    var: Path | None = None,
    keep: bool = False,
    log: Callable[[str], None] = print,
) -> Outcome:
    """Starts everything, drives the workload while the faults are injected, counts until converged, stops."""
    with harness(var, keep=keep) as h:
        log(
            f"stack up: broker {h.broker.bootstrap}, PostgreSQL {h.postgres.url.rsplit('@', 1)[-1]}"
        )
        workload = Workload(h, min_families, workers=workers, pause=pause)
        injected: list[Injected] = []
        started = time.monotonic()
        try:
            workload.run_while(
                lambda: run_faults(
                    h, workload, faults, settle=settle, warm_up=warm_up, injected=injected, log=log
                )
            )
        except BaseException:
            workload.abort.set()
            raise
        finally:
            workload.close()
        log(
            f"workload done: {len(workload.runs)} families in {workload.ended_at - started:.0f} s; counting"
        )
        crashed = h.stack.exited()
        census = Census(h, workload)
        try:
            rows = converge(census, workload.ended_at, limit, log)
        finally:
            census.close()
        return Outcome(
            rows,
            injected,
            workload.stats,
            len(workload.runs),
            workload.ended_at - started,
            crashed,
            limit,
        )


__all__ = [
    "SCENARIOS",
    "Fault",
    "Outcome",
    "broker_loss",
    "gateway_outage",
    "kill_service",
    "postgres_restart",
    "run",
]
