"""Clients' tables: the client (its contract message as the document, found by NINO) and the unacceptable
behaviour recorded against them."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import Date, Index, Integer, LargeBinary, String
from sqlalchemy.orm import Mapped, mapped_column

from cms_platform.db import Base, UtcDateTime


class ClientRecord(Base):
    """A person on one or more cases, found by NINO (cms.casework.v1.Client)."""

    __tablename__ = "clients"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    nino: Mapped[str] = mapped_column(String(9), unique=True)
    document: Mapped[bytes] = mapped_column(LargeBinary)
    potentially_violent_review_due: Mapped[dt.date | None] = mapped_column(Date, nullable=True)
    version: Mapped[int] = mapped_column(Integer)
    created_at: Mapped[dt.datetime] = mapped_column(UtcDateTime)
    updated_at: Mapped[dt.datetime] = mapped_column(UtcDateTime)

    __mapper_args__ = {"version_id_col": version}
    __table_args__ = (Index("ix_clients_pv_review_due", "potentially_violent_review_due"),)


class UnacceptableBehaviourRecordRow(Base):
    __tablename__ = "unacceptable_behaviour_records"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    client_id: Mapped[str] = mapped_column(String(36))
    document: Mapped[bytes] = mapped_column(LargeBinary)
    created_at: Mapped[dt.datetime] = mapped_column(UtcDateTime)

    __table_args__ = (Index("ix_unacceptable_behaviour_client", "client_id", "created_at"),)
