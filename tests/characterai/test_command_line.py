"""``python -m backends.characterai``: talk to a character from the command line, here against the fake (the
tool runs as its own process; the fake serves every endpoint on one address)."""

from __future__ import annotations

import asyncio
import os
import sys

from fakes.characterai import FakeCharacterAI

from .conftest import ECHO


async def run_tool(fake: FakeCharacterAI, *args: str) -> tuple[int, str, str]:
    env = {**os.environ, "CHARACTERAI_TOKEN": fake.token}
    env.pop("CHARBRIDGE_CHARACTERAI__TOKEN", None)
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "backends.characterai", "--base-url", fake.base_url, *args,
        env=env, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip
    out, err = await asyncio.wait_for(process.communicate(), 60)
    assert process.returncode is not None
    return process.returncode, out.decode(), err.decode()


async def test_a_new_chat_then_the_most_recent_one_is_continued(fake: FakeCharacterAI) -> None:
    code, out, err = await run_tool(fake, "--character", ECHO, "Hello from the shell")
    assert code == 0, err
    chat_id = out.split("[new chat ", 1)[1].split("]", 1)[0]
    assert "Echo: Hello from the shell" in out and f"[chat {chat_id}, turn " in out

    code, out, err = await run_tool(fake, "--character", ECHO, "Once more")
    assert code == 0, err
    assert "[new chat" not in out and f"[chat {chat_id}, turn " in out  # the recent chat, found over REST
    assert [t.text() for t in fake.chat(chat_id).turns][-2:] == ["Once more", "Echo: Once more"]


async def test_an_unknown_character_ends_with_one_clear_line(fake: FakeCharacterAI) -> None:
    code, out, err = await run_tool(fake, "--character", "no_such_character", "Hi")
    assert code != 0 and err.startswith("error: not_found") and "Traceback" not in err
    assert fake.token not in out + err
