"""``python -m geo`` runs the ``geo`` command."""

import sys

from geo.cli import main

sys.exit(main())
