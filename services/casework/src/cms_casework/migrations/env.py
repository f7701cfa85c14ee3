"""Alembic's environment for casework: every models module registers its tables on the metadata."""

from cms_casework.access import models as _access  # noqa: F401
from cms_casework.accounts import models as _accounts  # noqa: F401
from cms_casework.arrears import models as _arrears  # noqa: F401
from cms_casework.case_records import models as _case_records  # noqa: F401
from cms_casework.changes import models as _changes  # noqa: F401
from cms_casework.clients import models as _clients  # noqa: F401
from cms_casework.collection_reform import models as _collection_reform  # noqa: F401
from cms_casework.correspondence import models as _correspondence  # noqa: F401
from cms_casework.default_decisions import models as _default_decisions  # noqa: F401
from cms_casework.enforcement import models as _enforcement  # noqa: F401
from cms_casework.liability import models as _liability  # noqa: F401
from cms_casework.methods_of_payment import models as _methods_of_payment  # noqa: F401
from cms_casework.national_runs import models as _national_runs  # noqa: F401
from cms_casework.payment_plans import models as _payment_plans  # noqa: F401
from cms_casework.reconsiderations import models as _reconsiderations  # noqa: F401
from cms_casework.scheduler import models as _scheduler  # noqa: F401
from cms_casework.service_requests import models as _service_requests  # noqa: F401
from cms_casework.third_parties import models as _third_parties  # noqa: F401
from cms_casework.tracing import models as _tracing  # noqa: F401
from cms_casework.variations import models as _variations  # noqa: F401
from cms_platform.db import Base
from cms_platform.migrations import run_env

run_env(Base.metadata)
