"""The families the demo, the e2e suites and the benchmarks open cases for."""

from __future__ import annotations

import datetime as dt
import itertools

from cms_devkit.families import families
from cms_simulation.population import Population

ON = dt.date(2026, 4, 6)


def test_each_family_is_a_different_pair_of_parents_with_children_under_15():
    got = list(itertools.islice(families(on=ON, start=300), 40))
    pairs = {(f.payer.nino, f.receiver.nino) for f in got}
    assert len(pairs) == 40
    for f in got:
        assert f.receiver.other_parent_nino == f.payer.nino
        assert f.children and all((ON - c.date_of_birth).days < 15 * 365 for c in f.children)
        request = f.create_case_request()
        assert request.paying_parent.identity.nino == f.payer.nino
        assert len(request.qualifying_children) == len(f.children)


def test_each_request_has_its_own_request_id():
    family = next(families(on=ON))
    assert family.create_case_request().request_id != family.create_case_request().request_id


def test_plain_families_are_employed_on_no_benefit_and_earn_enough():
    for f in itertools.islice(families(on=ON, plain=True), 10):
        live = [e for e in f.payer.employments if e.end_date is None]
        assert sum(e.annual_pay_on(ON) for e in live) >= 18_000_00
        assert not (f.payer.self_employed or f.payer.restricted or f.receiver.restricted)


def test_the_search_wraps_round_a_small_population_once():
    small = Population(size=300)
    everyone = list(families(on=ON, population=small))
    assert list(families(on=ON, start=150, population=small)) != []
    assert {f.index for f in families(on=ON, start=150, population=small)} == {
        f.index for f in everyone
    }
