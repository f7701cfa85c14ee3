"""What a credit file shows an enforcement officer (cms_cra_gateway.assessment.rules; docs/domain/external-systems.md §3)."""

from __future__ import annotations

import dataclasses
import datetime as dt

import pytest
from google.type import date_pb2
from hypothesis import given, settings
from hypothesis import strategies as st

from cms.common.v1 import types_pb2 as common
from cms.cra.v1 import cra_service_pb2 as api
from cms.cra.v1 import resources_pb2 as pb
from cms_cra_gateway.assessment.rules import (
    DEFAULTS,
    AssessmentParameters,
    arrears_leads,
    assess_alert,
    average_monthly_turnover,
    cautions,
    credit_score,
    enforcement_leads,
    insolvency_in_force,
    same_address,
    trace_addresses,
    unexpired_fraud_markers,
)

# The rules read dates with the platform's month_start (unset is absent, a month is its 1st).
from cms_platform.convert import month_start as to_date

ON = dt.date(2026, 3, 15)
START = DEFAULTS.score_start
CLEAN = START + 40 + 60 + 80  # on the roll, a long history, everything up to date
FI = pb.ENFORCEMENT_ACTION_FURTHER_INVESTIGATION
RDO = pb.ENFORCEMENT_ACTION_REGULAR_DEDUCTION_ORDER
LSDO = pb.ENFORCEMENT_ACTION_LUMP_SUM_DEDUCTION_ORDER
DEO = pb.ENFORCEMENT_ACTION_DEDUCTION_FROM_EARNINGS_ORDER
CO = pb.ENFORCEMENT_ACTION_CHARGING_ORDER


# --- builders -------------------------------------------------------------------------------------------


def D(value: dt.date | None) -> date_pb2.Date:
    return (
        date_pb2.Date()
        if value is None
        else date_pb2.Date(year=value.year, month=value.month, day=value.day)
    )


def days_ago(n: int) -> date_pb2.Date:
    return D(ON - dt.timedelta(days=n))


def years_ago(n: int, extra_days: int = 0) -> date_pb2.Date:
    return D(ON.replace(year=ON.year - n) - dt.timedelta(days=extra_days))


def months(*credits: int) -> list[pb.MonthlyTurnover]:
    """Turnover newest first, starting with the month before ON."""
    out, year, month = [], ON.year, ON.month
    for credit in credits:
        month -= 1
        if month == 0:
            year, month = year - 1, 12
        out.append(
            pb.MonthlyTurnover(
                month=date_pb2.Date(year=year, month=month), credit_turnover_pence=credit
            )
        )
    return out


def address(line: str = "1 High Street", postcode: str = "AB1 2CD") -> common.Address:
    return common.Address(lines=[line], post_town="Northtown", postcode=postcode)


def account(
    account_id="CA-1", *, holding=pb.ACCOUNT_HOLDING_SOLE, balance=0, turnover=(), opened=None, **kw
):
    return pb.CurrentAccount(
        account_id=account_id,
        provider_name="Northern Counties BS",
        sort_code="11-22-33",
        account_number="12345678",
        holding=holding,
        balance_pence=balance,
        monthly_turnover=months(*turnover),
        opened_date=opened if opened is not None else years_ago(3),
        **kw,
    )


def hint(
    hint_id="EH-1", *, source=pb.EMPLOYMENT_HINT_SOURCE_SALARY_CREDITS, last_seen=None
) -> pb.EmploymentHint:
    return pb.EmploymentHint(
        hint_id=hint_id,
        employer_name="Acme Ltd",
        source=source,
        last_seen_date=last_seen if last_seen is not None else date_pb2.Date(),
    )


def prop(
    indicator_id="PI-1",
    *,
    kind=pb.PROPERTY_INDICATOR_TYPE_MORTGAGE,
    at=None,
    holding=pb.ACCOUNT_HOLDING_SOLE,
):
    return pb.PropertyIndicator(
        indicator_id=indicator_id,
        type=kind,
        address=at or address("9 Hill Road", "ZZ9 9ZZ"),
        holding=holding,
    )


def link(
    kind=pb.ADDRESS_LINK_TYPE_CURRENT,
    at=None,
    *,
    first_seen=None,
    last_seen=None,
    roll=False,
    gone_away=False,
):
    return pb.AddressLink(
        address=at or address(),
        link_type=kind,
        first_seen_date=first_seen or years_ago(5),
        last_seen_date=last_seen or date_pb2.Date(),
        on_electoral_roll=roll,
        gone_away=gone_away,
    )


def card(
    account_id="CR-1",
    *,
    limit=100_000,
    balance=0,
    status=pb.ACCOUNT_STATUS_UP_TO_DATE,
    opened=None,
    **kw,
):
    return pb.CreditAccount(
        account_id=account_id,
        lender_name="Big Bank",
        type=pb.CREDIT_ACCOUNT_TYPE_CREDIT_CARD,
        credit_limit_pence=limit,
        balance_pence=balance,
        status=status,
        opened_date=opened if opened is not None else years_ago(3),
        **kw,
    )


def loan(account_id="CR-9", *, status=pb.ACCOUNT_STATUS_UP_TO_DATE, **kw) -> pb.CreditAccount:
    base = dict(opened_date=years_ago(3), balance_pence=200_000)
    base.update(kw)
    return pb.CreditAccount(
        account_id=account_id,
        lender_name="Loans plc",
        type=pb.CREDIT_ACCOUNT_TYPE_PERSONAL_LOAN,
        status=status,
        **base,
    )


def record(kind=pb.PUBLIC_RECORD_TYPE_COUNTY_COURT_JUDGMENT, *, on=None, **kw) -> pb.PublicRecord:
    return pb.PublicRecord(record_id="PR-1", type=kind, record_date=on or years_ago(1), **kw)


BANKRUPTCY = record(pb.PUBLIC_RECORD_TYPE_BANKRUPTCY, on=years_ago(1))
GOOD_ACCOUNT = dict(
    holding=pb.ACCOUNT_HOLDING_SOLE, balance=10_000, turnover=(200_000, 200_000, 200_000)
)


def account_assessment(acc: pb.CurrentAccount, **file_kw) -> pb.LeadAssessment:
    leads, _ = arrears_leads(pb.CreditFile(current_accounts=[acc], **file_kw), on=ON)
    assert len(leads) == 1
    return leads[0].assessment


def hint_assessment(h: pb.EmploymentHint) -> pb.LeadAssessment:
    return arrears_leads(pb.CreditFile(employment_hints=[h]), on=ON)[1][0].assessment


def property_assessment(p: pb.PropertyIndicator, **file_kw) -> pb.LeadAssessment:
    return enforcement_leads(pb.CreditFile(property_indicators=[p], **file_kw), on=ON)[2][
        0
    ].assessment


# --- helpers --------------------------------------------------------------------------------------------


def test_to_date_treats_year_zero_as_absent_and_a_month_as_its_first_day():
    assert to_date(date_pb2.Date()) is None
    assert to_date(None) is None
    assert to_date(date_pb2.Date(year=2025, month=7)) == dt.date(2025, 7, 1)
    assert to_date(date_pb2.Date(year=2025, month=7, day=9)) == dt.date(2025, 7, 9)


