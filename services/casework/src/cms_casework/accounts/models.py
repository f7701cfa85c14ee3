"""The accounts' tables: the accounts, their charge schedules, the append-only ledger, receipts, suspense items and
payments out. Balances are not stored anywhere: they are sums over the ledger (accounts.rules.balances). Enum
columns hold full value names."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import BigInteger, Date, Index, LargeBinary, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from cms_platform.db import Base, BigId, UtcDateTime


class AccountRecord(Base):
    """One account per case, that is per paying parent and receiving parent pair (cms.casework.v1.Account)."""

    __tablename__ = "accounts"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    case_id: Mapped[str] = mapped_column(String(36), unique=True)
    paying_parent_client_id: Mapped[str] = mapped_column(String(36))
    receiving_parent_client_id: Mapped[str] = mapped_column(String(36))
    service_type: Mapped[str] = mapped_column(String(80))
    state: Mapped[str] = mapped_column(String(80))
    # The case's closure date: nothing is charged for periods from it.
    case_closed_on: Mapped[dt.date | None] = mapped_column(Date, nullable=True)
    opened_at: Mapped[dt.datetime] = mapped_column(UtcDateTime)
    closed_at: Mapped[dt.datetime | None] = mapped_column(UtcDateTime, nullable=True)

    __table_args__ = (
        Index("ix_accounts_paying_parent", "paying_parent_client_id"),
        Index("ix_accounts_receiving_parent", "receiving_parent_client_id"),
    )


class ScheduleRow(Base):
    """One due date of an account's charge schedule, from a payment plan: DUE until the charge run posts it
    (CHARGED), or SUPERSEDED by a later plan, or ENDED by the case's closure. Not a ledger: its state moves."""

    __tablename__ = "account_schedule"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    account_id: Mapped[str] = mapped_column(String(36))
    payment_plan: Mapped[str] = mapped_column(String(200))
    due_date: Mapped[dt.date] = mapped_column(Date)
    covers_start: Mapped[dt.date] = mapped_column(Date)
    covers_end: Mapped[dt.date] = mapped_column(Date)
    maintenance_pence: Mapped[int] = mapped_column(BigInteger)
    state: Mapped[str] = mapped_column(String(20))

    __table_args__ = (
        UniqueConstraint("account_id", "payment_plan", "due_date", name="uq_account_schedule_row"),
        Index("ix_account_schedule_due", "state", "due_date"),
        Index("ix_account_schedule_account", "account_id", "due_date"),
    )


class EntryRecord(Base):
    """One ledger entry (cms.casework.v1.LedgerEntry). Append-only: never updated, never deleted. `key` makes a
    posting idempotent per account (a schedule row's charge and fees, a receipt's allocations)."""

    __tablename__ = "account_entries"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    account_id: Mapped[str] = mapped_column(String(36))
    key: Mapped[str] = mapped_column(String(120))
    kind: Mapped[str] = mapped_column(String(60))
    amount_pence: Mapped[int] = mapped_column(BigInteger)
    effective_date: Mapped[dt.date] = mapped_column(Date)
    posted_on: Mapped[dt.date] = mapped_column(Date)
    posted_at: Mapped[dt.datetime] = mapped_column(UtcDateTime)
    cause: Mapped[str] = mapped_column(String(200))
    allocation_target: Mapped[str] = mapped_column(String(60), default="")
    covers: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    # The covered charge's due date and kind (arrears are sums over the account's rows, without a join).
    covers_due: Mapped[dt.date | None] = mapped_column(Date, nullable=True)
    covers_kind: Mapped[str] = mapped_column(String(60), default="")
    source: Mapped[str] = mapped_column(String(20), default="")
    adjustment_kind: Mapped[str] = mapped_column(String(60), default="")
    receipt_id: Mapped[str] = mapped_column(String(36), default="")
    # A maintenance charge's receiving parent fee, taken as it is collected (accounts.rules).
    receiving_parent_fee_pence: Mapped[int] = mapped_column(BigInteger, default=0)

    __table_args__ = (
        UniqueConstraint("account_id", "key", name="uq_account_entries_key"),
        Index("ix_account_entries_account", "account_id", "effective_date", "id"),
    )


class ReceiptRecord(Base):
    """Money recorded against an account (cms.casework.v1.Receipt); its entries are in the ledger."""

    __tablename__ = "account_receipts"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    account_id: Mapped[str] = mapped_column(String(36))
    external_reference: Mapped[str] = mapped_column(String(200), unique=True)
    method: Mapped[str] = mapped_column(String(60))
    amount_pence: Mapped[int] = mapped_column(BigInteger)
    received_on: Mapped[dt.date] = mapped_column(Date)
    recorded_at: Mapped[dt.datetime] = mapped_column(UtcDateTime)
    # The EarningsDeduction of a DEO/DER line, serialised; empty otherwise.
    earnings_deduction: Mapped[bytes] = mapped_column(LargeBinary, default=b"")


class SuspenseRecord(Base):
    """Money whose payment reference matched no account (cms.casework.v1.SuspenseItem)."""

    __tablename__ = "account_suspense_items"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    payment_reference: Mapped[str] = mapped_column(String(200))
    external_reference: Mapped[str] = mapped_column(String(200), unique=True)
    method: Mapped[str] = mapped_column(String(60))
    amount_pence: Mapped[int] = mapped_column(BigInteger)
    received_on: Mapped[dt.date] = mapped_column(Date)
    state: Mapped[str] = mapped_column(String(60))
    account_id: Mapped[str] = mapped_column(String(36), default="")
    receipt_id: Mapped[str] = mapped_column(String(36), default="")
    earnings_deduction: Mapped[bytes] = mapped_column(LargeBinary, default=b"")
    created_at: Mapped[dt.datetime] = mapped_column(UtcDateTime)
    # The case-less service request that queues the item for a caseworker (`serviceRequests/{id}`).
    service_request: Mapped[str] = mapped_column(String(200), default="")

    __table_args__ = (Index("ix_account_suspense_state", "state", "created_at"),)


class PaymentOutRecord(Base):
    """One payment to a receiving parent: at most one a day each (the payment run's idempotency)."""

    __tablename__ = "account_payments_out"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    receiving_parent_client_id: Mapped[str] = mapped_column(String(36))
    paid_on: Mapped[dt.date] = mapped_column(Date)
    amount_pence: Mapped[int] = mapped_column(BigInteger)
    created_at: Mapped[dt.datetime] = mapped_column(UtcDateTime)

    __table_args__ = (
        UniqueConstraint(
            "receiving_parent_client_id", "paid_on", name="uq_account_payment_per_day"
        ),
    )
