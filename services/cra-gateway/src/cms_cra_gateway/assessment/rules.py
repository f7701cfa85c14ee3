"""What a credit file shows an enforcement officer: ranked address links, a bureau score, ranked leads, cautions.

Pure domain rules over the agency's credit file, whichever agency answered (docs/domain/external-systems.md §3): no gRPC,
no SQL, no clock. Every function takes a `pb.CreditFile` already reduced to what the file showed on the date `on`
(nothing first seen or opened after it) and `on` itself, so an answer can be recomputed for any past date and tests
need no clock. Dates are read with `cms_platform.convert.month_start`: unset is absent, a month (as in CATO) is its
1st.

Why the rules look the way they do:
- Leads serve the enforcement steps the CMS can take (Child Support Act 1991 s32A–32K,
  docs/domain/external-systems.md §3.1): a regular deduction order needs money arriving regularly and a balance that stays
  above the £40 floor; a lump sum deduction order needs a balance worth freezing; a deduction from earnings order
  needs an employer confirmed with HMRC; a charging order needs an interest in property. Leads of every kind in one response are ranked together so
  the officer sees one ordering.
- Whole-file facts override any lead: an insolvency in force lowers every lead and makes it one to investigate
  before acting, and a deceased flag makes every lead worthless.
- The score imitates Experian Delphi (0–999, the published bands) with bureau-style banded attributes: -1 no trace,
  0 none, 1–8 the count, 9 nine or more.

Money is integer pence and percentages are whole numbers: no floats anywhere, so results are exact and repeatable.
Every threshold is a field of `AssessmentParameters`; "[D]" marks a design default that no source fixes.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from google.type import date_pb2

from cms.common.v1 import types_pb2 as common
from cms.cra.v1 import cra_service_pb2 as api
from cms.cra.v1 import resources_pb2 as pb
from cms_platform.convert import day_of, month_start, years_after


@dataclass(frozen=True)
class AssessmentParameters:
    """Every number the assessment uses. Confidences and points are whole percentage points (0–100 after clamping);
    score points are on the 0–999 scale."""

    # --- Retention (docs/domain/external-systems.md §3.2) ---
    retention_years: int = 6  # CAIS accounts, defaults and judgments are live for 6 years
    bureau_count_cap: int = 9  # bureau convention: 9 means nine or more

    # --- Account leads (regular / lump sum deduction orders) ---
    account_base_confidence: int = 50  # [D]
    sole_account_points: int = 15  # [D] a sole account is the cleanest deduction order
    joint_account_points: int = 5  # [D] in scope, but the other holder complicates it
    sole_trader_account_points: int = 10  # [D] business accounts are in scope only for sole traders
    partnership_account_points: int = (
        -20
    )  # [D] partnerships follow the joint-account rules: investigate first
    high_turnover_monthly_pence: int = 150_000  # [D] £1,500 a month average credits
    high_turnover_points: int = 15  # [D]
    low_turnover_monthly_pence: int = 30_000  # [D] under £300 a month average credits
    low_turnover_points: int = -15  # [D]
    regular_credit_months: int = (
        3  # [D] latest months that must each show a credit for a regular order
    )
    regular_credits_points: int = 10  # [D]
    no_recent_credits_points: int = -25  # [D]
    overdrawn_points: int = -15  # [D]
    rdo_minimum_balance_pence: int = (
        4_000  # no deduction below £40 on a monthly order (docs/domain/external-systems.md §3.1)
    )
    balance_above_rdo_minimum_points: int = 5  # [D]
    balance_below_rdo_minimum_points: int = -10  # [D]
    opened_recently_days: int = 90  # [D] a new account may not yet show its real use
    opened_recently_points: int = -10  # [D]
    lump_sum_minimum_balance_pence: int = (
        50_000  # [D] £500: below this a freeze is not worth the order
    )

    # --- Employment leads (deduction from earnings orders) ---
    recent_salary_days: int = 62  # [D] about two monthly pay days
    stale_hint_days: int = 183  # [D] about six months
    recent_salary_confidence: int = 85  # [D]
    salary_confidence: int = 60  # [D]
    stale_salary_confidence: int = 30  # [D]
    credit_application_confidence: int = 45  # [D] self-declared, never confirmed by money
    stale_credit_application_confidence: int = 25  # [D]

    # --- Property leads (charging orders) ---
    mortgage_confidence: int = 70  # [D]
    secured_loan_confidence: int = 55  # [D]
    declared_homeowner_confidence: int = 35  # [D]
    at_current_address_points: int = 10  # [D]
    joint_interest_points: int = -5  # [D] a charging order on a joint interest needs more work

    # --- Whole-file modifiers on every lead ---
    insolvency_lead_points: int = -30  # [D]

    # --- Trace ---
    forward_link_confidence: int = (
        90  # [D] credit activity at a newer address is the strongest sign of a move
    )
    current_link_confidence: int = 70  # [D]
    previous_link_confidence: int = 20  # [D]
    linked_link_confidence: int = 15  # [D]
    electoral_roll_points: int = 10  # [D]
    gone_away_points: int = -40  # [D]
    no_longer_seen_points: int = -10  # [D]
    matches_last_known_points: int = 5  # [D]

    # --- Credit score (Experian Delphi-like) ---
    # [D] 800: a long, clean file on the electoral roll reaches 980 (EXCELLENT); a thin file 700 (POOR).
    score_start: int = 800
    default_points: int = -120  # [D] per default
    max_defaults_counted: int = 3  # [D]
    recent_default_months: int = 12  # [D]
    recent_default_points: int = -60  # [D]
    judgment_points: int = -150  # [D] per unsatisfied judgment
    max_judgments_counted: int = 2  # [D]
    arrears_month_points: int = -40  # [D] per month of the worst current arrears (1–6)
    high_utilisation_percent: int = 50  # [D] card balances over limits, strictly above
    high_utilisation_points: int = -40  # [D]
    very_high_utilisation_percent: int = 75  # [D] strictly above
    very_high_utilisation_points: int = -80  # [D]
    electoral_roll_score_points: int = 40  # [D]
    not_on_electoral_roll_points: int = -40  # [D]
    short_address_history_years: int = 2  # [D]
    short_address_history_points: int = -30  # [D]
    thin_file_points: int = -60  # [D]
    long_credit_history_years: int = 6  # [D]
    long_credit_history_points: int = 60  # [D]
    all_up_to_date_points: int = 80  # [D]
    insolvency_score_cap: int = 250  # [D]
    max_reason_codes: int = 4  # [D]
    # Experian's published Delphi bands (0–999): upper bounds, inclusive.
    very_poor_max_score: int = 560
    poor_max_score: int = 720
    fair_max_score: int = 880
    good_max_score: int = 960

    # --- Surveillance alerts ---
    new_credit_account_confidence: int = 40  # [D]
    new_public_record_confidence: int = 50  # [D]
    deceased_alert_confidence: int = 100  # [D] certain, and final


DEFAULTS = AssessmentParameters()

_FI = pb.ENFORCEMENT_ACTION_FURTHER_INVESTIGATION
_CARDS = (pb.CREDIT_ACCOUNT_TYPE_CREDIT_CARD, pb.CREDIT_ACCOUNT_TYPE_STORE_CARD)
_JUDGMENTS = (pb.PUBLIC_RECORD_TYPE_COUNTY_COURT_JUDGMENT, pb.PUBLIC_RECORD_TYPE_SCOTTISH_DECREE)
_INSOLVENCIES = (
    pb.PUBLIC_RECORD_TYPE_BANKRUPTCY,
    pb.PUBLIC_RECORD_TYPE_SEQUESTRATION,
    pb.PUBLIC_RECORD_TYPE_IVA,
    pb.PUBLIC_RECORD_TYPE_DEBT_RELIEF_ORDER,
)
# Trace ties: the more specific kind of link first; an unspecified type is treated as the weakest.
_LINK_ORDER = {
    pb.ADDRESS_LINK_TYPE_FORWARD: 0,
    pb.ADDRESS_LINK_TYPE_CURRENT: 1,
    pb.ADDRESS_LINK_TYPE_PREVIOUS: 2,
    pb.ADDRESS_LINK_TYPE_LINKED: 3,
}
# Cross-list lead ties: account, then employment, then property.
_ACCOUNT, _EMPLOYMENT, _PROPERTY = 0, 1, 2


# ---------------------------------------------------------------------------------------------------------
# Dates and addresses
# ---------------------------------------------------------------------------------------------------------


def _within_years(d: dt.date | None, on: dt.date, years: int) -> bool:
    """On or after the same day `years` earlier (and not after `on`)."""
    return d is not None and years_after(on, -years) <= d <= on


def _days_since(d: dt.date | None, on: dt.date) -> int | None:
    return None if d is None else (on - d).days


def _whole_months(start: dt.date, end: dt.date) -> int:
    """Completed calendar months from start to end (a month completes on the same day of the month)."""
    months = (end.year - start.year) * 12 + end.month - start.month
    if end.day < start.day:
        months -= 1
    return max(months, 0)


def _started(d: date_pb2.Date, on: dt.date) -> bool:
    # A missing start date on a record the (already reduced) file shows still counts as started.
    start = month_start(d)
    return start is None or start <= on


def _not_ended(d: date_pb2.Date, on: dt.date) -> bool:
    end = month_start(d)
    return end is None or end > on


def _normal_postcode(address: common.Address) -> str:
    return "".join(address.postcode.split()).upper()


def _normal_first_line(address: common.Address) -> str:
    return " ".join(address.lines[0].split()).casefold() if address.lines else ""


def same_address(a: common.Address, b: common.Address) -> bool:
    """Same postcode (case and spaces ignored) and same first line (case and runs of spaces ignored)."""
    return _normal_postcode(a) == _normal_postcode(b) and _normal_first_line(
        a
    ) == _normal_first_line(b)


# ---------------------------------------------------------------------------------------------------------
# Facts about the whole file
# ---------------------------------------------------------------------------------------------------------


def _is_open(closed_date: date_pb2.Date, status: int, on: dt.date) -> bool:
    return _not_ended(closed_date, on) and status != pb.ACCOUNT_STATUS_SETTLED


def _open_current_accounts(file: pb.CreditFile, on: dt.date) -> list[pb.CurrentAccount]:
    return [a for a in file.current_accounts if _is_open(a.closed_date, a.status, on)]


def _open_credit_accounts(file: pb.CreditFile, on: dt.date) -> list[pb.CreditAccount]:
    return [a for a in file.credit_accounts if _is_open(a.closed_date, a.status, on)]


def _current_link(file: pb.CreditFile) -> pb.AddressLink | None:
    """The CURRENT link: one still seen before one no longer seen, then the newest first seen."""
    links = [link for link in file.address_links if link.link_type == pb.ADDRESS_LINK_TYPE_CURRENT]
    if not links:
        return None
    return max(
        links,
        key=lambda link: (
            month_start(link.last_seen_date) is None,
            month_start(link.first_seen_date) or dt.date.min,
        ),
    )


def insolvency_in_force(file: pb.CreditFile, *, on: dt.date) -> bool:
    """A bankruptcy, sequestration, IVA or DRO that has started and not ended by `on`."""
    return any(
        r.type in _INSOLVENCIES and _started(r.record_date, on) and _not_ended(r.end_date, on)
        for r in file.public_records
    )


def _unsatisfied_judgments(
    file: pb.CreditFile, on: dt.date, p: AssessmentParameters
) -> list[pb.PublicRecord]:
    def satisfied(r: pb.PublicRecord) -> bool:
        paid = month_start(r.satisfied_date)
        return r.satisfied and (paid is None or paid <= on)

    return [
        r
        for r in file.public_records
        if r.type in _JUDGMENTS
        and not satisfied(r)
        and _within_years(month_start(r.record_date), on, p.retention_years)
    ]


def _deceased(file: pb.CreditFile) -> bool:
    return month_start(file.date_of_death) is not None


@dataclass(frozen=True)
class _Draft:
    """A lead's assessment before the whole-file modifiers, the clamp and the rank."""

    confidence: int
    action: pb.EnforcementAction.ValueType
    reasons: tuple[str, ...]


