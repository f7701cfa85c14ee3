"""An arrears agreement kept by what the account allocates to arrears, not by every receipt: with ongoing maintenance
due as well, money that pays the current period's charge leaves the agreement unpaid (docs/domain/money.md §8).
Alex's April charge (£499.20) goes unpaid; an agreement for it is made on 10 April; May's charge falls due."""

from __future__ import annotations

import datetime as dt
import uuid

from cms.casework.v1 import accounts_service_pb2 as aapi
from cms.casework.v1 import arrears_pb2 as arrears_pb
from cms.casework.v1 import arrears_service_pb2 as arrears_api
from cms.casework.v1 import casework_service_pb2 as api
from cms.casework.v1 import money_events_pb2 as mev
from cms.casework.v1 import resources_pb2 as pb
from cms.common.v1 import types_pb2 as common
from cms_devkit.testing import wait_until

from ..conftest import alex_and_bethan, d


def test_an_agreement_counts_only_what_the_account_allocated_to_arrears(stack, clock):
    case = stack.new_live_case(alex_and_bethan(service_type=pb.SERVICE_TYPE_COLLECT_AND_PAY))
    account = stack.account_of(case)
    stack.charge(d(2026, 4, 6))
    clock.set(dt.datetime(2026, 4, 10, 9, 0, tzinfo=dt.UTC))
    stack.run_scheduled(d(2026, 4, 10), api.SCHEDULED_JOB_ARREARS_CHECK)
    made = stack.arrears_call(
        "CreateArrearsAgreement",
        arrears_api.CreateArrearsAgreementRequest(
            request_id=str(uuid.uuid4()),
            parent=case.name,
            arrears_agreement=arrears_pb.ArrearsAgreement(
                instalment_amount_pence=100_00,
                payment_frequency=common.PAYMENT_FREQUENCY_MONTHLY,
                first_instalment_date=d(2026, 5, 7),
            ),
        ),
    )
    assert made.arrears_pence == 499_20 and len(made.instalments) == 5

    clock.set(dt.datetime(2026, 5, 7, 9, 0, tzinfo=dt.UTC))
    stack.charge(d(2026, 5, 6))
    for reference, amount, on in (
        ("DD-MAY", 416_00, d(2026, 5, 6)),
        ("OO-MAY", 100_00, d(2026, 5, 7)),
    ):
        stack.account_call(
            "RecordReceipt",
            aapi.RecordReceiptRequest(
                request_id=str(uuid.uuid4()),
                receipt=aapi.ReceiptInput(
                    payment_reference=account.payment_reference,
                    external_reference=reference,
                    method=mev.RECEIPT_METHOD_ONE_OFF,
                    amount_pence=amount,
                    received_date=on,
                ),
            ),
        )
    # May's £416.00 pays May's maintenance (current first): none of it is arrears. The £100.00 the day after goes to
    # April's maintenance: arrears, and the agreement's first instalment.
    recorded = [
        mev.ReceiptRecorded.FromString(r.value)
        for r in stack.money_events(account.name, "account.receipt_recorded", 2)
    ]
    assert [(e.amount_pence, e.arrears_allocated_pence) for e in recorded] == [
        (416_00, 0),
        (100_00, 100_00),
    ]

    def paid() -> list[int]:
        got = stack.arrears_call(
            "GetArrearsAgreement", arrears_api.GetArrearsAgreementRequest(name=made.name)
        )
        return [i.paid_pence for i in got.instalments]

    # The receipts reach the agreement in order (one account, one key): once anything is paid, the first was seen.
    wait_until(lambda: sum(paid()) > 0, timeout=120, what="the receipts to reach the agreement")
    assert paid() == [100_00, 0, 0, 0, 0]