def test_same_address_ignores_postcode_spacing_and_case_and_first_line_case_and_spacing():
    a = common.Address(lines=["1  High   Street ", "Flat 2"], postcode="ab12cd")
    b = common.Address(lines=["1 HIGH STREET"], postcode="AB1 2CD")
    assert same_address(a, b)
    assert not same_address(a, common.Address(lines=["1 High Street"], postcode="AB1 2CE"))
    assert not same_address(a, common.Address(lines=["2 High Street"], postcode="AB1 2CD"))


def test_average_monthly_turnover_is_the_floor_of_the_mean_and_zero_without_months():
    assert average_monthly_turnover(account(turnover=(100, 100, 101))) == 100
    assert average_monthly_turnover(account(turnover=())) == 0
    assert average_monthly_turnover(account(turnover=(150_000, 0))) == 75_000


def test_parameters_are_frozen_and_integers():
    with pytest.raises(dataclasses.FrozenInstanceError):
        DEFAULTS.sole_account_points = 1  # type: ignore[misc]
    assert all(
        type(getattr(DEFAULTS, f.name)) is int for f in dataclasses.fields(AssessmentParameters)
    )


# --- account leads --------------------------------------------------------------------------------------


def test_sole_account_with_regular_high_turnover_suits_a_regular_deduction_order():
    a = account_assessment(account(**GOOD_ACCOUNT))
    assert a.confidence_percent == 50 + 15 + 15 + 10 + 5
    assert a.suggested_action == RDO
    assert list(a.reasons) == [
        "SOLE_ACCOUNT",
        "HIGH_AVERAGE_TURNOVER",
        "REGULAR_CREDITS",
        "BALANCE_ABOVE_RDO_MINIMUM",
    ]


def test_joint_new_overdrawn_account_without_credits_is_weak_and_clamped_at_zero():
    a = account_assessment(
        account(
            holding=pb.ACCOUNT_HOLDING_JOINT,
            balance=-500,
            turnover=(0, 0, 0, 9_000),
            opened=days_ago(90),
        )
    )
    # 50 + 5 - 15 (low average 2,250) - 25 - 15 - 10 = -10, clamped
    assert a.confidence_percent == 0
    assert list(a.reasons) == [
        "JOINT_ACCOUNT",
        "LOW_AVERAGE_TURNOVER",
        "NO_RECENT_CREDITS",
        "OVERDRAWN",
        "OPENED_RECENTLY",
    ]
    assert a.suggested_action == FI


def test_business_accounts_sole_trader_scores_and_partnership_is_always_investigated():
    sole_trader = account_assessment(
        account(**{**GOOD_ACCOUNT, "holding": pb.ACCOUNT_HOLDING_SOLE_TRADER_BUSINESS})
    )
    assert sole_trader.confidence_percent == 50 + 10 + 15 + 10 + 5
    assert sole_trader.reasons[0] == "SOLE_TRADER_BUSINESS_ACCOUNT"
    partnership = account_assessment(
        account(**{**GOOD_ACCOUNT, "holding": pb.ACCOUNT_HOLDING_PARTNERSHIP_BUSINESS})
    )
    assert partnership.confidence_percent == 50 - 20 + 15 + 10 + 5
    assert partnership.reasons[0] == "PARTNERSHIP_ACCOUNT"
    assert partnership.suggested_action == FI  # despite regular credits


@pytest.mark.parametrize(
    ("average", "reason"),
    [
        (150_000, "HIGH_AVERAGE_TURNOVER"),
        (149_999, None),
        (30_000, None),
        (29_999, "LOW_AVERAGE_TURNOVER"),
    ],
)
def test_turnover_thresholds(average, reason):
    reasons = set(account_assessment(account(turnover=(average, average, average))).reasons)
    assert reasons & {"HIGH_AVERAGE_TURNOVER", "LOW_AVERAGE_TURNOVER"} == (
        {reason} if reason else set()
    )


def test_regular_credits_need_three_months_each_with_a_credit():
    assert (
        "REGULAR_CREDITS" not in account_assessment(account(turnover=(50_000, 50_000))).reasons
    )  # only 2 held
    assert (
        "REGULAR_CREDITS"
        not in account_assessment(account(turnover=(50_000, 0, 50_000, 50_000))).reasons
    )
    a = account_assessment(account(turnover=(50_000, 1, 50_000)))
    assert "REGULAR_CREDITS" in a.reasons and a.suggested_action == RDO


def test_no_recent_credits_looks_at_the_latest_three_months_only_and_needs_some_data():
    assert "NO_RECENT_CREDITS" in account_assessment(account(turnover=(0, 0, 0, 500_000))).reasons
    assert "NO_RECENT_CREDITS" not in account_assessment(account(turnover=(0, 0, 1))).reasons
    assert "NO_RECENT_CREDITS" not in account_assessment(account(turnover=())).reasons


def test_months_are_read_newest_first_by_date_not_list_order():
    acc = account()
    # Oldest first: the three months with credits come first in the list, the three newest have none.
    acc.monthly_turnover.extend(list(reversed(months(0, 0, 0, 50_000, 50_000, 50_000))))
    assert "NO_RECENT_CREDITS" in account_assessment(acc).reasons


@pytest.mark.parametrize(
    ("balance", "reason", "points"),
    [
        (-1, "OVERDRAWN", -15),
        (0, "BALANCE_BELOW_RDO_MINIMUM", -10),
        (3_999, "BALANCE_BELOW_RDO_MINIMUM", -10),
        (4_000, "BALANCE_ABOVE_RDO_MINIMUM", 5),
    ],
)
def test_balance_against_the_40_pound_rdo_floor(balance, reason, points):
    a = account_assessment(
        account(holding=pb.ACCOUNT_HOLDING_UNSPECIFIED, balance=balance, turnover=(50_000,))
    )
    assert list(a.reasons) == [reason]
    assert a.confidence_percent == 50 + points


def test_lump_sum_order_when_no_regular_credits_but_a_balance_of_500_pounds():
    a = account_assessment(account(balance=50_000, turnover=(100_000, 100_000)))
    assert a.suggested_action == LSDO
    assert a.reasons[-1] == "BALANCE_SUPPORTS_LUMP_SUM"
    b = account_assessment(account(balance=49_999, turnover=(100_000, 100_000)))
    assert b.suggested_action == FI and "BALANCE_SUPPORTS_LUMP_SUM" not in b.reasons


def test_opened_recently_within_90_days():
    assert "OPENED_RECENTLY" in account_assessment(account(opened=days_ago(90))).reasons
    assert "OPENED_RECENTLY" in account_assessment(account(opened=days_ago(0))).reasons
    assert "OPENED_RECENTLY" not in account_assessment(account(opened=days_ago(91))).reasons


