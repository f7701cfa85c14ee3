"""`python -m cms_casework`: run the casework service."""

import sys

from cms_casework.app import main

sys.exit(main())
