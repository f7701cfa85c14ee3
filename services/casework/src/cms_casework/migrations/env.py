from cms_casework import models  # noqa: F401 - registers the tables on the metadata
from cms_platform.db import Base
from cms_platform.migrations import run_env

run_env(Base.metadata)
