"""RunScheduledWork within the caller's deadline, through the real casework server (conftest.stack): when the
deadline is near (cms_platform.calls.running_out) the run stops and answers with its progress, records nothing cut
short as done and stores no answer against the request id, so retrying the request continues the work. The deadline
is made to arrive deterministically, after the first item, rather than by timing."""

from __future__ import annotations

import datetime as dt
import uuid

from cms.casework.v1 import casework_service_pb2 as api
from cms.casework.v1 import resources_pb2 as pb
from cms_casework.scheduler import service as scheduler
from cms_platform import calls

from ..conftest import d

PV_REVIEW = api.SCHEDULED_JOB_POTENTIALLY_VIOLENT_STATUS_REVIEW


def _potentially_violent(stack, parent: str) -> None:
    stack.call(
        "RecordUnacceptableBehaviour",
        api.RecordUnacceptableBehaviourRequest(
            request_id=str(uuid.uuid4()),
            parent=parent,
            unacceptable_behaviour_record=pb.UnacceptableBehaviourRecord(
                kind=pb.UNACCEPTABLE_BEHAVIOUR_KIND_THREAT_OF_VIOLENCE,
                incident_date=d(2026, 4, 2),
                description="Threatened staff on the phone",
                potentially_violent_status_set=True,
            ),
        ),
    )


def _reviews(stack, case: pb.Case) -> int:
    srs = stack.call(
        "ListServiceRequests", api.ListServiceRequestsRequest(parent=case.name)
    ).service_requests
    return len([s for s in srs if s.sub_area == scheduler.PV_REVIEW_SUB_AREA])


def test_a_run_the_deadline_cuts_short_answers_its_progress_and_a_retry_continues(
    stack, clock, monkeypatch
):
    case = stack.new_live_case()
    for parent in (case.paying_parent.name, case.receiving_parent.name):
        _potentially_violent(stack, parent)
    clock.advance(dt.timedelta(days=365))

    # The deadline comes near once the first item is done.
    near: list[bool] = []
    each = scheduler.Scheduler._each

    def first_item_then_out_of_time(self, result, name, work) -> None:
        each(self, result, name, work)
        near.append(True)

    def running_out(margin: float | None = None) -> bool:
        return bool(near) and calls.operation() in (scheduler.JOB, "RunScheduledWork")

    monkeypatch.setattr(scheduler.Scheduler, "_each", first_item_then_out_of_time)
    monkeypatch.setattr(calls, "running_out", running_out)
    request = api.RunScheduledWorkRequest(
        request_id=str(uuid.uuid4()),
        as_of_date=d(2027, 4, 6),
        jobs=[PV_REVIEW, PV_REVIEW, api.SCHEDULED_JOB_CASE_SURVEILLANCE_REVIEW],
    )
    run = stack.call("RunScheduledWork", request, as_=stack.creds.service("casework"))
    [cut] = run.results  # the job named twice ran once; the surveillance review was not started
    assert (cut.job, cut.items_due, cut.items_processed, cut.items_failed) == (PV_REVIEW, 2, 1, 0)
    assert _reviews(stack, case) == 1

    monkeypatch.undo()  # time enough now: the same request continues where it stopped
    again = stack.call("RunScheduledWork", request, as_=stack.creds.service("casework"))
    assert [(r.job, r.items_due, r.items_processed) for r in again.results] == [
        (PV_REVIEW, 2, 2),
        (api.SCHEDULED_JOB_CASE_SURVEILLANCE_REVIEW, 0, 0),
    ]
    assert _reviews(stack, case) == 1  # one case: its review was raised by the first run, once
    # Now done for the date, and the finished answer is the request's.
    assert stack.call("RunScheduledWork", request, as_=stack.creds.service("casework")) == again
    assert stack.run_scheduled(d(2027, 4, 6), PV_REVIEW).results[0].items_due == 0
