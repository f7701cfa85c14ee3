"""`python -m cms_calculation`: run the calculation service (the same as the cms-calculation script)."""

import sys

from cms_calculation.app import main

sys.exit(main())
