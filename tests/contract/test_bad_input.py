"""Issue 13's findings through the real services: bad input is INVALID_ARGUMENT naming the field (and the limit, never
the value), whatever shape it takes: bytes that do not decode, enum numbers the enum does not declare, strings,
lists and amounts past the contract's limits, dates outside the plausible years, over-large batches."""

from __future__ import annotations

import uuid

import grpc
import pytest
from google.protobuf import symbol_database
from google.protobuf.message import Message
from google.type import date_pb2

from cms.calculation.v1 import calculation_service_pb2 as calc_api
from cms.calculation.v1 import resources_pb2 as calc_pb
from cms.casework.v1 import casework_service_pb2 as casework_api
from cms.cra.v1 import cra_scenario_service_pb2 as cra_scenario
from cms.dwp.v1 import dwp_service_pb2 as dwp_api
from cms.hmrc.v1 import hmrc_service_pb2 as hmrc_api
from cms_platform.grpc_errors import violated_fields

from .conftest import admitted, call, rpcs

GARBAGE = b"\xff\xff\xff\xff"  # a field tag whose varint never ends


def _method(full_name: str, name: str):
    return symbol_database.Default().pool.FindServiceByName(full_name).methods_by_name[name]


def _channel(running, full_name: str) -> grpc.Channel:
    for service, channel in running:
        if any(f == full_name for f, _ in rpcs(service)):
            return channel
    raise LookupError(full_name)


def _refused(running, creds, full_name: str, name: str, request: Message) -> grpc.RpcError:
    method = _method(full_name, name)
    with pytest.raises(grpc.RpcError) as err:
        call(_channel(running, full_name), full_name, method, request, admitted(creds, method))
    return err.value


def _invalid(running, creds, full_name: str, name: str, request: Message) -> dict[str, str]:
    """The field violations of a call that must be INVALID_ARGUMENT."""
    err = _refused(running, creds, full_name, name, request)
    assert err.code() == grpc.StatusCode.INVALID_ARGUMENT, f"{name}: {err.code()} {err.details()}"
    assert violated_fields(err)
    return {f: err.details() for f in violated_fields(err)}


CASEWORK = "cms.casework.v1.CaseworkService"


def test_garbage_bytes_are_invalid_argument_on_every_method(running, creds):
    checked = 0
    for service, channel in running:
        for full_name, method in rpcs(service):
            path = f"/{full_name}/{method.name}"
            raw = dict(request_serializer=lambda b: b, response_deserializer=lambda b: b)
            metadata = admitted(creds, method)
            with pytest.raises(grpc.RpcError) as err:
                if method.client_streaming:
                    answers = (
                        channel.stream_stream(path, **raw)
                        if method.server_streaming
                        else channel.stream_unary(path, **raw)
                    )(iter([GARBAGE]), metadata=metadata, timeout=10)
                    list(answers) if method.server_streaming else None
                elif method.server_streaming:
                    list(channel.unary_stream(path, **raw)(GARBAGE, metadata=metadata, timeout=10))
                else:
                    channel.unary_unary(path, **raw)(GARBAGE, metadata=metadata, timeout=10)
            assert err.value.code() == grpc.StatusCode.INVALID_ARGUMENT, path
            assert {f.removeprefix("[0]") for f in violated_fields(err.value)} == {""}, path
            checked += 1
    assert checked > 60


def test_enum_numbers_the_enum_does_not_declare(running, creds):
    assert "state" in _invalid(
        running, creds, CASEWORK, "ListCases", casework_api.ListCasesRequest(state=5)
    )
    assert "kind" in _invalid(
        running, creds, CASEWORK, "ListThirdParties", casework_api.ListThirdPartiesRequest(kind=99)
    )
    request = dwp_api.RegisterInterestRequest(
        request_id=str(uuid.uuid4()), nino="AA123456A", case_id="case-1", role=4
    )
    assert set(
        _invalid(running, creds, "cms.dwp.v1.DwpGatewayService", "RegisterInterest", request)
    ) == {"role"}


def test_a_search_prefix_past_its_limit_is_refused_and_one_within_it_answers(running, creds):
    violations = _invalid(
        running,
        creds,
        CASEWORK,
        "ListThirdParties",
        casework_api.ListThirdPartiesRequest(organisation_name_prefix="a" * 50_000),
    )
    assert set(violations) == {"organisation_name_prefix"}
    assert "at most 100 characters" in violations["organisation_name_prefix"]
    assert "aaaa" not in violations["organisation_name_prefix"]
    method = _method(CASEWORK, "ListThirdParties")
    within = casework_api.ListThirdPartiesRequest(organisation_name_prefix="%_" * 50)
    answer = call(_channel(running, CASEWORK), CASEWORK, method, within, admitted(creds, method))
    assert list(answer.third_parties) == []


def test_a_nul_in_a_string_is_refused_before_it_reaches_the_database(running, creds):
    # PostgreSQL cannot store NUL in text: once, fuzzing found every lookup by a string answer INTERNAL for it.
    violations = _invalid(
        running,
        creds,
        CASEWORK,
        "ListThirdParties",
        casework_api.ListThirdPartiesRequest(organisation_name_prefix="Acme\x00"),
    )
    assert set(violations) == {"organisation_name_prefix"}
    assert "must not contain control characters" in violations["organisation_name_prefix"]


