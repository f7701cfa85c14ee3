"""The CollectionReformService gRPC API: request-id replay, then the domain call in one transaction, proto in and out.
Team leaders only (the RPCs' access options, enforced by the platform before anything here runs). Starting a job
wakes the runner, which does the work outside the call (AIP-151)."""

from __future__ import annotations

from collections.abc import Callable

import grpc
from sqlalchemy import event as sa_event
from sqlalchemy.orm import Session, sessionmaker

from cms.casework.v1 import collection_reform_pb2 as cr
from cms.casework.v1 import collection_reform_service_pb2 as api
from cms.casework.v1 import collection_reform_service_pb2_grpc as api_grpc
from cms_platform.clock import Clock
from cms_platform.convert import date_or_violation
from cms_platform.errors import ViolationCollector
from cms_platform.identity import Caller

from ..servicing import Servicing
from . import service

Ctx = grpc.ServicerContext


class CollectionReformServicer(Servicing, api_grpc.CollectionReformServiceServicer):
    def __init__(
        self,
        *,
        sessions: sessionmaker,
        clock: Clock,
        wake: Callable[[], None],
        fees_reform_date: object,
        migration_start_date: object,
    ):
        self._sessions, self._clock, self._wake = sessions, clock, wake
        self._fees_reform_date = fees_reform_date
        self._migration_start_date = migration_start_date

    def _woken(self, s: Session) -> None:
        sa_event.listen(s, "after_commit", lambda _session: self._wake(), once=True)

    def StartReformWhatIf(
        self, request: api.StartReformWhatIfRequest, context: Ctx
    ) -> cr.ReformWhatIf:
        v = ViolationCollector()
        start = (
            date_or_violation(request.start_date, "start_date", v)
            if request.HasField("start_date")
            else None
        )
        v.raise_if_any()

        def run(s: Session, c: Caller) -> cr.ReformWhatIf:
            self._woken(s)
            return service.start_what_if(
                s,
                start=start or self._fees_reform_date or self._clock.today(),  # type: ignore[arg-type]
                caller=c,
                clock=self._clock,
            )

        return self._change(request, cr.ReformWhatIf, run)

    def GetReformWhatIf(self, request: api.GetReformWhatIfRequest, context: Ctx) -> cr.ReformWhatIf:
        return self._read(request, lambda s, c: service.get_what_if(s, name=request.name))

    def StartDirectPayMigration(
        self, request: api.StartDirectPayMigrationRequest, context: Ctx
    ) -> cr.DirectPayMigration:
        v = ViolationCollector()
        start = (
            date_or_violation(request.start_date, "start_date", v)
            if request.HasField("start_date")
            else self._migration_start_date
        )
        if start is None and not v.violations:
            v.add(
                "start_date", "is required when CASEWORK_DIRECT_PAY_MIGRATION_START_DATE is not set"
            )
        v.raise_if_any()

        def run(s: Session, c: Caller) -> cr.DirectPayMigration:
            self._woken(s)
            return service.start_migration(
                s,
                start=start,  # type: ignore[arg-type]
                dry_run=request.dry_run,
                caller=c,
                clock=self._clock,
            )

        return self._change(request, cr.DirectPayMigration, run)

    def GetDirectPayMigration(
        self, request: api.GetDirectPayMigrationRequest, context: Ctx
    ) -> cr.DirectPayMigration:
        return self._read(request, lambda s, c: service.get_migration(s, name=request.name))
