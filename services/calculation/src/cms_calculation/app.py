"""The calculation service process."""

from __future__ import annotations

from pathlib import Path

from cms.calculation.v1 import calculation_service_pb2, calculation_service_pb2_grpc
from cms_platform.server import ServiceRegistration
from cms_platform.service import CmsService
from cms_platform.service import main as run_main

from .calculations.bulk import BulkRunner, default_workers
from .calculations.service import TOPIC
from .calculations.servicer import CalculationServicer
from .engine.rules import RuleBook
from .settings import CalculationSettings


class CalculationService(CmsService):
    name = "calculation"
    settings_class = CalculationSettings
    topics = (TOPIC,)
    migrations_dir = Path(__file__).parent / "migrations"

    def __init__(self, settings: CalculationSettings, **kw):
        super().__init__(settings, **kw)
        workers = settings.bulk_workers if settings.bulk_workers is not None else default_workers()
        self.rule_book = RuleBook(settings.reform_start_date)
        self.bulk = BulkRunner(
            workers=workers,
            rule_book=self.rule_book,
            reform_start=settings.reform_start_date,
            clock=self.clock,
        )

    def stop(self) -> None:
        super().stop()
        self.bulk.close()

    def registrations(self) -> list[ServiceRegistration]:
        rule_book = self.rule_book
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
                    rule_book=rule_book,
                    bulk_runner=self.bulk,
                ),
                item_validated=frozenset({"BulkCalculate"}),
            )
        ]


def main(argv: list[str] | None = None) -> int:
    return run_main(CalculationService, argv)
