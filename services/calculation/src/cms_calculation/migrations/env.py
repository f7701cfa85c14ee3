"""Alembic's environment for the calculation database: the service's tables and the platform's."""

from cms_calculation.calculations import models  # noqa: F401 - registers the tables on Base.metadata
from cms_platform.db import Base
from cms_platform.migrations import run_env

run_env(Base.metadata)
