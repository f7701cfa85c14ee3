"""DWP benefit awards of generated people (cms_simulation.population._awards): couple claims under both partners,
the consistency rule with well-paid work, migration to Universal Credit, pensions, determinism and the documented
mix."""

from __future__ import annotations

import datetime as dt
import functools

from cms_simulation.population import Population
from cms_simulation.population._awards import state_pension_date
from cms_simulation.population.dwp import MEANS_TESTED, live_awards, live_on, suspended_on
from cms_simulation.population.generator import Generator
from cms_simulation.population.model import AwardEndReason, BenefitType, Employment, Person

D = dt.date
SMALL = Population(size=3_000, seed=99)
REF = D(2026, 7, 1)  # the generator's reference date for the default horizon
FAR_FUTURE = D(9999, 12, 31)


def _spa(dob: dt.date) -> dt.date:
    return state_pension_date(dob)


@functools.cache
def _dwp_sample() -> tuple[Person, ...]:
    """20,000 people of the default population, every 50th index (every position in the families)."""
    g = Population(size=1_000_000, seed=2012).generator
    return tuple(g.person(i) for i in range(0, 1_000_000, 50))


@functools.cache
def _pensioners() -> tuple[Person, ...]:
    """Everyone over State Pension age in the first 150,000 households (found from the cheap household skeletons)."""
    g = Population(size=1_000_000, seed=2012).generator
    out = []
    for block in range(0, 150_000):
        hh = g.household(block)
        out.extend(
            g.person(block * 3 + pos)
            for pos in range(3)
            if _spa(D.fromordinal(hh.dobs[pos])) <= REF
        )
    return tuple(p for p in out if p.date_of_death is None)


def _max_pay(e: Employment) -> int:
    return max([e.annual_taxable_pay_pence, *(pay for _, pay in e.pay_changes)])


def test_a_couple_claim_is_listed_under_both_partners_with_the_same_id():
    couples = 0
    for p in SMALL.iter_people(0, 3_000):
        for a in p.benefit_awards:
            assert p.nino in (a.claimant_nino, a.partner_nino)
            if a.partner_nino:
                assert a.benefit_type in MEANS_TESTED and p.partner_nino in (
                    a.claimant_nino,
                    a.partner_nino,
                )
                other = SMALL.person(
                    a.partner_nino if p.nino == a.claimant_nino else a.claimant_nino
                )
                assert a in other.benefit_awards  # the same award, id and all
                couples += 1
    assert couples > 20
    ids = [
        a.award_id
        for p in SMALL.iter_people(0, 3_000)
        for a in p.benefit_awards
        if not a.partner_nino
    ]
    assert len(ids) == len(set(ids))


def test_nobody_in_a_job_over_20k_has_an_income_related_award_live_at_the_same_time():
    checked = 0
    population = Population(size=1_000_000, seed=2012)
    for p in _dwp_sample()[:6_000]:
        for a in p.benefit_awards:
            if a.benefit_type not in MEANS_TESTED:
                continue
            checked += 1
            members = (
                [p]
                if not a.partner_nino
                else [population.person(a.claimant_nino), population.person(a.partner_nino)]
            )
            for m in members:
                for e in m.employments:
                    if _max_pay(e) > 20_000_00:
                        overlap = e.start_date <= (a.end_date or FAR_FUTURE) and a.start_date <= (
                            e.end_date or FAR_FUTURE
                        )
                        assert not overlap, (m.nino, e.employment_id, a.award_id)
                assert not m.self_assessment_utr
    assert checked > 300


def test_out_of_work_awards_end_when_work_starts_and_legacy_awards_move_to_universal_credit():
    migrated = 0
    for p in _dwp_sample()[:6_000]:
        awards = {a.award_id: a for a in p.benefit_awards}
        for a in p.benefit_awards:
            if a.end_reason is AwardEndReason.MIGRATED_TO_UNIVERSAL_CREDIT:
                migrated += 1
                uc = [
                    b
                    for b in awards.values()
                    if b.benefit_type is BenefitType.UNIVERSAL_CREDIT
                    and b.start_date == a.end_date + dt.timedelta(days=1)
                ]
                assert len(uc) == 1 and uc[0].claimant_nino == a.claimant_nino
            if a.benefit_type is BenefitType.UNIVERSAL_CREDIT:
                assert (
                    a.payment_frequency == "MONTHLY"
                    and a.uc_standard_allowance_monthly_pence in (400_14, 316_98, 628_10, 497_55)
                )
                assert (
                    a.uc_assessment_day == a.start_date.day
                    and 0 <= a.uc_third_party_deduction_count <= 3
                )
            if a.benefit_type is BenefitType.JOBSEEKERS_ALLOWANCE_CONTRIBUTION_BASED and a.end_date:
                assert (a.end_date - a.start_date).days <= 181
            assert (
                a.amount_pence > 0
                and isinstance(a.amount_pence, int)
                and a.decision_date >= a.start_date
            )
            assert a.end_date is None or a.end_date >= a.start_date
    assert migrated > 10


