"""The announced reform's paying parent's fee (docs/domain/money.md §8) with CASEWORK_COLLECTION_FEES_REFORM_DATE set
to 1 May 2026: 2% for a compliant paying parent, 20% for one whose ledger shows a charge not paid in full by its due
date plus the grace days in the CASEWORK_COMPLIANCE_WINDOW_DAYS (90) before the charge's due date. Alex misses April's
payment; Chidi pays his."""

from __future__ import annotations

import datetime as dt
import uuid

import pytest

from cms.casework.v1 import accounts_service_pb2 as aapi
from cms.casework.v1 import casework_service_pb2 as api
from cms.casework.v1 import money_events_pb2 as mev
from cms.casework.v1 import resources_pb2 as pb
from cms_casework.accounts import rules

from ..conftest import alex_and_bethan, d
from .conftest import chidi_and_sian


@pytest.fixture
def casework_settings():
    return {"collection_fees_reform_date": dt.date(2026, 5, 1)}


def test_the_reform_fee_is_twenty_percent_after_a_missed_payment_and_two_otherwise(stack, clock):
    alex_case = stack.new_live_case(alex_and_bethan(service_type=pb.SERVICE_TYPE_COLLECT_AND_PAY))
    chidi_case = stack.new_live_case(chidi_and_sian())
    alex, chidi = stack.account_of(alex_case), stack.account_of(chidi_case)
    stack.charge(d(2026, 4, 6))
    april = stack.balances(chidi)
    assert april.paying_parent_fees_pence == rules.fee(april.maintenance_charged_pence, 2000)
    stack.account_call(
        "RecordReceipt",
        aapi.RecordReceiptRequest(
            request_id=str(uuid.uuid4()),
            receipt=aapi.ReceiptInput(
                payment_reference=chidi.payment_reference,
                external_reference="DD-CHIDI-APR",
                method=mev.RECEIPT_METHOD_DIRECT_DEBIT,
                amount_pence=april.owed_pence,
                received_date=d(2026, 4, 6),
            ),
        ),
    )
    clock.set(dt.datetime(2026, 4, 10, 9, 0, tzinfo=dt.UTC))
    check = stack.run_scheduled(d(2026, 4, 10), api.SCHEDULED_JOB_ARREARS_CHECK).results[0]
    assert check.items_failed == 0, check.failures
    assert len(stack.srs(alex_case, "Missed Payment")) == 1
    assert not stack.srs(chidi_case, "Missed Payment")

    clock.set(dt.datetime(2026, 5, 6, 9, 0, tzinfo=dt.UTC))
    before = {a.name: stack.balances(a) for a in (alex, chidi)}
    stack.charge(d(2026, 5, 6))
    for account, bp in ((alex, 2000), (chidi, 200)):
        after = stack.balances(account)
        maintenance = (
            after.maintenance_charged_pence - before[account.name].maintenance_charged_pence
        )
        fee = after.paying_parent_fees_pence - before[account.name].paying_parent_fees_pence
        assert maintenance > 0 and fee == rules.fee(maintenance, bp)
