"""The casework process: its settings, the gRPC API, the feeds it consumes, and its background work (the daily
scheduled work and the pass applying what the feeds raised)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from cms.casework.v1 import (
    arrears_service_pb2,
    arrears_service_pb2_grpc,
    casework_service_pb2,
    casework_service_pb2_grpc,
)
from cms.casework.v1 import events_pb2 as ev
from cms.casework.v1 import money_events_pb2 as money_ev
from cms_platform.consumer import Subscription
from cms_platform.events import topic_of
from cms_platform.server import ServiceRegistration
from cms_platform.service import CmsService
from cms_platform.service import main as run_main

from . import downstream
from .arrears import handlers as arrears_handlers
from .arrears.servicer import ArrearsServicer
from .feeds import handlers as feeds
from .feeds import service as feed_changes
from .scheduler.service import Scheduler
from .servicer import CaseworkServicer
from .settings import CaseworkSettings


class CaseworkService(CmsService):
    name = "casework"
    settings_class = CaseworkSettings
    topics = (topic_of(ev.CaseCreated), topic_of(money_ev.ReceiptRecorded))
    migrations_dir = Path(__file__).parent / "migrations"
    calls = downstream.TARGETS

    settings: CaseworkSettings

    def __init__(self, settings: CaseworkSettings, **kw: Any):
        super().__init__(settings, **kw)
        self.downstream = downstream.connect(
            calculation_address=settings.calculation_address,
            hmrc_address=settings.hmrc_gateway_address,
            dwp_address=settings.dwp_gateway_address,
            cra_address=settings.cra_gateway_address,
            tokens=self.tokens,
            deadline=settings.downstream_deadline_seconds,
        )
        self.scheduler = Scheduler(
            sessions=self.sessions,
            clock=self.clock,
            downstream=self.downstream,
            arrears_grace_days=settings.arrears_grace_days,
        )
        self._daily = self.scheduler.periodic(settings.scheduler_interval_seconds)
        self._feed_changes = feed_changes.applier(
            sessions=self.sessions,
            clock=self.clock,
            downstream=self.downstream,
            interval_seconds=settings.feed_apply_interval_seconds,
        )

    def registrations(self) -> list[ServiceRegistration]:
        full_name = casework_service_pb2.DESCRIPTOR.services_by_name["CaseworkService"].full_name
        servicer = CaseworkServicer(
            sessions=self.sessions,
            clock=self.clock,
            downstream=self.downstream,
            scheduler=self.scheduler,
        )
        arrears = ArrearsServicer(sessions=self.sessions, clock=self.clock)  # ---- Arrears ----
        return [
            ServiceRegistration(
                full_name,
                casework_service_pb2_grpc.add_CaseworkServiceServicer_to_server,
                servicer,
                refused=servicer.refused_by_policy,  # every refusal on a case is in its audit trail
            ),
            # ---- Arrears ----
            ServiceRegistration(
                arrears_service_pb2.DESCRIPTOR.services_by_name["ArrearsService"].full_name,
                arrears_service_pb2_grpc.add_ArrearsServiceServicer_to_server,
                arrears,
                refused=arrears.refused_by_policy,
            ),
        ]

    def start(self, *, migrate: bool = True) -> int:
        port = super().start(migrate=migrate)
        self._daily.start()
        self._feed_changes.start()
        return port

    def stop(self) -> None:
        self._daily.stop()
        self._feed_changes.stop()
        super().stop()

    def subscriptions(self) -> list[Subscription]:
        return [
            feeds.subscription(
                clock=self.clock,
                group=self.settings.feed_consumer_group,
                wake=self._feed_changes.wake,
            ),
            # ---- Arrears ----
            arrears_handlers.subscription(
                clock=self.clock, group=self.settings.arrears_consumer_group
            ),
        ]

    def close_clients(self) -> None:
        self.downstream.close()


def main(argv: list[str] | None = None) -> int:
    return run_main(CaseworkService, argv)
