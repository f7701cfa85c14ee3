"""DwpScenarioService: script benefit lives (tests and demos). Off in production settings. This release serves the
award life cycle; the deduction, batch, settings and outage controls come with deductions from benefit."""

from __future__ import annotations

from sqlalchemy.orm import sessionmaker

from cms.dwp.v1 import dwp_scenario_service_pb2_grpc as api_grpc
from cms.dwp.v1 import resources_pb2 as pb
from cms_platform.clock import Clock
from cms_platform.idempotency import run_idempotent

from . import scenario
from .simulator import SimulatedCis


class DwpScenarioServicer(api_grpc.DwpScenarioServiceServicer):
    def __init__(self, *, cis_view: SimulatedCis, sessions: sessionmaker, clock: Clock):
        self._cis, self._sessions, self._clock = cis_view, sessions, clock

    def _run(self, method: str, request, change):
        def execute(s):
            return change(s, request=request, cis_view=self._cis, clock=self._clock)
        return run_idempotent(self._sessions, method=method, request=request, response_type=pb.BenefitAward,
                              clock=self._clock, execute=execute)

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
