"""The simulated CIS's own tables: people upserted by scenarios, benefit awards started or changed by scenarios and
addresses changed by CIS Send Update, each replacing what the synthetic population generated. (Outages and the
simulation settings are cms_simulation.controls' tables.)"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import Index, LargeBinary, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from cms_platform.db import Base, UtcDateTime


class AwardRecord(Base):
    """An award as started or changed through the scenario service; it replaces the generated award of the same id."""

    __tablename__ = "benefit_awards"

    award_id: Mapped[str] = mapped_column(String(40), primary_key=True)
    claimant_nino: Mapped[str] = mapped_column(String(9))
    partner_nino: Mapped[str] = mapped_column(String(9), default="")
    award: Mapped[str] = mapped_column(Text)  # JSON of the award (overlay.award_to_json)
    updated_at: Mapped[dt.datetime] = mapped_column(UtcDateTime)

    __table_args__ = (
        Index("ix_benefit_awards_claimant", "claimant_nino"),
        Index("ix_benefit_awards_partner", "partner_nino"),
    )


class AddressRecord(Base):
    """An address change applied to a CIS record (CIS Send Update); it replaces the generated address."""

    __tablename__ = "person_addresses"

    nino: Mapped[str] = mapped_column(String(9), primary_key=True)
    address: Mapped[str] = mapped_column(Text)  # JSON: lines, post_town, postcode, country
    updated_at: Mapped[dt.datetime] = mapped_column(UtcDateTime)


class PersonOverride(Base):
    """A person's CIS record as a scenario admin upserted it, with their scenario flags: it replaces the generated
    person of the NINO (or adds one the population lacks)."""

    __tablename__ = "cis_people"

    nino: Mapped[str] = mapped_column(String(9), primary_key=True)
    record: Mapped[bytes] = mapped_column(LargeBinary)  # cms.dwp.v1.PersonRecord
    scenario: Mapped[bytes] = mapped_column(LargeBinary)  # cms.dwp.v1.PersonScenario
    updated_at: Mapped[dt.datetime] = mapped_column(UtcDateTime)
