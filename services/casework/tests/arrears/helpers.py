"""Small helpers for the arrears stack tests."""

from __future__ import annotations

from cms.casework.v1 import casework_service_pb2 as api
from cms.casework.v1 import resources_pb2 as pb

from ..conftest import alex_and_bethan


def live_case(stack, service_type=pb.SERVICE_TYPE_COLLECT_AND_PAY) -> pb.Case:
    return stack.new_live_case(alex_and_bethan(service_type=service_type))


def srs_of(stack, case: pb.Case, sub_area: str) -> list[pb.ServiceRequest]:
    found = stack.call(
        "ListServiceRequests", api.ListServiceRequestsRequest(parent=case.name)
    ).service_requests
    return [sr for sr in found if sr.sub_area == sub_area]


def letters_of(stack, case: pb.Case, kind) -> list[pb.Correspondence]:
    found = stack.call(
        "ListCorrespondence", api.ListCorrespondenceRequest(parent=case.name, page_size=200)
    ).correspondence
    return [c for c in found if c.kind == kind]
