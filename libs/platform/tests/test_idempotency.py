"""Request-id replay (cms_platform.idempotency): once per request id, and a stored answer only for its caller."""

from __future__ import annotations

import uuid

import pytest

from cms.common.v1 import types_pb2 as common
from cms.hmrc.v1 import hmrc_service_pb2 as api
from cms_platform import calls
from cms_platform.db import Base, make_engine, make_sessionmaker
from cms_platform.errors import InvalidArgument
from cms_platform.idempotency import run_idempotent
from cms_platform.identity import bind_caller, client_caller, reset_caller, staff_caller
from cms_platform.models import IdempotentRequest


@pytest.fixture
def sessions(database_url):
    engine = make_engine(database_url("idempotency"))
    Base.metadata.create_all(engine, tables=[IdempotentRequest.__table__])
    yield make_sessionmaker(engine)
    engine.dispose()


def _as(caller, sessions, clock, request, effects):
    token = bind_caller(caller)
    try:
        with calls.serving("/cms.hmrc.v1.HmrcGatewayService/RemoveInterest"):
            return run_idempotent(
                sessions,
                request=request,
                response_type=common.PersonName,
                clock=clock,
                execute=lambda s: effects.append(1) or common.PersonName(surname=str(len(effects))),
            )
    finally:
        reset_caller(token)


def test_a_retry_by_the_same_caller_gets_the_first_answer_and_has_no_second_effect(sessions, clock):
    effects: list[int] = []
    request = api.RemoveInterestRequest(request_id=str(uuid.uuid4()), interest_id="i-1")
    leader = staff_caller("tl-1", "team_leader")
    first = _as(leader, sessions, clock, request, effects)
    again = _as(leader, sessions, clock, request, effects)
    assert first == again and effects == [1]


def test_another_caller_with_the_same_request_id_is_refused_and_sees_nothing(sessions, clock):
    effects: list[int] = []
    request = api.RemoveInterestRequest(request_id=str(uuid.uuid4()), interest_id="i-1")
    _as(staff_caller("tl-1", "team_leader"), sessions, clock, request, effects)
    with pytest.raises(InvalidArgument) as refused:
        _as(client_caller("parent-1"), sessions, clock, request, effects)
    assert [v.field for v in refused.value.violations] == ["request_id"]
    assert "another caller" in refused.value.message and "surname" not in refused.value.message
    assert effects == [1]


def test_the_same_caller_with_another_request_under_the_id_is_refused(sessions, clock):
    effects: list[int] = []
    request_id = str(uuid.uuid4())
    leader = staff_caller("tl-1", "team_leader")
    _as(
        leader,
        sessions,
        clock,
        api.RemoveInterestRequest(request_id=request_id, interest_id="a"),
        effects,
    )
    with pytest.raises(InvalidArgument) as refused:
        _as(
            leader,
            sessions,
            clock,
            api.RemoveInterestRequest(request_id=request_id, interest_id="b"),
            effects,
        )
    assert "different request" in refused.value.message and effects == [1]
