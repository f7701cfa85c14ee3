"""The AccountsService gRPC API, as CaseworkService's: request-id replay, then the domain call in one transaction,
proto in and out; who may call each RPC is its access option, enforced by the platform; a refusal on an account's
case (the policy's, or a case the caller may not see) is audited on that case in its own transaction."""

from __future__ import annotations

from typing import TypeVar

import grpc
from google.protobuf.message import Message
from sqlalchemy.orm import Session, sessionmaker

from cms.casework.v1 import accounts_pb2 as apb
from cms.casework.v1 import accounts_service_pb2 as api
from cms.casework.v1 import accounts_service_pb2_grpc as api_grpc
from cms_platform.clock import Clock
from cms_platform.convert import date_or_violation, day_of
from cms_platform.errors import NotFound, ViolationCollector
from cms_platform.identity import Caller
from cms_platform.paging import next_token, page

from ..names import id_from
from ..servicing import Servicing
from . import service

R = TypeVar("R")
M = TypeVar("M", bound=Message)
Ctx = grpc.ServicerContext
FILE_METHOD = {
    api.PAYMENT_FILE_SOURCE_DIRECT_DEBIT_COLLECTIONS: service.M.Value(
        "RECEIPT_METHOD_DIRECT_DEBIT"
    ),
    api.PAYMENT_FILE_SOURCE_STANDING_ORDERS: service.M.Value("RECEIPT_METHOD_STANDING_ORDER"),
    api.PAYMENT_FILE_SOURCE_EMPLOYER_REMITTANCE: service.M.Value(
        "RECEIPT_METHOD_DEDUCTION_FROM_EARNINGS_ORDER"
    ),
    api.PAYMENT_FILE_SOURCE_DWP_DEDUCTION_SCHEDULE: service.M.Value(
        "RECEIPT_METHOD_DEDUCTION_FROM_BENEFIT"
    ),
}


