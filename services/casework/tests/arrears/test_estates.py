"""A paying parent's death through the running stack, reported late: liability ends from the date of death (the
charges the charge run already posted for days after it are reversed on the account), the arrears owed at the date
of death are claimed from the estate (an EstateClaim opened by the arrears context's consumer of the closure, with its
service request and event), and the claim's progress is recorded: lodged, part paid, and the estate insolvent (a team
leader's write-off of the rest)."""

from __future__ import annotations

import datetime as dt

import grpc

from cms.casework.v1 import arrears_pb2 as apb
from cms.casework.v1 import arrears_service_pb2 as api
from cms.casework.v1 import money_events_pb2 as money_ev
from cms.casework.v1 import resources_pb2 as pb
from cms_casework.accounts import rules as account_rules
from cms_devkit.testing import wait_until

from ..conftest import d, error
from .conftest import money_events, rid
from .helpers import (
    MONTHLY_DUE,
    adjustments,
    balances,
    charge,
    live_case_with_account,
    receive,
    srs_of,
)

D = dt.date
MAINTENANCE, FEE = 416_00, 83_20


def share_after(amount: int, *, kept_days: int, days: int) -> int:
    """A charge's share for the days after the death (the account pro-rates by days, half-up)."""
    return amount - account_rules.half_up(amount * kept_days, days)


def progress(arrears, claim, action, *, amount=0, as_=None):
    return arrears.call(
        "RecordEstateClaimProgress",
        api.RecordEstateClaimProgressRequest(
            request_id=rid(), name=claim.name, action=action, amount_pence=amount, note="PRs told"
        ),
        as_=as_,
        attempts=1,
    )


