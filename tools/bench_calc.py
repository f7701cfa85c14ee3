"""`make bench-calc`: throughput of the maintenance calculation, in-process and through the calculation service.

Measures, in one run:

1. in-process calculations per second on one core: N varied CalculationInput messages are generated up front (not
   timed), then the service's own path (`evaluate`: facts_from_input, the rule set in force, calculate) runs on each,
   with explain=False (what a BASIC bulk item needs) and with explain=True (the explained steps), best of two
   alternating runs each; then the common cases among them (historic income, one receiving parent, no benefit or
   variation: the engine's integer path), through the engine alone and through evaluate;
2. unary RPCs against the calculation service running as a separate process: grpc.health.v1.Health/Check (the
   empty-RPC baseline, no interceptors), PreviewCalculation (the what-if "Calculate RPC": full interceptor chain,
   explained, FULL view, varied inputs) and CreateCalculation (stored, a fresh request_id each), sequentially
   (1 client thread) and concurrently (N client threads on one channel, as bench-rpc), with Preview as a percentage
   of Health;
3. BulkCalculate streaming: a reform what-if run (100,000 varied cases under the reform rule set) and a stored
   annual-review run (10,000), in messages of 1,000 items serialized before the clock starts; every result is
   checked (request_id in order, a Calculation, not an error); the what-if rate is also given as a multiple of the
   in-process explain=False rate (how well the bulk workers spread it over the cores);
4. peak memory: the server's VmHWM (/proc/<pid>/status) and this process's ru_maxrss.

The server runs as its own process (client and server each get a core of a 2-core machine), on a SQLite file in a
temporary directory, or with `--postgres` on a fresh database `cms_bench_calculation` (as bench-rpc) on the PostgreSQL
server (CMS_POSTGRES_URL, else 127.0.0.1:5432, else a private server started for the run). A broker is started as
for bench-rpc so the outbox relay publishes CalculationCreated events during the stored runs (`--no-broker`: events
stay in the outbox, no relay). This is a benchmark, not a test: it prints numbers and exits 0 unless something could
not run at all. The summary sets each figure beside its target (the service's brief and issue 19) with a "met"
column. `--only PART` (repeatable: in-process, unary, what-if, stored) runs only those parts, e.g. to profile one
path with py-spy on the server; the what-if brings the in-process run, its yardstick.

`varied_inputs()` / `varied_input()` are the deterministic case generator; tests can reuse them.
"""

from __future__ import annotations

import argparse
import dataclasses
import datetime as dt
import functools
import itertools
import os
import platform
import random
import resource
import shutil
import signal
import sys
import tempfile
import threading
import time
import uuid
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import grpc
from google.rpc import code_pb2
from google.type import date_pb2
from grpc_health.v1 import health_pb2, health_pb2_grpc

from cms.calculation.v1 import calculation_service_pb2 as calc_api
from cms.calculation.v1 import calculation_service_pb2_grpc as calc_grpc
from cms.calculation.v1 import resources_pb2 as calc_pb
from cms.common.v1 import types_pb2 as common
from cms_calculation.calculations.convert import facts_from_input
from cms_calculation.calculations.service import MAX_BULK_ITEMS, evaluate
from cms_calculation.engine.calculate import calculate
from cms_calculation.engine.fast import calculate_common
from cms_calculation.engine.rules import REFORM_VERSION, RuleBook
from cms_devkit import infra
from cms_devkit.bench import fmt, met, print_summary
from cms_platform.errors import DomainError
from cms_platform.identity import service_caller

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(Path(__file__).resolve().parent))
# tools/ is not a package: reuse bench-rpc's process handling, load runner and report (one copy of each).
import bench_rpc  # noqa: E402

SERVICE = "calculation"
BULK_METHOD = "/cms.calculation.v1.CalculationService/BulkCalculate"
RPC_TIMEOUT = 5.0  # PreviewCalculation's and CreateCalculation's documented deadline

# Targets (the calculation service's performance brief).
TARGET_PREVIEW_VS_HEALTH = 80.0  # percent
TARGET_BULK_ITEMS_PER_S = 20_000.0
# Issue 19 (national scale), on the 2-core machines: the engine's common cases per core, a day's annual reviews
# stored, and the what-if spreading over the two bulk workers.
TARGET_COMMON_PER_CORE = 50_000.0
TARGET_STORED_ITEMS_PER_S = 5_000.0
TARGET_WHAT_IF_SCALING = (
    1.6  # what-if items/s over the in-process explain=False calcs/s of the same run
)
IN_PROCESS_ROUNDS = 2
# What one run measures (`--only` picks some): a profile of one path needs only that path running.
PARTS = ("in-process", "unary", "what-if", "stored")


# ---- sizes ---------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Plan:
    in_process: int  # calculations per in-process run (each explain mode)
    rpc: bench_rpc.Plan  # unary call counts and client threads: bench-rpc's own plan
    create_calls: int  # measured CreateCalculation calls per mode
    bulk_what_if: int  # items in the what-if BulkCalculate run
    bulk_stored: int  # items in the stored (annual review) BulkCalculate run
    batch: int = MAX_BULK_ITEMS