@dataclass(frozen=True)
class _FileFacts:
    insolvent: bool
    deceased: bool


def _finish(draft: _Draft, facts: _FileFacts, p: AssessmentParameters) -> pb.LeadAssessment:
    """Applies the whole-file modifiers and the 0–100 clamp; the rank is set later, across all leads."""
    confidence, action, reasons = draft.confidence, draft.action, list(draft.reasons)
    if facts.insolvent:
        # An insolvency in force puts the debtor's assets out of reach until the officer has checked it.
        confidence += p.insolvency_lead_points
        action = _FI
        reasons.append("INSOLVENCY_IN_FORCE")
    if facts.deceased:
        # A deceased person's estate is a different process altogether: no lead is worth anything.
        confidence = 0
        action = _FI
        reasons.append("DECEASED")
    return pb.LeadAssessment(
        confidence_percent=min(max(confidence, 0), 100), suggested_action=action, reasons=reasons
    )


def _file_facts(file: pb.CreditFile, on: dt.date) -> _FileFacts:
    return _FileFacts(insolvent=insolvency_in_force(file, on=on), deceased=_deceased(file))


# ---------------------------------------------------------------------------------------------------------
# Leads
# ---------------------------------------------------------------------------------------------------------


def average_monthly_turnover(account: pb.CurrentAccount) -> int:
    """Mean monthly credit turnover over the months held, in pence, rounded down; 0 when no month is held."""
    months = account.monthly_turnover
    if not months:
        return 0
    return sum(m.credit_turnover_pence for m in months) // len(months)


