"""The simulated HMRC's table: people as the scenario admin service upserted or changed them."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import LargeBinary, String
from sqlalchemy.orm import Mapped, mapped_column

from cms_platform.db import Base, UtcDateTime


class SimulatedPersonRecord(Base):
    """A person as upserted or changed by a life event; it takes precedence over the generated person."""

    __tablename__ = "simulated_people"

    nino: Mapped[str] = mapped_column(String(9), primary_key=True)
    person: Mapped[bytes] = mapped_column(LargeBinary)  # cms.hmrc.v1.SimulatedPerson
    # The other parent of a separated family: not in the contract's SimulatedPerson.
    other_parent_nino: Mapped[str] = mapped_column(String(9), default="")
    updated_at: Mapped[dt.datetime] = mapped_column(UtcDateTime)