def test_only_open_accounts_become_leads():
    file = pb.CreditFile(
        current_accounts=[
            account("A-open", **GOOD_ACCOUNT),
            account("A-closed", closed_date=days_ago(10), **GOOD_ACCOUNT),
            account("A-settled", status=pb.ACCOUNT_STATUS_SETTLED, **GOOD_ACCOUNT),
        ]
    )
    leads, _ = arrears_leads(file, on=ON)
    assert [lead.account.account_id for lead in leads] == ["A-open"]
    assert leads[0].account.average_monthly_credit_turnover_pence == 200_000


def test_parameters_change_the_rules():
    strict = AssessmentParameters(rdo_minimum_balance_pence=20_000)
    leads, _ = arrears_leads(
        pb.CreditFile(current_accounts=[account(**GOOD_ACCOUNT)]), on=ON, params=strict
    )
    assert "BALANCE_BELOW_RDO_MINIMUM" in leads[0].assessment.reasons


# --- employment leads -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("age", "confidence", "reason", "action"),
    [
        (0, 85, "RECENT_SALARY_CREDITS", DEO),
        (62, 85, "RECENT_SALARY_CREDITS", DEO),
        (63, 60, "SALARY_CREDITS", DEO),
        (183, 60, "SALARY_CREDITS", DEO),
        (184, 30, "STALE_HINT", FI),
        (None, 30, "STALE_HINT", FI),
    ],
)
def test_salary_credit_hints_by_age(age, confidence, reason, action):
    a = hint_assessment(hint(last_seen=None if age is None else days_ago(age)))
    assert (a.confidence_percent, a.suggested_action) == (confidence, action)
    assert list(a.reasons) == [reason, "CONFIRM_EMPLOYMENT_WITH_HMRC"]


def test_credit_application_hints_are_declarations_to_investigate():
    fresh = hint_assessment(
        hint(source=pb.EMPLOYMENT_HINT_SOURCE_CREDIT_APPLICATION, last_seen=days_ago(183))
    )
    assert (fresh.confidence_percent, fresh.suggested_action) == (45, FI)
    assert list(fresh.reasons) == ["DECLARED_ON_CREDIT_APPLICATION", "CONFIRM_EMPLOYMENT_WITH_HMRC"]
    stale = hint_assessment(
        hint(source=pb.EMPLOYMENT_HINT_SOURCE_CREDIT_APPLICATION, last_seen=days_ago(184))
    )
    assert stale.confidence_percent == 25
    assert list(stale.reasons) == [
        "DECLARED_ON_CREDIT_APPLICATION",
        "STALE_HINT",
        "CONFIRM_EMPLOYMENT_WITH_HMRC",
    ]


# --- property leads -------------------------------------------------------------------------------------


def test_property_types():
    mortgage = property_assessment(prop(kind=pb.PROPERTY_INDICATOR_TYPE_MORTGAGE))
    assert (mortgage.confidence_percent, mortgage.suggested_action, list(mortgage.reasons)) == (
        70,
        CO,
        ["MORTGAGE_SECURED_ON_ADDRESS"],
    )
    secured = property_assessment(prop(kind=pb.PROPERTY_INDICATOR_TYPE_SECURED_LOAN))
    assert (secured.confidence_percent, secured.suggested_action) == (55, CO)
    declared = property_assessment(prop(kind=pb.PROPERTY_INDICATOR_TYPE_DECLARED_HOMEOWNER))
    assert (declared.confidence_percent, declared.suggested_action, list(declared.reasons)) == (
        35,
        FI,
        ["DECLARED_HOMEOWNER"],
    )


def test_property_at_the_current_address_and_joint_interest():
    home = address("4 Elm Way", "NE1 1AA")
    a = property_assessment(
        prop(at=address("4 ELM  WAY", "ne11aa"), holding=pb.ACCOUNT_HOLDING_JOINT),
        address_links=[link(pb.ADDRESS_LINK_TYPE_CURRENT, home)],
    )
    assert a.confidence_percent == 70 + 10 - 5
    assert list(a.reasons) == [
        "MORTGAGE_SECURED_ON_ADDRESS",
        "AT_CURRENT_ADDRESS",
        "JOINT_INTEREST",
    ]
    # A current link no longer seen, or a previous one, is not the current address.
    for stale in (
        link(pb.ADDRESS_LINK_TYPE_CURRENT, home, last_seen=days_ago(30)),
        link(pb.ADDRESS_LINK_TYPE_PREVIOUS, home),
    ):
        assert (
            "AT_CURRENT_ADDRESS"
            not in property_assessment(prop(at=home), address_links=[stale]).reasons
        )


# --- whole-file modifiers -------------------------------------------------------------------------------


def test_insolvency_lowers_every_lead_and_makes_it_an_investigation():
    file = pb.CreditFile(
        current_accounts=[account(**GOOD_ACCOUNT)],
        employment_hints=[hint(last_seen=days_ago(5))],
        property_indicators=[prop()],
        public_records=[BANKRUPTCY],
    )
    accounts, employments, properties = enforcement_leads(file, on=ON)
    for lead, before in ((accounts[0], 95), (employments[0], 85), (properties[0], 70)):
        assert lead.assessment.confidence_percent == before - 30
        assert lead.assessment.suggested_action == FI
        assert lead.assessment.reasons[-1] == "INSOLVENCY_IN_FORCE"


def test_deceased_zeroes_every_lead():
    file = pb.CreditFile(
        current_accounts=[account(**GOOD_ACCOUNT)],
        property_indicators=[prop()],
        date_of_death=days_ago(3),
    )
    accounts, _, properties = enforcement_leads(file, on=ON)
    for lead in (accounts[0], properties[0]):
        assert (lead.assessment.confidence_percent, lead.assessment.suggested_action) == (0, FI)
        assert lead.assessment.reasons[-1] == "DECEASED"


# --- ranking together -----------------------------------------------------------------------------------


def test_leads_are_ranked_together_by_confidence_then_kind_then_id():
    file = pb.CreditFile(
        current_accounts=[
            account("A-2", **GOOD_ACCOUNT),  # 95
            account(
                "A-1", holding=pb.ACCOUNT_HOLDING_SOLE, balance=50_000, turnover=(100_000, 100_000)
            ),
        ],  # 70
        employment_hints=[hint("E-1", last_seen=days_ago(10))],  # 85
        property_indicators=[prop("0-P")],  # 70; its id sorts before "A-1", but kind comes first
    )
    accounts, employments, properties = enforcement_leads(file, on=ON)
    ranks = {lead.account.account_id: lead.assessment.rank for lead in accounts}
    assert ranks == {"A-2": 1, "A-1": 3}
    assert employments[0].assessment.rank == 2
    assert (
        properties[0].assessment.rank == 4
    )  # ties with A-1 at 70: accounts before properties, whatever the ids
    assert [lead.account.account_id for lead in accounts] == [
        "A-2",
        "A-1",
    ]  # each list in rank order


def test_equal_leads_of_one_kind_are_ordered_by_id():
    file = pb.CreditFile(
        employment_hints=[hint("E-b", last_seen=days_ago(1)), hint("E-a", last_seen=days_ago(1))]
    )
    _, employments = arrears_leads(file, on=ON)
    assert [(e.hint.hint_id, e.assessment.rank) for e in employments] == [("E-a", 1), ("E-b", 2)]


