"""Recording a calculation: on every case it covers, as the case's liability timeline from its effective date (with
the calculations before it, one per effective date, when a change application made several), with a new payment plan
the same day when the liability or the schedule's terms moved or backdated days made an amount due or overpaid, and
the notices to both parents (an earlier one still waiting for today's dispatch is replaced)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from sqlalchemy.orm import Session, sessionmaker

from cms.calculation.v1 import resources_pb2 as calc_pb
from cms.casework.v1 import events_pb2 as ev
from cms.casework.v1 import resources_pb2 as pb
from cms_platform import outbox
from cms_platform.clock import Clock
from cms_platform.convert import day_of
from cms_platform.errors import Conflict
from cms_platform.metrics import histogram

from ..case_records import service as case_records
from ..case_records.models import CaseRecord
from ..correspondence import service as correspondence
from ..downstream import Downstream
from ..liability import rules as liability_rules
from ..liability import service as liability
from ..payment_plans import rules as plan_rules
from ..payment_plans import service as payment_plans
from . import rules, service

# The CMS target: 80% of applications reach their first calculation within six weeks.
APPLICATION_TO_FIRST_CALCULATION = histogram(
    "cms_casework_application_to_first_calculation_days",
    "Days from application to the first calculation",
    buckets=(1, 7, 14, 21, 28, 35, 42, 56, 84, 182),
)


def record_calculation(
    db: Session,
    *,
    row: CaseRecord,
    calculation: calc_pb.Calculation,
    reason: pb.CalculationReason.ValueType,
    clock: Clock,
    change: str = "",
    earlier: Sequence[tuple[calc_pb.Calculation, Sequence[str]]] = (),
    changes: Sequence[str] = (),
    ends: dt.date | None = None,
    reasons: Mapping[str, pb.CalculationReason.ValueType] | None = None,
    other_case_closed: str = "",
) -> tuple[pb.Case, str]:
    """Store the calculation on every case it covers and issue each a new payment plan the same day when its
    liability moved (or it had none). Each case's liability timeline is rebuilt from the earliest effective date:
    `earlier` are the calculations (with the changes that start them) in force before this one, one per effective
    date; `changes` start this one; `ends` ends the timeline (the case closes); `reasons` gives, by calculation name,
    why a step was calculated when that is not `reason`; `other_case_closed` names the step made because another of
    the paying parent's cases closed. Returns this case and its new payment plan's name ("" when
    none)."""
    this_plan, this_case = "", None
    covered = {r.receiving_parent_reference for r in calculation.receiving_parent_amounts}
    steps = [*earlier, (calculation, changes or ([change] if change else []))]
    for case_row in service.live_cases_of(db, row):
        if f"cases/{case_row.id}" not in covered and case_row.id != row.id:
            continue
        plan, recorded = _record_on_case(
            db,
            row=case_row,
            calculation=calculation,
            reason=reason,
            clock=clock,
            change=change,
            # Every calculation covers the paying parent's other live cases too: their timelines follow the same dates.
            steps=steps if case_row.id == row.id else [(c, []) for c, _ in steps],
            ends=ends if case_row.id == row.id else None,
            reasons=reasons or {},
            other_case_closed=other_case_closed,
        )
        if case_row.id == row.id:
            this_plan, this_case = plan, recorded
    return this_case or case_records.assemble(db, row), this_plan


def _record_on_case(
    db: Session,
    *,
    row: CaseRecord,
    calculation: calc_pb.Calculation,
    reason: pb.CalculationReason.ValueType,
    clock: Clock,
    change: str,
    steps: Sequence[tuple[calc_pb.Calculation, Sequence[str]]],
    ends: dt.date | None,
    reasons: Mapping[str, pb.CalculationReason.ValueType],
    other_case_closed: str,
) -> tuple[str, pb.Case]:
    """Record the calculation on one case; its new plan's name ("" when none) and the case as stored (with its
    parents' details, as assemble gives it)."""
    case = case_records.assemble(db, row)
    now = clock.now()
    share = rules.share_of(calculation, case.name)
    previous = (
        case.latest_calculation.weekly_amount_pence if case.HasField("latest_calculation") else None
    )
    first = not case.HasField("first_calculation_time")
    periodic = next(
        (p for p in share.received_periodic_amounts if p.frequency == case.payment_frequency), None
    )
    latest = pb.LatestCalculation(
        calculation=calculation.name,
        weekly_amount_pence=share.weekly_amount_pence,
        rate=calc_pb.Rate.Name(calculation.rate).removeprefix("RATE_"),
        effective_date=calculation.effective_date,
        gross_weekly_income_pence=calculation.gross_weekly_income_pence,
        income_basis=calc_pb.IncomeBasis.Name(calculation.income.basis).removeprefix(
            "INCOME_BASIS_"
        ),
        reason=reason,
        periodic_amount=periodic,
        historic_weekly_income_pence=calculation.income.historic_weekly_income_pence,
        current_weekly_income_pence=calculation.income.current_weekly_income_pence,
    )
    latest.calculate_time.FromDatetime(now)
    case.latest_calculation.CopyFrom(latest)
    if first:
        case.first_calculation_time.FromDatetime(now)
        case.state = pb.CASE_STATE_LIVE
        waited = now - row.created_at
        APPLICATION_TO_FIRST_CALCULATION.observe(waited.total_seconds() / 86400)
    outbox.publish(
        db,
        clock=clock,
        key=case.name,
        subject=case.name,
        message=ev.CaseCalculated(
            case_id=row.id,
            calculation=calculation.name,
            weekly_amount_pence=share.weekly_amount_pence,
            rate=latest.rate,
            paying_parent_nino=row.paying_parent_nino,
            effective_date=calculation.effective_date,
            payment_frequency=case.payment_frequency,
            reason=reason,
            previous_weekly_amount_pence=previous or 0,
            gross_weekly_income_pence=calculation.gross_weekly_income_pence,
            income_basis=latest.income_basis,
            qualifying_child_count=sum(
                1 for c in calculation.child_amounts if c.receiving_parent_reference == case.name
            ),
            service_type=case.service_type,
            method_of_payment_from=case.method_of_payment_from,
        ),
    )
    # A case's liability starts on its own initial effective date, though a calculation covering it may start earlier.
    starts_from = day_of(case.initial_effective_date)
    steps = [
        step
        for step in steps
        if starts_from is None or (day_of(step[0].effective_date) or starts_from) >= starts_from
    ] or list(steps[-1:])
    decisions = [
        liability.Decision(
            start=day_of(step.effective_date) or clock.today(),
            calculation=step,
            weekly_pence=rules.share_of(step, case.name).weekly_amount_pence,
            reason=reasons.get(step.name, reason),
            changes=started,
            other_case_closed=bool(other_case_closed) and step.name == other_case_closed,
        )
        for step, started in steps
    ]
    rebuilt = liability.rebuild(db, case_id=row.id, decisions=decisions, end=ends, clock=clock)
    plan_name = ""
    # A new plan when the liability moved or backdated days made an amount due or overpaid, at each annual review,
    # and when the schedule's terms changed (frequency, or the service type and so the fees) though the liability
    # did not.
    if (
        previous is None
        or previous != share.weekly_amount_pence
        or rebuilt.backdated
        or reason == pb.CALCULATION_REASON_ANNUAL_REVIEW
        or (case.payment_frequency, case.service_type)
        != payment_plans.terms(db, case.current_payment_plan)
    ):
        plan_name = payment_plans.issue(
            db,
            case=case,
            paying_parent_nino=row.paying_parent_nino,
            calculation=calculation,
            share=share,
            clock=clock,
            backdated=rebuilt,
            steps=[
                plan_rules.Step(
                    d.start,
                    rules.share_of(d.calculation, case.name).weekly_amount_pence,
                    rules.share_of(d.calculation, case.name).paying_parent_fee_weekly_pence,
                    rules.share_of(d.calculation, case.name).receiving_parent_fee_weekly_pence,
                )
                for d in decisions
            ],
        )
        case.current_payment_plan = plan_name
        # An earlier notice or plan still waiting for today's dispatch is out of date: each parent's new notice
        # replaces theirs (read for both parents at once).
        correspondence.cancel_redundant_for(
            db,
            case_id=row.id,
            kinds=(
                pb.CORRESPONDENCE_KIND_CALCULATION_NOTICE,
                pb.CORRESPONDENCE_KIND_PAYMENT_PLAN,
            ),
            notices=correspondence.notify_parents(
                db,
                case=case,
                case_id=row.id,
                kind=pb.CORRESPONDENCE_KIND_CALCULATION_NOTICE,
                clock=clock,
                service_request=change,
            ),
            clock=clock,
        )
    case_records.save(row, case, clock)
    return plan_name, case


