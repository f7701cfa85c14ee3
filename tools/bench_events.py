"""`make bench-events`: how long the work a consumed event causes takes, from a CIS broadcast to casework's
recalculated CaseCalculated.

Starts a broker and the five services as separate processes with their default settings (bench_rpc.start_stack:
free ports, SQLite files in a temporary directory, or fresh PostgreSQL databases `cms_bench_events_<svc>` when
CMS_POSTGRES_URL is set), creates N live cases for families from the synthetic population (cms_devkit.families;
CreateCase and CalculateCase as a caseworker), then, one case at a time on an otherwise quiet system, starts an
income-based Jobseeker's Allowance award for the case's paying parent through dwp-gateway's scenario service
(StartBenefitAward, as scenario_admin) and measures from just before that call until a Kafka reader (no consumer
group, every partition assigned) sees casework's CaseCalculated for the case on `cms.casework.events.v1`. That is
the whole path: dwp-gateway's outbox relay publishing the broadcast, casework's feed consumer raising the change,
casework's feed applier recalculating (hmrc-gateway, dwp-gateway and calculation over gRPC), casework's outbox relay
publishing the result. Where the time goes comes from the records' timestamps (when each relay sent them).
A random pause between broadcasts (0.2-2.2 s) keeps them out of step with any service's polling.

With --rate R --seconds S it measures under a steady load instead (issue 19's event latency): R awards a second,
each for another case, for S seconds, and from each broadcast's publish (the BenefitInformationChanged record's
timestamp, when dwp-gateway's relay sent it) until the reader sees that case's CaseCalculated; p50 and p99 against
the issue's 150 ms and 500 ms.

This is a benchmark, not a test: it prints numbers and exits 0 unless something could not run at all.
"""

from __future__ import annotations

import argparse
import datetime as dt
import math
import os
import platform
import random
import signal
import sys
import tempfile
import threading
import time
import uuid
from collections import defaultdict
from collections.abc import Callable
from concurrent import futures
from dataclasses import dataclass
from pathlib import Path

import grpc

from cms.casework.v1 import casework_service_pb2 as case_api
from cms.casework.v1 import casework_service_pb2_grpc as case_grpc
from cms.casework.v1 import events_pb2 as case_ev
from cms.casework.v1 import resources_pb2 as case_pb
from cms.common.v1 import types_pb2 as common
from cms.dwp.v1 import dwp_scenario_service_pb2 as dwp_sc
from cms.dwp.v1 import dwp_scenario_service_pb2_grpc as dwp_sc_grpc
from cms.dwp.v1 import events_pb2 as dwp_ev
from cms.dwp.v1 import resources_pb2 as dwp_pb
from cms_devkit.bench import met, print_summary, seconds
from cms_devkit.families import families
from cms_platform import events
from cms_platform.convert import pb_date
from cms_platform.identity import staff_caller

sys.path.insert(0, str(Path(__file__).resolve().parent))
import bench_rpc  # noqa: E402 - tools/ is not a package; the same stack as bench-rpc

TARGET_P50_S = 2.0  # the bar: a CIS broadcast to casework's CaseCalculated at p50
# Issue 19's bars at a steady rate (--rate 20 --seconds 60): a broadcast's publish to its CaseCalculated.
STEADY_P50_S = 0.150
STEADY_P99_S = 0.500
CREATE_THREADS = 4  # client threads making the live cases (a steady run needs one per broadcast)
WARMUP = 2  # unmeasured broadcasts first: the consumers' group joins and first connections are not the steady state
WAIT_S = 30.0  # a broadcast whose CaseCalculated has not been seen by then counts as lost
# Quiet time between broadcasts, drawn at random over a window as wide as casework's default feed tick (2 s), so a
# broadcast lands at any point of any service's polling cycle, not always just after the last pass.
PAUSE_S = (0.2, 2.2)
RPC_TIMEOUT = 15.0  # CalculateCase's documented deadline, the longest of the calls made
BENCH_DAY = (
    dt.date.today()
)  # the services run on the wall clock; the families are chosen as of the same day
JSA_FORTNIGHTLY_PENCE = 181_00

BROADCAST = events.event_type(dwp_ev.BenefitInformationChanged)
REPORTED = events.event_type(case_ev.ChangeOfCircumstancesReported)
CALCULATED = events.event_type(case_ev.CaseCalculated)


@dataclass(frozen=True)
class Seen:
    sent: float  # the record's timestamp: when the relay sent it (epoch seconds, ms resolution)
    seen: float  # when the reader here got it (epoch seconds)


