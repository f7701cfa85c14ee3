"""Safeguards through the real casework server (conftest.stack): unacceptable behaviour and the yearly review of
a potentially-violent status."""

from __future__ import annotations

import datetime as dt
import uuid

import grpc

from cms.casework.v1 import casework_service_pb2 as api
from cms.casework.v1 import resources_pb2 as pb

from ..conftest import d, error


def test_potentially_violent_status_is_reviewed_at_least_yearly(stack, clock):
    case = stack.new_live_case()
    record = stack.call(
        "RecordUnacceptableBehaviour",
        api.RecordUnacceptableBehaviourRequest(
            request_id=str(uuid.uuid4()),
            parent=case.paying_parent.name,
            unacceptable_behaviour_record=pb.UnacceptableBehaviourRecord(
                kind=pb.UNACCEPTABLE_BEHAVIOUR_KIND_THREAT_OF_VIOLENCE,
                incident_date=d(2026, 4, 2),
                description="Threatened staff on the phone",
                related_case=case.name,
                potentially_violent_status_set=True,
            ),
        ),
    )
    client = stack.call("GetClient", api.GetClientRequest(name=case.paying_parent.name))
    assert client.potentially_violent_status.active
    assert client.potentially_violent_status.review_due_date == d(2027, 4, 6)
    assert record.recorded_by == "cw-1"

    # Nothing due before the year is up; on the review date, a review SR for the case's workgroup.
    assert (
        stack.run_scheduled(d(2027, 4, 5), api.SCHEDULED_JOB_POTENTIALLY_VIOLENT_STATUS_REVIEW)
        .results[0]
        .items_due
        == 0
    )
    clock.advance(dt.timedelta(days=365))
    result = stack.run_scheduled(
        d(2027, 4, 6), api.SCHEDULED_JOB_POTENTIALLY_VIOLENT_STATUS_REVIEW
    ).results[0]
    assert (result.items_due, result.items_processed) == (1, 1)
    srs = stack.call(
        "ListServiceRequests", api.ListServiceRequestsRequest(parent=case.name)
    ).service_requests
    assert [s.sub_area for s in srs if s.sub_area == "Potentially Violent Status Review"]
    again = stack.run_scheduled(
        d(2027, 4, 6), api.SCHEDULED_JOB_POTENTIALLY_VIOLENT_STATUS_REVIEW
    ).results[0]
    assert again.items_due == 0  # a date already done does nothing more

    err = error(
        lambda: stack.call(
            "ReviewPotentiallyViolentStatus",
            api.ReviewPotentiallyViolentStatusRequest(
                request_id=str(uuid.uuid4()),
                name=case.paying_parent.name,
                outcome=api.POTENTIALLY_VIOLENT_REVIEW_OUTCOME_RETAIN,
            ),
        )
    )
    assert err.code() == grpc.StatusCode.PERMISSION_DENIED  # a team leader reviews
    kept = stack.call(
        "ReviewPotentiallyViolentStatus",
        api.ReviewPotentiallyViolentStatusRequest(
            request_id=str(uuid.uuid4()),
            name=case.paying_parent.name,
            outcome=api.POTENTIALLY_VIOLENT_REVIEW_OUTCOME_RETAIN,
        ),
        as_=stack.team_leader(),
    )
    assert kept.potentially_violent_status.review_due_date == d(2028, 4, 6)
