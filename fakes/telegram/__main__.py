"""Run the fake Bot API standalone: ``python -m fakes.telegram --port 8081``.

Point the bot at ``http://HOST:PORT/bot`` and drive the world through ``/_fake/...`` (see control.py).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging

from .flood import FloodConfig
from .server import FakeTelegram


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m fakes.telegram", description=__doc__)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8081)
    parser.add_argument("--bot", action="append", default=[], metavar="TOKEN=USERNAME",
                        help="register a bot (repeatable); unknown tokens are accepted unless --strict-tokens")
    parser.add_argument("--strict-tokens", action="store_true", help="answer 401 to unregistered tokens")
    parser.add_argument("--time-scale", type=float, default=1.0, help="multiplies every rate-limit window")
    parser.add_argument("--no-flood", action="store_true", help="disable flood control")
    parser.add_argument("--no-privacy", action="store_true", help="bots read every group message")
    parser.add_argument("--demo", action="store_true",
                        help="create a user 'alice' (private chat started) and a group with her and every bot")
    return parser.parse_args(argv)


async def serve(args: argparse.Namespace) -> None:
    fake = FakeTelegram(
        time_scale=args.time_scale,
        flood=FloodConfig(enabled=not args.no_flood, time_scale=args.time_scale),
        accept_any_token=not args.strict_tokens,
    )
    for spec in args.bot:
        token, _, username = spec.partition("=")
        fake.add_bot(token, username or "TestBot", privacy=not args.no_privacy)
    if args.demo:
        alice = fake.add_user("Alice", "alice")
        bots = list(fake.world.bots_by_token.values())
        for bot in bots:
            fake.private_chat(alice, bot, started=True)
        group = fake.add_group("Demo group", members=[alice], bots=bots, creator=alice)
        logging.info("demo: user alice id=%s, group id=%s", alice.id, group.id)
    await fake.start(args.host, args.port)
    logging.info("fake Telegram listening: base_url=%s control=%s/_fake/state", fake.base_url, fake.url)
    try:
        await asyncio.Event().wait()
    finally:
        await fake.stop()


def main(argv: list[str] | None = None) -> None:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(message)s")
    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(serve(parse_args(argv)))


if __name__ == "__main__":
    main()
