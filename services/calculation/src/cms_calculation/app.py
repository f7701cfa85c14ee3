"""The calculation service process: its settings, the CalculationService registration, the topic it publishes
and the bulk runner's worker pool, wired together; no behaviour of its own."""

from __future__ import annotations

from pathlib import Path

from cms.calculation.v1 import calculation_service_pb2, calculation_service_pb2_grpc, events_pb2
from cms_platform.clock import Clock
from cms_platform.events import topic_of
from cms_platform.server import ServiceRegistration
from cms_platform.service import CmsService
from cms_platform.service import main as run_main

from .calculations.bulk import BulkRunner, default_workers
from .engine.rules import RuleBook
from .servicer import CalculationServicer, bulk_response
from .settings import CalculationSettings


class CalculationService(CmsService):
    name = "calculation"
    settings_class = CalculationSettings
    topics = (topic_of(events_pb2.CalculationCreated),)
    migrations_dir = Path(__file__).parent / "migrations"

    def __init__(self, settings: CalculationSettings, *, clock: Clock | None = None):
        super().__init__(settings, clock=clock)
        workers = settings.bulk_workers if settings.bulk_workers is not None else default_workers()
        self.rule_book = RuleBook(settings.reform_start_date)
        self.bulk = BulkRunner(
            workers=workers,
            reform_start=settings.reform_start_date,
            clock=self.clock,
            respond=bulk_response,
        )

    def stop(self) -> None:
        super().stop()
        self.bulk.close()

    def registrations(self) -> list[ServiceRegistration]:
        full_name = calculation_service_pb2.DESCRIPTOR.services_by_name[
            "CalculationService"
        ].full_name
        return [
            ServiceRegistration(
                full_name,
                calculation_service_pb2_grpc.add_CalculationServiceServicer_to_server,
                CalculationServicer(
                    sessions=self.sessions,
                    clock=self.clock,
                    rule_book=self.rule_book,
                    bulk_runner=self.bulk,
                ),
                item_validated=frozenset({"BulkCalculate"}),
            )
        ]


def main(argv: list[str] | None = None) -> int:
    return run_main(CalculationService, argv)
