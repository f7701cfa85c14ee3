"""Lost races in the database answer ABORTED with a retry hint (cms_platform.conflicts, mapped by the server), through
a real gRPC server on port 0 and a real database: a stale version (another session committed first), a primary key
another request took; the transaction is rolled back; and a constraint broken for any other reason stays a defect
(INTERNAL, its text unseen)."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import grpc
import pytest
from sqlalchemy import Integer, String, create_engine
from sqlalchemy.orm import DeclarativeBase, Mapped, Session, mapped_column, sessionmaker

from cms.calculation.v1 import calculation_service_pb2 as api
from cms.calculation.v1 import calculation_service_pb2_grpc as api_grpc
from cms.calculation.v1 import resources_pb2 as pb
from cms_devkit.testing import local_issuer
from cms_platform.conflicts import REASON, RETRY_AFTER_SECONDS
from cms_platform.db import make_engine, make_sessionmaker
from cms_platform.grpc_errors import details_of, retry_delay_of
from cms_platform.identity import IdentityVerifier, TrustedIssuer, staff_caller

ISSUER = local_issuer()
IDENTITY = IdentityVerifier([TrustedIssuer.model_validate(ISSUER.trusted())], audience="test")
SECRET = "Alex Turner AA123456A"  # personal data in a row: never in the answer


class _Base(DeclarativeBase):
    pass


class Counter(_Base):
    __tablename__ = "counters"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    n: Mapped[int] = mapped_column(Integer)
    version: Mapped[int] = mapped_column(Integer, nullable=False)
    __mapper_args__ = {"version_id_col": version}


class Note(_Base):
    __tablename__ = "notes"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    text: Mapped[str] = mapped_column(String(100), nullable=False)


class _Servicer(api_grpc.CalculationServiceServicer):
    """GetRuleSet runs the scenario its name says, in one transaction that also writes a note."""

    def __init__(self, sessions: sessionmaker) -> None:
        self.sessions = sessions

    def GetRuleSet(
        self, request: api.GetRuleSetRequest, context: grpc.ServicerContext
    ) -> pb.RuleSet:
        scenario: Callable[[Session], None] = getattr(self, request.name.rsplit("/", 1)[-1])
        with self.sessions.begin() as s:
            scenario(s)
        return pb.RuleSet(name=request.name)

    def stale(self, s: Session) -> None:
        mine = s.get(Counter, 1)
        assert mine is not None
        with (
            self.sessions.begin() as other
        ):  # another request changes the counter and commits first
            theirs = other.get(Counter, 1)
            assert theirs is not None
            theirs.n += 10
        s.add(Note(id=100, text="half-written"))
        mine.n += 1

    def taken(self, s: Session) -> None:
        s.add(Note(id=101, text="half-written"))
        s.flush()
        s.add(Note(id=1, text=SECRET))  # the key another request took

    def broken(self, s: Session) -> None:
        s.add(Note(id=102, text=None))  # type: ignore[arg-type]  # NOT NULL: a defect, not a race


@pytest.fixture
def served(
    database_url, serve_calculation
) -> Iterator[tuple[api_grpc.CalculationServiceStub, sessionmaker]]:
    engine = make_engine(database_url("conflicts"))
    _Base.metadata.create_all(engine)
    sessions = make_sessionmaker(engine)
    with sessions.begin() as s:
        s.add_all([Counter(id=1, n=0), Note(id=1, text=SECRET)])
    yield serve_calculation(_Servicer(sessions), IDENTITY), sessions
    engine.dispose()


def _answer(stub: api_grpc.CalculationServiceStub, scenario: str) -> grpc.RpcError:
    with pytest.raises(grpc.RpcError) as err:
        stub.GetRuleSet(
            api.GetRuleSetRequest(name=f"ruleSets/{scenario}"),
            metadata=(
                (
                    "authorization",
                    f"Bearer {ISSUER.mint(staff_caller('s-1', 'caseworker'), audience='test')}",
                ),
            ),
            # Generous: the first INTERNAL answer of a session has missed 10 s on a saturated machine.
            timeout=60,
        )
    return err.value


@pytest.mark.parametrize("scenario", ["stale", "taken"])
def test_a_lost_race_is_aborted_with_a_retry_hint_and_nothing_half_written(served, scenario):
    stub, sessions = served
    err = _answer(stub, scenario)
    assert err.code() == grpc.StatusCode.ABORTED
    details = details_of(err)
    assert details["ErrorInfo"].reason == REASON
    assert details["RetryInfo"].retry_delay.ToNanoseconds() > 0
    assert retry_delay_of(err) == RETRY_AFTER_SECONDS  # what a client reads from it
    assert "retry" in (err.details() or "") and SECRET not in (err.details() or "")
    with sessions() as s:
        assert s.get(Note, 100) is None and s.get(Note, 101) is None  # rolled back
        counter = s.get(Counter, 1)
        assert counter is not None and counter.n == (10 if scenario == "stale" else 0)


def test_a_constraint_broken_for_another_reason_stays_a_defect(served):
    err = _answer(served[0], "broken")
    assert err.code() == grpc.StatusCode.INTERNAL
    assert "RetryInfo" not in details_of(err) and "text" not in (err.details() or "")
    assert retry_delay_of(err) is None


def test_only_races_are_conflicts():
    from sqlalchemy.exc import IntegrityError

    from cms_platform.conflicts import conflict

    engine = create_engine("sqlite://")
    _Base.metadata.create_all(engine)
    with engine.begin() as conn:
        conn.execute(Note.__table__.insert(), {"id": 1, "text": "a"})
        with pytest.raises(IntegrityError) as dup:
            conn.execute(Note.__table__.insert(), {"id": 1, "text": "b"})
    assert conflict(dup.value) is not None
    assert conflict(RuntimeError("stale")) is None


def test_a_job_that_loses_a_race_runs_again_and_the_last_loss_is_the_conflict():
    from sqlalchemy.orm.exc import StaleDataError

    from cms_platform.conflicts import retrying
    from cms_platform.errors import Conflict

    tries: list[int] = []

    def loses_twice() -> str:
        tries.append(1)
        if len(tries) < 3:
            raise StaleDataError("version moved on")
        return "done"

    assert retrying(loses_twice) == "done" and len(tries) == 3

    def always_loses() -> None:
        raise Conflict("the case changed", reason="CONCURRENT_UPDATE")

    with pytest.raises(Conflict):
        retrying(always_loses, attempts=2)

    defects: list[int] = []

    def defect() -> None:
        defects.append(1)
        raise ValueError("a defect is not a race")

    with pytest.raises(ValueError):
        retrying(defect)
    assert defects == [1]  # never retried
