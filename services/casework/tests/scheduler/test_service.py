"""Scheduled work through the real casework server (conftest.stack): the monthly Child Benefit check."""

from __future__ import annotations

import datetime as dt

from cms.casework.v1 import casework_service_pb2 as api
from cms.casework.v1 import resources_pb2 as pb
from cms.common.v1 import types_pb2 as common
from cms_casework.scheduler.service import SCHEDULED_ITEMS

from ..conftest import alex_and_bethan, d, person


def test_the_monthly_child_benefit_batch_ends_a_childs_part_in_the_case(stack, clock):
    request = alex_and_bethan()
    request.paying_parent.identity.CopyFrom(person("AC345678C", "Chidi", "Okafor", (1990, 6, 30)))
    request.paying_parent.ClearField("address")
    request.receiving_parent.identity.CopyFrom(
        person("AG765432A", "Siân", "Llewellyn-Price", (1983, 5, 17))
    )
    del request.qualifying_children[:]
    for forename, born, crn in (
        ("Ffion", d(2009, 5, 20), "AK100003C"),
        ("Tomos", d(2010, 3, 1), "AK100004D"),
        ("Osian", d(2014, 11, 11), "AK100005A"),
    ):
        request.qualifying_children.add(
            name=common.PersonName(forenames=forename, surname="Okafor"),
            date_of_birth=born,
            child_reference_number=crn,
        )
    case = stack.new_live_case(request)
    assert case.state == pb.CASE_STATE_LIVE
    clock.advance(
        dt.timedelta(days=148)
    )  # 1 September 2026: Tomos's Child Benefit ended on 31 August
    processed = SCHEDULED_ITEMS.labels("SCHEDULED_JOB_MONTHLY_CHILD_BENEFIT_CHECK", "processed")
    before = processed._value.get()
    result = stack.run_scheduled(
        d(2026, 9, 1), api.SCHEDULED_JOB_MONTHLY_CHILD_BENEFIT_CHECK
    ).results[0]
    assert (result.items_due, result.items_failed) == (1, 0)
    assert processed._value.get() == before + 1  # counted for the on-call alerts
    held = stack.call("GetCase", api.GetCaseRequest(name=case.name))
    tomos = next(c for c in held.qualifying_children if c.name.forenames == "Tomos")
    ffion = next(c for c in held.qualifying_children if c.name.forenames == "Ffion")
    assert (tomos.end_date, tomos.end_reason) == (
        d(2026, 8, 31),
        pb.CHILD_END_REASON_NOT_IN_FULL_TIME_EDUCATION,
    )
    assert not ffion.end_date.year  # approved education reported: still a QC
    assert held.latest_calculation.calculation != case.latest_calculation.calculation
    assert held.current_payment_plan != case.current_payment_plan
    # Once a month, whichever day is asked.
    assert (
        stack.run_scheduled(d(2026, 9, 15), api.SCHEDULED_JOB_MONTHLY_CHILD_BENEFIT_CHECK)
        .results[0]
        .items_due
        == 0
    )
