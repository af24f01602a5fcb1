"""The interactive sandbox: typed lines in, replies out as they grow; a clean exit on /quit, EOF and Ctrl-C."""

from __future__ import annotations

import asyncio
import fcntl
import os
import signal
from pathlib import Path

from tests.sandbox.support import REDBEARD, bot_lines, finals, read_until, sandbox_command, sandbox_env


async def start_sandbox(tmp_path: Path, *args: str) -> asyncio.subprocess.Process:
    return await asyncio.create_subprocess_exec(
        *sandbox_command(*args), cwd=tmp_path, env=sandbox_env(tmp_path), start_new_session=True,
        stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip


async def say(proc: asyncio.subprocess.Process, line: str) -> None:
    assert proc.stdin is not None
    proc.stdin.write(f"{line}\n".encode())
    await proc.stdin.drain()


def nothing_left_in(process_group: int) -> bool:
    try:
        os.killpg(process_group, 0)
    except ProcessLookupError:
        return True
    return False


async def test_typed_lines_get_streamed_replies_and_quit_exits_cleanly(tmp_path: Path) -> None:
    proc = await start_sandbox(tmp_path)
    assert proc.stdout is not None and proc.stderr is not None
    await read_until(proc.stdout, "Type a message")
    await say(proc, "ahoy, is anybody aboard?")
    expected = REDBEARD.reply_to("ahoy, is anybody aboard?")
    shown = await read_until(proc.stdout, expected)
    await say(proc, "/quit")

    _, errors = await asyncio.wait_for(proc.communicate(), 20)
    assert proc.returncode == 0, errors.decode()
    assert finals(bot_lines(shown)) == [(REDBEARD.name, expected)]
    assert "Alice@private> ahoy, is anybody aboard?" in shown  # piped input is echoed with its prompt
    assert errors == b""
    assert nothing_left_in(proc.pid)
    assert not any(p.name.startswith("charbridge-sandbox-") for p in os.scandir(tmp_path)), "temporary data left"


async def test_end_of_input_exits_cleanly(tmp_path: Path) -> None:
    proc = await start_sandbox(tmp_path)
    assert proc.stdout is not None and proc.stdin is not None
    await read_until(proc.stdout, "Type a message")
    await say(proc, ":where")
    await read_until(proc.stdout, "Captain Redbeard answers here")
    proc.stdin.close()
    await asyncio.wait_for(proc.wait(), 20)
    assert proc.returncode == 0


async def test_ctrl_c_mid_reply_stops_everything_with_status_0(tmp_path: Path) -> None:
    data = tmp_path / "data"
    proc = await start_sandbox(tmp_path, "--data-dir", str(data))
    assert proc.stdout is not None
    await read_until(proc.stdout, "Type a message")
    await say(proc, "tell me everything about the seven seas, " * 8)
    await read_until(proc.stdout, f"{REDBEARD.name} (bot)")  # the reply has started to stream
    os.killpg(proc.pid, signal.SIGINT)  # as the terminal does on Ctrl-C: to the whole foreground group
    await asyncio.wait_for(proc.wait(), 20)
    assert proc.returncode == 0
    assert nothing_left_in(proc.pid)
    with (data / "charbridge.lock").open() as lock:  # released: another sandbox could start on it at once
        fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
