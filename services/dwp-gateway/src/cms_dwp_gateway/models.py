"""dwp-gateway tables: benefit awards changed by scenarios, and the CMS's business interests on CIS."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import Index, LargeBinary, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from cms_platform.audit import AuditColumns
from cms_platform.db import Base, UtcDateTime


class AwardRecord(Base):
    """An award as started or changed through the scenario service; it replaces the generated award of the same id."""

    __tablename__ = "benefit_awards"

    award_id: Mapped[str] = mapped_column(String(40), primary_key=True)
    claimant_nino: Mapped[str] = mapped_column(String(9))
    partner_nino: Mapped[str] = mapped_column(String(9), default="")
    award: Mapped[str] = mapped_column(Text)  # JSON of cms_simulation.population.model.BenefitAward
    updated_at: Mapped[dt.datetime] = mapped_column(UtcDateTime)

    __table_args__ = (
        Index("ix_benefit_awards_claimant", "claimant_nino"),
        Index("ix_benefit_awards_partner", "partner_nino"),
    )


class InterestRecord(Base):
    __tablename__ = "business_interests"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    nino: Mapped[str] = mapped_column(String(9))
    case_id: Mapped[str] = mapped_column(String(100))
    role: Mapped[str] = mapped_column(String(40))
    active: Mapped[bool] = mapped_column()
    interest: Mapped[bytes] = mapped_column(
        LargeBinary
    )  # cms.dwp.v1.BusinessInterest as last returned
    created_at: Mapped[dt.datetime] = mapped_column(UtcDateTime)

    __table_args__ = (
        Index("ix_business_interests_nino_active", "nino", "active"),
        Index("ix_business_interests_case_id", "case_id"),
    )


class DeductionRecord(Base):
    __tablename__ = "deductions"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    case_id: Mapped[str] = mapped_column(String(100))
    paying_parent_nino: Mapped[str] = mapped_column(String(9))
    state: Mapped[str] = mapped_column(String(60))
    route: Mapped[str] = mapped_column(String(60))
    deduction: Mapped[bytes] = mapped_column(
        LargeBinary
    )  # cms.dwp.v1.Deduction with its instructions and decisions
    created_at: Mapped[dt.datetime] = mapped_column(UtcDateTime)

    __table_args__ = (
        Index("ix_deductions_case_id", "case_id", "state"),
        Index("ix_deductions_paying_parent", "paying_parent_nino"),
    )


class AddressRecord(Base):
    """An address change applied to a CIS record (CIS Send Update); it replaces the generated address."""

    __tablename__ = "person_addresses"

    nino: Mapped[str] = mapped_column(String(9), primary_key=True)
    address: Mapped[str] = mapped_column(Text)  # JSON: lines, post_town, postcode, country
    updated_at: Mapped[dt.datetime] = mapped_column(UtcDateTime)


class AuditRecord(AuditColumns, Base):
    """One CIS/JCP enquiry, by the opaque CIS person id (never the NINO): caller, interface, legal basis, case."""

    __tablename__ = "cis_audit_records"

    person_id: Mapped[str] = mapped_column(String(40))

    __table_args__ = (Index("ix_cis_audit_records_person_id", "person_id"),)
