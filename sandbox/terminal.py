"""The interactive sandbox: read lines from the terminal (or a pipe), show the bot's replies as they grow."""

from __future__ import annotations

import asyncio
import contextlib
import threading
from typing import TextIO

from sandbox.render import EditLogScreen, LiveScreen, stdout_write
from sandbox.session import Session
from sandbox.world import SandboxWorld


class LineReader:
    """Lines of a text stream, read by a daemon thread: a read blocked on the terminal never holds up the
    exit, and it works the same for a terminal, a pipe and a regular file."""

    def __init__(self, stream: TextIO) -> None:
        self._stream = stream
        self._lines: asyncio.Queue[str | None] = asyncio.Queue()
        self._loop = asyncio.get_running_loop()
        threading.Thread(target=self._read, name="sandbox-stdin", daemon=True).start()

    def _put(self, line: str | None) -> None:
        with contextlib.suppress(RuntimeError):  # the loop is already closed: nobody is listening
            self._loop.call_soon_threadsafe(self._lines.put_nowait, line)

    def _read(self) -> None:
        try:
            for line in iter(self._stream.readline, ""):
                self._put(line.rstrip("\r\n"))
        except (OSError, ValueError):  # stdin closed under us
            pass
        self._put(None)

    async def next(self) -> str | None:
        """The next line, or None at the end of the input."""
        return await self._lines.get()


async def run_interactive(world: SandboxWorld, stream: TextIO, *, tty: bool) -> None:
    """Until ``/quit`` or the end of the input. On a terminal each reply grows in place; otherwise every post
    and edit is one line."""
    screen = LiveScreen() if tty else EditLogScreen()
    session = Session(world, screen)
    await session.open()
    session.watcher.start()
    reader = LineReader(stream)
    try:
        while True:
            if tty:
                stdout_write(session.prompt)
            line = await reader.next()
            if line is None:
                if tty:
                    stdout_write("\n")
                break
            if not await session.handle(line):
                break
    finally:
        await session.watcher.stop()
        screen.end_turn()
