import sys

from cms_cra_gateway.app import main

sys.exit(main())
