"""`python -m cms_dwp_gateway [serve|migrate|replay-outbox]`: the process, as the cms-dwp-gateway script runs it."""

import sys

from cms_dwp_gateway.app import main

sys.exit(main())
