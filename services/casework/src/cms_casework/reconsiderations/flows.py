"""Disputes across aggregates: finding the decision in the calculation service, and revising it.

A decision is a calculation recorded on the case (`calculations/{id}`, one that covers the case): the calculation
service holds the date it was made and notified and the date it took effect from. Revising (a reconsideration
decided REVISED, an appeal allowed, or a revision on the CMS's own initiative) goes through the changes flow as a
correction/revision change of circumstances effective from the decision's effective date (s.16(3) of the Child
Support Act 1991: a revised decision takes effect from the date the original did), reported, verified and applied
with every other verified change on the case — the corrected facts a caseworker verified for it. Each step is
idempotent under an id derived from the caller's request id, so a retry after any failure (a downstream outage, a
lost race) picks up where the first attempt stopped; the resource records the outcome, its letters and its event in
one transaction at the end."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

from sqlalchemy.orm import Session, sessionmaker

from cms.calculation.v1 import calculation_service_pb2 as calc_api
from cms.calculation.v1 import resources_pb2 as calc_pb
from cms.casework.v1 import casework_service_pb2 as api
from cms.casework.v1 import resources_pb2 as pb
from cms_platform import calls, conflicts
from cms_platform.clock import Clock
from cms_platform.convert import day_of, pb_date, strict_date
from cms_platform.errors import (
    FailedPrecondition,
    InvalidArgument,
    NotFound,
    PreconditionViolation,
)
from cms_platform.idempotency import remember, replay, run_idempotent
from cms_platform.identity import Caller

from ..case_records import service as case_records
from ..changes import flows as change_flows
from ..changes import service as changes
from ..downstream import Downstream, call_tolerating
from ..names import derived_id
from . import rules, service
from .service import Decision, Revised


def decision_on_case(*, downstream: Downstream, case_name: str, name: str, field: str) -> Decision:
    """The decision `calculations/{id}` if it covers the case; NOT_FOUND otherwise (another family's decision does
    not exist for this case)."""
    calc = call_tolerating(
        downstream.calculation.GetCalculation,
        calc_api.GetCalculationRequest(name=name, view=calc_pb.CALCULATION_VIEW_BASIC),
        what="calculation",
        tolerate=("NOT_FOUND", "INVALID_ARGUMENT"),
    )
    covers = calc is not None and any(
        r.receiving_parent_reference == case_name for r in calc.receiving_parent_amounts
    )
    effective = day_of(calc.effective_date) if calc is not None else None
    if calc is None or not covers or effective is None:
        raise NotFound("decision", name, message=f"{field}: no such decision on this case")
    return Decision(
        name=name, notified=calc.create_time.ToDatetime(tzinfo=dt.UTC).date(), effective=effective
    )


def _visible_case_name(sessions: sessionmaker, *, name: str, caller: Caller, field: str) -> str:
    """The case, checked visible before anything is asked of another service."""
    with sessions() as s:
        row = case_records.visible_case(s, name=name, caller=caller, field=field)
        return f"cases/{row.id}"


# -- asking ---------------------------------------------------------------------------------------------------------


def request(
    *,
    sessions: sessionmaker,
    request: api.RequestMandatoryReconsiderationRequest,
    caller: Caller,
    clock: Clock,
    downstream: Downstream,
) -> pb.MandatoryReconsideration:
    """RequestMandatoryReconsideration: the decision looked up, then recorded once per request id."""
    with sessions() as s:
        previous = replay(s, request=request, response_type=pb.MandatoryReconsideration)
    if previous is not None:
        return previous
    service.check_request(request)
    case_name = _visible_case_name(sessions, name=request.parent, caller=caller, field="parent")
    decision = decision_on_case(
        downstream=downstream,
        case_name=case_name,
        name=request.mandatory_reconsideration.decision,
        field="mandatory_reconsideration.decision",
    )
    return run_idempotent(
        sessions,
        request=request,
        response_type=pb.MandatoryReconsideration,
        clock=clock,
        execute=lambda s: service.request(
            s, request=request, decision=decision, caller=caller, clock=clock
        ),
    )


# -- revising through the changes flow ----------------------------------------------------------------------------


def _revise(
    *,
    sessions: sessionmaker,
    case_name: str,
    decision: Decision,
    reason: str,
    request_id: str,
    caller: Caller,
    clock: Clock,
    downstream: Downstream,
    also: Callable[[Session, pb.ChangeOfCircumstances], None] = lambda s, c: None,
) -> Revised:
    """Revise `decision` from its effective date: a correction/revision change reported and verified (with `also`,
    in the same transaction), then every verified change on the case applied. Returns the change as applied, the
    case's weekly amount before and after, and the date the recalculation took effect from."""
    step = calls.operation()
    report = api.ReportChangeOfCircumstancesRequest(
        request_id=derived_id(case_name, request_id, "revision-change"),
        parent=case_name,
        change_of_circumstances=pb.ChangeOfCircumstances(
            type=pb.CHANGE_OF_CIRCUMSTANCES_TYPE_CORRECTION_REVISION,
            effective_date=pb_date(decision.effective),
            note=reason[:2000],
            correction_revision=pb.CorrectionRevision(
                calculation=decision.name, reason=reason[:2000]
            ),
        ),
    )

    def report_and_verify(s: Session) -> pb.ChangeOfCircumstances:
        change = changes.report(s, request=report, caller=caller, clock=clock)
        verified = changes.verify(
            s,
            request=api.VerifyChangeOfCircumstancesRequest(
                request_id=report.request_id,
                name=change.name,
                outcome=api.VERIFICATION_OUTCOME_VERIFIED,
                evidence=[
                    pb.Evidence(
                        kind=pb.EVIDENCE_KIND_DOCUMENT,
                        description=f"the decision {decision.name} looked at again",
                    )
                ],
            ),
            caller=caller,
            clock=clock,
        )
        also(s, verified)
        return verified

    change = run_idempotent(
        sessions,
        request=report,
        response_type=pb.ChangeOfCircumstances,
        clock=clock,
        execute=report_and_verify,
        method=f"{step}#revision-change",
    )
    with sessions() as s:
        before = case_records.assemble(
            s, case_records.case_row(s, case_name.removeprefix("cases/"))
        ).latest_calculation.weekly_amount_pence
    applied = conflicts.retrying(
        lambda: change_flows.apply_pending(
            sessions=sessions,
            request=api.ApplyChangesOfCircumstancesRequest(
                request_id=derived_id(case_name, request_id, "revision-apply"), parent=case_name
            ),
            caller=caller,
            clock=clock,
            downstream=downstream,
        ),
        attempts=3,
    )
    done = next((c for c in applied.changes_of_circumstances if c.name == change.name), None)
    if done is None:
        with sessions() as s:  # applied by an earlier attempt, or by another caller's apply
            row = changes.row_named(s, change.name)
            done = changes.document(row) if row is not None else change
    if done.state != pb.CHANGE_OF_CIRCUMSTANCES_STATE_APPLIED:
        raise FailedPrecondition(
            PreconditionViolation(
                "REVISION_NOT_APPLIED",
                done.name,
                "the correction/revision change was not applied; see the change of circumstances",
            ),
            reason="REVISION_NOT_APPLIED",
        )
    if applied.HasField("updated_case"):
        latest = applied.updated_case.latest_calculation
    else:
        with sessions() as s:
            latest = case_records.assemble(
                s, case_records.case_row(s, case_name.removeprefix("cases/"))
            ).latest_calculation
    return Revised(
        change=done,
        before=before,
        after=latest.weekly_amount_pence,
        effective=day_of(latest.effective_date) or decision.effective,
    )


