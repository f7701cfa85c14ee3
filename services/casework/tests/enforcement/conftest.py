"""What the enforcement tests share: an EnforcementService client on the stack's casework (the parent conftest's
stack, with its real cra-gateway), callers by role, and a case in arrears on the real Collect & Pay account
(arrears/helpers.py sets it up through the account's own functions)."""

from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import dataclass

import grpc
import pytest

from cms.casework.v1 import enforcement_service_pb2_grpc as enf_grpc
from cms.casework.v1 import resources_pb2 as pb
from cms_devkit.testing import events_on
from cms_platform.grpc_errors import details_of

from ..arrears.helpers import charge, live_case_with_account, recognise_arrears


@dataclass
class Enforcement:
    stub: enf_grpc.EnforcementServiceStub
    stack: object

    def call(self, method: str, request, *, as_=None, attempts: int = 3):
        return self.stack.call_on(  # type: ignore[attr-defined]
            self.stub, method, request, as_=as_, timeout=30, attempts=attempts
        )

    def as_team_leader(self, method: str, request):
        return self.call(method, request, as_=self.stack.team_leader())  # type: ignore[attr-defined]


@pytest.fixture
def enforcement(stack) -> Enforcement:
    return Enforcement(enf_grpc.EnforcementServiceStub(stack.channel), stack)


def rid() -> str:
    return str(uuid.uuid4())


def refused(call) -> grpc.RpcError:
    with pytest.raises(grpc.RpcError) as err:
        call()
    return err.value


def reason(err: grpc.RpcError) -> str:
    """A FAILED_PRECONDITION's reason, as its PreconditionFailure names it."""
    assert err.code() == grpc.StatusCode.FAILED_PRECONDITION, err.details()
    (violation,) = details_of(err)["PreconditionFailure"].violations
    return violation.type


def case_in_arrears(stack, clock, pence: int) -> pb.Case:
    """A Collect & Pay case whose account shows `pence` of recognised arrears (due a month ago) and April's charge."""
    case = live_case_with_account(stack)
    charge(stack, clock.today())
    recognise_arrears(stack, clock, case, pence, due=clock.today() - dt.timedelta(days=30))
    return case


def enforcement_events(stack, case_name: str, kind: str, expected: int = 1) -> list:
    """The enforcement events of one case (keyed by the case) of one CloudEvents type."""
    return events_on(
        stack.bootstrap,
        "cms.casework.money.events.v1",
        f"uk.gov.cms.casework.enforcement.{kind}.v1",
        case_name,
        expected,
    )