def test_arrears_leads_leave_out_property():
    file = pb.CreditFile(
        employment_hints=[hint(last_seen=days_ago(1))], property_indicators=[prop()]
    )
    accounts, employments = arrears_leads(file, on=ON)
    assert accounts == [] and [e.assessment.rank for e in employments] == [1]
    assert len(enforcement_leads(file, on=ON)[2]) == 1


# --- cautions and insolvency ----------------------------------------------------------------------------


def test_cautions_in_order_each_once():
    file = pb.CreditFile(
        date_of_death=days_ago(1),
        public_records=[
            BANKRUPTCY,
            record(on=years_ago(2)),
            record(pb.PUBLIC_RECORD_TYPE_SCOTTISH_DECREE),
        ],
        fraud_markers=[
            pb.FraudMarker(type=pb.FRAUD_MARKER_TYPE_FRAUD_WARNING, recorded_date=days_ago(30)),
            pb.FraudMarker(
                type=pb.FRAUD_MARKER_TYPE_PROTECTIVE_REGISTRATION,
                recorded_date=days_ago(30),
                expiry_date=days_ago(-1),
            ),
            pb.FraudMarker(type=pb.FRAUD_MARKER_TYPE_FRAUD_WARNING, recorded_date=days_ago(60)),
        ],
        address_links=[link(gone_away=True)],
    )
    assert cautions(file, on=ON) == [
        "DECEASED",
        "INSOLVENCY_IN_FORCE",
        "FRAUD_PROTECTIVE_REGISTRATION",
        "FRAUD_WARNING",
        "GONE_AWAY",
        "UNSATISFIED_JUDGMENTS",
    ]


def test_cautions_leave_out_what_is_expired_satisfied_or_past_retention():
    file = pb.CreditFile(
        public_records=[
            record(pb.PUBLIC_RECORD_TYPE_IVA, on=years_ago(5), end_date=days_ago(0)),
            record(on=years_ago(1), satisfied=True, satisfied_date=days_ago(100)),
            record(on=years_ago(6, extra_days=1)),
        ],
        fraud_markers=[
            pb.FraudMarker(
                type=pb.FRAUD_MARKER_TYPE_FRAUD_WARNING,
                recorded_date=years_ago(2),
                expiry_date=days_ago(0),
            )
        ],
        address_links=[link(gone_away=False), link(pb.ADDRESS_LINK_TYPE_PREVIOUS, gone_away=True)],
    )
    assert cautions(file, on=ON) == []
    # Satisfied only after `on` is still unsatisfied on `on`.
    later = record(on=years_ago(1), satisfied=True, satisfied_date=days_ago(-10))
    assert cautions(pb.CreditFile(public_records=[later]), on=ON) == ["UNSATISFIED_JUDGMENTS"]
    # The same judgment six years old to the day is still live.
    assert cautions(pb.CreditFile(public_records=[record(on=years_ago(6))]), on=ON) == [
        "UNSATISFIED_JUDGMENTS"
    ]


def test_enforcement_shows_fraud_markers_until_their_expiry_day():
    def marker(expiry: date_pb2.Date) -> pb.FraudMarker:
        return pb.FraudMarker(
            type=pb.FRAUD_MARKER_TYPE_FRAUD_WARNING, recorded_date=years_ago(1), expiry_date=expiry
        )

    live, expired, undated, month_only = (
        marker(days_ago(-1)),
        marker(days_ago(0)),
        marker(date_pb2.Date()),
        marker(date_pb2.Date(year=2020, month=1)),
    )
    file = pb.CreditFile(fraud_markers=[live, expired, undated, month_only])
    # Only a whole expiry day ends a marker's display: an unset or month-only one is shown.
    assert unexpired_fraud_markers(file, on=ON) == [live, undated, month_only]


@pytest.mark.parametrize(
    ("kind", "in_force"),
    [
        (pb.PUBLIC_RECORD_TYPE_BANKRUPTCY, True),
        (pb.PUBLIC_RECORD_TYPE_SEQUESTRATION, True),
        (pb.PUBLIC_RECORD_TYPE_IVA, True),
        (pb.PUBLIC_RECORD_TYPE_DEBT_RELIEF_ORDER, True),
        (pb.PUBLIC_RECORD_TYPE_RESTRICTION_ORDER, False),
        (pb.PUBLIC_RECORD_TYPE_COUNTY_COURT_JUDGMENT, False),
    ],
)
def test_insolvency_types(kind, in_force):
    assert insolvency_in_force(pb.CreditFile(public_records=[record(kind)]), on=ON) is in_force


def test_insolvency_in_force_from_start_until_end():
    def rec(**kw):
        return pb.CreditFile(public_records=[record(pb.PUBLIC_RECORD_TYPE_DEBT_RELIEF_ORDER, **kw)])

    assert insolvency_in_force(rec(on=days_ago(0)), on=ON)
    assert insolvency_in_force(rec(on=years_ago(1), end_date=days_ago(-1)), on=ON)
    assert not insolvency_in_force(rec(on=years_ago(1), end_date=days_ago(0)), on=ON)
    assert not insolvency_in_force(rec(on=days_ago(-1)), on=ON)


# --- trace ----------------------------------------------------------------------------------------------


def test_forward_link_outranks_a_current_address_on_the_electoral_roll():
    file = pb.CreditFile(
        address_links=[
            link(pb.ADDRESS_LINK_TYPE_CURRENT, address("1 Old Road"), roll=True),
            link(pb.ADDRESS_LINK_TYPE_FORWARD, address("2 New Road"), first_seen=days_ago(40)),
        ],
        current_accounts=[account()],
    )
    traced, _ = trace_addresses(file, on=ON)
    assert [t.address_link.link_type for t in traced] == [
        pb.ADDRESS_LINK_TYPE_FORWARD,
        pb.ADDRESS_LINK_TYPE_CURRENT,
    ]
    assert [t.rank for t in traced] == [1, 2]
    assert (traced[0].confidence_percent, list(traced[0].reasons)) == (
        90,
        ["FORWARD_ADDRESS_LINK", "CREDIT_ACTIVITY_AT_ADDRESS"],
    )
    assert (traced[1].confidence_percent, list(traced[1].reasons)) == (
        80,
        ["CREDIT_ACTIVITY_AT_ADDRESS", "ELECTORAL_ROLL"],
    )


