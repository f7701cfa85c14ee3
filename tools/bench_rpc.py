"""`make bench-rpc`: RPC latency/throughput and idle memory of the five services, on loopback.

Starts a broker and the five services as real separate processes (cms_devkit.stack, as `make run` does, but on free
ports, with SQLite files in a temporary directory, or with fresh PostgreSQL databases `cms_bench_<svc>` when
CMS_POSTGRES_URL is set), then measures:

1. empty RPCs: grpc.health.v1.Health/Check (no interceptors: the raw-transport baseline),
   CalculationService/ListRuleSets for a date no rule set covers (the empty authenticated RPC: the full server
   interceptor chain, tracing, identity, access policy, validation, logging, metrics, around a servicer that
   answers an empty list from memory) and CalculationService/PreviewCalculation (the same chain around a
   calculation: pure computation, no database); the summary sets the chain's cost against issue 19's targets
   (the empty authenticated RPC >= 80% of Health's calls/s, PreviewCalculation >= 80% of the empty one's);
2. skeleton RPCs: CaseworkService/CreateCase (one DB transaction + outbox) and CalculateCase on fresh
   cases (hmrc-gateway GetSummaryOfEarnedIncome + calculation CreateCalculation over gRPC, DB + outbox);
3. each service's resident memory (VmRSS) after start-up and after the load.

With --profile-chain it starts nothing: it runs the empty authenticated RPC through a GrpcServer's interceptors
in this process (no transport), N times, and prints the cost per call and cProfile's top functions: where the
chain's time goes, apart from grpc's own.

Each RPC runs sequentially (1 client thread) and concurrently (N client threads sharing one channel), after
an unmeasured warm-up. The client runs on the same machine as the servers and competes with them for CPU.
This is a benchmark, not a test: it prints numbers and exits 0 unless something could not run at all.
"""

from __future__ import annotations

import argparse
import dataclasses
import datetime as dt
import itertools
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
import uuid
from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import grpc
from google.type import date_pb2
from grpc_health.v1 import health_pb2, health_pb2_grpc

from cms.calculation.v1 import calculation_service_pb2 as calc_api
from cms.calculation.v1 import calculation_service_pb2_grpc as calc_grpc
from cms.calculation.v1 import resources_pb2 as calc_pb
from cms.casework.v1 import casework_service_pb2 as case_api
from cms.casework.v1 import casework_service_pb2_grpc as case_grpc
from cms.casework.v1 import resources_pb2 as case_pb
from cms_devkit import infra
from cms_devkit.bench import met, print_summary
from cms_devkit.families import families
from cms_devkit.issuer import SERVICES as AUDIENCES
from cms_devkit.issuer import LocalIssuer
from cms_devkit.stack import SERVICES, Stack
from cms_platform import db
from cms_platform.identity import Caller, staff_caller

ROOT = Path(__file__).resolve().parent.parent

# ---- call counts ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Plan:
    empty_calls: int  # measured calls per empty-RPC run (each mode)
    empty_warmup: int  # unmeasured calls before each empty-RPC run
    skeleton_calls: int  # measured CalculateCase (and CreateCase) calls per mode
    skeleton_warmup: int
    threads: int  # client threads for the concurrent empty-RPC runs
    skeleton_threads: int  # client threads for the concurrent skeleton runs


FULL = Plan(
    empty_calls=3000,
    empty_warmup=300,
    skeleton_calls=500,
    skeleton_warmup=20,
    threads=8,
    skeleton_threads=4,
)
QUICK = Plan(
    empty_calls=200,
    empty_warmup=30,
    skeleton_calls=20,
    skeleton_warmup=3,
    threads=8,
    skeleton_threads=4,
)

EMPTY_TIMEOUT = 5.0  # seconds; every call passes a deadline
# Issue 19's bars for the per-RPC chain, each measured in the same run: calls/s of one RPC over another's.
TARGET_EMPTY_OVER_HEALTH = 0.80
TARGET_PREVIEW_OVER_EMPTY = 0.80
HEALTH = "Health/Check (no auth)"
EMPTY = "calc ListRuleSets (empty)"
PREVIEW = "calc PreviewCalculation"
# The services run on the wall clock; the families are chosen as of the same day.
BENCH_DAY = dt.date.today()
CREATE_CASE_TIMEOUT = 5.0  # CreateCase's documented deadline
CALCULATE_TIMEOUT = 15.0  # CalculateCase's documented deadline


