"""National runs as partitioned work, through the real broker and databases (conftest.start_stack): the annual
review, started by RunScheduledWork, is written as chunks of cases to the national runs' topic, and two casework
replicas (two processes' worth of consumers, sharing casework's database and one consumer group) finish it with every
chunk done once and every case reviewed once. A chunk delivered again is skipped by its done-marker."""

from __future__ import annotations

import datetime as dt
import itertools
import uuid
from collections import defaultdict
from collections.abc import Iterator, Sequence

import pytest
from kafka.partitioner.default import murmur2
from sqlalchemy import func, select

from cms.casework.v1 import casework_service_pb2 as api
from cms.casework.v1 import national_runs_pb2 as nr
from cms.casework.v1 import resources_pb2 as pb
from cms_casework.app import CaseworkService
from cms_casework.case_records.models import CaseRecord
from cms_casework.correspondence.models import CorrespondenceRecord
from cms_casework.national_runs import handlers, rules
from cms_casework.national_runs.models import NationalRunChunkRecord, NationalRunRecord
from cms_casework.scheduler.service import Scheduler
from cms_devkit.families import families
from cms_devkit.testing import read_topic, wait_until
from cms_platform import events
from cms_platform.consumer import IdempotentConsumer
from cms_platform.models import OutboxEvent

from ..conftest import Stack, d, start_stack
from ..scheduler.test_monthly_batch import _calculations, _copies, _okafor_family_case

REVIEW = api.SCHEDULED_JOB_ANNUAL_REVIEW
CHILD_BENEFIT = api.SCHEDULED_JOB_MONTHLY_CHILD_BENEFIT_CHECK
CASES, CHUNK = 8, 2
# 30 days before the cases' first review date (6 April 2027): every case is due.
RUN_DAY = dt.date(2027, 3, 15)
TOPIC = events.topic_of(nr.NationalRunChunkIssued)


class Took:
    """Which scheduler (replica) took which chunks' cases: Scheduler.work_chunk, recorded on the way in."""

    def __init__(self) -> None:
        self.by: dict[int, list[list[str]]] = defaultdict(list)

    def cases(self) -> list[str]:
        return sorted(c for chunks in self.by.values() for chunk in chunks for c in chunk)


@pytest.fixture
def took(monkeypatch) -> Took:
    took, original = Took(), Scheduler.work_chunk

    def recording(
        self: Scheduler, job: int, as_of: dt.date, case_ids: Sequence[str]
    ) -> api.ScheduledJobResult:
        took.by[id(self)].append(list(case_ids))
        return original(self, job, as_of, case_ids)

    # Before the replicas start: each subscribes with its scheduler's work_chunk.
    monkeypatch.setattr(Scheduler, "work_chunk", recording)
    return took


@pytest.fixture
def stack(took, national_runs_group, start_service, creds, kafka_bootstrap, calculation) -> Stack:
    return start_stack(
        start_service,
        creds,
        kafka_bootstrap,
        calculation,
        Stack,
        national_runs_partitioned=True,
        national_run_chunk_size=CHUNK,
        national_runs_consumer_group=national_runs_group,
    )


@pytest.fixture
def second_replica(stack, clock) -> Iterator[CaseworkService]:
    """Another casework process on the same database and broker, in the same consumer group."""
    replica = CaseworkService(stack.casework.settings, clock=clock)
    replica.start(migrate=False)
    try:
        yield replica
    finally:
        replica.stop()


def _chunk_consumer(service: CaseworkService, group: str) -> IdempotentConsumer:
    return next(c for c in service.consumers if c.group_id == group)


def _live_cases(stack: Stack, count: int) -> list[str]:
    """`count` families of the shared synthetic population (every gateway knows them), each with a live case."""
    names = []
    for family in itertools.islice(families(on=dt.date(2026, 4, 6), plain=True), count):
        names.append(stack.new_live_case(family.create_case_request()).name)
    return [n.removeprefix("cases/") for n in names]


def _reviews_of(stack: Stack, case_ids: list[str]) -> dict[str, tuple[dt.date | None, int]]:
    """Each case's next review date and how many annual review notices it has: a review done twice moves the date
    two years on and sends four."""
    with stack.casework.sessions() as s:
        dates = dict(
            s.execute(
                select(CaseRecord.id, CaseRecord.annual_review_date).where(
                    CaseRecord.id.in_(case_ids)
                )
            ).all()
        )
        notices = dict(
            s.execute(
                select(CorrespondenceRecord.case_id, func.count())
                .where(
                    CorrespondenceRecord.case_id.in_(case_ids),
                    CorrespondenceRecord.kind == "CORRESPONDENCE_KIND_ANNUAL_REVIEW_NOTICE",
                )
                .group_by(CorrespondenceRecord.case_id)
            ).all()
        )
    return {c: (dates.get(c), notices.get(c, 0)) for c in case_ids}


