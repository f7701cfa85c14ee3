"""Domain errors as rich gRPC statuses (cms_platform.grpc_errors)."""

from __future__ import annotations

from google.rpc import code_pb2, error_details_pb2

from cms_platform.errors import FieldViolation, InvalidArgument
from cms_platform.grpc_errors import to_status


def test_invalid_argument_maps_to_bad_request_details():
    status = to_status(InvalidArgument([FieldViolation("a.b", "is required")]), domain="test")
    assert status.code == code_pb2.INVALID_ARGUMENT
    bad = error_details_pb2.BadRequest()
    assert status.details[1].Unpack(bad)
    assert [(v.field, v.description) for v in bad.field_violations] == [("a.b", "is required")]