def test_gone_away_current_address_falls_below_the_forward_link_to_the_level_of_old_addresses():
    file = pb.CreditFile(
        address_links=[
            link(
                pb.ADDRESS_LINK_TYPE_CURRENT, address("1 Old Road"), gone_away=True
            ),  # 70 - 40 = 30
            link(
                pb.ADDRESS_LINK_TYPE_PREVIOUS,
                address("3 Mid Road"),
                roll=True,
                last_seen=years_ago(1),
            ),  # 20 + 10 = 30
            link(
                pb.ADDRESS_LINK_TYPE_LINKED, address("5 Far Road"), roll=True, gone_away=False
            ),  # 15 + 10 = 25
            link(
                pb.ADDRESS_LINK_TYPE_FORWARD, address("2 New Road"), roll=True
            ),  # 90 + 10 + 5 (last known)
        ]
    )
    traced, _ = trace_addresses(file, on=ON, last_known=address("2 New Road"))
    lines = [t.address_link.address.lines[0] for t in traced]
    assert lines == [
        "2 New Road",
        "1 Old Road",
        "3 Mid Road",
        "5 Far Road",
    ]  # tie at 30: current before previous
    gone = traced[1]
    assert gone.confidence_percent == 30 and "GONE_AWAY_MARKER" in gone.reasons
    assert "CREDIT_ACTIVITY_AT_ADDRESS" not in gone.reasons  # no open account on the file
    assert traced[0].confidence_percent == 100  # 105, clamped


def test_current_link_no_longer_seen_and_ties_by_newest_first_seen():
    file = pb.CreditFile(
        address_links=[
            link(pb.ADDRESS_LINK_TYPE_LINKED, address("A"), first_seen=years_ago(4)),
            link(pb.ADDRESS_LINK_TYPE_LINKED, address("B"), first_seen=years_ago(1)),
            link(pb.ADDRESS_LINK_TYPE_CURRENT, address("C"), last_seen=days_ago(20)),
        ]
    )
    traced, _ = trace_addresses(file, on=ON)
    assert [t.address_link.address.lines[0] for t in traced] == ["C", "B", "A"]
    assert (traced[0].confidence_percent, list(traced[0].reasons)) == (60, ["NO_LONGER_SEEN"])


def test_equal_confidence_ranks_forward_then_current_then_previous_then_linked():
    p = AssessmentParameters(
        forward_link_confidence=50,
        current_link_confidence=50,
        previous_link_confidence=50,
        linked_link_confidence=50,
    )
    file = pb.CreditFile(
        address_links=[
            link(pb.ADDRESS_LINK_TYPE_LINKED, address("L"), first_seen=days_ago(1)),
            link(pb.ADDRESS_LINK_TYPE_PREVIOUS, address("P"), first_seen=days_ago(2)),
            link(pb.ADDRESS_LINK_TYPE_CURRENT, address("C"), first_seen=days_ago(3)),
            link(pb.ADDRESS_LINK_TYPE_FORWARD, address("F"), first_seen=days_ago(4)),
        ]
    )
    traced, _ = trace_addresses(file, on=ON, params=p)
    assert [t.address_link.address.lines[0] for t in traced] == ["F", "C", "P", "L"]


def test_previous_links_older_than_six_years_are_dropped():
    file = pb.CreditFile(
        address_links=[
            link(pb.ADDRESS_LINK_TYPE_PREVIOUS, address("Kept"), last_seen=years_ago(6)),
            link(
                pb.ADDRESS_LINK_TYPE_PREVIOUS, address("Gone"), last_seen=years_ago(6, extra_days=1)
            ),
            link(
                pb.ADDRESS_LINK_TYPE_LINKED,
                address("Old link"),
                first_seen=years_ago(9),
                last_seen=years_ago(8),
            ),
        ]
    )
    traced, _ = trace_addresses(file, on=ON)
    assert [t.address_link.address.lines[0] for t in traced] == ["Kept", "Old link"]


def test_last_known_address_is_confirmed_only_by_the_rank_one_current_or_forward_link():
    home = address("7 Rose Lane", "LS1 4AB")
    current_only = pb.CreditFile(address_links=[link(pb.ADDRESS_LINK_TYPE_CURRENT, home)])
    traced, confirmed = trace_addresses(
        current_only, on=ON, last_known=address("7 rose lane", "ls14ab")
    )
    assert confirmed
    assert (
        traced[0].reasons[-1] == "MATCHES_LAST_KNOWN_ADDRESS" and traced[0].confidence_percent == 75
    )
    assert trace_addresses(current_only, on=ON)[1] is False
    # An unset last_known_address (an empty Address) is "not given": it matches nothing, not even a blank link.
    blank = pb.CreditFile(address_links=[pb.AddressLink(link_type=pb.ADDRESS_LINK_TYPE_CURRENT)])
    traced, confirmed = trace_addresses(blank, on=ON, last_known=common.Address())
    assert not confirmed and "MATCHES_LAST_KNOWN_ADDRESS" not in traced[0].reasons
    moved = pb.CreditFile(
        address_links=[
            link(pb.ADDRESS_LINK_TYPE_CURRENT, home),
            link(pb.ADDRESS_LINK_TYPE_FORWARD, address("8 Away St")),
        ]
    )
    assert trace_addresses(moved, on=ON, last_known=home)[1] is False
    previous = pb.CreditFile(address_links=[link(pb.ADDRESS_LINK_TYPE_PREVIOUS, home)])
    assert trace_addresses(previous, on=ON, last_known=home)[1] is False


# --- credit score ---------------------------------------------------------------------------------------


def clean_file(**kw) -> pb.CreditFile:
    base = dict(
        address_links=[link(roll=True, first_seen=years_ago(5))],
        credit_accounts=[card(opened=years_ago(7), balance=10_000)],
    )
    base.update(kw)
    return pb.CreditFile(**base)


def test_a_clean_long_file_scores_well():
    score, band, attrs, codes = credit_score(clean_file(), on=ON)
    assert score == START + 40 + 60 + 80
    assert band == api.SCORE_BAND_EXCELLENT
    assert codes == ["ALL_ACCOUNTS_UP_TO_DATE", "LONG_CREDIT_HISTORY", "ON_ELECTORAL_ROLL"]
    assert (
        attrs.default_count,
        attrs.unsatisfied_judgment_count,
        attrs.accounts_in_arrears_count,
    ) == (0, 0, 0)
    assert (attrs.worst_current_months_in_arrears, attrs.months_since_last_default) == (0, -1)
    assert attrs.available_credit_pence == 90_000 and attrs.total_credit_balance_pence == 10_000


def test_recent_and_older_defaults():
    recent = clean_file(
        credit_accounts=[
            card(opened=years_ago(7)),
            loan(
                status=pb.ACCOUNT_STATUS_DEFAULTED,
                default_date=days_ago(200),
                closed_date=days_ago(100),
            ),
        ]
    )
    score, _, attrs, codes = credit_score(recent, on=ON)
    assert (attrs.default_count, attrs.months_since_last_default) == (1, 6)
    assert (
        score == START - 120 - 60 + 40 + 60 + 80
    )  # the defaulted loan is closed: the open card is up to date
    assert codes[0] == "RECENT_DEFAULT"
    older = clean_file(
        credit_accounts=[
            card(opened=years_ago(7)),
            loan(status=pb.ACCOUNT_STATUS_DEFAULTED, default_date=years_ago(2)),
        ]
    )
    score, _, attrs, codes = credit_score(older, on=ON)
    assert (
        attrs.default_count,
        attrs.months_since_last_default,
        attrs.worst_current_months_in_arrears,
    ) == (1, 24, 7)
    assert score == START - 120 + 40 + 60 and codes[0] == "DEFAULTS"


