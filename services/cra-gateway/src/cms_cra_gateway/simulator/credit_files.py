"""Simulated credit files over the shared synthetic population (docs/domain/external-systems.md §3.2, the CRAIN data model).

A file is generated from the person the other gateways also see, so the sources agree: the current address is the
one HMRC and DWP hold, salary credits come from the employments HMRC reports, benefit payments from the awards CIS
holds, the partner is the financial associate on a joint account, a death is a deceased flag. What only an agency
would know (earlier addresses, lenders, defaults, judgments, fraud markers) comes from a random stream keyed by the
population seed and the NINO, so every replica and every run builds the same file. Scenario changes (changes.py)
are applied on top, in the order they were made.

A file is a timeline, never "as of now": `CreditFileGenerator.generate(..., on=)` is what the agency would show on
a date. Turnover is the twelve months before it, a job started since shows up as salary credits, and changes made
with a later effective date are not yet there. That is what lets case surveillance notice things as the clock moves.

The model is the contract's own (cms.cra.v1 resources): the CRAIN field set is the domain here, and a real agency
client would map its response into the same messages.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import hashlib
import random
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeAlias

from google.protobuf.internal.containers import RepeatedCompositeFieldContainer
from google.type import date_pb2

from cms.common.v1 import types_pb2 as common
from cms.cra.v1 import resources_pb2 as pb
from cms_platform.convert import address_to_proto, day_of, pb_date, years_after
from cms_simulation.population import ids
from cms_simulation.population.model import Address, Employment, Person

Scenario: TypeAlias = pb.CreditFileScenario.ValueType

# Generated histories end here; what happens later comes from the person's own timeline or from scenario changes.
HISTORY_END = dt.date(2026, 1, 1)
RETENTION_YEARS = 6  # credit accounts, judgments and insolvencies stay on a file six years (CRAIN)

BANKS = (
    "Northern Counties Building Society",
    "Albion Bank",
    "Pennine Savings Bank",
    "Caledonian Bank",
    "Severn Valley Building Society",
    "Cymru Mutual",
    "Thameside Bank",
    "Granite City Bank",
)
CARD_LENDERS = ("Harbour Card Services", "Beacon Credit", "Meridian Cards", "Lakeland Finance")
LOAN_LENDERS = (
    "Foxglove Loans",
    "Pennine Personal Finance",
    "Castle Motor Finance",
    "Orchard Credit Union",
)
MORTGAGE_LENDERS = (
    "Northern Counties Building Society",
    "Albion Home Loans",
    "Severn Valley Building Society",
)
OTHER_LENDERS = {
    pb.CREDIT_ACCOUNT_TYPE_TELECOMS: ("Voxline Mobile", "Northwave Telecom"),
    pb.CREDIT_ACCOUNT_TYPE_UTILITY: ("Brightside Energy", "Dee Valley Water"),
    pb.CREDIT_ACCOUNT_TYPE_MAIL_ORDER: ("Catalogue Direct",),
    pb.CREDIT_ACCOUNT_TYPE_STORE_CARD: ("Highstreet Store Card",),
}
COURTS = (
    "Northampton County Court Business Centre",
    "County Court at Cardiff",
    "County Court at Manchester",
    "Glasgow Sheriff Court",
)
INSOLVENCY_TYPES = frozenset(
    {
        pb.PUBLIC_RECORD_TYPE_BANKRUPTCY,
        pb.PUBLIC_RECORD_TYPE_SEQUESTRATION,
        pb.PUBLIC_RECORD_TYPE_IVA,
        pb.PUBLIC_RECORD_TYPE_DEBT_RELIEF_ORDER,
    }
)
_MONTHLY_FACTOR = {
    "WEEKLY": (52, 12),
    "FORTNIGHTLY": (26, 12),
    "FOUR_WEEKLY": (13, 12),
    "MONTHLY": (1, 1),
}


@dataclass(frozen=True)
class FileParameters:
    """How common each kind of entry is, per thousand people [D: design defaults, not measured]."""

    no_trace_per_mille: int = 20
    forward_address_per_mille: int = 30
    insolvent_per_mille: int = 15
    partial_match_per_mille: int = 10
    county_court_judgment_per_mille: int = 70
    default_per_mille: int = 90
    arrears_per_mille: int = 80
    fraud_marker_per_mille: int = 8
    # Take-home pay credited to the account, as a percentage of taxable pay [D].
    net_pay_percent: int = 78


DEFAULTS = FileParameters()


# -- small helpers -------------------------------------------------------------------------------------------------


def _months_before(on: dt.date, count: int) -> list[tuple[int, int]]:
    """The `count` whole calendar months before the month of `on`, newest first."""
    y, m = on.year, on.month
    out = []
    for _ in range(count):
        y, m = (y, m - 1) if m > 1 else (y - 1, 12)
        out.append((y, m))
    return out


def _month_end(y: int, m: int) -> dt.date:
    return (dt.date(y + (m == 12), m % 12 + 1, 1)) - dt.timedelta(days=1)


def stable_id(prefix: str, *parts: object) -> str:
    """A stable id that does not reveal the person (ids travel in events and logs)."""
    digest = hashlib.sha256(":".join(map(str, parts)).encode()).hexdigest()[:12]
    return f"{prefix}-{digest}"


def file_reference(seed: int, nino: str) -> str:
    """The opaque name the gateway logs and audits a file by, never the NINO."""
    return stable_id("cra", "file", seed, nino)


# -- generation ----------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Income:
    """A monthly credit into an account: salary from an employment, benefit, trading receipts."""

    start: dt.date
    end: dt.date | None
    monthly: Callable[[dt.date], int]  # pence credited in the month containing the date


def _constant(pence: int) -> Callable[[dt.date], int]:
    return lambda _d: pence


def _net_monthly_pay(e: Employment, percent: int) -> Callable[[dt.date], int]:
    """Take-home pay credited a month: `percent` of the taxable pay on the day."""
    return lambda d: e.annual_pay_on(d) * percent // 100 // 12


class CreditFileGenerator:
    """Builds a person's generated file on a date. Pure: the person, the seed, the date and the scenario changes in."""

    def __init__(
        self, *, seed: int, address_for: Callable[[int], Address], params: FileParameters = DEFAULTS
    ):
        self._seed, self._address_for, self._params = seed, address_for, params

    def scenarios(self, person: Person) -> dict[Scenario, dt.date]:
        """The named scenarios the generated file carries, with the date each took effect."""
        rng = random.Random(f"cra:{self._seed}:{person.nino}:scenarios")
        p = self._params
        out: dict[Scenario, dt.date] = {}
        since = HISTORY_END - dt.timedelta(days=rng.randint(30, 700))
        for scenario, per_mille in (
            (pb.CREDIT_FILE_SCENARIO_NO_TRACE, p.no_trace_per_mille),
            (pb.CREDIT_FILE_SCENARIO_FORWARD_ADDRESS, p.forward_address_per_mille),
            (pb.CREDIT_FILE_SCENARIO_INSOLVENT, p.insolvent_per_mille),
            (pb.CREDIT_FILE_SCENARIO_PARTIAL_MATCH, p.partial_match_per_mille),
        ):
            if rng.randrange(1000) < per_mille and person.generated:
                out[scenario] = since
        return out

    def generate(self, person: Person, *, partner: Person | None, on: dt.date) -> pb.CreditFile:
        """The generated file (no scenario changes, no scenario-derived entries) as it stands on `on`."""
        rng = random.Random(f"cra:{self._seed}:{person.nino}")
        nino = person.nino
        f = pb.CreditFile(
            person=common.PersonIdentity(
                nino=nino,
                name=common.PersonName(
                    title=person.title, forenames=person.forenames, surname=person.surname
                ),
                date_of_birth=pb_date(person.date_of_birth),
            )
        )
        for surname in person.previous_surnames:
            f.aliases.add(forenames=person.forenames, surname=surname)
        adult_from = (
            years_after(person.date_of_birth, 18)
            if person.date_of_birth.year > 1900
            else HISTORY_END
        )

        # Addresses: the one HMRC and DWP hold is current; up to two earlier ones before it.
        moved_in = max(adult_from, HISTORY_END - dt.timedelta(days=rng.randint(120, 14 * 365)))
        f.address_links.add(
            address=address_to_proto(person.address),
            link_type=pb.ADDRESS_LINK_TYPE_CURRENT,
            first_seen_date=pb_date(moved_in),
            on_electoral_roll=rng.random() < 0.85,
        )
        left = moved_in - dt.timedelta(days=1)
        for n in range(rng.choice((0, 1, 1, 2))):
            arrived = left - dt.timedelta(days=rng.randint(300, 6 * 365))
            if arrived < adult_from:
                break
            f.address_links.add(
                address=address_to_proto(self._address_for(self._address_key(nino, n))),
                link_type=pb.ADDRESS_LINK_TYPE_PREVIOUS,
                first_seen_date=pb_date(arrived),
                last_seen_date=pb_date(left),
                on_electoral_roll=rng.random() < 0.6,
            )
            left = arrived - dt.timedelta(days=1)

        # Current accounts: the main one takes salary and benefits; a sole trader banks takings separately.
        incomes = self._incomes(person)
        opened = max(adult_from, HISTORY_END - dt.timedelta(days=rng.randint(200, 20 * 365)))
        bank = rng.choice(BANKS)
        self._current_account(
            f,
            rng,
            on,
            key=(nino, "main"),
            provider=bank,
            holding=pb.ACCOUNT_HOLDING_SOLE,
            opened=opened,
            incomes=incomes["personal"],
            extra_max=250_00,
        )
        if person.self_employed or incomes["trading"]:
            self._current_account(
                f,
                rng,
                on,
                key=(nino, "business"),
                provider=rng.choice(BANKS),
                holding=pb.ACCOUNT_HOLDING_SOLE_TRADER_BUSINESS,
                opened=max(adult_from, HISTORY_END - dt.timedelta(days=rng.randint(400, 10 * 365))),
                incomes=incomes["trading"],
                extra_max=500_00,
            )
        if partner is not None:
            pair = sorted((nino, partner.nino))  # one joint account, the same id on both files
            joint_rng = random.Random(f"cra:{self._seed}:{pair[0]}:{pair[1]}:joint")
            since = HISTORY_END - dt.timedelta(days=joint_rng.randint(200, 8 * 365))
            self._current_account(
                f,
                joint_rng,
                on,
                key=(*pair, "joint"),
                provider=joint_rng.choice(BANKS),
                holding=pb.ACCOUNT_HOLDING_JOINT,
                opened=since,
                incomes=[_Income(since, None, lambda _d: 900_00)],
                extra_max=600_00,
            )
            f.financial_associates.add(
                name=common.PersonName(forenames=partner.forenames, surname=partner.surname),
                source=pb.ASSOCIATION_SOURCE_JOINT_ACCOUNT,
                first_seen_date=pb_date(since),
            )

        # Employment hints: salary credits from each employer HMRC knows, once the first pay has landed.
        for e in person.employments:
            first_credit = e.start_date + dt.timedelta(days=31)
            if first_credit > on:
                continue
            last = min(on, e.end_date) if e.end_date else on
            if (on - last).days > 365:
                continue  # long gone: lenders' data has moved on
            net = e.annual_pay_on(last) * self._params.net_pay_percent // 100 // 12
            # The latest salary credit: the final pay on leaving, else last month's.
            seen = (
                e.end_date
                if e.end_date and e.end_date <= on
                else _month_end(*_months_before(on, 1)[0])
            )
            f.employment_hints.add(
                hint_id=stable_id("eh", self._seed, nino, ids.legacy(e.employment_id)),
                employer_name=e.employer.name,
                employer_address=address_to_proto(e.employer.address),
                source=pb.EMPLOYMENT_HINT_SOURCE_SALARY_CREDITS,
                last_seen_date=pb_date(max(seen, first_credit)),
                average_monthly_salary_credit_pence=net,
            )

        self._credit_accounts(f, rng, person, adult_from, on)
        self._public_records(f, rng, nino, on)
        if rng.randrange(1000) < self._params.fraud_marker_per_mille:
            recorded = HISTORY_END - dt.timedelta(days=rng.randint(10, 300))
            kind = rng.choice(
                (pb.FRAUD_MARKER_TYPE_PROTECTIVE_REGISTRATION, pb.FRAUD_MARKER_TYPE_FRAUD_WARNING)
            )
            expiry = recorded + dt.timedelta(
                days=730 if kind == pb.FRAUD_MARKER_TYPE_PROTECTIVE_REGISTRATION else 395
            )
            f.fraud_markers.add(
                type=kind, recorded_date=pb_date(recorded), expiry_date=pb_date(expiry)
            )
        if person.date_of_death and person.date_of_death <= on:
            f.date_of_death.CopyFrom(pb_date(person.date_of_death))
        return f

    def _address_key(self, nino: str, n: int) -> int:
        return (2 << 48) + int.from_bytes(
            hashlib.sha256(f"{self._seed}:{nino}:{n}".encode()).digest()[:5], "big"
        )

    def forward_address(self, nino: str) -> common.Address:
        return address_to_proto(self._address_for(self._address_key(nino, 9)))

    def _incomes(self, person: Person) -> dict[str, list[_Income]]:
        pct = self._params.net_pay_percent
        personal: list[_Income] = []
        for e in person.employments:
            personal.append(_Income(e.start_date, e.end_date, _net_monthly_pay(e, pct)))
        for a in person.benefit_awards:
            if a.claimant_nino != person.nino:
                continue  # a couple's benefit is paid to the claimant
            times, per = _MONTHLY_FACTOR.get(a.payment_frequency, (1, 1))
            personal.append(
                _Income(a.start_date, a.end_date, _constant(a.amount_pence * times // per))
            )
        trading: list[_Income] = []
        for year in person.tax_years:
            sa = year.self_assessment
            if sa and sa.self_employment_profit_pence > 0:
                start = dt.date(int(year.tax_year[:4]), 4, 6)
                trading.append(
                    _Income(
                        start,
                        dt.date(start.year + 1, 4, 5),
                        _constant(sa.self_employment_profit_pence * 100 // 85 // 12),
                    )
                )
        if (
            trading and person.self_employed
        ):  # the latest year's takings carry on until another return says otherwise
            last = trading[-1]
            trading[-1] = dataclasses.replace(last, end=None)
        return {"personal": personal, "trading": trading}

    def _current_account(
        self,
        f: pb.CreditFile,
        rng: random.Random,
        on: dt.date,
        *,
        key: tuple,
        provider: str,
        holding: int,
        opened: dt.date,
        incomes: list[_Income],
        extra_max: int,
    ) -> None:
        account_id = stable_id("ca", self._seed, *key)
        number_rng = random.Random(account_id)
        a = f.current_accounts.add(
            account_id=account_id,
            provider_name=provider,
            holding=holding,
            opened_date=pb_date(opened),
            sort_code=f"{number_rng.randint(10, 99)}-{number_rng.randint(10, 99)}-{number_rng.randint(10, 99)}",
            account_number=f"{number_rng.randint(0, 99_999_999):08d}",
            status=pb.ACCOUNT_STATUS_UP_TO_DATE,
            overdraft_limit_pence=rng.choice((0, 0, 250_00, 500_00, 1_000_00)),
        )
        for y, m in _months_before(on, 12):
            mid = dt.date(y, m, 15)
            if _month_end(y, m) < opened:
                break
            month_rng = random.Random(f"{account_id}:{y}-{m}")
            credits = sum(
                i.monthly(mid)
                for i in incomes
                if i.start <= mid and (i.end is None or i.end >= mid)
            )
            credits = credits * month_rng.randint(97, 103) // 100 + month_rng.randint(0, extra_max)
            a.monthly_turnover.add(
                month=date_pb2.Date(year=y, month=m), credit_turnover_pence=credits
            )
        latest = a.monthly_turnover[0].credit_turnover_pence if a.monthly_turnover else 0
        balance_rng = random.Random(f"{account_id}:{on.year}-{on.month}:balance")
        a.balance_pence = (
            balance_rng.randint(-a.overdraft_limit_pence // 2, max(1, latest * 3 // 2)) // 100 * 100
        )
        a.balance_date.CopyFrom(pb_date(_month_end(*_months_before(on, 1)[0])))

    def _credit_accounts(
        self, f: pb.CreditFile, rng: random.Random, person: Person, adult_from: dt.date, on: dt.date
    ) -> None:
        p = self._params
        earnings = max(
            [
                e.annual_pay_on(HISTORY_END)
                for e in person.employments
                if e.end_date is None or e.end_date >= HISTORY_END
            ]
            + [
                y.self_assessment.self_employment_profit_pence
                for y in person.tax_years[-2:]
                if y.self_assessment
            ],
            default=0,
        )
        defaulted = rng.randrange(1000) < p.default_per_mille
        in_arrears = rng.randrange(1000) < p.arrears_per_mille
        kinds = [pb.CREDIT_ACCOUNT_TYPE_TELECOMS, pb.CREDIT_ACCOUNT_TYPE_CREDIT_CARD]
        kinds += rng.sample(
            (
                pb.CREDIT_ACCOUNT_TYPE_CREDIT_CARD,
                pb.CREDIT_ACCOUNT_TYPE_PERSONAL_LOAN,
                pb.CREDIT_ACCOUNT_TYPE_HIRE_PURCHASE,
                pb.CREDIT_ACCOUNT_TYPE_UTILITY,
                pb.CREDIT_ACCOUNT_TYPE_STORE_CARD,
                pb.CREDIT_ACCOUNT_TYPE_MAIL_ORDER,
            ),
            rng.randint(0, 3),
        )
        homeowner = earnings >= 25_000_00 and rng.random() < min(0.8, 0.3 + earnings / 100_000_00)
        if homeowner:
            kinds.append(pb.CREDIT_ACCOUNT_TYPE_MORTGAGE)
            if rng.random() < 0.08:
                kinds.append(pb.CREDIT_ACCOUNT_TYPE_SECURED_LOAN)
        current = f.address_links[0]
        for n, kind in enumerate(kinds):
            opened = max(adult_from, HISTORY_END - dt.timedelta(days=rng.randint(60, 12 * 365)))
            if kind == pb.CREDIT_ACCOUNT_TYPE_MORTGAGE:
                lender = rng.choice(MORTGAGE_LENDERS)
                limit, balance = 0, rng.randint(40_000, 260_000) * 100
                opened = max(opened, day_of(current.first_seen_date) or opened)
            elif kind in (pb.CREDIT_ACCOUNT_TYPE_CREDIT_CARD, pb.CREDIT_ACCOUNT_TYPE_STORE_CARD):
                lender = rng.choice(
                    CARD_LENDERS
                    if kind == pb.CREDIT_ACCOUNT_TYPE_CREDIT_CARD
                    else OTHER_LENDERS[kind]
                )
                limit = rng.choice((500, 1_200, 2_500, 4_000, 8_000)) * 100
                balance = rng.randint(0, limit // 100) * 100
            elif kind in (
                pb.CREDIT_ACCOUNT_TYPE_PERSONAL_LOAN,
                pb.CREDIT_ACCOUNT_TYPE_HIRE_PURCHASE,
                pb.CREDIT_ACCOUNT_TYPE_SECURED_LOAN,
            ):
                lender = rng.choice(LOAN_LENDERS)
                limit, balance = 0, rng.randint(500, 25_000) * 100
            else:
                lender = rng.choice(OTHER_LENDERS.get(kind, ("Northwave Telecom",)))
                limit, balance = 0, rng.randint(0, 300) * 100
            a = f.credit_accounts.add(
                account_id=stable_id("cr", self._seed, person.nino, n),
                lender_name=lender,
                type=kind,
                holding=pb.ACCOUNT_HOLDING_SOLE,
                opened_date=pb_date(opened),
                credit_limit_pence=limit,
                balance_pence=balance,
                status=pb.ACCOUNT_STATUS_UP_TO_DATE,
                last_updated_date=pb_date(_month_end(*_months_before(on, 1)[0])),
            )
            if (
                kind in (pb.CREDIT_ACCOUNT_TYPE_PERSONAL_LOAN, pb.CREDIT_ACCOUNT_TYPE_HIRE_PURCHASE)
                and rng.random() < 0.35
            ):
                a.status, a.balance_pence = pb.ACCOUNT_STATUS_SETTLED, 0
                a.closed_date.CopyFrom(
                    pb_date(min(HISTORY_END, opened + dt.timedelta(days=rng.randint(365, 5 * 365))))
                )
            elif defaulted and kind not in (
                pb.CREDIT_ACCOUNT_TYPE_MORTGAGE,
                pb.CREDIT_ACCOUNT_TYPE_SECURED_LOAN,
            ):
                defaulted = False
                a.status = pb.ACCOUNT_STATUS_DEFAULTED
                a.default_date.CopyFrom(
                    pb_date(max(opened, HISTORY_END - dt.timedelta(days=rng.randint(60, 5 * 365))))
                )
                a.default_balance_pence = max(a.balance_pence, 150_00)
            elif in_arrears and kind != pb.CREDIT_ACCOUNT_TYPE_MORTGAGE:
                in_arrears = False
                a.status, a.months_in_arrears = (
                    pb.ACCOUNT_STATUS_IN_ARREARS,
                    rng.choice((1, 1, 2, 3, 4)),
                )
            if kind in (pb.CREDIT_ACCOUNT_TYPE_MORTGAGE, pb.CREDIT_ACCOUNT_TYPE_SECURED_LOAN):
                f.property_indicators.add(
                    indicator_id=stable_id("pi", self._seed, person.nino, n),
                    type=pb.PROPERTY_INDICATOR_TYPE_MORTGAGE
                    if kind == pb.CREDIT_ACCOUNT_TYPE_MORTGAGE
                    else pb.PROPERTY_INDICATOR_TYPE_SECURED_LOAN,
                    address=current.address,
                    holding=pb.ACCOUNT_HOLDING_SOLE,
                    secured_balance_pence=a.balance_pence,
                    first_seen_date=a.opened_date,
                )

    def _public_records(self, f: pb.CreditFile, rng: random.Random, nino: str, on: dt.date) -> None:
        if rng.randrange(1000) >= self._params.county_court_judgment_per_mille:
            return
        court = rng.choice(COURTS)
        when = HISTORY_END - dt.timedelta(days=rng.randint(30, 5 * 365))
        r = f.public_records.add(
            record_id=stable_id("pr", self._seed, nino, 0),
            court_name=court,
            type=pb.PUBLIC_RECORD_TYPE_SCOTTISH_DECREE
            if court.startswith("Glasgow")
            else pb.PUBLIC_RECORD_TYPE_COUNTY_COURT_JUDGMENT,
            court_reference=f"{rng.choice('FGHJK')}{rng.randint(0, 9)}{rng.choice('QZ')}{rng.randint(10000, 99999)}",
            record_date=pb_date(when),
            amount_pence=rng.randint(300, 9_000) * 100,
        )
        if rng.random() < 0.45:
            r.satisfied = True
            r.satisfied_date.CopyFrom(
                pb_date(min(HISTORY_END, when + dt.timedelta(days=rng.randint(20, 400))))
            )


# -- the file on a date: scenarios, and what it does not show yet --------------------------------------------------


def apply_scenarios(
    f: pb.CreditFile,
    scenarios: dict[Scenario, dt.date],
    *,
    generator: CreditFileGenerator,
    seed: int,
    on: dt.date,
) -> None:
    """Add what a scenario implies (a forward address link, an insolvency in force), dated when it took effect."""
    f.ClearField("scenarios")
    f.scenarios.extend(sorted(scenarios))
    nino = f.person.nino
    since = scenarios.get(pb.CREDIT_FILE_SCENARIO_FORWARD_ADDRESS)
    if since is not None and since <= on:
        f.address_links.add(
            address=generator.forward_address(nino),
            link_type=pb.ADDRESS_LINK_TYPE_FORWARD,
            first_seen_date=pb_date(since),
        )
    since = scenarios.get(pb.CREDIT_FILE_SCENARIO_INSOLVENT)
    if since is not None and since <= on:
        f.public_records.add(
            record_id=stable_id("pr", seed, nino, "insolvency"),
            type=pb.PUBLIC_RECORD_TYPE_IVA,
            court_name="Insolvency Practitioner: Harland Recovery LLP",
            court_reference=f"IVA{int(stable_id('n', seed, nino)[3:9], 16) % 1_000_000:06d}",
            record_date=pb_date(since),
        )


def as_of(f: pb.CreditFile, on: dt.date) -> pb.CreditFile:
    """Drop what the file does not show yet on `on` (a change dated later, an account opened later)."""
    out = pb.CreditFile()
    out.CopyFrom(f)

    def keep(items: RepeatedCompositeFieldContainer[Any], date_attr: str) -> None:
        kept = [i for i in items if (day_of(getattr(i, date_attr)) or dt.date.min) <= on]
        del items[:]
        items.extend(kept)

    keep(out.address_links, "first_seen_date")
    keep(out.current_accounts, "opened_date")
    keep(out.credit_accounts, "opened_date")
    keep(out.public_records, "record_date")
    keep(out.fraud_markers, "recorded_date")
    keep(out.financial_associates, "first_seen_date")
    keep(out.property_indicators, "first_seen_date")
    if (day_of(out.date_of_death) or dt.date.max) > on:
        out.ClearField("date_of_death")
    retained = years_after(on, -RETENTION_YEARS)
    kept_accounts = [
        a for a in out.credit_accounts if (day_of(a.closed_date) or dt.date.max) >= retained
    ]
    del out.credit_accounts[:]
    out.credit_accounts.extend(kept_accounts)
    kept_records = [
        r
        for r in out.public_records
        if r.type in INSOLVENCY_TYPES
        and ((end := day_of(r.end_date)) is None or end >= retained)
        or (day_of(r.record_date) or dt.date.max) >= retained
    ]
    del out.public_records[:]
    out.public_records.extend(kept_records)
    for a in out.current_accounts:  # the agency derives it from the months it holds (at most 12)
        months = a.monthly_turnover
        a.average_monthly_credit_turnover_pence = (
            sum(m.credit_turnover_pence for m in months) // len(months) if months else 0
        )
    return out
