"""The reform what-if and the Direct Pay migration as national runs, through the real broker and databases: two
casework replicas (sharing casework's database and one consumer group for the national runs' chunks) finish a what-if
with every chunk done once and the results of a run in one process, and a migration run with every chunk done once
and every Direct Pay case moved once, the cases a dry run in one process listed. A what-if chunk delivered again is
skipped, and the results stay as they were."""

from __future__ import annotations

import dataclasses
import datetime as dt
import itertools
from collections import defaultdict
from collections.abc import Iterator

import pytest
from kafka.partitioner.default import murmur2
from sqlalchemy import select

from cms.casework.v1 import collection_reform_pb2 as cr
from cms.casework.v1 import collection_reform_service_pb2 as rapi
from cms.casework.v1 import national_runs_pb2 as nr
from cms.casework.v1 import resources_pb2 as pb
from cms_casework.app import CaseworkService
from cms_casework.collection_reform import flows, rules, service
from cms_casework.collection_reform.models import ReformWhatIfPartRecord
from cms_casework.national_runs import handlers
from cms_casework.national_runs import rules as run_rules
from cms_casework.national_runs.models import NationalRunChunkRecord, NationalRunRecord
from cms_devkit.families import families
from cms_devkit.testing import read_topic, wait_until
from cms_platform import calls, events
from cms_platform.consumer import IdempotentConsumer
from cms_platform.convert import pb_date
from cms_platform.identity import bind_caller, reset_caller
from cms_platform.models import OutboxEvent

from .conftest import reform_call, rid
from .test_reform import START, _each_moved_once, _finished

CASES, CHUNK = 6, 1
TOPIC = events.topic_of(nr.NationalRunChunkIssued)


class Took:
    """Which replica (its runner) took which chunks, by run: Runner.what_if_chunk / migration_chunk on the way in."""

    def __init__(self) -> None:
        self.by: dict[str, dict[int, list[int]]] = defaultdict(lambda: defaultdict(list))

    def chunks(self, run_id: str) -> list[int]:
        return sorted(n for taken in self.by[run_id].values() for n in taken)

    def replicas(self, run_id: str) -> int:
        return len(self.by[run_id])


@pytest.fixture
def took(monkeypatch) -> Took:
    took = Took()
    for method in ("what_if_chunk", "migration_chunk"):
        original = getattr(flows.Runner, method)

        def recording(self, chunk, original=original):
            took.by[chunk.run_id][id(self)].append(chunk.chunk)
            return original(self, chunk)

        # Before the replicas start: each subscribes with its runner's methods.
        monkeypatch.setattr(flows.Runner, method, recording)
    return took


@pytest.fixture
def casework_settings(took, national_runs_group):
    return {
        "national_runs_partitioned": True,
        "national_run_chunk_size": CHUNK,
        "national_runs_consumer_group": national_runs_group,
        # No background runner: the test takes the jobs up itself (flows.run_what_if / run_migration), so the
        # single-process run it compares with is not taken up as a national run first.
        "collection_reform_interval_seconds": 0,
        "collection_reform_lease_seconds": 0,
    }


@pytest.fixture
def second_replica(stack) -> Iterator[CaseworkService]:
    """Another casework process on the same database and broker, in the same consumer groups."""
    replica = CaseworkService(stack.casework.settings, clock=stack.casework.clock)
    replica.start(migrate=False)
    try:
        yield replica
    finally:
        replica.stop()


def _in_the_group(group: str, replicas: list[CaseworkService]) -> None:
    for replica in replicas:
        consumer = next(c for c in replica.consumers if c.group_id == group)
        wait_until(
            lambda c=consumer: c.assigned.is_set() or None,
            timeout=60,
            what="each replica in the group",
        )


def _cases(stack) -> list[pb.Case]:
    """CASES families of the shared synthetic population, every other one on Direct Pay, each a live case."""
    out = []
    for n, family in enumerate(
        itertools.islice(families(on=dt.date(2026, 4, 6), plain=True), CASES)
    ):
        request = family.create_case_request()
        request.service_type = (
            pb.SERVICE_TYPE_DIRECT_PAY if n % 2 == 0 else pb.SERVICE_TYPE_COLLECT_AND_PAY
        )
        out.append(stack.new_live_case(request))
    return out


def _run(job, reform, job_id: str) -> None:
    """The runner's pass over one job, in this thread, as the runner's caller."""
    token = bind_caller(flows.SYSTEM)
    try:
        with calls.serving(flows.JOB):
            job(reform, job_id, lambda: False)
    finally:
        reset_caller(token)


def _both_halves(run_id: str, chunks: int) -> bool:
    """Whether the run's chunk keys hash to partitions in both halves of the topic: with two members (range
    assignment, partitions 0-2 to one and 3-5 to the other) each replica then has chunks to do. A run's id is
    random, so this is asked of the run, not assumed."""
    partitions = {
        (murmur2(run_rules.chunk_key(run_id, n).encode()) & 0x7FFFFFFF) % 6 for n in range(chunks)
    }
    return bool(partitions & {0, 1, 2} and partitions & {3, 4, 5})


def _chunks_done(stack, run_id: str) -> tuple[NationalRunRecord, list[int]]:
    with stack.casework.sessions() as s:
        run = s.get(NationalRunRecord, run_id)
        assert run is not None
        s.expunge(run)
        done = s.scalars(
            select(NationalRunChunkRecord.chunk).where(NationalRunChunkRecord.run_id == run_id)
        ).all()
    return run, sorted(done)