def _latest_months(account: pb.CurrentAccount, n: int) -> list[pb.MonthlyTurnover]:
    # Newest first by the month itself, not by trusting the list order.
    return sorted(
        account.monthly_turnover, key=lambda m: (m.month.year, m.month.month), reverse=True
    )[:n]


def _account_draft(account: pb.CurrentAccount, on: dt.date, p: AssessmentParameters) -> _Draft:
    confidence = p.account_base_confidence
    reasons: list[str] = []

    def add(points: int, reason: str) -> None:
        nonlocal confidence
        confidence += points
        reasons.append(reason)

    partnership = account.holding == pb.ACCOUNT_HOLDING_PARTNERSHIP_BUSINESS
    if account.holding == pb.ACCOUNT_HOLDING_SOLE:
        add(p.sole_account_points, "SOLE_ACCOUNT")
    elif account.holding == pb.ACCOUNT_HOLDING_JOINT:
        add(p.joint_account_points, "JOINT_ACCOUNT")
    elif account.holding == pb.ACCOUNT_HOLDING_SOLE_TRADER_BUSINESS:
        add(p.sole_trader_account_points, "SOLE_TRADER_BUSINESS_ACCOUNT")
    elif partnership:
        add(p.partnership_account_points, "PARTNERSHIP_ACCOUNT")

    average = average_monthly_turnover(account)
    if average >= p.high_turnover_monthly_pence:
        add(p.high_turnover_points, "HIGH_AVERAGE_TURNOVER")
    elif average < p.low_turnover_monthly_pence:
        add(p.low_turnover_points, "LOW_AVERAGE_TURNOVER")

    # A regular order needs money arriving every month; "no recent credits" needs at least one month of CATO data,
    # since an account without turnover data says nothing either way.
    latest = _latest_months(account, p.regular_credit_months)
    regular = len(latest) >= p.regular_credit_months and all(
        m.credit_turnover_pence > 0 for m in latest
    )
    if regular:
        add(p.regular_credits_points, "REGULAR_CREDITS")
    elif latest and all(m.credit_turnover_pence <= 0 for m in latest):
        add(p.no_recent_credits_points, "NO_RECENT_CREDITS")

    if account.balance_pence < 0:
        add(p.overdrawn_points, "OVERDRAWN")
    elif account.balance_pence >= p.rdo_minimum_balance_pence:
        add(p.balance_above_rdo_minimum_points, "BALANCE_ABOVE_RDO_MINIMUM")
    else:
        add(p.balance_below_rdo_minimum_points, "BALANCE_BELOW_RDO_MINIMUM")

    days_open = _days_since(month_start(account.opened_date), on)
    if days_open is not None and 0 <= days_open <= p.opened_recently_days:
        add(p.opened_recently_points, "OPENED_RECENTLY")

    if partnership:
        action = _FI
    elif regular:
        action = pb.ENFORCEMENT_ACTION_REGULAR_DEDUCTION_ORDER
    elif account.balance_pence >= p.lump_sum_minimum_balance_pence:
        action = pb.ENFORCEMENT_ACTION_LUMP_SUM_DEDUCTION_ORDER
        reasons.append("BALANCE_SUPPORTS_LUMP_SUM")
    else:
        action = _FI
    return _Draft(confidence, action, tuple(reasons))


