"""The casework stack for the suites here: calculation, the three gateways and casework, each a real gRPC server on
port 0 with its own real database, sharing the session's real broker. Business clock: 6 April 2026 09:00 UTC.

The calculation service is stateless between tests (its stored calculations are keyed by request ids derived from
each test's own case names), so one runs for all the tests of a module, on the running test's clock; a test that
stops it (`own_calculation`) gets its own. The gateways keep scenario state per NINO and the tests reuse the same
people, and casework refuses a second open case for the same parents: those start afresh for every test."""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from typing import TypeVar

import grpc
import pytest
from google.type import date_pb2

from cms.casework.v1 import casework_service_pb2 as api
from cms.casework.v1 import casework_service_pb2_grpc as api_grpc
from cms.casework.v1 import resources_pb2 as pb
from cms.common.v1 import types_pb2 as common
from cms_calculation.app import CalculationService
from cms_casework.app import CaseworkService
from cms_cra_gateway.app import CraGatewayService
from cms_devkit import infra
from cms_devkit.testing import (
    call_as_a_client,
    events_on,
    service_settings,
    start_groups_at_the_end,
    wait_until,
)
from cms_dwp_gateway.app import DwpGatewayService
from cms_hmrc_gateway.app import HmrcGatewayService
from cms_platform.clock import Clock, ManualClock
from cms_platform.db import ensure_database


def d(y: int, m: int, day: int) -> date_pb2.Date:
    return date_pb2.Date(year=y, month=m, day=day)


def person(
    nino: str, forenames: str, surname: str, born: tuple[int, int, int]
) -> common.PersonIdentity:
    return common.PersonIdentity(
        nino=nino,
        name=common.PersonName(forenames=forenames, surname=surname),
        date_of_birth=d(*born),
    )


def alex_and_bethan(**kw) -> api.CreateCaseRequest:
    """Alex Turner (£31,200 a year PAYE) pays Bethan Morgan for Amy (2015) and Ben (2018): £96 a week."""
    return api.CreateCaseRequest(
        request_id=str(uuid.uuid4()),
        paying_parent=pb.Client(
            identity=person("AA123456A", "Alex", "Turner", (1985, 3, 14)),
            address=common.Address(
                lines=["14 Victoria Road"], post_town="LEEDS", postcode="LS6 1DL"
            ),
        ),
        receiving_parent=pb.Client(identity=person("AB234567B", "Bethan", "Morgan", (1979, 11, 2))),
        qualifying_children=[
            pb.QualifyingChild(
                name=common.PersonName(forenames="Amy", surname="Morgan"),
                date_of_birth=d(2015, 7, 1),
                child_reference_number="AK100001A",
            ),
            pb.QualifyingChild(
                name=common.PersonName(forenames="Ben", surname="Morgan"),
                date_of_birth=d(2018, 2, 9),
                child_reference_number="AK100002B",
            ),
        ],
        payment_frequency=common.PAYMENT_FREQUENCY_MONTHLY,
        **kw,
    )


def error(call) -> grpc.RpcError:
    with pytest.raises(grpc.RpcError) as err:
        call()
    return err.value


def events_of(stack, case_name: str, kind: str, expected: int = 1) -> list:
    return events_on(
        stack.bootstrap,
        "cms.casework.events.v1",
        f"uk.gov.cms.casework.{kind}.v1",
        case_name,
        expected,
    )


