"""The six-week target as the on-call engineer sees it (cases.targets): an application still waiting for its first
calculation six weeks after it was made is counted in cms_casework_applications_past_six_weeks, and leaves the count
once it is calculated."""

from __future__ import annotations

import datetime as dt
import uuid

from prometheus_client import REGISTRY

from cms.casework.v1 import casework_service_pb2 as api
from cms.casework.v1 import resources_pb2 as pb

from ..conftest import alex_and_bethan


def _past_six_weeks(stack) -> float:
    assert stack.casework.six_week_target.run_pass()
    return REGISTRY.get_sample_value("cms_casework_applications_past_six_weeks") or 0.0


def test_an_application_waiting_past_six_weeks_is_counted_until_it_is_calculated(stack, clock):
    case = stack.call("CreateCase", alex_and_bethan())
    assert case.state == pb.CASE_STATE_APPLICATION
    clock.advance(dt.timedelta(weeks=6) - dt.timedelta(minutes=1))
    assert _past_six_weeks(stack) == 0  # inside the target
    clock.advance(dt.timedelta(minutes=2))
    assert _past_six_weeks(stack) == 1
    live = stack.call(
        "CalculateCase", api.CalculateCaseRequest(request_id=str(uuid.uuid4()), name=case.name)
    )
    assert live.state == pb.CASE_STATE_LIVE
    assert _past_six_weeks(stack) == 0
