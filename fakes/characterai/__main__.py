"""``python -m fakes.characterai --port 8765``: run the fake with the demo characters."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import signal

from fakes.characterai.characters import DEMO_CHARACTERS
from fakes.characterai.server import DEFAULT_TOKEN, FakeCharacterAI


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m fakes.characterai", description=__doc__)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8765)
    parser.add_argument("--token", default=DEFAULT_TOKEN, help="the accepted API token")
    parser.add_argument("--chunk-chars", type=int, default=12, help="characters per streamed snapshot")
    parser.add_argument("--snapshot-delay", type=float, default=0.08, help="seconds between snapshots")
    parser.add_argument("--room-mode", choices=["reject", "evict"], default="reject")
    parser.add_argument("--seed", type=int, default=None)
    return parser.parse_args(argv)


async def serve(args: argparse.Namespace) -> None:
    fake = FakeCharacterAI(
        token=args.token,
        seed=args.seed,
        chunk_chars=args.chunk_chars,
        snapshot_delay=args.snapshot_delay,
        room_mode=args.room_mode,
    )
    await fake.start(host=args.host, port=args.port)
    print(f"fake Character.AI on {fake.base_url}  (DM socket {fake.ws_url}, rooms {fake.room_ws_url})")
    print(f"token: {fake.token}")
    for character in DEMO_CHARACTERS:
        print(f"  {character.id:<24} {character.name} ({character.style})")
    stopping = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signal_number in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signal_number, stopping.set)
    try:
        await stopping.wait()
    finally:
        await fake.stop()


def main(argv: list[str] | None = None) -> None:
    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(serve(parse_args(argv)))


if __name__ == "__main__":
    main()