def _decision_of(mr: pb.MandatoryReconsideration) -> Decision:
    return Decision(
        name=mr.decision,
        notified=service.stored_day(mr.decision_date),
        effective=service.stored_day(mr.decision_effective_date),
    )


# -- deciding a reconsideration -----------------------------------------------------------------------------------


def decide(
    *,
    sessions: sessionmaker,
    request: api.DecideMandatoryReconsiderationRequest,
    caller: Caller,
    clock: Clock,
    downstream: Downstream,
) -> pb.MandatoryReconsideration:
    """DecideMandatoryReconsideration: NOT_REVISED records the outcome and the notice; REVISED revises first."""
    if request.outcome not in (
        pb.RECONSIDERATION_OUTCOME_REVISED,
        pb.RECONSIDERATION_OUTCOME_NOT_REVISED,
    ):
        raise InvalidArgument.field("outcome", "choose revised or not revised")
    if not request.reason.strip():
        raise InvalidArgument.field("reason", "say why, in words a parent can read")
    with sessions() as s:
        previous = replay(s, request=request, response_type=pb.MandatoryReconsideration)
        if previous is not None:
            return previous
        case_row, row = service.visible(s, name=request.name, caller=caller)
        mr = service.document(row)
    revised: Revised | None = None
    if request.outcome == pb.RECONSIDERATION_OUTCOME_REVISED:
        if not mr.change_of_circumstances:  # a retry finds the change its first attempt made
            service.ensure_undecided(mr)

        def mark(s: Session, change: pb.ChangeOfCircumstances) -> None:
            _, locked = service.visible(s, name=request.name, caller=caller, lock=True)
            held = service.document(locked)
            service.ensure_undecided(held)
            held.change_of_circumstances = change.name
            service.save(locked, held, clock)

        revised = _revise(
            sessions=sessions,
            case_name=f"cases/{case_row.id}",
            decision=_decision_of(mr),
            reason=f"mandatory reconsideration: {request.reason.strip()}",
            request_id=request.request_id,
            caller=caller,
            clock=clock,
            downstream=downstream,
            also=mark,
        )
    with sessions.begin() as s:
        previous = replay(s, request=request, response_type=pb.MandatoryReconsideration)
        if previous is not None:
            return previous
        decided = service.record_outcome(
            s,
            name=request.name,
            outcome=request.outcome,
            reason=request.reason,
            caller=caller,
            clock=clock,
            revised=revised,
        )
        remember(s, request=request, response=decided, clock=clock)
        return decided


