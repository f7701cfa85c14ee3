"""Alembic's environment for hmrc-gateway's database (the revisions under versions/ are written by hand)."""

from cms_platform.db import Base
from cms_platform.migrations import run_env

run_env(Base.metadata)
