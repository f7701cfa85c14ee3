"""Parallel changes to one case or client through the real casework server (conftest.stack): the change that loses
the race for the record's version is ABORTED with a retry hint (cms_platform.conflicts), nothing of it is stored, and
the same request retried succeeds. The race is made deterministic: as the losing change is about to write the case or
client, the record's version moves on, as a change committed in between would move it."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import grpc
from sqlalchemy import event, update

from cms.casework.v1 import casework_service_pb2 as api
from cms.casework.v1 import resources_pb2 as pb
from cms_casework.case_records.models import CaseRecord
from cms_casework.clients.models import ClientRecord
from cms_platform.grpc_errors import details_of

from .conftest import d, error


@contextmanager
def overtaken(model: type) -> Iterator[list[str]]:
    """While open, the first update of a `model` row finds its version already moved on; yields the ids hit."""
    hit: list[str] = []
    table = model.__table__  # type: ignore[attr-defined]

    def bump(_mapper: Any, connection: Any, target: Any) -> None:
        if not hit:
            hit.append(target.id)
            connection.execute(
                update(table).where(table.c.id == target.id).values(version=table.c.version + 1)
            )

    event.listen(model, "before_update", bump)
    try:
        yield hit
    finally:
        event.remove(model, "before_update", bump)


def _lost_then_retried(stack, model: type, call: Callable[[], Any]) -> Any:
    with overtaken(model) as hit:
        err = error(call)
    assert hit, "the change did not write the record"
    assert err.code() == grpc.StatusCode.ABORTED
    details = details_of(err)
    assert details["ErrorInfo"].reason == "CONCURRENT_UPDATE"
    assert details["RetryInfo"].retry_delay.ToNanoseconds() > 0
    return call()  # the same request id: nothing of the lost attempt was stored


def test_parallel_changes_to_a_case_or_a_client_are_aborted_and_a_retry_succeeds(stack):
    case = stack.new_live_case()
    parent = case.paying_parent.name

    watched = _lost_then_retried(
        stack,
        CaseRecord,
        lambda r=str(uuid.uuid4()): stack.call(
            "SetCaseSurveillance",
            api.SetCaseSurveillanceRequest(
                request_id=r, name=case.name, active=True, review_date=d(2026, 10, 1)
            ),
            attempts=1,  # the first answer: the lost race
        ),
    )
    assert watched.case_surveillance.active

    record = _lost_then_retried(
        stack,
        ClientRecord,
        lambda r=str(uuid.uuid4()): stack.call(
            "RecordUnacceptableBehaviour",
            api.RecordUnacceptableBehaviourRequest(
                request_id=r,
                parent=parent,
                unacceptable_behaviour_record=pb.UnacceptableBehaviourRecord(
                    kind=pb.UNACCEPTABLE_BEHAVIOUR_KIND_THREAT_OF_VIOLENCE,
                    incident_date=d(2026, 4, 2),
                    description="Threatened staff on the phone",
                    potentially_violent_status_set=True,
                ),
            ),
            attempts=1,  # the first answer: the lost race
        ),
    )
    # The lost attempt left no record behind: only the retried one is listed.
    listed = stack.call(
        "ListUnacceptableBehaviourRecords",
        api.ListUnacceptableBehaviourRecordsRequest(parent=parent),
    ).unacceptable_behaviour_records
    assert [r.name for r in listed] == [record.name]

    reviewed = _lost_then_retried(
        stack,
        ClientRecord,
        lambda r=str(uuid.uuid4()): stack.call(
            "ReviewPotentiallyViolentStatus",
            api.ReviewPotentiallyViolentStatusRequest(
                request_id=r, name=parent, outcome=api.POTENTIALLY_VIOLENT_REVIEW_OUTCOME_REMOVE
            ),
            as_=stack.team_leader(),
            attempts=1,  # the first answer: the lost race
        ),
    )
    assert not reviewed.potentially_violent_status.active

    flagged = _lost_then_retried(
        stack,
        CaseRecord,
        lambda r=str(uuid.uuid4()): stack.call(
            "SetPersonalInterest",
            api.SetPersonalInterestRequest(
                request_id=r,
                name=case.name,
                personal_interest=True,
                reason="Client is a relative of a caseworker",
            ),
            attempts=1,  # the first answer: the lost race
        ),
    )
    assert flagged.personal_interest
