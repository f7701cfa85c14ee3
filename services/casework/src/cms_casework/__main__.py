import sys

from cms_casework.app import main

sys.exit(main())
