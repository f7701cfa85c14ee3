"""The server's access check (cms_platform.server with cms_platform.access), through a real gRPC server on port 0: it
refuses to start when a served method declares no policy, and refuses a caller the policy does not name before the
request is validated or the servicer runs, telling the registration's hook; requests that do not decode, break the
contract's limits or overrun a client stream's message count are INVALID_ARGUMENT after that, and a message past the
server's receive limit is RESOURCE_EXHAUSTED. A stream its caller cancels is never INTERNAL."""

from __future__ import annotations

import threading
import uuid
from collections.abc import Iterator

import grpc
import pytest
from google.protobuf import descriptor_pb2, descriptor_pool
from google.type import date_pb2
from prometheus_client import REGISTRY

from cms.calculation.v1 import calculation_service_pb2 as api
from cms.calculation.v1 import calculation_service_pb2_grpc as api_grpc
from cms.calculation.v1 import resources_pb2 as pb
from cms.common.v1 import access_policy_pb2 as ap
from cms.common.v1 import field_limits_pb2 as fl
from cms_devkit.testing import local_issuer, wait_until
from cms_platform import access
from cms_platform.errors import FailedPrecondition, NotFound, PreconditionViolation
from cms_platform.grpc_errors import details_of, violated_fields
from cms_platform.identity import (
    Caller,
    IdentityVerifier,
    TrustedIssuer,
    client_caller,
    current_caller,
    service_caller,
    staff_caller,
)
from cms_platform.server import GrpcServer, ServiceRegistration
from cms_platform.validation import request_violations

FULL_NAME = api.DESCRIPTOR.services_by_name["CalculationService"].full_name
ISSUER = local_issuer()
IDENTITY = IdentityVerifier([TrustedIssuer.model_validate(ISSUER.trusted())], audience="test")


def _as(caller: Caller) -> tuple[tuple[str, str]]:
    return (("authorization", f"Bearer {ISSUER.mint(caller, audience='test')}"),)


class _Servicer(api_grpc.CalculationServiceServicer):
    """Records that it ran; CreateCalculation is admitted to casework only, GetRuleSet to staff and casework."""

    def __init__(self) -> None:
        self.ran: list[str] = []

    def GetRuleSet(
        self, request: api.GetRuleSetRequest, context: grpc.ServicerContext
    ) -> pb.RuleSet:
        self.ran.append("GetRuleSet")
        return pb.RuleSet(name=request.name)

    def CreateCalculation(
        self, request: api.CreateCalculationRequest, context: grpc.ServicerContext
    ) -> pb.Calculation:
        self.ran.append("CreateCalculation")
        return pb.Calculation()


@pytest.fixture
def served(serve_calculation) -> tuple[api_grpc.CalculationServiceStub, _Servicer, list]:
    servicer, told = _Servicer(), []

    def refused(method: str, request: object) -> None:
        told.append((method, request, current_caller()))
        if isinstance(request, api.GetRuleSetRequest) and request.name == "ruleSets/explode":
            raise RuntimeError("the hook failed")

    return serve_calculation(servicer, IDENTITY, refused=refused), servicer, told


def _refusal(call) -> grpc.RpcError:
    with pytest.raises(grpc.RpcError) as err:
        call()
    assert err.value.code() == grpc.StatusCode.PERMISSION_DENIED
    assert details_of(err.value)["ErrorInfo"].reason == "CALLER_NOT_PERMITTED"
    return err.value


def test_a_caller_the_policy_names_gets_through_and_others_are_refused_before_validation(served):
    stub, servicer, told = served
    name = api.GetRuleSetRequest(name="ruleSets/x")
    assert stub.GetRuleSet(name, metadata=_as(staff_caller("s-1", "caseworker"))).name
    assert stub.GetRuleSet(name, metadata=_as(service_caller("casework"))).name
    for caller in (
        client_caller("client-7"),
        staff_caller("s-2", "scenario_admin"),
        staff_caller("s-3", "auditor"),
        service_caller("hmrc-gateway"),
    ):
        err = _refusal(lambda c=caller: stub.GetRuleSet(name, metadata=_as(c)))
        assert caller.subject not in err.details()
    # An empty CreateCalculation is invalid, but a caseworker is refused before that is looked at...
    _refusal(
        lambda: stub.CreateCalculation(
            api.CreateCalculationRequest(), metadata=_as(staff_caller("s-1", "caseworker"))
        )
    )
    # ...while casework, which it admits, is told what is missing.
    with pytest.raises(grpc.RpcError) as err:
        stub.CreateCalculation(
            api.CreateCalculationRequest(), metadata=_as(service_caller("casework"))
        )
    assert err.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert "request_id" in violated_fields(err.value)
    assert servicer.ran == ["GetRuleSet", "GetRuleSet"]  # no refused call reached the servicer
    assert [(m, type(r).__name__, c.kind) for m, r, c in told][:2] == [
        ("GetRuleSet", "GetRuleSetRequest", "client"),
        ("GetRuleSet", "GetRuleSetRequest", "staff"),
    ]
    assert len(told) == 5


