"""Deterministic synthetic people, generated on demand from (seed, index): nothing is built up front.

The same seed, size and horizon always give the same people, on every machine (only `random.Random(int)` with
`random()`, and integer hashes, are used; no clock is read). A person's timeline runs to the end of the horizon tax
year (a constructor parameter, default 2026-27); callers filter it by their own date (see hmrc.py, rti.py,
child_benefit.py). Ages and the mixes below are as on the reference date, 1 July in the horizon tax year.

Families (blocks of three indexes, 3b, 3b+1, 3b+2; percentages are of blocks or of people as stated)
- 90% of blocks are separated families:
  - 3b is the receiving parent (88% women): the Child Benefit claimant for the family's 1-4 children (1: 45%,
    2: 35%, 3: 14%, 4: 6%; 1.5% of siblings are twins), `other_parent_nino` = 3b+1.
  - 3b+1 is the paying parent (`other_parent_nino` = 3b); 55% have a partner, 3b+2 (`partner_nino` both ways),
    who claims Child Benefit for 1-3 relevant other children aged 0-12 in 45% of those couples.
  - Otherwise 3b+2 is an unrelated single adult, a lone parent (Child Benefit, no other parent known) in 15% of
    cases.
- 10% of blocks are not separated families: 3b and 3b+1 are a couple in 60% of them (the first claims Child Benefit
  for their joint children in half of those), and 3b+2 is a single adult as above.
- The eldest child's age is weighted so that about 15% of receiving parents' families have a child aged 16-19;
  children are 0-19, relevant other children 0-12. Parents were 18-42 at the eldest child's birth; other adults
  are 18-70.
- Receiving parents keep the paying parent's surname in 35% of families, partners share it in 40% of couples;
  children take the paying parent's surname (55%), the receiving parent's (38%) or both, hyphenated (7%).

Income (of adults; percentages before role adjustments; tools/population_stats.py prints the measured mix)
- No income data at all: 12% (receiving parents 16%, paying parents 10%).
- Employed (PAYE only): about 62%. 1-4 employments since 2013-14 (RTI start), 6% with a second part-time job;
  10% of the employed have no live job at the reference date. Pay (annual gross at the start of the latest job):
  10% £3k-£15k, 70% £15k-£45k, 15% £45k-£80k, 4% £80k-£120k, 1% £120k-£150k (receiving parents a little lower:
  more part-time work); rises in 45% of years (2-8%, from 6 April or the 6th of another month), a few cuts.
  Net-pay pension contributions (3-10%) on 62% of jobs over £10k; benefits in kind (£600-£9,000) on 8% of jobs
  over £30k.
  Pay frequency: monthly 75%, weekly 15%, four-weekly 6%, fortnightly 4% (weekly more likely on low pay).
  Employers: 25% a few big national employers, 20% public bodies (councils, NHS trusts, colleges), 55% small
  and medium firms; 0.5% of paying parents are in the armed forces (Ministry of Defence: a DER, not a DEO).
- Self-employed with Self Assessment (trading profit; 12% via a partnership; 8% have a loss year, relieved
  against the next year's profit): 8% (paying parents 12%, receiving parents 6%); 40% had a PAYE job before.
- Employed and filing Self Assessment (property, savings, dividends; 35% with a side business): 5%.
- Company directors (a small PAYE salary and dividends on their return): 1.5%.
- Stale: 4% stopped having any income data in a tax year 2-8 years before the horizon year (most within 6).
- Pensioners (60+ at the reference date, 55% of them): an occupational pension paid through PAYE.
- Unearned income (only with a Self Assessment return): UK property 25%, savings interest 35%, UK dividends 20%,
  foreign dividends 3%, other 3% of filers; many of them £2,500 a year or more.
- Self Assessment returns arrive between 6 April and the following 31 January (10% later); 6% of filers never
  file their latest one or two years. Self Assessment wins over PAYE in the HMRC figure (hmrc.py).

Child Benefit (children whose terminal dates fall within the timeline; later ones are left to the rules)
- At the 31 August on or after the 16th birthday: 28% end (not in education), 10% end NOT_RECONFIRMED, 62% have
  approved education reported. Of those: 45% end at 18 (31 August; higher education 55%, left education 30%,
  work or apprenticeship 15%), 15% leave early (a quarter-end terminal date, or the day work starts), 5% claim
  benefits themselves, 25% end at 19 (31 August), 10% run to the day before the 20th birthday.
- Opted out of payment (HICBC): 9% of awards, drawn with the claim and not from the claimant's income, so a
  claim and its claimant's identity can be generated without the income (Generator.child_benefit_claimant).
- 1% of awards end early (CLAIM_ENDED); 4% of children join the award after birth.

DWP (CIS) facts (_awards.py; drawn from their own keyed stream, so no HMRC fact changed when they were added)
- Sex from the household's female flag (the same one forenames and titles follow). Previous surnames: 22% of women
  who took their partner's or the paying parent's surname keep their own as a previous surname, and 1.5% of women
  have one from an earlier marriage: about 4% of people.
- Income-related awards belong to the benefit unit (the person, or the couple with the partner in the household:
  one award listed under both, `claimant_nino` leading, 35% of couples with the partner position as claimant).
  Units with a Self Assessment registration, or with a job or pension ever paying over £20,000 while it lasts, get
  none. Units with nobody in work on the reference date claim in 64% (singles) / 70% (couples) of cases, from a few
  weeks after the last job ended (or at some point in the last 13 years): Universal Credit from June 2018, before
  that Income Support (lone parents), income-based JSA or income-related ESA (45% support group), 45% of them
  ended MIGRATED_TO_UNIVERSAL_CREDIT (July 2019 to March 2026) with UC from the next day. 12% of units in low-paid
  work claim UC with earnings. Out-of-work awards end the day before any job starts. UC: monthly, standard
  allowance £400.14 single 25+ (£316.98 under 25), £628.10 couple (£497.55), child elements, housing for 60%, 28%
  with third-party deductions, 35% with other deductions. Legacy: £90.50 a week single 25+ (£71.70 under 25,
  £142.25 couples, +£47.70 support component), fortnightly (IS weekly for 30%).
- Measured on the reference date (seed 2012, 29,412 people): 10.5% of working-age adults on an income-related
  award, 9.5% on UC (15% of them with earnings), 1% on IS / JSA(IB) / ESA(IR); target ranges 9-15% and 7-11%.
- Pension age (66, 66 and some months for births from 6 April 1960, 67 from March 1961): State Pension for 97%
  (four-weekly; £230.25 a week full for 50%, 35-99% of it for the rest); Pension Credit guarantee credit
  (standard minimum £227.10 single / £346.60 couple, higher by £40-£180 for 70%, less State Pension, pensions and
  earnings; 90% take-up) for both partners over pension age: about 19% of pensioners (target 15-25%).
- Contribution-based: 22% of people whose last job ended get new-style JSA (182 days at most) and 8% ESA(C)
  (£90.50 a week for a year in the work-related activity group, £138.20 without limit in the support group).
- Carer's Allowance 3.5% of adults (£83.30, not while earning over ~£10,000; ends at pension age); PIP (or DLA
  replaced by PIP 2015-2019) for 2.5-6% by age and work, four-weekly; Maternity Allowance 3% of mothers around
  the youngest child's birth; Widowed Parent's Allowance 2% of lone parents (bereaved before April 2017); AFCS 30%
  of those who left the armed forces (and 0.08% of others); war disablement pensions 0.17% of over-40s; IIDB 0.3%.
- 2.5% of live awards are suspended now (an open PaymentSuspension), 4.5% had a resolved suspension; 3% of live
  awards older than 2.5 years have a stale CIS record (`cis_updated_on` 2+ years back); otherwise CIS heard of a live
  award at the April uprating in the horizon year, of an ended one just after it ended. Award ids:
  `<nino>-B<n>` for a person's own awards, `<claimant nino>-M<n>` for the unit's income-related ones.

Data quirks (model.DataQuirk), of people: TWO_PAYS_ONE_MONTH 3% (monthly-paid), LATE_RTI_SUBMISSION 2%,
CEASED_WITHOUT_END_DATE 2% (an ended job's leaving date never reported), PENSION_AS_EMPLOYMENT 15% of pensioners,
CHILD_BENEFIT_END_BEFORE_START 1% of claimants. Deaths 0.1%, restricted records 0.1%.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import functools
import random
from bisect import bisect_right
from collections.abc import Sequence
from itertools import accumulate
from typing import TypeVar

from . import _awards, _data, ids
from .child_benefit import (
    add_years,
    last_day_before_twenty,
    quarter_end_on_or_after,
    sixteen_terminal_date,
)
from .household import ChildSeed, Household
from .model import (
    Address,
    Child,
    ChildBenefitAward,
    ChildBenefitEndReason,
    Claimant,
    DataQuirk,
    Employer,
    Employment,
    PayeIncome,
    PayFrequency,
    Person,
    SelfAssessment,
    TaxYearIncome,
    UnearnedIncome,
)
from .nino import CHILD_PREFIXES, PEOPLE_PREFIXES, NinoScheme, mix64
from .rti import paye_income_by_year
from .tax_year import RTI_START_YEAR, parse_tax_year, tax_year_label

MAX_CHILDREN_PER_CLAIM = 4
OPTED_OUT_SHARE = 0.09  # of Child Benefit awards (HICBC)
CHILD_SLOTS = 8  # CRN numbers per block: claimant position 0 uses 0-3, position 2 uses 4-7
FAMILY, OTHER = 0, 1
RECEIVING, PAYING, PARTNER, SINGLE, COUPLE_CLAIMANT, COUPLE_OTHER = range(6)

_U16 = 1 / 65536
_U53 = 1 / (1 << 53)
_RTI_START = dt.date(RTI_START_YEAR, 4, 6)
_LABELS = {year: tax_year_label(year) for year in range(1990, 2100)}

# Eldest child's age in whole years on the reference date (receiving parents, lone parents, couples): 15% are 16-19.
_ELDEST_AGE_WEIGHTS = (2, 3, 4, 5, 5.5, 6, 6.5, 7, 7, 7, 7, 7, 7, 6.5, 6, 5.5, 4.5, 4.5, 3.5, 2.5)
_ELDEST_CUM = tuple(accumulate(_ELDEST_AGE_WEIGHTS))
_ROC_AGE_WEIGHTS = (10, 10, 9, 9, 8, 8, 7, 6, 5, 4, 3, 2, 2)  # relevant other children: young
_ROC_CUM = tuple(accumulate(_ROC_AGE_WEIGHTS))


_T = TypeVar("_T")
# A weighted table ready for bisection: the values and their cumulative weights.
_Cumulative = tuple[tuple[_T, ...], tuple[float, ...]]


def _cumulative(pairs: Sequence[tuple[_T, float]]) -> _Cumulative[_T]:
    values = tuple(v for v, _ in pairs)
    return values, tuple(accumulate(w for _, w in pairs))


_FEMALE = _cumulative(_data.FEMALE_FORENAMES)
_MALE = _cumulative(_data.MALE_FORENAMES)
_CHILD_F = _cumulative(_data.CHILD_FEMALE)
_CHILD_M = _cumulative(_data.CHILD_MALE)
_SURNAMES = _cumulative(_data.SURNAMES)
_TOWNS = _cumulative(tuple((t, w) for t, w, _ in _data.POST_TOWNS))
_DISTRICTS = {t: d for t, _, d in _data.POST_TOWNS}


def _pick(table: _Cumulative[_T], u: float) -> _T:
    values, cum = table
    return values[bisect_right(cum, u * cum[-1])]


def _weighted_age(cum: tuple[float, ...], u: float) -> float:
    """A fractional age drawn from whole-year weights."""
    x = u * cum[-1]
    year = bisect_right(cum, x)
    below = cum[year - 1] if year else 0
    return year + (x - below) / (cum[year] - below)


class _Draws:
    """A cheap stream of 16-bit uniforms from an integer hash (for the few draws names and addresses need)."""

    __slots__ = ("h", "bits", "left")

    def __init__(self, key: int):
        self.h = key
        self.bits = 0
        self.left = 0

    def u(self) -> float:
        if not self.left:
            self.h = self.bits = mix64(self.h)
            self.left = 4
        self.left -= 1
        v = self.bits & 0xFFFF
        self.bits >>= 16
        return v * _U16


class Generator:
    """People and their children for one (seed, size, horizon)."""

    def __init__(self, seed: int, size: int, horizon: str = "2026-27"):
        self.seed = seed
        self.size = size
        self.horizon = horizon
        self.horizon_start = parse_tax_year(horizon)
        self.reference_date = dt.date(self.horizon_start, 7, 1)
        self.timeline_end = dt.date(self.horizon_start + 1, 4, 5)
        self.people = NinoScheme(PEOPLE_PREFIXES, mix64(seed * 8 + 1))
        self.children = NinoScheme(CHILD_PREFIXES, mix64(seed * 8 + 2))
        max_size = min(self.people.capacity, self.children.capacity // CHILD_SLOTS * 3)
        if not 0 <= size <= max_size:
            raise ValueError(f"population size must be 0..{max_size:,}")
        k = mix64(seed * 8 + 3)
        self._k_block, self._k_person, self._k_name, self._k_addr, self._k_employer, self._k_dwp = (
            mix64(k + i) for i in range(6)
        )
        self._ref = self.reference_date.toordinal()
        # Small per-instance caches (thread-safe): households are shared by three people, addresses by partners.
        self.household = functools.lru_cache(maxsize=4096)(self._household)
        self.employer = functools.lru_cache(maxsize=8192)(self._employer)
        self._cached_address = functools.lru_cache(maxsize=4096)(self._address)
        # People without their benefit awards: a couple's awards need both partners' facts.
        self.core = functools.lru_cache(maxsize=1024)(self._core)

    # -- identifiers -----------------------------------------------------------------------------------------------

    def nino(self, index: int) -> str:
        return self.people.encode(index)

    def index_of(self, nino: str) -> int | None:
        i = self.people.decode(nino)
        return i if i is not None and i < self.size else None

    def crn(self, block: int, number: int) -> str:
        return self.children.encode(block * CHILD_SLOTS + number)

    def child_index_of(self, crn: str) -> tuple[int, int] | None:
        """(block, child number) of a generated CRN within the population, else None."""
        i = self.children.decode(crn)
        if i is None:
            return None
        block, number = divmod(i, CHILD_SLOTS)
        return (block, number) if block * 3 < self.size else None

    # -- households ------------------------------------------------------------------------------------------------

    def _block_hash(self, block: int) -> int:
        return mix64(self._k_block ^ (block * 0x9E3779B97F4A7C15 & 0xFFFFFFFFFFFFFFFF))

    def _claim_flags(self, h: int) -> tuple[int, bool, bool, bool]:
        """kind, PP has a partner / couple (OTHER), position 0 claims, position 2 claims (and whether as partner)."""
        kind = FAMILY if (h & 0xFFFF) * _U16 < 0.90 else OTHER
        u_partner = ((h >> 16) & 0xFFFF) * _U16
        u_claim2 = ((h >> 32) & 0xFFFF) * _U16
        u_claim0 = (h >> 48) * _U16
        if kind == FAMILY:
            partnered = u_partner < 0.55
            claim2 = u_claim2 < (0.45 if partnered else 0.15)
            return kind, partnered, True, claim2
        couple = u_partner < 0.60
        return kind, couple, couple and u_claim0 < 0.5, u_claim2 < 0.15

    def _eldest_dob(self, h: int, slot: int, young: bool) -> int:
        u = (mix64(h ^ (slot + 1)) >> 11) * _U53
        age = _weighted_age(_ROC_CUM if young else _ELDEST_CUM, u)
        return self._ref - int(age * 365) - 1  # under 20 (or 13) on the reference date

    def eldest_dobs(self, block: int) -> tuple[int | None, int | None]:
        """The eldest child's date of birth (ordinal) of each possible claim in a block, cheaply (no skeleton)."""
        h = self._block_hash(block)
        kind, partnered, claim0, claim2 = self._claim_flags(h)
        e0 = self._eldest_dob(h, 0, False) if claim0 else None
        e2 = self._eldest_dob(h, 2, kind == FAMILY and partnered) if claim2 else None
        return e0, e2

    def _children(
        self,
        rng: random.Random,
        eldest: int,
        first_number: int,
        weights: tuple[int, ...] = (45, 35, 14, 6),
    ) -> tuple[ChildSeed, ...]:
        u = rng.random() * sum(weights)
        count = 1
        for w in weights:
            if u < w:
                break
            u -= w
            count += 1
        seeds = [ChildSeed(first_number, eldest, rng.random() < 0.49)]
        dob = eldest
        for n in range(1, min(count, MAX_CHILDREN_PER_CLAIM)):
            gap = 0 if rng.random() < 0.015 else int(365 * (1.1 + 4.5 * rng.random() ** 2))
            dob += gap
            if dob > self._ref - 7:
                break
            seeds.append(ChildSeed(first_number + n, dob, rng.random() < 0.49))
        return tuple(seeds)

    def _adult_dob(self, rng: random.Random, low: float = 18.0, high: float = 70.0) -> int:
        # Ages skew to 25-55: the mean of two uniforms.
        age = low + (high - low) * (rng.random() + rng.random()) / 2
        return self._ref - int(age * 365.2425)

    def _household(self, block: int) -> Household:
        h = self._block_hash(block)
        kind, partnered, claim0, claim2 = self._claim_flags(h)
        rng = random.Random(h)
        ref = self._ref
        young2 = kind == FAMILY and partnered
        claims: list[tuple[ChildSeed, ...]] = [(), (), ()]
        if claim0:
            claims[0] = self._children(rng, self._eldest_dob(h, 0, False), 0)
        if claim2:
            claims[2] = self._children(
                rng, self._eldest_dob(h, 2, young2), 4, (60, 30, 10) if young2 else (50, 35, 15)
            )
        if kind == FAMILY:
            rp_female = rng.random() < 0.88
            female = (rp_female, not rp_female, rp_female if rng.random() < 0.97 else not rp_female)
            eldest = claims[0][0].date_of_birth
            rp_dob = eldest - int((18 + 24 * (rng.random() + rng.random()) / 2) * 365.2425)
            pp_dob = rp_dob - int(
                (2 + 4 * (rng.random() + rng.random() + rng.random() - 1.5)) * 365.2425
            )
            pp_dob = min(pp_dob, eldest - 17 * 365, ref - 19 * 365)
            pp_dob = max(pp_dob, ref - int(69.5 * 365.2425))
            if partnered:
                p_dob = pp_dob + int(10 * (rng.random() - 0.5) * 365.2425)
                if claims[2]:
                    p_dob = min(p_dob, claims[2][0].date_of_birth - 17 * 365)
                p_dob = min(max(p_dob, ref - int(69.5 * 365.2425)), ref - 19 * 365)
                roles = (RECEIVING, PAYING, PARTNER)
                partner = (-1, 2, 1)
            else:
                p_dob = self._single_dob(rng, claims[2])
                roles = (RECEIVING, PAYING, SINGLE)
                partner = (-1, -1, -1)
            return Household(
                kind,
                roles,
                female,
                (rp_dob, pp_dob, p_dob),
                partner,
                (1, 0, -1),
                (claims[0], claims[1], claims[2]),
            )
        f0 = rng.random() < 0.5
        if partnered:
            d0 = (
                claims[0][0].date_of_birth - int((20 + 20 * rng.random()) * 365.2425)
                if claims[0]
                else self._adult_dob(rng)
            )
            d0 = min(max(d0, ref - int(69.5 * 365.2425)), ref - 19 * 365)
            d1 = min(
                max(d0 + int(8 * (rng.random() - 0.5) * 365.2425), ref - int(69.5 * 365.2425)),
                ref - 19 * 365,
            )
            female = (f0, not f0 if rng.random() < 0.97 else f0, rng.random() < 0.5)
            roles = (COUPLE_CLAIMANT, COUPLE_OTHER, SINGLE)
            partner = (1, 0, -1)
        else:
            d0, d1 = self._adult_dob(rng), self._adult_dob(rng)
            female = (f0, rng.random() < 0.5, rng.random() < 0.5)
            roles = (SINGLE, SINGLE, SINGLE)
            partner = (-1, -1, -1)
        return Household(
            kind,
            roles,
            female,
            (d0, d1, self._single_dob(rng, claims[2])),
            partner,
            (-1, -1, -1),
            (claims[0], claims[1], claims[2]),
        )

    def _single_dob(self, rng: random.Random, claim: tuple[ChildSeed, ...]) -> int:
        if claim:
            return min(
                claim[0].date_of_birth - int((18 + 22 * rng.random()) * 365.2425),
                self._ref - 19 * 365,
            )
        return self._adult_dob(rng)

    # -- names and addresses ---------------------------------------------------------------------------------------

    def _own_surname(self, index: int) -> str:
        d = _Draws(self._k_name ^ (index << 1))
        surname = _pick(_SURNAMES, d.u())
        if d.u() < 0.02:
            other = _pick(_SURNAMES, d.u())
            if other != surname and " " not in other + surname:
                surname = f"{surname}-{other}"
        return surname

    def surname(self, index: int, hh: Household | None = None) -> str:
        block, pos = divmod(index, 3)
        hh = hh or self.household(block)
        u = (mix64(self._k_name ^ (index << 1 | 1)) >> 11) * _U53
        shares = {RECEIVING: 0.35, PARTNER: 0.40, COUPLE_CLAIMANT: 0.5}.get(hh.roles[pos], 0.0)
        if u < shares:
            return self._own_surname(
                block * 3 + hh.partner[pos] if hh.partner[pos] >= 0 else block * 3 + 1
            )
        return self._own_surname(index)

    def _forenames(self, index: int, female: bool) -> tuple[str, str]:
        d = _Draws(self._k_name ^ (index * 0x632BE59BD9B4E019 & 0xFFFFFFFFFFFFFFFF))
        table = _FEMALE if female else _MALE
        first = _pick(table, d.u())
        if d.u() < 0.30:
            middle = _pick(table, d.u())
            if middle != first:
                first = f"{first} {middle}"
        u = d.u()
        if u < 0.015:
            title = "Dr"
        elif u < 0.025:
            title = "Mx"
        elif not female:
            title = "Mr"
        else:
            title = "Mrs" if u < 0.42 else "Ms" if u < 0.72 else "Miss"
        return title, first

    def address(self, key: int) -> Address:
        """A synthetic address for any key: people's homes use their household's key, employers keys from 2**40;
        other systems (a credit file's earlier and forward addresses) use keys from 2**48."""
        return self._cached_address(key)

    def _address(self, key: int) -> Address:
        d = _Draws(self._k_addr ^ key)
        town = _pick(_TOWNS, d.u())
        districts = _DISTRICTS[town]
        district = districts[int(d.u() * len(districts))]
        letters = _data.POSTCODE_INWARD_LETTERS
        x = int(d.u() * 10 * len(letters) * len(letters))
        inward = f"{x % 10}{letters[x // 10 % len(letters)]}{letters[x // 10 // len(letters)]}"
        street = _data.STREETS[int(d.u() * len(_data.STREETS))]
        number = 1 + int(d.u() ** 2 * 180)
        u = d.u()
        lines: tuple[str, ...]
        if u < 0.15:
            flat = 1 + int(d.u() * 24)
            lines = (
                f"{_data.FLAT_WORDS[flat % len(_data.FLAT_WORDS)]} {flat}",
                f"{number} {street}",
            )
        elif u < 0.19:
            lines = (_data.HOUSE_NAMES[int(d.u() * len(_data.HOUSE_NAMES))], street)
        else:
            lines = (f"{number} {street}",)
        return Address(lines, town, f"{district} {inward}")

    def _address_key(self, block: int, pos: int, hh: Household) -> int:
        if hh.partner[pos] >= 0:
            pos = min(pos, hh.partner[pos])
        return block * 3 + pos

    # -- employers -------------------------------------------------------------------------------------------------

    def _employer(self, k: int) -> Employer:
        d = _Draws(self._k_employer ^ (k * 0xD6E8FEB86659FD93 & 0xFFFFFFFFFFFFFFFF))
        address = self._address((1 << 40) + k)  # not through the people's address cache
        office = _data.TAX_OFFICES[int(d.u() * len(_data.TAX_OFFICES))]
        letters = "ABCDEFGHJKLMNPRSTVWXYZ"
        ref = (
            f"{letters[k % len(letters)]}{k // len(letters) % 100000:05d}"
            f"{letters[int(d.u() * len(letters))]}{letters[int(d.u() * len(letters))]}"
        )
        prefix, width = _data.DRAMA_NUMBERS[int(d.u() * len(_data.DRAMA_NUMBERS))]
        phone = f"{prefix}{int(d.u() * 10**width):0{width}d}"
        town = address.post_town.title()
        armed = False
        if k == 0:
            name, armed, office = "Ministry of Defence", True, "120"
        elif k < 100:
            name = _data.BIG_EMPLOYERS[
                k % len(_data.BIG_EMPLOYERS)
            ]  # big employers run several PAYE schemes
        elif k < 2000:
            name = _data.PUBLIC_EMPLOYERS[k % len(_data.PUBLIC_EMPLOYERS)].format(town=town)
        elif k < 3000:
            name = _data.PENSION_PAYERS[k % len(_data.PENSION_PAYERS)].format(town=town)
        else:
            word = _data.EMPLOYER_WORDS[int(d.u() * len(_data.EMPLOYER_WORDS))]
            u = d.u()
            if u < 0.3:
                word = self._own_surname(-k)
                if d.u() < 0.4:
                    word = f"{word} & {self._own_surname(-k - 7)}"
            trade = _data.EMPLOYER_TRADES[int(d.u() * len(_data.EMPLOYER_TRADES))]
            name = f"{word} {trade} {_data.EMPLOYER_SUFFIXES[int(d.u() * len(_data.EMPLOYER_SUFFIXES))]}"
        return Employer(name, address, phone, f"{office}/{ref}", armed_forces=armed)

    def _pick_employer(self, rng: random.Random, role: int) -> int:
        if role == PAYING and rng.random() < 0.005:
            return 0
        u = rng.random()
        if u < 0.25:
            return 1 + int(rng.random() ** 2 * 99)
        if u < 0.45:
            return 100 + int(rng.random() * 1900)
        return 3000 + int(rng.random() ** 1.5 * 150_000)

    # -- Child Benefit claims (independent of the claimant's income, so children come cheap) ------------------

    def death_and_restriction(self, index: int) -> tuple[dt.date | None, bool]:
        h = mix64(self._k_person ^ (index * 0x2545F4914F6CDD1D & 0xFFFFFFFFFFFFFFFF))
        u = (h & 0xFFFFFF) / (1 << 24)
        if u < 0.001:
            span = (self.reference_date - dt.date(2014, 1, 1)).days
            return self.reference_date - dt.timedelta(days=(h >> 24) % span), False
        return None, u < 0.002

    def claim(
        self, block: int, pos: int, hh: Household | None = None
    ) -> tuple[tuple[Child, ...], dt.date | None, bool, bool] | None:
        """The children on the Child Benefit award of the person at (block, position), the award's end date,
        whether one child's record is dirty (CHILD_BENEFIT_END_BEFORE_START) and whether the claimant opted out of
        payment; None when that person claims none."""
        hh = hh or self.household(block)
        seeds = hh.claims[pos]
        if not seeds:
            return None
        index = block * 3 + pos
        rng = random.Random(mix64(self._k_block ^ ~index))
        r = rng.random
        claimant_surname = self.surname(index, hh)
        role = hh.roles[pos]
        u = r()
        if role == RECEIVING:
            pp = self.surname(block * 3 + 1, hh)
            surname = (
                pp
                if u < 0.55
                else claimant_surname
                if u < 0.93 or pp == claimant_surname
                else f"{claimant_surname}-{pp}"
                if " " not in claimant_surname + pp
                else claimant_surname
            )
        elif role in (PARTNER, COUPLE_CLAIMANT):
            surname = self.surname(block * 3 + hh.partner[pos], hh) if u < 0.6 else claimant_surname
        else:
            surname = claimant_surname
        children = []
        ref = self.reference_date
        for s in seeds:
            dob = dt.date.fromordinal(s.date_of_birth)
            first = _pick(_CHILD_F if s.female else _CHILD_M, r())
            if r() < 0.15:
                middle = _pick(_CHILD_F if s.female else _CHILD_M, r())
                if middle != first:
                    first = f"{first} {middle}"
            start = dob + dt.timedelta(days=int(r() * 20))
            if r() < 0.04:
                start = min(dob + _days(1 + 7 * r()), ref)
            end, reason, reported, told = self._child_end(rng, dob)
            children.append(
                Child(
                    first,
                    surname,
                    dob,
                    self.crn(block, s.number),
                    start,
                    end,
                    reason,
                    reported,
                    told,
                )
            )
        award_start = min(c.relationship_start_date for c in children)
        death = self.death_and_restriction(index)[0]
        award_end = None
        if death is not None:
            award_end = death
        elif r() < 0.01:
            award_end = award_start + dt.timedelta(
                days=int(r() * (self.timeline_end - award_start).days)
            )
        if award_end is not None:
            children = [
                c
                if c.end_date is not None
                and c.end_date <= award_end
                or c.relationship_start_date > award_end
                else dataclasses.replace(
                    c, end_date=award_end, end_reason=ChildBenefitEndReason.CLAIM_ENDED
                )
                for c in children
            ]
        elif all(c.end_date is not None for c in children):
            award_end = max(c.end_date for c in children if c.end_date is not None)
        dirty = r() < 0.01
        if dirty:
            i = int(r() * len(children))
            c = children[i]
            children[i] = dataclasses.replace(
                c,
                end_date=c.relationship_start_date - dt.timedelta(days=1 + int(r() * 400)),
                end_reason=ChildBenefitEndReason.CLAIM_ENDED,
            )
        # The claim's last draw, so no earlier one moved when it stopped depending on the claimant's income.
        elected = r() < OPTED_OUT_SHARE
        return tuple(children), award_end, dirty, elected

    def child_benefit_award(
        self, index: int, claim: tuple[tuple[Child, ...], dt.date | None, bool, bool]
    ) -> ChildBenefitAward:
        children, award_end, _dirty, elected = claim
        ref = (index * 48_271 + 12_345 + self.seed * 7) % 100_000_000  # a bijection on indexes
        letters = "ABCDEFGHJKLMNPRSTUVWXYZ"
        h = mix64(index ^ self.seed)
        reference = f"CHB{ref:08d}{letters[h % 23]}{letters[h // 23 % 23]}"
        award_start = min(c.relationship_start_date for c in children)
        return ChildBenefitAward(reference, award_start, award_end, elected, children)

    def child_benefit_claimant(self, index: int) -> Claimant:
        """The person at `index` as a Child Benefit enquiry sees them, equal to the same fields of `person(index)`
        but without generating their income (most of a person's cost)."""
        if not 0 <= index < self.size:
            raise IndexError(f"index {index} outside the population of {self.size:,}")
        block, pos = divmod(index, 3)
        hh = self.household(block)
        claim = self.claim(block, pos, hh)
        death, restricted = self.death_and_restriction(index)
        return Claimant(
            self.nino(index),
            self._forenames(index, hh.female[pos])[1],
            self.surname(index, hh),
            dt.date.fromordinal(hh.dobs[pos]),
            None if claim is None else self.child_benefit_award(index, claim),
            death,
            restricted,
        )

    def _child_end(
        self, rng: random.Random, dob: dt.date
    ) -> tuple[dt.date | None, ChildBenefitEndReason | None, bool, dt.date | None]:
        """(recorded end date, reason, approved education reported, when a future end was reported) as of the end
        of the timeline."""
        r = rng.random
        horizon = self.timeline_end
        t16 = sixteen_terminal_date(dob)
        if t16 > horizon:
            return None, None, False, None
        u = r()
        if u < 0.0003:
            died = dob + dt.timedelta(days=int(r() * (horizon - dob).days))
            return died, ChildBenefitEndReason.CHILD_DIED, False, None
        if u < 0.28:
            return t16, ChildBenefitEndReason.REACHED_16_NOT_IN_EDUCATION, False, None
        if u < 0.38:
            return t16, ChildBenefitEndReason.NOT_RECONFIRMED, False, None
        v = r()
        reason: ChildBenefitEndReason
        told = None
        if v < 0.45:
            w = r()
            end = dt.date(t16.year + 2, 8, 31)
            if w < 0.55:
                reason = ChildBenefitEndReason.STARTED_HIGHER_EDUCATION
            elif w < 0.85:
                reason = ChildBenefitEndReason.LEFT_APPROVED_EDUCATION
            else:
                reason = ChildBenefitEndReason.STARTED_WORK_OR_APPRENTICESHIP
                end = dt.date(t16.year + 2, 7, 1) + dt.timedelta(days=int(r() * 75))
        elif v < 0.60:
            left = t16 + dt.timedelta(days=30 + int(r() * 670))
            if (
                r() < 0.65
            ):  # reported soon after leaving; entitlement runs on to the quarter-end terminal date
                end, reason = (
                    quarter_end_on_or_after(left),
                    ChildBenefitEndReason.LEFT_APPROVED_EDUCATION,
                )
                told = min(end, left + dt.timedelta(days=int(r() * 21)))
            else:
                end, reason = left, ChildBenefitEndReason.STARTED_WORK_OR_APPRENTICESHIP
        elif v < 0.65:
            end = add_years(dob, 18) + dt.timedelta(days=int(r() * 300))
            reason = ChildBenefitEndReason.OWN_BENEFIT_CLAIM
        elif v < 0.90:
            end, reason = (
                dt.date(t16.year + 3, 8, 31),
                ChildBenefitEndReason.LEFT_APPROVED_EDUCATION,
            )
        else:
            end, reason = last_day_before_twenty(dob), ChildBenefitEndReason.REACHED_20
        end = min(end, last_day_before_twenty(dob))
        if end > horizon:
            return None, None, True, None
        return end, reason, True, told

    # -- people ----------------------------------------------------------------------------------------------------

    def person(self, index: int) -> Person:
        if not 0 <= index < self.size:
            raise IndexError(f"index {index} outside the population of {self.size:,}")
        core = self.core(index)
        block, pos = divmod(index, 3)
        hh = self.household(block)
        awards = _awards.individual(self, index, core, hh)
        partner = hh.partner[pos]
        if partner < 0 or block * 3 + partner >= self.size:
            awards.extend(_awards.income_related(self, block, hh, [(index, core)]))
        elif _awards.might_claim(self, core, min(index, block * 3 + partner)):
            other = block * 3 + partner
            members = [(index, core), (other, self.core(other))]
            members.sort(key=lambda m: m[0])
            awards.extend(_awards.income_related(self, block, hh, members))
        if not awards:
            return core
        awards.sort(key=lambda a: (a.start_date, ids.legacy(a.award_id)))
        return dataclasses.replace(core, benefit_awards=tuple(awards))

    def _core(self, index: int) -> Person:
        block, pos = divmod(index, 3)
        return _PersonBuilder(self, index, block, pos, self.household(block)).build()

    def previous_surnames(self, index: int, female: bool, surname: str) -> tuple[str, ...]:
        """Earlier surnames CIS holds for some women: the own surname of a woman who took her partner's (22% of
        them), or a surname from an earlier marriage (1.5% of women)."""
        if not female:
            return ()
        u = (mix64(self._k_dwp ^ (index << 2 | 1)) >> 11) * _U53
        if u < 0.22:
            own = self._own_surname(index)
            return (own,) if own != surname else ()
        if u > 0.985:
            earlier = self._own_surname(index + (1 << 40))
            return (earlier,) if earlier != surname else ()
        return ()

    def link(self, block: int, pos: int) -> str:
        i = block * 3 + pos
        return self.nino(i) if pos >= 0 and i < self.size else ""


