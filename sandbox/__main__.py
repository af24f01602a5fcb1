"""``python -m sandbox [--script FILE] [--data-dir DIR] ...``: the same as ``charbridge sandbox``."""

from __future__ import annotations

import sys

from bot.cli import main

if __name__ == "__main__":
    sys.exit(main(["sandbox", *sys.argv[1:]]))
