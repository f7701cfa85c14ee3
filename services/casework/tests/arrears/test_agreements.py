"""Arrears agreements through the running stack: made for the account's arrears with a schedule exact to the penny,
read by both parents, refused with the field named (nothing written), paid by receipts recorded on the account
(its ReceiptRecorded) until completed, and broken by the arrears check when an instalment goes unpaid. The arrears are
the real account's: recognised arrears due on 1 March, unpaid on 6 April."""

from __future__ import annotations

import datetime as dt

import grpc

from cms.casework.v1 import arrears_pb2 as apb
from cms.casework.v1 import arrears_service_pb2 as api
from cms.casework.v1 import casework_service_pb2 as case_api
from cms.casework.v1 import money_events_pb2 as money_ev
from cms.casework.v1 import resources_pb2 as pb
from cms.common.v1 import types_pb2 as common
from cms_devkit.testing import wait_until
from cms_platform.grpc_errors import details_of, violated_fields

from ..conftest import d, error
from .conftest import client_of, money_events, rid
from .helpers import (
    MONTHLY_DUE,
    balances,
    charge,
    letters_of,
    live_case_with_account,
    receive,
    recognise_arrears,
    srs_of,
)

MARCH = dt.date(2026, 3, 1)


def terms(**kw) -> apb.ArrearsAgreement:
    base = dict(
        lump_sum_pence=200_00,
        lump_sum_due_date=d(2026, 4, 10),
        instalment_amount_pence=150_00,
        payment_frequency=common.PAYMENT_FREQUENCY_MONTHLY,
        first_instalment_date=d(2026, 5, 1),
    )
    base.update(kw)
    return apb.ArrearsAgreement(**base)


def make(arrears, case, agreement=None, **kw):
    return arrears.call(
        "CreateArrearsAgreement",
        api.CreateArrearsAgreementRequest(
            request_id=rid(), parent=case.name, arrears_agreement=agreement or terms(), **kw
        ),
    )


def test_an_agreement_clears_the_accounts_arrears_and_both_parents_can_read_it(
    stack, arrears, clock
):
    case = live_case_with_account(stack)
    recognise_arrears(stack, clock, case, 1_000_00, due=MARCH)
    made = make(arrears, case)
    assert made.state == apb.ARREARS_AGREEMENT_STATE_ACTIVE
    assert made.arrears_pence == 1_000_00
    assert [(i.amount_pence, i.lump_sum) for i in made.instalments] == [
        (200_00, True),
        *[(150_00, False)] * 5,
        (50_00, False),
    ]
    assert sum(i.amount_pence for i in made.instalments) == 1_000_00
    assert made.final_due_date == d(2026, 10, 1)
    for parent in (case.paying_parent.name, case.receiving_parent.name):
        seen = arrears.call(
            "GetArrearsAgreement",
            api.GetArrearsAgreementRequest(name=made.name),
            as_=stack.creds.client(client_of(parent)),
        )
        assert seen == made
        listed = arrears.call(
            "ListArrearsAgreements",
            api.ListArrearsAgreementsRequest(parent=case.name),
            as_=stack.creds.client(client_of(parent)),
        )
        assert [a.name for a in listed.arrears_agreements] == [made.name]
    stranger = error(
        lambda: arrears.call(
            "GetArrearsAgreement",
            api.GetArrearsAgreementRequest(name=made.name),
            as_=stack.creds.client("someone-else"),
        )
    )
    assert stranger.code() == grpc.StatusCode.NOT_FOUND
    letters = letters_of(stack, case, pb.CORRESPONDENCE_KIND_ARREARS_AGREEMENT)
    assert sorted(c.recipient for c in letters) == sorted(
        [case.paying_parent.name, case.receiving_parent.name]
    )
    (event,) = money_events(stack, case.name, "agreement_made")
    made_event = money_ev.ArrearsAgreementMade.FromString(event.value)
    assert (made_event.arrears_pence, made_event.instalment_count) == (1_000_00, 6)
    # One in force at a time.
    second = error(lambda: make(arrears, case))
    assert second.code() == grpc.StatusCode.FAILED_PRECONDITION


def test_bad_terms_are_refused_naming_the_field_and_nothing_is_written(stack, arrears, clock):
    case = live_case_with_account(stack)
    recognise_arrears(stack, clock, case, 5_000_00, due=MARCH)
    bad = error(
        lambda: make(
            arrears,
            case,
            terms(lump_sum_pence=6_000_00, lump_sum_due_date=d(2026, 4, 1)),
        )
    )
    assert bad.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert set(violated_fields(bad)) == {
        "arrears_agreement.lump_sum_pence",
        "arrears_agreement.lump_sum_due_date",
    }
    # £4,800 at £150 a month: 32 months, beyond the 24-month term without a reason.
    slow = error(lambda: make(arrears, case))
    assert slow.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert set(violated_fields(slow)) == {
        "arrears_agreement.instalment_amount_pence",
        "arrears_agreement.extension_reason",
    }
    listed = arrears.call(
        "ListArrearsAgreements", api.ListArrearsAgreementsRequest(parent=case.name)
    )
    assert not listed.arrears_agreements
    assert not letters_of(stack, case, pb.CORRESPONDENCE_KIND_ARREARS_AGREEMENT)
    # With a reason it may run longer.
    longer = make(arrears, case, terms(extension_reason="income halved until the new job starts"))
    assert longer.final_due_date == d(2028, 12, 1)
    assert longer.extension_reason == "income halved until the new job starts"


