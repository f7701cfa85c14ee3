"""JCP's automated route: dwp-gateway follows casework's CaseCalculated events because Jobcentre Plus picks up
standard flat-rate calculations through the CIS interest. Per case it keeps the latest calculation it was told about
and how many distinct notices it received, and a standard flat rate for a paying parent with a live IS / income-based
JSA / income-related ESA award in a business an active interest covers becomes a deduction on the automated route,
in the same transaction as the notice. Without the interest nothing happens: the real silent gap."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy.orm import Session

from cms.casework.v1 import events_pb2 as casework_events
from cms.dwp.v1 import resources_pb2 as pb
from cms_platform.clock import Clock
from cms_platform.cloudevents import Envelope
from cms_platform.convert import strict_date
from cms_platform.identifiers import normalise_nino, valid_nino

from ..benefits import FACTS, Route
from ..port import CisPort, DeductionType, JobcentrePlusPort
from . import rules, service
from .models import CaseCalculationNotice


@dataclass(frozen=True)
class AutomatedRoute:
    """What picking a case up needs: CIS for the paying parent's awards, JCP for its batch, the clock and the
    deduction parameters."""

    cis: CisPort
    jcp: JobcentrePlusPort
    clock: Clock
    params: rules.DeductionParameters


def on_case_calculated(
    session: Session,
    event: casework_events.CaseCalculated,
    envelope: Envelope,
    *,
    route: AutomatedRoute,
) -> None:
    """The consumer's handler of CaseCalculated (bound to its route in the app's subscription): the notice, and a
    standard flat rate handed to JCP's automated route."""
    now = route.clock.now()
    if event.rate == "FLAT" and event.weekly_amount_pence == route.params.flat_rate_weekly_pence:
        pick_up_flat_rate(
            session,
            case_id=event.case_id,
            paying_parent_nino=event.paying_parent_nino,
            calculation_id=event.calculation,
            effective=strict_date(event.effective_date) or route.clock.today(),
            route=route,
        )
    notice = session.get(CaseCalculationNotice, event.case_id)
    if notice is None:
        notice = CaseCalculationNotice(case_id=event.case_id, notices_received=0)
        session.add(notice)
    notice.calculation = event.calculation
    notice.rate = event.rate
    notice.weekly_amount_pence = event.weekly_amount_pence
    notice.notices_received += 1
    notice.updated_at = now


def pick_up_flat_rate(
    db: Session,
    *,
    case_id: str,
    paying_parent_nino: str,
    calculation_id: str,
    effective: dt.date,
    route: AutomatedRoute,
) -> pb.Deduction | None:
    """The deduction JCP sets up for a standard flat-rate calculation: from the paying parent's (or their couple
    claim's) latest automated-route award live on `effective` that an active interest covers; None when there is
    no such award or the case already has an open deduction."""
    nino = normalise_nino(paying_parent_nino)
    person = route.cis.person(nino) if valid_nino(nino) else None
    if person is None or service.open_deduction(db, case_id) is not None:
        return None
    for award in reversed(person.benefit_awards):
        if (
            award.live_on(effective)
            and FACTS[award.benefit_type].route is Route.AUTOMATED
            and service.interest_covers(db, nino, award)
        ):
            return service.create(
                db,
                case_id=case_id,
                payer_nino=nino,
                beneficiary_nino=award.claimant_nino,
                partner=award.claimant_nino != nino,
                award=award,
                kind=DeductionType.STANDARD_FLAT_RATE,
                liability=0,
                start=effective,
                route=Route.AUTOMATED,
                origin=pb.DEDUCTION_ORIGIN_CASE_CALCULATED,
                calculation_id=calculation_id,
                jcp=route.jcp,
                clock=route.clock,
                params=route.params,
            )
    return None