@dataclass
class Stack:
    casework: CaseworkService
    stub: api_grpc.CaseworkServiceStub
    creds: object
    services: dict
    bootstrap: str
    channel: grpc.Channel | None = None  # casework's, for the money contexts' stubs

    def call(self, method: str, request, *, as_=None, timeout: float = 20, attempts: int = 3):
        """CaseworkService's `method`, as a real client calls it (call_on)."""
        return self.call_on(self.stub, method, request, as_=as_, timeout=timeout, attempts=attempts)

    def call_on(
        self, stub, method: str, request, *, as_=None, timeout: float = 20, attempts: int = 3
    ):
        """`method` of any of casework's APIs (its stub on this stack's channel), as a real client calls: a failure
        worth a retry (call_as_a_client) is retried with the same request id; `attempts=1` sees the first answer.
        By default as a caseworker."""
        return call_as_a_client(
            lambda: getattr(stub, method)(
                request, metadata=as_ or self.creds.staff("cw-1", "caseworker"), timeout=timeout
            ),
            attempts=attempts,
        )

    def team_leader(self, staff_id: str = "tl-1"):
        return self.creds.staff(staff_id, "team_leader")

    def new_live_case(self, request: api.CreateCaseRequest | None = None) -> pb.Case:
        case = self.call("CreateCase", request or alex_and_bethan())
        return self.call(
            "CalculateCase", api.CalculateCaseRequest(request_id=str(uuid.uuid4()), name=case.name)
        )

    def report(
        self, case: pb.Case, change: pb.ChangeOfCircumstances, *, as_=None
    ) -> pb.ChangeOfCircumstances:
        return self.call(
            "ReportChangeOfCircumstances",
            api.ReportChangeOfCircumstancesRequest(
                request_id=str(uuid.uuid4()), parent=case.name, change_of_circumstances=change
            ),
            as_=as_,
        )

    def verify(
        self,
        change: pb.ChangeOfCircumstances,
        *,
        evidence=None,
        reviewed: bool = False,
        as_=None,
        outcome=api.VERIFICATION_OUTCOME_VERIFIED,
    ) -> pb.ChangeOfCircumstances:
        return self.call(
            "VerifyChangeOfCircumstances",
            api.VerifyChangeOfCircumstancesRequest(
                request_id=str(uuid.uuid4()),
                name=change.name,
                outcome=outcome,
                evidence=evidence
                or [pb.Evidence(kind=pb.EVIDENCE_KIND_DOCUMENT, description="seen")],
                suspicious_activity_reviewed=reviewed,
            ),
            as_=as_,
        )

    def apply(self, case: pb.Case) -> api.ApplyChangesOfCircumstancesResponse:
        return self.call(
            "ApplyChangesOfCircumstances",
            api.ApplyChangesOfCircumstancesRequest(request_id=str(uuid.uuid4()), parent=case.name),
            timeout=30,
        )

    def award_jsa(self, nino: str = "AA123456A", start: date_pb2.Date | None = None) -> None:
        """An income-based JSA award started in the simulated CIS, which dwp-gateway broadcasts to the interests
        registered for the person (as a scenario admin sets it up)."""
        from cms.dwp.v1 import dwp_scenario_service_pb2 as dwp_sc
        from cms.dwp.v1 import dwp_scenario_service_pb2_grpc as dwp_sc_grpc
        from cms.dwp.v1 import resources_pb2 as dwp_pb

        with grpc.insecure_channel(f"127.0.0.1:{self.services['dwp'].server.port}") as channel:
            dwp_sc_grpc.DwpScenarioServiceStub(channel).StartBenefitAward(
                dwp_sc.StartBenefitAwardRequest(
                    request_id=str(uuid.uuid4()),
                    nino=nino,
                    benefit_type=dwp_pb.BENEFIT_TYPE_JOBSEEKERS_ALLOWANCE_INCOME_BASED,
                    start_date=start or date_pb2.Date(year=2026, month=4, day=6),
                    amount=common.PeriodicAmount(
                        frequency=common.PAYMENT_FREQUENCY_FORTNIGHTLY, amount_pence=181_00
                    ),
                ),
                metadata=self.creds.staff("scenario-admin", "scenario_admin"),
                timeout=10,
            )

    def recalculated(self, case: pb.Case, *, timeout: float = 60) -> pb.Case:
        """The case once its latest calculation is no longer the one `case` holds (events arrive asynchronously)."""

        def moved() -> pb.Case | None:
            held = self.call("GetCase", api.GetCaseRequest(name=case.name))
            changed = held.latest_calculation.calculation != case.latest_calculation.calculation
            return held if changed else None

        return wait_until(moved, timeout=timeout, what="the case to be recalculated")

    def run_scheduled(self, as_of: date_pb2.Date, *jobs) -> api.RunScheduledWorkResponse:
        return self.call(
            "RunScheduledWork",
            api.RunScheduledWorkRequest(
                request_id=str(uuid.uuid4()), as_of_date=as_of, jobs=list(jobs)
            ),
            as_=self.creds.service("casework"),
            timeout=60,
        )


class FollowingClock:
    """The clock of the test running now, for a service that outlives one test."""

    def __init__(self) -> None:
        self.following: Clock = ManualClock(dt.datetime(2026, 4, 6, 9, 0, tzinfo=dt.UTC))

    def now(self) -> dt.datetime:
        return self.following.now()

    def today(self) -> dt.date:
        return self.following.today()


