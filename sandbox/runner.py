"""``charbridge sandbox``: start the sandbox world, run a script or the interactive terminal, and stop
everything cleanly on ``/quit``, the end of the input, Ctrl-C or SIGTERM (exit status 0).

Logs go to ``sandbox.log`` in the data directory, never to the transcript.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import shutil
import signal
import sys
import tempfile
from collections.abc import Awaitable
from pathlib import Path
from typing import TypeVar

from pydantic import BaseModel, ConfigDict

from bot.errors import StartupError
from bot.logsetup import RedactSecrets
from bot.store.lock import DataDirLock
from sandbox.demo import SandboxTiming
from sandbox.platform import SandboxError
from sandbox.script import read_script, run_script
from sandbox.settings import DISCORD_TOKEN, TELEGRAM_TOKEN
from sandbox.terminal import run_interactive
from sandbox.world import SandboxWorld, Wiring

T = TypeVar("T")

LOG_FILE = "sandbox.log"
EXIT_OK = 0
EXIT_FAILED = 1
EXIT_USAGE = 2

log = logging.getLogger("charbridge.sandbox")


class SandboxOptions(BaseModel):
    model_config = ConfigDict(frozen=True)

    script: Path | None = None
    data_dir: Path | None = None
    time_scale: float = SandboxTiming().time_scale
    show_edits: bool = False


def _log_to_file(path: Path) -> logging.Handler:
    handler = logging.FileHandler(path, encoding="utf-8")
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    handler.addFilter(RedactSecrets([TELEGRAM_TOKEN, DISCORD_TOKEN]))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(logging.INFO)
    logging.getLogger("httpx").setLevel(logging.WARNING)
    return handler


def _silence_stdout() -> None:
    """Point stdout at /dev/null, so the interpreter's final flush does not fail on the closed pipe too."""
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, sys.stdout.fileno())
    os.close(devnull)


async def _unless_stopped(work: Awaitable[T], stop: asyncio.Event) -> bool:
    """Run ``work`` until it ends (True) or ``stop`` is set (False: ``work`` is cancelled)."""
    task = asyncio.ensure_future(work)
    stopping = asyncio.ensure_future(stop.wait())
    try:
        await asyncio.wait({task, stopping}, return_when=asyncio.FIRST_COMPLETED)
    finally:
        stopping.cancel()
    if task.done():
        task.result()
        return True
    task.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await task
    return False


async def _main(options: SandboxOptions, wiring: Wiring, data_dir: Path, lines: list[str] | None) -> None:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, stop.set)
    world = SandboxWorld(data_dir, wiring, SandboxTiming(time_scale=options.time_scale))
    try:
        if not await _unless_stopped(world.start(), stop):
            return
        if lines is not None:
            body = run_script(world, lines, show_edits=options.show_edits)
        else:
            body = run_interactive(world, sys.stdin, tty=sys.stdin.isatty() and sys.stdout.isatty())
        if not await _unless_stopped(body, stop):
            print("\n# stopped", flush=True)
    finally:
        await world.stop()


def run_sandbox(options: SandboxOptions, wiring: Wiring) -> int:
    """Run the sandbox; the bridge in it is built with the root's ``wiring``."""
    try:
        lines = read_script(options.script) if options.script is not None else None
    except SandboxError as exc:
        print(f"charbridge: {exc}", file=sys.stderr)
        return EXIT_USAGE
    temporary = options.data_dir is None
    data_dir = Path(tempfile.mkdtemp(prefix="charbridge-sandbox-")) if options.data_dir is None else options.data_dir
    lock = DataDirLock(data_dir)
    handler: logging.Handler | None = None
    keep = not temporary  # a temporary directory is kept only when it holds the log of a failure
    try:
        lock.acquire()
        handler = _log_to_file(data_dir / LOG_FILE)
        asyncio.run(_main(options, wiring, data_dir, lines))
    except StartupError as exc:
        print(f"charbridge: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except KeyboardInterrupt:  # Ctrl-C before the event loop took over the signal, or after it let go
        return EXIT_OK
    except BrokenPipeError:  # whoever read the output went away (`... | head`): nothing more to say
        _silence_stdout()
        return EXIT_OK
    except Exception as exc:
        log.exception("the sandbox failed")
        keep = True
        print(f"charbridge: the sandbox failed: {exc} (details in {data_dir / LOG_FILE})", file=sys.stderr)
        return EXIT_FAILED
    finally:
        lock.release()
        if handler is not None:
            logging.getLogger().removeHandler(handler)
            handler.close()
        if not keep:
            shutil.rmtree(data_dir, ignore_errors=True)
    return EXIT_OK
