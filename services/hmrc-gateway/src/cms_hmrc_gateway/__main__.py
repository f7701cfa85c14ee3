import sys

from cms_hmrc_gateway.app import main

sys.exit(main())
