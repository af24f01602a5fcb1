"""Running ``charbridge sandbox`` as a user would (a subprocess), and reading its transcript."""

from __future__ import annotations

import asyncio
import os
import re
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

from fakes.characterai import DEMO_CHARACTERS, FakeCharacter

ROOT = Path(__file__).resolve().parents[2]
TIME_SCALE = "0.05"  # Telegram's windows, the bridge's pacing and the streaming at 1/20 of real time
BOT = "@CharBridgeBot"

CAST: dict[str, FakeCharacter] = {c.id: c for c in DEMO_CHARACTERS}
REDBEARD = CAST["demo_captain_redbeard"]
ZORA = CAST["demo_madame_zora"]
ECHO = CAST["demo_echo"]

BOT_LINE = re.compile(r"^(?P<speaker>.+?) \(bot\)(?P<edit> \[edit (?P<n>\d+)\]| \(edited\))?: (?P<text>.*)$")


@dataclass(frozen=True)
class BotLine:
    speaker: str
    text: str
    edit: int  # 0 = as first posted; n = the n-th edit (``--show-edits`` and piped interactive output)


def sandbox_env(tmp_path: Path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("CHARBRIDGE_")}
    env.update(PYTHONPATH=str(ROOT), TMPDIR=str(tmp_path), PYTHONUNBUFFERED="1", **extra)
    return env


def sandbox_command(*args: str, scale: str = TIME_SCALE) -> list[str]:
    return [sys.executable, "-m", "charbridge", "sandbox", "--time-scale", scale, *args]


def run_script(
    tmp_path: Path, lines: list[str], *args: str, scale: str = TIME_SCALE, **env: str
) -> subprocess.CompletedProcess[str]:
    script = tmp_path / "script.txt"
    script.write_text("\n".join(lines) + "\n")
    return subprocess.run(
        sandbox_command("--script", str(script), *args, scale=scale),
        cwd=tmp_path, env=sandbox_env(tmp_path, **env), capture_output=True, text=True, timeout=60,
    )  # fmt: skip


def bot_lines(transcript: str) -> list[BotLine]:
    found = []
    for line in transcript.splitlines():
        match = BOT_LINE.match(line)
        if match:
            found.append(BotLine(match["speaker"], match["text"], int(match["n"] or 0)))
    return found


def finals(lines: list[BotLine]) -> list[tuple[str, str]]:
    """(speaker, text) of each message as it ended, from an edit log (each post followed by its edits)."""
    ended: list[tuple[str, str]] = []
    for line in lines:
        if line.edit == 0:
            ended.append((line.speaker, line.text))
        else:
            ended[-1] = (line.speaker, line.text)
    return ended


async def read_until(stream: asyncio.StreamReader, wanted: str, timeout: float = 20.0) -> str:  # noqa: ASYNC109
    """Everything read from ``stream`` up to and including the first line that contains ``wanted``."""
    seen: list[str] = []
    async with asyncio.timeout(timeout):
        while True:
            raw = await stream.readline()
            if not raw:
                raise AssertionError(f"output ended before {wanted!r}:\n" + "".join(seen))
            seen.append(raw.decode())
            if wanted in seen[-1]:
                return "".join(seen)


DISCORD_BOT = "CharBridgeBot"
MESSAGE_LINE = re.compile(
    r"^(?P<label>[^#\s][^:]*? \((?:bot|webhook|only you)\))(?: \[edit \d+\]| \(edited\))?: (?P<text>.*)$"
)
CONTINUATION = "    "


def messages(transcript: str) -> list[tuple[str, str]]:
    """(label, text) of every message shown, as ``Madame Zora (webhook)`` or ``CharBridgeBot (only you)``
    and the whole text (continuation lines joined)."""
    found: list[tuple[str, str]] = []
    open_message = False
    for line in transcript.splitlines():
        match = MESSAGE_LINE.match(line)
        if match:
            found.append((match["label"], match["text"]))
            open_message = True
        elif open_message and (line.startswith(CONTINUATION) or not line):
            label, text = found[-1]
            found[-1] = (label, f"{text}\n{line[len(CONTINUATION) :]}")
        else:
            open_message = False
    return found


def as_bot(character: FakeCharacter, text: str) -> str:
    """A reply as the Discord bot shows it when it speaks for a character itself (DMs, slash commands)."""
    return f"**{character.name}**\n{text}"


def notes(transcript: str) -> str:
    """The sandbox's own lines (``# ...``), joined."""
    return "\n".join(line for line in transcript.splitlines() if line.startswith("# "))