def test_long_strings_are_refused_and_a_message_past_4_mb_is_resource_exhausted(running, creds):
    request = casework_api.CreateThirdPartyRequest(request_id=str(uuid.uuid4()))
    request.third_party.organisation_name = "Acme " * 200_000  # 1 MB
    violations = _invalid(running, creds, CASEWORK, "CreateThirdParty", request)
    assert "third_party.organisation_name" in violations
    request.third_party.organisation_name = "Acme " * 1_000_000  # 5 MB
    err = _refused(running, creds, CASEWORK, "CreateThirdParty", request)
    assert err.code() == grpc.StatusCode.RESOURCE_EXHAUSTED


def test_a_date_in_year_one_is_refused(running, creds):
    request = cra_scenario.RunSurveillanceChecksRequest(
        request_id=str(uuid.uuid4()), as_of_date=date_pb2.Date(year=1, month=1, day=1)
    )
    violations = _invalid(
        running, creds, "cms.cra.v1.CraScenarioService", "RunSurveillanceChecks", request
    )
    assert set(violations) == {"as_of_date"}
    assert "years 1900 to 2200" in violations["as_of_date"]


def test_over_large_lists_and_batches_are_refused(running, creds):
    jobs = casework_api.RunScheduledWorkRequest(
        request_id=str(uuid.uuid4()),
        as_of_date=date_pb2.Date(year=2026, month=5, day=1),
        jobs=[1] * 100_000,
    )
    assert set(_invalid(running, creds, CASEWORK, "RunScheduledWork", jobs)) == {"jobs"}
    verify = hmrc_api.VerifyReceivingParentReceivingChildBenefitRequest()
    verify.receiving_parent.nino = "AA123456A"
    child = verify.qualifying_children.add()
    child.name.forenames, child.name.surname = "Amy", "Morgan"
    child.date_of_birth.CopyFrom(date_pb2.Date(year=2015, month=7, day=1))
    verify.qualifying_children.extend([child] * 99_999)
    violations = _invalid(
        running,
        creds,
        "cms.hmrc.v1.HmrcGatewayService",
        "VerifyReceivingParentReceivingChildBenefit",
        verify,
    )
    assert "qualifying_children" in violations
    bulk = calc_api.BulkCalculateRequest(
        items=[calc_api.BulkCalculateItem(request_id=str(uuid.uuid4()), case_reference="c")] * 1001
    )
    assert set(
        _invalid(running, creds, "cms.calculation.v1.CalculationService", "BulkCalculate", bulk)
    ) == {"items"}
    names = calc_api.BatchGetCalculationsRequest(names=[f"calculations/{uuid.uuid4()}"] * 1001)
    assert set(
        _invalid(
            running, creds, "cms.calculation.v1.CalculationService", "BatchGetCalculations", names
        )
    ) == {"names"}


def test_a_bulk_item_past_the_money_limit_gets_its_own_invalid_argument(running, creds):
    def item(annual_pence: int) -> calc_api.BulkCalculateItem:
        i = calc_api.BulkCalculateItem(
            request_id=str(uuid.uuid4()), case_reference="c", what_if=True
        )
        i.input.effective_date.CopyFrom(date_pb2.Date(year=2026, month=5, day=1))
        i.input.service_type = calc_pb.SERVICE_TYPE_DIRECT_PAY
        i.input.paying_parent_income.hmrc_gross_annual_income_pence = annual_pence
        i.input.qualifying_children.add(
            child_reference="child-1", receiving_parent_reference="rp-1"
        )
        return i

    full_name = "cms.calculation.v1.CalculationService"
    method = _method(full_name, "BulkCalculate")
    request = calc_api.BulkCalculateRequest(
        items=[item(31_200_00), item(2**62), item(100_000_000_001)]
    )
    [answer] = call(
        _channel(running, full_name), full_name, method, request, admitted(creds, method)
    )
    ok, huge, just_over = answer.results
    assert ok.HasField("calculation")
    for bad in (huge, just_over):
        assert bad.error.code == grpc.StatusCode.INVALID_ARGUMENT.value[0]
        assert "input.paying_parent_income.hmrc_gross_annual_income_pence" in bad.error.message
        assert "at most 100000000000" in bad.error.message


def test_a_child_benefit_check_item_past_the_limits_gets_its_own_invalid_argument(running, creds):
    full_name = "cms.hmrc.v1.HmrcGatewayService"
    method = _method(full_name, "RunMonthlyChildBenefitCheck")
    request = hmrc_api.RunMonthlyChildBenefitCheckRequest(run_id="run-1")
    for n, (year, forenames) in enumerate([(1, "Amy"), (2015, "A" * 201)]):
        item = request.items.add(item_id=f"i-{n}", case_id="case-1")
        item.claimant.nino = "AA123456A"
        item.claimant.name.forenames, item.claimant.name.surname = "Bethan", "Morgan"
        item.claimant.date_of_birth.CopyFrom(date_pb2.Date(year=1979, month=11, day=2))
        item.child.name.forenames, item.child.name.surname = forenames, "Morgan"
        item.child.date_of_birth.CopyFrom(date_pb2.Date(year=year, month=7, day=1))
    [answer] = call(
        _channel(running, full_name), full_name, method, request, admitted(creds, method)
    )
    old, long_name = answer.results
    for result, field, limit in (
        (old, "child.date_of_birth", "years 1900 to 2200"),
        (long_name, "child.name.forenames", "at most 200 characters"),
    ):
        assert result.error.code == grpc.StatusCode.INVALID_ARGUMENT.value[0]
        assert field in result.error.message and limit in result.error.message
