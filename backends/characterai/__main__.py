"""Talk to a character from the command line (against the real service or a local fake).

    CHARACTERAI_TOKEN=... python -m backends.characterai --character demo_echo "Hello there"
    python -m backends.characterai --base-url http://127.0.0.1:8765 --character demo_echo "Hi"

``--base-url`` points every endpoint (REST and both websockets) at one server, as the fake serves them all.
The token is read from the environment only (CHARACTERAI_TOKEN or CHARBRIDGE_CHARACTERAI__TOKEN).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
from typing import Any

from backends.characterai.backend import CharacterAIBackend
from backends.characterai.config import CharacterAIConfig
from bot.models import ReplyFinal
from bot.upstream.base import UpstreamError


def _config(args: argparse.Namespace) -> CharacterAIConfig:
    token = os.environ.get("CHARACTERAI_TOKEN") or os.environ.get("CHARBRIDGE_CHARACTERAI__TOKEN")
    if not token:
        raise SystemExit("set CHARACTERAI_TOKEN (the fake prints its token when it starts)")
    values: dict[str, Any] = {"token": token}
    if args.base_url:
        base = args.base_url.rstrip("/")
        ws_base = "ws" + base.removeprefix("http")
        values.update(
            neo_url=base, plus_url=base, dm_ws_url=f"{ws_base}/ws/", room_ws_url=f"{ws_base}/connection/websocket"
        )
    return CharacterAIConfig.model_validate(values)


async def _run(args: argparse.Namespace) -> None:
    backend = CharacterAIBackend(_config(args))
    await backend.start()
    try:
        chat_id = args.chat
        if chat_id is None:
            recent = await backend.recent_chat(args.character)
            if recent is not None:
                chat_id = recent.chat_id
            else:
                chat = await backend.create_chat(args.character)
                chat_id = chat.chat_id
                print(f"[new chat {chat_id}] {chat.greeting or ''}")
        printed = 0
        async for event in backend.send(chat_id, args.character, args.message):
            sys.stdout.write(event.text[printed:])
            sys.stdout.flush()
            printed = len(event.text)
            if isinstance(event, ReplyFinal):
                print(f"\n[chat {chat_id}, turn {event.turn_id}]")
    finally:
        await backend.close()


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m backends.characterai", description=__doc__.split("\n")[0])
    parser.add_argument("--base-url", help="one server for every endpoint, e.g. the fake's http://127.0.0.1:8765")
    parser.add_argument("--character", required=True, help="character id")
    parser.add_argument("--chat", help="continue this chat id (default: the most recent chat, or a new one)")
    parser.add_argument("message")
    try:
        asyncio.run(_run(parser.parse_args()))
    except UpstreamError as exc:
        raise SystemExit(f"error: {exc}") from None


if __name__ == "__main__":
    main()