def test_no_arrears_no_agreement(stack, arrears, clock):
    case = live_case_with_account(stack)
    # April's charge is owed but due today: not yet arrears.
    charge(stack, clock.today())
    held = balances(stack, case, clock.today())
    assert (held.owed, held.arrears) == (MONTHLY_DUE, 0)
    refused = error(lambda: make(arrears, case))
    assert refused.code() == grpc.StatusCode.FAILED_PRECONDITION
    assert [v.type for v in details_of(refused)["PreconditionFailure"].violations] == ["NO_ARREARS"]


def test_receipts_pay_the_agreement_oldest_first_until_it_completes(stack, arrears, clock):
    case = live_case_with_account(stack)
    recognise_arrears(stack, clock, case, 500_00, due=MARCH)
    made = make(
        arrears, case, terms(lump_sum_pence=100_00, instalment_amount_pence=200_00)
    )  # £100 lump sum, then £200 and £200

    def paid() -> list[int]:
        got = arrears.call("GetArrearsAgreement", api.GetArrearsAgreementRequest(name=made.name))
        return [i.paid_pence for i in got.instalments]

    receive(stack, clock, case, 150_00)
    wait_until(lambda: paid() == [100_00, 50_00, 0], what="the first receipt to pay the agreement")
    assert balances(stack, case, clock.today()).arrears == 350_00
    receive(stack, clock, case, 400_00)
    wait_until(
        lambda: (
            arrears.call(
                "GetArrearsAgreement", api.GetArrearsAgreementRequest(name=made.name)
            ).state
            == apb.ARREARS_AGREEMENT_STATE_COMPLETED
        ),
        what="the agreement to complete",
    )
    assert paid() == [100_00, 200_00, 200_00]
    # The account cleared the arrears and holds the £50 more as credit.
    after = balances(stack, case, clock.today())
    assert (after.arrears, after.held_credit) == (0, 50_00)
    (done,) = money_events(stack, case.name, "agreement_completed")
    assert money_ev.ArrearsAgreementCompleted.FromString(done.value).arrears_agreement == made.name


def test_an_instalment_unpaid_past_its_due_date_and_the_grace_period_breaks_the_agreement(
    stack, arrears, clock
):
    case = live_case_with_account(stack)
    recognise_arrears(stack, clock, case, 500_00, due=MARCH)
    made = make(
        arrears,
        case,
        terms(lump_sum_pence=0, lump_sum_due_date=None, instalment_amount_pence=250_00),
    )
    # Due 1 May; the grace period (3 days) runs to 4 May.
    assert (
        stack.run_scheduled(d(2026, 5, 4), case_api.SCHEDULED_JOB_ARREARS_CHECK)
        .results[0]
        .items_failed
        == 0
    )
    held = arrears.call("GetArrearsAgreement", api.GetArrearsAgreementRequest(name=made.name))
    assert held.state == apb.ARREARS_AGREEMENT_STATE_ACTIVE
    result = stack.run_scheduled(d(2026, 5, 5), case_api.SCHEDULED_JOB_ARREARS_CHECK).results[0]
    assert result.items_failed == 0
    held = arrears.call("GetArrearsAgreement", api.GetArrearsAgreementRequest(name=made.name))
    assert held.state == apb.ARREARS_AGREEMENT_STATE_BROKEN
    (sr,) = srs_of(stack, case, "Arrears Agreement Broken")
    assert held.service_request == sr.name
    (event,) = money_events(stack, case.name, "agreement_broken")
    broken = money_ev.ArrearsAgreementBroken.FromString(event.value)
    assert (broken.missed_due_date, broken.unpaid_pence) == (d(2026, 5, 1), 250_00)
    # Broken stays broken: a later run raises nothing more.
    stack.run_scheduled(d(2026, 6, 5), case_api.SCHEDULED_JOB_ARREARS_CHECK)
    assert len(srs_of(stack, case, "Arrears Agreement Broken")) == 1


def test_a_retried_request_makes_one_agreement(stack, arrears, clock):
    case = live_case_with_account(stack)
    recognise_arrears(stack, clock, case, 300_00, due=MARCH)
    request = api.CreateArrearsAgreementRequest(
        request_id=rid(), parent=case.name, arrears_agreement=terms(instalment_amount_pence=100_00)
    )
    first = arrears.call("CreateArrearsAgreement", request)
    assert arrears.call("CreateArrearsAgreement", request) == first
    listed = arrears.call(
        "ListArrearsAgreements", api.ListArrearsAgreementsRequest(parent=case.name)
    )
    assert [a.name for a in listed.arrears_agreements] == [first.name]
    assert len(letters_of(stack, case, pb.CORRESPONDENCE_KIND_ARREARS_AGREEMENT)) == 2
