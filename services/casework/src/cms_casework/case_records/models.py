"""The cases table. A case is stored as its contract message (the document) plus the columns the service searches,
locks and schedules on; the document is what callers get back. Enum columns hold full value names."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import Boolean, Date, Index, Integer, LargeBinary, String
from sqlalchemy.orm import Mapped, mapped_column

from cms_platform.db import Base, UtcDateTime


class CaseRecord(Base):
    """A case (cms.casework.v1.Case without its clients' details, which live on the clients)."""

    __tablename__ = "cases"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    state: Mapped[str] = mapped_column(String(80))
    paying_parent_nino: Mapped[str] = mapped_column(String(9))
    paying_parent_client_id: Mapped[str] = mapped_column(String(36), default="")
    receiving_parent_client_id: Mapped[str] = mapped_column(String(36), default="")
    workgroup: Mapped[str] = mapped_column(String(100), default="")
    owner: Mapped[str] = mapped_column(String(100), default="")
    personal_interest: Mapped[bool] = mapped_column(Boolean, default=False)
    annual_review_date: Mapped[dt.date | None] = mapped_column(Date, nullable=True)
    surveillance_review_date: Mapped[dt.date | None] = mapped_column(Date, nullable=True)
    # The eldest current qualifying child's date of birth (None when closed): national runs that look for children
    # of an age (the monthly Child Benefit check) select cases by it instead of reading every document.
    eldest_child_born: Mapped[dt.date | None] = mapped_column(Date, nullable=True)
    document: Mapped[bytes] = mapped_column(LargeBinary)
    # Optimistic locking: a concurrent update of the same case fails instead of losing a write.
    version: Mapped[int] = mapped_column(Integer)
    created_at: Mapped[dt.datetime] = mapped_column(UtcDateTime)
    updated_at: Mapped[dt.datetime] = mapped_column(UtcDateTime)

    __mapper_args__ = {"version_id_col": version}
    __table_args__ = (
        Index("ix_cases_paying_parent_nino", "paying_parent_nino"),
        Index("ix_cases_paying_parent_client", "paying_parent_client_id"),
        Index("ix_cases_receiving_parent_client", "receiving_parent_client_id"),
        Index("ix_cases_annual_review", "annual_review_date"),
        Index("ix_cases_surveillance_review", "surveillance_review_date"),
        Index("ix_cases_state_eldest_child", "state", "eldest_child_born"),
    )