class Reader:
    """Reads the dwp-gateway and casework topics from the start in a thread, keeping each event of interest by
    (CloudEvents type, case name). No consumer group: nothing to join, nothing to wait for but the fetch."""

    def __init__(self, bootstrap: str):
        from kafka import KafkaConsumer, TopicPartition

        self._consumer = KafkaConsumer(
            bootstrap_servers=bootstrap,
            enable_auto_commit=False,
            fetch_max_wait_ms=50,  # the broker answers at once when a record arrives; this bounds it otherwise
        )
        topics = (
            events.topic_of(dwp_ev.BenefitInformationChanged),
            events.topic_of(case_ev.CaseCalculated),
        )
        parts = [
            TopicPartition(t, p)
            for t in topics
            for p in sorted(self._consumer.partitions_for_topic(t) or ())
        ]
        if not parts:
            raise RuntimeError(f"no partitions for {topics}: were the topics created?")
        self._consumer.assign(parts)
        self._consumer.seek_to_beginning()
        self._lock = threading.Condition()
        self._events: dict[tuple[str, str], list[Seen]] = defaultdict(list)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="reader", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        try:
            self._read()
        except Exception as exc:  # noqa: BLE001 - say why; the broadcasts waiting on it then count as lost
            print(
                f"the topic reader stopped: {type(exc).__name__}: {exc}",
                file=sys.stderr,
                flush=True,
            )

    def _read(self) -> None:
        while not self._stop.is_set():
            batch = self._consumer.poll(timeout_ms=100)
            now = time.time()
            for records in batch.values():
                for r in records:
                    kind = (dict(r.headers or ()).get("ce_type") or b"").decode()
                    if kind == BROADCAST:
                        case = (
                            "cases/" + dwp_ev.BenefitInformationChanged.FromString(r.value).case_id
                        )
                    elif kind in (REPORTED, CALCULATED):
                        case = (r.key or b"").decode()
                    else:
                        continue
                    with self._lock:
                        self._events[kind, case].append(Seen(r.timestamp / 1000, now))
                        self._lock.notify_all()

    def seen(self, kind: str, case: str) -> list[Seen]:
        with self._lock:
            return list(self._events[kind, case])

    def wait_for(self, kind: str, case: str, count: int, timeout: float) -> list[Seen] | None:
        """The events of `kind` for `case` once there are at least `count`; None after `timeout`."""
        with self._lock:
            if self._lock.wait_for(lambda: len(self._events[kind, case]) >= count, timeout):
                return list(self._events[kind, case])
        return None

    def close(self) -> None:
        self._stop.set()
        self._thread.join(5)
        self._consumer.close(autocommit=False)


@dataclass
class Measure:
    case: str
    called: float  # just before StartBenefitAward (epoch seconds)
    broadcast: Seen | None  # dwp-gateway's BenefitInformationChanged
    reported: (
        Seen | None
    )  # casework's ChangeOfCircumstancesReported (its feed consumer has committed)
    calculated: Seen | None  # casework's CaseCalculated

    def after(self, what: Seen | None, field: str = "sent") -> float:
        return getattr(what, field) - self.called if what else math.nan


def pct(values: list[float], p: float) -> float:
    data = sorted(v for v in values if v == v)
    return data[max(0, math.ceil(p / 100 * len(data)) - 1)] if data else math.nan


def live_cases(
    case: case_grpc.CaseworkServiceStub, metadata, n: int, threads: int = 1
) -> list[case_pb.Case]:
    family = families(on=BENCH_DAY, plain=True)
    requests = [next(family).create_case_request() for _ in range(n)]

    def make(request: case_api.CreateCaseRequest) -> case_pb.Case:
        created = case.CreateCase(request, metadata=metadata, timeout=RPC_TIMEOUT)
        calculated = case.CalculateCase(
            case_api.CalculateCaseRequest(request_id=str(uuid.uuid4()), name=created.name),
            metadata=metadata,
            timeout=RPC_TIMEOUT,
        )
        if not calculated.latest_calculation.calculation:
            raise AssertionError(f"CalculateCase on {created.name} stored no calculation")
        return calculated

    with futures.ThreadPoolExecutor(max_workers=threads) as pool:
        return list(pool.map(make, requests))


def measure_one(reader: Reader, award: Callable[[str], None], live: case_pb.Case) -> Measure:
    # Its first calculation's CaseCalculated is on the topic first, so the next one is the recalculation.
    first = reader.wait_for(CALCULATED, live.name, 1, WAIT_S)
    if first is None:
        raise RuntimeError(f"the first CaseCalculated of {live.name} never reached the topic")
    called = time.time()
    award(live.paying_parent.identity.nino)
    done = reader.wait_for(CALCULATED, live.name, len(first) + 1, WAIT_S)

    def first_after(kind: str) -> Seen | None:
        return next((s for s in reader.seen(kind, live.name) if s.seen >= called), None)

    return Measure(
        live.name,
        called,
        first_after(BROADCAST),
        first_after(REPORTED),
        done[len(first)] if done else None,
    )


