"""Reading a case's liability timeline behind the case's visibility (a parent: only their own cases), audited."""

from __future__ import annotations

from sqlalchemy.orm import Session

from cms.casework.v1 import casework_service_pb2 as api
from cms.casework.v1 import resources_pb2 as pb
from cms_platform.clock import Clock
from cms_platform.convert import day_of
from cms_platform.errors import InvalidArgument
from cms_platform.identity import Caller

from ..access import service as access
from ..case_records import service as case_records
from . import service

_SUFFIX = "/liabilityTimeline"


def get(
    db: Session, *, request: api.GetLiabilityTimelineRequest, caller: Caller, clock: Clock
) -> pb.LiabilityTimeline:
    """GetLiabilityTimeline: `cases/{case_id}/liabilityTimeline`."""
    if not request.name.endswith(_SUFFIX):
        raise InvalidArgument.field("name", "must look like cases/{case_id}/liabilityTimeline")
    row = case_records.visible_case(db, name=request.name.removesuffix(_SUFFIX), caller=caller)
    case = case_records.assemble(db, row)
    closed_on = day_of(case.closure.effective_date) if case.state == pb.CASE_STATE_CLOSED else None
    access.audit(db, clock=clock, caller=caller, case_id=row.id, resource=request.name)
    return service.timeline(
        db, case_id=row.id, include_superseded=request.include_superseded, closed_on=closed_on
    )
