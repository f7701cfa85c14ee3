"""The application checks' messages: a child as HMRC's Child Benefit enquiries identify them, and HMRC's answer
as the case records it."""

from __future__ import annotations

import datetime as dt
from typing import Protocol

from google.type import date_pb2

from cms.casework.v1 import resources_pb2 as pb
from cms.common.v1 import types_pb2 as common
from cms.hmrc.v1 import resources_pb2 as hmrc_pb


class _Child(Protocol):
    @property
    def name(self) -> common.PersonName: ...

    @property
    def date_of_birth(self) -> date_pb2.Date: ...

    @property
    def child_reference_number(self) -> str: ...


def child_identity(child: _Child) -> hmrc_pb.ChildIdentity:
    """A child as HMRC's Child Benefit enquiries identify them."""
    return hmrc_pb.ChildIdentity(
        name=child.name,
        date_of_birth=child.date_of_birth,
        child_reference_number=child.child_reference_number,
    )


def benefit_status(
    status: hmrc_pb.ChildBenefitChildStatus, now: dt.datetime
) -> pb.ChildBenefitStatus:
    """HMRC's answer for a child as the case records it, checked at `now`."""
    out = pb.ChildBenefitStatus(
        entitled=status.entitled, in_payment=status.in_payment, end_date=status.end_date
    )
    out.check_time.FromDatetime(now)
    return out