def _employment_draft(hint: pb.EmploymentHint, on: dt.date, p: AssessmentParameters) -> _Draft:
    # An undated hint cannot be shown to be current, so it counts as stale.
    age = _days_since(month_start(hint.last_seen_date), on)
    stale = age is None or age > p.stale_hint_days
    deo = pb.ENFORCEMENT_ACTION_DEDUCTION_FROM_EARNINGS_ORDER
    if hint.source == pb.EMPLOYMENT_HINT_SOURCE_SALARY_CREDITS:
        if stale:
            draft = _Draft(p.stale_salary_confidence, _FI, ("STALE_HINT",))
        elif age is not None and age <= p.recent_salary_days:
            draft = _Draft(p.recent_salary_confidence, deo, ("RECENT_SALARY_CREDITS",))
        else:
            draft = _Draft(p.salary_confidence, deo, ("SALARY_CREDITS",))
    elif stale:  # a credit application (or a hint of unknown source: no better than a declaration)
        draft = _Draft(
            p.stale_credit_application_confidence,
            _FI,
            ("DECLARED_ON_CREDIT_APPLICATION", "STALE_HINT"),
        )
    else:
        draft = _Draft(p.credit_application_confidence, _FI, ("DECLARED_ON_CREDIT_APPLICATION",))
    # A DEO can only be made on an employment confirmed with HMRC (or the employer), whatever the file suggests.
    return _Draft(draft.confidence, draft.action, (*draft.reasons, "CONFIRM_EMPLOYMENT_WITH_HMRC"))