def test_bureau_counts_cap_at_nine_and_only_three_defaults_are_scored():
    defaults = [
        loan(
            f"L-{i}",
            status=pb.ACCOUNT_STATUS_DEFAULTED,
            default_date=years_ago(3),
            closed_date=years_ago(2),
        )
        for i in range(12)
    ]
    eight = [
        loan(
            f"L-{i}",
            status=pb.ACCOUNT_STATUS_DEFAULTED,
            default_date=years_ago(3),
            closed_date=years_ago(2),
        )
        for i in range(8)
    ]
    many = credit_score(clean_file(credit_accounts=[card(opened=years_ago(7)), *defaults]), on=ON)
    assert many[2].default_count == 9
    assert many[0] == START - 3 * 120 + 40 + 60 + 80
    assert credit_score(clean_file(credit_accounts=[card(), *eight]), on=ON)[2].default_count == 8
    arrears = [
        loan(f"L-{i}", status=pb.ACCOUNT_STATUS_IN_ARREARS, months_in_arrears=1) for i in range(10)
    ]
    assert (
        credit_score(clean_file(credit_accounts=arrears), on=ON)[2].accounts_in_arrears_count == 9
    )


def test_unsatisfied_judgments_score_at_most_two():
    one = credit_score(clean_file(public_records=[record()]), on=ON)
    three = credit_score(clean_file(public_records=[record(), record(), record()]), on=ON)
    assert one[0] == CLEAN - 150 and one[3][0] == "UNSATISFIED_CCJ"
    assert three[0] == CLEAN - 300 and three[2].unsatisfied_judgment_count == 3


def test_arrears_score_by_the_worst_months():
    file = clean_file(
        credit_accounts=[
            card(opened=years_ago(7)),
            loan("L-1", status=pb.ACCOUNT_STATUS_IN_ARREARS, months_in_arrears=3),
            loan("L-2", status=pb.ACCOUNT_STATUS_IN_ARREARS, months_in_arrears=1),
        ]
    )
    score, _, attrs, codes = credit_score(file, on=ON)
    assert (attrs.accounts_in_arrears_count, attrs.worst_current_months_in_arrears) == (2, 3)
    assert score == START - 120 + 40 + 60  # and no "all up to date"
    assert codes[0] == "ACCOUNTS_IN_ARREARS"
    assert attrs.total_credit_balance_pence == 400_000


@pytest.mark.parametrize(
    ("balance", "points"), [(50_000, 0), (50_001, -40), (75_000, -40), (75_001, -80)]
)
def test_card_utilisation(balance, points):
    # Utilisation is over all open cards together: balances summed over limits summed (100,000).
    file = clean_file(
        credit_accounts=[
            card(opened=years_ago(7), limit=60_000, balance=balance - 20_000),
            card("CR-2", opened=years_ago(1), limit=40_000, balance=20_000),
        ]
    )
    score, _, _, codes = credit_score(file, on=ON)
    assert score == CLEAN + points
    assert ("HIGH_UTILISATION" in codes) is (points != 0)


def test_available_credit_counts_card_headroom_and_unused_overdraft():
    file = clean_file(
        credit_accounts=[
            card(limit=100_000, balance=120_000),
            card("CR-2", limit=50_000, balance=10_000),
            card("CR-3", limit=50_000, balance=0, closed_date=days_ago(5)),
        ],
        current_accounts=[
            account(balance=-20_000, overdraft_limit_pence=50_000),
            account("CA-2", balance=5_000, overdraft_limit_pence=10_000),
        ],
    )
    attrs = credit_score(file, on=ON)[2]
    assert attrs.available_credit_pence == 0 + 40_000 + 30_000 + 10_000
    assert attrs.total_credit_balance_pence == 130_000


def test_electoral_roll_and_short_address_history():
    score, _, _, codes = credit_score(
        clean_file(address_links=[link(roll=False, first_seen=years_ago(2))]), on=ON
    )
    assert score == START - 40 - 30 + 60 + 80
    assert "NOT_ON_ELECTORAL_ROLL" in codes and "SHORT_ADDRESS_HISTORY" in codes
    older = credit_score(
        clean_file(address_links=[link(roll=True, first_seen=years_ago(2, extra_days=1))]), on=ON
    )
    assert "SHORT_ADDRESS_HISTORY" not in older[3]


def test_thin_file_is_no_trace():
    score, band, attrs, codes = credit_score(
        pb.CreditFile(address_links=[link(roll=True, first_seen=years_ago(4))]), on=ON
    )
    assert (
        attrs.default_count,
        attrs.unsatisfied_judgment_count,
        attrs.accounts_in_arrears_count,
    ) == (-1, -1, -1)
    assert attrs.months_since_last_default == -1
    assert score == START + 40 - 60 and band == api.SCORE_BAND_FAIR
    assert "THIN_FILE" in codes
    # A current account alone is a trace: counts are 0, though still no open credit account.
    with_bank = credit_score(pb.CreditFile(current_accounts=[account()]), on=ON)[2]
    assert (with_bank.default_count, with_bank.accounts_in_arrears_count) == (0, 0)
    # A judgment is never hidden behind "no trace".
    assert (
        credit_score(pb.CreditFile(public_records=[record()]), on=ON)[2].unsatisfied_judgment_count
        == 1
    )


def test_thin_file_reason_survives_the_cap_on_reason_codes():
    p = AssessmentParameters(max_reason_codes=1)
    codes = credit_score(pb.CreditFile(public_records=[record()]), on=ON, params=p)[3]
    assert codes == ["THIN_FILE"]


def test_insolvency_caps_the_score():
    score, band, attrs, codes = credit_score(clean_file(public_records=[BANKRUPTCY]), on=ON)
    assert score == 250 and band == api.SCORE_BAND_VERY_POOR and attrs.insolvency_in_force
    assert codes[0] == "INSOLVENCY_IN_FORCE"  # took 730 off
    # A cap that does not bite is still named while the insolvency is in force.
    low = clean_file(public_records=[BANKRUPTCY, record(), record()], credit_accounts=[])
    score, _, _, codes = credit_score(
        low, on=ON, params=AssessmentParameters(insolvency_score_cap=500)
    )
    assert score == START - 300 + 40 - 60
    assert codes == ["UNSATISFIED_CCJ", "THIN_FILE", "ON_ELECTORAL_ROLL", "INSOLVENCY_IN_FORCE"]


def test_score_is_clamped_at_zero_and_reason_codes_at_four():
    bad = pb.CreditFile(
        credit_accounts=[
            loan(f"L-{i}", status=pb.ACCOUNT_STATUS_DEFAULTED, default_date=days_ago(30))
            for i in range(3)
        ]
        + [
            card(
                limit=1_000, balance=1_000, status=pb.ACCOUNT_STATUS_IN_ARREARS, months_in_arrears=6
            )
        ],
        public_records=[record(), record()],
        address_links=[link(first_seen=days_ago(100))],
    )
    score, band, _, codes = credit_score(bad, on=ON)
    assert score == 0 and band == api.SCORE_BAND_VERY_POOR
    assert codes == ["RECENT_DEFAULT", "UNSATISFIED_CCJ", "ACCOUNTS_IN_ARREARS", "HIGH_UTILISATION"]


