"""Domain errors as rich gRPC statuses (cms_platform.grpc_errors)."""

from __future__ import annotations

from google.rpc import code_pb2, error_details_pb2

from cms_platform.errors import FieldViolation, InvalidArgument, NotFound
from cms_platform.grpc_errors import to_status


def test_invalid_argument_maps_to_bad_request_details():
    status = to_status(InvalidArgument([FieldViolation("a.b", "is required")]), domain="test")
    assert status.code == code_pb2.INVALID_ARGUMENT
    bad = error_details_pb2.BadRequest()
    assert status.details[1].Unpack(bad)
    assert [(v.field, v.description) for v in bad.field_violations] == [("a.b", "is required")]


def test_a_resource_is_named_back_only_by_one_of_our_own_ids():
    def resource(name: str) -> error_details_pb2.ResourceInfo:
        status = to_status(NotFound("case", name), domain="test")
        info = error_details_pb2.ResourceInfo()
        assert status.details[1].Unpack(info)
        return info

    ours = resource("cases/0b7e4a52-6f0c-4c57-9a55-4f1a9b0c2d11")
    assert ours.resource_name == "cases/0b7e4a52-6f0c-4c57-9a55-4f1a9b0c2d11"
    for theirs in ("cases/Bethan Morgan", "AB234567B", "SW1A 2AA"):
        info = resource(theirs)
        assert info.resource_name == "" and theirs not in info.description


def test_reasons_say_more_than_the_status_code():
    from google.rpc import error_details_pb2 as ed

    from cms_platform import errors as e

    def reason(exc: e.DomainError) -> str:
        info = ed.ErrorInfo()
        assert to_status(exc, domain="test", correlation_id="c-1").details[0].Unpack(info)
        assert info.metadata["correlation_id"] == "c-1"
        return info.reason

    assert reason(NotFound("reform what-if", "x")) == "REFORM_WHAT_IF_NOT_FOUND"
    assert reason(e.AlreadyExists("client", "x")) == "CLIENT_ALREADY_EXISTS"
    assert reason(InvalidArgument.field("a", "is required")) == "FIELD_INVALID"
    closed = e.PreconditionViolation("CASE_CLOSED", "cases/1", "the case is closed")
    assert reason(e.FailedPrecondition(closed)) == "CASE_CLOSED"
    assert reason(e.FailedPrecondition(closed, reason="OTHER")) == "OTHER"
    assert reason(e.Conflict("stale")) == "CONCURRENT_UPDATE"
    assert reason(e.PermissionDenied("no")) == "ACTION_NOT_PERMITTED"
    assert reason(e.Unavailable("down")) == "DEPENDENCY_UNAVAILABLE"
    assert reason(e.ResourceExhausted("slow down")) == "RATE_LIMITED"
    # Reasons set by name keep it: the caller's metadata beside the correlation id.
    assert reason(e.Unavailable("down", reason="DATABASE_UNAVAILABLE")) == "DATABASE_UNAVAILABLE"
