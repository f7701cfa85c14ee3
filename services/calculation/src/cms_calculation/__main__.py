import sys

from cms_calculation.app import main

sys.exit(main())