@pytest.mark.parametrize(
    ("score", "band"),
    [
        (560, api.SCORE_BAND_VERY_POOR),
        (561, api.SCORE_BAND_POOR),
        (720, api.SCORE_BAND_POOR),
        (721, api.SCORE_BAND_FAIR),
        (880, api.SCORE_BAND_FAIR),
        (881, api.SCORE_BAND_GOOD),
        (960, api.SCORE_BAND_GOOD),
        (961, api.SCORE_BAND_EXCELLENT),
    ],
)
def test_band_boundaries(score, band):
    # An empty file scores start - 40 (not on the roll) - 60 (thin): move the start to land on each boundary.
    p = AssessmentParameters(score_start=score + 100)
    assert credit_score(pb.CreditFile(), on=ON, params=p)[:2] == (score, band)


# --- surveillance alerts --------------------------------------------------------------------------------


def alert(kind, **finding) -> tuple[int, pb.SurveillanceAlert]:
    return kind, pb.SurveillanceAlert(alert_id="AL-1", kind=kind, effective_date=D(ON), **finding)


def test_alert_new_current_account_and_turnover_increase_use_the_account_rule():
    acc = account(**GOOD_ACCOUNT)
    new = assess_alert(
        *alert(pb.SURVEILLANCE_ALERT_KIND_NEW_CURRENT_ACCOUNT, current_account=acc),
        pb.CreditFile(),
        on=ON,
    )
    assert (new.rank, new.confidence_percent, new.suggested_action) == (1, 95, RDO)
    up = assess_alert(
        *alert(pb.SURVEILLANCE_ALERT_KIND_TURNOVER_INCREASE, current_account=acc),
        pb.CreditFile(),
        on=ON,
    )
    assert list(up.reasons) == [*new.reasons, "TURNOVER_INCREASED"]


def test_alert_employment_and_property_use_the_lead_rules():
    h = assess_alert(
        *alert(
            pb.SURVEILLANCE_ALERT_KIND_NEW_EMPLOYMENT_HINT,
            employment_hint=hint(last_seen=days_ago(3)),
        ),
        pb.CreditFile(),
        on=ON,
    )
    assert (h.rank, h.confidence_percent, h.suggested_action) == (1, 85, DEO)
    home = address("4 Elm Way")
    file = pb.CreditFile(address_links=[link(at=home)])
    p = assess_alert(
        *alert(pb.SURVEILLANCE_ALERT_KIND_NEW_PROPERTY_INDICATOR, property_indicator=prop(at=home)),
        file,
        on=ON,
    )
    assert (p.rank, p.confidence_percent, p.suggested_action) == (1, 80, CO)


def test_alert_new_address_uses_the_trace_rule_and_asks_for_verification():
    file = pb.CreditFile(credit_accounts=[card()])
    a = assess_alert(
        *alert(
            pb.SURVEILLANCE_ALERT_KIND_NEW_ADDRESS,
            address_link=link(pb.ADDRESS_LINK_TYPE_CURRENT, roll=True),
        ),
        file,
        on=ON,
    )
    assert (a.rank, a.confidence_percent, a.suggested_action) == (1, 80, FI)
    assert list(a.reasons) == ["CREDIT_ACTIVITY_AT_ADDRESS", "ELECTORAL_ROLL", "VERIFY_ADDRESS"]


def test_alert_credit_account_public_record_and_deceased():
    c = assess_alert(
        *alert(pb.SURVEILLANCE_ALERT_KIND_NEW_CREDIT_ACCOUNT, credit_account=card()),
        pb.CreditFile(),
        on=ON,
    )
    assert (c.confidence_percent, c.suggested_action, list(c.reasons)) == (
        40,
        FI,
        ["NEW_CREDIT_ACTIVITY"],
    )
    j = assess_alert(
        *alert(pb.SURVEILLANCE_ALERT_KIND_NEW_PUBLIC_RECORD, public_record=record()),
        pb.CreditFile(),
        on=ON,
    )
    assert (j.confidence_percent, list(j.reasons)) == (50, ["NEW_JUDGMENT"])
    # The new insolvency is on the file too, so the whole-file modifier applies.
    i = assess_alert(
        *alert(pb.SURVEILLANCE_ALERT_KIND_NEW_PUBLIC_RECORD, public_record=BANKRUPTCY),
        pb.CreditFile(public_records=[BANKRUPTCY]),
        on=ON,
    )
    assert (i.confidence_percent, list(i.reasons)) == (
        20,
        ["NEW_INSOLVENCY", "INSOLVENCY_IN_FORCE"],
    )
    dead_file = pb.CreditFile(date_of_death=days_ago(2), public_records=[BANKRUPTCY])
    d = assess_alert(
        *alert(pb.SURVEILLANCE_ALERT_KIND_DECEASED, date_of_death=days_ago(2)), dead_file, on=ON
    )
    assert (d.rank, d.confidence_percent, d.suggested_action, list(d.reasons)) == (
        1,
        100,
        FI,
        ["DECEASED"],
    )


def test_alert_on_a_deceased_file_is_worth_nothing():
    dead_file = pb.CreditFile(date_of_death=days_ago(2))
    a = assess_alert(
        *alert(
            pb.SURVEILLANCE_ALERT_KIND_NEW_CURRENT_ACCOUNT, current_account=account(**GOOD_ACCOUNT)
        ),
        dead_file,
        on=ON,
    )
    assert (a.confidence_percent, a.suggested_action, a.reasons[-1]) == (0, FI, "DECEASED")


def test_alert_with_the_wrong_finding_or_no_kind_is_refused():
    with pytest.raises(ValueError):
        assess_alert(
            *alert(pb.SURVEILLANCE_ALERT_KIND_NEW_EMPLOYMENT_HINT, current_account=account()),
            pb.CreditFile(),
            on=ON,
        )
    with pytest.raises(ValueError):
        assess_alert(*alert(pb.SURVEILLANCE_ALERT_KIND_UNSPECIFIED), pb.CreditFile(), on=ON)


# --- properties -----------------------------------------------------------------------------------------

_day = st.integers(min_value=0, max_value=3_000).map(days_ago)
_maybe_day = st.one_of(st.just(date_pb2.Date()), _day)
_ids = st.text(alphabet="ABC123", min_size=1, max_size=3)
_pence = st.integers(min_value=-500_000, max_value=5_000_000)

