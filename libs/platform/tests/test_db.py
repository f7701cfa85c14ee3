"""The database going away (cms_platform.db.outage, through the server): while PostgreSQL is down a call is
UNAVAILABLE with a retry hint, never INTERNAL and never half-written, and once it is back the same service answers
again without a restart of its own."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator

import grpc
import pytest
from sqlalchemy import Integer, String, create_engine, text
from sqlalchemy.exc import DBAPIError, IntegrityError
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from cms.calculation.v1 import calculation_service_pb2 as api
from cms.calculation.v1 import calculation_service_pb2_grpc as api_grpc
from cms.calculation.v1 import resources_pb2 as pb
from cms_devkit import infra
from cms_devkit.testing import local_issuer
from cms_platform.db import OUTAGE_REASON, make_engine, make_sessionmaker, outage, single_writer
from cms_platform.grpc_errors import details_of
from cms_platform.identity import IdentityVerifier, TrustedIssuer, staff_caller

ISSUER = local_issuer()
IDENTITY = IdentityVerifier([TrustedIssuer.model_validate(ISSUER.trusted())], audience="test")
METADATA = (
    ("authorization", f"Bearer {ISSUER.mint(staff_caller('s-1', 'caseworker'), audience='test')}"),
)


class _Base(DeclarativeBase):
    pass


class Note(_Base):
    __tablename__ = "notes"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    text: Mapped[str] = mapped_column(String(100), nullable=False)


class _Servicer(api_grpc.CalculationServiceServicer):
    """GetRuleSet("ruleSets/<n>") writes note n in one transaction."""

    def __init__(self, sessions) -> None:
        self.sessions = sessions

    def GetRuleSet(self, request: api.GetRuleSetRequest, context) -> pb.RuleSet:
        with self.sessions.begin() as s:
            s.add(Note(id=int(request.name.rsplit("/", 1)[-1]), text="written"))
        return pb.RuleSet(name=request.name)


@pytest.fixture
def restartable(
    private_postgres: infra.PrivatePostgres, serve_calculation
) -> Iterator[tuple[infra.PrivatePostgres, api_grpc.CalculationServiceStub]]:
    engine = make_engine(private_postgres.url, pool_size=2)
    _Base.metadata.create_all(engine)
    yield private_postgres, serve_calculation(_Servicer(make_sessionmaker(engine)), IDENTITY)
    engine.dispose()


def _write(stub: api_grpc.CalculationServiceStub, n: int) -> pb.RuleSet:
    return stub.GetRuleSet(
        api.GetRuleSetRequest(name=f"ruleSets/{n}"), metadata=METADATA, timeout=20
    )


def test_a_database_restart_is_unavailable_while_down_and_answered_again_after(restartable):
    pg, stub = restartable
    assert _write(stub, 1).name == "ruleSets/1"  # the pool holds a live connection now
    pg.halt()
    with pytest.raises(grpc.RpcError) as err:
        _write(stub, 2)
    assert err.value.code() == grpc.StatusCode.UNAVAILABLE
    details = details_of(err.value)
    assert details["ErrorInfo"].reason == OUTAGE_REASON
    assert details["RetryInfo"].retry_delay.ToNanoseconds() > 0
    assert "notes" not in (err.value.details() or "")  # no SQL, no values
    pg.resume()
    # The same service, not restarted: the pool replaces the connections the restart cut.
    assert _write(stub, 3).name == "ruleSets/3"
    engine = create_engine(pg.url)
    with engine.connect() as c:
        assert c.execute(text("SELECT id FROM notes ORDER BY id")).scalars().all() == [1, 3]
    engine.dispose()


def test_a_busy_sqlite_file_is_an_outage_and_statement_errors_are_not(tmp_path):
    path = tmp_path / "db.sqlite"
    holder = sqlite3.connect(path, isolation_level=None)
    holder.execute("CREATE TABLE t (id INTEGER PRIMARY KEY)")
    holder.execute("BEGIN EXCLUSIVE")
    engine = create_engine(f"sqlite:///{path}", connect_args={"timeout": 0})
    with pytest.raises(DBAPIError) as busy, engine.begin() as c:
        c.execute(text("INSERT INTO t VALUES (1)"))
    holder.execute("ROLLBACK")
    unavailable = outage(busy.value)
    assert unavailable is not None and unavailable.reason == OUTAGE_REASON
    with pytest.raises(DBAPIError) as missing, engine.begin() as c:
        c.execute(text("SELECT * FROM no_such_table"))
    with engine.begin() as c:
        c.execute(text("INSERT INTO t VALUES (1)"))
    with pytest.raises(IntegrityError) as taken, engine.begin() as c:
        c.execute(text("INSERT INTO t VALUES (1)"))
    assert (
        outage(missing.value) is None and outage(taken.value) is None
    )  # defects and races, not outages
    assert outage(ValueError("not a database error")) is None
    engine.dispose()
    holder.close()


def test_only_sqlite_is_a_single_writer(tmp_path):
    sqlite = make_engine(f"sqlite:///{tmp_path / 'one.sqlite'}")
    postgres = make_engine("postgresql+psycopg://nobody@127.0.0.1:1/none")  # never connected
    assert single_writer(make_sessionmaker(sqlite))
    assert not single_writer(make_sessionmaker(postgres))
    sqlite.dispose()
    postgres.dispose()
