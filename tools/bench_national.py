"""`make bench-national`: the national runs on a national caseload, on PostgreSQL (issue 19, item 1).

Starts the broker and the five services as separate processes (bench_rpc's stack: free ports, fresh databases
`cms_bench_national_<svc>`, or `--db-prefix`'s, on CMS_POSTGRES_URL's server or 127.0.0.1:5432), loads N live cases
from the synthetic population into casework's and calculation's databases (cms_devkit.caseload; docs/benchmarks.md,
"How the caseload is built"), then measures, in one run, each figure next to its target:

  baseline  grpc Health/Check calls/s against casework (no interceptors: the machine's own RPC rate);
  a. the monthly Child Benefit check: RunScheduledWork(MONTHLY_CHILD_BENEFIT_CHECK) on casework, end to end (the
     stream to hmrc-gateway and the recalculations of the cases whose children left), children/s;
  b. the reform what-if over the whole caseload: StartReformWhatIf, polled with GetReformWhatIf until it succeeds
     (casework reads each case's decision and calculates it again through calculation's BulkCalculate), cases/s and
     the time 1,000,000 cases would take at that rate, and the rate as a multiple of (c); beside it, the
     BulkCalculate stage alone on the caseload's own inputs;
  c. the calculation engine in process on one core (bench_calc.bench_in_process, explain=False, varied inputs);
  d. a day's annual reviews, stored: RunScheduledWork(ANNUAL_REVIEW) over the cases due, cases/s;
  e. event to recalculated liability at a steady rate: income-based JSA awards started through dwp-gateway's
     scenario service at 20 a second for 60 s, each timed from its CIS broadcast's publish (the record's Kafka
     timestamp) to casework's CaseCalculated seen on its topic (bench_events.Reader), p50 and p99;
  f. the charge and payment runs: accounts built as bench_money builds them, then RunScheduledWork(ACCOUNT_CHARGES)
     and (PAYMENT_RUN), accounts/s;
  g. each service's resident memory (VmRSS now, VmHWM peak) with the caseload loaded and worked on;
  h. with --curve, the caseload grown to 10,000, 100,000 and 1,000,000 cases (--quick: 1,000, 2,000, 4,000) with
     (a), (b) and (d) at each size and their cost per case; flat means the largest size costs at most 1.5 times
     the cheapest smaller size per case (the first size also pays the services' cold start).

With `--replicas N` (1 to 6; default 0, the above) the national runs are partitioned
(CASEWORK_NATIONAL_RUNS_PARTITIONED, chunks of `--chunk-size` cases or casework's default of 100): casework runs as N
processes on its one database and broker (cms_devkit.stack's replicas: ports and metrics ports of their own, sharing
the national runs' consumer group), measured once each holds its share of the work topic's partitions (6, fixed by
its contract: a seventh replica would get none). RunScheduledWork then answers once the run is issued, so (a) and (d)
are timed from the request to the run's `national_runs.completed_at` (polled read-only in casework's database), (b)
as before to GetReformWhatIf's SUCCEEDED; under each, the chunks each casework process did and the CPU every process
spent. The sizing table takes a partitioned run's rate per replica as its rate over N: true only while each replica
has a core (and the database) to itself.

`--quick` is a smoke run (1,000 cases, 20 reviews, 10 s of events), about a minute once the what-if and the
event path are fast (two to four minutes on today's code, most of it the what-if). Figures from a machine doing
other work are indicative only. A benchmark, not a test: it prints numbers and exits 0 unless something could not
run at all.
"""

from __future__ import annotations

import argparse
import concurrent.futures
import contextlib
import dataclasses
import datetime as dt
import functools
import math
import os
import platform
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
import uuid
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import grpc
from grpc_health.v1 import health_pb2, health_pb2_grpc
from prometheus_client.parser import text_string_to_metric_families
from sqlalchemy import delete, select

from cms.calculation.v1 import calculation_service_pb2 as calc_api
from cms.calculation.v1 import resources_pb2 as calc_pb
from cms.casework.v1 import casework_service_pb2 as case_api
from cms.casework.v1 import casework_service_pb2_grpc as case_grpc
from cms.casework.v1 import collection_reform_pb2 as cr
from cms.casework.v1 import collection_reform_service_pb2 as cr_api
from cms.casework.v1 import collection_reform_service_pb2_grpc as cr_grpc
from cms.casework.v1 import national_runs_pb2 as nr
from cms.common.v1 import types_pb2 as common
from cms.dwp.v1 import dwp_scenario_service_pb2 as dwp_sc
from cms.dwp.v1 import dwp_scenario_service_pb2_grpc as dwp_sc_grpc
from cms.dwp.v1 import dwp_service_pb2 as dwp_api
from cms.dwp.v1 import dwp_service_pb2_grpc as dwp_grpc
from cms.dwp.v1 import resources_pb2 as dwp_pb
from cms_calculation.calculations.models import StoredCalculation
from cms_calculation.engine.rules import REFORM_VERSION, RuleBook
from cms_casework.case_records.models import CaseRecord
from cms_casework.national_runs import flows as run_flows
from cms_casework.national_runs import rules as run_rules
from cms_casework.national_runs import service as national_runs
from cms_casework.national_runs.models import NationalRunChunkRecord, NationalRunRecord
from cms_casework.scheduler.models import ScheduledJobRun
from cms_casework.scheduler.service import PARTITIONED_JOBS
from cms_casework.settings import CaseworkSettings
from cms_devkit import caseload, infra
from cms_devkit.bench import fmt, met, print_summary
from cms_devkit.stack import SERVICES
from cms_platform import db, events
from cms_platform.convert import pb_date
from cms_platform.identity import service_caller, staff_caller
from cms_simulation.population import DEFAULT_SEED, DEFAULT_SIZE, Population

sys.path.insert(0, str(Path(__file__).resolve().parent))
# tools/ is not a package: the other benchmarks' stack, load runner, generators and readers, by import, so their
# improvements show here.
import bench_calc  # noqa: E402
import bench_events  # noqa: E402
import bench_hmrc  # noqa: E402
import bench_money  # noqa: E402
import bench_rpc  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
DB_PREFIX = "cms_bench_national_"
J = case_api.ScheduledJob

# Targets (issue 19).
TARGET_CHB_CHILDREN_PER_S = 5_000.0
TARGET_WHAT_IF_CASES = 1_000_000
TARGET_WHAT_IF_S = 30.0
TARGET_WHAT_IF_VS_ENGINE = 1.6
TARGET_ENGINE_PER_S = 50_000.0
TARGET_REVIEWS_PER_S = 5_000.0
TARGET_EVENTS_P50_MS = 150.0
TARGET_EVENTS_P99_MS = 500.0
TARGET_ACCOUNTS_PER_S = 1_000.0
TARGET_RSS_MIB = 200.0
FLAT = 1.5  # the largest size may cost this much more per case than a smaller one and still count as flat

# National volumes, for the sizing in docs/benchmarks.md.
EVENTS_RATE = 20.0  # CIS broadcasts a second
HOUSEHOLDS_PER_CASE = 1.45  # population households read per case loaded (measured: about 1.4)
RPC_TIMEOUT = 15.0
JOB_TIMEOUT = 3600.0  # RunScheduledWork on a national caseload


