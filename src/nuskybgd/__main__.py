"""``python -m nuskybgd`` runs the command line."""

import sys

from nuskybgd.cli import main

sys.exit(main())
