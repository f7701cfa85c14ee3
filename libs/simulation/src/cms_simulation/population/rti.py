"""RTI payments (Full Payment Submissions) generated from an employment's pay frequency and annual figures.

Deterministic from the employment alone, so the same payments come back for every caller and every date range:

- Weekly-type pay (W1, W2, W4) falls on Fridays, the first at least a week (four-weekly: two weeks) after the start
  date, then every 7, 14 or 28 days. Monthly-type pay (M1, IR; M3, M6, MA every 3, 6, 12 months from the start
  month; IO once) falls on a fixed day of the month derived from the employment id (the last working day, the 28th,
  the 25th, ... a few early-month pay days), moved back to the previous working day over weekends, Christmas Day,
  Boxing Day and New Year's Day. Payments are made from the start date to the end date (the last day worked) with no
  pro-rating: each pays annual / periods (52, 26, 13, 12, 4, 2, 1).
- The annual figure in force is `Employment.annual_pay_on(payment date)` (pay rises and cuts); pension
  contributions and payrolled benefits stay at their annual figures / periods.
- Tax weeks (1-53; a fortnightly week 53 is reported as 54, a four-weekly one as 56) and tax months (month 1 =
  6 April to 5 May) are those of the payment date; year-to-date pay restarts in each tax year.
- Monthly pay is annual // 12 with the remaining pence in the tax-month-12 payment, so a whole year pays
  exactly the annual figure.
- Tax deducted approximates tax code 1257L (or the allowance of the year) on a non-cumulative annual basis with rUK
  rates and bands: annual tax on (pay in force + benefits) / periods.
- DataQuirk.TWO_PAYS_ONE_MONTH: Christmas pay is paid early. A monthly pay due between 19 December and 7 January is
  paid on the last working day on or before 18 December (so a January pay day lands in December, and any 4-week or
  monthly window ending in late December sees two pays); a weekly-type pay due 24-31 December is paid a week early,
  on the same day as the previous one.
- DataQuirk.LATE_RTI_SUBMISSION: about one FPS in four reaches HMRC 3-45 days after the payment date
  (`RtiPayment.submission_date`); a caller asking as of a date should ignore payments submitted after it. Otherwise
  the FPS is submitted on the payment date.

Tax-year totals (`paye_income_for_year`) are the sums of exactly these payments, so PAYE end-of-year figures and RTI
agree; the generator builds every TaxYearIncome.paye entry with it.
"""

from __future__ import annotations

import calendar
import datetime as dt
import functools
import zlib
from collections.abc import Iterable

from . import ids
from .model import DataQuirk, Employment, PayeIncome, PayFrequency, Person, RtiPayment
from .nino import mix64
from .tax_year import parse_tax_year, tax_month, tax_week, tax_year_label, tax_year_start_year

PERIODS_PER_YEAR = {
    PayFrequency.WEEKLY: 52,
    PayFrequency.FORTNIGHTLY: 26,
    PayFrequency.FOUR_WEEKLY: 13,
    PayFrequency.MONTHLY: 12,
    PayFrequency.QUARTERLY: 4,
    PayFrequency.BI_ANNUALLY: 2,
    PayFrequency.ANNUALLY: 1,
    PayFrequency.ONE_OFF: 1,
    PayFrequency.IRREGULAR: 12,
}
_WEEK_DAYS = {PayFrequency.WEEKLY: 7, PayFrequency.FORTNIGHTLY: 14, PayFrequency.FOUR_WEEKLY: 28}
_FIRST_PAY_AFTER = {
    PayFrequency.WEEKLY: 7,
    PayFrequency.FORTNIGHTLY: 7,
    PayFrequency.FOUR_WEEKLY: 14,
}
_MONTH_STEP = {
    PayFrequency.MONTHLY: 1,
    PayFrequency.IRREGULAR: 1,
    PayFrequency.QUARTERLY: 3,
    PayFrequency.BI_ANNUALLY: 6,
    PayFrequency.ANNUALLY: 12,
    PayFrequency.ONE_OFF: 12,
}
# Monthly pay days (0 = the last day of the month) and their weights.
_PAY_DAYS = (
    (0, 22),
    (28, 20),
    (25, 16),
    (15, 6),
    (20, 6),
    (26, 6),
    (27, 6),
    (1, 5),
    (10, 4),
    (5, 3),
    (18, 3),
    (23, 3),
)
_PAY_DAY_TOTAL = sum(w for _, w in _PAY_DAYS)
_HOLIDAYS = {(12, 25), (12, 26), (1, 1)}
_ONE_DAY = dt.timedelta(days=1)
_MONTH = dt.timedelta(days=31)

