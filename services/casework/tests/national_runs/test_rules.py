"""A national run's decisions: its id, its chunks, their keys and what the chunks done come to."""

from __future__ import annotations

import datetime as dt

import pytest
from hypothesis import given
from hypothesis import strategies as st

from cms_casework.national_runs import rules
from cms_platform import cloudevents

ids = st.lists(st.uuids().map(str), max_size=300)


@given(ids, st.integers(min_value=1, max_value=50))
def test_every_case_is_in_exactly_one_chunk_in_id_order_and_none_is_too_big(case_ids, size):
    parts = rules.chunks(case_ids, size)
    flat = [c for part in parts for c in part]
    assert flat == sorted(set(case_ids))
    assert all(1 <= len(part) <= size for part in parts)
    # Only the last chunk is short: as few chunks as the cases need.
    assert len(parts) == -(-len(set(case_ids)) // size)


def test_a_case_named_twice_is_chunked_once():
    assert rules.chunks(["b", "a", "b"], 2) == [["a", "b"]]


def test_a_chunk_holds_at_least_one_case():
    with pytest.raises(ValueError):
        rules.chunks(["a"], 0)


def test_a_run_is_named_by_its_job_and_date():
    assert rules.run_id("SCHEDULED_JOB_ANNUAL_REVIEW", dt.date(2027, 3, 15)) == (
        "annual-review-2027-03-15"
    )


@given(st.dates(), st.integers(min_value=0, max_value=10_000))
def test_a_chunks_key_is_a_resource_name_the_outbox_accepts(day, chunk):
    key = rules.chunk_key(rules.run_id("SCHEDULED_JOB_ANNUAL_REVIEW", day), chunk)
    assert cloudevents.resource_key(key) == key


outcomes = st.builds(
    rules.ChunkOutcome,
    items_due=st.integers(0, 500),
    items_processed=st.integers(0, 500),
    items_failed=st.integers(0, 500),
    failures=st.lists(st.text(max_size=5), max_size=60).map(tuple),
)


@given(st.lists(outcomes, max_size=10), st.integers(0, 12))
def test_progress_adds_up_the_chunks_done_and_lists_at_most_the_first_failures(done, count):
    p = rules.progress("r", chunk_count=count, items_due=1234, done=done)
    assert p.items_due == 1234
    assert p.items_processed == sum(o.items_processed for o in done)
    assert p.items_failed == sum(o.items_failed for o in done)
    assert list(p.failures) == [f for o in done for f in o.failures][: rules.MAX_FAILURES]
    assert p.complete == (len(done) >= count)
