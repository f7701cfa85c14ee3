import sys

from cms_dwp_gateway.app import main

sys.exit(main())