# -- a rebuild from a date keeps what was decided for later dates ---------------------------------------------------


@dataclass(frozen=True)
class Later:
    """A calculation in force from `on`, the changes that start it and why it was made."""

    on: dt.date
    calculation: calc_pb.Calculation
    changes: Sequence[str] = ()
    reason: pb.CalculationReason.ValueType = pb.CALCULATION_REASON_CHANGE_OF_CIRCUMSTANCES


def gather_later(
    *,
    case: pb.Case,
    covered: list[pb.Case],
    income: rules.Income,
    after: dt.date,
    in_force: Sequence[liability.Start],
    request_id: str,
    downstream: Downstream,
    payer: pb.Client | None = None,
) -> list[Later]:
    """A rebuild from `after` supersedes the segments in force that start later (`in_force`, read before): each is
    calculated again from its own start on the case as it stands (the changes that started it still apply from their
    dates, s.17(4) of the Child Support Act 1991 and reg 18 of SI 2012/2677), with the same income gathered for the
    rebuild. Reads only: each calculation is asked for under a request id derived from `request_id` and its date."""
    out = []
    for on, start in liability_rules.later_starts([(s.start, s) for s in in_force], after):
        reason = start.reason or pb.CALCULATION_REASON_CHANGE_OF_CIRCUMSTANCES
        calculation = service.calculation_on(
            case=case,
            payer=payer or case.paying_parent,
            covered=covered,
            income=income,
            on=on,
            in_place=case.latest_calculation.income_basis in service.IN_PLACE,
            reason=reason,
            request_id=f"{request_id}/{on.isoformat()}",
            downstream=downstream,
        )
        out.append(Later(on, calculation, tuple(start.changes), reason))
    return out


