"""Thin gRPC adapter over the CIS port: check the request, ask the port at the clock's date, answer.

This release serves CIS identity, personal data, benefit awards and business interests with their broadcasts;
deductions from benefit come next (their RPCs answer UNIMPLEMENTED until then)."""

from __future__ import annotations

import datetime as dt

from sqlalchemy.orm import sessionmaker

from cms.common.v1 import types_pb2 as common
from cms.dwp.v1 import dwp_service_pb2 as api
from cms.dwp.v1 import dwp_service_pb2_grpc as api_grpc
from cms.dwp.v1 import resources_pb2 as pb
from cms_platform.audit import AuditTrail
from cms_platform.clock import Clock
from cms_platform.convert import date_or_violation, match_result
from cms_platform.errors import NotFound, ViolationCollector
from cms_platform.idempotency import run_idempotent
from cms_platform.identity import current_caller
from cms_platform.paging import page
from cms_simulation.behaviour import ExternalSystemBehaviour
from cms_simulation.population.model import BenefitType
from cms_simulation.population.nino import valid_nino

from . import cis as cis_state
from . import deduction_rules, deductions, records
from .models import AuditRecord
from .port import CisPort
from .simulator import live_on


def _nino(nino: str, path: str, v: ViolationCollector) -> None:
    if not valid_nino(nino):
        v.add(path, "is not a valid National Insurance number (two letters, six digits, A-D)")


