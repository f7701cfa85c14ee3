"""`python -m cms_hmrc_gateway`: the hmrc-gateway process (serve, migrate, replay-outbox)."""

import sys

from cms_hmrc_gateway.app import main

sys.exit(main())
