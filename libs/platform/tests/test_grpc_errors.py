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