def _property_draft(
    indicator: pb.PropertyIndicator, file: pb.CreditFile, p: AssessmentParameters
) -> _Draft:
    if indicator.type == pb.PROPERTY_INDICATOR_TYPE_MORTGAGE:
        confidence, action, reasons = (
            p.mortgage_confidence,
            pb.ENFORCEMENT_ACTION_CHARGING_ORDER,
            ["MORTGAGE_SECURED_ON_ADDRESS"],
        )
    elif indicator.type == pb.PROPERTY_INDICATOR_TYPE_SECURED_LOAN:
        confidence, action, reasons = (
            p.secured_loan_confidence,
            pb.ENFORCEMENT_ACTION_CHARGING_ORDER,
            ["SECURED_LOAN_ON_ADDRESS"],
        )
    else:  # declared (or unknown): nothing registered against the property yet
        confidence, action, reasons = p.declared_homeowner_confidence, _FI, ["DECLARED_HOMEOWNER"]
    at_current = any(
        link.link_type == pb.ADDRESS_LINK_TYPE_CURRENT
        and month_start(link.last_seen_date) is None
        and same_address(link.address, indicator.address)
        for link in file.address_links
    )
    if at_current:
        confidence += p.at_current_address_points
        reasons.append("AT_CURRENT_ADDRESS")
    if indicator.holding == pb.ACCOUNT_HOLDING_JOINT:
        confidence += p.joint_interest_points
        reasons.append("JOINT_INTEREST")
    return _Draft(confidence, action, tuple(reasons))


_Lead = pb.AccountLead | pb.EmploymentLead | pb.PropertyLead


def _rank_together(leads: Sequence[tuple[int, str, _Lead]]) -> None:
    """Ranks (kind, id, lead) in one ordering: confidence descending, then kind, then id; ranks 1..n. The sort is
    stable, so exact ties (duplicate ids) keep the file's order and the result depends on nothing but the file."""
    ordered = sorted(
        leads, key=lambda item: (-item[2].assessment.confidence_percent, item[0], item[1])
    )
    for rank, (_, _, lead) in enumerate(ordered, start=1):
        lead.assessment.rank = rank


def _leads(
    file: pb.CreditFile, on: dt.date, p: AssessmentParameters, *, with_property: bool
) -> tuple[list[pb.AccountLead], list[pb.EmploymentLead], list[pb.PropertyLead]]:
    facts = _file_facts(file, on)
    accounts = []
    for account in _open_current_accounts(file, on):
        lead = pb.AccountLead(
            account=account, assessment=_finish(_account_draft(account, on, p), facts, p)
        )
        lead.account.average_monthly_credit_turnover_pence = average_monthly_turnover(account)
        accounts.append(lead)
    employments = [
        pb.EmploymentLead(hint=hint, assessment=_finish(_employment_draft(hint, on, p), facts, p))
        for hint in file.employment_hints
    ]
    properties = [
        pb.PropertyLead(
            property=indicator, assessment=_finish(_property_draft(indicator, file, p), facts, p)
        )
        for indicator in (file.property_indicators if with_property else ())
    ]
    _rank_together(
        [(_ACCOUNT, lead.account.account_id, lead) for lead in accounts]
        + [(_EMPLOYMENT, lead.hint.hint_id, lead) for lead in employments]
        + [(_PROPERTY, lead.property.indicator_id, lead) for lead in properties]
    )

    def by_rank(items: Iterable[_Lead]) -> list:
        return sorted(items, key=lambda lead: lead.assessment.rank)

    return by_rank(accounts), by_rank(employments), by_rank(properties)


def arrears_leads(
    file: pb.CreditFile, *, on: dt.date, params: AssessmentParameters = DEFAULTS
) -> tuple[list[pb.AccountLead], list[pb.EmploymentLead]]:
    """Financial Data At Arrears: open current accounts and employment hints, ranked together."""
    accounts, employments, _ = _leads(file, on, params, with_property=False)
    return accounts, employments


def enforcement_leads(
    file: pb.CreditFile, *, on: dt.date, params: AssessmentParameters = DEFAULTS
) -> tuple[list[pb.AccountLead], list[pb.EmploymentLead], list[pb.PropertyLead]]:
    """Financial Data Enforcement: accounts, employment hints and property indicators, ranked together."""
    return _leads(file, on, params, with_property=True)


def unexpired_fraud_markers(file: pb.CreditFile, *, on: dt.date) -> list[pb.FraudMarker]:
    """The fraud markers Financial Data Enforcement shows: those whose expiry date (a whole day) is after `on`; one
    without a whole expiry date never expires."""
    return [m for m in file.fraud_markers if (day_of(m.expiry_date) or dt.date.max) > on]