def _progress(stack: Stack) -> api.ScheduledJobResult:
    """The run's answer to RunScheduledWork asked again for the date: its progress."""
    (result,) = stack.run_scheduled(d(2027, 3, 15), REVIEW).results
    return result


def _in_the_group(group: str, replicas: list[CaseworkService]) -> None:
    for replica in replicas:
        wait_until(
            lambda r=replica: _chunk_consumer(r, group).assigned.is_set() or None,
            timeout=60,
            what="each replica in the group",
        )


def _finished(stack: Stack, clock, group: str, replicas: list[CaseworkService]):
    _in_the_group(group, replicas)
    case_ids = sorted(_live_cases(stack, CASES))
    clock.set(dt.datetime(2027, 3, 15, 9, 0, tzinfo=dt.UTC))
    (issued,) = stack.run_scheduled(d(2027, 3, 15), REVIEW).results
    assert (issued.job, issued.items_due) == (REVIEW, CASES)
    done = wait_until(
        lambda: (p := _progress(stack)).items_processed + p.items_failed == CASES and p or None,
        timeout=120,
        interval=0.5,
        what="every chunk of the run done",
    )
    return case_ids, done


def test_two_replicas_finish_a_national_run_with_every_chunk_done_once(
    stack, second_replica, clock, took, national_runs_group
):
    run_id = rules.run_id("SCHEDULED_JOB_ANNUAL_REVIEW", RUN_DAY)
    # The run's chunk keys hash to partitions in both halves of the topic, so with two members (range assignment:
    # partitions 0-2 to one, 3-5 to the other) each replica has chunks to do.
    partitions = {
        (murmur2(rules.chunk_key(run_id, n).encode()) & 0x7FFFFFFF) % 6
        for n in range(CASES // CHUNK)
    }
    assert partitions & {0, 1, 2} and partitions & {3, 4, 5}
    # The second replica joins after the first has the group: wait for the rebalance to give it its share.
    case_ids, done = _finished(stack, clock, national_runs_group, [stack.casework, second_replica])

    assert (done.items_due, done.items_processed, done.items_failed) == (CASES, CASES, 0)
    # Every case was taken once, in a chunk of one replica or the other, and both replicas took chunks.
    assert took.cases() == case_ids
    assert len(took.by) == 2
    assert sorted(len(chunk) for chunks in took.by.values() for chunk in chunks) == [CHUNK] * (
        CASES // CHUNK
    )
    # Each case reviewed once: its next review a year on (not two), and one notice for each parent.
    assert set(_reviews_of(stack, case_ids).values()) == {(dt.date(2028, 4, 6), 2)}
    with stack.casework.sessions() as s:
        chunks = s.scalars(
            select(NationalRunChunkRecord.chunk).where(NationalRunChunkRecord.run_id == run_id)
        ).all()
        run = s.get(NationalRunRecord, run_id)
        assert run is not None
        assert sorted(chunks) == list(range(CASES // CHUNK)) and run.chunk_count == CASES // CHUNK
        assert run.completed_at is not None


def test_a_chunk_delivered_again_is_skipped(stack, clock, took, national_runs_group):
    """The same chunk again: to the group that did it (its event id is recorded: a duplicate), and to a group that
    never saw it (a renamed group, or one reading a topic again from the start after the broker lost its data): the
    chunk's done-marker says it is done, and no case is reviewed twice. A chunk of another issue of the run is not
    this database's to do."""
    case_ids, done = _finished(stack, clock, national_runs_group, [stack.casework])
    assert done.items_processed == CASES
    before = _reviews_of(stack, case_ids)
    delivered = sum(len(chunks) for chunks in took.by.values())
    # This run's chunks (the session's other tests ran runs of the same id, in databases of their own).
    with stack.casework.sessions() as s:
        ours = set(s.scalars(select(OutboxEvent.event_id).where(OutboxEvent.topic == TOPIC)))
    records = [
        r
        for r in read_topic(stack.bootstrap, TOPIC, expected=CASES // CHUNK)
        if dict(r.headers).get("ce_id", b"").decode() in ours
    ]
    assert len(records) == CASES // CHUNK
    record = records[0]

    same = _chunk_consumer(stack.casework, national_runs_group)
    assert same.handle_record(record.headers, record.key, record.value) == "duplicate"

    other = IdempotentConsumer(
        service="casework",
        subscription=handlers.subscription(
            clock=clock,
            group=f"{national_runs_group}-renamed",
            work=stack.casework.scheduler.work_chunk,
        ),
        bootstrap_servers=stack.bootstrap,
        sessions=stack.casework.sessions,
        clock=clock,
    )
    skipped = handlers.CHUNKS.labels("SCHEDULED_JOB_ANNUAL_REVIEW", "skipped")._value.get()
    assert other.handle_record(record.headers, record.key, record.value) == "handled"
    assert handlers.CHUNKS.labels("SCHEDULED_JOB_ANNUAL_REVIEW", "skipped")._value.get() == (
        skipped + 1
    )
    # A chunk of a run of the same id issued by another database (an environment sharing the broker and group by
    # mistake) is ignored: none of its cases is looked for here, and it marks nothing done.
    foreign = nr.NationalRunChunkIssued.FromString(record.value)
    foreign.issue_id = str(uuid.uuid4())
    headers = [(k, str(uuid.uuid4()).encode() if k == "ce_id" else v) for k, v in record.headers]
    ignored = handlers.CHUNKS.labels("SCHEDULED_JOB_ANNUAL_REVIEW", "foreign")._value.get()
    assert other.handle_record(headers, record.key, foreign.SerializeToString()) == "handled"
    assert handlers.CHUNKS.labels("SCHEDULED_JOB_ANNUAL_REVIEW", "foreign")._value.get() == (
        ignored + 1
    )
    # Nothing was done again: no chunk taken, no case reviewed a second time, the progress as it was.
    assert sum(len(chunks) for chunks in took.by.values()) == delivered
    assert _reviews_of(stack, case_ids) == before
    assert _progress(stack) == done


def test_a_case_done_before_a_chunk_is_taken_again_is_not_reviewed_twice(stack, clock):
    """A replica that stops mid-chunk (before its marker and offset commit) leaves some of the chunk's cases reviewed;
    the chunk comes again and those cases are no longer due. Here: the work a chunk would do, done twice."""
    case_ids = sorted(_live_cases(stack, 2))
    clock.set(dt.datetime(2027, 3, 15, 9, 0, tzinfo=dt.UTC))
    first = stack.casework.scheduler.work_chunk(REVIEW, RUN_DAY, case_ids[:1])
    again = stack.casework.scheduler.work_chunk(REVIEW, RUN_DAY, case_ids)
    assert (first.items_processed, again.items_processed, again.items_failed) == (1, 2, 0)
    assert set(_reviews_of(stack, case_ids).values()) == {(dt.date(2028, 4, 6), 2)}
    after = stack.call("GetCase", api.GetCaseRequest(name=f"cases/{case_ids[0]}"))
    assert after.latest_calculation.reason == pb.CALCULATION_REASON_ANNUAL_REVIEW


def test_two_replicas_finish_the_monthly_child_benefit_check_ending_a_child_once(
    stack, second_replica, clock, took, national_runs_group, monkeypatch
):
    """The monthly check as a national run: the cases with a child aged 16 or over, two a chunk, each chunk's
    children streamed to HMRC by whichever replica took it, every child once. Tomos's Child Benefit ended on 31
    August: his case alone is recalculated, once. Asked again later in the month, the job answers the same run."""
    _in_the_group(national_runs_group, [stack.casework, second_replica])
    sent: list[str] = []
    for replica in (stack.casework, second_replica):
        streamed = replica.downstream.hmrc.RunMonthlyChildBenefitCheck

        def counting(requests, streamed=streamed, **kw):
            def counted():
                for message in requests:
                    sent.extend(item.item_id for item in message.items)
                    yield message

            return streamed(counted(), **kw)

        monkeypatch.setattr(replica.downstream.hmrc, "RunMonthlyChildBenefitCheck", counting)
    case = _okafor_family_case(stack)
    copies = _copies(stack, case, 5)
    before = _calculations(stack)
    clock.advance(dt.timedelta(days=148))  # 1 September 2026
    (issued,) = stack.run_scheduled(d(2026, 9, 1), CHILD_BENEFIT).results
    assert issued.items_due == 6

    def finished() -> api.ScheduledJobResult | None:
        (p,) = stack.run_scheduled(d(2026, 9, 5), CHILD_BENEFIT).results
        return p if p.items_processed + p.items_failed == 6 else None

    done = wait_until(finished, timeout=120, interval=0.5, what="every chunk of the check done")
    assert (done.items_due, done.items_processed, done.items_failed) == (6, 6, 0)
    assert took.cases() == sorted([case.name.removeprefix("cases/"), *copies])
    # Each chunk sent its own cases' children: Ffion, Tomos and Osian, and Ffion and Osian of each copy.
    assert len(sent) == len(set(sent)) == 3 + 2 * 5
    held = stack.call("GetCase", api.GetCaseRequest(name=case.name))
    tomos = next(c for c in held.qualifying_children if c.name.forenames == "Tomos")
    assert tomos.end_date == d(2026, 8, 31)
    assert _calculations(stack) - before == 1