# ---- processes -----------------------------------------------------------------------------------------------


@dataclass
class Bench:
    """A benchmark's broker and services (cms_devkit.stack, as `make run` starts them) in a temporary directory."""

    tmp: Path
    broker: infra.Broker | None = None
    stack: Stack | None = None
    pg_urls: list[str] = field(default_factory=list)
    _issuer: LocalIssuer | None = None

    def issuer(self) -> LocalIssuer:
        """The benchmark's own local issuer (a key pair in tmp): the services trust it, the clients mint with it."""
        if self._issuer is None:
            self._issuer = LocalIssuer.create(self.tmp / "identity")
        return self._issuer

    def metadata(self, caller: Caller, *, ttl: int = 4 * 3600) -> tuple[tuple[str, str], ...]:
        """Call metadata bearing a token the issuer mints for `caller`, good for every service (longer than any
        benchmark runs by default)."""
        token = self.issuer().mint(caller, audience=AUDIENCES, ttl=ttl)
        return (("authorization", f"Bearer {token}"),)

    @property
    def addresses(self) -> Mapping[str, str]:
        return self.stack.addresses if self.stack else {}

    @property
    def procs(self) -> dict[str, subprocess.Popen]:
        return self.stack.procs if self.stack else {}


def start_stack(
    bench: Bench,
    pg: str | None,
    db_prefix: str = "cms_bench_",
    *,
    services: Sequence[str] = tuple(s.name for s in SERVICES),
    broker: bool = True,
    settings: Mapping[str, str] | None = None,
    own: Mapping[str, Mapping[str, str]] | None = None,
    start_timeout: float | None = None,
) -> None:
    """The broker (unless not `broker`: events then wait in the outbox) and the services (default all five), with
    `settings` added to every service's environment and `own` to one service's; on PostgreSQL, databases
    `<db_prefix><service>` made afresh (each bench its own prefix, so two benches on one server never drop each
    other's)."""
    if broker:  # a free port, never the 9092 of a running `make run`
        bench.broker = infra.start_broker(None)
    bench.stack = Stack(
        var=bench.tmp,
        bootstrap=bench.broker.bootstrap if bench.broker else None,
        addresses={name: f"127.0.0.1:{infra.free_port()}" for name in services},
        issuer=bench.issuer(),
        postgres=pg,
        # Nothing inherited may point a benchmark service at someone else's database, ports or metrics port.
        inherit=False,
        extra={"LOG_LEVEL": "WARNING", "SHUTDOWN_GRACE_SECONDS": "2", **(settings or {})},
        own={name: dict(values) for name, values in (own or {}).items()},
        cwd=ROOT,
        database_prefix=db_prefix,
        new_session=True,
    )
    for name in services:
        url = bench.stack.database_url(name)
        if url:
            bench.pg_urls.append(url)
            db.drop_database(url)
            db.ensure_database(url)
    bench.stack.write_service_tokens(ttl=4 * 3600)  # good for longer than any benchmark runs
    try:
        if start_timeout is None:
            bench.stack.start_all()
        else:
            bench.stack.start_all(timeout=start_timeout)
    except RuntimeError as exc:
        name = str(exc).split(":", 1)[0]
        raise RuntimeError(f"{exc}\n{log_tail(bench, name)}") from None


def log_tail(bench: Bench, name: str, lines: int = 30) -> str:
    try:
        assert bench.stack is not None
        text = bench.stack.log_path(name).read_text(errors="replace")
        return "\n".join(text.splitlines()[-lines:])
    except (OSError, AssertionError):
        return "(no log)"


def report_failure(bench: Bench, what: str, exc: BaseException, *, lines: int = 10) -> int:
    """Why a benchmark could not run, with each service's log tail, on stderr; the exit code to return."""
    print(f"{what} failed: {type(exc).__name__}: {exc}", file=sys.stderr)
    for name in bench.procs:
        print(f"--- {name} log tail ---\n{log_tail(bench, name, lines)}", file=sys.stderr)
    return 1


