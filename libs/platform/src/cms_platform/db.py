"""Persistence plumbing: the declarative base, engines for PostgreSQL or SQLite, sessions.

Each service owns one database and reaches no other service's tables. Domain functions take an explicit
session (Dispatch's keyword-only `db_session` style); transactions are opened by the caller.
"""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path
from typing import Any, TypeVar

from sqlalchemy import BigInteger, DateTime, Integer, MetaData, event, insert, make_url, text
from sqlalchemy import engine as sa_engine
from sqlalchemy.engine import URL, Connection, Dialect, Engine
from sqlalchemy.exc import DBAPIError, InterfaceError, OperationalError
from sqlalchemy.orm import DeclarativeBase, Session, sessionmaker
from sqlalchemy.sql import Select
from sqlalchemy.types import TypeDecorator

from .errors import Unavailable

# Stable constraint names so Alembic migrations are reproducible across PostgreSQL and SQLite.
NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

# BIGINT on PostgreSQL; INTEGER on SQLite, where only "INTEGER PRIMARY KEY" autoincrements.
BigId = BigInteger().with_variant(Integer(), "sqlite")


class Base(DeclarativeBase):
    """Every table of every service derives from this (each service has its own database)."""

    metadata = MetaData(naming_convention=NAMING)

    def __repr__(self) -> str:
        pk = ", ".join(
            f"{c.key}={getattr(self, str(c.key))!r}" for c in self.__mapper__.primary_key
        )
        return f"<{type(self).__name__} {pk}>"