class AccountsServicer(Servicing, api_grpc.AccountsServiceServicer):
    def __init__(self, *, sessions: sessionmaker, clock: Clock):
        self._sessions, self._clock = sessions, clock

    def where(self, db: Session, request: Message) -> tuple[str, str]:
        """An account's requests name it (`name` or `account`): audited on its case."""
        name = getattr(request, "name", "") or getattr(request, "account", "")
        if not isinstance(name, str) or not name.startswith("accounts/"):
            return "", ""
        return service.case_of_account(db, name) or "", name

    # -- reads ---------------------------------------------------------------------------------------------------

    def GetAccount(self, request: api.GetAccountRequest, context: Ctx) -> apb.Account:
        return self._read(
            request, lambda s, c: service.get(s, name=request.name, caller=c, clock=self._clock)
        )

    def ListAccounts(
        self, request: api.ListAccountsRequest, context: Ctx
    ) -> api.ListAccountsResponse:
        size, offset = page(request.page_size, request.page_token, maximum=100)

        def run(s: Session, c: Caller) -> api.ListAccountsResponse:
            found, more = service.list_accounts(
                s, case_name=request.case, caller=c, clock=self._clock, size=size, offset=offset
            )
            return api.ListAccountsResponse(
                accounts=found, next_page_token=next_token(offset + size) if more else ""
            )

        return self._read(request, run)

    def GetAccountStatement(
        self, request: api.GetAccountStatementRequest, context: Ctx
    ) -> apb.AccountStatement:
        v = ViolationCollector()
        since = date_or_violation(request.since, "since", v)
        v.raise_if_any()
        assert since is not None
        return self._read(
            request,
            lambda s, c: service.statement(
                s,
                name=request.name,
                since=since,
                view=request.view,
                caller=c,
                clock=self._clock,
                printable=request.printable,
            ),
        )

    def ListSuspenseItems(
        self, request: api.ListSuspenseItemsRequest, context: Ctx
    ) -> api.ListSuspenseItemsResponse:
        size, offset = page(request.page_size, request.page_token, maximum=500)

        def run(s: Session, c: Caller) -> api.ListSuspenseItemsResponse:
            found, more = service.list_suspense(
                s, include_allocated=request.include_allocated, size=size, offset=offset
            )
            return api.ListSuspenseItemsResponse(
                suspense_items=found, next_page_token=next_token(offset + size) if more else ""
            )

        return self._read(request, run)

    # -- changes -------------------------------------------------------------------------------------------------

    def RecordReceipt(
        self, request: api.RecordReceiptRequest, context: Ctx
    ) -> api.RecordReceiptResponse:
        given = request.receipt
        v = ViolationCollector()
        received = date_or_violation(given.received_date, "receipt.received_date", v)
        v.raise_if_any()
        assert received is not None

        def run(s: Session, c: Caller) -> api.RecordReceiptResponse:
            name = service.record_receipt(
                s,
                payment_reference=given.payment_reference,
                amount_pence=given.amount_pence,
                method=given.method,
                external_reference=given.external_reference,
                received_on=received,
                clock=self._clock,
                earnings_deduction=(
                    given.earnings_deduction if given.HasField("earnings_deduction") else None
                ),
                field_prefix="receipt.",
            )
            return api.RecordReceiptResponse(
                name=name, held_in_suspense=name.startswith("suspenseItems/")
            )

        return self._change(request, api.RecordReceiptResponse, run)

    def ImportPaymentFile(
        self, request: api.ImportPaymentFileRequest, context: Ctx
    ) -> api.ImportPaymentFileResponse:
        v = ViolationCollector()
        file_date = date_or_violation(request.received_date, "received_date", v)
        if request.source not in FILE_METHOD:
            v.add("source", "must be a known payment file source")
        references: set[str] = set()
        for i, line in enumerate(request.lines):
            reference = line.external_reference or f"{request.file_reference}/{i + 1}"
            if reference in references:
                v.add(f"lines[{i}].external_reference", "appears twice in the file")
            references.add(reference)
            if line.HasField("received_date"):
                date_or_violation(line.received_date, f"lines[{i}].received_date", v)
        v.raise_if_any()
        assert file_date is not None
        method = FILE_METHOD[request.source]
        if request.source == api.PAYMENT_FILE_SOURCE_EMPLOYER_REMITTANCE and (
            request.deduction_from_earnings_request
        ):
            method = service.M.Value("RECEIPT_METHOD_DEDUCTION_FROM_EARNINGS_REQUEST")

        def run(s: Session, c: Caller) -> api.ImportPaymentFileResponse:
            out = api.ImportPaymentFileResponse()
            for i, line in enumerate(request.lines):
                name = service.record_receipt(
                    s,
                    payment_reference=line.payment_reference,
                    amount_pence=line.amount_pence,
                    method=method,
                    external_reference=line.external_reference
                    or f"{request.file_reference}/{i + 1}",
                    received_on=day_of(line.received_date) or file_date,
                    clock=self._clock,
                    earnings_deduction=(
                        line.earnings_deduction if line.HasField("earnings_deduction") else None
                    ),
                    field_prefix=f"lines[{i}].",
                )
                suspense = name.startswith("suspenseItems/")
                out.lines.add(name=name, held_in_suspense=suspense)
                out.held_in_suspense += suspense
                out.recorded += not suspense
            return out

        return self._change(request, api.ImportPaymentFileResponse, run)

    def AllocateSuspenseItem(
        self, request: api.AllocateSuspenseItemRequest, context: Ctx
    ) -> apb.SuspenseItem:
        return self._change(
            request,
            apb.SuspenseItem,
            lambda s, c: service.allocate_suspense_item(
                s, name=request.name, account=request.account, clock=self._clock
            ),
        )

    def PostAdjustment(self, request: api.PostAdjustmentRequest, context: Ctx) -> apb.LedgerEntry:
        v = ViolationCollector()
        effective = date_or_violation(request.effective_date, "effective_date", v)
        v.raise_if_any()
        assert effective is not None
        account_id = id_from(request.account, "accounts", "account")

        def run(s: Session, c: Caller) -> apb.LedgerEntry:
            case_id = service.case_of_account(s, request.account)
            if not case_id:
                raise NotFound("account", request.account)
            name = service.post_adjustment(
                s,
                case_id=case_id,
                kind=request.kind,
                amount_pence=request.amount_pence,
                effective_date=effective,
                cause=request.cause,
                clock=self._clock,
            )
            return service.entry_proto(s, account_id=account_id, name=name)

        return self._change(request, apb.LedgerEntry, run)
