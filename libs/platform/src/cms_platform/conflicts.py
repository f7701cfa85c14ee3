"""Lost races in the database, as the domain error they are (AIP-193: ABORTED, retry the whole read-modify-write).

Two requests that change one record at once: the loser's UPDATE finds the version it read already gone
(SQLAlchemy's StaleDataError, tables with a `version_id_col`), or its INSERT finds the key taken by the winner
(a unique or primary-key violation), or PostgreSQL aborts it (serialisation failure, deadlock). The transaction has
rolled back (`sessions.begin()` does that on any exception), so nothing is half-written and retrying is safe. The
server maps these here; the database's own text, which may quote the row, is never passed on.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

from sqlalchemy.exc import DBAPIError, IntegrityError
from sqlalchemy.orm.exc import StaleDataError

from .errors import Conflict

T = TypeVar("T")

REASON = "CONCURRENT_UPDATE"
RETRY_AFTER_SECONDS = 0.1
# PostgreSQL SQLSTATEs: unique_violation; serialization_failure and deadlock_detected.
_PG_UNIQUE = "23505"
_PG_RACE = frozenset({"40001", "40P01"})
# SQLite extended result codes: SQLITE_CONSTRAINT_UNIQUE, SQLITE_CONSTRAINT_PRIMARYKEY.
_SQLITE_UNIQUE = frozenset({2067, 1555})


def _unique_violation(orig: BaseException | None) -> bool:
    if getattr(orig, "sqlstate", None) == _PG_UNIQUE:
        return True
    return getattr(orig, "sqlite_errorcode", None) in _SQLITE_UNIQUE


def conflict(exc: BaseException) -> Conflict | None:
    """The ABORTED answer for a lost race, or None when `exc` is not one (a real defect stays INTERNAL)."""
    if isinstance(exc, StaleDataError):
        message = (
            "the record was changed by another request at the same time; read it again and retry"
        )
    elif isinstance(exc, IntegrityError) and _unique_violation(exc.orig):
        message = (
            "another request created the same record at the same time; read it again and retry"
        )
    elif isinstance(exc, DBAPIError) and getattr(exc.orig, "sqlstate", None) in _PG_RACE:
        message = "the database aborted this change for a concurrent one; retry"
    else:
        return None
    return Conflict(message, reason=REASON, retry_after_seconds=RETRY_AFTER_SECONDS)


def retrying(work: Callable[[], T], *, attempts: int = 3) -> T:
    """Run `work` (whole transactions: it reads again on each attempt) again when it loses a race, for a service's
    own jobs, which have no client to retry for them; the last loss is raised as the Conflict it is."""
    for attempt in range(1, attempts + 1):
        try:
            return work()
        except Exception as exc:
            lost = exc if isinstance(exc, Conflict) else conflict(exc)
            if lost is None:
                raise
            if attempt == attempts:
                raise lost from exc
    raise AssertionError("unreachable")
