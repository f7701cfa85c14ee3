"""Alembic's environment for dwp-gateway: every table of the service registered on the metadata."""

from cms_dwp_gateway import audit  # noqa: F401 - registers the tables on Base.metadata
from cms_dwp_gateway.deductions import models as deductions  # noqa: F401
from cms_dwp_gateway.interests import models as interests  # noqa: F401
from cms_dwp_gateway.simulator import models as simulator  # noqa: F401
from cms_platform.db import Base
from cms_platform.migrations import run_env

run_env(Base.metadata)