# Personal allowance, basic-rate band, additional-rate threshold (pounds), rUK, by tax-year start.
_BANDS = {
    2013: (9440, 32010, 150000),
    2014: (10000, 31865, 150000),
    2015: (10600, 31785, 150000),
    2016: (11000, 32000, 150000),
    2017: (11500, 33500, 150000),
    2018: (11850, 34500, 150000),
    2019: (12500, 37500, 150000),
    2020: (12500, 37500, 150000),
    2021: (12570, 37700, 150000),
    2022: (12570, 37700, 150000),
}
_BANDS_FROM_2023 = (12570, 37700, 125140)
# The first year of each run of identical bands, by year (so that equal pay in those years shares its figures).
_BAND_YEAR = {
    2013: 2013,
    2014: 2014,
    2015: 2015,
    2016: 2016,
    2017: 2017,
    2018: 2018,
    2019: 2019,
    2020: 2019,
    2021: 2021,
    2022: 2021,
}


def stable_hash(text: str) -> int:
    return mix64(zlib.crc32(text.encode()) * 0x100000001 + len(text))


def pay_day(employment: Employment) -> int:
    """The employment's monthly pay day (0 = the last day of the month), derived from its id."""
    return _pay_day(ids.legacy(employment.employment_id))


@functools.lru_cache(maxsize=8192)
def _pay_day(employment_id: str) -> int:
    x = stable_hash(employment_id) % _PAY_DAY_TOTAL
    for day, weight in _PAY_DAYS:
        if x < weight:
            return day
        x -= weight
    return 0


