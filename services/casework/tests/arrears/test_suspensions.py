"""Suspended arrears through the running stack: a caseworker suspends collection with a reason and a review date
(its service request and event), the arrears check brings the service request back on the review date (once), and
resuming ends it."""

from __future__ import annotations

import grpc

from cms.casework.v1 import arrears_pb2 as apb
from cms.casework.v1 import arrears_service_pb2 as api
from cms.casework.v1 import casework_service_pb2 as case_api
from cms.casework.v1 import money_events_pb2 as money_ev
from cms.casework.v1 import resources_pb2 as pb
from cms_platform.grpc_errors import violated_fields

from ..conftest import d, error
from .conftest import money_events, rid
from .helpers import live_case, srs_of


def suspend(arrears, case, review=None):
    return arrears.call(
        "SuspendArrears",
        api.SuspendArrearsRequest(
            request_id=rid(),
            parent=case.name,
            reason=apb.ARREARS_SUSPENSION_REASON_DISPUTE,
            review_date=review or d(2026, 5, 6),
            note="the paying parent disputes the February charge",
        ),
    )


def test_a_suspension_comes_back_on_its_review_date_and_resuming_ends_it(stack, arrears):
    case = live_case(stack, service_type=pb.SERVICE_TYPE_DIRECT_PAY)
    held = suspend(arrears, case)
    assert held.state == apb.ARREARS_SUSPENSION_STATE_ACTIVE
    (sr,) = srs_of(stack, case, "Suspended Arrears")
    assert held.service_request == sr.name
    (event,) = money_events(stack, case.name, "arrears_suspended")
    assert money_ev.ArrearsSuspended.FromString(event.value).review_date == d(2026, 5, 6)
    again = error(lambda: suspend(arrears, case))
    assert again.code() == grpc.StatusCode.FAILED_PRECONDITION

    stack.run_scheduled(d(2026, 5, 5), case_api.SCHEDULED_JOB_ARREARS_CHECK)
    assert not srs_of(stack, case, "Suspended Arrears Review")
    stack.run_scheduled(d(2026, 5, 6), case_api.SCHEDULED_JOB_ARREARS_CHECK)
    (review,) = srs_of(stack, case, "Suspended Arrears Review")
    stack.run_scheduled(d(2026, 5, 7), case_api.SCHEDULED_JOB_ARREARS_CHECK)
    assert len(srs_of(stack, case, "Suspended Arrears Review")) == 1

    resumed = arrears.call(
        "ResumeArrears", api.ResumeArrearsRequest(request_id=rid(), name=held.name, note="resolved")
    )
    assert resumed.state == apb.ARREARS_SUSPENSION_STATE_ENDED
    assert resumed.review_service_request == review.name
    assert resumed.resumed_by == "cw-1"
    (event,) = money_events(stack, case.name, "arrears_resumed")
    assert money_ev.ArrearsResumed.FromString(event.value).arrears_suspension == held.name
    twice = error(
        lambda: arrears.call(
            "ResumeArrears", api.ResumeArrearsRequest(request_id=rid(), name=held.name)
        )
    )
    assert twice.code() == grpc.StatusCode.FAILED_PRECONDITION
    # Ended: a new suspension may follow.
    assert suspend(arrears, case, d(2026, 8, 1)).state == apb.ARREARS_SUSPENSION_STATE_ACTIVE


def test_a_review_date_must_be_after_today(stack, arrears):
    case = live_case(stack, service_type=pb.SERVICE_TYPE_DIRECT_PAY)
    bad = error(lambda: suspend(arrears, case, d(2026, 4, 6)))
    assert bad.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert violated_fields(bad) == ["review_date"]
    assert not srs_of(stack, case, "Suspended Arrears")
