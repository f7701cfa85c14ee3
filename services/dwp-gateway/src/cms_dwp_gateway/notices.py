"""Calculation notices: dwp-gateway follows casework's CaseCalculated events, because Jobcentre Plus picks up
flat-rate calculations for automated deduction from benefit. It keeps, per case, the latest calculation it was
told about and how many distinct notices it received, and hands a standard flat rate to JCP's automated route.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import BigInteger, Integer, String
from sqlalchemy.orm import Mapped, Session, mapped_column

from cms.casework.v1 import events_pb2 as casework_events
from cms_platform.consumer import Subscription
from cms_platform.db import Base, UtcDateTime

STANDARD_FLAT_RATE_PENCE = 700  # only the standard flat rate goes the automated way


class CaseCalculationNotice(Base):
    __tablename__ = "case_calculation_notices"

    case_id: Mapped[str] = mapped_column(String(100), primary_key=True)
    calculation: Mapped[str] = mapped_column(String(100))
    rate: Mapped[str] = mapped_column(String(20))
    weekly_amount_pence: Mapped[int] = mapped_column(BigInteger)
    # Incremented per event applied: a redelivered event that got through twice would show here.
    notices_received: Mapped[int] = mapped_column(Integer)
    updated_at: Mapped[dt.datetime] = mapped_column(UtcDateTime)


def on_case_calculated(
    db_session: Session, msg: casework_events.CaseCalculated, *, now: dt.datetime, pick_up=None
) -> None:
    if (
        pick_up is not None
        and msg.rate == "FLAT"
        and msg.weekly_amount_pence == STANDARD_FLAT_RATE_PENCE
    ):
        pick_up(db_session, msg)
    notice = db_session.get(CaseCalculationNotice, msg.case_id)
    if notice is None:
        notice = CaseCalculationNotice(case_id=msg.case_id, notices_received=0)
        db_session.add(notice)
    notice.calculation = msg.calculation
    notice.rate = msg.rate
    notice.weekly_amount_pence = msg.weekly_amount_pence
    notice.notices_received += 1
    notice.updated_at = now


GROUP = "dwp-gateway.case-calculated"


def subscription(clock, pick_up=None, group: str = GROUP) -> Subscription:
    """`pick_up(session, CaseCalculated)`: JCP's automated route, in the same transaction as the notice."""
    return Subscription(
        group_id=group,
        handlers={
            casework_events.CaseCalculated: lambda s, e, _env: on_case_calculated(
                s, e, now=clock.now(), pick_up=pick_up
            )
        },
    )
