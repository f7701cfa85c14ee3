"""The port's terms ↔ cms.hmrc.v1 (cms_hmrc_gateway.convert): identities checked with every bad field named, tax
years and RTI periods asked about, and answers as HMRC reports them (no end date while an employment looks live,
no data without a full match)."""

from __future__ import annotations

import datetime as dt

import pytest
from google.type import date_pb2

from cms.common.v1 import types_pb2 as common
from cms.hmrc.v1 import hmrc_service_pb2 as api
from cms.hmrc.v1 import resources_pb2 as pb
from cms_hmrc_gateway import convert
from cms_hmrc_gateway.port import (
    Address,
    Answer,
    Child,
    ChildBenefitEndReason,
    ChildBenefitStatus,
    ChildToFind,
    Employer,
    Employment,
    EmploymentView,
    MatchOutcome,
    MatchResult,
    PayFrequency,
)
from cms_platform.errors import InvalidArgument, ViolationCollector

TODAY = dt.date(2026, 4, 6)


def d(y: int, m: int, day: int) -> date_pb2.Date:
    return date_pb2.Date(year=y, month=m, day=day)


def test_a_person_is_read_with_every_bad_field_named():
    v = ViolationCollector()
    bad = common.PersonIdentity(nino="DA123456A", date_of_birth=d(1984, 2, 30))
    assert convert.person_to_match(bad, "claimant", v) is None
    assert [x.field for x in v.violations] == ["claimant.nino", "claimant.date_of_birth"]
    good = common.PersonIdentity(
        nino="JK123456C",
        name=common.PersonName(forenames="Jordan", surname="Kellaway"),
        date_of_birth=d(1984, 7, 1),
    )
    assert convert.person(good).date_of_birth == dt.date(1984, 7, 1)


def test_a_watched_child_with_a_partial_date_is_found_by_crn_alone():
    child = pb.ChildIdentity(
        date_of_birth=date_pb2.Date(year=2009, month=3), child_reference_number="JZ100001A"
    )
    assert convert.child_to_find(child) == ChildToFind("", "", None, "JZ100001A")


def test_tax_years_and_rti_periods():
    assert convert.tax_year("", TODAY) == ""
    with pytest.raises(InvalidArgument) as err:
        convert.tax_year("2031-32", TODAY)
    assert [v.field for v in err.value.violations] == ["tax_year"]
    v = ViolationCollector()
    assert convert.rti_period(api.GetRtiCurrentIncomeRequest(), TODAY, v) == (
        dt.date(2026, 1, 6),
        TODAY,
    )
    request = api.GetRtiCurrentIncomeRequest(
        payment_period=common.DateRange(start_date=d(2026, 3, 1), end_date=d(2026, 5, 1))
    )
    convert.rti_period(request, TODAY, v)
    assert [x.field for x in v.violations] == ["payment_period.end_date"]


@pytest.mark.parametrize(
    ("match", "outcome"),
    [
        (MatchResult(MatchOutcome.MATCHED), common.MATCH_OUTCOME_MATCHED),
        (MatchResult(MatchOutcome.PARTIAL, ("DATE_OF_BIRTH",)), common.MATCH_OUTCOME_PARTIAL),
        (MatchResult(MatchOutcome.NOT_FOUND), common.MATCH_OUTCOME_NOT_FOUND),
    ],
)
def test_match_results(match, outcome):
    msg = convert.match_to_proto(match)
    assert (msg.outcome, list(msg.failed_rules)) == (outcome, list(match.failed_rules))
    assert convert.outcome_name(msg.outcome) == match.outcome.value


def test_an_employment_as_hmrc_reports_it():
    acme = Employer(
        "Acme Ltd", Address(("1 Mill Street",), "Leeds", "LS1 4AB", "GB"), "0161", "247/A1"
    )
    e = Employment("acme", acme, "P100", dt.date(2019, 5, 1), None, PayFrequency.MONTHLY)
    msg = convert.employment_to_proto(
        EmploymentView(
            e, live=True, last_payment_date=dt.date(2026, 3, 31), potentially_ceased=True
        )
    )
    assert not msg.HasField("end_date") and msg.potentially_ceased
    assert (msg.pay_frequency, msg.employer.address.postcode, msg.last_payment_date) == (
        pb.PAY_FREQUENCY_MONTHLY,
        "LS1 4AB",
        d(2026, 3, 31),
    )


def test_a_child_status():
    asked = ChildToFind("Ella", "Kellaway", dt.date(2009, 3, 2))
    missing = convert.child_status_to_proto(ChildBenefitStatus(asked, None))
    assert missing.child_match == common.MATCH_OUTCOME_NOT_FOUND and not missing.entitled
    ella = Child("Ella", "Kellaway", dt.date(2009, 3, 2), "JZ100001A", dt.date(2009, 3, 20), True)
    found = convert.child_status_to_proto(
        ChildBenefitStatus(
            asked,
            ella,
            entitled=True,
            in_payment=True,
            end_date=dt.date(2029, 3, 1),
            end_reason=ChildBenefitEndReason.REACHED_20,
        )
    )
    assert found.child.child_reference_number == "JZ100001A"
    assert (found.end_date, found.end_reason) == (
        d(2029, 3, 1),
        pb.CHILD_BENEFIT_END_REASON_REACHED_20,
    )
    assert found.approved_education_or_training_reported


def test_no_data_without_a_full_match():
    partial = Answer(MatchResult(MatchOutcome.PARTIAL, ("FORENAME_INITIAL",)))
    assert not convert.earned_income_response(partial).income_data_held
    breakdown = convert.breakdown_response(partial, "2023-24")
    assert (breakdown.tax_year, breakdown.income_data_held) == ("2023-24", False)
    assert not convert.unearned_income_response(partial).HasField("unearned_income")
