"""Separated families from the shared synthetic population, as CreateCaseRequests every gateway agrees on.

The demo, the cross-service suites and the benchmarks all need real-looking cases; each family is a different pair
of parents, so the one-open-case-per-pair rule never refuses them.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Iterator
from dataclasses import dataclass

from google.type import date_pb2

from cms.casework.v1 import casework_service_pb2 as api
from cms.casework.v1 import resources_pb2 as pb
from cms.common.v1 import types_pb2 as common
from cms_simulation.population import Person, Population
from cms_simulation.population.dwp import live_awards
from cms_simulation.population.hmrc import latest_available_tax_year

# A household takes three consecutive indexes; the receiving parent is the first.
_HOUSEHOLD = 3


@dataclass(frozen=True)
class Family:
    index: int  # the receiving parent's index in the population
    receiver: Person
    payer: Person
    children: tuple  # the qualifying children (the receiver's Child Benefit children under 15)

    def create_case_request(self) -> api.CreateCaseRequest:
        """A fresh request (its own request_id) to open this family's case."""
        return api.CreateCaseRequest(
            request_id=str(uuid.uuid4()),
            paying_parent=_client(self.payer),
            receiving_parent=_client(self.receiver),
            qualifying_children=[
                pb.QualifyingChild(
                    name=common.PersonName(forenames=c.forenames, surname=c.surname),
                    date_of_birth=_date(c.date_of_birth),
                    child_reference_number=c.child_reference_number,
                )
                for c in self.children
            ],
            payment_frequency=common.PAYMENT_FREQUENCY_MONTHLY,
        )


def families(
    *, on: dt.date, start: int = 0, plain: bool = False, population: Population | None = None
) -> Iterator[Family]:
    """Families from index `start` onwards (wrapping round the population once): a receiving parent with Child
    Benefit for children under 15 and a living paying parent in PAYE employment.

    `plain` keeps only the simplest stories: neither parent restricted or with a simulated quirk, the payer not
    self-employed, on no benefit, earning £18,000 to £100,000 a year (a pay rise of 40% still moves the amount: it stays
    under the £3,000 a week income cap), with an HMRC figure for an ended tax year."""
    population = population or Population()
    households = population.size // _HOUSEHOLD
    index = start - start % _HOUSEHOLD
    for _ in range(households):
        index %= households * _HOUSEHOLD
        at, index = index, index + _HOUSEHOLD
        receiver = population.person_at(at)
        if not receiver.child_benefit or not receiver.other_parent_nino or receiver.date_of_death:
            continue
        payer = population.person(receiver.other_parent_nino)
        if payer is None or payer.date_of_death:
            continue
        children = tuple(
            c
            for c in receiver.child_benefit.children
            if c.end_date is None and (on - c.date_of_birth).days < 15 * 365
        )
        live = [e for e in payer.employments if e.end_date is None]
        if not children or not live:
            continue
        if plain and not _plain(receiver, payer, live, on):
            continue
        yield Family(at, receiver, payer, children)


def _plain(receiver: Person, payer: Person, live: list, on: dt.date) -> bool:
    return not (
        receiver.restricted
        or payer.restricted
        or payer.self_employed
        or payer.quirks
        or receiver.quirks
        or live_awards(payer, on)
        or not 18_000_00 <= sum(e.annual_pay_on(on) for e in live) <= 100_000_00
        or latest_available_tax_year(payer, on) is None
    )


def _date(d: dt.date) -> date_pb2.Date:
    return date_pb2.Date(year=d.year, month=d.month, day=d.day)


def _client(p: Person) -> pb.Client:
    return pb.Client(
        identity=common.PersonIdentity(
            nino=p.nino,
            name=common.PersonName(forenames=p.forenames, surname=p.surname),
            date_of_birth=_date(p.date_of_birth),
        )
    )