class UtcDateTime(TypeDecorator[dt.datetime]):
    """Timezone-aware UTC datetimes on both backends (SQLite drops tzinfo)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: dt.datetime | None, dialect: Dialect) -> dt.datetime | None:
        if value is not None:
            if value.tzinfo is None:
                raise ValueError("naive datetime: use the service clock (timezone-aware UTC)")
            value = value.astimezone(dt.UTC)
        return value

    def process_result_value(
        self, value: dt.datetime | None, dialect: Dialect
    ) -> dt.datetime | None:
        if value is not None and value.tzinfo is None:
            value = value.replace(tzinfo=dt.UTC)
        return value


def make_engine(url: str, *, pool_size: int = 10, max_overflow: int | None = None) -> Engine:
    """An engine that never puts SQL parameters (a claimant's NINO, a name) into its exceptions or logs."""
    u = make_url(url)
    # Looked up at the call (not imported by name): the OpenTelemetry instrumentation wraps
    # sqlalchemy.engine.create_engine when the service starts, and only an engine made through the wrapper has its
    # statements traced.
    create_engine = sa_engine.create_engine
    if u.get_backend_name() == "sqlite":
        engine = create_engine(
            url,
            connect_args={"check_same_thread": False, "timeout": 30},
            hide_parameters=True,
        )

        @event.listens_for(engine, "connect")
        def _sqlite_pragmas(dbapi_conn: Any, _record: Any) -> None:
            cur = dbapi_conn.cursor()
            cur.execute("PRAGMA journal_mode=WAL")
            cur.execute("PRAGMA foreign_keys=ON")
            cur.execute("PRAGMA busy_timeout=30000")
            cur.close()

        return engine
    engine = create_engine(
        url,
        pool_size=pool_size,
        # At most pool_size + max_overflow connections per process (deploy/README.md: the connection budget).
        max_overflow=pool_size if max_overflow is None else max_overflow,
        pool_pre_ping=True,
        hide_parameters=True,
    )
    event.listen(engine, "handle_error", _without_row_values)
    return engine


def _without_row_values(context: Any) -> None:
    """PostgreSQL's DETAIL repeats the values of the row or key that broke a constraint ("Key (nino)=(…) already
    exists", "Failing row contains (…)"): cut it from the driver's error and ours, so no traceback carries it. The
    error's class, SQLSTATE and diagnostics (constraint name) are kept for the code that handles it."""
    for exc in (context.original_exception, context.sqlalchemy_exception):
        if exc is not None and exc.args and isinstance(exc.args[0], str):
            message, cut, _ = exc.args[0].partition("\nDETAIL:")
            if cut:
                exc.args = (message, *exc.args[1:])


# PostgreSQL SQLSTATE classes of a server going away or not taking connections yet: 08 connection exception,
# 57P01-57P03 admin/crash shutdown and "cannot connect now" (starting up or in recovery).
_PG_GONE = ("08", "57P0")
# SQLite: SQLITE_BUSY and SQLITE_LOCKED (another writer held the file past busy_timeout).
_SQLITE_BUSY = frozenset({5, 6})
OUTAGE_REASON = "DATABASE_UNAVAILABLE"
OUTAGE_RETRY_SECONDS = 1.0


def outage(exc: BaseException) -> Unavailable | None:
    """UNAVAILABLE, with a retry hint, when `exc` says the database could not be reached (down, restarting, failing
    over, the connection cut) or was too busy; None for anything else (a defect stays INTERNAL). The transaction
    was rolled back, so nothing is half-written; the pool's pre-ping replaces dead connections once it is back."""
    if not isinstance(exc, DBAPIError):
        return None
    orig: Any = exc.orig
    # PEP 249: OperationalError/InterfaceError are the connection's troubles, not the statement's.
    connection_class = isinstance(exc, (OperationalError, InterfaceError))
    gone = exc.connection_invalidated
    if hasattr(orig, "sqlstate"):  # psycopg: no SQLSTATE at all when the connection itself failed
        sqlstate = orig.sqlstate
        gone = gone or str(sqlstate or "").startswith(_PG_GONE)
        gone = gone or (connection_class and sqlstate is None)
    elif connection_class and getattr(orig, "sqlite_errorcode", None) is not None:
        gone = gone or (orig.sqlite_errorcode & 0xFF) in _SQLITE_BUSY
    if not gone:
        return None
    return Unavailable(
        "the database is unavailable; retry shortly",
        retry_after_seconds=OUTAGE_RETRY_SECONDS,
        reason=OUTAGE_REASON,
    )


T = TypeVar("T")


def one_page(
    db: Session, query: Select[tuple[T]], *, size: int, offset: int
) -> tuple[list[T], bool]:
    """A page of what `query` selects (ordered by the caller) from `offset`, and whether there is more: one row past
    the page is read to know."""
    rows = db.scalars(query.offset(offset).limit(size + 1)).all()
    return list(rows[:size]), len(rows) > size


def make_sessionmaker(engine: Engine) -> sessionmaker:
    return sessionmaker(engine, expire_on_commit=False)


def is_postgres(engine: Engine | Connection) -> bool:
    return engine.dialect.name == "postgresql"


def single_writer(sessions: sessionmaker) -> bool:
    """Whether the database behind `sessions` takes one writing transaction at a time (SQLite, whose writers queue on
    one file lock): work split over threads would only wait there, so a caller runs it one piece after another."""
    bind = sessions.kw.get("bind")
    return bind is not None and bind.dialect.name == "sqlite"


def insert_with_ids(db: Session, model: type[Base], values: list[dict[str, Any]]) -> list[int]:
    """Insert `values` as rows of `model` (its integer primary key `id` generated) and return their ids, in order.

    On PostgreSQL the ids are drawn from the column's sequence first and the rows go in as one pipelined executemany.
    An INSERT .. RETURNING of a batch is one statement with thousands of parameters, which psycopg parses on every
    execution (it caches the parse of small statements only); the executemany of one small statement costs less
    than half of that (docs/benchmarks.md). SQLite has no sequence to draw from, so it inserts with RETURNING."""
    if not values:
        return []
    if not is_postgres(db.connection()):
        pk = model.__table__.c.id
        return list(
            db.execute(insert(model).returning(pk, sort_by_parameter_order=True), values).scalars()
        )
    table = model.__tablename__
    sequence = _SEQUENCES.get(table)
    if sequence is None:
        sequence = _SEQUENCES[table] = db.scalar(
            text("SELECT pg_get_serial_sequence(:table, 'id')"), {"table": table}
        )
    # Sorted: the rows take ascending ids in the order given, as they would from the column's default.
    ids = sorted(
        db.scalars(
            text("SELECT nextval(:sequence) FROM generate_series(1, :n)"),
            {"sequence": sequence, "n": len(values)},
        )
    )
    db.execute(insert(model), [{**v, "id": i} for v, i in zip(values, ids, strict=True)])
    return ids


# A table's id column's sequence: the schema's, so the same in every database this process reaches.
_SEQUENCES: dict[str, str] = {}

_SAFE_DB = re.compile(r"^[a-z][a-z0-9_]{0,62}$")


def _postgres_admin(url: str) -> tuple[Engine | None, URL]:
    """The server's admin engine and the (validated) database name in `url`, or None for SQLite."""
    u = make_url(url)
    if u.get_backend_name() == "sqlite":
        return None, u
    if not u.database or not _SAFE_DB.match(u.database):
        raise ValueError(f"unsupported database name {u.database!r}")
    return sa_engine.create_engine(
        u.set(database="postgres"), isolation_level="AUTOCOMMIT", hide_parameters=True
    ), u


def ensure_database(url: str) -> None:
    """Create the PostgreSQL database named in `url` if missing (local runs; Kubernetes uses CNPG).

    SQLite needs only its directory.
    """
    admin, u = _postgres_admin(url)
    if admin is None:
        if u.database and u.database != ":memory:":
            Path(u.database).parent.mkdir(parents=True, exist_ok=True)
        return
    try:
        with admin.connect() as conn:
            if not conn.execute(
                text("SELECT 1 FROM pg_database WHERE datname = :n"), {"n": u.database}
            ).scalar():
                conn.execute(text(f'CREATE DATABASE "{u.database}"'))
    finally:
        admin.dispose()


def drop_database(url: str) -> None:
    admin, u = _postgres_admin(url)
    if admin is None:
        return
    try:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{u.database}" WITH (FORCE)'))
    finally:
        admin.dispose()
