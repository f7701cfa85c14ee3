from cms_dwp_gateway import notices  # noqa: F401 - registers the tables on Base.metadata
from cms_platform.db import Base
from cms_platform.migrations import run_env

run_env(Base.metadata)
