"""DWP benefit awards for generated people: which awards CIS holds for a person or their benefit unit, derived
from the facts already generated (the mix is documented in generator.py's docstring; docs/domain/external-systems.md
§1.9, §2).

Awards follow from the HMRC facts already generated for the person and their partner (employments, Self Assessment,
death), never from a clock. Draws come from their own keyed stream, so adding awards changes no HMRC fact.

- Individual awards (State Pension, contributory JSA/ESA, Carer's Allowance, PIP/DLA, Maternity Allowance, Widowed
  Parent's Allowance, war pensions, AFCS, IIDB) depend on the person alone: ids `<nino>-B<n>`.
- Income-related awards (UC, IS, JSA(IB), ESA(IR), Pension Credit) belong to the benefit unit: the person, or the
  couple when they have a partner in the household. A couple's award is decided from both partners' facts with the
  same draws whichever partner is generated, so it appears under both with the same id `<claimant nino>-M<n>`.
- Consistency rule: no income-related award is live while any member of the unit has an employment (or pension)
  whose pay ever exceeds £20,000 a year; legacy out-of-work awards (IS, JSA(IB), ESA(IR)) and UC without earnings
  also stop when any job starts.

Amounts are in integer pence at 2025-26 rates (UC standard allowance; legacy personal allowances £90.50 a week;
new State Pension £230.25 a week).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import random
from collections.abc import Callable
from typing import Protocol, TypedDict, Unpack

from . import ids
from .child_benefit import add_years
from .household import Household
from .model import (
    AwardComponent,
    AwardEndReason,
    BenefitAward,
    BenefitType,
    Employment,
    PaymentSuspension,
    Person,
)
from .nino import mix64


class Generator(Protocol):
    """What the awards need of the generator: its keyed stream for DWP facts and its time frame."""

    _k_dwp: int
    horizon_start: int
    reference_date: dt.date
    timeline_end: dt.date


D = dt.date
DAY = dt.timedelta(days=1)
FAR = D(9999, 12, 31)
HIGH_PAY = 20_000_00  # pay above this (ever, in a job) excludes income-related benefits while the job lasts
CARER_PAY = 10_000_00  # Carer's Allowance earnings limit, roughly (£196 a week net)
UC_FROM = D(2018, 6, 1)  # new claims go to Universal Credit from here
MIGRATION = (D(2019, 7, 1), D(2026, 3, 31))  # legacy awards move to UC between these dates
PIP_FROM = D(2013, 4, 8)
WPA_CLOSED = D(2017, 4, 6)
_U16 = 1 / 65536
_U53 = 1 / (1 << 53)
_M64 = 0xFFFFFFFFFFFFFFFF

# Rates, pence a week unless said (UC: a month).
UC_SINGLE, UC_SINGLE_U25, UC_COUPLE, UC_COUPLE_U25 = 400_14, 316_98, 628_10, 497_55
UC_FIRST_CHILD, UC_CHILD = 339_00, 292_81
LEGACY_SINGLE, LEGACY_U25, LEGACY_COUPLE = 90_50, 71_70, 142_25
ESA_SUPPORT = 47_70  # £90.50 + £47.70 = £138.20
NEW_STATE_PENSION = 230_25
PC_SINGLE, PC_COUPLE = 227_10, 346_60
CARERS = 83_30
MATERNITY = 187_18
WIDOWED_PARENT = 150_10
PIP_DAILY = (73_90, 110_40)
PIP_MOBILITY = (0, 29_20, 77_05)
DLA_CARE = (29_20, 73_90, 110_40)
IIDB_FULL = 211_20

_SUSPENSION_REASONS = (
    "FAILED_TO_ATTEND",
    "DOUBT_ON_ENTITLEMENT",
    "CUSTOMER_ABROAD",
    "PAYMENT_RETURNED",
    "FAILED_TO_PROVIDE_EVIDENCE",
)
_INCOME_RELATED = frozenset(
    {
        BenefitType.INCOME_SUPPORT,
        BenefitType.JOBSEEKERS_ALLOWANCE_INCOME_BASED,
        BenefitType.EMPLOYMENT_AND_SUPPORT_ALLOWANCE_INCOME_RELATED,
        BenefitType.PENSION_CREDIT,
        BenefitType.UNIVERSAL_CREDIT,
    }
)


def _years(y: float) -> dt.timedelta:
    return dt.timedelta(days=int(y * 365.2425))


def _add_months(d: dt.date, months: int) -> dt.date:
    y, m = divmod(d.month - 1 + months, 12)
    year, month = d.year + y, m + 1
    for day in (d.day, 30, 29, 28):
        try:
            return D(year, month, day)
        except ValueError:
            continue
    raise AssertionError


def state_pension_date(dob: dt.date) -> dt.date:
    """State Pension age: 66, rising a month at a time for births 6 April 1960 to 5 March 1961, then 67."""
    if dob < D(1960, 4, 6):
        return add_years(dob, 66)
    if dob < D(1961, 3, 6):
        months = (dob.year - 1960) * 12 + dob.month - 4 + (dob.day >= 6)
        return _add_months(add_years(dob, 66), months)
    return add_years(dob, 67)


def _max_pay(e: Employment) -> int:
    pay = e.annual_taxable_pay_pence
    for _, p in e.pay_changes:
        pay = max(pay, p)
    return pay


def _pay_on(people: list[Person], on: dt.date, *, occupational: bool | None = None) -> int:
    total = 0
    for p in people:
        for e in p.employments:
            if (
                (occupational is None or e.occupational_pension == occupational)
                and e.start_date <= on
                and (e.end_date is None or e.end_date >= on)
            ):
                total += e.annual_pay_on(on)
    return total


def _blocks(people: list[Person], *, any_job: bool) -> list[tuple[dt.date, dt.date]]:
    """Periods no income-related award may overlap: jobs or pensions ever paying over £20,000 (and, for out-of-work
    awards, any job)."""
    out: list[tuple[dt.date, dt.date]] = []
    for p in people:
        for e in p.employments:
            if _max_pay(e) > HIGH_PAY or (any_job and not e.occupational_pension):
                out.append((e.start_date, e.end_date or FAR))
    out.sort()
    return out


def _window(
    start: dt.date, blocks: list[tuple[dt.date, dt.date]], gap: int = 14
) -> tuple[dt.date, dt.date | None]:
    """The first start on or after `start` clear of the blocks, and the day before the next block begins."""
    for bs, be in blocks:
        if bs <= start <= be:
            start = be + dt.timedelta(days=gap) if be < FAR - dt.timedelta(days=gap) else FAR
    end = next((bs - DAY for bs, _ in blocks if bs > start), None)
    return start, end


class _UniversalCredit(TypedDict, total=False):
    """The Universal Credit fields of a BenefitAward (left at their defaults for other benefits)."""

    uc_earned_income: bool
    uc_assessment_day: int
    uc_standard_allowance_monthly_pence: int
    uc_third_party_deduction_count: int
    uc_other_deductions_monthly_pence: int


class _Awards:
    """Collects awards for one person or benefit unit, numbering their ids."""

    def __init__(self, g: Generator, rng: random.Random, nino: str, kind: str):
        self.g, self.r, self.nino, self.kind = g, rng.random, nino, kind
        self.out: list[BenefitAward] = []

    def add(
        self,
        benefit: BenefitType,
        claimant: str,
        start: dt.date,
        end: dt.date | None,
        amount: int,
        frequency: str,
        *,
        partner: str = "",
        reason: AwardEndReason | None = None,
        components: tuple[AwardComponent, ...] = (),
        death: dt.date | None = None,
        **uc: Unpack[_UniversalCredit],
    ) -> BenefitAward | None:
        g, r = self.g, self.r
        if start > g.timeline_end:
            return None
        if death is not None and (end is None or death < end):
            if death < start:
                return None
            end, reason = death, AwardEndReason.CLAIMANT_DECEASED
        if end is not None and end > g.timeline_end:
            end, reason = None, None
        if end is not None and reason is None:
            reason = AwardEndReason.ENTITLEMENT_ENDED
        decision = start + dt.timedelta(days=int(3 + 30 * r()))
        suspensions: tuple[PaymentSuspension, ...] = ()
        ref = g.reference_date
        live = start <= ref and (end is None or end >= ref)
        u = r()
        if live and u < 0.025:  # open suspension
            s = max(start + dt.timedelta(days=30), ref - dt.timedelta(days=int(1 + 180 * r())))
            if s <= ref:
                suspensions = (PaymentSuspension(s, None, _SUSPENSION_REASONS[int(r() * 5)]),)
        elif u < 0.07 and (end or ref) - start > dt.timedelta(
            days=120
        ):  # a suspension in the past, resolved
            s = start + dt.timedelta(days=int(30 + r() * ((end or ref) - start).days * 0.7))
            e = min(s + dt.timedelta(days=int(7 + 80 * r())), (end or ref) - DAY)
            if s <= e:
                suspensions = (PaymentSuspension(s, e, _SUSPENSION_REASONS[int(r() * 5)]),)
        if end is not None:
            updated = min(end + dt.timedelta(days=int(1 + 14 * r())), g.timeline_end)
        elif (
            live and start < ref - _years(2.5) and r() < 0.03
        ):  # stale CIS record: not heard of for years
            updated = decision + _years(r() * ((ref - _years(2) - decision).days / 365.2425))
            updated = max(decision, min(updated, ref - _years(2)))
        else:  # heard of at the April uprating in the horizon year, or at the decision
            updated = max(decision, D(g.horizon_start, 4, 6))
        award = BenefitAward(
            award_id=ids.award_id(self.nino, self.kind, len(self.out) + 1),
            benefit_type=benefit,
            claimant_nino=claimant,
            start_date=start,
            decision_date=decision,
            amount_pence=amount,
            payment_frequency=frequency,
            partner_nino=partner,
            end_date=end,
            end_reason=reason,
            components=components,
            suspensions=suspensions,
            cis_updated_on=updated,
            **uc,
        )
        self.out.append(award)
        return award


# -- income-related awards of a benefit unit ---------------------------------------------------------------------


def unit_candidate(g: Generator, p: Person) -> bool:
    """Necessary for any income-related award of a unit this person is in (cheap: own facts only)."""
    if p.self_assessment_utr:
        return False
    ref = g.reference_date
    for e in p.employments:
        if (
            e.start_date <= ref
            and (e.end_date is None or e.end_date >= ref)
            and e.annual_pay_on(ref) > HIGH_PAY
        ):
            return False
    return True


_OUT_OF_WORK_CLAIM = {1: 0.64, 2: 0.70}  # of units with nobody in work (single, couple)
_IN_WORK_CLAIM = 0.12  # of units in low-paid work: UC with earnings


def unit_propensity(g: Generator, lead_index: int) -> float:
    """The unit's first draw (from its lead's index): whether it claims at all, known before the partner is built."""
    return (
        mix64(g._k_dwp ^ (lead_index * 0xBF58476D1CE4E5B9 + 0x77) & 0xFFFFFFFFFFFFFFFF) >> 11
    ) * _U53


def might_claim(g: Generator, p: Person, lead_index: int) -> bool:
    """Cheap necessary condition for a couple's income-related award, from one partner's facts (the other partner
    is built only when this holds)."""
    if not unit_candidate(g, p):
        return False
    ref = g.reference_date
    if state_pension_date(p.date_of_birth) <= ref:
        return True
    u = unit_propensity(g, lead_index)
    working = any(
        not e.occupational_pension
        and e.start_date <= ref
        and (e.end_date is None or e.end_date >= ref)
        for e in p.employments
    )
    return u < (_IN_WORK_CLAIM if working else max(_OUT_OF_WORK_CLAIM.values()))


def income_related(
    g: Generator, block: int, hh: Household, members: list[tuple[int, Person]]
) -> tuple[BenefitAward, ...]:
    """The unit's income-related awards; `members` by index (one person, or a couple). Same answer whichever member
    asks."""
    people = [p for _, p in members]
    if not all(unit_candidate(g, p) for p in people):
        return ()
    lead_index = members[0][0]
    ref = g.reference_date
    spa = [state_pension_date(p.date_of_birth) for p in people]
    live_jobs = [
        e
        for p in people
        for e in p.employments
        if not e.occupational_pension
        and e.start_date <= ref
        and (e.end_date is None or e.end_date >= ref)
    ]
    u = unit_propensity(g, lead_index)
    if not all(d <= ref for d in spa) and u >= (
        _IN_WORK_CLAIM if live_jobs else _OUT_OF_WORK_CLAIM[len(members)]
    ):
        return ()  # most units: no claim (decided before anything is drawn)
    rng = random.Random(
        mix64(g._k_dwp ^ (lead_index * 0x9E3779B97F4A7C15 + 0x51) & 0xFFFFFFFFFFFFFFFF)
    )
    r = rng.random
    couple = len(members) == 2
    claimant_i = 1 if couple and r() < 0.35 else 0
    claimant, partner = people[claimant_i], people[1 - claimant_i] if couple else None
    partner_nino = partner.nino if partner else ""
    out = _Awards(g, rng, claimant.nino, "M")
    end_of_time = g.timeline_end
    deaths = [p.date_of_death for p in people if p.date_of_death]
    death = min(deaths) if deaths else None
    claimant_died = death is not None and death == claimant.date_of_death
    adult = max(add_years(p.date_of_birth, 18) for p in people)

    if all(d <= ref for d in spa):  # pension age: Pension Credit
        start, stop = _window(max(spa), _blocks(people, any_job=False))
        weekly_income = sum(state_pension_weekly(g, i, p.date_of_birth) or 0 for i, p in members)
        weekly_income += (_pay_on(people, ref)) // 52
        minimum = PC_COUPLE if couple else PC_SINGLE
        if (
            r() < 0.7
        ):  # severe disability or carer additions, housing costs: a higher appropriate minimum
            minimum += int(40_00 + 140_00 * r())
        top_up = minimum - weekly_income
        if top_up > 0 and r() < 0.9 and start <= end_of_time:
            start = start + dt.timedelta(days=int(r() * 90))
            out.add(
                BenefitType.PENSION_CREDIT,
                claimant.nino,
                start,
                stop,
                top_up * (1 if r() < 0.3 else 4),
                "WEEKLY" if r() < 0.3 else "FOUR_WEEKLY",
                partner=partner_nino,
                components=(
                    AwardComponent("GUARANTEE_CREDIT", "COUPLE" if couple else "SINGLE", top_up),
                ),
                death=death if claimant_died else None,
            )
        return _finish(out, death)

    earning = bool(live_jobs)
    if earning:
        if u >= _IN_WORK_CLAIM:  # in low-paid work: some claim UC with earnings
            return ()
        start = max(UC_FROM, ref - _years(0.1 + 6 * r()), adult)
        start, stop = _window(start, _blocks(people, any_job=False))
        _universal_credit(
            g,
            out,
            r,
            members,
            claimant,
            partner_nino,
            start,
            stop,
            earned=True,
            migrated=False,
            hh=hh,
            block=block,
        )
        return _finish(out, death)
    if u >= _OUT_OF_WORK_CLAIM[len(members)]:
        return ()
    ended = [
        e.end_date
        for p in people
        for e in p.employments
        if not e.occupational_pension and e.end_date is not None and e.end_date < ref
    ]
    start = (
        max(ended) + dt.timedelta(days=int(7 + 90 * r() ** 2))
        if ended
        else ref - _years(0.2 + 13 * r() ** 1.3)
    )
    start = max(start, adult, D(2008, 10, 27))
    start, stop = _window(start, _blocks(people, any_job=True))
    if start > end_of_time:
        return ()
    reason = None
    if min(spa) <= end_of_time and (stop is None or stop >= min(spa)) and not couple:
        stop, reason = (
            min(spa) - DAY,
            AwardEndReason.REPLACED_BY_OTHER_BENEFIT,
        )  # on to Pension Credit
    if stop is not None and stop < start:
        return ()
    if start >= UC_FROM:
        _universal_credit(
            g,
            out,
            r,
            members,
            claimant,
            partner_nino,
            start,
            stop,
            earned=False,
            migrated=False,
            hh=hh,
            block=block,
            reason=reason,
        )
        return _finish(out, death)
    # A legacy award, moved to UC for most.
    lone_parent = not couple and bool(hh.claims[members[0][0] % 3])
    v = r()
    if lone_parent and v < 0.55:
        benefit = BenefitType.INCOME_SUPPORT
    elif v < 0.68:
        benefit = BenefitType.JOBSEEKERS_ALLOWANCE_INCOME_BASED
    else:
        benefit = BenefitType.EMPLOYMENT_AND_SUPPORT_ALLOWANCE_INCOME_RELATED
    young = (ref - claimant.date_of_birth).days < 25 * 365.2425
    weekly = LEGACY_COUPLE if couple else LEGACY_U25 if young else LEGACY_SINGLE
    components = [AwardComponent("PERSONAL_ALLOWANCE", "COUPLE" if couple else "SINGLE", weekly)]
    if benefit is BenefitType.EMPLOYMENT_AND_SUPPORT_ALLOWANCE_INCOME_RELATED and r() < 0.45:
        components.append(AwardComponent("SUPPORT_COMPONENT", "SUPPORT_GROUP", ESA_SUPPORT))
        weekly += ESA_SUPPORT
    migrate = D.fromordinal(
        MIGRATION[0].toordinal() + int(r() * (MIGRATION[1] - MIGRATION[0]).days)
    )
    moved = r() < 0.45 and (stop is None or migrate < stop) and migrate > start
    fortnightly = benefit is not BenefitType.INCOME_SUPPORT or r() < 0.7
    frequency, times = ("FORTNIGHTLY", 2) if fortnightly else ("WEEKLY", 1)
    legacy = out.add(
        benefit,
        claimant.nino,
        start,
        migrate if moved else stop,
        weekly * times,
        frequency,
        partner=partner_nino,
        reason=AwardEndReason.MIGRATED_TO_UNIVERSAL_CREDIT if moved else reason,
        components=tuple(
            AwardComponent(c.type, c.sub_type, c.amount_pence * times) for c in components
        ),
        death=death if claimant_died else None,
    )
    if (
        moved
        and legacy is not None
        and legacy.end_reason is AwardEndReason.MIGRATED_TO_UNIVERSAL_CREDIT
    ):
        _universal_credit(
            g,
            out,
            r,
            members,
            claimant,
            partner_nino,
            migrate + DAY,
            stop,
            earned=False,
            migrated=True,
            hh=hh,
            block=block,
            reason=reason,
        )
    return _finish(out, death)


def _finish(out: _Awards, death: dt.date | None) -> tuple[BenefitAward, ...]:
    if death is None:
        return tuple(out.out)
    # A partner's death ends the couple's claim too (the survivor claims again as a single person, not modelled).
    return tuple(
        a if a.end_date is not None and a.end_date <= death else _end(a, death)
        for a in out.out
        if a.start_date <= death
    )


def _end(a: BenefitAward, on: dt.date) -> BenefitAward:
    reason = (
        AwardEndReason.CLAIMANT_DECEASED
        if a.end_reason is AwardEndReason.CLAIMANT_DECEASED
        else AwardEndReason.ENTITLEMENT_ENDED
    )
    return dataclasses.replace(
        a, end_date=on, end_reason=reason, cis_updated_on=on + dt.timedelta(days=7)
    )


def _universal_credit(
    g: Generator,
    out: _Awards,
    r: Callable[[], float],
    members: list[tuple[int, Person]],
    claimant: Person,
    partner_nino: str,
    start: dt.date,
    stop: dt.date | None,
    *,
    earned: bool,
    migrated: bool,
    hh: Household,
    block: int,
    reason: AwardEndReason | None = None,
) -> None:
    ref = g.reference_date
    couple = len(members) == 2
    young = all((ref - p.date_of_birth).days < 25 * 365.2425 for _, p in members)
    allowance = (
        (UC_COUPLE_U25 if young else UC_COUPLE)
        if couple
        else (UC_SINGLE_U25 if young else UC_SINGLE)
    )
    components = [AwardComponent("STANDARD_ALLOWANCE", "COUPLE" if couple else "SINGLE", allowance)]
    children = sorted(
        s.date_of_birth
        for i, _ in members
        for s in hh.claims[i % 3]
        if s.date_of_birth > ref.toordinal() - 16 * 365
    )
    for n, born in enumerate(children[:2]):
        amount = UC_FIRST_CHILD if n == 0 and born < D(2017, 4, 6).toordinal() else UC_CHILD
        components.append(
            AwardComponent("CHILD_ELEMENT", "FIRST_CHILD" if n == 0 else "OTHER_CHILD", amount)
        )
    if r() < 0.6:
        components.append(AwardComponent("HOUSING_ELEMENT", "RENT", int(250_00 + 650_00 * r())))
    total = sum(c.amount_pence for c in components)
    if earned:
        people = [p for _, p in members]
        monthly_earnings = _pay_on(people, ref, occupational=False) // 12
        total -= int(0.55 * max(0, monthly_earnings - 411_00))
    u = r()
    tpd = 0 if u < 0.72 else 1 if u < 0.88 else 2 if u < 0.97 else 3
    other = int(allowance * (0.05 + 0.10 * r())) if r() < 0.35 else 0
    amount = max(total - other - tpd * int(allowance * 0.05), 10_00)
    out.add(
        BenefitType.UNIVERSAL_CREDIT,
        claimant.nino,
        start,
        stop,
        amount,
        "MONTHLY",
        partner=partner_nino,
        reason=reason,
        components=tuple(components),
        uc_earned_income=earned,
        uc_assessment_day=start.day,
        uc_standard_allowance_monthly_pence=allowance,
        uc_third_party_deduction_count=tpd,
        uc_other_deductions_monthly_pence=other,
        death=claimant.date_of_death,
    )


# -- individual awards -----------------------------------------------------------------------------------------------


def state_pension_weekly(g: Generator, index: int, dob: dt.date) -> int | None:
    """The weekly State Pension of a generated person once over State Pension age (None: no entitlement; 3%)."""
    h = mix64(g._k_dwp ^ (index * 0xD1B54A32D192ED03 + 0x5B) & 0xFFFFFFFFFFFFFFFF)
    u = (h & 0xFFFF) / 65536
    if u < 0.03:
        return None
    if u < 0.50:
        return NEW_STATE_PENSION
    return int(NEW_STATE_PENSION * (0.35 + 0.64 * ((h >> 16) & 0xFFFF) / 65536))


def individual(g: Generator, index: int, p: Person, hh: Household) -> list[BenefitAward]:
    h = mix64(g._k_dwp ^ (index * 0x94D049BB133111EB + 0x3C) & _M64)
    h2 = mix64(h)
    u_contrib, u_carer, u_disabled, u_family = (((h >> s) & 0xFFFF) * _U16 for s in (0, 16, 32, 48))
    u_war = (h2 >> 11) * _U53
    ref, dob, death, nino = g.reference_date, p.date_of_birth, p.date_of_death, p.nino
    spa = state_pension_date(dob)
    working = [e for e in p.employments if not e.occupational_pension]
    seeds = hh.claims[index % 3]
    ended_on = [e.end_date for e in working if e.end_date is not None and e.end_date < ref]
    out_of_work = not any(
        e.start_date <= ref and (e.end_date is None or e.end_date >= ref) for e in working
    )
    age = (ref - dob).days / 365.2425
    disabled = u_disabled < (0.06 if out_of_work else 0.025) * (0.6 + age / 50)
    if (
        spa > g.timeline_end
        and (u_contrib >= 0.30 or not ended_on or p.self_assessment_utr)
        and u_carer >= 0.035
        and not disabled
        and (u_family >= 0.05 or not seeds)
        and u_war >= 0.0055
        and not any(e.employer.armed_forces for e in working)
    ):
        return []  # most people: nothing to draw
    rng = random.Random(h2)
    r = rng.random
    out = _Awards(g, rng, p.nino, "B")
    adult = add_years(dob, 18)
    # State Pension, four-weekly in arrears.
    weekly = state_pension_weekly(g, index, dob) if spa <= g.timeline_end else None
    if weekly:
        out.add(
            BenefitType.STATE_PENSION,
            nino,
            spa + dt.timedelta(days=int(r() * 10)),
            None,
            weekly * 4,
            "FOUR_WEEKLY",
            components=(
                AwardComponent(
                    "NEW_STATE_PENSION",
                    "FULL" if weekly == NEW_STATE_PENSION else "REDUCED",
                    weekly * 4,
                ),
            ),
            death=death,
        )
    # Contribution-based JSA or contributory ESA after the last job ended (not for the self-employed).
    if ended_on and not p.self_assessment_utr:
        last = max(ended_on)
        u = u_contrib
        if u < 0.30 and last + DAY < spa:
            start, stop = _window(
                last + dt.timedelta(days=int(7 + 30 * r())), _blocks([p], any_job=True), gap=7
            )
            if start > g.timeline_end:
                pass
            elif u < 0.22:  # new-style JSA: 182 days at most
                stop = min(stop or FAR, start + dt.timedelta(days=181))
                weekly = LEGACY_U25 if (start - dob).days < 25 * 365.2425 else LEGACY_SINGLE
                out.add(
                    BenefitType.JOBSEEKERS_ALLOWANCE_CONTRIBUTION_BASED,
                    nino,
                    start,
                    stop,
                    weekly * 2,
                    "FORTNIGHTLY",
                    components=(AwardComponent("PERSONAL_ALLOWANCE", "SINGLE", weekly * 2),),
                    death=death,
                )
            else:  # ESA: a year in the work-related activity group, or without limit in the support group
                support = r() < 0.5
                if not support:
                    stop = min(stop or FAR, start + dt.timedelta(days=364))
                elif stop is None or stop >= spa:
                    stop = spa - DAY if spa <= g.timeline_end else None
                weekly = LEGACY_SINGLE + (ESA_SUPPORT if support else 0)
                out.add(
                    BenefitType.EMPLOYMENT_AND_SUPPORT_ALLOWANCE_CONTRIBUTORY,
                    nino,
                    start,
                    stop,
                    weekly * 2,
                    "FORTNIGHTLY",
                    components=(
                        AwardComponent(
                            "SUPPORT_COMPONENT" if support else "PERSONAL_ALLOWANCE",
                            "SUPPORT_GROUP" if support else "WORK_RELATED_ACTIVITY_GROUP",
                            weekly * 2,
                        ),
                    ),
                    death=death,
                )
    # Carer's Allowance: not while earning over the limit; ends at State Pension age.
    if u_carer < 0.035 and adult < ref and not p.self_employed:
        start = max(ref - _years(0.2 + 9 * r()), adult)
        blocks = sorted(
            (e.start_date, e.end_date or FAR) for e in working if _max_pay(e) > CARER_PAY
        )
        start, stop = _window(start, blocks)
        if start < spa:
            stop = min(stop or FAR, spa - DAY)
            out.add(
                BenefitType.CARERS_ALLOWANCE,
                nino,
                start,
                None if stop == FAR else stop,
                CARERS * (1 if r() < 0.5 else 4),
                "WEEKLY" if r() < 0.5 else "FOUR_WEEKLY",
                reason=AwardEndReason.REPLACED_BY_OTHER_BENEFIT if stop == spa - DAY else None,
                death=death,
            )
    # Disability benefits (not income-related; more common out of work and with age).
    if disabled:
        dla = r() < 0.2
        start = (
            max(adult, D(2004, 1, 1) + _years(9 * r()))
            if dla
            else max(adult, PIP_FROM, ref - _years(10 * r()))
        )
        pip_start = start
        if dla:
            moved = D(2015, 10, 1) + _years(4 * r())
            care = DLA_CARE[int(r() * 3)]
            mobility = PIP_MOBILITY[1 + int(r() * 2)]
            out.add(
                BenefitType.DISABILITY_LIVING_ALLOWANCE,
                nino,
                start,
                moved if moved > start else None,
                (care + mobility) * 4,
                "FOUR_WEEKLY",
                reason=AwardEndReason.REPLACED_BY_OTHER_BENEFIT,
                components=(
                    AwardComponent("CARE", "RATE", care * 4),
                    AwardComponent("MOBILITY", "RATE", mobility * 4),
                ),
                death=death,
            )
            pip_start = moved + DAY
        if pip_start < g.timeline_end:
            daily = PIP_DAILY[r() < 0.45]
            mobility = PIP_MOBILITY[int(r() * 3)]
            stop = pip_start + _years(1 + 6 * r()) if r() < 0.2 else None
            out.add(
                BenefitType.PERSONAL_INDEPENDENCE_PAYMENT,
                nino,
                pip_start,
                stop,
                (daily + mobility) * 4,
                "FOUR_WEEKLY",
                components=(
                    AwardComponent(
                        "DAILY_LIVING",
                        "ENHANCED" if daily == PIP_DAILY[1] else "STANDARD",
                        daily * 4,
                    ),
                    AwardComponent("MOBILITY", "RATE", mobility * 4, payable=mobility > 0),
                ),
                death=death,
            )
    # Maternity Allowance: a few mothers, around the birth of the youngest child on their claim.
    if p.sex == "F" and seeds and u_family < 0.03:
        born = D.fromordinal(max(s.date_of_birth for s in seeds))
        start = born - dt.timedelta(weeks=11)
        if start > D(2013, 4, 6) and start > adult:
            out.add(
                BenefitType.MATERNITY_ALLOWANCE,
                nino,
                start,
                start + dt.timedelta(weeks=39) - DAY,
                MATERNITY * 2,
                "FORTNIGHTLY",
                death=death,
            )
    # Widowed Parent's Allowance: a few lone parents bereaved before April 2017.
    if seeds and not p.partner_nino and not p.other_parent_nino and 0.03 <= u_family < 0.05:
        start = max(
            D.fromordinal(min(s.date_of_birth for s in seeds)) + dt.timedelta(days=200),
            D(2008, 4, 6),
        )
        start = start + _years(r() * 5)
        if start < WPA_CLOSED:
            youngest = D.fromordinal(max(s.date_of_birth for s in seeds))
            stop = D(add_years(youngest, 16).year, 8, 31)
            if stop <= start:
                return out.out
            out.add(
                BenefitType.WIDOWED_PARENTS_ALLOWANCE,
                nino,
                start,
                stop,
                WIDOWED_PARENT,
                "WEEKLY",
                death=death,
            )
    # War Disablement Pension, Armed Forces Compensation Scheme, Industrial Injuries.
    u = u_war
    left_forces_on = [
        e.end_date
        for e in working
        if e.employer.armed_forces and e.end_date is not None and e.end_date < ref
    ]
    if left_forces_on and u < 0.3 or u < 0.0008:
        start = (
            left_forces_on[-1] + dt.timedelta(days=int(30 + 300 * r()))
            if left_forces_on
            else max(adult, D(2005, 4, 6)) + _years(r() * 12)
        )
        weekly = int(30_00 + 370_00 * r() ** 2)
        out.add(
            BenefitType.ARMED_FORCES_COMPENSATION_SCHEME,
            nino,
            start,
            None,
            weekly * 4,
            "FOUR_WEEKLY",
            components=(AwardComponent("GUARANTEED_INCOME_PAYMENT", "", weekly * 4),),
            death=death,
        )
    elif u < 0.0025 and age > 40:
        weekly = int(40_00 + 190_00 * r())
        out.add(
            BenefitType.WAR_DISABLEMENT_PENSION,
            nino,
            max(adult, D(1995, 1, 1) + _years(r() * 20)),
            None,
            weekly * 4,
            "FOUR_WEEKLY",
            death=death,
        )
    elif u < 0.0055 and working:
        weekly = IIDB_FULL * (2 + int(r() * 9)) // 10
        start = min(e.start_date for e in working) + _years(r() * 5)
        out.add(
            BenefitType.INDUSTRIAL_INJURIES_DISABLEMENT_BENEFIT,
            nino,
            start,
            None,
            weekly * (1 if r() < 0.5 else 4),
            "WEEKLY" if r() < 0.5 else "FOUR_WEEKLY",
            death=death,
        )
    return out.out
