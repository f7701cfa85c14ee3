"""Requests and polling shared by the cross-service suites."""

from __future__ import annotations

import uuid

from google.type import date_pb2

from cms.casework.v1 import casework_service_pb2 as api
from cms.casework.v1 import resources_pb2 as pb
from cms.common.v1 import types_pb2 as common


def person(
    nino: str, forenames: str, surname: str, y: int, m: int, d: int
) -> common.PersonIdentity:
    return common.PersonIdentity(
        nino=nino,
        name=common.PersonName(forenames=forenames, surname=surname),
        date_of_birth=date_pb2.Date(year=y, month=m, day=d),
    )


def create_case_request(**kw) -> api.CreateCaseRequest:
    # Alex Turner is seeded in the shared synthetic population with £31,200 a year of earned income.
    return api.CreateCaseRequest(
        request_id=str(uuid.uuid4()),
        paying_parent=pb.Client(identity=person("AA123456A", "Alex", "Turner", 1985, 3, 14)),
        receiving_parent=pb.Client(identity=person("AB234567B", "Bethan", "Morgan", 1979, 11, 2)),
        qualifying_children=[
            pb.QualifyingChild(
                name=common.PersonName(forenames="Amy", surname="Morgan"),
                date_of_birth=date_pb2.Date(year=2015, month=7, day=1),
            ),
            pb.QualifyingChild(
                name=common.PersonName(forenames="Ben", surname="Morgan"),
                date_of_birth=date_pb2.Date(year=2018, month=2, day=9),
            ),
        ],
        payment_frequency=common.PAYMENT_FREQUENCY_MONTHLY,
        **kw,
    )


def generated_families(count: int, *, start: int = 0, on=None):
    """CreateCaseRequests for `count` separated families of the shared synthetic population (a receiving parent with
    Child Benefit for children under 15 and an employed paying parent): every gateway knows them consistently."""
    import datetime as dt

    from cms_simulation.population import Population

    population = Population()
    on = on or dt.date(2026, 4, 6)
    index = start - start % 3
    while count > 0:
        receiver = population.person_at(index)
        index += 3
        payer = (
            population.person(receiver.other_parent_nino) if receiver.other_parent_nino else None
        )
        if (
            not receiver.child_benefit
            or payer is None
            or payer.date_of_death
            or receiver.date_of_death
        ):
            continue
        children = [
            c
            for c in receiver.child_benefit.children
            if c.end_date is None and (on - c.date_of_birth).days < 15 * 365
        ]
        if not children or not any(e.end_date is None for e in payer.employments):
            continue
        count -= 1
        born = payer.date_of_birth
        yield api.CreateCaseRequest(
            request_id=str(uuid.uuid4()),
            paying_parent=pb.Client(
                identity=person(
                    payer.nino, payer.forenames, payer.surname, born.year, born.month, born.day
                )
            ),
            receiving_parent=pb.Client(
                identity=person(
                    receiver.nino,
                    receiver.forenames,
                    receiver.surname,
                    receiver.date_of_birth.year,
                    receiver.date_of_birth.month,
                    receiver.date_of_birth.day,
                )
            ),
            qualifying_children=[
                pb.QualifyingChild(
                    name=common.PersonName(forenames=c.forenames, surname=c.surname),
                    date_of_birth=date_pb2.Date(
                        year=c.date_of_birth.year,
                        month=c.date_of_birth.month,
                        day=c.date_of_birth.day,
                    ),
                    child_reference_number=c.child_reference_number,
                )
                for c in children
            ],
            payment_frequency=common.PAYMENT_FREQUENCY_MONTHLY,
        )
