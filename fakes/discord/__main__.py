"""Run the fake Discord standalone: `python -m fakes.discord --port 8790`."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging

from .config import FakeDiscordConfig
from .server import FakeDiscord


async def serve(host: str, port: int, config: FakeDiscordConfig) -> None:
    fake = FakeDiscord(config)
    await fake.start(host=host, port=port)
    print(f"fake Discord listening on {fake.base_url}")
    print(f"  discord.http.Route.BASE                     = {fake.api_base!r}")
    print(f"  discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY = yarl.URL({fake.gateway_url!r})")
    print(f"  bot token {config.token!r}; control API under {fake.base_url}/_fake/ (see /_fake/state)")
    try:
        await asyncio.Event().wait()
    finally:
        await fake.stop()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8790)
    parser.add_argument("--token", default="test-token")
    parser.add_argument("--time-scale", type=float, default=1.0, help="multiply every window and deadline")
    parser.add_argument("--verbose", action="store_true")
    args = parser.parse_args()
    logging.basicConfig(level=logging.DEBUG if args.verbose else logging.INFO)
    config = FakeDiscordConfig(token=args.token).scaled(args.time_scale)
    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(serve(args.host, args.port, config))


if __name__ == "__main__":
    main()
