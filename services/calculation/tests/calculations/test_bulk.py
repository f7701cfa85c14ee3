"""The bulk runner: how many worker processes it uses, and that worker processes answer exactly as the service
process does (same order, same bytes, a bad item's status included)."""

from __future__ import annotations

import datetime as dt
import uuid

from google.type import date_pb2

from cms.calculation.v1 import calculation_service_pb2 as api
from cms.calculation.v1 import resources_pb2 as pb
from cms_calculation.calculations import service
from cms_calculation.calculations.bulk import BulkRunner, default_workers
from cms_calculation.engine.rules import RuleBook
from cms_calculation.servicer import bulk_response
from cms_platform.clock import ManualClock


def test_bulk_workers_follow_the_container_cpu_limit(tmp_path):
    limit = tmp_path / "cpu.max"
    limit.write_text("100000 100000\n")
    assert default_workers(str(limit)) == 0  # one CPU: calculate in-process
    limit.write_text("max 100000\n")
    assert default_workers(str(limit)) == default_workers(str(tmp_path / "absent"))


def _what_if(n: int, nights: int = 0) -> api.BulkCalculateItem:
    return api.BulkCalculateItem(
        request_id=str(uuid.uuid4()),
        case_reference=f"case-{n}",
        what_if=True,
        input=pb.CalculationInput(
            effective_date=date_pb2.Date(year=2026, month=5, day=1),
            service_type=pb.SERVICE_TYPE_COLLECT_AND_PAY,
            paying_parent_income=pb.PayingParentIncome(
                hmrc_gross_annual_income_pence=20_000_00 + n * 1_000_00
            ),
            qualifying_children=[
                pb.QualifyingChild(
                    child_reference="c", receiving_parent_reference="rp", shared_care_nights=nights
                )
            ],
        ),
    )


def test_worker_processes_answer_in_order_with_the_same_bytes_as_the_service_process():
    batches = [
        api.BulkCalculateRequest(items=[_what_if(0), _what_if(1, nights=999), _what_if(2)]),
        api.BulkCalculateRequest(
            items=[_what_if(3), api.BulkCalculateItem(case_reference="no-id", what_if=True)]
        ),
    ]
    clock = ManualClock(dt.datetime(2026, 5, 1, 9, tzinfo=dt.UTC))
    book = RuleBook()

    def in_process(items: list[api.BulkCalculateItem]) -> list[service.ItemOutcome]:
        return service.bulk_batch(sessions=None, items=items, rule_book=book, clock=clock)

    answers = {}
    for workers in (0, 1):
        runner = BulkRunner(workers=workers, reform_start=None, clock=clock, respond=bulk_response)
        try:
            answers[workers] = list(runner.run(iter(batches), in_process))
        finally:
            runner.close()
    assert answers[1] == answers[0]
    results = [r for answer in answers[1] for r in answer.results]
    assert [r.case_reference for r in results] == [
        "case-0",
        "case-1",
        "case-2",
        "case-3",
        "no-id",
    ]
    assert [r.WhichOneof("result") for r in results] == [
        "calculation",
        "error",
        "calculation",
        "calculation",
        "error",
    ]
    assert "input.qualifying_children[0].shared_care_nights" in results[1].error.message
