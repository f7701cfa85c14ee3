"""The version of a simulated system's stored state (the scenario admin's controls, a simulator's own tables), so a
replica may keep that state in memory and still see a change made through any other replica at once.

Every write bumps one counter row in the writer's own transaction (`bump`); every call reads the counter once (a
one-row primary-key SELECT, shared by every cache over the state through one `StateVersion`) and reloads only what
was loaded under an older version (`StateCache`). No time-to-live: nothing is ever served from an older version
than the call read."""

from __future__ import annotations

import contextvars
import threading
from collections.abc import Callable, Hashable
from typing import Any, Generic, TypeVar, cast

from sqlalchemy import BigInteger, String, select, update
from sqlalchemy.orm import Mapped, Session, mapped_column, sessionmaker

from cms_platform import calls
from cms_platform.db import Base

K = TypeVar("K", bound=Hashable)
V = TypeVar("V")

STATE = "state"


class SimulationStateVersion(Base):
    """The counter every write to the simulated system's stored state increments (one row, `STATE`)."""

    __tablename__ = "simulation_state_version"

    name: Mapped[str] = mapped_column(String(40), primary_key=True)
    version: Mapped[int] = mapped_column(BigInteger)


def create_state_version_table(op: Any) -> None:
    """The counter's table with its one row, for a gateway's alembic revision (`op` is alembic.op)."""
    import sqlalchemy as sa

    table = op.create_table(
        "simulation_state_version",
        sa.Column("name", sa.String(40), primary_key=True),
        sa.Column("version", sa.BigInteger, nullable=False),
    )
    op.bulk_insert(table, [{"name": STATE, "version": 0}])


def drop_state_version_table(op: Any) -> None:
    op.drop_table("simulation_state_version")


# The versions the current RPC has read, by reader; None once it has written (it then reads each time, so it sees
# its own change once committed). Keyed by the Call object, so the next RPC on the same thread starts afresh.
_seen: contextvars.ContextVar[tuple[calls.Call, dict[StateVersion, int | None] | None] | None] = (
    contextvars.ContextVar("cms_simulation_state_seen", default=None)
)


def bump(db: Session) -> None:
    """In the writer's transaction, after its change: every replica's next call reads a newer version and reloads.
    (The row lock also queues concurrent writers until commit; they are scenario admin calls and Send Update.)"""
    db.execute(
        update(SimulationStateVersion)
        .where(SimulationStateVersion.name == STATE)
        .values(version=SimulationStateVersion.version + 1)
    )
    call = calls.current_call()
    _seen.set((call, None) if call is not None else None)


class StateVersion:
    """The stored state's version as this process reads it: once per unary RPC, whichever caches ask (a job or a
    stream, which may run long, reads it every time)."""

    def __init__(self, sessions: sessionmaker):
        self.sessions = sessions

    def read(self, db: Session) -> int | None:
        """The version (None: no counter row, so nothing may be cached)."""
        call = calls.current_call()
        memo: dict[StateVersion, int | None] | None = None
        if call is not None and call.request is not None:
            seen = _seen.get()
            if seen is None or seen[0] is not call:
                memo = {}
                _seen.set((call, memo))
            else:
                memo = seen[1]
                if memo is not None and self in memo:
                    return memo[self]
        version = db.scalar(
            select(SimulationStateVersion.version).where(SimulationStateVersion.name == STATE)
        )
        if memo is not None:
            memo[self] = version
        return version


_MISSING = object()


class StateCache(Generic[K, V]):
    """Values loaded from the stored state, kept while its version stands: a lookup reads the version (once a call)
    and loads a value afresh when it was loaded under an older version. At most `limit` values; cleared when full
    (a miss costs one load)."""

    def __init__(self, version: StateVersion, *, limit: int = 100_000):
        self._version, self._limit = version, limit
        self._lock = threading.Lock()
        self._at: int | None = None
        self._entries: dict[K, V] = {}

    def get(
        self, key: K, load: Callable[[Session], V], *, usable: Callable[[V], bool] | None = None
    ) -> V:
        """The value of `key` at the current version, loaded by `load` when missing (or not `usable`)."""
        with self._version.sessions() as s:
            version = self._version.read(s)
            entries = self._entries_at(version)
            if entries is not None:
                found = entries.get(key, _MISSING)
                if found is not _MISSING and (usable is None or usable(cast(V, found))):
                    return cast(V, found)
            # Loaded after the version was read, so never older than it (a write committed in between only
            # costs one more load on the next call, which reads the newer version).
            value = load(s)
        if entries is not None:
            if len(entries) >= self._limit:
                entries.clear()
            entries[key] = value
        return value

    def _entries_at(self, version: int | None) -> dict[K, V] | None:
        """The values loaded under `version`: none yet when it is newer than the cache's; None (load, keep nothing)
        when it is older (a call that read the version before another call's newer read) or unknown."""
        if version is None:
            return None
        with self._lock:
            if self._at is None or version > self._at:
                self._at, self._entries = version, {}
            return self._entries if version == self._at else None