class DwpGatewayServicer(api_grpc.DwpGatewayServiceServicer):
    """Every CIS / JCP call is first admitted by the simulated system's behaviour (maintenance windows, outages,
    throttling, latency), as a real call could be refused."""

    def _admit(self) -> None:
        caller = current_caller()
        self._behaviour.admit(caller.subject if caller else "")

    def __init__(
        self,
        *,
        cis: CisPort,
        clock: Clock,
        sessions: sessionmaker,
        deduction_parameters: deduction_rules.DeductionParameters = deduction_rules.DEFAULTS,
        decision_delay: dt.timedelta = dt.timedelta(0),
        audit: AuditTrail | None = None,
        behaviour: ExternalSystemBehaviour | None = None,
    ):
        self._behaviour = behaviour or ExternalSystemBehaviour(clock=clock, system="CIS")
        self._audit = audit or AuditTrail(
            sessions, clock, lambda *, subject, **f: AuditRecord(person_id=subject, **f)
        )
        self._cis = cis
        self._clock = clock
        self._sessions = sessions
        self._params = deduction_parameters
        self._delay = decision_delay

    # -- deductions from benefit ------------------------------------------------------------------------------------

    def SetUpDeduction(self, request: api.SetUpDeductionRequest, context) -> pb.Deduction:
        self._admit()
        return run_idempotent(
            self._sessions,
            method="SetUpDeduction",
            request=request,
            response_type=pb.Deduction,
            clock=self._clock,
            execute=lambda s: deductions.set_up(
                s,
                request=request,
                cis_view=self._cis,
                clock=self._clock,
                params=self._params,
                decision_delay=self._delay,
            ),
        )

    def ChangeDeductionAmount(
        self, request: api.ChangeDeductionAmountRequest, context
    ) -> pb.Deduction:
        self._admit()
        return run_idempotent(
            self._sessions,
            method="ChangeDeductionAmount",
            request=request,
            response_type=pb.Deduction,
            clock=self._clock,
            execute=lambda s: deductions.change_amount(
                s,
                request=request,
                cis_view=self._cis,
                clock=self._clock,
                params=self._params,
                decision_delay=self._delay,
            ),
        )

    def ChangeDeductionType(self, request: api.ChangeDeductionTypeRequest, context) -> pb.Deduction:
        self._admit()
        return run_idempotent(
            self._sessions,
            method="ChangeDeductionType",
            request=request,
            response_type=pb.Deduction,
            clock=self._clock,
            execute=lambda s: deductions.change_type(
                s,
                request=request,
                cis_view=self._cis,
                clock=self._clock,
                params=self._params,
                decision_delay=self._delay,
            ),
        )

    def CancelDeduction(self, request: api.CancelDeductionRequest, context) -> pb.Deduction:
        self._admit()
        return run_idempotent(
            self._sessions,
            method="CancelDeduction",
            request=request,
            response_type=pb.Deduction,
            clock=self._clock,
            execute=lambda s: deductions.cancel(s, request=request, clock=self._clock),
        )

    def RecordNonAutomatedDeductionDecision(self, request, context) -> pb.Deduction:
        self._admit()
        return run_idempotent(
            self._sessions,
            method="RecordNonAutomatedDeductionDecision",
            request=request,
            response_type=pb.Deduction,
            clock=self._clock,
            execute=lambda s: deductions.record_clerical(s, request=request, clock=self._clock),
        )

    def GetDeductionRequestForm(
        self, request: api.GetDeductionRequestFormRequest, context
    ) -> pb.DeductionRequestForm:
        self._admit()
        with self._sessions() as s:
            return deductions.request_form(
                s,
                deduction_id=request.deduction_id,
                instruction_id=request.instruction_id,
                cis_view=self._cis,
                clock=self._clock,
            )

    def GetDeduction(self, request: api.GetDeductionRequest, context) -> pb.Deduction:
        with self._sessions() as s:
            return deductions.get(s, request.deduction_id)

    def ListDeductions(
        self, request: api.ListDeductionsRequest, context
    ) -> api.ListDeductionsResponse:
        with self._sessions() as s:
            return deductions.list_deductions(s, request=request)

    # -- business interests -----------------------------------------------------------------------------------------

    def RegisterInterest(
        self, request: api.RegisterInterestRequest, context
    ) -> pb.BusinessInterest:
        v = ViolationCollector()
        _nino(request.nino, "nino", v)
        v.raise_if_any()
        self._admit()  # only a well-formed request reaches CIS
        return run_idempotent(
            self._sessions,
            method="RegisterInterest",
            request=request,
            response_type=pb.BusinessInterest,
            clock=self._clock,
            execute=lambda s: cis_state.register(
                s, request=request, cis=self._cis, clock=self._clock
            ),
        )

    def DeregisterInterest(
        self, request: api.DeregisterInterestRequest, context
    ) -> pb.BusinessInterest:
        self._admit()
        return run_idempotent(
            self._sessions,
            method="DeregisterInterest",
            request=request,
            response_type=pb.BusinessInterest,
            clock=self._clock,
            execute=lambda s: cis_state.deregister(
                s, interest_id=request.interest_id, clock=self._clock
            ),
        )

    def SendPersonUpdate(
        self, request: api.SendPersonUpdateRequest, context
    ) -> api.SendPersonUpdateResponse:
        v = ViolationCollector()
        _nino(request.nino, "nino", v)
        v.raise_if_any()
        self._admit()  # only a well-formed request reaches CIS
        return run_idempotent(
            self._sessions,
            method="SendPersonUpdate",
            request=request,
            response_type=api.SendPersonUpdateResponse,
            clock=self._clock,
            execute=lambda s: cis_state.send_update(
                s, request=request, cis=self._cis, clock=self._clock
            ),
        )

    def ListInterests(
        self, request: api.ListInterestsRequest, context
    ) -> api.ListInterestsResponse:
        with self._sessions() as s:
            return cis_state.list_interests(s, request=request)

    def VerifyNino(self, request: api.VerifyNinoRequest, context) -> api.VerifyNinoResponse:
        v = ViolationCollector()
        p = request.person
        _nino(p.nino, "person.nino", v)
        dob = date_or_violation(p.date_of_birth, "person.date_of_birth", v)
        v.raise_if_any()
        self._admit()  # only a well-formed request reaches CIS
        r = self._cis.verify_nino(
            nino=p.nino,
            forenames=p.name.forenames,
            surname=p.name.surname,
            date_of_birth=dob,
            postcode=request.postcode,
        )
        out = api.VerifyNinoResponse(
            match=match_result(found=r.found, failed_rules=r.failed_rules),
            nino=r.nino,
            person_id=r.person_id,
        )
        self._audit.record(
            r.person_id,
            request.context,
            common.MatchOutcome.Name(out.match.outcome).removeprefix("MATCH_OUTCOME_"),
        )
        if r.person is not None:
            out.restricted = r.person.restricted
            out.record_update_time.CopyFrom(records.record_update_time(r.person))
            if r.person.date_of_death:
                out.date_of_death.CopyFrom(records.date(r.person.date_of_death))
        return out

    def VerifyChildReferenceNumber(
        self, request, context
    ) -> api.VerifyChildReferenceNumberResponse:
        v = ViolationCollector()
        if not request.child_reference_number and not request.parent_nino:
            v.add(
                "child_reference_number",
                "give the Child Reference Number, or parent_nino to search by",
            )
        if request.child_reference_number:
            _nino(request.child_reference_number, "child_reference_number", v)
        if request.parent_nino:
            _nino(request.parent_nino, "parent_nino", v)
        dob = date_or_violation(request.date_of_birth, "date_of_birth", v)
        v.raise_if_any()
        self._admit()  # only a well-formed request reaches CIS
        r = self._cis.verify_child(
            crn=request.child_reference_number,
            parent_nino=request.parent_nino,
            forenames=request.name.forenames,
            surname=request.name.surname,
            date_of_birth=dob,
        )
        out = api.VerifyChildReferenceNumberResponse(
            match=match_result(found=r.found, failed_rules=r.failed_rules), person_id=r.person_id
        )
        self._audit.record(
            r.person_id,
            request.context,
            common.MatchOutcome.Name(out.match.outcome).removeprefix("MATCH_OUTCOME_"),
        )
        if r.child is not None:
            out.child_reference_number = r.child.child_reference_number
            out.record_update_time.CopyFrom(records.timestamp(r.child.relationship_start_date))
        return out

    def GetPersonRecord(self, request: api.GetPersonRecordRequest, context) -> pb.PersonRecord:
        v = ViolationCollector()
        if not request.nino and not request.child_reference_number:
            v.add("nino", "give the NINO, or child_reference_number for a child without one")
        if request.nino:
            _nino(request.nino, "nino", v)
        if request.child_reference_number:
            _nino(request.child_reference_number, "child_reference_number", v)
        v.raise_if_any()
        self._admit()  # only a well-formed request reaches CIS
        if request.nino:
            person = self._cis.person(request.nino)
            if person is None:
                raise NotFound("person", "people/unknown", "CIS holds no record for this NINO")
            record = records.person_record(person)
            self._audit.record(record.person_id, request.context, "FOUND")
            return record
        found = self._cis.child(request.child_reference_number)
        if found is None:
            raise NotFound(
                "person", "people/unknown", "CIS holds no record for this Child Reference Number"
            )
        return records.child_record(*found)

    def ListBenefitAwards(
        self, request: api.ListBenefitAwardsRequest, context
    ) -> api.ListBenefitAwardsResponse:
        v = ViolationCollector()
        _nino(request.nino, "nino", v)
        types = set()
        for i, t in enumerate(request.benefit_types):
            name = (
                pb.BenefitType.Name(t).removeprefix("BENEFIT_TYPE_")
                if t in pb.BenefitType.values()
                else ""
            )
            if not t or name not in BenefitType.__members__:
                v.add(f"benefit_types[{i}]", f"{t} is not a benefit type")
            else:
                types.add(BenefitType[name])
        start = date_or_violation(
            request.effective_from_date, "effective_from_date", v, required=False
        )
        end = date_or_violation(request.effective_to_date, "effective_to_date", v, required=False)
        if start and end and end < start:
            v.add("effective_to_date", "is before effective_from_date")
        v.raise_if_any()
        self._admit()  # only a well-formed request reaches CIS
        size, offset = page(request.page_size, request.page_token, maximum=200)
        awards = self._cis.awards(
            request.nino, types=frozenset(types), live_from=start, live_to=end
        )
        if awards is None:
            raise NotFound("person", "people/unknown", "CIS holds no record for this NINO")
        today = self._clock.today()
        nino = request.nino.replace(" ", "").upper()
        person = self._cis.person(nino)
        self._audit.record(records.person_id(nino), request.context, "FOUND")
        return api.ListBenefitAwardsResponse(
            benefit_awards=[records.award(a, nino, today) for a in awards[offset : offset + size]],
            next_page_token=str(offset + size) if offset + size < len(awards) else "",
            record_update_time=records.record_update_time(person),
        )

    def ViewBenefitInfo(self, request: api.ViewBenefitInfoRequest, context) -> api.BenefitInfo:
        v = ViolationCollector()
        _nino(request.nino, "nino", v)
        on = (
            date_or_violation(request.as_of_date, "as_of_date", v, required=False)
            or self._clock.today()
        )
        v.raise_if_any()
        self._admit()  # only a well-formed request reaches CIS
        person = self._cis.person(request.nino)
        if person is None:
            raise NotFound("person", "people/unknown", "CIS holds no record for this NINO")
        live = [a for a in person.benefit_awards if live_on(a, on)]
        self._audit.record(records.person_id(person.nino), request.context, "FOUND")
        return api.BenefitInfo(
            person_id=records.person_id(person.nino),
            as_of_date=records.date(on),
            live_awards=[records.award(a, person.nino, on) for a in live],
            flat_rate_benefit_in_payment=records.flat_rate_benefit_in_payment(person, on, live),
            record_update_time=records.record_update_time(person),
        )
