"""The stored state's version and the caches over it (cms_simulation.state), on the suite's database: a write bumps
the version only when it commits, a cache reloads what was loaded under an older version and never keeps a value
read by a call that saw an older one, its bound clears it, and one unary RPC reads the version once whichever caches
ask (a call that wrote reads it again)."""

from __future__ import annotations

import threading

import pytest
from google.protobuf import empty_pb2
from sqlalchemy import event, select

from cms_platform import calls
from cms_simulation.state import (
    STATE,
    SimulationStateVersion,
    StateCache,
    StateVersion,
    bump,
)


def version_of(sessions) -> int:
    with sessions() as s:
        return s.scalar(
            select(SimulationStateVersion.version).where(SimulationStateVersion.name == STATE)
        )


def test_the_migration_helper_starts_the_version_at_zero(state_db):
    assert version_of(state_db) == 0


def test_a_write_bumps_the_version_when_it_commits_and_not_when_it_rolls_back(state_db):
    with state_db.begin() as s:
        bump(s)
        bump(s)
        assert version_of(state_db) == 0  # not yet committed: no other session sees it
    assert version_of(state_db) == 2
    with pytest.raises(RuntimeError), state_db.begin() as s:
        bump(s)
        raise RuntimeError("the writer fails")
    assert version_of(state_db) == 2


class Loads:
    """A load that counts its calls and answers the number of the call."""

    def __init__(self) -> None:
        self.count = 0

    def __call__(self, _s) -> int:
        self.count += 1
        return self.count


def test_a_value_is_kept_until_the_version_moves(state_db):
    cache: StateCache[str, int] = StateCache(StateVersion(state_db))
    load = Loads()
    assert [cache.get("a", load), cache.get("a", load)] == [1, 1]
    with state_db.begin() as s:
        bump(s)
    assert [cache.get("a", load), cache.get("a", load)] == [2, 2]
    assert load.count == 2


def test_nothing_stored_is_kept_like_anything_else(state_db):
    cache: StateCache[str, int | None] = StateCache(StateVersion(state_db))
    loads = []

    def load(_s):
        loads.append(1)

    assert cache.get("a", load) is None and cache.get("a", load) is None
    assert len(loads) == 1


def test_a_write_committed_during_a_load_costs_one_more_load(state_db):
    """The data is read after the version, so it may be newer than its label but never older: the next lookup
    reads the newer version and loads again."""
    cache: StateCache[str, int] = StateCache(StateVersion(state_db))
    load = Loads()

    def load_while_a_write_commits(s):
        with state_db.begin() as other:
            bump(other)
        return load(s)

    assert cache.get("a", load_while_a_write_commits) == 1
    assert cache.get("a", load) == 2 and cache.get("a", load) == 2


def test_an_rpc_that_read_an_older_version_loads_and_keeps_nothing(state_db):
    """An RPC that read the version before another call read a newer one must not label its data with either."""
    version = StateVersion(state_db)
    cache: StateCache[str, str] = StateCache(version)
    loads: list[str] = []

    def load(key):
        return lambda _s: loads.append(key) or key

    token = calls.bind(calls.Call("/test.Service/Lookup", None, empty_pb2.Empty()))
    try:
        cache.get("a", load("a"))  # this RPC reads version 0

        # On a thread: not this RPC's context.
        def another_replica_writes_then_another_call_reads() -> None:
            with state_db.begin() as s:
                bump(s)
            cache.get("b", load("b"))  # at version 1

        other = threading.Thread(target=another_replica_writes_then_another_call_reads)
        other.start()
        other.join()
        cache.get("c", load("c"))  # at version 0: loaded, not kept
        cache.get("c", load("c"))
    finally:
        calls.reset(token)
    cache.get("b", load("b"))
    cache.get("c", load("c"))
    assert loads == ["a", "b", "c", "c", "c"]


def test_the_cache_is_cleared_when_full(state_db):
    cache: StateCache[str, str] = StateCache(StateVersion(state_db), limit=2)
    loads: list[str] = []

    def load(key):
        return lambda _s: loads.append(key) or key

    for key in ("a", "b", "a", "c", "a"):
        cache.get(key, load(key))
    assert loads == ["a", "b", "c", "a"]  # "c" found it full: cleared, so "a" is loaded again


def test_a_value_not_usable_any_more_is_loaded_again(state_db):
    cache: StateCache[str, int] = StateCache(StateVersion(state_db))
    load = Loads()
    assert cache.get("a", load, usable=lambda v: v >= 2) == 1  # loaded: nothing was there
    assert cache.get("a", load, usable=lambda v: v >= 2) == 2
    assert cache.get("a", load, usable=lambda v: v >= 2) == 2


def _statements(sessions) -> list[str]:
    seen: list[str] = []
    event.listen(
        sessions.kw["bind"],
        "before_cursor_execute",
        lambda _c, _cur, statement, *_: seen.append(statement),
    )
    return seen


def test_one_rpc_reads_the_version_once_for_every_cache_and_again_after_it_writes(state_db):
    version = StateVersion(state_db)
    first: StateCache[str, int] = StateCache(version)
    second: StateCache[str, int] = StateCache(version)
    first.get("a", Loads())
    second.get("a", Loads())
    seen = _statements(state_db)
    token = calls.bind(calls.Call("/test.Service/Lookup", None, empty_pb2.Empty()))
    try:
        first.get("a", Loads())
        second.get("a", Loads())
        first.get("a", Loads())
        assert len(seen) == 1  # the version, once
        with state_db.begin() as s:
            bump(s)
        load = Loads()
        first.get("a", load)
        assert load.count == 1  # its own change, committed, is read at once
    finally:
        calls.reset(token)
    token = calls.bind(calls.Call("/test.Service/Lookup", None, empty_pb2.Empty()))
    try:
        before = len(seen)
        first.get("a", Loads())
        assert len(seen) == before + 1  # the next RPC reads it again
    finally:
        calls.reset(token)


def test_a_job_reads_the_version_on_every_lookup(state_db):
    cache: StateCache[str, int] = StateCache(StateVersion(state_db))
    cache.get("a", Loads())
    seen = _statements(state_db)
    with calls.serving("a-long-job"):
        cache.get("a", Loads())
        cache.get("a", Loads())
    assert len(seen) == 2