_FREQ_LOW = (
    (PayFrequency.MONTHLY, 56),
    (PayFrequency.WEEKLY, 30),
    (PayFrequency.FOUR_WEEKLY, 8),
    (PayFrequency.FORTNIGHTLY, 6),
)
_FREQ_HIGH = (
    (PayFrequency.MONTHLY, 84),
    (PayFrequency.WEEKLY, 8),
    (PayFrequency.FOUR_WEEKLY, 5),
    (PayFrequency.FORTNIGHTLY, 3),
)

NONE, EMPLOYED, SELF_EMPLOYED, EMPLOYED_SA, DIRECTOR, STALE, PENSIONER = range(7)


def _choose(pairs: Sequence[tuple[_T, float]], u: float) -> _T:
    total = sum(w for _, w in pairs)
    x = u * total
    for v, w in pairs:
        if x < w:
            return v
        x -= w
    return pairs[-1][0]


def _pounds(p: float) -> int:
    """Whole pounds, in pence."""
    return int(p) * 100


def _gross_pay(u: float, v: float) -> float:
    if u < 0.10:
        return 3000 + 12000 * v
    if u < 0.80:
        return 15000 + 30000 * v**1.3
    if u < 0.95:
        return 45000 + 35000 * v**1.5
    if u < 0.99:
        return 80000 + 40000 * v
    return 120000 + 30000 * v