def check_flat_rate(case: case_grpc.CaseworkServiceStub, metadata, name: str) -> None:
    """The case's latest calculation is the one an income-based JSA award asks for: a flat rate, on a change."""
    sample = case.GetCase(
        case_api.GetCaseRequest(name=name), metadata=metadata, timeout=RPC_TIMEOUT
    )
    if (
        sample.latest_calculation.reason != case_pb.CALCULATION_REASON_CHANGE_OF_CIRCUMSTANCES
        or sample.latest_calculation.rate != "FLAT"
    ):
        raise AssertionError(
            f"{name} was not recalculated at the flat rate: {sample.latest_calculation}"
        )


def measure_steady(
    reader: Reader, award: Callable[[str], None], cases: list[case_pb.Case], rate: float
) -> tuple[list[Measure], float]:
    """One award every 1/rate seconds, each for the next case, from a small pool so that a slow call does not hold
    up the ones due after it; then waits for every CaseCalculated. Returns the measures and the rate achieved."""
    for live in (
        cases
    ):  # each case's first CaseCalculated is on the topic, so the next is the recalculation
        if reader.wait_for(CALCULATED, live.name, 1, WAIT_S) is None:
            raise RuntimeError(f"the first CaseCalculated of {live.name} never reached the topic")
    before = {live.name: len(reader.seen(CALCULATED, live.name)) for live in cases}
    called: dict[str, float] = {}
    start = time.monotonic()

    def fire(i: int, live: case_pb.Case) -> None:
        delay = start + i / rate - time.monotonic()
        if delay > 0:
            time.sleep(delay)
        called[live.name] = time.time()
        award(live.paying_parent.identity.nino)

    with futures.ThreadPoolExecutor(max_workers=8) as pool:
        for f in [pool.submit(fire, i, live) for i, live in enumerate(cases)]:
            f.result()
    achieved = len(cases) / max(time.monotonic() - start, 1e-9)
    deadline = time.monotonic() + WAIT_S  # for all of them: the last broadcast's case gets WAIT_S
    measures = []
    for live in cases:
        done = reader.wait_for(
            CALCULATED, live.name, before[live.name] + 1, max(deadline - time.monotonic(), 0.0)
        )

        def first_after(kind: str, name: str = live.name) -> Seen | None:
            return next((x for x in reader.seen(kind, name) if x.seen >= called[name]), None)

        measures.append(
            Measure(
                live.name,
                called[live.name],
                first_after(BROADCAST),
                first_after(REPORTED),
                done[before[live.name]] if done else None,
            )
        )
    return measures, achieved