FULL = Plan(
    in_process=20_000,
    rpc=bench_rpc.FULL,
    create_calls=1_000,
    bulk_what_if=100_000,
    bulk_stored=10_000,
)
QUICK = Plan(
    in_process=2_000, rpc=bench_rpc.QUICK, create_calls=100, bulk_what_if=10_000, bulk_stored=2_000
)


# ---- varied cases --------------------------------------------------------------------------------------------

FORENAMES = (
    "Amy",
    "Ben",
    "Cara",
    "Dylan",
    "Ella",
    "Finn",
    "Grace",
    "Harry",
    "Isla",
    "Jack",
    "Kai",
    "Lily",
    "Mia",
    "Noah",
    "Olivia",
    "Poppy",
    "Rhys",
    "Sofia",
    "Theo",
    "Zara",
)
# reg 44(2) benefits (paying parent's or partner's receipt) and some reg 44(1) ones (paying parent's own).
MEANS_TESTED = (
    calc_pb.BENEFIT_INCOME_SUPPORT,
    calc_pb.BENEFIT_JOBSEEKERS_ALLOWANCE_INCOME_BASED,
    calc_pb.BENEFIT_EMPLOYMENT_AND_SUPPORT_ALLOWANCE_INCOME_RELATED,
    calc_pb.BENEFIT_STATE_PENSION_CREDIT,
    calc_pb.BENEFIT_UNIVERSAL_CREDIT_NO_EARNED_INCOME,
)
OWN_RECEIPT = (
    calc_pb.BENEFIT_STATE_PENSION,
    calc_pb.BENEFIT_CARERS_ALLOWANCE,
    calc_pb.BENEFIT_INCAPACITY_BENEFIT,
    calc_pb.BENEFIT_EMPLOYMENT_AND_SUPPORT_ALLOWANCE_CONTRIBUTORY,
    calc_pb.BENEFIT_JOBSEEKERS_ALLOWANCE_CONTRIBUTION_BASED,
    calc_pb.BENEFIT_WAR_DISABLEMENT_PENSION,
)
FREQUENCIES = (
    common.PAYMENT_FREQUENCY_WEEKLY,
    common.PAYMENT_FREQUENCY_FORTNIGHTLY,
    common.PAYMENT_FREQUENCY_FOUR_WEEKLY,
    common.PAYMENT_FREQUENCY_MONTHLY,
)
FIRST_DAY, LAST_DAY = dt.date(2025, 1, 1), dt.date(2026, 12, 31)


def _annual_income_pence(rng: random.Random) -> int:
    """HMRC gross income a year over £0–£250k, most £15k–£60k."""
    r = rng.random()
    if r < 0.05:
        pounds = 0  # a real nil figure
    elif r < 0.12:
        pounds = rng.randint(1, 15_000)  # flat and reduced rates
    elif r < 0.82:
        pounds = rng.randint(15_000, 60_000)  # the bulk: basic rate
    elif r < 0.96:
        pounds = rng.randint(60_000, 156_000)  # basic plus, below the cap
    else:
        pounds = rng.randint(156_000, 250_000)  # capped at £3,000 a week
    return pounds * 100 + rng.randint(0, 99)


def _tax_year(effective: dt.date) -> str:
    """The latest tax year HMRC can report at the effective date (the one that ended before the last 6 April)."""
    start = effective.year - (2 if (effective.month, effective.day) < (4, 6) else 1)
    return f"{start}-{(start + 1) % 100:02d}"


