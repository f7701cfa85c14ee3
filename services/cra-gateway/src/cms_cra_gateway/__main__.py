"""`python -m cms_cra_gateway`: the same commands as `cms-cra-gateway` (serve, migrate, replay-outbox)."""

import sys

from cms_cra_gateway.app import main

sys.exit(main())