def test_a_refusal_stands_when_the_hook_fails_and_a_client_stream_is_refused_too(served):
    stub, _, told = served
    client = _as(client_caller("client-7"))
    _refusal(
        lambda: stub.GetRuleSet(api.GetRuleSetRequest(name="ruleSets/explode"), metadata=client)
    )
    # The servicer has no BulkCalculate (UNIMPLEMENTED had it been reached); the hook gets no request to read.
    _refusal(lambda: list(stub.BulkCalculate(iter([api.BulkCalculateRequest()]), metadata=client)))
    assert [(m, r) for m, r, _ in told][1:] == [("BulkCalculate", None)]


def test_a_server_with_a_method_without_a_policy_does_not_start():
    half = descriptor_pb2.FileDescriptorProto(
        name="cms/test/v1/unguarded.proto",
        package="cms.test.v1",
        dependency=["cms/common/v1/access_policy.proto"],
        syntax="proto3",
    )
    half.message_type.add(name="Nothing")
    service = half.service.add(name="Unguarded")
    for name in ("Guarded", "Open"):
        service.method.add(
            name=name, input_type=".cms.test.v1.Nothing", output_type=".cms.test.v1.Nothing"
        )
    service.method[0].options.Extensions[ap.access].staff.append(ap.STAFF_ROLE_TEAM_LEADER)
    pool = descriptor_pool.Default()
    try:
        pool.FindServiceByName("cms.test.v1.Unguarded")
    except KeyError:
        pool.AddSerializedFile(half.SerializeToString())
    with pytest.raises(access.MissingPolicy, match=r"cms\.test\.v1\.Unguarded\.Open$"):
        GrpcServer(
            service="test",
            registrations=[
                ServiceRegistration("cms.test.v1.Unguarded", lambda servicer, server: None, None)
            ],
            identity=IDENTITY,
            host="127.0.0.1",
            port=0,
        )


# -- decoding and the contract's limits, through the server ------------------------------------------------------


class _Streaming(_Servicer):
    item_validated = False

    def __init__(self) -> None:
        super().__init__()
        # Set once an answer has gone and the servicer reads the stream again.
        self.reading_on = threading.Event()

    def BulkCalculate(self, request_iterator, context):
        for request in request_iterator:
            self.ran.append("BulkCalculate")
            yield api.BulkCalculateResponse(
                results=[{"request_id": i.request_id} for i in request.items]
            )
            self.reading_on.set()


@pytest.fixture(
    params=[frozenset(), frozenset({"BulkCalculate"})], ids=["validated", "item-validated"]
)
def raw(request) -> Iterator[tuple[grpc.Channel, _Streaming, list]]:
    """A server whose stream is checked message by message or (like calculation's) item by item by the servicer."""
    servicer, told = _Streaming(), []
    servicer.item_validated = bool(request.param)
    server = GrpcServer(
        service="test",
        registrations=[
            ServiceRegistration(
                FULL_NAME,
                api_grpc.add_CalculationServiceServicer_to_server,
                servicer,
                item_validated=request.param,
                refused=lambda method, req: told.append((method, req)),
            )
        ],
        identity=IDENTITY,
        host="127.0.0.1",
        port=0,
    )
    channel = grpc.insecure_channel(f"127.0.0.1:{server.start()}")
    yield channel, servicer, told
    channel.close()
    server.stop(0)


GARBAGE = b"\xff\xff\xff\xff"  # a field tag whose varint never ends
CASEWORK = _as(service_caller("casework"))