def varied_input(rng: random.Random, n: int = 0) -> calc_pb.CalculationInput:
    """One realistic, valid CalculationInput; `n` only makes the references unique. Deterministic given rng."""
    effective = FIRST_DAY + dt.timedelta(days=rng.randint(0, (LAST_DAY - FIRST_DAY).days))
    i = calc_pb.CalculationInput(
        effective_date=date_pb2.Date(year=effective.year, month=effective.month, day=effective.day),
        service_type=calc_pb.SERVICE_TYPE_DIRECT_PAY
        if rng.random() < 0.7
        else calc_pb.SERVICE_TYPE_COLLECT_AND_PAY,
        payment_frequency=rng.choice(FREQUENCIES),
        paying_parent_reference=f"bench-pp-{n}",
    )
    if i.service_type == calc_pb.SERVICE_TYPE_COLLECT_AND_PAY:
        i.compliance_status = (
            calc_pb.COMPLIANCE_STATUS_NON_COMPLIANT
            if rng.random() < 0.15
            else calc_pb.COMPLIANCE_STATUS_COMPLIANT
        )

    # Qualifying children: 1–4, over one receiving parent, or two when there are several children.
    n_children = rng.choices((1, 2, 3, 4), weights=(45, 35, 15, 5))[0]
    n_rps = 2 if n_children > 1 and rng.random() < 0.15 else 1
    for k in range(n_children):
        nights = rng.choices((0, 60, 120, 160, 200), weights=(76, 7, 7, 5, 5))[0]
        child = i.qualifying_children.add(
            child_reference=f"bench-qc-{n}-{k}",
            receiving_parent_reference=f"bench-rp-{n}-{k % n_rps}",
            shared_care_nights=nights,
            forename=rng.choice(FORENAMES),
        )
        if nights == 200 and rng.random() < 0.1:
            child.equal_day_to_day_care = (
                True  # reg 50: not a qualifying child of this paying parent
            )
    i.relevant_other_child_count = rng.choices((0, 1, 2, 3), weights=(70, 17, 9, 4))[0]
    if rng.random() < 0.03:
        i.other_arrangement_child_count = rng.randint(1, 2)

    if rng.random() < 0.01:  # not enough information: default maintenance decision
        i.default_maintenance_decision = True
        return i

    income = i.paying_parent_income
    r = rng.random()
    if r < 0.10:  # on a prescribed benefit: flat rate (or nil with shared care)
        mean_tested = rng.random() < 0.7
        i.benefits.add(
            benefit=rng.choice(MEANS_TESTED if mean_tested else OWN_RECEIPT),
            recipient=calc_pb.BENEFIT_RECIPIENT_PARTNER
            if mean_tested and rng.random() < 0.2
            else calc_pb.BENEFIT_RECIPIENT_PAYING_PARENT,
        )
        i.partner_is_paying_parent = mean_tested and rng.random() < 0.05
        income.hmrc_gross_annual_income_pence = rng.randint(0, 8_000) * 100
    elif r < 0.13:  # HMRC has nothing: current income only
        income.hmrc_income_unavailable = True
        income.current_income.gross_weekly_income_pence = rng.randint(50, 1_200) * 100
        income.current_income.estimated = rng.random() < 0.3
    else:
        income.hmrc_gross_annual_income_pence = _annual_income_pence(rng)
        if rng.random() < 0.12:  # current income held: sometimes 25% or more away
            weekly = income.hmrc_gross_annual_income_pence * 7 // 365
            income.current_income.gross_weekly_income_pence = max(
                0, int(weekly * rng.uniform(0.5, 1.6))
            )
            if rng.random() < 0.2:
                income.current_income.pension_contributions_weekly_pence = rng.randint(5, 60) * 100
        if rng.random() < 0.08:
            income.pension_contributions_annual_pence = rng.randint(500, 6_000) * 100
    if not income.hmrc_income_unavailable:
        income.hmrc_tax_year = _tax_year(effective)

    if rng.random() < 0.01:
        i.nil_rate_conditions.append(
            rng.choice(
                (
                    calc_pb.NIL_RATE_CONDITION_PRISONER,
                    calc_pb.NIL_RATE_CONDITION_CARE_HOME_FEES_MET_BY_LOCAL_AUTHORITY,
                )
            )
        )
    if rng.random() < 0.03:  # accepted variations
        i.special_expenses.add(
            kind=rng.choice(
                (
                    calc_pb.SPECIAL_EXPENSE_KIND_CONTACT_COSTS,
                    calc_pb.SPECIAL_EXPENSE_KIND_PRIOR_DEBTS,
                    calc_pb.SPECIAL_EXPENSE_KIND_PAYMENTS_FOR_FORMER_FAMILY_HOME,
                )
            ),
            weekly_amount_pence=rng.randint(5, 80) * 100,
            variation_reference=f"bench-var-{n}-se",
        )
    if rng.random() < 0.02:
        extra = i.additional_incomes.add(
            kind=calc_pb.ADDITIONAL_INCOME_KIND_UNEARNED_INCOME,
            variation_reference=f"bench-var-{n}-ai",
        )
        extra.annual_amount_pence = rng.randint(1_000, 30_000) * 100
    return i


def varied_inputs(
    count: int, *, seed: int = 2012, start: int = 0
) -> Iterator[calc_pb.CalculationInput]:
    """`count` varied inputs; the same seed gives the same sequence (references numbered from `start`)."""
    rng = random.Random(seed)
    for n in range(start, start + count):
        yield varied_input(rng, n)


# ---- 1. in process -------------------------------------------------------------------------------------------


@dataclass
class InProcess:
    explain: bool
    calcs: int
    seconds: float
    errors: Counter
    rates: Counter

    @property
    def per_second(self) -> float:
        return (
            (self.calcs - sum(self.errors.values())) / self.seconds
            if self.seconds > 0
            else float("nan")
        )


def bench_in_process(
    inputs: list[calc_pb.CalculationInput], explain: bool, rule_book: RuleBook
) -> InProcess:
    errors: Counter = Counter()
    rates: Counter = Counter()
    t0 = time.perf_counter()
    for request_input in inputs:
        try:
            result, _rules = evaluate(
                request_input=request_input, rule_book=rule_book, explain=explain
            )
        except DomainError as exc:
            errors[exc.reason] += 1
            continue
        rates[result.rate] += 1
    return InProcess(explain, len(inputs), time.perf_counter() - t0, errors, rates)


@dataclass
class CommonCases:
    """The common cases (historic income, one receiving parent, no benefit or variation: the engine's integer
    path) among the varied inputs, timed through the engine alone and through evaluate (with proto→facts)."""

    count: int
    share: float  # of the varied inputs
    engine_per_second: float
    evaluate_per_second: float


