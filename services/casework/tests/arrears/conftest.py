"""What the arrears tests share: an ArrearsService client on the stack's casework and money events read back. Every test
runs against the real Collect & Pay account (helpers.py sets it up through the account's own API)."""

from __future__ import annotations

import uuid
from dataclasses import dataclass

import pytest

from cms.casework.v1 import arrears_service_pb2_grpc as arrears_grpc
from cms.casework.v1 import resources_pb2 as pb
from cms_devkit.testing import events_on

MONEY_TOPIC = "cms.casework.money.events.v1"


@dataclass
class Arrears:
    stub: arrears_grpc.ArrearsServiceStub
    stack: object

    def call(self, method: str, request, *, as_=None, attempts: int = 3):
        return self.stack.call_on(  # type: ignore[attr-defined]
            self.stub, method, request, as_=as_, timeout=20, attempts=attempts
        )


@pytest.fixture
def arrears(stack):
    return Arrears(arrears_grpc.ArrearsServiceStub(stack.channel), stack)


def rid() -> str:
    return str(uuid.uuid4())


def money_events(stack, case_name: str, kind: str, expected: int = 1) -> list:
    """The arrears events of one case (keyed by the case) of one CloudEvents type."""
    return events_on(
        stack.bootstrap, MONEY_TOPIC, f"uk.gov.cms.casework.arrears.{kind}.v1", case_name, expected
    )


def client_of(name: str) -> str:
    return name.removeprefix("clients/")


def case_id(case: pb.Case) -> str:
    return case.name.removeprefix("cases/")