def test_two_replicas_finish_a_what_if_and_a_migration_as_national_runs(
    stack, second_replica, took, national_runs_group
):
    _in_the_group(national_runs_group, [stack.casework, second_replica])
    cases = _cases(stack)
    reform = stack.casework._collection_reform.reform
    assert reform.chunk_size == CHUNK

    # The what-if in one process (the setting off), then as a national run: the same results.
    def start_what_if() -> str:
        started = reform_call(
            stack,
            "StartReformWhatIf",
            rapi.StartReformWhatIfRequest(request_id=rid(), start_date=pb_date(START)),
        )
        return started.name.removeprefix("reformWhatIfs/")

    single_id = start_what_if()
    _run(flows.run_what_if, dataclasses.replace(reform, chunk_size=None), single_id)
    with reform.sessions() as s:
        single = service.get_what_if(s, name=f"reformWhatIfs/{single_id}")
    assert single.state == cr.COLLECTION_REFORM_JOB_STATE_SUCCEEDED, single.error
    assert (single.results.cases_moving, single.results.cases_failed) == (CASES // 2, 0)

    what_if_id = start_what_if()
    _run(flows.run_what_if, reform, what_if_id)
    run_id = rules.what_if_run_id(what_if_id)
    run, _ = _chunks_done(stack, run_id)
    assert (run.job, run.chunk_count, run.items_due) == (rules.WHAT_IF_RUN, CASES, CASES)
    # Taken up again (another runner, or this one after its lease ran out): nothing issued twice.
    _run(flows.run_what_if, reform, what_if_id)
    with reform.sessions() as s:
        issued = s.scalars(select(OutboxEvent.event_id).where(OutboxEvent.topic == TOPIC)).all()
    assert len(issued) == CASES
    partitioned = _finished(stack, "GetReformWhatIf", f"reformWhatIfs/{what_if_id}")
    assert partitioned.state == cr.COLLECTION_REFORM_JOB_STATE_SUCCEEDED, partitioned.error
    assert (partitioned.cases_total, partitioned.cases_done) == (CASES, CASES)
    assert partitioned.results == single.results
    # Every chunk done once, by one replica or the other, its figures kept once.
    run, done = _chunks_done(stack, run_id)
    assert done == list(range(CASES)) and run.completed_at is not None
    assert took.chunks(run_id) == list(range(CASES))
    if _both_halves(run_id, CASES):
        assert took.replicas(run_id) == 2
    with reform.sessions() as s:
        parts = s.scalars(
            select(ReformWhatIfPartRecord.chunk).where(
                ReformWhatIfPartRecord.what_if_id == what_if_id
            )
        ).all()
    assert sorted(parts) == list(range(CASES))

    # A chunk delivered again (to a group that never saw it: a renamed group reading from the start) is skipped by
    # its done-marker: no figures kept twice, the results as they were.
    records = [
        r
        for r in read_topic(stack.bootstrap, TOPIC, expected=CASES)
        if dict(r.headers).get("ce_id", b"").decode() in set(issued)
    ]
    other = IdempotentConsumer(
        service="casework",
        subscription=handlers.subscription(
            clock=reform.clock,
            group=f"{national_runs_group}-renamed",
            work=stack.casework.scheduler.work_chunk,
            runs={rules.WHAT_IF_RUN: stack.casework._collection_reform.what_if_chunk},
        ),
        bootstrap_servers=stack.bootstrap,
        sessions=stack.casework.sessions,
        clock=reform.clock,
    )
    skipped = handlers.CHUNKS.labels(rules.WHAT_IF_RUN, "skipped")._value.get()
    assert other.handle_record(records[0].headers, records[0].key, records[0].value) == "handled"
    assert handlers.CHUNKS.labels(rules.WHAT_IF_RUN, "skipped")._value.get() == skipped + 1
    assert took.chunks(run_id) == list(range(CASES))
    with reform.sessions() as s:
        again = service.get_what_if(s, name=f"reformWhatIfs/{what_if_id}")
    assert again.results == single.results

    # The migration: a dry run in one process lists the Direct Pay cases; the run as a national run moves each of
    # them once, every chunk done once.
    dry = reform_call(
        stack,
        "StartDirectPayMigration",
        rapi.StartDirectPayMigrationRequest(
            request_id=rid(), start_date=pb_date(START), dry_run=True
        ),
    )
    _run(flows.run_migration, reform, dry.name.removeprefix("directPayMigrations/"))
    dry = _finished(stack, "GetDirectPayMigration", dry.name)
    direct_pay = [c for c in cases if c.service_type == pb.SERVICE_TYPE_DIRECT_PAY]
    assert sorted(dry.cases) == sorted(c.name for c in direct_pay)

    started = reform_call(
        stack,
        "StartDirectPayMigration",
        rapi.StartDirectPayMigrationRequest(request_id=rid(), start_date=pb_date(START)),
    )
    migration_id = started.name.removeprefix("directPayMigrations/")
    _run(flows.run_migration, reform, migration_id)
    _run(flows.run_migration, reform, migration_id)  # taken up again: issued once
    moved = _finished(stack, "GetDirectPayMigration", started.name)
    assert moved.state == cr.COLLECTION_REFORM_JOB_STATE_SUCCEEDED, moved.failures
    assert (moved.cases_total, moved.cases_moved, moved.cases_failed, moved.cases_remaining) == (
        len(direct_pay),
        len(direct_pay),
        0,
        0,
    )
    assert sorted(moved.cases) == sorted(dry.cases)
    run_id = rules.migration_run_id(migration_id)
    run, done = _chunks_done(stack, run_id)
    assert (run.job, run.chunk_count) == (rules.MIGRATION_RUN, len(direct_pay))
    assert done == list(range(len(direct_pay))) and run.completed_at is not None
    assert took.chunks(run_id) == list(range(len(direct_pay)))
    if _both_halves(run_id, len(direct_pay)):
        assert took.replicas(run_id) == 2
    _each_moved_once(stack, direct_pay)
