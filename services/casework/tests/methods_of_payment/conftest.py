"""The casework stack of the parent conftest, its methods of payment consumer in a group of its own for each test
(members other tests' stacks left behind are slow to leave a group), with helpers for this context's API."""

from __future__ import annotations

import uuid

import grpc
import pytest
from google.type import date_pb2

from cms.casework.v1 import casework_service_pb2 as api
from cms.casework.v1 import methods_of_payment_service_pb2_grpc as mop_grpc
from cms.casework.v1 import resources_pb2 as pb
from cms.common.v1 import types_pb2 as common
from cms.dwp.v1 import dwp_scenario_service_pb2 as dwp_sc
from cms.dwp.v1 import dwp_scenario_service_pb2_grpc as dwp_sc_grpc
from cms.dwp.v1 import dwp_service_pb2_grpc as dwp_grpc
from cms_devkit.testing import wait_until

from ..conftest import Stack, alex_and_bethan, start_stack


class MopStack(Stack):
    mop: mop_grpc.MethodsOfPaymentServiceStub

    def mop_call(self, method: str, request, *, as_=None, attempts: int = 3):
        return self.call_on(self.mop, method, request, as_=as_, attempts=attempts)

    def collect_and_pay_case(self, **kw) -> pb.Case:
        return self.new_live_case(
            alex_and_bethan(service_type=pb.SERVICE_TYPE_COLLECT_AND_PAY, **kw)
        )

    def case_method(self, case: pb.Case, method: int, *, timeout: float = 120) -> pb.Case:
        """The case once its method of payment from is `method` (set through the feed pass)."""

        def held() -> pb.Case | None:
            found = self.call("GetCase", api.GetCaseRequest(name=case.name))
            return found if found.method_of_payment_from == method else None

        return wait_until(held, timeout=timeout, what="the case's method of payment")

    def dwp_scenario(self) -> tuple[dwp_sc_grpc.DwpScenarioServiceStub, grpc.Channel]:
        channel = grpc.insecure_channel(f"127.0.0.1:{self.services['dwp'].server.port}")
        return dwp_sc_grpc.DwpScenarioServiceStub(channel), channel

    def dwp(self) -> tuple[dwp_grpc.DwpGatewayServiceStub, grpc.Channel]:
        channel = grpc.insecure_channel(f"127.0.0.1:{self.services['dwp'].server.port}")
        return dwp_grpc.DwpGatewayServiceStub(channel), channel

    def award(self, benefit_type: int, nino: str = "AA123456A") -> None:
        """A benefit award started in the simulated CIS (as a scenario admin sets it up)."""
        stub, channel = self.dwp_scenario()
        try:
            stub.StartBenefitAward(
                dwp_sc.StartBenefitAwardRequest(
                    request_id=str(uuid.uuid4()),
                    nino=nino,
                    benefit_type=benefit_type,
                    start_date=date_pb2.Date(year=2026, month=4, day=6),
                    amount=common.PeriodicAmount(
                        frequency=common.PAYMENT_FREQUENCY_WEEKLY, amount_pence=180_00
                    ),
                ),
                metadata=self.creds.staff("scenario-admin", "scenario_admin"),
                timeout=10,
            )
        finally:
            channel.close()

    def run_jcp_batches(self) -> list[str]:
        stub, channel = self.dwp_scenario()
        try:
            return list(
                stub.RunDueBatches(
                    dwp_sc.RunDueBatchesRequest(request_id=str(uuid.uuid4()), ignore_delays=True),
                    metadata=self.creds.staff("scenario-admin", "scenario_admin"),
                    timeout=120,
                ).decided_deduction_ids
            )
        finally:
            channel.close()


@pytest.fixture
def stack(start_service, creds, kafka_bootstrap, calculation) -> MopStack:
    out = start_stack(
        start_service,
        creds,
        kafka_bootstrap,
        calculation,
        MopStack,
        feed_apply_interval_seconds=0.2,
        benefit_instruction_interval_seconds=0.2,
    )
    out.mop = mop_grpc.MethodsOfPaymentServiceStub(out.channel)
    return out