@pytest.fixture(scope="module")
def shared_calculation(
    postgres_server, kafka_bootstrap, tmp_path_factory, _database_dropper
) -> Iterator[tuple[CalculationService, FollowingClock]]:
    if postgres_server is None:
        url = f"sqlite:///{tmp_path_factory.mktemp('calculation') / 'calculation'}.db"
    else:
        url = infra.database_url(postgres_server, f"cms_t_{uuid.uuid4().hex[:10]}_calculation")
        ensure_database(url)
    clock = FollowingClock()
    calc = CalculationService(
        service_settings(
            CalculationService.settings_class, database_url=url, kafka=kafka_bootstrap
        ),
        clock=clock,
    )
    calc.start()
    try:
        yield calc, clock
    finally:
        calc.stop()
        if postgres_server is not None:
            _database_dropper.drop(url)


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers",
        "own_calculation: the test stops its calculation service, so it gets one of its own",
    )


@pytest.fixture
def calculation(request, shared_calculation, clock, start_service, kafka_bootstrap):
    if request.node.get_closest_marker("own_calculation"):
        calc, _ = start_service(CalculationService, kafka=kafka_bootstrap)
        return calc
    calc, following = shared_calculation
    following.following = clock
    return calc


@pytest.fixture
def feed_apply_interval_seconds() -> float:
    """The feed applier's tick in the stack (a module overrides it to see what the wake alone applies)."""
    return 0.2


@pytest.fixture
def national_runs_group(kafka_bootstrap) -> str:
    """A consumer group of the test's own for the national runs' chunks, for tests whose replicas share one."""
    group = f"casework-national-runs-{uuid.uuid4().hex[:8]}"
    # From now on only: the topic may hold earlier tests' runs (their cases are in other databases).
    start_groups_at_the_end(kafka_bootstrap, [group])
    return group


S = TypeVar("S", bound=Stack)


def start_stack(
    start_service, creds, kafka_bootstrap, calculation, stack_class: type[S], **casework_settings
) -> S:
    """Casework with its real dependencies on port 0. Every consumer group is the stack's own: members of a group that
    other tests' stacks left behind are slow to leave it, and each test's casework reads every event of its topics."""
    tag = uuid.uuid4().hex[:8]
    groups = {
        "feed_consumer_group": f"casework-feeds-{tag}",
        "accounts_consumer_group": f"casework-accounts-{tag}",
        "arrears_consumer_group": f"casework-arrears-{tag}",
        "methods_of_payment_consumer_group": f"casework-mop-{tag}",
    }
    start_groups_at_the_end(kafka_bootstrap, [*groups.values(), f"dwp-notices-{tag}"])
    hmrc, _ = start_service(
        HmrcGatewayService, kafka=kafka_bootstrap, feed_check_interval_seconds=0
    )
    dwp, _ = start_service(
        DwpGatewayService, kafka=kafka_bootstrap, notices_consumer_group=f"dwp-notices-{tag}"
    )
    cra, _ = start_service(
        CraGatewayService, kafka=kafka_bootstrap, surveillance_check_interval_seconds=0
    )
    settings: dict = {
        "scheduler_interval_seconds": 0,
        **groups,
        "calculation_address": f"127.0.0.1:{calculation.server.port}",
        "hmrc_gateway_address": f"127.0.0.1:{hmrc.server.port}",
        "dwp_gateway_address": f"127.0.0.1:{dwp.server.port}",
        "cra_gateway_address": f"127.0.0.1:{cra.server.port}",
        **casework_settings,
    }
    casework, channel = start_service(CaseworkService, kafka=kafka_bootstrap, **settings)
    return stack_class(
        casework,
        api_grpc.CaseworkServiceStub(channel),
        creds,
        {"calculation": calculation, "hmrc": hmrc, "dwp": dwp, "cra": cra},
        kafka_bootstrap,
        channel,
    )


@pytest.fixture
def stack(start_service, creds, kafka_bootstrap, calculation, feed_apply_interval_seconds) -> Stack:
    return start_stack(
        start_service,
        creds,
        kafka_bootstrap,
        calculation,
        Stack,
        feed_apply_interval_seconds=feed_apply_interval_seconds,
    )