def _days(years: float) -> dt.timedelta:
    return dt.timedelta(days=int(years * 365.2425))


class _PersonBuilder:
    """Builds one person; the draws come from one Random seeded by (seed, index), in a fixed order."""

    def __init__(self, g: Generator, index: int, block: int, pos: int, hh: Household):
        self.g, self.index, self.block, self.pos, self.hh = g, index, block, pos, hh
        self.rng = random.Random(mix64(g._k_person ^ index))
        self.nino = g.nino(index)
        self.role = hh.roles[pos]
        self.dob = dt.date.fromordinal(hh.dobs[pos])
        self.ref = g.reference_date
        self.quirks: set[DataQuirk] = set()
        self.employments: list[Employment] = []
        self.sa: dict[int, tuple[SelfAssessment, UnearnedIncome | None]] = {}

    def build(self) -> Person:
        g, hh, r = self.g, self.hh, self.rng.random
        female = hh.female[self.pos]
        title, forenames = g._forenames(self.index, female)
        surname = g.surname(self.index, hh)
        death, restricted = g.death_and_restriction(self.index)
        if r() < 0.02:
            self.quirks.add(DataQuirk.LATE_RTI_SUBMISSION)
        if r() < 0.02:
            self.quirks.add(DataQuirk.CEASED_WITHOUT_END_DATE)
        two_pays = r() < 0.03
        profile = self._profile()
        utr = ""
        self_employed = False
        if profile != NONE:
            self_employed = self._income(profile, two_pays)
            if self.sa:
                x = (
                    self.index * 7_919_317 + g.seed * 104_729
                ) % 9_000_000_000  # a bijection on indexes
                utr = f"{1 + x // 1_000_000_000}{x % 1_000_000_000:09d}"
        if death is not None:
            self._die(death)
        tax_years = self._tax_years()
        award = self._child_benefit()
        return Person(
            nino=self.nino,
            title=title,
            forenames=forenames,
            surname=surname,
            date_of_birth=self.dob,
            address=g.address(g._address_key(self.block, self.pos, hh)),
            partner_nino=g.link(self.block, hh.partner[self.pos]),
            other_parent_nino=g.link(self.block, hh.other_parent[self.pos]),
            self_assessment_utr=utr,
            self_employed=self_employed and death is None,
            employments=tuple(self.employments),
            tax_years=tax_years,
            child_benefit=award,
            date_of_death=death,
            restricted=restricted,
            quirks=frozenset(self.quirks),
            generated=True,
            sex="F" if female else "M",
            previous_surnames=g.previous_surnames(self.index, female, surname),
        )

    # -- income ----------------------------------------------------------------------------------------------------

    def _profile(self) -> int:
        r = self.rng.random
        age = (self.ref - self.dob).days / 365.2425
        u = r()
        if age >= 60 and u < 0.55:
            return PENSIONER
        u = r()
        none = {RECEIVING: 0.16, PAYING: 0.10}.get(self.role, 0.12)
        se = {RECEIVING: 0.06, PAYING: 0.12}.get(self.role, 0.08)
        for profile, share in (
            (NONE, none),
            (STALE, 0.04),
            (SELF_EMPLOYED, se),
            (EMPLOYED_SA, 0.05),
            (DIRECTOR, 0.015),
        ):
            if u < share:
                return profile
            u -= share
        return EMPLOYED

    def _income(self, profile: int, two_pays: bool) -> bool:
        """Fills employments and Self Assessment; True when self-employed at the end of the timeline."""
        r = self.rng.random
        g = self.g
        sixteen = add_years(self.dob, 16)
        earliest = max(sixteen, dt.date(1995, 1, 1))
        end = g.timeline_end
        stop: dt.date | None = None  # everything ends by this date (stale data)
        if profile == STALE:
            years_ago = _choose(((2, 25), (3, 20), (4, 15), (5, 12), (6, 10), (7, 10), (8, 8)), r())
            y = g.horizon_start - years_ago
            stop = dt.date(y, 4, 6) + dt.timedelta(days=int(r() * 364))
            profile = SELF_EMPLOYED if r() < 0.2 else EMPLOYED
        if profile == PENSIONER:
            retired = add_years(self.dob, 58 + int(r() * 9))
            if retired > self.ref:
                retired = self.ref - dt.timedelta(days=int(r() * 300))
            if retired > _RTI_START and r() < 0.6:
                self._jobs(earliest, retired, r(), two_pays, live=False)
            self._pension(max(retired, earliest), two_pays)
            if r() < 0.10:
                self._self_assessment(max(retired, _RTI_START), stop, trading=False)
            return False
        if profile == SELF_EMPLOYED:
            since = self.ref - _days(0.5 + 19.5 * r() ** 1.5)
            since = max(since, add_years(self.dob, 18))
            if since > _RTI_START + dt.timedelta(days=200) and r() < 0.4:
                self._jobs(earliest, since - dt.timedelta(days=1), r(), two_pays, live=False)
            self._self_assessment(since, stop, trading=True)
            return stop is None
        if profile == DIRECTOR:
            start = max(self.ref - _days(1 + 12 * r()), add_years(self.dob, 18))
            salary = _pounds(9100 + 3470 * r())
            self._add_employment(
                start,
                None,
                salary,
                PayFrequency.MONTHLY,
                3000 + int(r() * 400_000),
                two_pays,
                pension=0,
                bik=0,
                rises=False,
            )
            self._self_assessment(start, stop, trading=False, director=True)
            return False
        u_level = r()
        if self.role == RECEIVING:
            u_level *= 0.85  # receiving parents work part-time more often
        self._jobs(earliest, stop or end, u_level, two_pays, live=stop is None and r() < 0.90)
        if profile == EMPLOYED_SA:
            since = max(self.ref - _days(1 + 14 * r()), add_years(self.dob, 18))
            self._self_assessment(since, stop, trading=r() < 0.35)
        return False

    def _jobs(
        self, earliest: dt.date, until: dt.date, u_level: float, two_pays: bool, *, live: bool
    ) -> None:
        """A working history ending at `until` (live: still in the last job), back to 2013-14 at most."""
        r = self.rng.random
        if until <= earliest + dt.timedelta(days=60):
            return
        gross = _gross_pay(u_level, r())
        if live:
            last_end = None
            start = self.ref - _days(0.1 + 14 * r() ** 1.6)
        else:
            last_end = (
                until - dt.timedelta(days=int(r() * 500)) if until >= self.g.timeline_end else until
            )
            start = last_end - _days(0.3 + 8 * r() ** 1.4)
        start = max(start, earliest)
        jobs = [(start, last_end, gross)]
        while start > _RTI_START and len(jobs) < 4 and r() < 0.8:
            gap = 0 if r() < 0.4 else int(r() * 150)
            prev_end = start - dt.timedelta(days=gap + 1)
            prev_start = max(prev_end - _days(0.5 + 6.5 * r()), earliest)
            if prev_end - prev_start < dt.timedelta(days=40):
                break
            gross *= 0.78 + 0.2 * r()
            jobs.append((prev_start, prev_end, gross))
            start = prev_start
        if live and r() < 0.06:  # a second, part-time job
            s2 = max(self.ref - _days(0.2 + 5 * r()), earliest)
            e2 = None if r() < 0.6 else min(s2 + _days(0.2 + 3 * r()), self.g.timeline_end)
            jobs.append((s2, e2, 2500 + 9000 * r()))
        jobs.sort(key=lambda j: j[0])
        for s, e, gp in jobs:
            if e is not None and e < _RTI_START:
                continue
            pension = _pounds(gp * (0.03 + 0.07 * r() ** 2)) if gp > 10_000 and r() < 0.62 else 0
            bik = _pounds(600 + 8400 * r() ** 2) if gp > 30_000 and r() < 0.08 else 0
            freq = _choose(_FREQ_LOW if gp < 20_000 else _FREQ_HIGH, r())
            self._add_employment(
                s,
                e,
                _pounds(gp) - pension,
                freq,
                self.g._pick_employer(self.rng, self.role),
                two_pays,
                pension=pension,
                bik=bik,
                rises=True,
            )
        if DataQuirk.CEASED_WITHOUT_END_DATE in self.quirks:
            ended = [i for i, e in enumerate(self.employments) if e.end_date is not None]
            if ended:
                i = ended[-1]
                self.employments[i] = dataclasses.replace(
                    self.employments[i], leaving_date_unreported=True
                )
            else:
                self.quirks.discard(DataQuirk.CEASED_WITHOUT_END_DATE)

    def _add_employment(
        self,
        start: dt.date,
        end: dt.date | None,
        annual: int,
        freq: PayFrequency,
        employer: int,
        two_pays: bool,
        *,
        pension: int,
        bik: int,
        rises: bool,
        occupational: bool = False,
    ) -> None:
        r = self.rng.random
        g = self.g
        n = len(self.employments) + 1
        changes = []
        if rises:
            last = min(end or g.timeline_end, g.timeline_end)
            pay = annual
            for year in range(max(start.year + 1, RTI_START_YEAR), last.year + 1):
                u = r()
                if u < 0.45:
                    pay = int(pay * (1.02 + 0.06 * r())) // 100 * 100
                elif u < 0.457:
                    pay = int(pay * (0.75 + 0.15 * r())) // 100 * 100
                else:
                    continue
                since = dt.date(
                    year, 4 if r() < 0.75 else 1 + int(r() * 12), 6
                )  # the 6th: see rti.paye_income_by_year
                if start < since <= last:
                    changes.append((since, pay))
            changes.sort()
        if two_pays and freq is PayFrequency.MONTHLY:
            self.quirks.add(DataQuirk.TWO_PAYS_ONE_MONTH)
        x = mix64(self.index * 31 + n)
        style = x >> 60
        payroll = (
            f"{x % 10_000_000:07d}"
            if style < 7
            else f"EMP{x % 100_000:05d}"
            if style < 11
            else f"P{x % 1_000_000:06d}"
            if style < 14
            else f"{chr(65 + x % 26)}{x % 10_000:04d}/{n}"
        )
        self.employments.append(
            Employment(
                employment_id=ids.employment_id(self.nino, n),
                employer=g.employer(employer),
                payroll_id=payroll,
                start_date=start,
                end_date=end,
                pay_frequency=freq,
                annual_taxable_pay_pence=annual,
                annual_employee_pension_contributions_pence=pension,
                annual_benefits_in_kind_pence=bik,
                occupational_pension=occupational,
                pay_changes=tuple(changes),
            )
        )

    def _pension(self, since: dt.date, two_pays: bool) -> None:
        r = self.rng.random
        annual = _pounds(2000 + 23000 * r() ** 2)
        flagged = r() >= 0.15
        if not flagged:
            self.quirks.add(DataQuirk.PENSION_AS_EMPLOYMENT)
        self._add_employment(
            since,
            None,
            annual,
            PayFrequency.MONTHLY,
            2000 + int(r() * 1000),
            two_pays,
            pension=0,
            bik=0,
            rises=True,
            occupational=flagged,
        )

    def _received(self, year: int) -> dt.date:
        """When the return for the tax year starting in `year` reached HMRC."""
        u = self.rng.random()
        after = dt.date(year + 1, 4, 6)
        if u < 0.10:
            return after + dt.timedelta(days=int(self.rng.random() * 115))
        if u < 0.35:
            return dt.date(year + 1, 8, 1) + dt.timedelta(days=int(self.rng.random() * 92))
        if u < 0.90:
            v = self.rng.random()
            return dt.date(year + 2, 1, 31) - dt.timedelta(days=int(v * v * 92))
        return dt.date(year + 2, 2, 1) + dt.timedelta(days=int(self.rng.random() * 300))

    def _self_assessment(
        self, since: dt.date, stop: dt.date | None, *, trading: bool, director: bool = False
    ) -> None:
        r = self.rng.random
        g = self.g
        first = max(
            RTI_START_YEAR, since.year if since >= dt.date(since.year, 4, 6) else since.year - 1
        )
        last = g.horizon_start
        if stop is not None:
            last = stop.year if stop >= dt.date(stop.year, 4, 6) else stop.year - 1
        if r() < 0.06:
            last = min(last, g.horizon_start - 1 - int(r() * 2))
        partnership = trading and r() < 0.12
        u = r()
        base = (
            0
            if not trading
            else 2000 + 6000 * r()
            if u < 0.10
            else 8000 + 37000 * r() ** 1.3
            if u < 0.87
            else 45000 + 75000 * r()
        )
        property_, interest, dividends = r() < 0.25, r() < 0.35, director or r() < 0.20
        foreign, other = r() < 0.03, r() < 0.03
        levels = (
            1000 + 17000 * r() ** 2,
            20 + 3980 * r() ** 3,
            (10000 + 50000 * r()) if director else 100 + 19900 * r() ** 2.5,
            50 + 3000 * r(),
            200 + 5000 * r(),
        )
        loss_brought = 0
        for year in range(first, last + 1):
            wobble = 0.8 + 0.4 * r()
            profit = loss = relief = 0
            if trading:
                if r() < 0.06:
                    loss = _pounds(500 + 8000 * r())
                else:
                    profit = _pounds(base * wobble)
                    relief = min(loss_brought, profit)
                    loss_brought -= relief
            loss_brought += loss
            flags = (property_, interest, dividends, foreign, other)
            amounts = [
                _pounds(level * (0.85 + 0.3 * r())) if flag else 0
                for flag, level in zip(flags, levels, strict=True)
            ]
            unearned = UnearnedIncome(*amounts) if any(amounts) else None
            sa = SelfAssessment(
                return_received_date=self._received(year),
                self_employment_profit_pence=0 if partnership else profit,
                partnership_profit_pence=profit if partnership else 0,
                trade_loss_relief_pence=relief,
            )
            self.sa[year] = (sa, unearned)

    def _die(self, death: dt.date) -> None:
        jobs = []
        for e in self.employments:
            if e.start_date >= death:
                continue
            if e.end_date is None or e.end_date > death:
                e = dataclasses.replace(
                    e, end_date=death, pay_changes=tuple(c for c in e.pay_changes if c[0] <= death)
                )
            jobs.append(e)
        self.employments = jobs
        last = death.year if death >= dt.date(death.year, 4, 6) else death.year - 1
        self.sa = {y: v for y, v in self.sa.items() if y <= last}

    def _tax_years(self) -> tuple[TaxYearIncome, ...]:
        g = self.g
        quirks = frozenset(self.quirks)
        jobs = self.employments
        if len(jobs) == 1 and not self.sa:
            return tuple(
                TaxYearIncome(_LABELS[year], (p,))
                for year, p in paye_income_by_year(
                    jobs[0], RTI_START_YEAR, g.horizon_start, quirks=quirks
                ).items()
            )
        by_year: dict[int, list[PayeIncome]] = {}
        for e in jobs:
            for year, p in paye_income_by_year(
                e, RTI_START_YEAR, g.horizon_start, quirks=quirks
            ).items():
                if year in by_year:
                    by_year[year].append(p)
                else:
                    by_year[year] = [p]
        if not self.sa:
            return tuple(
                TaxYearIncome(_LABELS[year], tuple(by_year[year])) for year in sorted(by_year)
            )
        pensions = {e.employment_id for e in jobs if e.occupational_pension}
        out = []
        for year in sorted(by_year.keys() | self.sa.keys()):
            paye = by_year.get(year, ())
            filed = self.sa.get(year)
            if filed is None:
                out.append(TaxYearIncome(_LABELS[year], tuple(paye)))
                continue
            sa, unearned = filed
            emp = pen = bik = 0
            for p in paye:
                if p.employment_id in pensions:
                    pen += p.taxable_pay_pence
                else:
                    emp += p.taxable_pay_pence
                bik += p.taxable_benefits_pence
            if emp or pen or bik:
                sa = SelfAssessment(
                    sa.return_received_date,
                    emp,
                    sa.self_employment_profit_pence,
                    sa.partnership_profit_pence,
                    sa.trade_loss_relief_pence,
                    pen,
                    bik,
                )
            out.append(TaxYearIncome(_LABELS[year], tuple(paye), sa, unearned))
        return tuple(out)

    # -- Child Benefit ---------------------------------------------------------------------------------------------

    def _child_benefit(self) -> ChildBenefitAward | None:
        claim = self.g.claim(self.block, self.pos, self.hh)
        if claim is None:
            return None
        if claim[2]:
            self.quirks.add(DataQuirk.CHILD_BENEFIT_END_BEFORE_START)
        return self.g.child_benefit_award(self.index, claim)