def close_stack(bench: Bench, *, keep: bool) -> None:
    """Stop the services; unless `keep`, drop their databases and files too."""
    if keep:
        bench.pg_urls.clear()
    stop_stack(bench)
    if keep:
        print(f"kept {bench.tmp}", file=sys.stderr)
    else:
        shutil.rmtree(bench.tmp, ignore_errors=True)


def stop_stack(bench: Bench) -> None:
    if bench.stack is not None:
        for name in bench.stack.stop_all(timeout=20):
            print(f"  {name} did not stop in 20 s; killed it", file=sys.stderr)
    if bench.broker is not None:
        bench.broker.stop()
    for url in bench.pg_urls:
        try:
            db.drop_database(url)
        except Exception as exc:  # noqa: BLE001 - cleanup is best effort; report and carry on
            print(f"  could not drop {url.rsplit('/', 1)[-1]}: {exc}", file=sys.stderr)


def proc_status(pid: int) -> dict[str, str]:
    out = {}
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                key, _, value = line.partition(":")
                out[key] = value.strip()
    except OSError:
        pass
    return out


def mib(status: dict[str, str], key: str) -> float:
    value = status.get(key, "")
    return int(value.split()[0]) / 1024 if value.endswith("kB") else float("nan")


# ---- load generation -----------------------------------------------------------------------------------------


@dataclass
class Result:
    rpc: str
    mode: str
    calls: int
    errors: Counter
    seconds: float
    latencies_ms: list[float]

    def pct(self, p: float) -> float:
        if not self.latencies_ms:
            return float("nan")
        data = sorted(self.latencies_ms)
        return data[max(0, math.ceil(p / 100 * len(data)) - 1)]


def run_load(
    rpc: str,
    mode: str,
    call: Callable[[int], None],
    *,
    calls: int,
    threads: int,
    expected: tuple[grpc.StatusCode, ...] = (),
) -> Result:
    """`calls` invocations of call(i), i = 0..calls-1, spread over `threads` client threads pulling work."""
    indexes = iter(range(calls))
    lock = threading.Lock()
    per_thread: list[list[float]] = [[] for _ in range(threads)]
    errors: Counter = Counter()
    start = threading.Barrier(threads + 1)

    def worker(slot: int) -> None:
        lat = per_thread[slot]
        start.wait()
        while True:
            with lock:
                i = next(indexes, None)
            if i is None:
                return
            t0 = time.perf_counter()
            try:
                call(i)
            except grpc.RpcError as err:
                if err.code() not in expected:
                    errors[err.code().name] += 1
                    continue
            except Exception as exc:  # noqa: BLE001 - a wrong answer counts as an error, the run goes on
                errors[type(exc).__name__] += 1
                continue
            lat.append((time.perf_counter() - t0) * 1000)

    workers = [threading.Thread(target=worker, args=(n,), daemon=True) for n in range(threads)]
    for w in workers:
        w.start()
    start.wait()
    t0 = time.perf_counter()
    for w in workers:
        w.join()
    elapsed = time.perf_counter() - t0
    return Result(
        rpc, mode, calls, errors, elapsed, list(itertools.chain.from_iterable(per_thread))
    )


def bench_both(
    rpc: str,
    call: Callable[[int], None],
    *,
    calls: int,
    warmup: int,
    threads: int,
    expected: tuple[grpc.StatusCode, ...] = (),
) -> list[Result]:
    results = []
    for mode, n in (("seq x1", 1), (f"conc x{threads}", threads)):
        run_load(rpc, "warm-up", call, calls=warmup, threads=n, expected=expected)
        results.append(run_load(rpc, mode, call, calls=calls, threads=n, expected=expected))
        print(
            f"  {rpc:<28} {mode:<8} done in {results[-1].seconds:5.1f} s",
            file=sys.stderr,
            flush=True,
        )
    return results


def preview_input() -> calc_pb.CalculationInput:
    # As services/calculation/tests/test_calculation_api.py calc_input(): £31,200 a year, two children.
    return calc_pb.CalculationInput(
        effective_date=date_pb2.Date(year=2026, month=5, day=1),
        paying_parent_income=calc_pb.PayingParentIncome(
            hmrc_gross_annual_income_pence=31_200_00, hmrc_tax_year="2025-26"
        ),
        qualifying_children=[
            calc_pb.QualifyingChild(child_reference=f"child-{i}", receiving_parent_reference="rp-1")
            for i in range(2)
        ],
        service_type=calc_pb.SERVICE_TYPE_DIRECT_PAY,
    )