# -- the appeal's outcome -----------------------------------------------------------------------------------------


def record_appeal_outcome(
    *,
    sessions: sessionmaker,
    request: api.RecordAppealOutcomeRequest,
    caller: Caller,
    clock: Clock,
    downstream: Downstream,
) -> pb.MandatoryReconsideration:
    """RecordAppealOutcome: ALLOWED revises the decision as directed; DISMISSED keeps it."""
    if request.outcome not in (pb.APPEAL_OUTCOME_ALLOWED, pb.APPEAL_OUTCOME_DISMISSED):
        raise InvalidArgument.field("outcome", "choose allowed or dismissed")
    if not request.note.strip():
        raise InvalidArgument.field("note", "say what the tribunal decided or directed")
    try:
        decided = strict_date(request.outcome_date)
    except ValueError as bad:
        raise InvalidArgument.field("outcome_date", str(bad)) from None
    if decided is None or decided > clock.today():
        raise InvalidArgument.field("outcome_date", "give the date of the tribunal's decision")
    with sessions() as s:
        previous = replay(s, request=request, response_type=pb.MandatoryReconsideration)
        if previous is not None:
            return previous
        case_row, row = service.visible(s, name=request.name, caller=caller)
        mr = service.document(row)
    service.ensure_appealed(mr)
    if decided < service.stored_day(mr.appeal.lodge_date):
        raise InvalidArgument.field("outcome_date", "is before the appeal was lodged")
    revised: Revised | None = None
    if request.outcome == pb.APPEAL_OUTCOME_ALLOWED:
        revised = _revise(
            sessions=sessions,
            case_name=f"cases/{case_row.id}",
            decision=_decision_of(mr),
            reason=f"appeal allowed by the First-tier Tribunal: {request.note.strip()}",
            request_id=request.request_id,
            caller=caller,
            clock=clock,
            downstream=downstream,
        )
    with sessions.begin() as s:
        previous = replay(s, request=request, response_type=pb.MandatoryReconsideration)
        if previous is not None:
            return previous
        outcome = service.record_appeal_outcome(
            s,
            request=request,
            decided=decided,
            caller=caller,
            clock=clock,
            revised=revised,
        )
        remember(s, request=request, response=outcome, clock=clock)
        return outcome


# -- revision on the CMS's own initiative -------------------------------------------------------------------------


def revise_decision(
    *,
    sessions: sessionmaker,
    request: api.ReviseDecisionRequest,
    caller: Caller,
    clock: Clock,
    downstream: Downstream,
    params: rules.DisputeParameters = rules.DEFAULTS,
) -> pb.DecisionRevision:
    """ReviseDecision: within 30 days of the decision's notification, on any ground."""
    if not request.reason.strip():
        raise InvalidArgument.field("reason", "say what was wrong, in words a parent can read")
    if not request.decision.startswith("calculations/"):
        raise InvalidArgument.field("decision", "must look like calculations/{id}")
    with sessions() as s:
        previous = replay(s, request=request, response_type=pb.DecisionRevision)
    if previous is not None:
        return previous
    case_name = _visible_case_name(sessions, name=request.parent, caller=caller, field="parent")
    decision = decision_on_case(
        downstream=downstream, case_name=case_name, name=request.decision, field="decision"
    )
    if not rules.revision_allowed(decision.notified, clock.today(), params):
        raise FailedPrecondition(
            PreconditionViolation(
                "REVISION_OUT_OF_TIME",
                "decision",
                f"the decision was notified more than {params.request_days} days ago: it can be revised now only "
                "on a reconsideration, or changed by a supersession (a change of circumstances)",
            ),
            reason="REVISION_OUT_OF_TIME",
        )
    revised = _revise(
        sessions=sessions,
        case_name=case_name,
        decision=decision,
        reason=f"revision: {request.reason.strip()}",
        request_id=request.request_id,
        caller=caller,
        clock=clock,
        downstream=downstream,
    )
    return run_idempotent(
        sessions,
        request=request,
        response_type=pb.DecisionRevision,
        clock=clock,
        execute=lambda s: service.record_revision(
            s,
            case_id=case_name.removeprefix("cases/"),
            decision=decision,
            reason=request.reason,
            revised=revised,
            caller=caller,
            clock=clock,
        ),
    )