def cautions(
    file: pb.CreditFile, *, on: dt.date, params: AssessmentParameters = DEFAULTS
) -> list[str]:
    """Facts that block or complicate collection, most decisive first, each at most once."""
    found: list[str] = []
    if _deceased(file):
        found.append("DECEASED")
    if insolvency_in_force(file, on=on):
        found.append("INSOLVENCY_IN_FORCE")
    live_markers = {
        m.type
        for m in file.fraud_markers
        if _started(m.recorded_date, on) and _not_ended(m.expiry_date, on)
    }
    # Identity data may be unreliable: check who is who before acting.
    if pb.FRAUD_MARKER_TYPE_PROTECTIVE_REGISTRATION in live_markers:
        found.append("FRAUD_PROTECTIVE_REGISTRATION")
    if pb.FRAUD_MARKER_TYPE_FRAUD_WARNING in live_markers:
        found.append("FRAUD_WARNING")
    current = _current_link(file)
    if current is not None and current.gone_away:
        found.append("GONE_AWAY")
    if _unsatisfied_judgments(file, on, params):
        found.append("UNSATISFIED_JUDGMENTS")
    return found


# ---------------------------------------------------------------------------------------------------------
# Trace
# ---------------------------------------------------------------------------------------------------------


def _trace_link(
    link: pb.AddressLink,
    *,
    has_open_account: bool,
    last_known: common.Address | None,
    p: AssessmentParameters,
) -> tuple[int, list[str]]:
    kind = link.link_type
    if kind == pb.ADDRESS_LINK_TYPE_FORWARD:
        confidence, reasons = (
            p.forward_link_confidence,
            ["FORWARD_ADDRESS_LINK", "CREDIT_ACTIVITY_AT_ADDRESS"],
        )
    elif kind == pb.ADDRESS_LINK_TYPE_CURRENT:
        confidence, reasons = (
            p.current_link_confidence,
            (["CREDIT_ACTIVITY_AT_ADDRESS"] if has_open_account else []),
        )
    elif kind == pb.ADDRESS_LINK_TYPE_PREVIOUS:
        confidence, reasons = p.previous_link_confidence, []
    else:  # linked, or an unspecified link: no evidence of residence
        confidence, reasons = p.linked_link_confidence, []
    if link.on_electoral_roll:
        confidence += p.electoral_roll_points
        reasons.append("ELECTORAL_ROLL")
    if link.gone_away:
        confidence += p.gone_away_points
        reasons.append("GONE_AWAY_MARKER")
    if kind == pb.ADDRESS_LINK_TYPE_CURRENT and month_start(link.last_seen_date) is not None:
        confidence += p.no_longer_seen_points
        reasons.append("NO_LONGER_SEEN")
    if last_known is not None and same_address(link.address, last_known):
        confidence += p.matches_last_known_points
        reasons.append("MATCHES_LAST_KNOWN_ADDRESS")
    return min(max(confidence, 0), 100), reasons


def _given(address: common.Address | None) -> common.Address | None:
    # An empty Address (an unset proto field passed through) is "not given", not an address to match.
    if address is None or (
        not address.postcode.strip() and not any(line.strip() for line in address.lines)
    ):
        return None
    return address


def trace_addresses(
    file: pb.CreditFile,
    *,
    on: dt.date,
    last_known: common.Address | None = None,
    params: AssessmentParameters = DEFAULTS,
) -> tuple[list[api.TracedAddress], bool]:
    """The file's address links ranked by how likely each is the person's residence now, and whether the rank-1 link
    (a current or forward one) confirms the CMS's last known address."""
    last_known = _given(last_known)
    has_open_account = bool(_open_current_accounts(file, on) or _open_credit_accounts(file, on))
    previous_cutoff = years_after(on, -params.retention_years)
    scored = []
    for index, link in enumerate(file.address_links):
        last_seen = month_start(link.last_seen_date)
        if (
            link.link_type == pb.ADDRESS_LINK_TYPE_PREVIOUS
            and last_seen is not None
            and last_seen < previous_cutoff
        ):
            continue  # past the 6-year retention: no longer on a live file
        confidence, reasons = _trace_link(
            link, has_open_account=has_open_account, last_known=last_known, p=params
        )
        first_seen = month_start(link.first_seen_date)
        key = (
            -confidence,
            _LINK_ORDER.get(link.link_type, len(_LINK_ORDER)),
            -(first_seen or dt.date.min).toordinal(),
            index,
        )
        scored.append((key, confidence, reasons, link))
    scored.sort(key=lambda item: item[0])
    traced = [
        api.TracedAddress(
            address_link=link, rank=rank, confidence_percent=confidence, reasons=reasons
        )
        for rank, (_, confidence, reasons, link) in enumerate(scored, start=1)
    ]
    confirmed = bool(
        last_known is not None
        and traced
        and traced[0].address_link.link_type
        in (pb.ADDRESS_LINK_TYPE_CURRENT, pb.ADDRESS_LINK_TYPE_FORWARD)
        and same_address(traced[0].address_link.address, last_known)
    )
    return traced, confirmed


# ---------------------------------------------------------------------------------------------------------
# Credit score
# ---------------------------------------------------------------------------------------------------------


def _banded(count: int, p: AssessmentParameters) -> int:
    return min(count, p.bureau_count_cap)


