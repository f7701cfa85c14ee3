"""Alembic environment of cra-gateway: its revisions (versions/) run over the connection `cms-cra-gateway migrate`
supplies."""

from cms_platform.db import Base
from cms_platform.migrations import run_env

run_env(Base.metadata)
