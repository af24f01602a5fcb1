"""An exclusive lock on a data directory, so a second copy of the bridge fails fast instead of fighting the first
for the Telegram poller and the Character.AI connection."""

from __future__ import annotations

import fcntl
from pathlib import Path
from typing import IO

from bot.errors import StartupError

LOCK_FILE = "charbridge.lock"


class DataDirLock:
    """An exclusive lock on the data directory, so a second copy fails fast instead of fighting the first for
    the Telegram poller and the Character.AI connection."""

    def __init__(self, data_dir: Path) -> None:
        self._path = data_dir / LOCK_FILE
        self._fh: IO[str] | None = None

    def acquire(self) -> None:
        self._path.parent.mkdir(parents=True, exist_ok=True)
        fh = self._path.open("w")
        try:
            fcntl.flock(fh, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            fh.close()
            raise StartupError(
                f"another charbridge is already running with the data directory {self._path.parent}"
            ) from None
        self._fh = fh

    def release(self) -> None:
        if self._fh is not None:
            fcntl.flock(self._fh, fcntl.LOCK_UN)
            self._fh.close()
            self._fh = None