def _band(score: int, p: AssessmentParameters) -> api.ScoreBand.ValueType:
    if score <= p.very_poor_max_score:
        return api.SCORE_BAND_VERY_POOR
    if score <= p.poor_max_score:
        return api.SCORE_BAND_POOR
    if score <= p.fair_max_score:
        return api.SCORE_BAND_FAIR
    if score <= p.good_max_score:
        return api.SCORE_BAND_GOOD
    return api.SCORE_BAND_EXCELLENT


def credit_score(
    file: pb.CreditFile, *, on: dt.date, params: AssessmentParameters = DEFAULTS
) -> tuple[int, api.ScoreBand.ValueType, api.CreditScoreAttributes, list[str]]:
    """A Delphi-like score (0–999), its band, the banded attributes behind it and its main reason codes."""
    p = params
    open_credit = _open_credit_accounts(file, on)
    open_current = _open_current_accounts(file, on)
    open_cards = [a for a in open_credit if a.type in _CARDS]
    no_trace = not file.credit_accounts and not file.current_accounts

    # A default counts only with its date: the date is what dates the 6-year retention and "months since".
    default_dates = [
        d
        for a in file.credit_accounts
        if a.status == pb.ACCOUNT_STATUS_DEFAULTED
        and (d := month_start(a.default_date)) is not None
        and d <= on
    ]
    defaults = sum(1 for d in default_dates if _within_years(d, on, p.retention_years))
    months_since_default = _whole_months(max(default_dates), on) if default_dates else -1
    judgments = len(_unsatisfied_judgments(file, on, p))
    in_arrears = sum(1 for a in open_credit if a.status == pb.ACCOUNT_STATUS_IN_ARREARS)
    arrears_months = max((min(max(a.months_in_arrears, 0), 6) for a in open_credit), default=0)
    worst = (
        7 if any(a.status == pb.ACCOUNT_STATUS_DEFAULTED for a in open_credit) else arrears_months
    )
    insolvent = insolvency_in_force(file, on=on)

    attributes = api.CreditScoreAttributes(
        # No account data at all is "no trace" (-1), not "none" (0). Judgments come from the court registers, not the
        # lenders, so a judgment on a thin file is still counted rather than hidden.
        default_count=-1 if no_trace else _banded(defaults, p),
        unsatisfied_judgment_count=-1 if no_trace and judgments == 0 else _banded(judgments, p),
        accounts_in_arrears_count=-1 if no_trace else _banded(in_arrears, p),
        worst_current_months_in_arrears=worst,
        months_since_last_default=months_since_default,
        insolvency_in_force=insolvent,
        available_credit_pence=sum(
            max(0, a.credit_limit_pence - a.balance_pence) for a in open_cards
        )
        + sum(max(0, a.overdraft_limit_pence - max(0, -a.balance_pence)) for a in open_current),
        total_credit_balance_pence=sum(a.balance_pence for a in open_credit),
    )

    # (points, code) in a fixed order, so equal impacts keep this order in the reason codes.
    adjustments: list[tuple[int, str]] = []
    if defaults:
        recent = 0 <= months_since_default < p.recent_default_months
        points = p.default_points * min(defaults, p.max_defaults_counted) + (
            p.recent_default_points if recent else 0
        )
        adjustments.append((points, "RECENT_DEFAULT" if recent else "DEFAULTS"))
    if judgments:
        adjustments.append(
            (p.judgment_points * min(judgments, p.max_judgments_counted), "UNSATISFIED_CCJ")
        )
    if arrears_months:
        adjustments.append((p.arrears_month_points * arrears_months, "ACCOUNTS_IN_ARREARS"))
    card_limits = sum(a.credit_limit_pence for a in open_cards)
    card_balances = sum(a.balance_pence for a in open_cards)
    if card_limits > 0:
        if card_balances * 100 > p.very_high_utilisation_percent * card_limits:
            adjustments.append((p.very_high_utilisation_points, "HIGH_UTILISATION"))
        elif card_balances * 100 > p.high_utilisation_percent * card_limits:
            adjustments.append((p.high_utilisation_points, "HIGH_UTILISATION"))
    current = _current_link(file)
    if current is not None and current.on_electoral_roll:
        adjustments.append((p.electoral_roll_score_points, "ON_ELECTORAL_ROLL"))
    else:
        adjustments.append((p.not_on_electoral_roll_points, "NOT_ON_ELECTORAL_ROLL"))
    if current is not None and _within_years(
        month_start(current.first_seen_date), on, p.short_address_history_years
    ):
        adjustments.append((p.short_address_history_points, "SHORT_ADDRESS_HISTORY"))
    if not open_credit:
        adjustments.append((p.thin_file_points, "THIN_FILE"))
    opened = [d for a in file.credit_accounts if (d := month_start(a.opened_date))]
    if opened and min(opened) <= years_after(on, -p.long_credit_history_years):
        adjustments.append((p.long_credit_history_points, "LONG_CREDIT_HISTORY"))
    if open_credit and all(a.status == pb.ACCOUNT_STATUS_UP_TO_DATE for a in open_credit):
        adjustments.append((p.all_up_to_date_points, "ALL_ACCOUNTS_UP_TO_DATE"))

    score = p.score_start + sum(points for points, _ in adjustments)
    if insolvent:
        # The cap always applies (and is named) while an insolvency is in force; its impact is what it took off.
        capped = min(score, p.insolvency_score_cap)
        adjustments.append((capped - score, "INSOLVENCY_IN_FORCE"))
        score = capped
    score = min(max(score, 0), 999)

    codes: list[str] = []
    for _, code in sorted(
        adjustments, key=lambda adj: -abs(adj[0])
    ):  # stable: ties keep the fixed order
        if code not in codes:
            codes.append(code)
    codes = codes[: p.max_reason_codes]
    if (
        no_trace and "THIN_FILE" not in codes
    ):  # "no trace" must always say so, whatever else crowds it out
        codes = [*codes[: p.max_reason_codes - 1], "THIN_FILE"]
    return score, _band(score, p), attributes, codes