def record_with_later(
    db: Session,
    *,
    row: CaseRecord,
    calculation: calc_pb.Calculation,
    reason: pb.CalculationReason.ValueType,
    later: Sequence[Later],
    clock: Clock,
    other_case_closed: bool = False,
) -> tuple[pb.Case, str]:
    """record_calculation for `calculation` followed by the `later` ones (gather_later), each from its own date: the
    last of them is the decision in force. `other_case_closed`: `calculation` was made because another of the paying
    parent's cases closed."""
    closed = calculation.name if other_case_closed else ""
    if not later:
        return record_calculation(
            db,
            row=row,
            calculation=calculation,
            reason=reason,
            clock=clock,
            other_case_closed=closed,
        )
    *between, last = later
    return record_calculation(
        db,
        row=row,
        calculation=last.calculation,
        reason=reason,
        clock=clock,
        earlier=[(calculation, []), *((d.calculation, d.changes) for d in between)],
        changes=last.changes,
        reasons={d.calculation.name: d.reason for d in later},
        other_case_closed=closed,
    )


# -- a case closes: the paying parent's other live cases are calculated again from the closure ----------------------


@dataclass(frozen=True)
class AfterClosure:
    """The calculation of the paying parent's other live cases from the date one of their cases closed (one
    calculation covers them all, apportioned between the receiving parents: Sch 1 para 6 to the Child Support Act
    1991), recorded on `lead`; the calculations for the segments in force after that date; and the versions of those
    cases as read, so that recording refuses a case changed meanwhile."""

    lead: str
    versions: Mapping[str, int]
    first: Later
    later: Sequence[Later]


def gather_after_closure(
    sessions: sessionmaker,
    *,
    closing: str,
    on: dt.date,
    request_id: str,
    downstream: Downstream,
    payer: pb.Client | None = None,
) -> AfterClosure | None:
    """What the closure of case `closing` from `on` does to the paying parent's other live cases (None: the
    closing case was never calculated, or the others have no calculation). Outside any transaction; `payer` is the paying parent as a change being applied with
    the closure leaves them, when it does."""
    with sessions() as s:
        row = case_records.case_row(s, closing)
        if row.state not in service.LIVE_STATES:
            return None  # an application never calculated: the others' calculations never counted its children
        others = service.live_cases_of(s, row)[1:]
        cases = [case_records.assemble(s, r) for r in others]
        versions = {r.id: r.version for r in others}
        in_force = [start for r in others for start in liability.current_starts(s, case_id=r.id)]
    lead = next((c for c in cases if c.HasField("latest_calculation")), None)
    if lead is None:
        return None
    covered = [c for c in cases if c.name != lead.name]
    income = service.gather_income(lead, downstream=downstream)
    reason = pb.CALCULATION_REASON_CHANGE_OF_CIRCUMSTANCES
    request_id = f"{request_id}/closure/{on.isoformat()}"
    first = service.calculation_on(
        case=lead,
        payer=payer or lead.paying_parent,
        covered=covered,
        income=income,
        on=on,
        in_place=lead.latest_calculation.income_basis in service.IN_PLACE,
        reason=reason,
        request_id=request_id,
        downstream=downstream,
    )
    later = gather_later(
        case=lead,
        covered=covered,
        income=income,
        after=on,
        in_force=in_force,
        request_id=request_id,
        downstream=downstream,
        payer=payer,
    )
    return AfterClosure(
        lead=lead.name.removeprefix("cases/"),
        versions=versions,
        first=Later(on, first, (), reason),
        later=later,
    )


def ensure_unchanged(db: Session, after: AfterClosure | None) -> None:
    """Lock the paying parent's other live cases; refuse (ABORTED) when one changed since it was read."""
    if after is None:
        return
    for case_id, version in sorted(after.versions.items()):
        if case_records.case_row(db, case_id, lock=True).version != version:
            raise Conflict("another of the paying parent's cases changed meanwhile; close again")


def record_after_closure(db: Session, after: AfterClosure | None, *, clock: Clock) -> None:
    """Record what gather_after_closure worked out, in the closure's transaction (ensure_unchanged first)."""
    if after is None:
        return
    record_with_later(
        db,
        row=case_records.case_row(db, after.lead, lock=True),
        calculation=after.first.calculation,
        reason=after.first.reason,
        later=after.later,
        clock=clock,
        other_case_closed=True,
    )