def test_a_late_reported_death_reverses_later_charges_and_claims_the_arrears_from_the_estate(
    stack, arrears, clock
):
    case = live_case_with_account(stack)
    charge(stack, D(2026, 4, 6))
    receive(stack, clock, case, MONTHLY_DUE, on=D(2026, 4, 6))  # April paid
    clock.set(dt.datetime(2026, 5, 6, 9, 0, tzinfo=dt.UTC))
    charge(stack, D(2026, 5, 6))  # May: 6 May to 5 June, unpaid
    clock.set(dt.datetime(2026, 6, 10, 9, 0, tzinfo=dt.UTC))
    charge(stack, D(2026, 6, 6))  # June: 6 June to 5 July, unpaid
    assert balances(stack, case, D(2026, 6, 10)).owed == 2 * MONTHLY_DUE

    # Reported on 10 June: Alex died on 21 May.
    death = stack.report(
        case,
        pb.ChangeOfCircumstances(
            type=pb.CHANGE_OF_CIRCUMSTANCES_TYPE_DEATH_OF_CLIENT,
            effective_date=d(2026, 5, 21),
            death_of_client=pb.DeathOfClient(client=case.paying_parent.name, notified_by="DWP"),
        ),
    )
    stack.verify(death)
    stack.apply(case)

    claims = wait_until(
        lambda: (
            list(
                arrears.call(
                    "ListEstateClaims", api.ListEstateClaimsRequest(parent=case.name)
                ).estate_claims
            )
            or None
        ),
        timeout=120,
        what="the estate claim",
    )
    (claim,) = claims
    # May's charges for 21 May to 5 June (16 of 31 days) and all of June's are reversed; owed at the death: the
    # rest of May.
    may_after = share_after(MAINTENANCE, kept_days=15, days=31) + share_after(
        FEE, kept_days=15, days=31
    )
    owed_at_death = MONTHLY_DUE - may_after
    assert claim.state == apb.ESTATE_CLAIM_STATE_OPEN
    assert claim.date_of_death == d(2026, 5, 21)
    assert (claim.amount_pence, claim.outstanding_pence) == (owed_at_death, owed_at_death)
    reversed_ = [
        pence
        for kind, pence, on, _ in adjustments(stack, case)
        if kind == money_ev.ADJUSTMENT_KIND_CHARGE_REVERSED
    ]
    assert sorted(reversed_) == sorted(
        [
            -share_after(MAINTENANCE, kept_days=15, days=31),
            -share_after(FEE, kept_days=15, days=31),
            -MAINTENANCE,
            -FEE,
        ]
    )
    assert all(
        on == D(2026, 5, 21)
        for kind, _, on, _ in adjustments(stack, case)
        if kind == money_ev.ADJUSTMENT_KIND_CHARGE_REVERSED
    )
    assert balances(stack, case, D(2026, 6, 10)).owed == owed_at_death
    (sr,) = srs_of(stack, case, "Estate Claim")
    assert claim.service_request == sr.name
    (opened,) = money_events(stack, case.name, "estate_claim_opened")
    event = money_ev.EstateClaimOpened.FromString(opened.value)
    assert (event.estate_claim, event.amount_pence) == (claim.name, owed_at_death)
    assert arrears.call("GetEstateClaim", api.GetEstateClaimRequest(name=claim.name)) == claim

    # Lodged, then the estate pays £100 (received on the account as any payment).
    lodged = progress(arrears, claim, apb.ESTATE_CLAIM_ACTION_LODGED)
    assert lodged.state == apb.ESTATE_CLAIM_STATE_LODGED
    receive(stack, clock, case, 100_00)
    paid = progress(arrears, claim, apb.ESTATE_CLAIM_ACTION_PAYMENT, amount=100_00)
    assert (paid.state, paid.paid_pence, paid.outstanding_pence) == (
        apb.ESTATE_CLAIM_STATE_PAID_IN_PART,
        100_00,
        owed_at_death - 100_00,
    )
    too_much = error(
        lambda: progress(arrears, claim, apb.ESTATE_CLAIM_ACTION_PAYMENT, amount=owed_at_death)
    )
    assert too_much.code() == grpc.StatusCode.FAILED_PRECONDITION

    # The estate is insolvent: only a team leader writes the rest off, with a recorded decision.
    not_yours = error(lambda: progress(arrears, claim, apb.ESTATE_CLAIM_ACTION_ESTATE_INSOLVENT))
    assert not_yours.code() == grpc.StatusCode.PERMISSION_DENIED
    done = progress(
        arrears, claim, apb.ESTATE_CLAIM_ACTION_ESTATE_INSOLVENT, as_=stack.team_leader()
    )
    rest = owed_at_death - 100_00
    assert (done.state, done.written_off_pence, done.outstanding_pence) == (
        apb.ESTATE_CLAIM_STATE_WRITTEN_OFF,
        rest,
        0,
    )
    assert [u.action for u in done.updates] == [
        apb.ESTATE_CLAIM_ACTION_LODGED,
        apb.ESTATE_CLAIM_ACTION_PAYMENT,
        apb.ESTATE_CLAIM_ACTION_ESTATE_INSOLVENT,
    ]
    decision = arrears.call(
        "GetWriteOffDecision", api.GetWriteOffDecisionRequest(name=done.write_off_decision)
    )
    assert (decision.reason, decision.amount_pence, decision.estate_claim) == (
        apb.WRITE_OFF_REASON_ESTATE_INSOLVENT,
        rest,
        claim.name,
    )
    assert balances(stack, case, D(2026, 6, 10)).owed == 0
    updated = money_events(stack, case.name, "estate_claim_updated", expected=3)
    assert [money_ev.EstateClaimUpdated.FromString(e.value).state for e in updated] == [
        apb.ESTATE_CLAIM_STATE_LODGED,
        apb.ESTATE_CLAIM_STATE_PAID_IN_PART,
        apb.ESTATE_CLAIM_STATE_WRITTEN_OFF,
    ]
    closed = error(lambda: progress(arrears, claim, apb.ESTATE_CLAIM_ACTION_LODGED))
    assert closed.code() == grpc.StatusCode.FAILED_PRECONDITION
