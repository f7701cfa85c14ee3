"""Shared set-up for hmrc-gateway's suites: Jordan Kellaway, whom the suites script through the scenario admin
service (as tests and demos are meant to), so every figure is known, and the gateway on port 0 with them upserted,
with or without the session's real broker. The business clock is 6 April 2026 (tax year 2025-26 has just ended)."""

from __future__ import annotations

import uuid
from collections.abc import Callable

import pytest
from google.type import date_pb2

from cms.common.v1 import types_pb2 as common
from cms.hmrc.v1 import hmrc_scenario_service_pb2 as sc
from cms.hmrc.v1 import hmrc_scenario_service_pb2_grpc as sc_grpc
from cms.hmrc.v1 import hmrc_service_pb2_grpc as api_grpc
from cms.hmrc.v1 import resources_pb2 as pb
from cms_hmrc_gateway.app import HmrcGatewayService

NINO = "JK123456C"


def d(y: int, m: int, day: int) -> date_pb2.Date:
    return date_pb2.Date(year=y, month=m, day=day)


def identity(nino: str = NINO) -> common.PersonIdentity:
    return common.PersonIdentity(
        nino=nino,
        name=common.PersonName(forenames="Jordan", surname="Kellaway"),
        date_of_birth=d(1984, 7, 1),
    )


def employer(name: str, ref: str) -> pb.Employer:
    return pb.Employer(
        name=name,
        paye_reference=ref,
        telephone_number="0161 496 0000",
        address=common.Address(lines=["1 Mill Street"], post_town="Leeds", postcode="LS1 4AB"),
    )


def scripted_person(nino: str = NINO, **kw) -> sc.SimulatedPerson:
    """Employed at Acme (£36,000 a year, monthly) since 2019, an ended job at Bolt, PAYE for 2023-24, a Self
    Assessment return for 2024-25 (which wins), unearned income, and a Child Benefit award with two children."""
    person = sc.SimulatedPerson(
        identity=identity(nino),
        address=common.Address(lines=["4 Park Road"], post_town="Leeds", postcode="LS6 2AA"),
        self_assessment_utr="1234567890",
        employments=[
            sc.SimulatedEmployment(
                employment=pb.Employment(
                    employment_id="acme",
                    employer=employer("Acme Ltd", "247/A1987CB"),
                    payroll_id="P100",
                    start_date=d(2019, 5, 1),
                    pay_frequency=pb.PAY_FREQUENCY_MONTHLY,
                ),
                annual_taxable_pay_pence=36_000_00,
            ),
            sc.SimulatedEmployment(
                employment=pb.Employment(
                    employment_id="bolt",
                    employer=employer("Bolt plc", "123/B55"),
                    payroll_id="B7",
                    start_date=d(2015, 1, 5),
                    end_date=d(2019, 4, 30),
                    pay_frequency=pb.PAY_FREQUENCY_WEEKLY,
                ),
                annual_taxable_pay_pence=20_000_00,
            ),
        ],
        tax_years=[
            sc.SimulatedTaxYear(
                tax_year="2023-24",
                paye_income=[
                    sc.SimulatedPayeIncome(
                        paye_reference="247/A1987CB",
                        payroll_id="P100",
                        taxable_pay_pence=34_000_00,
                        tax_deducted_pence=4_286_00,
                    )
                ],
            ),
            sc.SimulatedTaxYear(
                tax_year="2024-25",
                paye_income=[
                    sc.SimulatedPayeIncome(
                        paye_reference="247/A1987CB", payroll_id="P100", taxable_pay_pence=35_000_00
                    )
                ],
                self_assessment=pb.SelfAssessmentIncomeBreakdown(
                    return_received_date=d(2025, 10, 12),
                    employment_income_pence=35_000_00,
                    self_employment_profit_pence=4_000_00,
                ),
                unearned_income=pb.UnearnedIncome(
                    tax_year="2024-25",
                    self_assessment_return_filed=True,
                    uk_property_profit_pence=3_000_00,
                    savings_interest_pence=120_00,
                ),
            ),
        ],
        child_benefit=sc.SimulatedChildBenefitAward(
            child_benefit_reference="CHB12345678AB",
            award_start_date=d(2009, 9, 1),
            children=[
                sc.SimulatedChild(
                    identity=pb.ChildIdentity(
                        name=common.PersonName(forenames="Ella", surname="Kellaway"),
                        date_of_birth=d(2009, 3, 2),
                        child_reference_number="JZ100001A",
                    ),
                    relationship_start_date=d(2009, 3, 20),
                    approved_education_or_training_reported=True,
                ),
                sc.SimulatedChild(
                    identity=pb.ChildIdentity(
                        name=common.PersonName(forenames="Sam", surname="Kellaway"),
                        date_of_birth=d(2014, 6, 9),
                        child_reference_number="JZ100002A",
                    ),
                    relationship_start_date=d(2014, 6, 20),
                ),
            ],
        ),
    )
    for k, v in kw.items():
        setattr(person, k, v)
    return person


@pytest.fixture(name="scripted_person")
def scripted_person_fixture() -> Callable[..., sc.SimulatedPerson]:
    """scripted_person(nino=NINO, **fields): Jordan's record, under another NINO or with fields changed."""
    return scripted_person


def call(stub_method, request, creds):
    return stub_method(request, metadata=creds.staff(), timeout=10)


def admin_call(stub_method, request, creds):
    """A scenario (test-data) call: only the scenario_admin role may make one."""
    return stub_method(
        request, metadata=creds.staff("scenario-admin", "scenario_admin"), timeout=10
    )


@pytest.fixture
def hmrc(start_service, creds):
    """(service, gateway stub, scenario stub), Jordan upserted; no broker."""
    service, channel = start_service(
        HmrcGatewayService, population_size=10_000, feed_check_interval_seconds=0
    )
    gateway, scenario = (
        api_grpc.HmrcGatewayServiceStub(channel),
        sc_grpc.HmrcScenarioServiceStub(channel),
    )
    admin_call(
        scenario.UpsertPerson,
        sc.UpsertPersonRequest(request_id=str(uuid.uuid4()), person=scripted_person()),
        creds,
    )
    return service, gateway, scenario


@pytest.fixture
def hmrc_with_broker(start_service, creds, kafka_bootstrap):
    """(service, gateway stub, scenario stub, broker), Jordan upserted under NINO and JK222222C."""
    service, channel = start_service(
        HmrcGatewayService,
        db_name="hmrc-feeds",
        kafka=kafka_bootstrap,
        population_size=10_000,
        feed_check_interval_seconds=0,
    )
    gateway, scenario = (
        api_grpc.HmrcGatewayServiceStub(channel),
        sc_grpc.HmrcScenarioServiceStub(channel),
    )
    for nino in (NINO, "JK222222C"):
        admin_call(
            scenario.UpsertPerson,
            sc.UpsertPersonRequest(request_id=str(uuid.uuid4()), person=scripted_person(nino)),
            creds,
        )
    return service, gateway, scenario, kafka_bootstrap