def _raw_unary(channel: grpc.Channel, method: str, data: bytes, metadata) -> grpc.RpcError:
    with pytest.raises(grpc.RpcError) as err:
        channel.unary_unary(f"/{FULL_NAME}/{method}", request_serializer=lambda b: b)(
            data, metadata=metadata, timeout=10
        )
    return err.value


def test_bytes_that_do_not_decode_are_invalid_argument_after_identity_and_policy(raw):
    channel, servicer, told = raw
    for data in (
        GARBAGE,
        api.CreateCalculationRequest(case_reference="C1").SerializeToString()[:-1],
    ):
        err = _raw_unary(channel, "CreateCalculation", data, CASEWORK)
        assert err.code() == grpc.StatusCode.INVALID_ARGUMENT, err.details()
        assert violated_fields(err) == [""]
        assert "CreateCalculationRequest" in err.details()
    # Who is calling, and whether they may, come first: as for any other request.
    assert (
        _raw_unary(channel, "CreateCalculation", GARBAGE, ()).code()
        == grpc.StatusCode.UNAUTHENTICATED
    )
    staff = _as(staff_caller("s-1", "caseworker"))
    assert (
        _raw_unary(channel, "CreateCalculation", GARBAGE, staff).code()
        == grpc.StatusCode.PERMISSION_DENIED
    )
    assert told == [("CreateCalculation", None)]  # the refusal hook gets no request it cannot read
    assert servicer.ran == []


def _valid_batch() -> api.BulkCalculateRequest:
    """A one-item what-if batch the generic validation accepts."""
    item = api.BulkCalculateItem(
        request_id=str(uuid.UUID(int=1)), case_reference="C1", what_if=True
    )
    item.input.effective_date.CopyFrom(date_pb2.Date(year=2026, month=5, day=1))
    item.input.service_type = pb.SERVICE_TYPE_DIRECT_PAY
    item.input.paying_parent_income.hmrc_gross_annual_income_pence = 31_200_00
    item.input.qualifying_children.add(child_reference="child-1", receiving_parent_reference="rp-1")
    batch = api.BulkCalculateRequest(items=[item])
    assert not request_violations(batch)
    return batch


def test_a_message_that_does_not_decode_mid_stream_ends_the_stream_with_invalid_argument(raw):
    channel, servicer, _ = raw
    good = _valid_batch()
    answers = []
    with pytest.raises(grpc.RpcError) as err:
        for answer in channel.stream_stream(
            f"/{FULL_NAME}/BulkCalculate",
            request_serializer=lambda b: b,
            response_deserializer=api.BulkCalculateResponse.FromString,
        )(iter([good.SerializeToString(), GARBAGE]), metadata=CASEWORK, timeout=10):
            answers.append(answer)
    assert err.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert violated_fields(err.value) == ["[1]"]
    assert [a.results[0].request_id for a in answers] == [good.items[0].request_id]


def test_limits_are_invalid_argument_naming_field_and_limit_and_oversized_messages_resource_exhausted(
    raw,
):
    channel, servicer, _ = raw
    stub = api_grpc.CalculationServiceStub(channel)
    with pytest.raises(grpc.RpcError) as err:
        stub.GetRuleSet(api.GetRuleSetRequest(name="r" * 201), metadata=CASEWORK, timeout=10)
    assert err.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert violated_fields(err.value) == ["name"]
    assert "at most 200 characters" in err.value.details() and "rrr" not in err.value.details()
    with pytest.raises(grpc.RpcError) as err:
        stub.GetRuleSet(api.GetRuleSetRequest(name="r" * 5_000_000), metadata=CASEWORK, timeout=10)
    assert err.value.code() == grpc.StatusCode.RESOURCE_EXHAUSTED
    assert servicer.ran == []


def test_a_client_stream_past_its_declared_message_count_is_refused(raw):
    channel, servicer, _ = raw
    stub = api_grpc.CalculationServiceStub(channel)
    method = descriptor_pool.Default().FindMethodByName(f"{FULL_NAME}.BulkCalculate")
    assert method.GetOptions().Extensions[fl.stream_limits].max_messages == 2000
    answers = []
    with pytest.raises(grpc.RpcError) as err:
        for answer in stub.BulkCalculate(
            iter([_valid_batch()] * 2001), metadata=CASEWORK, timeout=30
        ):
            answers.append(answer)
    assert err.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert violated_fields(err.value) == ["[2000]"]
    assert len(answers) == len(servicer.ran) == 2000