def print_steady(
    measures: list[Measure], rate: float, achieved: float, seconds_: float, pg: bool
) -> None:
    def from_publish(m: Measure, what: Seen | None, field: str = "sent") -> float:
        return getattr(what, field) - m.broadcast.sent if what and m.broadcast else math.nan

    lost = [m for m in measures if m.calculated is None or m.broadcast is None]
    end_to_end = [from_publish(m, m.calculated, "seen") for m in measures]
    print()
    print(
        "## Per stage: seconds after the broadcast was published (its Kafka timestamp), until the record was sent "
        "by its relay (its Kafka timestamp) or seen by the reader here"
    )
    head = f"{'stage':<62} | {'p50':>7} | {'p99':>7} | {'max':>7}"
    print(head)
    print("-" * len(head))
    for label, values in (
        (
            "StartBenefitAward called → broadcast published",
            [m.after(m.broadcast) for m in measures],
        ),
        (
            "casework's ChangeOfCircumstancesReported sent",
            [from_publish(m, m.reported) for m in measures],
        ),
        ("casework's CaseCalculated sent", [from_publish(m, m.calculated) for m in measures]),
        ("casework's CaseCalculated seen by a consumer", end_to_end),
    ):
        print(
            f"{label:<62} | {pct(values, 50):>7.3f} | {pct(values, 99):>7.3f} | "
            f"{max((v for v in values if v == v), default=math.nan):>7.3f}"
        )
    print()
    p50, p99 = pct(end_to_end, 50), pct(end_to_end, 99)
    print(
        f"## Summary (bench-events --rate {rate:g} --seconds {seconds_:g}, DB: {'PostgreSQL' if pg else 'SQLite'}): "
        f"a CIS broadcast's publish until casework's CaseCalculated is seen on its topic, {len(measures)} broadcasts "
        f"at a steady rate"
    )
    print_summary(
        [
            (
                "broadcasts a second (achieved)",
                f"{achieved:.1f}",
                f"{rate:g}",
                met(achieved >= 0.95 * rate),
            ),
            (
                "publish → CaseCalculated seen, p50",
                f"{p50 * 1000:.0f} ms",
                f"<= {STEADY_P50_S * 1000:.0f} ms",
                met(p50 <= STEADY_P50_S),
            ),
            (
                "publish → CaseCalculated seen, p99",
                f"{p99 * 1000:.0f} ms",
                f"<= {STEADY_P99_S * 1000:.0f} ms",
                met(p99 <= STEADY_P99_S),
            ),
            (
                "publish → CaseCalculated seen, max",
                f"{max((v for v in end_to_end if v == v), default=math.nan) * 1000:.0f} ms",
                "",
                "",
            ),
            (
                f"without a CaseCalculated {WAIT_S:.0f} s after the last broadcast",
                str(len(lost)),
                "0",
                met(not lost),
            ),
        ],
        name_width=50,
    )


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--quick", action="store_true", help="10 cases instead of 30")
    parser.add_argument(
        "--cases", type=int, help="how many cases to measure (default 30, --quick 10)"
    )
    parser.add_argument("--seed", type=int, default=1, help="seed of the pauses between broadcasts")
    parser.add_argument(
        "--rate",
        type=float,
        help="steady mode: broadcasts a second, each for another case (e.g. 20)",
    )
    parser.add_argument(
        "--seconds", type=float, default=60.0, help="steady mode: for how long (default 60)"
    )
    parser.add_argument(
        "--keep",
        action="store_true",
        help="keep the temp dir (logs, SQLite files) and PG databases",
    )
    parser.add_argument(
        "--db-prefix",
        default="cms_bench_events_",
        help="PostgreSQL: the databases' prefix (default cms_bench_events_; another one keeps two runs on one "
        "server apart)",
    )
    args = parser.parse_args()
    steady = args.rate is not None
    if steady and (args.rate <= 0 or args.seconds <= 0):
        parser.error("--rate and --seconds must be positive")
    n = round(args.rate * args.seconds) if steady else args.cases or (10 if args.quick else 30)
    rng = random.Random(args.seed)

    # A SIGTERM (e.g. from make or CI) unwinds through the finally below, so no service is left behind.
    def _terminate(signum, _frame):
        raise SystemExit(128 + signum)

    signal.signal(signal.SIGTERM, _terminate)

    pg = os.environ.get("CMS_POSTGRES_URL")
    stack = bench_rpc.Bench(tmp=Path(tempfile.mkdtemp(prefix="cms-bench-events-")))
    backend = (
        f"PostgreSQL {pg.rsplit('@', 1)[-1]} (databases {args.db_prefix}<svc>)"
        if pg
        else "SQLite files"
    )
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    print(
        f"# bench-events{' --quick' if args.quick else ''}: {n} cases, nproc={cores}, Python "
        f"{platform.python_version()}, grpcio {grpc.__version__}, {platform.machine()}, DB: {backend}, "
        f"load average {os.getloadavg()[0]:.2f} at start",
        flush=True,
    )
    staff = {
        role: stack.metadata(staff_caller(f"bench-{role}", role))
        for role in ("caseworker", "scenario_admin")
    }
    started = time.monotonic()
    reader: Reader | None = None
    channels: list[grpc.Channel] = []
    try:
        print("starting broker and services ...", file=sys.stderr, flush=True)
        bench_rpc.start_stack(stack, pg, db_prefix=args.db_prefix)
        print(
            f"# broker {stack.broker.bootstrap}; all five services SERVING after {time.monotonic() - started:.1f} s",
            flush=True,
        )
        channels = [grpc.insecure_channel(stack.addresses[s]) for s in ("casework", "dwp-gateway")]
        case = case_grpc.CaseworkServiceStub(channels[0])
        scenario = dwp_sc_grpc.DwpScenarioServiceStub(channels[1])
        reader = Reader(stack.broker.bootstrap)

        def award(nino: str) -> None:
            scenario.StartBenefitAward(
                dwp_sc.StartBenefitAwardRequest(
                    request_id=str(uuid.uuid4()),
                    nino=nino,
                    benefit_type=dwp_pb.BENEFIT_TYPE_JOBSEEKERS_ALLOWANCE_INCOME_BASED,
                    start_date=pb_date(BENCH_DAY),
                    amount=common.PeriodicAmount(
                        frequency=common.PAYMENT_FREQUENCY_FORTNIGHTLY,
                        amount_pence=JSA_FORTNIGHTLY_PENCE,
                    ),
                ),
                metadata=staff["scenario_admin"],
                timeout=RPC_TIMEOUT,
            )

        print(f"creating {WARMUP + n} live cases ...", file=sys.stderr, flush=True)
        cases = live_cases(
            case, staff["caseworker"], WARMUP + n, threads=CREATE_THREADS if steady else 1
        )
        if steady:
            for live in cases[:WARMUP]:
                measure_one(reader, award, live)
            print(
                f"broadcasting {n} awards at {args.rate:g} a second ...",
                file=sys.stderr,
                flush=True,
            )
            measures, achieved = measure_steady(reader, award, cases[WARMUP:], args.rate)
            # The figures first: a backlog that outlasts the wait leaves cases not yet recalculated, a finding.
            print_steady(measures, args.rate, achieved, args.seconds, bool(pg))
            done = [m for m in measures if m.calculated is not None]
            for name in dict.fromkeys((done[0].case, done[-1].case)) if done else ():
                check_flat_rate(case, staff["caseworker"], name)  # recalculated as asked
            print(f"\n# total wall time {time.monotonic() - started:.0f} s", flush=True)
            return 0
        print(
            f"broadcasting {WARMUP} unmeasured, then {n} measured awards ...",
            file=sys.stderr,
            flush=True,
        )
        measures = []
        for i, live in enumerate(cases):
            time.sleep(rng.uniform(*PAUSE_S))
            m = measure_one(reader, award, live)
            if i >= WARMUP:
                measures.append(m)
        # The recalculation is the one the broadcast asked for: a flat rate for income-based JSA.
        check_flat_rate(case, staff["caseworker"], measures[0].case)

        lost = [m for m in measures if m.calculated is None]
        end_to_end = [m.after(m.calculated, "seen") for m in measures]
        p50 = pct(end_to_end, 50)
        print()
        print(
            "## Per stage: seconds after StartBenefitAward was called, until the record was sent by its relay "
            "(its Kafka timestamp) or seen by the reader here"
        )
        head = f"{'stage':<62} | {'p50':>7} | {'p95':>7} | {'max':>7}"
        print(head)
        print("-" * len(head))
        for label, values in (
            (
                "dwp-gateway's BenefitInformationChanged sent",
                [m.after(m.broadcast) for m in measures],
            ),
            (
                "casework's ChangeOfCircumstancesReported sent (change raised)",
                [m.after(m.reported) for m in measures],
            ),
            ("casework's CaseCalculated sent", [m.after(m.calculated) for m in measures]),
            ("casework's CaseCalculated seen by a consumer", end_to_end),
        ):
            print(
                f"{label:<62} | {pct(values, 50):>7.3f} | {pct(values, 95):>7.3f} | "
                f"{max((v for v in values if v == v), default=math.nan):>7.3f}"
            )
        print()
        print(
            f"## Summary (bench-events{' --quick' if args.quick else ''}, DB: {'PostgreSQL' if pg else 'SQLite'}): "
            f"a CIS benefit award broadcast until casework's recalculated CaseCalculated is seen on its topic, "
            f"{len(measures)} cases one at a time"
        )
        print_summary(
            [
                (
                    "broadcast → CaseCalculated seen, p50",
                    seconds(p50),
                    f"<= {TARGET_P50_S:.1f} s",
                    met(p50 <= TARGET_P50_S),
                ),
                ("broadcast → CaseCalculated seen, p95", seconds(pct(end_to_end, 95)), "", ""),
                (
                    "broadcast → CaseCalculated seen, max",
                    seconds(max((v for v in end_to_end if v == v), default=math.nan)),
                    "",
                    "",
                ),
                (
                    f"broadcasts without a CaseCalculated within {WAIT_S:.0f} s",
                    str(len(lost)),
                    "0",
                    met(not lost),
                ),
            ],
            name_width=50,
        )
        print(f"\n# total wall time {time.monotonic() - started:.0f} s", flush=True)
        return 0
    except Exception as exc:  # noqa: BLE001 - print what failed, then clean up below
        return bench_rpc.report_failure(stack, "bench-events", exc)
    finally:
        print("stopping services ...", file=sys.stderr, flush=True)
        if reader is not None:
            reader.close()
        for ch in channels:
            ch.close()
        bench_rpc.close_stack(stack, keep=args.keep)


if __name__ == "__main__":
    sys.exit(main())
