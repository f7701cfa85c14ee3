"""The collection reform's stack: the money stack (casework with its real dependencies, the money contexts reading
their events) with the reform's runner on, and CollectionReformService calls as a team leader."""

from __future__ import annotations

import uuid

import pytest

from cms.casework.v1 import collection_reform_service_pb2_grpc as reform_grpc

from ..money.conftest import stack  # noqa: F401


def rid() -> str:
    return str(uuid.uuid4())


@pytest.fixture
def casework_settings():
    # The lease lets a run go at once: the tests' clock stands still, and a second process takes up what the
    # first left.
    return {"collection_reform_interval_seconds": 0.2, "collection_reform_lease_seconds": 0}


def reform_call(stack, method: str, request, *, as_=None):  # noqa: F811
    stub = reform_grpc.CollectionReformServiceStub(stack.channel)
    return stack.call_on(stub, method, request, as_=as_ or stack.team_leader(), timeout=30)