BULK = f"/{FULL_NAME}/BulkCalculate"
CODES = ("CANCELLED", "OK", "INTERNAL", "FAILED")


def _handled() -> dict[str, float]:
    """The server's count of BulkCalculate calls by how they ended."""
    return {
        code: REGISTRY.get_sample_value(
            "cms_rpc_handled_total", {"service": "test", "method": BULK, "code": code}
        )
        or 0.0
        for code in CODES
    }


def _ended(before: dict[str, float]) -> dict[str, float]:
    """How the calls since `before` ended, once one has."""
    wait_until(lambda: _handled() != before, what="the call counted")
    return {code: n - before[code] for code, n in _handled().items() if n > before[code]}


def _cancelled_stream(channel: grpc.Channel, requests: Iterator[bytes]):
    return channel.stream_stream(
        BULK,
        request_serializer=lambda b: b,
        response_deserializer=api.BulkCalculateResponse.FromString,
    )(requests, metadata=CASEWORK, timeout=30)


def test_a_stream_its_caller_cancels_is_never_internal(raw):
    """A caller that cancels a stream while the servicer waits for its next message (a client whose own work broke,
    as the monthly Child Benefit check's does) is not the server's fault: the call ends CANCELLED, never INTERNAL
    (or OK, when grpc ends the servicer's read as the end of the stream before it learns of the cancel)."""
    channel, servicer, _ = raw
    before, cancelled = _handled(), threading.Event()

    def requests() -> Iterator[bytes]:
        yield _valid_batch().SerializeToString()
        cancelled.wait(30)  # the stream stays open, its next message never sent

    answers = _cancelled_stream(channel, requests())
    next(answers)
    # The first message answered, the servicer waits on the second.
    assert servicer.reading_on.wait(10)
    answers.cancel()
    cancelled.set()
    assert _ended(before) in ({"CANCELLED": 1}, {"OK": 1})
    assert servicer.ran == ["BulkCalculate"]


def test_a_stream_its_caller_cancels_mid_flow_is_never_internal(raw):
    """A caller that cancels a stream whose messages keep coming: grpc stops the servicer wherever it is (reading the
    next message, or its answer no longer taken), and the call ends CANCELLED, never INTERNAL (or OK as above)."""
    channel, _, _ = raw
    before, cancelled = _handled(), threading.Event()

    def requests() -> Iterator[bytes]:
        while not cancelled.is_set():
            yield _valid_batch().SerializeToString()

    answers = _cancelled_stream(channel, requests())
    for _ in range(3):
        next(answers)
    answers.cancel()
    cancelled.set()
    assert _ended(before) in ({"CANCELLED": 1}, {"OK": 1})


def _trailer(err: grpc.RpcError) -> str | None:
    return dict(err.trailing_metadata() or ()).get("x-correlation-id")


def test_every_answer_carries_the_correlation_id_back_refusals_too(served):
    stub, _, _ = served
    ours = (("x-correlation-id", "case-42.retry-1"),)
    staff = _as(staff_caller("s-1", "caseworker"))
    _, call = stub.GetRuleSet.with_call(
        api.GetRuleSetRequest(name="ruleSets/x"), metadata=staff + ours
    )
    assert dict(call.trailing_metadata())["x-correlation-id"] == "case-42.retry-1"
    refusals = [
        lambda: stub.GetRuleSet(
            api.GetRuleSetRequest(name="ruleSets/x"), metadata=ours
        ),  # no identity
        lambda: stub.GetRuleSet(
            api.GetRuleSetRequest(name="ruleSets/x"), metadata=_as(client_caller("c-1")) + ours
        ),  # not permitted
        lambda: stub.CreateCalculation(
            api.CreateCalculationRequest(), metadata=_as(service_caller("casework")) + ours
        ),  # invalid
    ]
    codes = []
    for refused in refusals:
        with pytest.raises(grpc.RpcError) as err:
            refused()
        codes.append(err.value.code())
        assert _trailer(err.value) == "case-42.retry-1"
    assert codes == [
        grpc.StatusCode.UNAUTHENTICATED,
        grpc.StatusCode.PERMISSION_DENIED,
        grpc.StatusCode.INVALID_ARGUMENT,
    ]
    # Without one from the caller, the server makes one and still sends it back with the refusal.
    with pytest.raises(grpc.RpcError) as err:
        stub.GetRuleSet(api.GetRuleSetRequest(name="ruleSets/x"))
    assert uuid.UUID(_trailer(err.value) or "")


