"""The casework stack of the parent conftest with all three money contexts reading their events, each in a consumer
group of its own for each test (members other tests' stacks left behind are slow to leave a group), and helpers for
the accounts, methods of payment and arrears APIs together. A test may set casework settings of its own through the
`casework_settings` fixture (e.g. CASEWORK_COLLECTION_FEES_REFORM_DATE)."""

from __future__ import annotations

import uuid
from typing import Any

import grpc
import pytest

from cms.casework.v1 import accounts_pb2 as apb
from cms.casework.v1 import accounts_service_pb2 as aapi
from cms.casework.v1 import accounts_service_pb2_grpc as agrpc
from cms.casework.v1 import arrears_service_pb2_grpc as arrears_grpc
from cms.casework.v1 import casework_service_pb2 as api
from cms.casework.v1 import methods_of_payment_service_pb2_grpc as mop_grpc
from cms.casework.v1 import resources_pb2 as pb
from cms.common.v1 import types_pb2 as common
from cms_devkit.testing import events_on, wait_until

from ..conftest import alex_and_bethan, d, person, start_stack
from ..methods_of_payment.conftest import MopStack

MONEY_TOPIC = "cms.casework.money.events.v1"


class MoneyStack(MopStack):
    accounts: agrpc.AccountsServiceStub
    arrears: arrears_grpc.ArrearsServiceStub

    def account_call(self, method: str, request, *, as_=None, attempts: int = 3):
        return self.call_on(self.accounts, method, request, as_=as_, timeout=120, attempts=attempts)

    def arrears_call(self, method: str, request, *, as_=None, attempts: int = 3):
        return self.call_on(self.arrears, method, request, as_=as_, timeout=120, attempts=attempts)

    def account_of(self, case: pb.Case) -> apb.Account:
        """The case's account, once casework's accounts consumer has opened it from the plan's event."""

        def opened() -> apb.Account | None:
            found = self.account_call(
                "ListAccounts", aapi.ListAccountsRequest(case=case.name)
            ).accounts
            return found[0] if found else None

        return wait_until(opened, timeout=120, what="the account to open")

    def balances(self, account: apb.Account) -> apb.AccountBalances:
        return self.account_call("GetAccount", aapi.GetAccountRequest(name=account.name)).balances

    def statement(
        self, account: apb.Account, view: int, *, as_=None
    ) -> aapi.GetAccountStatementResponse:
        return self.account_call(
            "GetAccountStatement",
            aapi.GetAccountStatementRequest(name=account.name, since=d(2026, 1, 1), view=view),
            as_=as_,
        )

    def charge(self, on) -> api.ScheduledJobResult:
        return self.run_scheduled(on, api.SCHEDULED_JOB_ACCOUNT_CHARGES).results[0]

    def import_file(
        self, source: int, reference: str, received, lines
    ) -> aapi.ImportPaymentFileResponse:
        return self.account_call(
            "ImportPaymentFile",
            aapi.ImportPaymentFileRequest(
                request_id=str(uuid.uuid4()),
                source=source,
                file_reference=reference,
                received_date=received,
                lines=lines,
            ),
            as_=self.team_leader(),
        )

    def srs(self, case: pb.Case, sub_area: str) -> list[pb.ServiceRequest]:
        found = self.call("ListServiceRequests", api.ListServiceRequestsRequest(parent=case.name))
        return [sr for sr in found.service_requests if sr.sub_area == sub_area]

    def money_events(self, key: str, ce_type: str, expected: int = 1) -> list:
        """Money events of one CloudEvents type (e.g. `account.receipt_recorded`) under one record key."""
        return events_on(
            self.bootstrap, MONEY_TOPIC, f"uk.gov.cms.casework.{ce_type}.v1", key, expected
        )


def chidi_and_sian() -> api.CreateCaseRequest:
    """Another Collect & Pay case: Chidi Okafor pays Siân Llewellyn-Price for Ffion."""
    request = alex_and_bethan(service_type=pb.SERVICE_TYPE_COLLECT_AND_PAY)
    request.paying_parent.identity.CopyFrom(person("AC345678C", "Chidi", "Okafor", (1990, 6, 30)))
    request.paying_parent.ClearField("address")
    request.receiving_parent.identity.CopyFrom(
        person("AG765432A", "Siân", "Llewellyn-Price", (1983, 5, 17))
    )
    del request.qualifying_children[:]
    request.qualifying_children.add(
        name=common.PersonName(forenames="Ffion", surname="Okafor"),
        date_of_birth=d(2014, 5, 20),
        child_reference_number="AK100003C",
    )
    return request


@pytest.fixture
def casework_settings() -> dict[str, Any]:
    """Casework settings a test overrides (none by default)."""
    return {}


@pytest.fixture
def stack(start_service, creds, kafka_bootstrap, calculation, casework_settings) -> MoneyStack:
    out = start_stack(
        start_service,
        creds,
        kafka_bootstrap,
        calculation,
        MoneyStack,
        feed_apply_interval_seconds=0.2,
        benefit_instruction_interval_seconds=0.2,
        **casework_settings,
    )
    channel = out.channel
    out.mop = mop_grpc.MethodsOfPaymentServiceStub(channel)
    out.accounts = agrpc.AccountsServiceStub(channel)
    out.arrears = arrears_grpc.ArrearsServiceStub(channel)
    return out


def grpc_error(call) -> grpc.RpcError:
    with pytest.raises(grpc.RpcError) as err:
        call()
    return err.value
