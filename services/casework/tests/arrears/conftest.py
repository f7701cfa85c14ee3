"""What the arrears tests share: an ArrearsService client on the stack's casework, money events read back, and a fake
Collect & Pay account for the tests that exercise the arrears side alone (the `needs_accounts` tests run against the
real one and never use it)."""

from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import dataclass, field

import grpc
import pytest

from cms.casework.v1 import arrears_service_pb2_grpc as arrears_grpc
from cms.casework.v1 import resources_pb2 as pb
from cms_casework.arrears import account
from cms_devkit.testing import call_as_a_client, read_topic

MONEY_TOPIC = "cms.casework.money.events.v1"


@dataclass
class Arrears:
    stub: arrears_grpc.ArrearsServiceStub
    stack: object

    def call(self, method: str, request, *, as_=None, attempts: int = 3):
        return call_as_a_client(
            lambda: getattr(self.stub, method)(
                request,
                metadata=as_ or self.stack.creds.staff("cw-1", "caseworker"),  # type: ignore[attr-defined]
                timeout=20,
            ),
            attempts=attempts,
        )


@pytest.fixture
def arrears(stack):
    port = stack.casework.server.port
    with grpc.insecure_channel(f"127.0.0.1:{port}") as channel:
        yield Arrears(arrears_grpc.ArrearsServiceStub(channel), stack)


def rid() -> str:
    return str(uuid.uuid4())


def money_events(stack, case_name: str, kind: str, expected: int = 1) -> list:
    """The arrears events of one case (keyed by the case) of one CloudEvents type."""
    wanted = f"uk.gov.cms.casework.arrears.{kind}.v1".encode()
    return [
        r
        for r in read_topic(stack.bootstrap, MONEY_TOPIC, expected=expected)
        if dict(r.headers).get("ce_type") == wanted and r.key == case_name.encode()
    ]


def client_of(name: str) -> str:
    return name.removeprefix("clients/")


@dataclass
class FakeAccount:
    """What the account would show, per case: overdue (for any date), arrears and credit; and what was posted."""

    overdue: dict[str, int] = field(default_factory=dict)
    arrears: dict[str, int] = field(default_factory=dict)
    credit: dict[str, int] = field(default_factory=dict)
    posted: list[tuple[str, str, int, dt.date, str]] = field(default_factory=list)


@pytest.fixture
def fake_account(monkeypatch) -> FakeAccount:
    fake = FakeAccount()

    def posting(what: str):
        def post(db, *, case_id, amount_pence, on, cause, clock):
            fake.posted.append((what, case_id, amount_pence, on, cause))
            return f"accounts/{case_id}/adjustments/{len(fake.posted)}"

        return post

    monkeypatch.setattr(account, "overdue", lambda db, *, case_id, on: fake.overdue.get(case_id, 0))
    monkeypatch.setattr(
        account, "arrears", lambda db, *, case_id, as_of: fake.arrears.get(case_id, 0)
    )
    monkeypatch.setattr(
        account, "in_credit", lambda db, *, case_id, as_of: fake.credit.get(case_id, 0)
    )
    monkeypatch.setattr(account, "recognise_direct_pay_shortfall", posting("recognised"))
    monkeypatch.setattr(account, "offset_overpayment", posting("offset"))
    return fake


def case_id(case: pb.Case) -> str:
    return case.name.removeprefix("cases/")