# -- every error carries the correlation id and a reason of its own ------------------------------------------------


class _Failing(_Servicer):
    """GetRuleSet fails as its name says; ListRuleSets is left to the generated base (UNIMPLEMENTED)."""

    def GetRuleSet(self, request, context):
        if request.name == "ruleSets/missing":
            raise NotFound("rule set", request.name)
        if request.name == "ruleSets/closed":
            raise FailedPrecondition(PreconditionViolation("RULE_SET_WITHDRAWN", request.name, "x"))
        raise RuntimeError(
            "AB234567B Bethan Morgan"
        )  # personal data that must not reach the caller


def test_every_error_carries_the_correlation_id_in_error_info_and_trailers_with_its_own_reason(
    serve_calculation,
):
    stub = serve_calculation(_Failing(), IDENTITY)
    staff = _as(staff_caller("s-1", "caseworker"))
    calls = {
        "IDENTITY_MISSING": lambda md: stub.GetRuleSet(
            api.GetRuleSetRequest(name="r"), metadata=md
        ),
        "AUTHORIZATION_MALFORMED": lambda md: stub.GetRuleSet(
            api.GetRuleSetRequest(name="r"), metadata=(("authorization", "Basic x"), *md)
        ),
        "CALLER_NOT_PERMITTED": lambda md: stub.GetRuleSet(
            api.GetRuleSetRequest(name="r"), metadata=_as(client_caller("c-1")) + md
        ),
        "FIELD_INVALID": lambda md: stub.CreateCalculation(
            api.CreateCalculationRequest(), metadata=CASEWORK + md
        ),
        "RULE_SET_NOT_FOUND": lambda md: stub.GetRuleSet(
            api.GetRuleSetRequest(name="ruleSets/missing"), metadata=staff + md
        ),
        "RULE_SET_WITHDRAWN": lambda md: stub.GetRuleSet(
            api.GetRuleSetRequest(name="ruleSets/closed"), metadata=staff + md
        ),
        "UNEXPECTED_ERROR": lambda md: stub.GetRuleSet(
            api.GetRuleSetRequest(name="ruleSets/crash"), metadata=staff + md
        ),
        "METHOD_NOT_IMPLEMENTED": lambda md: stub.ListRuleSets(
            api.ListRuleSetsRequest(), metadata=staff + md
        ),
    }
    for reason, call in calls.items():
        for sent in (("x-correlation-id", "ticket-7.retry-2"),), ():
            with pytest.raises(grpc.RpcError) as err:
                call(sent)
            info = details_of(err.value)["ErrorInfo"]
            cid = info.metadata["correlation_id"]
            assert (info.reason, info.domain) == (reason, "test.cms.gov.uk")
            assert info.reason != err.value.code().name
            assert _trailer(err.value) == cid
            if sent:
                assert cid == "ticket-7.retry-2"
            else:  # the server made one up, and says which
                assert uuid.UUID(cid)
            assert "AB234567B" not in err.value.details() and "Bethan" not in str(info)


def test_an_unknown_method_is_unimplemented_with_the_correlation_id(raw):
    channel, _, _ = raw
    for method in (f"/{FULL_NAME}/NoSuchMethod", "/cms.nothing.v1.Nothing/Get"):
        with pytest.raises(grpc.RpcError) as err:
            channel.unary_unary(method, request_serializer=lambda b: b)(
                b"", metadata=(("x-correlation-id", "ticket-9"),), timeout=10
            )
        assert err.value.code() == grpc.StatusCode.UNIMPLEMENTED
        info = details_of(err.value)["ErrorInfo"]
        assert (info.reason, info.metadata["correlation_id"]) == ("METHOD_NOT_FOUND", "ticket-9")
        assert _trailer(err.value) == "ticket-9"


def test_a_bad_stream_names_its_own_reason(raw):
    channel, _, _ = raw
    err = _raw_unary(channel, "CreateCalculation", GARBAGE, CASEWORK)
    assert details_of(err)["ErrorInfo"].reason == "MESSAGE_UNDECODABLE"
    assert details_of(err)["ErrorInfo"].metadata["correlation_id"] == _trailer(err)