def empty_request() -> calc_api.ListRuleSetsRequest:
    """The empty authenticated RPC's request: rule sets in force on a date before the 2012 scheme (none)."""
    return calc_api.ListRuleSetsRequest(effective_date=date_pb2.Date(year=1990, month=1, day=1))


def run_benchmarks(stack: Bench, plan: Plan, metadata, *, skeleton: bool = True) -> list[Result]:
    results: list[Result] = []
    calc_channel = grpc.insecure_channel(stack.addresses["calculation"])
    case_channel = grpc.insecure_channel(stack.addresses["casework"])
    try:
        health = health_pb2_grpc.HealthStub(calc_channel)
        calc = calc_grpc.CalculationServiceStub(calc_channel)
        case = case_grpc.CaseworkServiceStub(case_channel)

        # Sanity: the calls the benchmark makes must succeed (or fail as expected) before timing them.
        check = health.Check(health_pb2.HealthCheckRequest(service=""), timeout=EMPTY_TIMEOUT)
        assert check.status == health_pb2.HealthCheckResponse.SERVING, check
        preview_req = calc_api.PreviewCalculationRequest(
            input=preview_input(), case_reference="bench"
        )
        sample = calc.PreviewCalculation(preview_req, metadata=metadata, timeout=EMPTY_TIMEOUT)
        assert sample.weekly_amount_pence > 0, sample

        empty = empty_request()
        listed = calc.ListRuleSets(empty, metadata=metadata, timeout=EMPTY_TIMEOUT)
        assert not listed.rule_sets and not listed.next_page_token, listed

        health_req = health_pb2.HealthCheckRequest(service="")
        results += bench_both(
            HEALTH,
            lambda _i: health.Check(health_req, timeout=EMPTY_TIMEOUT),
            calls=plan.empty_calls,
            warmup=plan.empty_warmup,
            threads=plan.threads,
        )
        results += bench_both(
            EMPTY,
            lambda _i: calc.ListRuleSets(empty, metadata=metadata, timeout=EMPTY_TIMEOUT),
            calls=plan.empty_calls,
            warmup=plan.empty_warmup,
            threads=plan.threads,
        )
        results += bench_both(
            PREVIEW,
            lambda _i: calc.PreviewCalculation(
                preview_req, metadata=metadata, timeout=EMPTY_TIMEOUT
            ),
            calls=plan.empty_calls,
            warmup=plan.empty_warmup,
            threads=plan.threads,
        )
        missing = calc_api.GetCalculationRequest(name="calculations/bench-missing")
        results += bench_both(
            "calc GetCalculation (404)",
            lambda _i: calc.GetCalculation(missing, metadata=metadata, timeout=EMPTY_TIMEOUT),
            calls=plan.empty_calls,
            warmup=plan.empty_warmup,
            threads=plan.threads,
            expected=(grpc.StatusCode.NOT_FOUND,),
        )
        if not skeleton:
            return results

        # Skeleton: CreateCase makes the cases (timed too), then CalculateCase runs once on each fresh case.
        n_cases = 2 * (plan.skeleton_calls + plan.skeleton_warmup) + 1
        names: list[str | None] = [None] * n_cases

        # One family per case: casework keeps one open case per pair of parents.
        family = families(on=BENCH_DAY, plain=True)
        requests = [next(family).create_case_request() for _ in range(n_cases)]

        def create(i: int) -> None:
            created = case.CreateCase(requests[i], metadata=metadata, timeout=CREATE_CASE_TIMEOUT)
            if created.state != case_pb.CASE_STATE_APPLICATION:
                raise AssertionError(f"CreateCase returned state {created.state}")
            names[i] = created.name

        create(0)  # sanity
        run_load(
            "CreateCase", "warm-up", lambda i: create(i + 1), calls=plan.skeleton_warmup, threads=1
        )
        offset = 1 + plan.skeleton_warmup
        half = (n_cases - offset) // 2
        res = run_load(
            "case CreateCase", "seq x1", lambda i: create(offset + i), calls=half, threads=1
        )
        results.append(res)
        print(
            f"  {res.rpc:<28} {res.mode:<8} done in {res.seconds:5.1f} s",
            file=sys.stderr,
            flush=True,
        )
        res = run_load(
            "case CreateCase",
            f"conc x{plan.skeleton_threads}",
            lambda i: create(offset + half + i),
            calls=n_cases - offset - half,
            threads=plan.skeleton_threads,
        )
        results.append(res)
        print(
            f"  {res.rpc:<28} {res.mode:<8} done in {res.seconds:5.1f} s",
            file=sys.stderr,
            flush=True,
        )
        cases = [n for n in names if n]
        if len(cases) < n_cases:
            print(f"  warning: only {len(cases)} of {n_cases} cases were created", file=sys.stderr)

        pool = iter(cases)
        pool_lock = threading.Lock()

        def calculate(_i: int) -> None:
            with pool_lock:
                name = next(pool)
            done = case.CalculateCase(
                case_api.CalculateCaseRequest(request_id=str(uuid.uuid4()), name=name),
                metadata=metadata,
                timeout=CALCULATE_TIMEOUT,
            )
            if (
                not done.HasField("latest_calculation")
                or done.latest_calculation.weekly_amount_pence <= 0
            ):
                raise AssertionError(f"CalculateCase on {name} stored no calculation")

        calculate(0)  # sanity: hmrc-gateway matches the paying parent and calculation answers
        budget = len(cases) - 1
        per_mode = min(plan.skeleton_calls, (budget - 2 * plan.skeleton_warmup) // 2)
        results += bench_both(
            "case CalculateCase",
            calculate,
            calls=per_mode,
            warmup=plan.skeleton_warmup,
            threads=plan.skeleton_threads,
        )
    finally:
        calc_channel.close()
        case_channel.close()
    return results


# ---- the chain in-process --------------------------------------------------------------------------------------


class _Metadatum(tuple):
    """One item of a call's metadata as grpc gives it: a (key, value) pair with .key and .value."""

    key = property(lambda self: self[0])
    value = property(lambda self: self[1])


class _Context:
    """What the interceptors ask of a call's servicer context."""

    def __init__(self, metadata: tuple) -> None:
        self._metadata = metadata

    def invocation_metadata(self) -> tuple:
        return self._metadata

    def peer(self) -> str:
        return "ipv4:127.0.0.1:45678"

    def set_trailing_metadata(self, _metadata: object) -> None:
        pass

    def time_remaining(self) -> float:
        return EMPTY_TIMEOUT

    def code(self) -> None:
        return None

    def details(self) -> None:
        return None


def profile_chain(calls: int, top: int) -> None:
    """The empty authenticated RPC through the interceptors of a real GrpcServer (the calculation contract, its access
    policies, a local issuer's token, tracing and logging configured as a service does, at WARNING as the benchmark
    runs them), called in this process: microseconds per call, then cProfile's top functions by own time."""
    import cProfile
    import gc
    import pstats
    import timeit

    from cms_platform.identity import IdentityVerifier, TrustedIssuer
    from cms_platform.logs import configure_logging
    from cms_platform.server import GrpcServer, ServiceRegistration
    from cms_platform.telemetry import configure_tracing

    configure_logging(service="calculation", level="WARNING")
    configure_tracing("calculation")
    issuer = LocalIssuer.create(Path(tempfile.mkdtemp(prefix="cms-bench-chain-")))
    token = issuer.mint(staff_caller("bench", "caseworker"), audience=AUDIENCES, ttl=3600)
    empty = calc_api.ListRuleSetsResponse()

    class Servicer(calc_grpc.CalculationServiceServicer):
        def ListRuleSets(self, request, context):
            return empty

    full_name = calc_api.DESCRIPTOR.services_by_name["CalculationService"].full_name
    server = GrpcServer(
        service="calculation",
        registrations=[
            ServiceRegistration(
                full_name, calc_grpc.add_CalculationServiceServicer_to_server, Servicer()
            )
        ],
        identity=IdentityVerifier(
            [TrustedIssuer.model_validate(issuer.trusted())], audience="calculation"
        ),
        host="127.0.0.1",
    )
    handler = grpc.unary_unary_rpc_method_handler(
        Servicer().ListRuleSets,
        calc_api.ListRuleSetsRequest.FromString,
        calc_api.ListRuleSetsResponse.SerializeToString,
    )
    metadata = tuple(
        _Metadatum(m)
        for m in (
            ("user-agent", f"grpc-python/{grpc.__version__}"),
            ("authorization", f"Bearer {token}"),
        )
    )

    class Details(grpc.HandlerCallDetails):
        method = f"/{full_name}/ListRuleSets"
        invocation_metadata = metadata

    def through(interceptors: list, details: grpc.HandlerCallDetails) -> grpc.RpcMethodHandler:
        """The handler as grpc's pipeline gets it: each interceptor around the next, the servicer's last."""
        if not interceptors:
            return handler
        return interceptors[0].intercept_service(lambda d: through(interceptors[1:], d), details)

    request, context = empty_request(), _Context(metadata)

    def one() -> None:
        through(server.interceptors, Details()).unary_unary(request, context)

    one()
    gc.freeze()  # as a service does after start-up
    per_call = min(timeit.repeat(one, number=calls, repeat=3)) / calls * 1e6
    print(
        f"# the empty authenticated RPC through {len(server.interceptors)} server interceptor(s), in-process, "
        f"no transport: {per_call:.1f} us a call (best of 3 x {calls})"
    )
    profiler = cProfile.Profile()
    profiler.runcall(lambda: [one() for _ in range(calls)])
    pstats.Stats(profiler).strip_dirs().sort_stats("tottime").print_stats(top)


# ---- report --------------------------------------------------------------------------------------------------


def print_results(results: list[Result]) -> None:
    head = (
        f"{'rpc':<28} | {'mode':<8} | {'calls':>6} | {'errors':>6} | {'calls/s':>8} | {'p50 ms':>7} | "
        f"{'p99 ms':>7} | {'max ms':>7}"
    )
    print(head)
    print("-" * len(head))
    for r in results:
        ok = len(r.latencies_ms)
        rate = ok / r.seconds if r.seconds > 0 else float("nan")
        print(
            f"{r.rpc:<28} | {r.mode:<8} | {r.calls:>6} | {sum(r.errors.values()):>6} | {rate:>8.1f} | "
            f"{r.pct(50):>7.2f} | {r.pct(99):>7.2f} | {max(r.latencies_ms, default=float('nan')):>7.2f}"
        )
    failures = [(r, r.errors) for r in results if r.errors]
    for r, errs in failures:
        print(
            f"  errors in {r.rpc} {r.mode}: "
            + ", ".join(f"{k} x{v}" for k, v in errs.most_common())
        )


def rate(results: list[Result], rpc: str, mode: str) -> float:
    """Calls/s of `rpc` in `mode` ("seq" or "conc"), NaN when it did not run."""
    for r in results:
        if r.rpc == rpc and r.mode.startswith(mode) and r.seconds > 0:
            return len(r.latencies_ms) / r.seconds
    return float("nan")


def print_chain_summary(results: list[Result], *, quick: bool) -> None:
    """Issue 19's per-RPC chain targets: each ratio of calls/s from this run, sequential and concurrent."""
    rows = []
    for mode in ("seq", "conc"):
        health, empty, preview = (rate(results, rpc, mode) for rpc in (HEALTH, EMPTY, PREVIEW))
        for name, ratio, target in (
            (f"empty authenticated / Health, {mode}", empty / health, TARGET_EMPTY_OVER_HEALTH),
            (
                f"PreviewCalculation / empty authenticated, {mode}",
                preview / empty,
                TARGET_PREVIEW_OVER_EMPTY,
            ),
        ):
            rows.append((name, f"{ratio:.0%}", f">= {target:.0%}", met(ratio >= target)))
    print(
        f"## Summary (bench-rpc{' --quick' if quick else ''}): the per-RPC interceptor chain, calls/s of one RPC "
        "over another's in this run"
    )
    print_summary(rows, name_width=50)


def print_memory(
    stack: Bench, idle: dict[str, dict[str, str]], loaded: dict[str, dict[str, str]]
) -> None:
    head = (
        f"{'service':<13} | {'pid':>7} | {'idle RSS MiB':>12} | {'after-load RSS MiB':>18} | "
        f"{'peak RSS MiB':>12} | {'threads':>7}"
    )
    print(head)
    print("-" * len(head))
    total_idle = total_loaded = 0.0
    for name, proc in stack.procs.items():
        i, a = mib(idle[name], "VmRSS"), mib(loaded[name], "VmRSS")
        total_idle += i
        total_loaded += a
        print(
            f"{name:<13} | {proc.pid:>7} | {i:>12.1f} | {a:>18.1f} | {mib(loaded[name], 'VmHWM'):>12.1f} | "
            f"{loaded[name].get('Threads', '?'):>7}"
        )
    print(
        f"{'total':<13} | {'':>7} | {total_idle:>12.1f} | {total_loaded:>18.1f} | {'':>12} | {'':>7}"
    )


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--quick", action="store_true", help="a smoke run with few calls")
    parser.add_argument(
        "--threads", type=int, help="client threads for the concurrent empty-RPC runs (default 8)"
    )
    parser.add_argument(
        "--profile-chain",
        type=int,
        metavar="N",
        help="start nothing: N empty authenticated RPCs through the interceptors in-process, then a profile",
    )
    parser.add_argument(
        "--empty-only",
        action="store_true",
        help="only the empty RPCs and the chain's summary (no CreateCase/CalculateCase)",
    )
    parser.add_argument(
        "--keep",
        action="store_true",
        help="keep the temp dir (logs, SQLite files) and PG databases",
    )
    args = parser.parse_args()
    if args.profile_chain:
        profile_chain(args.profile_chain, top=25)
        return 0
    plan = QUICK if args.quick else FULL
    if args.threads:
        plan = dataclasses.replace(plan, threads=args.threads)

    # A SIGTERM (e.g. from make or CI) unwinds through the finally below, so no service is left behind.
    def _terminate(signum, _frame):
        raise SystemExit(128 + signum)

    signal.signal(signal.SIGTERM, _terminate)

    pg = os.environ.get("CMS_POSTGRES_URL")
    stack = Bench(tmp=Path(tempfile.mkdtemp(prefix="cms-bench-")))
    backend = (
        f"PostgreSQL {pg.rsplit('@', 1)[-1]} (databases cms_bench_<svc>)"
        if pg
        else f"SQLite files in {stack.tmp}"
    )
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    print(
        f"# bench-rpc{' --quick' if args.quick else ''}: nproc={cores}, Python {platform.python_version()} "
        f"({platform.python_implementation()}), grpcio {grpc.__version__}, {platform.machine()}, "
        f"DB: {backend}, load average {os.getloadavg()[0]:.2f} at start",
        flush=True,
    )
    metadata = stack.metadata(staff_caller("bench", "caseworker"))
    started = time.monotonic()
    try:
        print("starting broker and services ...", file=sys.stderr, flush=True)
        start_stack(stack, pg)
        print(
            f"# broker {stack.broker.bootstrap}; services: "
            + ", ".join(f"{n} {a}" for n, a in stack.addresses.items())
            + f"; all SERVING after {time.monotonic() - started:.1f} s",
            flush=True,
        )
        time.sleep(
            3.0
        )  # let relays and consumers connect, so "idle" is the steady state after start-up
        idle = {name: proc_status(proc.pid) for name, proc in stack.procs.items()}
        results = run_benchmarks(stack, plan, metadata, skeleton=not args.empty_only)
        time.sleep(1.0)
        loaded = {name: proc_status(proc.pid) for name, proc in stack.procs.items()}
        for name, proc in stack.procs.items():
            if proc.poll() is not None:
                print(
                    f"warning: {name} exited with {proc.returncode} during the run:\n{log_tail(stack, name)}",
                    file=sys.stderr,
                )
        print()
        print(
            f"## RPCs (loopback; seq = 1 client thread, conc = N client threads on one channel; "
            f"client shares the {cores} cores with the servers)"
        )
        print_results(results)
        print()
        print_chain_summary(results, quick=args.quick)
        print()
        print("## Service memory (VmRSS from /proc/<pid>/status; peak = VmHWM)")
        print_memory(stack, idle, loaded)
        print(f"\n# total wall time {time.monotonic() - started:.0f} s", flush=True)
        return 0
    except Exception as exc:  # noqa: BLE001 - print what failed, then clean up below
        return report_failure(stack, "bench-rpc", exc)
    finally:
        print("stopping services ...", file=sys.stderr, flush=True)
        close_stack(stack, keep=args.keep)


if __name__ == "__main__":
    sys.exit(main())