@dataclass(frozen=True)
class Plan:
    cases: int
    review_every: int  # one family in this many has its annual review due on the run's date
    workers: int  # processes building the caseload
    accounts: int
    engine_calcs: int
    health_calls: int
    events_seconds: float
    curve: tuple[int, ...]


def plan_for(cases: int, *, quick: bool) -> Plan:
    return Plan(
        cases=cases,
        # A day's reviews: a 365th of the caseload (about 2,700 for 1,000,000 cases); the smoke run a fiftieth, so
        # there are enough to time.
        review_every=50 if quick else 365,
        workers=max(1, min(4, os.cpu_count() or 1)),
        # Collect & Pay accounts: about 30% of the caseload (300,000 of 1,000,000).
        accounts=max(100, cases * 3 // 10),
        engine_calcs=2_000 if quick else 20_000,
        health_calls=300 if quick else 3_000,
        events_seconds=10.0 if quick else 60.0,
        curve=(1_000, 2_000, 4_000) if quick else (10_000, 100_000, 1_000_000),
    )


# ---- the stack -----------------------------------------------------------------------------------------------


# The national runs' work topic: its partition count is the contract's (national_runs.proto's
# event_topic_partitions, deploy/platform/kafka-topics.yaml), fixed, and the most casework replicas that can share a
# run (a member of the group beyond it is given no partition).
RUNS_TOPIC = events.topic_of(nr.NationalRunChunkIssued)
RUNS_PARTITIONS = events.partitions_of(RUNS_TOPIC)
RUNS_GROUP = "casework-national-runs"  # casework's default CASEWORK_NATIONAL_RUNS_CONSUMER_GROUP
GROUP_TIMEOUT = 120.0


@dataclass
class Replicas:
    """With --replicas N: casework's processes (its first and N-1 replicas on the same databases and broker, one
    consumer group), each with a metrics port of its own, read for the national runs' partitions each holds and the
    chunks each has done."""

    names: list[str]
    metrics: dict[str, int]  # process -> metrics port
    chunk_size: int

    def scrape(self, name: str) -> tuple[set[int], Counter]:
        """(the national runs' topic partitions the process holds, its chunks by outcome: done, or skipped as done
        before, a redelivery) from its /metrics: a partition's lag gauge is kept only while the partition is
        assigned there (checked every 5 s)."""
        url = f"http://127.0.0.1:{self.metrics[name]}/metrics"
        with urllib.request.urlopen(url, timeout=5) as answer:
            text = answer.read().decode()
        partitions: set[int] = set()
        chunks: Counter = Counter()
        for family in text_string_to_metric_families(text):
            for sample in family.samples:
                labels = sample.labels
                if (
                    sample.name == "cms_consumer_lag_records"
                    and labels.get("group") == RUNS_GROUP
                    and labels.get("topic") == RUNS_TOPIC
                ):
                    partitions.add(int(labels["partition"]))
                elif sample.name == "cms_casework_national_run_chunks_total":
                    chunks[labels.get("outcome", "")] += sample.value
        return partitions, chunks

    def wait_in_group(self, timeout: float = GROUP_TIMEOUT) -> dict[str, set[int]]:
        """Until every process holds its own share of the topic's partitions (none shared, none left over), so
        that no rebalance falls inside a figure; returns who holds which."""
        deadline = time.monotonic() + timeout
        held: dict[str, set[int]] = {}
        while time.monotonic() < deadline:
            with contextlib.suppress(OSError):
                held = {name: self.scrape(name)[0] for name in self.names}
                shares = list(held.values())
                every = set().union(*shares)
                if (
                    all(shares)
                    and sum(len(p) for p in shares) == len(every)
                    and len(every) == RUNS_PARTITIONS
                ):
                    return held
            time.sleep(1.0)
        raise RuntimeError(
            f"the casework replicas did not share the topic in {timeout:.0f} s: {held}"
        )

    def snapshot(self, bench: bench_rpc.Bench) -> tuple[dict[str, Counter], dict[str, float]]:
        """Each casework process's chunks by outcome so far, and every process's CPU seconds."""
        chunks = {name: self.scrape(name)[1] for name in self.names}
        cpu = {name: bench_hmrc.process_cpu_seconds(proc.pid) for name, proc in bench.procs.items()}
        return chunks, cpu

    def spread(
        self, bench: bench_rpc.Bench, before: tuple[dict[str, Counter], dict[str, float]]
    ) -> str:
        """Who did a figure's chunks (and skipped any delivered again), and the CPU each process spent on it."""
        chunks, cpu = self.snapshot(bench)
        done = "; ".join(
            f"{name} {chunks[name]['done'] - before[0][name]['done']:.0f} chunks"
            + (
                f" ({skipped:.0f} skipped)"
                if (skipped := chunks[name]["skipped"] - before[0][name]["skipped"])
                else ""
            )
            for name in self.names
        )
        spent = ", ".join(f"{name} {cpu[name] - before[1].get(name, 0.0):.1f}" for name in cpu)
        return f"{done}; CPU s: {spent}"


def start_stack(
    bench: bench_rpc.Bench,
    pg: str,
    population_size: int,
    *,
    replicas: int = 0,
    chunk_size: int | None = None,
    db_prefix: str = DB_PREFIX,
) -> Replicas | None:
    """bench_rpc.start_stack, with the gateways' population as big as the caseload needs and casework's daily pass
    off (the runs measured are asked for). With `replicas` (1 or more) the national runs are partitioned
    (CASEWORK_NATIONAL_RUNS_PARTITIONED, chunks of `chunk_size` cases or casework's default) and casework runs as
    that many processes, the replicas started once the first has migrated its database; returns them once they
    share the work topic's partitions."""
    settings = {"POPULATION_SIZE": str(population_size), "SCHEDULER_INTERVAL_SECONDS": "0"}
    if not replicas:
        bench_rpc.start_stack(bench, pg, db_prefix, settings=settings, start_timeout=180)
        return None
    settings["NATIONAL_RUNS_PARTITIONED"] = "true"
    if chunk_size:
        settings["NATIONAL_RUN_CHUNK_SIZE"] = str(chunk_size)
    first = {"METRICS_PORT": str(infra.free_port())}
    bench_rpc.start_stack(
        bench, pg, db_prefix, settings=settings, own={"casework": first}, start_timeout=180
    )
    assert bench.stack is not None
    stack = bench.stack
    metrics = {"casework": int(first["METRICS_PORT"])}
    for _ in range(replicas - 1):
        port = infra.free_port()
        name = stack.add_replica("casework", {"METRICS_PORT": str(port)})
        metrics[name] = port
        stack.start(name)
    for name in list(metrics)[1:]:
        try:
            stack.wait_serving(name, 180)
        except RuntimeError as exc:
            raise RuntimeError(f"{exc}\n{bench_rpc.log_tail(bench, name)}") from None
    out = Replicas(
        list(metrics),
        metrics,
        chunk_size or CaseworkSettings.model_fields["national_run_chunk_size"].default,
    )
    held = out.wait_in_group()
    say(
        "casework replicas in the national runs' group: "
        + "; ".join(f"{name} partitions {sorted(p)}" for name, p in held.items())
    )
    return out


def say(text: str) -> None:
    print(text, file=sys.stderr, flush=True)


# A service below 10% of a core is idle: its relays' and consumers' polls alone take 3-8%.
QUIET_CPU = 0.10


def settle(bench: bench_rpc.Bench, *, limit: float = 180.0) -> None:
    """Wait until every service is idle for two seconds running (at most `limit`): a figure's events are still being
    consumed after its RPC answers (casework's own consumers of the money runs' ledger events, say), and measured
    under the next figure they would be charged to it."""
    started = time.monotonic()
    quiet = 0
    last = {name: bench_hmrc.process_cpu_seconds(p.pid) for name, p in bench.procs.items()}
    while quiet < 2 and time.monotonic() - started < limit:
        time.sleep(1.0)
        now = {name: bench_hmrc.process_cpu_seconds(p.pid) for name, p in bench.procs.items()}
        busy = [name for name in now if now[name] - last[name] > QUIET_CPU]
        quiet = 0 if busy else quiet + 1
        last = now
    waited = time.monotonic() - started
    if waited > 3:
        say(f"  (waited {waited:.0f} s for the services to go quiet)")


# ---- the figures ---------------------------------------------------------------------------------------------


@dataclass
class Job:
    items: int  # what the figure counts (children, cases, accounts)
    seconds: float
    result: case_api.ScheduledJobResult | None = None
    note: str = ""
    spread: str = ""  # with --replicas: each casework process's chunks and CPU

    @property
    def per_second(self) -> float:
        return self.items / self.seconds if self.seconds > 0 else float("nan")


def forget_runs(url: str) -> None:
    """The scheduler's record of jobs done, cleared, and the partitioned jobs' national runs with it (a run is
    named for its job and date, and one already issued is not issued again): each measured run does its work
    however often it is asked."""
    names = [J.Name(j) for j in PARTITIONED_JOBS]
    engine = db.make_engine(url)
    with engine.begin() as c:
        c.execute(delete(ScheduledJobRun))
        runs = select(NationalRunRecord.id).where(NationalRunRecord.job.in_(names))
        c.execute(delete(NationalRunChunkRecord).where(NationalRunChunkRecord.run_id.in_(runs)))
        c.execute(delete(NationalRunRecord).where(NationalRunRecord.job.in_(names)))
    engine.dispose()


def run_job(
    stub: case_grpc.CaseworkServiceStub,
    metadata,
    job: int,
    as_of: dt.date,
    runs_url: str | None = None,
) -> tuple[case_api.ScheduledJobResult, float]:
    """RunScheduledWork for `job`, timed to its answer; with `runs_url` (casework's database, the national runs
    partitioned) a job that is issued as a national run is timed to the run's completion instead."""
    t0 = time.perf_counter()
    answer = stub.RunScheduledWork(
        case_api.RunScheduledWorkRequest(
            request_id=str(uuid.uuid4()), as_of_date=pb_date(as_of), jobs=[job]
        ),
        metadata=metadata,
        timeout=JOB_TIMEOUT,
    )
    result = next((r for r in answer.results if r.job == job), case_api.ScheduledJobResult())
    if runs_url and job in PARTITIONED_JOBS:
        # Named as the scheduler names it: for its date, the monthly check for its month's first day.
        run_on = (
            as_of.replace(day=1) if job == J.SCHEDULED_JOB_MONTHLY_CHILD_BENEFIT_CHECK else as_of
        )
        result = wait_for_run(runs_url, run_rules.run_id(J.Name(job), run_on), t0 + JOB_TIMEOUT)
        result.job = job
    return result, time.perf_counter() - t0


def wait_for_run(url: str, run_id: str, deadline: float) -> case_api.ScheduledJobResult:
    """A partitioned run's chunks done, polled read-only until the transaction marking its last chunk done sets its
    completed_at (or `deadline`, perf_counter's); what its chunks came to, as RunScheduledWork answers it."""
    engine = db.make_engine(url)
    sessions = db.make_sessionmaker(engine)
    try:
        while True:
            with sessions() as s:
                run = national_runs.run_of(s, run_id)
                complete = run is not None and run.completed_at is not None
                if complete or time.perf_counter() > deadline:
                    found = national_runs.progress(s, run_id)
                    break
            time.sleep(0.05)
    finally:
        engine.dispose()
    if not complete:
        say(f"warning: national run {run_id} not complete by its deadline")
    return case_api.ScheduledJobResult() if found is None else run_flows.answer(found)


def chb_check(stub, metadata, as_of: dt.date, children: int, runs_url: str | None = None) -> Job:
    result, seconds = run_job(
        stub, metadata, J.SCHEDULED_JOB_MONTHLY_CHILD_BENEFIT_CHECK, as_of, runs_url
    )
    return Job(
        children,
        seconds,
        result,
        f"{result.items_due:,} cases, {result.items_processed:,} processed, {result.items_failed:,} failed",
    )


def annual_reviews(stub, metadata, as_of: dt.date, runs_url: str | None = None) -> Job:
    result, seconds = run_job(stub, metadata, J.SCHEDULED_JOB_ANNUAL_REVIEW, as_of, runs_url)
    return Job(
        result.items_processed,
        seconds,
        result,
        f"{result.items_due:,} due, {result.items_processed:,} stored, {result.items_failed:,} failed",
    )


def what_if(channel: grpc.Channel, metadata, as_of: dt.date, timeout: float) -> Job:
    stub = cr_grpc.CollectionReformServiceStub(channel)
    t0 = time.perf_counter()
    run = stub.StartReformWhatIf(
        cr_api.StartReformWhatIfRequest(request_id=str(uuid.uuid4()), start_date=pb_date(as_of)),
        metadata=metadata,
        timeout=RPC_TIMEOUT,
    )
    while run.state not in (
        cr.COLLECTION_REFORM_JOB_STATE_SUCCEEDED,
        cr.COLLECTION_REFORM_JOB_STATE_FAILED,
    ):
        if time.perf_counter() - t0 > timeout:
            break
        time.sleep(0.05)
        run = stub.GetReformWhatIf(
            cr_api.GetReformWhatIfRequest(name=run.name), metadata=metadata, timeout=RPC_TIMEOUT
        )
    seconds = time.perf_counter() - t0
    state = cr.CollectionReformJobState.Name(run.state).removeprefix("COLLECTION_REFORM_JOB_STATE_")
    return Job(
        run.cases_done,
        seconds,
        note=f"{state}, {run.cases_done:,} of {run.cases_total:,} cases{': ' + run.error if run.error else ''}",
    )


def bulk_stage(channel: grpc.Channel, metadata, calculation_url: str, limit: int) -> Job:
    """BulkCalculate alone, on the caseload's own decisions as what-if items under the reform rule set (what the
    what-if sends), built before the clock starts."""
    engine = db.make_engine(calculation_url)
    with engine.connect() as c:
        stored = c.execute(select(StoredCalculation.calculation).limit(limit)).scalars().all()
    engine.dispose()
    messages, ids = [], []
    for first in range(0, len(stored), bench_calc.MAX_BULK_ITEMS):
        request = calc_api.BulkCalculateRequest()
        for blob in stored[first : first + bench_calc.MAX_BULK_ITEMS]:
            decided = calc_pb.Calculation.FromString(blob)
            request.items.add(
                request_id=str(uuid.uuid4()),
                case_reference=decided.case_reference,
                input=decided.input,
                what_if=True,
                rule_set_version=REFORM_VERSION,
            )
        messages.append(request.SerializeToString())
        ids.append([i.request_id for i in request.items])
    run = bench_calc.run_bulk(
        channel,
        metadata,
        bench_calc.BulkPayload(messages, ids),
        label="BulkCalculate what-if",
        stored=False,
    )
    errors = sum(run.errors.values())
    return Job(
        run.calculations,
        run.seconds,
        note=f"{run.items:,} items, {errors} errors{' ' + run.stream_error if run.stream_error else ''}",
    )


def engine_in_process(calcs: int) -> float:
    inputs = list(bench_calc.varied_inputs(calcs))
    rule_book = RuleBook()
    bench_calc.bench_in_process(inputs[:200], False, rule_book)  # warm-up
    runs = [
        bench_calc.on_one_core(
            functools.partial(bench_calc.bench_in_process, inputs, False, rule_book)
        )
        for _ in range(bench_calc.IN_PROCESS_ROUNDS)
    ]
    return max(r.per_second for r in runs)


def health_baseline(channel: grpc.Channel, calls: int) -> float:
    health = health_pb2_grpc.HealthStub(channel)
    request = health_pb2.HealthCheckRequest(service="")
    bench_rpc.run_load(
        "Health/Check",
        "warm-up",
        lambda _i: health.Check(request, timeout=5),
        calls=calls // 10,
        threads=8,
    )
    run = bench_rpc.run_load(
        "Health/Check",
        "conc x8",
        lambda _i: health.Check(request, timeout=5),
        calls=calls,
        threads=8,
    )
    return len(run.latencies_ms) / run.seconds


# ---- e. steady events ----------------------------------------------------------------------------------------


@dataclass
class Steady:
    sent: int = 0
    seconds: float = 0.0  # how long the broadcasts took to send (the achieved rate)
    latencies_ms: list[float] = field(default_factory=list)
    lost: int = 0
    errors: int = 0
    span_s: float = 0.0  # from the first broadcast's publish to the last CaseCalculated seen

    @property
    def recalculated_per_s(self) -> float:
        """The rate the cases were recalculated at: below the broadcast rate, a backlog grows (the latency with it)."""
        return len(self.latencies_ms) / self.span_s if self.span_s else math.nan

    def pct(self, p: float) -> float:
        return bench_events.pct(self.latencies_ms, p)


def steady_events(bench: bench_rpc.Bench, casework_url: str, seconds: float) -> Steady:
    """EVENTS_RATE benefit awards a second for `seconds`, each on a different loaded case's paying parent, each
    timed from its broadcast's publish to its case's CaseCalculated seen on casework's topic."""
    count = int(EVENTS_RATE * seconds)
    engine = db.make_engine(casework_url)
    with engine.connect() as c:
        # Cases reviewed or recalculated earlier in the run are as good as any: one award each.
        picked = c.execute(
            select(CaseRecord.id, CaseRecord.paying_parent_nino)
            .where(CaseRecord.state == "CASE_STATE_LIVE")
            .order_by(CaseRecord.id.desc())
            .limit(count)
        ).all()
    engine.dispose()
    as_casework = bench.metadata(service_caller("casework"))
    admin = bench.metadata(staff_caller("bench-admin", "scenario_admin"))
    out = Steady()
    with grpc.insecure_channel(bench.addresses["dwp-gateway"]) as channel:
        dwp = dwp_grpc.DwpGatewayServiceStub(channel)
        scenario = dwp_sc_grpc.DwpScenarioServiceStub(channel)
        # The interests the application checks would have registered (the loader records them as registered).
        say(f"registering CIS interests for {len(picked):,} cases ...")
        with concurrent.futures.ThreadPoolExecutor(8) as pool:
            list(
                pool.map(
                    lambda p: dwp.RegisterInterest(
                        dwp_api.RegisterInterestRequest(
                            request_id=str(uuid.uuid4()),
                            nino=p[1],
                            case_id=p[0],
                            role=dwp_pb.CASE_ROLE_PAYING_PARENT,
                        ),
                        metadata=as_casework,
                        timeout=RPC_TIMEOUT,
                    ),
                    picked,
                )
            )
        reader = bench_events.Reader(bench.broker.bootstrap)
        try:
            today = dt.date.today()  # the services run on the wall clock

            def award(nino: str) -> None:
                scenario.StartBenefitAward(
                    dwp_sc.StartBenefitAwardRequest(
                        request_id=str(uuid.uuid4()),
                        nino=nino,
                        benefit_type=dwp_pb.BENEFIT_TYPE_JOBSEEKERS_ALLOWANCE_INCOME_BASED,
                        start_date=pb_date(today),
                        amount=common.PeriodicAmount(
                            frequency=common.PAYMENT_FREQUENCY_FORTNIGHTLY,
                            amount_pence=bench_events.JSA_FORTNIGHTLY_PENCE,
                        ),
                    ),
                    metadata=admin,
                    timeout=RPC_TIMEOUT,
                )

            say(f"broadcasting {len(picked):,} awards at {EVENTS_RATE:.0f}/s ...")
            errors = threading.Lock()
            t0 = time.perf_counter()
            with concurrent.futures.ThreadPoolExecutor(16) as pool:
                futures = []
                for i, (_case, nino) in enumerate(picked):
                    # A steady rate: each call at its own moment, whatever the last one took.
                    delay = t0 + i / EVENTS_RATE - time.perf_counter()
                    if delay > 0:
                        time.sleep(delay)
                    futures.append(pool.submit(award, nino))
                for f in futures:
                    try:
                        f.result()
                    except grpc.RpcError:
                        with errors:
                            out.errors += 1
            out.sent, out.seconds = len(picked), time.perf_counter() - t0
            # A backlog that outlasts this is not a steady state: what has not come by then counts as lost.
            deadline = time.monotonic() + bench_events.WAIT_S + seconds
            first, last = math.inf, -math.inf
            for case_id, _nino in picked:
                name = f"cases/{case_id}"
                done = reader.wait_for(
                    bench_events.CALCULATED, name, 1, max(0.01, deadline - time.monotonic())
                )
                broadcast = reader.seen(bench_events.BROADCAST, name)
                if not done or not broadcast:
                    out.lost += 1
                    continue
                out.latencies_ms.append((done[-1].seen - broadcast[0].sent) * 1000)
                first, last = min(first, broadcast[0].sent), max(last, done[-1].seen)
            out.span_s = max(last - first, 0.0)
        finally:
            reader.close()
    return out


# ---- g. memory -----------------------------------------------------------------------------------------------


def memory(bench: bench_rpc.Bench) -> list[tuple[str, float, float]]:
    rows = []
    for name, proc in bench.procs.items():
        status = bench_rpc.proc_status(proc.pid)
        rows.append((name, bench_rpc.mib(status, "VmRSS"), bench_rpc.mib(status, "VmHWM")))
        for pid in bench_calc.worker_pids(proc.pid):
            worker = bench_rpc.proc_status(int(pid))
            rows.append(
                (
                    f"{name} worker {pid}",
                    bench_rpc.mib(worker, "VmRSS"),
                    bench_rpc.mib(worker, "VmHWM"),
                )
            )
    return rows


# ---- f. money ------------------------------------------------------------------------------------------------


def money_runs(stub, metadata, casework_url: str, accounts: int) -> tuple[Job, Job]:
    engine = db.make_engine(casework_url)
    sessions = db.make_sessionmaker(engine)
    ids = bench_money.build_accounts(sessions, accounts)
    charges, charge_s = run_job(
        stub, metadata, J.SCHEDULED_JOB_ACCOUNT_CHARGES, bench_money.RUN_DAY
    )
    bench_money.pay_everyone(sessions, ids)
    payments, pay_s = run_job(stub, metadata, J.SCHEDULED_JOB_PAYMENT_RUN, bench_money.RUN_DAY)
    engine.dispose()
    return (
        Job(charges.items_processed, charge_s, charges, f"{charges.items_failed} failed"),
        Job(payments.items_processed, pay_s, payments, f"{payments.items_failed} failed"),
    )


# ---- profiles ------------------------------------------------------------------------------------------------


class Profiler:
    """With --profile DIR: py-spy (on PATH, or where PY_SPY names it) samples the named services' processes (and
    their workers) while one figure runs, into DIR/<figure>-<service>.txt (collapsed stacks), and the report lists
    where each figure's time went. Without it, figures run unprofiled. Sampling slows the sampled process a little."""

    def __init__(self, directory: Path | None, bench: bench_rpc.Bench, *, wall: bool = False):
        self.directory, self.bench, self.wall = directory, bench, wall
        self.files: dict[str, list[Path]] = {}
        self.tool = os.environ.get("PY_SPY") or shutil.which("py-spy")
        if directory is not None:
            directory.mkdir(parents=True, exist_ok=True)
            if self.tool is None:
                say("--profile: no py-spy on PATH (or PY_SPY); figures run unprofiled")

    @contextlib.contextmanager
    def figure(self, label: str, *services: str) -> Iterator[None]:
        if self.directory is None or self.tool is None:
            yield
            return
        samplers = []
        for service in services:
            out = self.directory / f"{label}-{service}.txt"
            self.files.setdefault(label, []).append(out)
            samplers.append(
                subprocess.Popen(
                    [
                        self.tool,
                        "record",
                        "--pid",
                        str(self.bench.procs[service].pid),
                        "--subprocesses",
                        # The thread holding the GIL (where the CPU time goes), or with --wall every thread,
                        # waiting ones too (where a figure's wall time goes when the CPU is not busy).
                        *(("--idle",) if self.wall else ("--gil",)),
                        "--format",
                        "raw",
                        "--rate",
                        "100",
                        "-o",
                        str(out),
                    ],
                    stdout=subprocess.DEVNULL,
                    stderr=subprocess.DEVNULL,
                )
            )
        time.sleep(0.5)  # attached before the figure starts
        try:
            yield
        finally:
            for sampler in samplers:
                sampler.send_signal(signal.SIGINT)
            for sampler in samplers:
                try:
                    sampler.wait(60)
                except subprocess.TimeoutExpired:
                    sampler.kill()

    def report(self, top: int = 8) -> None:
        if not self.files:
            return
        print()
        print(
            f"## Profiles (py-spy samples of {'every thread, waiting or not' if self.wall else 'the thread holding the GIL'}; "
            "self = the function itself, incl. = with what it calls, CMS code only)"
        )
        for files in self.files.values():
            for path in files:
                own, inclusive, total = collapsed(path)
                if not total:
                    continue
                print(f"### {path.stem}: {total:,} samples")
                for kind, counts in (("self", own), ("incl.", inclusive)):
                    best = sorted(counts.items(), key=lambda kv: -kv[1])[:top]
                    print(
                        f"  {kind:<5} "
                        + "; ".join(f"{name} {100 * n / total:.0f}%" for name, n in best)
                    )


def collapsed(path: Path) -> tuple[Counter, Counter, int]:
    """(self samples by function, inclusive samples by CMS function, all samples) of a py-spy raw file."""
    own: Counter = Counter()
    inclusive: Counter = Counter()
    total = 0
    try:
        lines = path.read_text(errors="replace").splitlines()
    except OSError:
        return own, inclusive, 0
    for line in lines:
        stack, _, count = line.rpartition(" ")
        if not count.isdigit():
            continue
        n = int(count)
        total += n
        frames = [f.split(" (")[0] + _where(f) for f in stack.split(";")[1:]]
        if frames:
            own[frames[-1]] += n
        for name in {f for f in frames if "cms_" in f}:
            inclusive[name] += n
    return own, inclusive, total


def _where(frame: str) -> str:
    """`module` of a py-spy frame `func (path/to/module.py:line)`: enough to tell two functions of one name apart."""
    inside = frame.partition(" (")[2].rstrip(")")
    path = inside.rsplit(":", 1)[0]
    if not path.endswith(".py"):
        return ""
    parts = Path(path).with_suffix("").parts
    if "cms_" in path:
        start = next(i for i, p in enumerate(parts) if p.startswith("cms_"))
        return f" [{'.'.join(parts[start:])}]"
    return f" [{parts[-1]}]" if parts else ""


# ---- sizing ---------------------------------------------------------------------------------------------------

# The national runs and the windows they must finish in (docs/benchmarks.md, "Sizing a national run"): the scheduled
# runs within RunScheduledWork's documented deadline (600 s), the what-if in the 30 s, the money runs in five
# minutes (bench_money: 300,000 Collect & Pay paying parents).
NATIONAL = (
    # (run, volume, unit, window s)
    ("monthly Child Benefit check", 150_000, "children", 600.0),
    ("annual reviews (a day's)", 3_000, "cases", 600.0),
    ("reform what-if: casework", 1_000_000, "cases", 30.0),
    ("reform what-if: calculation (BulkCalculate)", 1_000_000, "cases", 30.0),
    ("charge run", 300_000, "accounts", 300.0),
    ("payment run", 300_000, "accounts", 300.0),
)


# The runs that are national runs on the work topic with --replicas (the casework side of each).
PARTITIONED_RUNS = (
    "monthly Child Benefit check",
    "annual reviews (a day's)",
    "reform what-if: casework",
)


def print_sizing(rates: dict[str, float], casework_processes: int = 1) -> None:
    """Replicas each national run needs, from this run's rate with one replica of each service:
    ceil(volume / (window x rate)). In one process a scheduled run is claimed by one casework replica; partitioned
    (CASEWORK_NATIONAL_RUNS_PARTITIONED), its chunks spread over the replicas' consumer group, at most one replica a
    partition of the work topic. Measured with --replicas N, a partitioned run's rate per replica is its rate / N,
    which assumes N replicas do N times one's work: true only with a core (and database) to spare for each. The
    what-if's calculation side spreads over the replicas' bulk workers through BulkCalculate streams."""
    print()
    print(
        "## Sizing a national run (replicas = ceil(volume / (window x measured rate per replica)); "
        "docs/benchmarks.md)"
        + (
            f"; the partitioned runs' rate per replica is their rate over {casework_processes} casework "
            "processes divided by that"
            if casework_processes > 1
            else ""
        )
    )
    head = (
        f"{'run':<44} | {'volume':>18} | {'window s':>8} | {'rate/replica':>12} | {'replicas':>8}"
    )
    print(head)
    print("-" * len(head))
    for run, volume, unit, window in NATIONAL:
        rate = rates.get(run, math.nan) / (casework_processes if run in PARTITIONED_RUNS else 1)
        replicas = math.ceil(volume / (window * rate)) if rate and rate == rate else None
        print(
            f"{run:<44} | {f'{volume:,} {unit}':>18} | {window:>8.0f} | {fmt(rate):>12} | "
            f"{replicas if replicas is not None else 'n/a':>8}"
        )


# ---- one size ------------------------------------------------------------------------------------------------


@dataclass
class Size:
    cases: int
    load: caseload.Loaded
    chb: Job
    reviews: Job
    what_if: Job


def grow(
    bench: bench_rpc.Bench,
    population: Population,
    loaded: caseload.Loaded | None,
    to: int,
    plan: Plan,
    as_of: dt.date,
) -> caseload.Loaded:
    """The caseload grown to `to` cases (from families after those already loaded)."""
    assert bench.stack is not None
    done = loaded.cases if loaded else 0
    start = loaded.next_start if loaded else 0
    say(f"loading {to - done:,} cases (to {to:,}) ...")
    last = [time.monotonic()]

    def progress(now: caseload.Loaded) -> None:
        if time.monotonic() - last[0] > 10:
            last[0] = time.monotonic()
            say(f"  {done + now.cases:,} cases loaded, {now.per_second:,.0f}/s")

    more = caseload.load(
        casework_url=bench.stack.database_url("casework") or "",
        calculation_url=bench.stack.database_url("calculation") or "",
        plan=caseload.Plan(
            cases=to - done, as_of=as_of, review_every=plan.review_every, workers=plan.workers
        ),
        population=population,
        progress=progress,
        start=start,
    )
    if loaded is None:
        return more
    # The caseload as a whole: what each part holds, the time the last part took.
    return caseload.Loaded(
        cases=loaded.cases + more.cases,
        qualifying_children=loaded.qualifying_children + more.qualifying_children,
        cases_with_child_16_plus=loaded.cases_with_child_16_plus + more.cases_with_child_16_plus,
        children_on_those_cases=loaded.children_on_those_cases + more.children_on_those_cases,
        reviews_due=more.reviews_due,
        next_start=more.next_start,
        seconds=more.seconds,
        domain_seconds=more.domain_seconds,
        copy_seconds=more.copy_seconds,
    )


def measure_size(
    bench: bench_rpc.Bench,
    case_stub,
    channels,
    metadata,
    loaded: caseload.Loaded,
    as_of: dt.date,
    profiler: Profiler,
    what_if_timeout: float | None,
    replicas: Replicas | None = None,
) -> Size:
    """(a) and (d) on the caseload as it is; (b) too unless `what_if_timeout` is None (the run then times it last:
    nothing can stop a what-if that outlasts its timeout, and it would slow whatever came next). With `replicas`,
    (a) and (d) are timed to their national runs' completion."""
    assert bench.stack is not None
    casework_url = bench.stack.database_url("casework") or ""
    runs_url = casework_url if replicas else None
    forget_runs(casework_url)
    settle(bench)
    say(f"a. monthly Child Benefit check over {loaded.cases:,} cases ...")
    with profiler.figure(f"a-chb-check-{loaded.cases}", "casework", "hmrc-gateway"):
        before = replicas.snapshot(bench) if replicas else ({}, {})
        chb = chb_check(case_stub, metadata, as_of, loaded.children_on_those_cases, runs_url)
        chb.spread = replicas.spread(bench, before) if replicas else ""
    settle(bench)
    say(f"d. annual reviews due on {as_of} ...")
    with profiler.figure(f"d-annual-reviews-{loaded.cases}", "casework", "calculation"):
        before = replicas.snapshot(bench) if replicas else ({}, {})
        reviews = annual_reviews(case_stub, metadata, as_of, runs_url)
        reviews.spread = replicas.spread(bench, before) if replicas else ""
    wi = Job(0, math.nan, note="not run")
    if what_if_timeout is not None:
        settle(bench)
        wi = timed_what_if(
            bench, channels, metadata, as_of, what_if_timeout, profiler, loaded.cases, replicas
        )
    return Size(loaded.cases, loaded, chb, reviews, wi)


def timed_what_if(
    bench: bench_rpc.Bench,
    channels,
    metadata,
    as_of,
    timeout: float,
    profiler: Profiler,
    cases: int,
    replicas: Replicas | None = None,
) -> Job:
    say(f"b. the reform what-if over {cases:,} cases ...")
    with profiler.figure(f"b-what-if-{cases}", "casework", "calculation"):
        before = replicas.snapshot(bench) if replicas else ({}, {})
        job = what_if(channels["casework"], metadata, as_of, timeout)
        job.spread = replicas.spread(bench, before) if replicas else ""
    if "SUCCEEDED" not in job.note:
        say(f"warning: the what-if did not finish in {timeout:.0f} s ({job.note}); it runs on")
    return job


def per_case_us(job: Job, count: int) -> float:
    return job.seconds / count * 1e6 if count else float("nan")


# ---- main ----------------------------------------------------------------------------------------------------


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--quick", action="store_true", help="a smoke run: 1,000 cases, 20 reviews, 10 s of events"
    )
    parser.add_argument(
        "--cases", type=int, help="the caseload's size (default 100,000; --quick 1,000)"
    )
    parser.add_argument(
        "--curve",
        action="store_true",
        help="grow the caseload to 10k / 100k / 1M cases (--quick: 1k / 2k / 4k), measuring at each",
    )
    parser.add_argument(
        "--sizes",
        help="the curve's sizes, comma-separated (e.g. 10000,100000): a shorter curve than --curve's three",
    )
    parser.add_argument(
        "--no-events", action="store_true", help="leave out (e), the 60 s steady-rate run"
    )
    parser.add_argument(
        "--what-if-timeout",
        type=float,
        default=1800.0,
        help="seconds to wait for a what-if (default 1,800)",
    )
    parser.add_argument(
        "--profile",
        type=Path,
        metavar="DIR",
        help="sample the services with py-spy during each figure, into DIR, and print where the time went",
    )
    parser.add_argument(
        "--wall",
        action="store_true",
        help="with --profile: sample every thread, waiting ones too, to see where wall time goes, not CPU time",
    )
    parser.add_argument(
        "--replicas",
        type=int,
        default=0,
        metavar="N",
        help=f"run the national runs partitioned, over N casework processes (1 to {RUNS_PARTITIONS}, the work "
        "topic's partitions); (a), (b) and (d) are timed to the run's completion. Default 0: each run in one "
        "casework process (the setting's default)",
    )
    parser.add_argument(
        "--chunk-size",
        type=int,
        metavar="CASES",
        help="with --replicas, cases a chunk of a national run (CASEWORK_NATIONAL_RUN_CHUNK_SIZE; default "
        "casework's)",
    )
    parser.add_argument("--keep", action="store_true", help="keep the databases and the temp dir")
    parser.add_argument(
        "--db-prefix",
        default=DB_PREFIX,
        help=f"the databases' names before the service's (default {DB_PREFIX}): two runs at once on one server "
        "need two, or each drops the other's databases as it starts and ends",
    )
    args = parser.parse_args()
    if not 0 <= args.replicas <= RUNS_PARTITIONS:
        parser.error(
            f"--replicas must be 0 to {RUNS_PARTITIONS}: {RUNS_TOPIC} has {RUNS_PARTITIONS} partitions "
            "(its contract's), and a replica beyond them would be given none"
        )
    if args.chunk_size is not None and not args.replicas:
        parser.error("--chunk-size needs --replicas")
    cases = args.cases or (1_000 if args.quick else 100_000)
    plan = plan_for(cases, quick=args.quick)
    if args.sizes:
        sizes = tuple(sorted(int(n.replace("_", "")) for n in args.sizes.split(",")))
    else:
        sizes = plan.curve if args.curve else (plan.cases,)
    largest = max(sizes)
    # The money runs' accounts follow the caseload the run ends with.
    plan = dataclasses.replace(plan, accounts=plan_for(largest, quick=args.quick).accounts)
    # The population must hold a family for every case: about 1.4 households a case, 3 people a household.
    population_size = max(DEFAULT_SIZE, int(largest * HOUSEHOLDS_PER_CASE * 3))
    as_of = dt.date.today()  # the services run on the wall clock

    def _terminate(signum, _frame):
        raise SystemExit(128 + signum)

    signal.signal(signal.SIGTERM, _terminate)
    pg = os.environ.get("CMS_POSTGRES_URL") or infra.postgres_server_url()
    if not pg:
        print("bench-national needs PostgreSQL (CMS_POSTGRES_URL, or a server on 127.0.0.1:5432)")
        return 1
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    commit = os.popen(f"git -C {ROOT} rev-parse --short HEAD 2>/dev/null").read().strip() or "?"
    chunk_size = args.chunk_size or CaseworkSettings.model_fields["national_run_chunk_size"].default
    mode = (
        f"national runs partitioned over {args.replicas} casework process"
        f"{'es' if args.replicas > 1 else ''} ({RUNS_PARTITIONS} partitions, chunks of {chunk_size} cases)"
        if args.replicas
        else "national runs in one casework process"
    )
    print(
        f"# bench-national{' --quick' if args.quick else ''}{' --curve' if args.curve else ''}"
        f"{f' --replicas {args.replicas}' if args.replicas else ''}: {mode}; "
        f"{', '.join(f'{s:,}' for s in sizes)} cases, population {population_size:,} (seed {DEFAULT_SEED}), "
        f"as of {as_of}, commit {commit}, nproc={cores}, Python {platform.python_version()}, grpcio "
        f"{grpc.__version__}, PostgreSQL {pg.rsplit('@', 1)[-1]}, load average {os.getloadavg()[0]:.2f} at start",
        flush=True,
    )
    started = time.monotonic()
    bench = bench_rpc.Bench(tmp=Path(tempfile.mkdtemp(prefix="cms-bench-national-")))
    staff = {
        role: bench.metadata(staff_caller(f"bench-{role}", role), ttl=8 * 3600)
        for role in ("team_leader", "caseworker")
    }
    as_casework = bench.metadata(service_caller("casework"), ttl=8 * 3600)
    channels: dict[str, grpc.Channel] = {}
    try:
        say("c. the engine in process, one core, before anything else runs ...")
        engine_rate = engine_in_process(plan.engine_calcs)
        say(
            f"starting the broker and five services (population {population_size:,})"
            f"{f', casework as {args.replicas} processes' if args.replicas else ''} ..."
        )
        replicas = start_stack(
            bench,
            pg,
            population_size,
            replicas=args.replicas,
            chunk_size=args.chunk_size,
            db_prefix=args.db_prefix,
        )
        assert bench.stack is not None
        channels = {s.name: grpc.insecure_channel(bench.addresses[s.name]) for s in SERVICES}
        case_stub = case_grpc.CaseworkServiceStub(channels["casework"])
        population = Population(size=population_size, seed=DEFAULT_SEED)
        measured: list[Size] = []
        loaded: caseload.Loaded | None = None
        profiler = Profiler(args.profile, bench, wall=args.wall)
        for n, size in enumerate(sizes):
            loaded = grow(bench, population, loaded, size, plan, as_of)
            final = n == len(sizes) - 1
            measured.append(
                measure_size(
                    bench,
                    case_stub,
                    channels,
                    staff["team_leader"],
                    loaded,
                    as_of,
                    profiler,
                    what_if_timeout=None if final else args.what_if_timeout,
                    replicas=replicas,
                )
            )
        assert loaded is not None
        last = measured[-1]
        settle(bench)
        say("baseline: Health/Check ...")
        health_rate = health_baseline(channels["casework"], plan.health_calls)
        say("b. the BulkCalculate stage alone ...")
        bulk = bulk_stage(
            channels["calculation"],
            as_casework,
            bench.stack.database_url("calculation") or "",
            min(loaded.cases, 100_000),
        )
        settle(bench)
        say(f"f. charge and payment runs over {plan.accounts:,} accounts ...")
        with profiler.figure("f-charge-and-payment-runs", "casework"):
            charges, payments = money_runs(
                case_stub,
                staff["team_leader"],
                bench.stack.database_url("casework") or "",
                plan.accounts,
            )
        # Last, the two runs nothing can stop once started: a what-if that outlasts its timeout, and the backlog of
        # recalculations the broadcasts leave when casework cannot keep up; either would slow whatever came after.
        settle(bench)
        last.what_if = timed_what_if(
            bench,
            channels,
            staff["team_leader"],
            as_of,
            args.what_if_timeout,
            profiler,
            last.cases,
            replicas,
        )
        steady = None
        if not args.no_events:
            settle(bench)
            say("e. steady CIS broadcasts ...")
            with profiler.figure("e-steady-events", "casework", "dwp-gateway"):
                steady = steady_events(
                    bench, bench.stack.database_url("casework") or "", plan.events_seconds
                )
        rss = memory(bench)
        for name, proc in bench.procs.items():
            if proc.poll() is not None:
                say(
                    f"warning: {name} exited with {proc.returncode}:\n{bench_rpc.log_tail(bench, name)}"
                )

        # ---- report ----
        ld = last.load
        print()
        print(
            f"## The caseload: {ld.cases:,} live cases, {ld.qualifying_children:,} qualifying children; "
            f"{ld.cases_with_child_16_plus:,} cases with a child aged 16+ ({ld.children_on_those_cases:,} children "
            f"for the monthly check); {ld.reviews_due:,} annual reviews due on {as_of}; loaded (last part) in "
            f"{ld.seconds:.1f} s = {ld.per_second:,.0f} cases/s (building {ld.domain_seconds:.1f} s, of which "
            f"most is generating the population's people; inserting {ld.copy_seconds:.1f} s)"
        )
        for label, job in (
            ("a. monthly Child Benefit check", last.chb),
            ("d. annual reviews", last.reviews),
            ("b. reform what-if", last.what_if),
            ("b. BulkCalculate stage alone", bulk),
            ("f. charge run", charges),
            ("f. payment run", payments),
        ):
            print(f"{label:<32} {job.items:>9,} in {job.seconds:8.2f} s  ({job.note})")
            if job.spread:
                print(f"    {job.spread}")
            if job.result is not None and job.result.failures:
                for failure in job.result.failures[:3]:
                    print(f"    {failure}")
        what_if_1m = TARGET_WHAT_IF_CASES / last.what_if.per_second
        ratio = last.what_if.per_second / engine_rate
        rows = [
            ("baseline: Health/Check calls/s (conc x8)", fmt(health_rate), "baseline", ""),
            (
                "a. CHB check children/s (end to end)",
                fmt(last.chb.per_second),
                f">= {TARGET_CHB_CHILDREN_PER_S:,.0f}",
                met(last.chb.per_second >= TARGET_CHB_CHILDREN_PER_S),
            ),
            (
                "b. what-if cases/s (end to end)",
                fmt(last.what_if.per_second),
                f">= {TARGET_WHAT_IF_CASES / TARGET_WHAT_IF_S:,.0f}",
                met(last.what_if.per_second >= TARGET_WHAT_IF_CASES / TARGET_WHAT_IF_S),
            ),
            (
                "b. what-if: 1,000,000 cases would take (s)",
                fmt(what_if_1m, ".1f"),
                f"<= {TARGET_WHAT_IF_S:.0f}",
                met(what_if_1m <= TARGET_WHAT_IF_S),
            ),
            (
                "b. what-if rate / in-process rate (c)",
                fmt(ratio, ".3f") + "x",
                f">= {TARGET_WHAT_IF_VS_ENGINE}x",
                met(ratio >= TARGET_WHAT_IF_VS_ENGINE),
            ),
            ("b. BulkCalculate stage alone, items/s", fmt(bulk.per_second), "", ""),
            (
                "c. engine in process calcs/s (1 core)",
                fmt(engine_rate),
                f">= {TARGET_ENGINE_PER_S:,.0f}",
                met(engine_rate >= TARGET_ENGINE_PER_S),
            ),
            (
                f"d. annual reviews stored/s ({last.reviews.items:,})",
                fmt(last.reviews.per_second),
                f">= {TARGET_REVIEWS_PER_S:,.0f}",
                met(last.reviews.per_second >= TARGET_REVIEWS_PER_S),
            ),
        ]
        if steady is not None:
            p50, p99 = steady.pct(50), steady.pct(99)
            rows += [
                (
                    f"e. broadcast -> CaseCalculated p50 ms ({steady.sent:,})",
                    fmt(p50, ".0f"),
                    f"<= {TARGET_EVENTS_P50_MS:.0f}",
                    met(p50 <= TARGET_EVENTS_P50_MS),
                ),
                (
                    "e. broadcast -> CaseCalculated p99 ms",
                    fmt(p99, ".0f"),
                    f"<= {TARGET_EVENTS_P99_MS:.0f}",
                    met(p99 <= TARGET_EVENTS_P99_MS),
                ),
                (
                    "e. broadcasts sent a second (achieved)",
                    fmt(steady.sent / steady.seconds if steady.seconds else math.nan, ".1f"),
                    f"{EVENTS_RATE:.0f}",
                    met(steady.seconds > 0 and steady.sent / steady.seconds >= 0.95 * EVENTS_RATE),
                ),
                (
                    "e. cases recalculated a second (capacity)",
                    fmt(steady.recalculated_per_s, ".1f"),
                    f"{EVENTS_RATE:.0f}",
                    met(steady.recalculated_per_s >= 0.95 * EVENTS_RATE),
                ),
                (
                    "e. lost (no CaseCalculated) / refused",
                    f"{steady.lost} / {steady.errors}",
                    "0 / 0",
                    met(not steady.lost and not steady.errors),
                ),
            ]
        rows += [
            (
                f"f. charge run accounts/s ({charges.items:,})",
                fmt(charges.per_second),
                f">= {TARGET_ACCOUNTS_PER_S:,.0f}",
                met(charges.per_second >= TARGET_ACCOUNTS_PER_S),
            ),
            (
                f"f. payment run accounts/s ({payments.items:,})",
                fmt(payments.per_second),
                f">= {TARGET_ACCOUNTS_PER_S:,.0f}",
                met(payments.per_second >= TARGET_ACCOUNTS_PER_S),
            ),
        ]
        rows += [
            (
                f"g. RSS MiB {name} (peak {peak:.0f})",
                fmt(now, ".0f"),
                f"<= {TARGET_RSS_MIB:.0f}",
                met(now <= TARGET_RSS_MIB),
            )
            for name, now, peak in rss
        ]
        if len(measured) > 1:
            print()
            print("## h. Scaling curve: cost per case (per child for the CHB check) at each size")
            head = f"{'cases':>10} | {'load us/case':>12} | {'CHB us/child':>12} | {'review ms/case':>14} | {'what-if us/case':>15}"
            print(head)
            print("-" * len(head))
            for m in measured:
                print(
                    f"{m.cases:>10,} | {m.load.seconds / max(1, m.load.cases) * 1e6:>12,.0f} | "
                    f"{per_case_us(m.chb, m.chb.items):>12,.0f} | "
                    f"{per_case_us(m.reviews, m.reviews.items) / 1000:>14,.1f} | "
                    f"{per_case_us(m.what_if, m.what_if.items):>15,.0f}"
                )
            # The largest size against the cheapest smaller one: the first size also pays the services' cold
            # start (connections, caches), which would make growth look smaller than it is.
            end = measured[-1]
            for label, cost in (
                ("CHB check", lambda m: per_case_us(m.chb, m.chb.items)),
                ("annual review", lambda m: per_case_us(m.reviews, m.reviews.items)),
                ("what-if", lambda m: per_case_us(m.what_if, m.what_if.items)),
            ):
                base = min(measured[:-1], key=cost)
                growth = cost(end) / cost(base) if cost(base) else math.nan
                rows.append(
                    (
                        f"h. {label} cost/case {end.cases:,} vs {base.cases:,}",
                        fmt(growth, ".2f") + "x",
                        f"<= {FLAT}x",
                        met(growth <= FLAT),
                    )
                )
        print()
        print(
            f"## Summary (bench-national{' --quick' if args.quick else ''}, {last.cases:,} cases, PostgreSQL, "
            f"{mode}; "
            f"load average {os.getloadavg()[0]:.2f} at the end, the run's own backlog included: other work on the "
            "machine, the first line's load at the start, slows every figure)"
        )
        print_summary(rows, name_width=50)
        print_sizing(
            {
                "monthly Child Benefit check": last.chb.per_second,
                "annual reviews (a day's)": last.reviews.per_second,
                "reform what-if: casework": last.what_if.per_second,
                "reform what-if: calculation (BulkCalculate)": bulk.per_second,
                "charge run": charges.per_second,
                "payment run": payments.per_second,
            },
            max(1, args.replicas),
        )
        profiler.report()
        print(f"\n# total wall time {time.monotonic() - started:.0f} s", flush=True)
        return 0
    except Exception as exc:  # noqa: BLE001 - print what failed, then clean up below
        return bench_rpc.report_failure(bench, "bench-national", exc)
    finally:
        say("stopping services ...")
        for ch in channels.values():
            ch.close()
        bench_rpc.close_stack(bench, keep=args.keep)
        if not args.keep:
            shutil.rmtree(bench.tmp, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
