"""The benchmarks' caseload loader (cms_devkit.caseload): what it loads is a caseload casework serves and works on."""

from __future__ import annotations

import datetime as dt
import itertools
import uuid

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from cms.calculation.v1 import calculation_service_pb2 as calc_api
from cms.calculation.v1 import calculation_service_pb2_grpc as calc_grpc
from cms.casework.v1 import casework_service_pb2 as api
from cms.casework.v1 import casework_service_pb2_grpc as api_grpc
from cms.casework.v1 import resources_pb2 as pb
from cms_calculation.app import CalculationService
from cms_calculation.engine.rules import RuleBook
from cms_casework.app import CaseworkService
from cms_casework.case_records.models import CaseRecord
from cms_casework.clients.models import ClientRecord
from cms_devkit import caseload
from cms_devkit.testing import START
from cms_dwp_gateway.app import DwpGatewayService
from cms_hmrc_gateway.app import HmrcGatewayService
from cms_platform.db import make_engine
from cms_simulation.population import Population

TODAY = START.date()


@pytest.fixture
def stack(start_service):
    calc, calc_ch = start_service(CalculationService)
    hmrc, _ = start_service(HmrcGatewayService, feed_check_interval_seconds=0)
    dwp, _ = start_service(DwpGatewayService)
    casework, ch = start_service(
        CaseworkService,
        calculation_address=f"127.0.0.1:{calc.server.port}",
        hmrc_gateway_address=f"127.0.0.1:{hmrc.server.port}",
        dwp_gateway_address=f"127.0.0.1:{dwp.server.port}",
        scheduler_interval_seconds=0,
    )
    return (
        casework,
        calc,
        api_grpc.CaseworkServiceStub(ch),
        calc_grpc.CalculationServiceStub(calc_ch),
    )


def test_a_loaded_caseload_is_served_by_casework_and_can_be_calculated_again(stack, creds):
    casework, calc, stub, calculation = stack
    loaded = caseload.load(
        casework_url=casework.settings.database_url,
        calculation_url=calc.settings.database_url,
        plan=caseload.Plan(cases=50, as_of=TODAY, review_every=10, batch=20),
    )
    assert loaded.cases == 50 and loaded.reviews_due >= 2
    assert loaded.qualifying_children >= 50
    engine = make_engine(casework.settings.database_url)
    with Session(engine) as s:
        ids = list(s.scalars(select(CaseRecord.id).order_by(CaseRecord.created_at)))
        due = s.scalar(
            select(func.count())
            .select_from(CaseRecord)
            .where(CaseRecord.annual_review_date <= TODAY + dt.timedelta(days=30))
        )
    engine.dispose()
    assert len(ids) == 50 and due == loaded.reviews_due

    staff = creds.staff()
    for case_id in ids[:: len(ids) // 5]:
        case = stub.GetCase(api.GetCaseRequest(name=f"cases/{case_id}"), metadata=staff, timeout=10)
        assert case.state == pb.CASE_STATE_LIVE
        assert case.paying_parent.identity.nino and case.receiving_parent.identity.nino
        assert case.qualifying_children and all(
            c.child_benefit.entitled for c in case.qualifying_children
        )
        # The decision on the case is the one the calculation service holds.
        stored = calculation.GetCalculation(
            calc_api.GetCalculationRequest(name=case.latest_calculation.calculation),
            metadata=creds.service("casework"),
            timeout=10,
        )
        share = next(
            r for r in stored.receiving_parent_amounts if r.receiving_parent_reference == case.name
        )
        assert case.latest_calculation.weekly_amount_pence == share.weekly_amount_pence
        assert stored.case_reference == case_id

    # Casework works on it: calculated again on the gateways' figures (the same people), as a caseworker asks.
    name = f"cases/{ids[0]}"
    before = stub.GetCase(api.GetCaseRequest(name=name), metadata=staff, timeout=10)
    again = stub.CalculateCase(
        api.CalculateCaseRequest(request_id=str(uuid.uuid4()), name=name),
        metadata=staff,
        timeout=15,
    )
    assert again.latest_calculation.reason == pb.CALCULATION_REASON_CASEWORKER_REQUEST
    assert again.latest_calculation.calculation != before.latest_calculation.calculation
    assert again.current_payment_plan


def test_the_fast_path_writes_the_case_the_services_flows_write():
    population = Population()
    start = TODAY - dt.timedelta(days=200)
    families = caseload.caseload_families(on=start, population=population)
    rule_book = RuleBook()
    scratch = caseload._scratch()
    compared = 0
    for family, _ in itertools.islice(families, 12):
        summary = caseload.hmrc_summary(family, start)
        family = family.__class__(
            family.index,
            family.receiver,
            family.payer,
            tuple(c for c in family.children if c.date_of_birth < start),
        )
        if summary is None or not family.children:
            continue
        with Session(scratch) as s, s.begin():
            opened = caseload.open_case(
                s, family, start=start, summary=summary, rule_book=rule_book
            )
            row = s.get(CaseRecord, opened.name.removeprefix("cases/"))
            assert row is not None
            by_flows = pb.Case.FromString(row.document)
            flows_payer = pb.Client.FromString(
                s.get(ClientRecord, row.paying_parent_client_id).document
            )
            flows_columns = (row.state, row.annual_review_date, row.paying_parent_nino)
        rows = caseload.build_case(family, start=start, summary=summary, rule_book=rule_book)
        fast = pb.Case.FromString(rows["cases"][0]["document"])
        fast_payer = pb.Client.FromString(rows["clients"][0]["document"])
        fast_row = rows["cases"][0]
        assert (
            fast_row["state"],
            fast_row["annual_review_date"],
            fast_row["paying_parent_nino"],
        ) == flows_columns
        for client in (flows_payer, fast_payer):
            client.ClearField("name")
            client.employment_and_income.ClearField("update_time")
        assert fast_payer == flows_payer
        for case in (by_flows, fast):
            # What differs by construction: new ids, and what the fast path leaves to the next decision.
            for field in ("name", "create_time", "update_time", "first_calculation_time"):
                case.ClearField(field)
            case.ClearField("current_payment_plan")
            case.latest_calculation.ClearField("calculation")
            case.latest_calculation.ClearField("calculate_time")
            case.paying_parent.ClearField("name")
            case.receiving_parent.ClearField("name")
            for child in case.qualifying_children:
                child.ClearField("child_id")
        assert fast == by_flows
        compared += 1
    assert compared >= 5
