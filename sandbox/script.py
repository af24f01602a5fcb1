"""``charbridge sandbox --script FILE``: replay lines without a terminal and print the transcript.

A script is what you would type: one line per message or ``:command``; blank lines and lines starting with
``#`` are skipped. The transcript shows each line with its prompt and then every message the bot posted in
answer, with its final text (``show_edits`` also prints every intermediate edit, as they happened).
"""

from __future__ import annotations

import sys
from pathlib import Path

from sandbox.platform import SandboxError
from sandbox.render import EditLogScreen, TranscriptScreen
from sandbox.session import Session
from sandbox.world import SandboxWorld


def read_script(path: Path) -> list[str]:
    """The lines to replay (``-`` reads standard input). Raises SandboxError with one readable line."""
    try:
        text = sys.stdin.read() if str(path) == "-" else path.read_text(encoding="utf-8")
    except OSError as exc:
        raise SandboxError(f"cannot read the script {path}: {exc.strerror or exc}") from None
    except UnicodeDecodeError:
        raise SandboxError(f"the script {path} is not UTF-8 text") from None
    return [line for line in text.splitlines() if line.strip() and not line.lstrip().startswith("#")]


async def run_script(world: SandboxWorld, lines: list[str], *, show_edits: bool = False) -> None:
    screen = EditLogScreen() if show_edits else TranscriptScreen()
    session = Session(world, screen)
    await session.open()
    if show_edits:
        session.watcher.start()
    try:
        for line in lines:
            if not await session.handle(line):
                break
    finally:
        await session.watcher.stop()
        screen.end_turn()
