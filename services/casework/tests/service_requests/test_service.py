"""Service requests through the real casework server (conftest.stack): the status rules and the self-service
service level."""

from __future__ import annotations

import datetime as dt
import uuid

from cms.casework.v1 import casework_service_pb2 as api
from cms.casework.v1 import resources_pb2 as pb
from cms_platform.grpc_errors import details_of

from ..conftest import d, error, events_of


def test_service_request_rules_and_the_self_service_level(stack, clock):
    case = stack.new_live_case()
    bethan = stack.creds.client(case.receiving_parent.name.removeprefix("clients/"))
    sr = stack.call(
        "CreateServiceRequest",
        api.CreateServiceRequestRequest(
            request_id=str(uuid.uuid4()),
            parent=case.name,
            service_request=pb.ServiceRequest(
                process="Client Contact",
                area="Case Maintenance",
                sub_area="Payment Query",
                description="When do I get paid?",
            ),
        ),
        as_=bethan,
    )
    assert sr.origin == pb.SERVICE_REQUEST_ORIGIN_CLIENT_SELF_SERVICE and sr.HasField(
        "action_due_time"
    )

    def move(status, sub=0, resolution=0):
        return stack.call(
            "UpdateServiceRequestStatus",
            api.UpdateServiceRequestStatusRequest(
                request_id=str(uuid.uuid4()),
                name=sr.name,
                status=status,
                sub_status=sub,
                resolution_code=resolution,
            ),
        )

    err = error(
        lambda: move(pb.SERVICE_REQUEST_STATUS_CLOSED, pb.SERVICE_REQUEST_SUB_STATUS_COMPLETE)
    )
    assert details_of(err)["PreconditionFailure"].violations[0].type == "RESOLUTION_CODE_REQUIRED"

    clock.advance(dt.timedelta(days=2))  # not actioned within 24 hours
    stack.run_scheduled(d(2026, 4, 8), api.SCHEDULED_JOB_SELF_SERVICE_SLA_CHECK)
    breached = stack.call(
        "ListServiceRequests",
        api.ListServiceRequestsRequest(parent="cases/-", sla_breached_only=True),
    )
    assert [s.name for s in breached.service_requests] == [sr.name]
    assert len(events_of(stack, case.name, "service_request.sla_breached")) == 1

    done = move(
        pb.SERVICE_REQUEST_STATUS_CLOSED,
        pb.SERVICE_REQUEST_SUB_STATUS_COMPLETE,
        pb.SERVICE_REQUEST_RESOLUTION_CODE_ACCEPTED,
    )
    assert done.status == pb.SERVICE_REQUEST_STATUS_CLOSED and done.HasField("action_time")
    err = error(lambda: move(pb.SERVICE_REQUEST_STATUS_IN_PROGRESS))
    assert details_of(err)["PreconditionFailure"].violations[0].type == "SERVICE_REQUEST_FINAL"