def bench_common(inputs: list[calc_pb.CalculationInput], rule_book: RuleBook) -> CommonCases:
    picked, facts, rules = [], [], []
    for request_input in inputs:
        try:
            f = facts_from_input(request_input)
        except DomainError:
            continue
        r = rule_book.in_force(f.effective_date)
        if r is not None and calculate_common(f, r) is not None:
            picked.append(request_input)
            facts.append(f)
            rules.append(r)

    def engine() -> float:
        t0 = time.perf_counter()
        for f, r in zip(facts, rules, strict=True):
            calculate(f, r, explain=False)
        return len(facts) / (time.perf_counter() - t0)

    def through_evaluate() -> float:
        t0 = time.perf_counter()
        for request_input in picked:
            evaluate(request_input=request_input, rule_book=rule_book, explain=False)
        return len(picked) / (time.perf_counter() - t0)

    best = [
        max(on_one_core(fn) for _ in range(IN_PROCESS_ROUNDS)) for fn in (engine, through_evaluate)
    ]
    return CommonCases(len(picked), len(picked) / len(inputs), best[0], best[1])


def on_one_core(fn):
    """Run fn() pinned to one CPU (the machine may have more); restores the affinity afterwards."""
    if not hasattr(os, "sched_setaffinity"):
        return fn()
    before = os.sched_getaffinity(0)
    os.sched_setaffinity(0, {min(before)})
    try:
        return fn()
    finally:
        os.sched_setaffinity(0, before)


# ---- the server ----------------------------------------------------------------------------------------------


def start_server(bench: bench_rpc.Bench, pg: str | None, *, broker: bool) -> None:
    """The calculation service alone (as bench-rpc starts it), with or without a broker."""
    bench_rpc.start_stack(bench, pg, services=(SERVICE,), broker=broker)


# ---- 2. unary RPCs -------------------------------------------------------------------------------------------


def preview_requests(count: int) -> list[calc_api.PreviewCalculationRequest]:
    return [
        calc_api.PreviewCalculationRequest(input=i, case_reference=f"bench-case-{n}")
        for n, i in enumerate(varied_inputs(count, seed=7, start=0))
    ]


def create_requests(count: int) -> Iterator[calc_api.CreateCalculationRequest]:
    for n, i in enumerate(varied_inputs(count, seed=8, start=0)):
        yield calc_api.CreateCalculationRequest(
            request_id=str(uuid.uuid4()),
            case_reference=f"bench-case-{n}",
            input=i,
            reason=calc_pb.CALCULATION_REASON_INITIAL,
        )


def bench_unary(channel: grpc.Channel, plan: Plan, metadata) -> list[bench_rpc.Result]:
    rpc = plan.rpc
    health = health_pb2_grpc.HealthStub(channel)
    calc = calc_grpc.CalculationServiceStub(channel)
    health_req = health_pb2.HealthCheckRequest(service="")
    previews = preview_requests(1_000)
    # Every CreateCalculation is a new decision: one request (own request_id) per call, warm-ups included.
    creates = iter(list(create_requests(2 * (plan.create_calls + rpc.empty_warmup) + 1)))
    creates_lock = threading.Lock()

    def preview(i: int) -> None:
        calc_ = calc.PreviewCalculation(
            previews[i % len(previews)], metadata=metadata, timeout=RPC_TIMEOUT
        )
        if calc_.rate == calc_pb.RATE_UNSPECIFIED or calc_.name:
            raise AssertionError(f"PreviewCalculation answered {calc_.rate=} {calc_.name=}")

    def create(_i: int) -> None:
        with creates_lock:
            request = next(creates)
        calc_ = calc.CreateCalculation(request, metadata=metadata, timeout=RPC_TIMEOUT)
        if not calc_.name.startswith("calculations/"):
            raise AssertionError(f"CreateCalculation stored nothing: {calc_.name=}")

    # The empty authenticated RPC: the whole CMS stack (identity, validation, logging, metrics, tracing) around a
    # handler that does almost nothing — a rule-set listing for a date no rule set covers, answered empty.
    empty_req = calc_api.ListRuleSetsRequest(
        effective_date=date_pb2.Date(year=2000, month=1, day=1)
    )

    def empty(_i: int) -> None:
        if calc.ListRuleSets(empty_req, metadata=metadata, timeout=RPC_TIMEOUT).rule_sets:
            raise AssertionError("the empty RPC answered rule sets")

    # Sanity: each call succeeds once before it is timed.
    check = health.Check(health_req, timeout=RPC_TIMEOUT)
    assert check.status == health_pb2.HealthCheckResponse.SERVING, check
    preview(0)
    create(0)

    results = bench_rpc.bench_both(
        "Health/Check (no auth)",
        lambda _i: health.Check(health_req, timeout=RPC_TIMEOUT),
        calls=rpc.empty_calls,
        warmup=rpc.empty_warmup,
        threads=rpc.threads,
    )
    results += bench_rpc.bench_both(
        "calc empty RPC (authenticated)",
        empty,
        calls=rpc.empty_calls,
        warmup=rpc.empty_warmup,
        threads=rpc.threads,
    )
    results += bench_rpc.bench_both(
        "calc PreviewCalculation",
        preview,
        calls=rpc.empty_calls,
        warmup=rpc.empty_warmup,
        threads=rpc.threads,
    )
    results += bench_rpc.bench_both(
        "calc CreateCalculation",
        create,
        calls=plan.create_calls,
        warmup=rpc.empty_warmup,
        threads=rpc.threads,
    )
    return results


