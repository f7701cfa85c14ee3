from __future__ import annotations

import datetime as dt

from sqlalchemy import Index, Integer, LargeBinary, String
from sqlalchemy.orm import Mapped, mapped_column

from cms_platform.db import Base, UtcDateTime


class CaseRecord(Base):
    """A case. The Case message is the document; the columns are what the service searches and locks on."""

    __tablename__ = "cases"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    state: Mapped[str] = mapped_column(String(30))
    paying_parent_nino: Mapped[str] = mapped_column(String(9))
    document: Mapped[bytes] = mapped_column(LargeBinary)
    # Optimistic locking: a concurrent update of the same case fails instead of losing a write.
    version: Mapped[int] = mapped_column(Integer)
    created_at: Mapped[dt.datetime] = mapped_column(UtcDateTime)
    updated_at: Mapped[dt.datetime] = mapped_column(UtcDateTime)

    __mapper_args__ = {"version_id_col": version}
    __table_args__ = (Index("ix_cases_paying_parent_nino", "paying_parent_nino"),)