def income_tax_pence(annual_pence: int, tax_year: str | int) -> int:
    """Income tax on employment income for a year (rUK rates; the allowance tapers away above £100,000)."""
    start = tax_year if isinstance(tax_year, int) else parse_tax_year(tax_year)
    allowance, basic_band, additional = _BANDS.get(
        start, _BANDS_FROM_2023 if start >= 2023 else _BANDS[2013]
    )
    allowance *= 100
    if annual_pence > 100_000_00:
        allowance = max(0, allowance - (annual_pence - 100_000_00) // 2)
    taxable = max(0, annual_pence - allowance)
    basic = min(taxable, basic_band * 100)
    higher = min(
        max(0, taxable - basic_band * 100), max(0, additional * 100 - basic_band * 100 - allowance)
    )
    top = max(0, taxable - basic - higher)
    return (basic * 20 + higher * 40 + top * 45) // 100


def hours_band(annual_pence: int, occupational_pension: bool = False) -> str:
    if occupational_pension:
        return "Other"
    if annual_pence < 10_000_00:
        return "Up to 15.99 hours"
    if annual_pence < 15_000_00:
        return "16-23.99 hours"
    if annual_pence < 19_000_00:
        return "24-29.99 hours"
    return "30 or more hours"


def _working_day(d: dt.date) -> dt.date:
    while d.weekday() >= 5 or (d.month, d.day) in _HOLIDAYS:
        d -= _ONE_DAY
    return d


_DAYS_IN_MONTH = (0, 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31)


def _monthly_date(year: int, month: int, day: int) -> dt.date:
    if 0 < day <= 28:
        return dt.date(year, month, day)
    last = 29 if month == 2 and calendar.isleap(year) else _DAYS_IN_MONTH[month]
    return dt.date(year, month, last if day == 0 or day > last else day)


def _scheduled(e: Employment, lo: dt.date, hi: dt.date) -> Iterable[dt.date]:
    """Contractual pay dates in [lo, hi] (before working-day and quirk moves) within the employment."""
    start = e.start_date
    lo = max(lo, start)
    if e.end_date is not None:
        hi = min(hi, e.end_date)
    if lo > hi:
        return
    step = _WEEK_DAYS.get(e.pay_frequency)
    if step is not None:
        first = start.toordinal() + _FIRST_PAY_AFTER[e.pay_frequency]
        first += (4 - dt.date.fromordinal(first).weekday()) % 7  # the next Friday
        k = max(0, -((first - lo.toordinal()) // step))  # ceil((lo - first) / step)
        o = first + k * step
        last = hi.toordinal()
        while o <= last:
            yield dt.date.fromordinal(o)
            o += step
        return
    months = _MONTH_STEP[e.pay_frequency]
    day = pay_day(e)
    first_day = _monthly_date(start.year, start.month, day)
    if first_day < start:
        first_day = _monthly_date(start.year + start.month // 12, start.month % 12 + 1, day)
    if e.pay_frequency is PayFrequency.ONE_OFF:
        if lo <= first_day <= hi:
            yield first_day
        return
    index = first_day.year * 12 + first_day.month - 1
    # Skip whole steps up to lo's month.
    target = lo.year * 12 + lo.month - 1
    if target > index:
        index += (target - index) // months * months
    while True:
        d = _monthly_date(index // 12, index % 12 + 1, day)
        if d > hi:
            return
        if d >= lo:
            yield d
        index += months


def _paid_on(e: Employment, scheduled: dt.date, two_pays: bool) -> dt.date:
    if two_pays:  # never before the employment started
        m, d = scheduled.month, scheduled.day
        if e.pay_frequency in _WEEK_DAYS:
            if (
                m == 12
                and d >= 24
                and (early := _working_day(scheduled - dt.timedelta(days=7))) >= e.start_date
            ):
                return early
        elif ((m == 12 and d >= 19) or (m == 1 and d <= 7)) and (
            early := _working_day(dt.date(scheduled.year - (m == 1), 12, 18))
        ) >= e.start_date:
            return early
    return _working_day(scheduled)


def payment_dates(
    e: Employment, lo: dt.date, hi: dt.date, *, quirks: frozenset[DataQuirk] = frozenset()
) -> list[dt.date]:
    """Dates of the payments made in [lo, hi], oldest first (a date repeats when two pays fall on one day)."""
    two_pays = DataQuirk.TWO_PAYS_ONE_MONTH in quirks
    # A payment is made at most ~3 weeks before its contractual date (the Christmas quirk), never after it.
    out = [
        p
        for s in _scheduled(e, lo, hi + dt.timedelta(days=25))
        if lo <= (p := _paid_on(e, s, two_pays)) <= hi
    ]
    out.sort()
    return out


Amounts = tuple[int, int, int, int]  # taxable pay, pension contributions, payrolled benefits, tax


def _amounts(e: Employment, annual: int, year: int) -> tuple[Amounts, Amounts]:
    """Per-payment figures at an annual pay in a tax year: (a regular payment, a tax-month-12 payment)."""
    return _per_payment(
        PERIODS_PER_YEAR[e.pay_frequency],
        annual,
        e.annual_employee_pension_contributions_pence,
        e.annual_benefits_in_kind_pence,
        year,
    )


def _per_payment(
    periods: int, annual: int, pension: int, bik: int, year: int
) -> tuple[Amounts, Amounts]:
    return _per_payment_bands(periods, annual, pension, bik, min(max(year, 2013), 2023))


@functools.lru_cache(maxsize=8192)
def _per_payment_bands(
    periods: int, annual: int, pension: int, bik: int, year: int
) -> tuple[Amounts, Amounts]:
    tax = income_tax_pence(annual + bik, year)
    if periods == 12:
        # Monthly pay is annual // 12, and the March payment (tax month 12) takes the remaining pence, so a whole
        # year pays exactly the annual figures.
        p, c, b, t = annual // 12, pension // 12, bik // 12, tax // 12
        return (p, c, b, t), (annual - 11 * p, pension - 11 * c, bik - 11 * b, tax - 11 * t)
    regular = (
        round(annual / periods),
        round(pension / periods),
        round(bik / periods),
        round(tax / periods),
    )
    return regular, regular


def _week_number(e: Employment, on: dt.date) -> int:
    week = tax_week(on)
    if week == 53:
        return {PayFrequency.FORTNIGHTLY: 54, PayFrequency.FOUR_WEEKLY: 56}.get(e.pay_frequency, 53)
    return week


def _late(e: Employment, on: dt.date) -> int:
    h = mix64(stable_hash(e.employment_id) ^ on.toordinal())
    return 0 if h & 3 else 3 + (h >> 8) % 43


def rti_payments(
    employment: Employment,
    from_date: dt.date,
    to_date: dt.date,
    *,
    quirks: frozenset[DataQuirk] = frozenset(),
) -> list[RtiPayment]:
    """The employment's RTI payments dated in [from_date, to_date], oldest first, with tax-year-to-date totals."""
    e = employment
    if from_date > to_date:
        return []
    weekly = e.pay_frequency in _WEEK_DAYS
    monthly = e.pay_frequency is PayFrequency.MONTHLY
    late = DataQuirk.LATE_RTI_SUBMISSION in quirks
    year_start = dt.date(tax_year_start_year(from_date), 4, 6)
    out: list[RtiPayment] = []
    ytd = 0
    current_year = -1
    for paid in payment_dates(e, min(year_start, from_date), to_date, quirks=quirks):
        year = tax_year_start_year(paid)
        if year != current_year:
            current_year, ytd = year, 0
        annual = e.annual_pay_on(paid)
        regular, last = _amounts(e, annual, year)
        pay, pension, bik, tax = last if monthly and tax_month(paid) == 12 else regular
        ytd += pay
        if paid < from_date:
            continue
        out.append(
            RtiPayment(
                payment_date=paid,
                tax_year=tax_year_label(year),
                week_number=_week_number(e, paid) if weekly else 0,
                month_number=0 if weekly else tax_month(paid),
                taxable_pay_pence=pay,
                taxable_pay_to_date_pence=ytd,
                employee_pension_contributions_pence=pension,
                benefits_taxed_via_payroll_pence=bik,
                tax_deducted_pence=tax,
                hours_worked_band=hours_band(annual, e.occupational_pension),
                submission_date=paid + dt.timedelta(days=_late(e, paid)) if late else paid,
            )
        )
    return out


def _near_christmas(d: dt.date) -> bool:
    return (d.month == 12 and d.day >= 17) or (d.month == 1 and d.day <= 8)


def _month_paid_in(
    e: Employment, index: int, day: int, lo: dt.date, hi: dt.date, two_pays: bool
) -> bool:
    s = _monthly_date(index // 12, index % 12 + 1, day)
    if s < e.start_date or (e.end_date is not None and s > e.end_date):
        return False
    return lo <= _paid_on(e, s, two_pays) <= hi


def payment_count(
    e: Employment, lo: dt.date, hi: dt.date, *, quirks: frozenset[DataQuirk] = frozenset()
) -> int:
    """len(payment_dates(e, lo, hi, quirks=quirks)), mostly without listing them."""
    low, high = max(lo, e.start_date), hi if e.end_date is None else min(hi, e.end_date)
    if low > high:
        return 0
    step = _WEEK_DAYS.get(e.pay_frequency)
    if step is not None and not _near_christmas(lo) and not _near_christmas(hi):
        # Only Christmas moves a Friday pay, so away from Christmas the window counts contractual dates.
        first = e.start_date.toordinal() + _FIRST_PAY_AFTER[e.pay_frequency]
        first += (4 - dt.date.fromordinal(first).weekday()) % 7
        k0 = max(0, -((first - low.toordinal()) // step))
        k1 = (high.toordinal() - first) // step
        return max(0, k1 - k0 + 1)
    if e.pay_frequency in (PayFrequency.MONTHLY, PayFrequency.IRREGULAR):
        day = pay_day(e)
        if (
            (lo.month, lo.day, hi.month, hi.day) == (4, 6, 4, 5)
            and hi.year == lo.year + 1
            and day not in (6, 7, 8)
            and e.start_date <= lo - _MONTH
            and (e.end_date is None or e.end_date >= hi)
        ):
            return 12  # a whole tax year: weekend and Christmas moves never cross 5/6 April for these pay days
        # Pay is never more than 21 days early (Christmas) and never late: months two or more after the window's
        # first and before its last are paid inside it; the edge months are checked one by one.
        two_pays = DataQuirk.TWO_PAYS_ONE_MONTH in quirks
        j_lo, j_hi = low.year * 12 + low.month - 1, high.year * 12 + high.month - 1
        edges = {j_lo, j_lo + 1, j_hi, j_hi + 1}
        n = sum(_month_paid_in(e, i, day, lo, hi, two_pays) for i in edges)
        return n + max(0, j_hi - j_lo - 2)
    return len(payment_dates(e, lo, hi, quirks=quirks))


def paye_income_for_year(
    employment: Employment, tax_year: str | int, *, quirks: frozenset[DataQuirk] = frozenset()
) -> PayeIncome | None:
    """End-of-year PAYE figures of one employment: the sums of its RTI payments in the tax year (None if none)."""
    e = employment
    start = parse_tax_year(tax_year)
    lo, hi = dt.date(start, 4, 6), dt.date(start + 1, 4, 5)
    if e.start_date > hi or (e.end_date is not None and e.end_date < lo):
        return None
    # Windows of constant pay (by payment date) within the tax year.
    bounds = [lo, *sorted(since for since, _ in e.pay_changes if lo < since <= hi), hi + _ONE_DAY]
    month12 = dt.date(start + 1, 3, 6)
    monthly = e.pay_frequency is PayFrequency.MONTHLY
    totals = [0, 0, 0, 0]
    paid = 0
    for w_lo, w_next in zip(bounds, bounds[1:], strict=False):
        w_hi = w_next - _ONE_DAY
        if w_lo > w_hi:
            continue
        n = payment_count(e, w_lo, w_hi, quirks=quirks)
        if n:
            paid += n
            n12 = (
                payment_count(e, max(w_lo, month12), w_hi, quirks=quirks)
                if monthly and w_hi >= month12
                else 0
            )
            regular, last = _amounts(e, e.annual_pay_on(w_lo), start)
            for i in range(4):
                totals[i] += (n - n12) * regular[i] + n12 * last[i]
    if not paid:
        return None
    return PayeIncome(
        employment_id=e.employment_id,
        paye_reference=e.employer.paye_reference,
        payroll_id=e.payroll_id,
        taxable_pay_pence=totals[0],
        taxable_benefits_pence=totals[2],
        employee_pension_contributions_pence=totals[1],
        tax_deducted_pence=totals[3],
    )


@functools.lru_cache(maxsize=256)
def _year_bounds(year: int) -> tuple[dt.date, dt.date]:
    return dt.date(year, 4, 6), dt.date(year + 1, 4, 5)


@functools.lru_cache(maxsize=256)
def _month12(year: int) -> dt.date:
    """The first day of tax month 12 of the tax year starting in `year`."""
    return dt.date(year + 1, 3, 6)


def _count_scheduled(
    e: Employment, step: int, first_pay: int, day: int, a: dt.date, b: dt.date
) -> int:
    """Contractual pay dates in [a, b] (already clipped to the employment)."""
    if a > b:
        return 0
    if step:
        k0 = max(0, -((first_pay - a.toordinal()) // step))
        return max(0, (b.toordinal() - first_pay) // step - k0 + 1)
    ia = a.year * 12 + a.month - 1
    if _monthly_date(a.year, a.month, day) < a:
        ia += 1
    ib = b.year * 12 + b.month - 1
    if _monthly_date(b.year, b.month, day) > b:
        ib -= 1
    return max(0, ib - ia + 1)


def paye_income_by_year(
    employment: Employment,
    first_year: int,
    last_year: int,
    *,
    quirks: frozenset[DataQuirk] = frozenset(),
) -> dict[int, PayeIncome]:
    """paye_income_for_year for each tax year (by start year) from first_year to last_year that has payments.

    Fast when pay is weekly-type or monthly and every pay change takes effect on the 6th of a month (as generated
    people's do): payments are then never moved across a tax-year or pay-change boundary (pay days are never the
    6th-8th, weekend moves are at most 4 days, Christmas moves stay within 17 December - 5 January), so contractual
    dates are counted instead of listed. Otherwise each year goes through paye_income_for_year.
    """
    e = employment
    end = e.end_date
    y0 = max(first_year, tax_year_start_year(e.start_date))
    y1 = min(last_year, tax_year_start_year(end) if end is not None else last_year)
    step = _WEEK_DAYS.get(e.pay_frequency, 0)
    out: dict[int, PayeIncome] = {}
    if not (
        (step or e.pay_frequency is PayFrequency.MONTHLY)
        and all(since.day == 6 for since, _ in e.pay_changes)
    ):
        for year in range(y0, y1 + 1):
            if (p := paye_income_for_year(e, year, quirks=quirks)) is not None:
                out[year] = p
        return out
    first_pay = day = 0
    if step:
        first_pay = e.start_date.toordinal() + _FIRST_PAY_AFTER[e.pay_frequency]
        first_pay += (4 - dt.date.fromordinal(first_pay).weekday()) % 7
    else:
        day = pay_day(e)
    inside_by_year: dict[int, list[dt.date]] = {}
    for since, _ in e.pay_changes:
        if since.month != 4 or since.day != 6:
            inside_by_year.setdefault(tax_year_start_year(since), []).append(since)
    periods = PERIODS_PER_YEAR[e.pay_frequency]
    pension, bik = e.annual_employee_pension_contributions_pence, e.annual_benefits_in_kind_pence
    start = e.start_date
    changes = e.pay_changes
    next_change = 0
    annual = e.annual_taxable_pay_pence
    previous: PayeIncome | None = None
    previous_key: tuple[int, int, int, int] | None = None
    for year in range(y0, y1 + 1):
        lo, hi = _year_bounds(year)
        while next_change < len(changes) and changes[next_change][0] <= lo:
            annual = changes[next_change][1]  # the pay in force at the start of the year
            next_change += 1
        a = start if start > lo else lo
        b = hi if end is None or end > hi else end
        band = _BAND_YEAR.get(year, 2013 if year < 2013 else 2023)
        inside = inside_by_year.get(year)
        if inside is None:
            if step == 0 and a is lo and b is hi:
                n, n12 = 12, 1  # a whole tax year of monthly pay (pay days are never the 6th-8th)
            else:
                n = _count_scheduled(e, step, first_pay, day, a, b)
                if not n:
                    continue
                n12 = 0 if step else _count_scheduled(e, 0, 0, day, max(a, _month12(year)), b)
            key: tuple[int, int, int, int] = (n, n12, annual, band)
            if previous is not None and key == previous_key:
                out[year] = previous
                continue
            regular, last = _per_payment_bands(periods, annual, pension, bik, band)
            m = n - n12
            figures = (
                m * regular[0] + n12 * last[0],
                m * regular[1] + n12 * last[1],
                m * regular[2] + n12 * last[2],
                m * regular[3] + n12 * last[3],
            )
        else:
            totals = [0, 0, 0, 0]
            paid = 0
            for w_lo, w_next in zip([a, *inside], [*inside, b + _ONE_DAY], strict=True):
                w_a, w_b = max(w_lo, a), min(w_next - _ONE_DAY, b)
                n = _count_scheduled(e, step, first_pay, day, w_a, w_b)
                if n:
                    paid += n
                    n12 = (
                        0 if step else _count_scheduled(e, 0, 0, day, max(w_a, _month12(year)), w_b)
                    )
                    regular, last = _per_payment_bands(
                        periods, e.annual_pay_on(w_lo), pension, bik, band
                    )
                    for i in range(4):
                        totals[i] += (n - n12) * regular[i] + n12 * last[i]
            if not paid:
                continue
            key = figures = (totals[0], totals[1], totals[2], totals[3])
            if previous is not None and key == previous_key:
                out[year] = previous
                continue
        previous = PayeIncome(
            e.employment_id,
            e.employer.paye_reference,
            e.payroll_id,
            figures[0],
            figures[2],
            figures[1],
            figures[3],
        )
        previous_key = key
        out[year] = previous
    return out


def person_paye_income(person: Person, tax_year: str | int) -> tuple[PayeIncome, ...]:
    """PAYE figures of every employment of a person with payments in a tax year."""
    return tuple(
        p
        for e in person.employments
        if (p := paye_income_for_year(e, tax_year, quirks=person.quirks)) is not None
    )