def rate(r: bench_rpc.Result) -> float:
    return len(r.latencies_ms) / r.seconds if r.seconds > 0 else float("nan")


# ---- 3. BulkCalculate ----------------------------------------------------------------------------------------


@dataclass
class BulkRun:
    label: str
    items: int
    seconds: float = float("nan")
    calculations: int = 0
    errors: Counter = field(
        default_factory=Counter
    )  # per item: what went wrong instead of a calculation
    samples: list[str] = field(default_factory=list)
    stream_error: str = ""  # the status the whole stream ended with, if not OK

    @property
    def per_second(self) -> float:
        return self.calculations / self.seconds if self.seconds > 0 else float("nan")


@dataclass
class BulkPayload:
    """The run's request messages, serialized, and each message's request ids (to check the answers)."""

    messages: list[bytes]
    request_ids: list[list[str]]

    @property
    def items(self) -> int:
        return sum(len(ids) for ids in self.request_ids)


def bulk_payload(count: int, *, what_if: bool, batch: int, seed: int) -> BulkPayload:
    messages: list[bytes] = []
    ids: list[list[str]] = []
    inputs = varied_inputs(count, seed=seed)
    for first in range(0, count, batch):
        request = calc_api.BulkCalculateRequest()
        for n, i in enumerate(itertools.islice(inputs, batch), start=first):
            item = request.items.add(
                request_id=str(uuid.uuid4()),
                case_reference=f"bench-case-{n}",
                input=i,
                what_if=what_if,
            )
            if what_if:
                item.rule_set_version = REFORM_VERSION  # the reform what-if over the caseload
            else:
                item.reason = calc_pb.CALCULATION_REASON_ANNUAL_REVIEW
        messages.append(request.SerializeToString())
        ids.append([item.request_id for item in request.items])
    return BulkPayload(messages, ids)


def run_bulk(
    channel: grpc.Channel, metadata, payload: BulkPayload, *, label: str, stored: bool
) -> BulkRun:
    # Requests go out as the bytes built beforehand (no serializer); responses are parsed and checked as they come.
    call = channel.stream_stream(
        BULK_METHOD,
        request_serializer=None,
        response_deserializer=calc_api.BulkCalculateResponse.FromString,
    )
    run = BulkRun(label, payload.items)
    answered = 0

    def error(kind: str, sample: str) -> None:
        run.errors[kind] += 1
        if len(run.samples) < 5:
            run.samples.append(sample)

    t0 = time.perf_counter()
    try:
        responses = call(
            iter(payload.messages), metadata=metadata, timeout=60 + payload.items / 1000
        )
        for n, response in enumerate(responses):
            expected = payload.request_ids[n] if n < len(payload.request_ids) else []
            if len(response.results) != len(expected):
                error(
                    "wrong result count",
                    f"message {n}: {len(response.results)} results for {len(expected)} items",
                )
            for request_id, result in zip(expected, response.results, strict=False):
                answered += 1
                which = result.WhichOneof("result")
                if result.request_id != request_id:
                    error(
                        "out of order",
                        f"message {n}: {result.request_id} where {request_id} was expected",
                    )
                elif which == "error":
                    error(
                        code_pb2.Code.Name(result.error.code),
                        f"{request_id}: {result.error.message}",
                    )
                elif which != "calculation" or result.calculation.rate == calc_pb.RATE_UNSPECIFIED:
                    error("no calculation", f"{request_id}: {result}")
                elif stored != bool(result.calculation.name):
                    error(
                        "stored" if not stored else "not stored",
                        f"{request_id}: name {result.calculation.name!r}",
                    )
                else:
                    run.calculations += 1
    except grpc.RpcError as err:
        run.stream_error = f"{err.code().name}: {err.details()}"
    run.seconds = time.perf_counter() - t0
    if answered < payload.items:
        run.errors["no result"] += payload.items - answered
    print(f"  {label:<28} done in {run.seconds:5.1f} s", file=sys.stderr, flush=True)
    return run


# ---- report --------------------------------------------------------------------------------------------------


def worker_pids(pid: int) -> list[str]:
    """The server's child processes (its bulk workers)."""
    try:
        with open(f"/proc/{pid}/task/{pid}/children") as f:
            return f.read().split()
    except OSError:
        return []