# ---------------------------------------------------------------------------------------------------------
# Surveillance alerts
# ---------------------------------------------------------------------------------------------------------


def _require(
    alert: pb.SurveillanceAlert, finding: str, kind: pb.SurveillanceAlertKind.ValueType
) -> None:
    if alert.WhichOneof("finding") != finding:
        raise ValueError(f"{pb.SurveillanceAlertKind.Name(kind)} alert needs its {finding} finding")


def assess_alert(
    kind: pb.SurveillanceAlertKind.ValueType,
    alert: pb.SurveillanceAlert,
    file: pb.CreditFile,
    *,
    on: dt.date,
    params: AssessmentParameters = DEFAULTS,
) -> pb.LeadAssessment:
    """How far one surveillance finding supports resuming enforcement. Rank is always 1 (one finding per alert).

    Raises ValueError for an unspecified kind, or when the finding the rule reads is not the one set on the alert."""
    p = params
    if kind == pb.SURVEILLANCE_ALERT_KIND_DECEASED:
        # The flag is itself the finding: the whole-file modifiers do not apply to it.
        return pb.LeadAssessment(
            rank=1,
            confidence_percent=p.deceased_alert_confidence,
            suggested_action=_FI,
            reasons=["DECEASED"],
        )
    if kind in (
        pb.SURVEILLANCE_ALERT_KIND_NEW_CURRENT_ACCOUNT,
        pb.SURVEILLANCE_ALERT_KIND_TURNOVER_INCREASE,
    ):
        _require(alert, "current_account", kind)
        draft = _account_draft(alert.current_account, on, p)
        if kind == pb.SURVEILLANCE_ALERT_KIND_TURNOVER_INCREASE:
            draft = _Draft(draft.confidence, draft.action, (*draft.reasons, "TURNOVER_INCREASED"))
    elif kind == pb.SURVEILLANCE_ALERT_KIND_NEW_EMPLOYMENT_HINT:
        _require(alert, "employment_hint", kind)
        draft = _employment_draft(alert.employment_hint, on, p)
    elif kind == pb.SURVEILLANCE_ALERT_KIND_NEW_PROPERTY_INDICATOR:
        _require(alert, "property_indicator", kind)
        draft = _property_draft(alert.property_indicator, file, p)
    elif kind == pb.SURVEILLANCE_ALERT_KIND_NEW_ADDRESS:
        _require(alert, "address_link", kind)
        has_open_account = bool(_open_current_accounts(file, on) or _open_credit_accounts(file, on))
        confidence, reasons = _trace_link(
            alert.address_link, has_open_account=has_open_account, last_known=None, p=p
        )
        draft = _Draft(confidence, _FI, (*reasons, "VERIFY_ADDRESS"))
    elif kind == pb.SURVEILLANCE_ALERT_KIND_NEW_CREDIT_ACCOUNT:
        draft = _Draft(p.new_credit_account_confidence, _FI, ("NEW_CREDIT_ACTIVITY",))
    elif kind == pb.SURVEILLANCE_ALERT_KIND_NEW_PUBLIC_RECORD:
        _require(alert, "public_record", kind)
        reason = "NEW_JUDGMENT" if alert.public_record.type in _JUDGMENTS else "NEW_INSOLVENCY"
        draft = _Draft(p.new_public_record_confidence, _FI, (reason,))
    else:
        raise ValueError(f"no assessment for surveillance alert kind {kind}")
    assessment = _finish(draft, _file_facts(file, on), p)
    assessment.rank = 1
    return assessment
