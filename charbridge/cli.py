"""The ``charbridge`` command: ``run``, ``check`` and ``sandbox``. Problems are one clear line, exit 2."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging
import signal
import sys
from collections.abc import Sequence
from pathlib import Path
from urllib.parse import urlsplit

from bot.core import Core
from bot.errors import StartupError
from bot.logsetup import configure_logging
from bot.store.lock import DataDirLock
from charbridge.app import build_upstreams, open_store, secrets_of, sqlite_path
from config.loader import ConfigError, load_settings, resolve_config_path
from config.settings import Settings

EXIT_CONFIG = 2

NOTHING_CONFIGURED = (
    "nothing to run: configure at least one platform, e.g. set CHARBRIDGE_TELEGRAM__TOKEN or "
    "CHARBRIDGE_DISCORD__TOKEN (or enable [http]), a Character.AI token in CHARBRIDGE_CHARACTERAI__TOKEN, "
    "and a preset; see config/example.toml. To try charbridge without any account: charbridge sandbox"
)

log = logging.getLogger("charbridge")


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="charbridge",
        description="Bridge AI characters into Discord, Telegram and any HTTP app.",
    )
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    config_help = "TOML config file (default: $CHARBRIDGE_CONFIG, else ./charbridge.toml if present)"
    run = commands.add_parser("run", help="start the configured platforms and backends")
    run.add_argument("--config", type=Path, help=config_help)
    check = commands.add_parser("check", help="validate the config and show what would run, connecting nowhere")
    check.add_argument("--config", type=Path, help=config_help)
    _add_sandbox(commands)
    return parser


def _add_sandbox(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    sandbox = commands.add_parser(
        "sandbox",
        help="try charbridge offline: fake Telegram, Discord and Character.AI, no accounts or config needed",
        description="Start a fake Character.AI (with demo characters), a fake Telegram, a fake Discord and the "
        "real bridge on this machine, then chat with the bot in the terminal (:platform discord switches "
        "platform). Nothing is configured or sent anywhere.",
    )
    sandbox.add_argument(
        "--script", type=Path, metavar="FILE",
        help="replay the lines of FILE ('-' for standard input) instead of reading the terminal, and print "
        "the transcript",
    )  # fmt: skip
    sandbox.add_argument(
        "--data-dir", type=Path, metavar="DIR",
        help="keep the bridge's state (presets, bindings, audit log) and sandbox.log in DIR "
        "(default: a temporary directory, removed at exit)",
    )  # fmt: skip
    sandbox.add_argument(
        "--time-scale", type=_time_scale, metavar="F",
        help="run Telegram's rate limits, the bridge's pacing and the streaming at F times real time "
        "(0 < F <= 1; default 0.15)",
    )  # fmt: skip
    sandbox.add_argument(
        "--show-edits", action="store_true", help="with --script: print every edit of a reply, not only its final text"
    )


def _time_scale(value: str) -> float:
    try:
        scale = float(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number: {value!r}") from None
    if not 0 < scale <= 1:
        raise argparse.ArgumentTypeError("must be more than 0 and at most 1")
    return scale


def _sandbox(args: argparse.Namespace) -> int:
    from sandbox.runner import SandboxOptions, run_sandbox
    from sandbox.world import Wiring

    chosen = {"script": args.script, "data_dir": args.data_dir, "time_scale": args.time_scale}
    options = SandboxOptions(show_edits=args.show_edits, **{k: v for k, v in chosen.items() if v is not None})
    return run_sandbox(options, Wiring(open_store=open_store, build_upstreams=build_upstreams))


def _load(path: Path | None) -> tuple[Settings, Path | None]:
    config_path = resolve_config_path(path)
    return load_settings(config_path), config_path


def _describe_store(settings: Settings) -> str:
    if settings.storage.uses_redis:
        assert settings.storage.redis_url is not None
        url = urlsplit(settings.storage.redis_url.get_secret_value())
        where = f"{url.scheme}://{url.hostname}:{url.port or 6379}{url.path}"
        return f"redis at {where} (key prefix {settings.storage.key_prefix!r})"
    return f"sqlite at {sqlite_path(settings)}"


def summary(settings: Settings, config_path: Path | None) -> list[str]:
    """What ``run`` would start, without secrets."""
    platforms = []
    if settings.telegram.token is not None:
        platforms.append(f"telegram ({settings.telegram.mode}, API {settings.telegram.base_url})")
    if settings.discord.token is not None:
        guilds = ", ".join(map(str, settings.discord.guild_ids)) or "global commands"
        platforms.append(f"discord ({guilds})")
    if settings.http.enabled:
        keys = len(settings.http.api_keys)
        platforms.append(f"http API on {settings.http.host}:{settings.http.port} ({keys} API key(s))")
    token_state = "token set" if settings.characterai.token is not None else "NO TOKEN"
    lines = [
        f"config: {config_path or '(no file: defaults and environment only)'}",
        f"store: {_describe_store(settings)}",
        f"platforms: {'; '.join(platforms) or 'none'}",
        f"backends: characterai ({token_state}, {settings.characterai.neo_url})",
        f"presets: {len(settings.presets)} from the file"
        + (f", default {settings.bridge.default_preset!r}" if settings.bridge.default_preset else ", no default"),
    ]
    for preset in settings.presets:
        lines.append(
            f"  - {preset.name}: {preset.backend} character {preset.character_id or '(none)'}, "
            f"trigger {preset.trigger}, scope {preset.scope}"
        )
    lines.append(f"owners: {', '.join(settings.bridge.owners) or 'none'}")
    return lines


def problems(settings: Settings) -> list[str]:
    """Why ``run`` cannot start (empty when it can)."""
    if not settings.platforms:
        return [NOTHING_CONFIGURED]
    found = []
    uses_cai = any(p.backend == "characterai" for p in settings.presets)
    if uses_cai and settings.characterai.token is None:
        found.append("presets use Character.AI but no token is set: set CHARBRIDGE_CHARACTERAI__TOKEN")
    if settings.http.enabled and not settings.http.api_keys:
        found.append("the HTTP API needs at least one key: set CHARBRIDGE_HTTP__API_KEYS='[\"a-long-random-key\"]'")
    return found


async def serve(settings: Settings, stop: asyncio.Event) -> None:
    """Run the bridge until ``stop`` is set."""
    from adapters.base import build_adapter

    core = Core(settings, open_store(settings), build_upstreams(settings))
    adapters = [build_adapter(name, settings, core.door) for name in settings.platforms]
    started = []
    try:
        await core.start()
        for adapter in adapters:
            await adapter.start()
            started.append(adapter)
            log.info("%s is running", adapter.name)
        await stop.wait()
    finally:
        for adapter in reversed(started):
            with contextlib.suppress(Exception):
                await adapter.stop()
        await core.close()


async def _run_until_signal(settings: Settings) -> None:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, stop.set)
    await serve(settings, stop)


def _fail(message: str) -> int:
    print(f"charbridge: {message}", file=sys.stderr)
    return EXIT_CONFIG


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    if args.command == "sandbox":  # needs no configuration: it ignores the config file and environment
        return _sandbox(args)
    try:
        settings, config_path = _load(args.config)
    except ConfigError as exc:
        return _fail(f"config error: {str(exc).replace(chr(10), chr(10) + 'charbridge: config error: ')}")
    if args.command == "check":
        print("\n".join(summary(settings, config_path)))
        # The file is valid; what is still missing to *run* is reported but does not fail the check.
        for problem in problems(settings):
            print(f"not ready to run: {problem}")
        return 0
    found = problems(settings)
    if found:
        return _fail("\ncharbridge: ".join(found))
    configure_logging(settings.bridge.log_level, secrets_of(settings))
    lock = DataDirLock(settings.bridge.data_dir)
    try:
        lock.acquire()
        asyncio.run(_run_until_signal(settings))
    except StartupError as exc:
        return _fail(str(exc))
    finally:
        lock.release()
    return 0


if __name__ == "__main__":
    sys.exit(main())