def test_pensioners_get_state_pension_and_a_fifth_pension_credit():
    pensioners = _pensioners()
    assert len(pensioners) > 300
    on_sp = [
        p
        for p in pensioners
        if any(a.benefit_type is BenefitType.STATE_PENSION for a in live_awards(p, REF))
    ]
    on_pc = [
        p
        for p in pensioners
        if any(a.benefit_type is BenefitType.PENSION_CREDIT for a in live_awards(p, REF))
    ]
    assert len(on_sp) / len(pensioners) > 0.93
    assert 0.15 < len(on_pc) / len(pensioners) < 0.25
    for p in on_sp:
        sp = next(a for a in p.benefit_awards if a.benefit_type is BenefitType.STATE_PENSION)
        assert sp.payment_frequency == "FOUR_WEEKLY" and sp.amount_pence <= 4 * 230_25
        assert sp.start_date >= _spa(p.date_of_birth)
    nobody_young = [
        p
        for p in _dwp_sample()
        if _spa(p.date_of_birth) > D(2027, 4, 5)
        and any(
            a.benefit_type in (BenefitType.STATE_PENSION, BenefitType.PENSION_CREDIT)
            for a in p.benefit_awards
        )
    ]
    assert nobody_young == []


def test_benefit_awards_are_deterministic():
    a, b = Population(size=30_000, seed=7), Population(size=30_000, seed=7)
    for index in range(0, 30_000, 97):
        assert a.person_at(index).benefit_awards == b.generator.person(index).benefit_awards
    # The same person, generated alone or after their partner, has the same awards.
    c = Population(size=30_000, seed=7)
    people = [c.generator.person(i) for i in range(3_000)]
    for index in range(0, 3_000, 7):
        assert Generator(7, 30_000).person(index) == people[index]


def test_the_dwp_mix_is_as_documented():
    people = [p for p in _dwp_sample() if p.date_of_death is None]
    working_age = [p for p in people if _spa(p.date_of_birth) > REF]
    assert len(people) > 19_900

    def share(group, benefits):
        return sum(
            1 for p in group if any(a.benefit_type in benefits for a in live_awards(p, REF))
        ) / len(group)

    assert 0.09 < share(working_age, MEANS_TESTED) < 0.15
    assert 0.07 < share(working_age, {BenefitType.UNIVERSAL_CREDIT}) < 0.11
    legacy = {
        BenefitType.INCOME_SUPPORT,
        BenefitType.JOBSEEKERS_ALLOWANCE_INCOME_BASED,
        BenefitType.EMPLOYMENT_AND_SUPPORT_ALLOWANCE_INCOME_RELATED,
    }
    assert 0.003 < share(working_age, legacy) < 0.03
    assert 0.01 < share(working_age, {BenefitType.PERSONAL_INDEPENDENCE_PAYMENT}) < 0.08
    assert 0.003 < share(working_age, {BenefitType.CARERS_ALLOWANCE}) < 0.03
    assert (
        0.002
        < share(
            working_age,
            {
                BenefitType.JOBSEEKERS_ALLOWANCE_CONTRIBUTION_BASED,
                BenefitType.EMPLOYMENT_AND_SUPPORT_ALLOWANCE_CONTRIBUTORY,
            },
        )
        < 0.03
    )
    awards = [a for p in people for a in p.benefit_awards]
    live = [a for a in awards if live_on(a, REF)]
    assert 0.005 < sum(suspended_on(a, REF) for a in live) / len(live) < 0.05
    stale = [
        a for a in live if a.cis_updated_on and a.cis_updated_on < REF - dt.timedelta(days=700)
    ]
    assert 0 < len(stale) / len(live) < 0.05
    uc = [a for a in live if a.benefit_type is BenefitType.UNIVERSAL_CREDIT]
    assert 0.03 < sum(a.uc_earned_income for a in uc) / len(uc) < 0.35
    assert any(a.uc_third_party_deduction_count for a in uc)
    seen = {a.benefit_type for a in awards}
    assert {
        BenefitType.MATERNITY_ALLOWANCE,
        BenefitType.ARMED_FORCES_COMPENSATION_SCHEME,
        BenefitType.INDUSTRIAL_INJURIES_DISABLEMENT_BENEFIT,
        BenefitType.DISABILITY_LIVING_ALLOWANCE,
    } <= seen
