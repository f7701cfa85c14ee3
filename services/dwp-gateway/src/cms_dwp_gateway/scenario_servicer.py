"""DwpScenarioService: script benefit lives (tests and demos). Off in production settings. This release serves the
award life cycle; the deduction, batch, settings and outage controls come with deductions from benefit."""

from __future__ import annotations

from sqlalchemy.orm import sessionmaker

from cms.dwp.v1 import dwp_scenario_service_pb2 as api
from cms.dwp.v1 import dwp_scenario_service_pb2_grpc as api_grpc
from cms.dwp.v1 import resources_pb2 as pb
from cms_platform.clock import Clock
from cms_platform.idempotency import run_idempotent

from . import deduction_rules, deductions, scenario
from .simulator import SimulatedCis


class DwpScenarioServicer(api_grpc.DwpScenarioServiceServicer):
    def __init__(
        self,
        *,
        cis_view: SimulatedCis,
        sessions: sessionmaker,
        clock: Clock,
        deduction_parameters: deduction_rules.DeductionParameters = deduction_rules.DEFAULTS,
    ):
        self._cis, self._sessions, self._clock = cis_view, sessions, clock
        self._params = deduction_parameters

    def DecidePendingDeduction(self, request, context):
        return run_idempotent(
            self._sessions,
            method="DecidePendingDeduction",
            request=request,
            response_type=pb.Deduction,
            clock=self._clock,
            execute=lambda s: deductions.decide_pending(
                s,
                deduction_id=request.deduction_id,
                cis_view=self._cis,
                clock=self._clock,
                params=self._params,
                forced_outcome=request.forced_outcome,
                forced_reason=request.forced_rejection_reason,
            ),
        )

    def RunDueBatches(self, request, context):
        return run_idempotent(
            self._sessions,
            method="RunDueBatches",
            request=request,
            response_type=api.RunDueBatchesResponse,
            clock=self._clock,
            execute=lambda s: api.RunDueBatchesResponse(
                decided_deduction_ids=deductions.run_due(
                    s,
                    cis_view=self._cis,
                    clock=self._clock,
                    params=self._params,
                    ignore_delays=request.ignore_delays,
                )
            ),
        )

    def _run(self, method: str, request, change):
        def execute(s):
            return change(s, request=request, cis_view=self._cis, clock=self._clock)

        return run_idempotent(
            self._sessions,
            method=method,
            request=request,
            response_type=pb.BenefitAward,
            clock=self._clock,
            execute=execute,
        )

    def StartBenefitAward(self, request, context):
        return self._run("StartBenefitAward", request, scenario.start)

    def ChangeBenefitAward(self, request, context):
        return self._run("ChangeBenefitAward", request, scenario.change)

    def SuspendBenefitAward(self, request, context):
        return self._run("SuspendBenefitAward", request, scenario.suspend)

    def ResumeBenefitAward(self, request, context):
        return self._run("ResumeBenefitAward", request, scenario.resume)

    def EndBenefitAward(self, request, context):
        return self._run("EndBenefitAward", request, scenario.end)
