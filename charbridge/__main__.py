"""``python -m charbridge``: the same as the ``charbridge`` command."""

import sys

from charbridge.cli import main

sys.exit(main())