def peak_rss_self_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--quick", action="store_true", help="a smoke run with fewer calculations, calls and items"
    )
    parser.add_argument(
        "--postgres", action="store_true", help="the server on PostgreSQL instead of SQLite"
    )
    parser.add_argument(
        "--no-broker", action="store_true", help="no broker: no outbox relay in the server"
    )
    parser.add_argument(
        "--threads",
        type=int,
        help="client threads for the concurrent unary runs (default as bench-rpc)",
    )
    parser.add_argument(
        "--keep",
        action="store_true",
        help="keep the temp dir (log, SQLite file) and the PG database",
    )
    parser.add_argument(
        "--only",
        action="append",
        choices=PARTS,
        help="run only this part (repeat for several; the what-if brings the in-process run, its yardstick)",
    )
    args = parser.parse_args()
    parts = set(args.only or PARTS)
    if "what-if" in parts:
        parts.add("in-process")
    plan = QUICK if args.quick else FULL
    if args.threads:
        plan = dataclasses.replace(plan, rpc=dataclasses.replace(plan.rpc, threads=args.threads))

    # A SIGTERM (e.g. from make or CI) unwinds through the finally below, so no process is left behind.
    def _terminate(signum, _frame):
        raise SystemExit(128 + signum)

    signal.signal(signal.SIGTERM, _terminate)

    started = time.monotonic()
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    print(
        f"# bench-calc{' --quick' if args.quick else ''}: nproc={cores}, Python {platform.python_version()} "
        f"({platform.python_implementation()}), grpcio {grpc.__version__}, {platform.machine()}, "
        f"load average {os.getloadavg()[0]:.2f} at start",
        flush=True,
    )

    # 1. In process, before the server exists: nothing else competes for the core.
    in_proc: list[InProcess] = []
    common: CommonCases | None = None
    if "in-process" in parts:
        print(f"generating {plan.in_process:,} varied inputs ...", file=sys.stderr, flush=True)
        inputs = list(varied_inputs(plan.in_process))
        rule_book = RuleBook()
        bench_in_process(inputs[:200], False, rule_book)  # warm-up (imports, caches)
        # Two alternating rounds, the better of each mode kept: one noisy moment on a small machine does not decide it.
        rounds = [
            [
                on_one_core(functools.partial(bench_in_process, inputs, explain, rule_book))
                for explain in (False, True)
            ]
            for _ in range(IN_PROCESS_ROUNDS)
        ]
        in_proc = [max((r[mode] for r in rounds), key=lambda r: r.per_second) for mode in (0, 1)]
        common = bench_common(inputs, rule_book)
        del inputs, rounds
        print()
        print(
            "## In-process calculations, one core (evaluate: facts_from_input + rule set in force + calculate; "
            f"best of {IN_PROCESS_ROUNDS} alternating runs)"
        )
        for r in in_proc:
            errs = f", errors: {dict(r.errors)}" if r.errors else ""
            print(
                f"explain={str(r.explain):<5}  {r.calcs:>7,} calcs in {r.seconds:6.2f} s = {r.per_second:>9,.0f} calcs/s "
                f"({1e6 / r.per_second:6.1f} us each){errs}"
            )
        mix = in_proc[0].rates
        print(
            "rate mix: "
            + ", ".join(f"{k} {100 * v / in_proc[0].calcs:.1f}%" for k, v in mix.most_common()),
            flush=True,
        )
        print(
            f"common cases ({common.count:,}, {100 * common.share:.0f}% of the inputs; explain=False): engine "
            f"{common.engine_per_second:,.0f} calcs/s ({1e6 / common.engine_per_second:.1f} us each), through evaluate "
            f"{common.evaluate_per_second:,.0f} calcs/s ({1e6 / common.evaluate_per_second:.1f} us each)",
            flush=True,
        )

    # 2-4. Against the service in its own process.
    stack = bench_rpc.Bench(tmp=Path(tempfile.mkdtemp(prefix="cms-bench-calc-")))
    # As casework, the one caller that stores decisions (CreateCalculation) and runs bulk work.
    token = stack.issuer().mint(service_caller("casework"), audience=SERVICE, ttl=4 * 3600)
    metadata = (("authorization", f"Bearer {token}"),)
    private_pg: infra.PrivatePostgres | None = None
    channel: grpc.Channel | None = None
    try:
        pg = None
        if args.postgres:
            pg = os.environ.get("CMS_POSTGRES_URL") or infra.postgres_server_url()
            if pg is None:
                print(
                    "no PostgreSQL answers on 127.0.0.1:5432: starting a private server ...",
                    file=sys.stderr,
                )
                private_pg = infra.start_private_postgres()
                pg = private_pg.url
        backend = (
            f"PostgreSQL {pg.rsplit('@', 1)[-1].rsplit('/', 1)[0]}"
            if pg
            else f"SQLite in {stack.tmp}"
        )
        print("starting the calculation service ...", file=sys.stderr, flush=True)
        server_started = time.monotonic()
        start_server(stack, pg, broker=not args.no_broker)
        server = stack.procs[SERVICE]
        print(
            f"\n# server pid {server.pid} on {stack.addresses[SERVICE]}, DB: {backend}, broker: "
            f"{stack.broker.bootstrap if stack.broker else 'none (no relay)'}; SERVING after "
            f"{time.monotonic() - server_started:.1f} s",
            flush=True,
        )
        time.sleep(1.0)
        idle = bench_rpc.proc_status(server.pid)

        channel = grpc.insecure_channel(stack.addresses[SERVICE])
        unary = bench_unary(channel, plan, metadata) if "unary" in parts else []

        wi = st = None
        if parts & {"what-if", "stored"}:
            print(
                f"building {plan.bulk_what_if:,} what-if and {plan.bulk_stored:,} stored bulk items ...",
                file=sys.stderr,
                flush=True,
            )
            warm = bulk_payload(plan.batch, what_if=True, batch=plan.batch, seed=11)
            warm_run = run_bulk(
                channel, metadata, warm, label="BulkCalculate warm-up", stored=False
            )
            if warm_run.errors or warm_run.stream_error:
                raise RuntimeError(
                    f"the BulkCalculate warm-up failed: {warm_run.stream_error} {dict(warm_run.errors)} "
                    f"{warm_run.samples}"
                )
            if "what-if" in parts:
                payload = bulk_payload(plan.bulk_what_if, what_if=True, batch=plan.batch, seed=9)
                wi = run_bulk(
                    channel, metadata, payload, label="BulkCalculate what-if", stored=False
                )
                del payload
            if "stored" in parts:
                payload = bulk_payload(plan.bulk_stored, what_if=False, batch=plan.batch, seed=10)
                st = run_bulk(channel, metadata, payload, label="BulkCalculate stored", stored=True)
                del payload
        bulk = [b for b in (wi, st) if b is not None]
        time.sleep(0.5)
        loaded = bench_rpc.proc_status(server.pid)
        workers = [bench_rpc.proc_status(int(pid)) for pid in worker_pids(server.pid)]
        if server.poll() is not None:
            print(
                f"warning: the server exited with {server.returncode} during the run:\n"
                f"{bench_rpc.log_tail(stack, SERVICE)}",
                file=sys.stderr,
            )

        conc = f"conc x{plan.rpc.threads}"
        rows: list[tuple[str, str, str, str]] = []
        if in_proc and common is not None:
            rows += [
                ("in-process calcs/s, explain=False (1 core)", fmt(in_proc[0].per_second), "", ""),
                ("in-process calcs/s, explain=True (1 core)", fmt(in_proc[1].per_second), "", ""),
                (
                    "engine common cases calcs/s (1 core)",
                    fmt(common.engine_per_second),
                    f">= {TARGET_COMMON_PER_CORE:,.0f}",
                    met(common.engine_per_second >= TARGET_COMMON_PER_CORE),
                ),
                (
                    "evaluate common cases calcs/s (1 core)",
                    fmt(common.evaluate_per_second),
                    f">= {TARGET_COMMON_PER_CORE:,.0f}",
                    met(common.evaluate_per_second >= TARGET_COMMON_PER_CORE),
                ),
            ]
        if unary:
            print()
            print(
                f"## Unary RPCs (loopback; seq = 1 client thread, conc = {plan.rpc.threads} client threads on one "
                f"channel; client and server are separate processes on {cores} cores)"
            )
            bench_rpc.print_results(unary)
            by = {(r.rpc, r.mode.split()[0]): r for r in unary}
            ratios = {
                mode: 100
                * rate(by["calc PreviewCalculation", mode])
                / rate(by["Health/Check (no auth)", mode])
                for mode in ("seq", "conc")
            }
            vs_empty = {
                mode: 100
                * rate(by["calc PreviewCalculation", mode])
                / rate(by["calc empty RPC (authenticated)", mode])
                for mode in ("seq", "conc")
            }
            print(
                f"PreviewCalculation / Health: seq {ratios['seq']:.0f}%, conc {ratios['conc']:.0f}% "
                f"(target >= {TARGET_PREVIEW_VS_HEALTH:.0f}%); / empty authenticated RPC: seq "
                f"{vs_empty['seq']:.0f}%, conc {vs_empty['conc']:.0f}%"
            )
            rows += [
                (
                    f"Health/Check calls/s ({conc})",
                    fmt(rate(by["Health/Check (no auth)", "conc"])),
                    "baseline",
                    "",
                ),
                (
                    f"PreviewCalculation calls/s ({conc})",
                    fmt(rate(by["calc PreviewCalculation", "conc"])),
                    "",
                    "",
                ),
                (
                    f"CreateCalculation calls/s ({conc})",
                    fmt(rate(by["calc CreateCalculation", "conc"])),
                    "",
                    "",
                ),
                (
                    "Preview as % of Health (seq x1)",
                    fmt(ratios["seq"], ".0f") + "%",
                    f">= {TARGET_PREVIEW_VS_HEALTH:.0f}%",
                    met(ratios["seq"] >= TARGET_PREVIEW_VS_HEALTH),
                ),
                (
                    f"Preview as % of Health ({conc})",
                    fmt(ratios["conc"], ".0f") + "%",
                    f">= {TARGET_PREVIEW_VS_HEALTH:.0f}%",
                    met(ratios["conc"] >= TARGET_PREVIEW_VS_HEALTH),
                ),
                (
                    f"empty authenticated RPC calls/s ({conc})",
                    fmt(rate(by["calc empty RPC (authenticated)", "conc"])),
                    "",
                    "",
                ),
                (
                    "Preview as % of empty auth. RPC (seq x1)",
                    fmt(vs_empty["seq"], ".0f") + "%",
                    f">= {TARGET_PREVIEW_VS_HEALTH:.0f}%",
                    met(vs_empty["seq"] >= TARGET_PREVIEW_VS_HEALTH),
                ),
                (
                    f"Preview as % of empty auth. RPC ({conc})",
                    fmt(vs_empty["conc"], ".0f") + "%",
                    f">= {TARGET_PREVIEW_VS_HEALTH:.0f}%",
                    met(vs_empty["conc"] >= TARGET_PREVIEW_VS_HEALTH),
                ),
            ]

        if bulk:
            print()
            print(
                f"## BulkCalculate (one stream, {plan.batch:,} items a message, BASIC view, requests serialized "
                "before timing, every result checked)"
            )
        for b in bulk:
            print(
                f"{b.label:<24} {b.items:>8,} items in {b.seconds:7.2f} s = {b.per_second:>9,.0f} items/s, "
                f"{b.calculations:,} calculations, {sum(b.errors.values())} errors"
            )
            if b.stream_error:
                print(f"  the stream ended with {b.stream_error}")
            if b.errors:
                print("  errors: " + ", ".join(f"{k} x{v}" for k, v in b.errors.most_common()))
                for sample in b.samples:
                    print(f"    {sample}")
        if wi is not None:
            scaling = wi.per_second / in_proc[0].per_second
            rows += [
                (
                    f"BulkCalculate what-if items/s ({wi.items:,})",
                    fmt(wi.per_second),
                    f">= {TARGET_BULK_ITEMS_PER_S:,.0f}",
                    met(wi.per_second >= TARGET_BULK_ITEMS_PER_S),
                ),
                ("BulkCalculate what-if total s", fmt(wi.seconds, ".2f"), "", ""),
                (
                    "what-if items/s / in-process explain=False",
                    fmt(scaling, ".2f") + "x",
                    f">= {TARGET_WHAT_IF_SCALING}x",
                    met(scaling >= TARGET_WHAT_IF_SCALING),
                ),
                (
                    "BulkCalculate what-if errors",
                    str(sum(wi.errors.values())),
                    "0",
                    met(not wi.errors),
                ),
            ]
        if st is not None:
            rows += [
                (
                    f"BulkCalculate stored items/s ({st.items:,})",
                    fmt(st.per_second),
                    f">= {TARGET_STORED_ITEMS_PER_S:,.0f}",
                    met(st.per_second >= TARGET_STORED_ITEMS_PER_S),
                ),
                (
                    "BulkCalculate stored errors",
                    str(sum(st.errors.values())),
                    "0",
                    met(not st.errors),
                ),
            ]

        print()
        print("## Memory")
        server_peak, client_peak = bench_rpc.mib(loaded, "VmHWM"), peak_rss_self_mib()
        print(
            f"server pid {server.pid}: idle RSS {bench_rpc.mib(idle, 'VmRSS'):.1f} MiB, after the load "
            f"{bench_rpc.mib(loaded, 'VmRSS'):.1f} MiB, peak (VmHWM) {server_peak:.1f} MiB, "
            f"threads {loaded.get('Threads', '?')}"
        )
        workers_peak = sum(bench_rpc.mib(w, "VmHWM") for w in workers)
        print(
            f"bulk worker processes: {len(workers)}, peak (VmHWM) {workers_peak:.1f} MiB together"
        )
        print(
            f"benchmark process (client, pre-built requests and results): peak (ru_maxrss) {client_peak:.1f} MiB"
        )
        rows += [
            ("server peak RSS MiB (VmHWM)", fmt(server_peak, ".1f"), "", ""),
            (
                f"bulk workers x{len(workers)} peak RSS MiB (VmHWM, sum)",
                fmt(workers_peak, ".1f"),
                "",
                "",
            ),
            ("benchmark process peak RSS MiB (ru_maxrss)", fmt(client_peak, ".1f"), "", ""),
        ]

        print()
        only = "" if parts == set(PARTS) else f", only {', '.join(p for p in PARTS if p in parts)}"
        print(
            f"## Summary (bench-calc{' --quick' if args.quick else ''}, DB: {'PostgreSQL' if pg else 'SQLite'}"
            f"{only})"
        )
        print_summary(rows)
        print(f"\n# total wall time {time.monotonic() - started:.0f} s", flush=True)
        return 0
    except Exception as exc:  # noqa: BLE001 - print what failed, then clean up below
        return bench_rpc.report_failure(stack, "bench-calc", exc, lines=20)
    finally:
        print("stopping the service ...", file=sys.stderr, flush=True)
        if channel is not None:
            channel.close()
        if args.keep:
            stack.pg_urls.clear()
        bench_rpc.stop_stack(stack)
        if private_pg is not None:
            private_pg.stop()
        if args.keep:
            print(f"kept {stack.tmp}", file=sys.stderr)
        else:
            shutil.rmtree(stack.tmp, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