_accounts = st.builds(
    lambda i, holding, balance, turnover, opened, closed, status: account(
        i,
        holding=holding,
        balance=balance,
        turnover=turnover,
        opened=opened,
        closed_date=closed,
        status=status,
    ),
    _ids,
    st.sampled_from(list(pb.AccountHolding.values())),
    _pence,
    st.lists(st.integers(min_value=0, max_value=1_000_000), max_size=12),
    _day,
    _maybe_day,
    st.sampled_from(list(pb.AccountStatus.values())),
)
_hints = st.builds(
    lambda i, source, seen: hint(i, source=source, last_seen=seen),
    _ids,
    st.sampled_from(list(pb.EmploymentHintSource.values())),
    _maybe_day,
)
_postcodes = st.sampled_from(["AB1 2CD", "ab12cd", "ZZ9 9ZZ"])
_addresses = st.builds(
    address, st.sampled_from(["1 High Street", "1 high  street", "9 Hill Road"]), _postcodes
)
_properties = st.builds(
    lambda i, kind, at, holding: prop(i, kind=kind, at=at, holding=holding),
    _ids,
    st.sampled_from(list(pb.PropertyIndicatorType.values())),
    _addresses,
    st.sampled_from(list(pb.AccountHolding.values())),
)
_links = st.builds(
    lambda kind, at, first, last, roll, gone: link(
        kind, at, first_seen=first, last_seen=last, roll=roll, gone_away=gone
    ),
    st.sampled_from(list(pb.AddressLinkType.values())),
    _addresses,
    _day,
    _maybe_day,
    st.booleans(),
    st.booleans(),
)
_credit = st.builds(
    lambda i, kind, limit, balance, status, months_behind, opened, closed, default: (
        pb.CreditAccount(
            account_id=i,
            lender_name="L",
            type=kind,
            credit_limit_pence=limit,
            balance_pence=balance,
            status=status,
            months_in_arrears=months_behind,
            opened_date=opened,
            closed_date=closed,
            default_date=default,
        )
    ),
    _ids,
    st.sampled_from(list(pb.CreditAccountType.values())),
    st.integers(0, 2_000_000),
    _pence,
    st.sampled_from(list(pb.AccountStatus.values())),
    st.integers(0, 6),
    _day,
    _maybe_day,
    _maybe_day,
)
_records = st.builds(
    lambda kind, start, end, satisfied: record(kind, on=start, end_date=end, satisfied=satisfied),
    st.sampled_from(list(pb.PublicRecordType.values())),
    _day,
    _maybe_day,
    st.booleans(),
)
_files = st.builds(
    lambda accounts, hints, properties, links, credit, records, dead: pb.CreditFile(
        current_accounts=accounts,
        employment_hints=hints,
        property_indicators=properties,
        address_links=links,
        credit_accounts=credit,
        public_records=records,
        date_of_death=dead,
    ),
    st.lists(_accounts, max_size=4),
    st.lists(_hints, max_size=3),
    st.lists(_properties, max_size=3),
    st.lists(_links, max_size=4),
    st.lists(_credit, max_size=12),
    st.lists(_records, max_size=3),
    st.one_of(st.just(date_pb2.Date()), st.just(date_pb2.Date()), _day),
)

_BAND_BY_UPPER = [
    (560, api.SCORE_BAND_VERY_POOR),
    (720, api.SCORE_BAND_POOR),
    (880, api.SCORE_BAND_FAIR),
    (960, api.SCORE_BAND_GOOD),
    (999, api.SCORE_BAND_EXCELLENT),
]


@settings(max_examples=150, deadline=None)
@given(_files)
def test_leads_are_ranked_once_across_all_lists_within_bounds(file):
    accounts, employments, properties = enforcement_leads(file, on=ON)
    leads = [*accounts, *employments, *properties]
    ranks = sorted(lead.assessment.rank for lead in leads)
    assert ranks == list(range(1, len(leads) + 1))
    for lst in (accounts, employments, properties):
        assert [lead.assessment.rank for lead in lst] == sorted(
            lead.assessment.rank for lead in lst
        )
    by_rank = sorted(leads, key=lambda lead: lead.assessment.rank)
    confidences = [lead.assessment.confidence_percent for lead in by_rank]
    assert confidences == sorted(confidences, reverse=True)
    assert all(0 <= c <= 100 for c in confidences)
    # An empty Date() set on the message is still "no date" (year 0): such an account is open.
    assert all(
        to_date(lead.account.closed_date) is None
        and lead.account.status != pb.ACCOUNT_STATUS_SETTLED
        for lead in accounts
    )
    if to_date(file.date_of_death):
        assert set(confidences) <= {0}
    arrears_accounts, arrears_employments = arrears_leads(file, on=ON)
    assert sorted(
        lead.assessment.rank for lead in [*arrears_accounts, *arrears_employments]
    ) == list(range(1, len(arrears_accounts) + len(arrears_employments) + 1))


@settings(max_examples=150, deadline=None)
@given(_files)
def test_score_is_bounded_banded_and_capped(file):
    score, band, attrs, codes = credit_score(file, on=ON)
    assert 0 <= score <= 999
    assert band == next(b for upper, b in _BAND_BY_UPPER if score <= upper)
    assert len(codes) <= 4 and len(set(codes)) == len(codes)
    for count in (
        attrs.default_count,
        attrs.accounts_in_arrears_count,
        attrs.unsatisfied_judgment_count,
    ):
        assert -1 <= count <= 9
    assert 0 <= attrs.worst_current_months_in_arrears <= 7
    assert attrs.available_credit_pence >= 0
    if attrs.insolvency_in_force:
        assert score <= 250
        assert "INSOLVENCY_IN_FORCE" in codes or len(codes) == 4
    if not file.credit_accounts and not file.current_accounts:
        assert attrs.default_count == attrs.accounts_in_arrears_count == -1 and "THIN_FILE" in codes


@settings(max_examples=150, deadline=None)
@given(_files, st.one_of(st.none(), _addresses))
def test_trace_ranks_are_unique_ordered_and_deterministic(file, last_known):
    traced, confirmed = trace_addresses(file, on=ON, last_known=last_known)
    assert [t.rank for t in traced] == list(range(1, len(traced) + 1))
    assert [t.confidence_percent for t in traced] == sorted(
        (t.confidence_percent for t in traced), reverse=True
    )
    assert all(0 <= t.confidence_percent <= 100 for t in traced)
    if confirmed:
        assert last_known is not None and same_address(traced[0].address_link.address, last_known)
        assert traced[0].address_link.link_type in (
            pb.ADDRESS_LINK_TYPE_CURRENT,
            pb.ADDRESS_LINK_TYPE_FORWARD,
        )
    again, confirmed_again = trace_addresses(file, on=ON, last_known=last_known)
    assert [t.SerializeToString(deterministic=True) for t in again] == [
        t.SerializeToString(deterministic=True) for t in traced
    ]
    assert confirmed_again == confirmed


@settings(max_examples=100, deadline=None)
@given(_files)
def test_everything_is_deterministic_and_leaves_the_file_alone(file):
    before = file.SerializeToString(deterministic=True)

    def run():
        leads = enforcement_leads(file, on=ON)
        score, band, attrs, codes = credit_score(file, on=ON)
        return (
            [lead.SerializeToString(deterministic=True) for group in leads for lead in group],
            score,
            band,
            attrs.SerializeToString(deterministic=True),
            codes,
            cautions(file, on=ON),
        )

    assert run() == run()
    assert file.SerializeToString(deterministic=True) == before
